"""Benchmark the dilemma bank: import 5,000 dilemmas, then time searches.

Prints import time and search latency p50/p99. Uses a fresh SQLite file unless DATABASE_URL
is set (then that database must be empty or disposable: its dilemma tables are filled).
Target: p99 < 50 ms on SQLite at 5,000 dilemmas.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402

from beraad import create_app  # noqa: E402
from beraad.bank import search, service  # noqa: E402
from beraad.bank.loader import DilemmaData, DilemmaOption  # noqa: E402
from beraad.extensions import db  # noqa: E402

WORDS = (
    "rapport conclusie minister leidinggevende onderzoek druk integriteit melding collega "
    "vertrouwenspersoon gemeente provincie wethouder gedeputeerde burger besluit tegenspraak "
    "loyaliteit neutraliteit verkiezing geschenk leverancier nevenfunctie belangen pesten "
    "ondernemingsraad gedragscode klokkenluider informatie kamer vragen termijn budget wijk "
    "bewoners beloften regels uitzondering toezicht privacy datalek persbericht cijfers"
).split()
THEMES = ["tegenspraak", "politieke-druk", "onderzoek", "geschenken", "pesten", "melding",
          "loyaliteit", "sociale-media", "vertrouwelijkheid", "burgers"]  # fmt: skip
LEVELS = ["rijk", "provincie", "gemeente"]
ROLES = ["beleidsmedewerker", "leidinggevende", "onderzoeker", "wijkambtenaar", "hr-adviseur"]
QUERIES = ["rapport", "minister druk", "vertrouwenspersoon", "geschenk leverancier", "wijk",
           "integriteit melding collega", "neutraal", "ondernemingsraad gedragscode",
           "xyzzy", ""]  # fmt: skip


def generate(count: int, seed: int = 7) -> list[DilemmaData]:
    rng = random.Random(seed)
    # Realistic text: a long tail of ordinary words, and a handful of topical words per case.
    filler = [f"woord{n:04d}" for n in range(3000)]
    weights = [1 / (rank + 1) for rank in range(len(filler))]
    items = []
    for number in range(count):
        words = rng.choices(filler, weights=weights, k=rng.randint(180, 320))
        for _ in range(rng.randint(4, 10)):
            words.insert(rng.randrange(len(words)), rng.choice(WORDS))
        body = " ".join(words)
        items.append(
            DilemmaData(
                id=f"bench-{number:05d}",
                title=" ".join(rng.choice(WORDS) for _ in range(5)).capitalize(),
                body=body + "\n\n**Moet ik dit melden?**",
                status=rng.choice(["published"] * 8 + ["draft", "review"]),
                themes=tuple(rng.sample(THEMES, 2)),
                levels=tuple(rng.sample(LEVELS, rng.randint(1, 3))),
                roles=tuple(rng.sample(ROLES, 2)),
                options=(DilemmaOption("A", "Ja."), DilemmaOption("B", "Nee.")),
            )
        )
    return items


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--searches", type=int, default=400)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="beraad-bench-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(folder)})
    items = generate(args.count)
    with app.app_context():
        upgrade()
        print(f"database: {db.engine.dialect.name}, dilemmas: {args.count}")
        started = time.perf_counter()
        report = service.import_dilemmas(items)
        db.session.commit()
        elapsed = time.perf_counter() - started
        print(f"import: {elapsed:.2f} s ({report.summary()})")

        started = time.perf_counter()
        report = service.import_dilemmas(items)
        db.session.commit()
        print(f"re-import (unchanged): {time.perf_counter() - started:.2f} s")

        rng = random.Random(3)
        timings = []
        for number in range(args.searches):
            query = QUERIES[number % len(QUERIES)]
            filters = {}
            if number % 3 == 0:
                filters["levels"] = [rng.choice(LEVELS)]
            if number % 4 == 0:
                filters["themes"] = rng.sample(THEMES, 2)
            started = time.perf_counter()
            page = search.search_dilemmas(query, statuses=["published"], **filters)
            _ = [d.title for d in page.items]
            timings.append((time.perf_counter() - started) * 1000)
            db.session.expunge_all()
        print(
            f"search ({args.searches} queries with filters and 20-row pages): "
            f"p50 {percentile(timings, 0.5):.1f} ms, p99 {percentile(timings, 0.99):.1f} ms, "
            f"max {max(timings):.1f} ms, mean {statistics.mean(timings):.1f} ms"
        )


if __name__ == "__main__":
    main()
