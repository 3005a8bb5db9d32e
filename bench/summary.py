"""Benchmark the session summary: build time and peak memory for a large session.

A 90-minute dilemma game (4 dilemmas, 8 polls) where 1,000 participants answered every poll
and the evaluation. Prints the time to build the Summary and to render the PDF, Markdown and
CSV, and the peak memory. Target (DESIGN §8): < 1 s to build the PDF, < 150 MB.
"""

from __future__ import annotations

import argparse
import random
import resource
import secrets
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from beraad import create_app  # noqa: E402
from beraad.auth.service import create_user  # noqa: E402
from beraad.bank import service as bank  # noqa: E402
from beraad.bank.loader import load_bank  # noqa: E402
from beraad.extensions import db  # noqa: E402
from beraad.methods import service as methods  # noqa: E402
from beraad.methods.loader import load_methods  # noqa: E402
from beraad.models import Answer, EvaluationAnswer, Participant, utcnow  # noqa: E402
from beraad.sessions import service as sessions  # noqa: E402
from beraad.summary.build import build_summary  # noqa: E402
from beraad.summary.exports import to_csv, to_markdown  # noqa: E402

DILEMMAS = ["rapport-afzwakken", "relatiegeschenk-leverancier", "pesten-in-het-team", "na-de-verkiezingen"]


def populate(participants: int, rng: random.Random) -> int:
    """Create the session and its answers (bulk inserts: the benchmark is about reading)."""
    methods.import_methods(load_methods(ROOT / "methods"))
    bank.import_dilemmas(load_bank(ROOT / "dilemma_bank"))
    owner = create_user("bench", secrets.token_urlsafe(16), "facilitator", "Bench")
    session = sessions.create_session(
        owner, methods.get_method("dilemmaspel"), [bank.get_by_slug(s) for s in DILEMMAS],
        "Benchmark: dilemmaspel", "nl", 3,
    )  # fmt: skip
    start = utcnow()
    sessions.start_session(session, now=start)
    for step in session.steps:
        step.notes = "Aantekening over deze stap. " * rng.randint(5, 60)
        step.elapsed_seconds = step.planned_minutes * 60 + rng.randint(-60, 120)
    for poll in session.polls:
        sessions.open_poll(session, poll)
        keys = [o["key"] for o in poll.options]
        db.session.bulk_insert_mappings(
            Answer,
            [{"id": secrets.token_hex(16), "poll_id": poll.id, "value": {"choice": rng.choice(keys)},
              "voter_key": secrets.token_hex(32)} for _ in range(participants)],
        )  # fmt: skip
        sessions.close_poll(session, poll)
    db.session.bulk_insert_mappings(
        Participant,
        [{"session_id": session.id, "participant_key": secrets.token_hex(32)} for _ in range(participants)],
    )
    evaluation_rows = []
    for spec in sessions.method_of(session).evaluation:
        for _ in range(participants):
            value = (
                {"value": rng.randint(spec.scale.min, spec.scale.max)} if spec.scale else {"text": "Prima."}
            )
            evaluation_rows.append({"id": secrets.token_hex(16), "session_id": session.id,
                                    "item_key": spec.key, "value": value, "voter_key": None})  # fmt: skip
    db.session.bulk_insert_mappings(EvaluationAnswer, evaluation_rows)
    for number in range(12):
        sessions.add_action_point(session, f"Actiepunt {number}", "teamleider", None)
    sessions.close_session(session)
    db.session.commit()
    return session.id


def timed(label: str, function, repeat: int):
    timings = []
    for _ in range(repeat):
        db.session.expire_all()
        started = time.perf_counter()
        result = function()
        timings.append(time.perf_counter() - started)
    median = sorted(timings)[len(timings) // 2]
    print(f"{label:<34} best {min(timings) * 1000:7.1f} ms   median {median * 1000:7.1f} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="beraad-bench-"))
    database_url = f"sqlite:///{folder / 'bench.sqlite3'}"
    config = {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(folder)}
    app = create_app(config)
    with app.app_context():
        upgrade()
        session_id = populate(args.participants, random.Random(5))
        from beraad.models import DeliberationSession
        from beraad.summary.pdf import render_pdf

        def session():
            return db.session.get(DeliberationSession, session_id)

        summary = build_summary(session())
        print(f"session: {len(summary.steps)} steps, {len(summary.polls)} polls, "
              f"{summary.participants} participants, {summary.planned_minutes} planned minutes")  # fmt: skip
        timed("build Summary (database reads)", lambda: build_summary(session()), args.repeat)
        pdf = timed("render PDF", lambda: render_pdf(summary), args.repeat)
        timed("build + render PDF (end to end)", lambda: render_pdf(build_summary(session())), args.repeat)
        timed("Markdown", lambda: to_markdown(summary), args.repeat)
        timed("CSV", lambda: to_csv(summary), args.repeat)
        print(f"PDF size: {len(pdf) / 1024:.0f} KiB")
        tracemalloc.start()
        render_pdf(build_summary(session()))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak Python allocations while building the PDF: {peak / 2**20:.1f} MiB")
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the whole process: {peak_rss_mib:.0f} MiB")


if __name__ == "__main__":
    main()
