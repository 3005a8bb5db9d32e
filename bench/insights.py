"""Benchmark the coordinator insights: 200 teams and 5,000 closed sessions over the last year.

Every session has one or two dilemmas of the bank, three action points with due dates and
follow-ups, and an evaluation by 3–12 simulated participants (some below k, so the k rule has work
to do). Rows go in through SQLAlchemy Core bulk inserts into a fresh, migrated SQLite file; then
each session's evaluation is tallied as close_session does (timed, per session). Then
`insights()` and the /insights page (test client, a coordinator signed in) are timed a few times.
Target: < 500 ms for both. No network; runs in well under a minute. Uses a fresh SQLite file
unless DATABASE_URL is set (then that database must be empty or disposable: it is migrated and
filled).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from beraad import create_app  # noqa: E402
from beraad.auth.service import create_user  # noqa: E402
from beraad.bank import service as bank  # noqa: E402
from beraad.bank.loader import load_bank  # noqa: E402
from beraad.extensions import db  # noqa: E402
from beraad.insights.service import insights  # noqa: E402
from beraad.methods import service as methods  # noqa: E402
from beraad.methods.loader import load_methods  # noqa: E402
from beraad.models import (  # noqa: E402
    ActionPoint,
    DeliberationSession,
    Dilemma,
    EvaluationAnswer,
    Team,
    User,
)
from beraad.vote.evaluation import tally  # noqa: E402

TARGET_MS = 500
PASSWORD = "bench-coordinator-password"
FOLLOW_UPS = ["done", "done", "done", "open", "in_progress", "dropped", "carried"]


def populate(teams: int, sessions: int, rng: random.Random, today: date) -> None:
    methods.import_methods(load_methods(ROOT / "methods"))
    bank.import_dilemmas(load_bank(ROOT / "dilemma_bank"))
    owner = create_user("bench-facilitator", secrets.token_urlsafe(16), "facilitator", "Bench")
    create_user("bench-coordinator", PASSWORD, "coordinator", "Coördinator")
    db.session.commit()
    dilemmas = [
        {"slug": slug, "title": title, "body": body}
        for slug, title, body in db.session.execute(
            select(Dilemma.slug, Dilemma.title, Dilemma.body).order_by(Dilemma.slug)
        )
    ]
    method_list = [m for m in methods.list_methods() if m.key != "periodieke-meting"]
    evaluation = {m.key: [s for s in m.evaluation] for m in method_list}
    db.session.execute(
        insert(Team),
        [{"name": f"Team {number:03d}", "owner_id": owner.id, "level": "gemeente",
          "calendar_token": secrets.token_urlsafe(32)} for number in range(teams)],
    )  # fmt: skip
    team_ids = list(db.session.scalars(select(Team.id)))
    start = datetime.combine(today, datetime.min.time()) - timedelta(days=360)
    session_rows = []
    for number in range(sessions):
        method = rng.choice(method_list)
        count = max(method.dilemmas[0], 1 if method.dilemmas[1] == 1 else 2)
        begun = start + timedelta(minutes=rng.randint(0, 360 * 24 * 60))
        session_rows.append({
            "owner_id": owner.id, "title": f"Sessie {number}", "language": "nl", "k": 3, "status": "closed",
            "join_code": secrets.token_hex(8), "projector_token": secrets.token_hex(32),
            "method_key": method.key, "method_snapshot": {"key": method.key},
            "dilemmas_snapshot": (chosen := rng.sample(dilemmas, count)),
            "dilemma_slugs": [d["slug"] for d in chosen], "team_id": rng.choice(team_ids),
            "started_at": begun, "closed_at": begun + timedelta(minutes=90), "created_at": begun,
        })  # fmt: skip
    db.session.execute(insert(DeliberationSession), session_rows)
    rows = db.session.execute(
        select(DeliberationSession.id, DeliberationSession.method_key).order_by(DeliberationSession.id)
    ).all()
    points, answers = [], []
    for session_id, method_key in rows:
        for _ in range(3):
            due = today + timedelta(days=rng.randint(-300, 60))
            follow_up = rng.choice(FOLLOW_UPS)
            done_on = due + timedelta(days=rng.randint(-20, 10)) if follow_up == "done" else None
            points.append({"session_id": session_id, "what": "Afspraak", "who": "teamleider", "due": due,
                           "follow_up": follow_up, "done_on": done_on})  # fmt: skip
        for _person in range(rng.randint(2, 12)):
            for spec in evaluation[method_key]:
                if spec.type != "scale" or rng.random() < 0.05:
                    continue
                answers.append({"id": secrets.token_hex(16), "session_id": session_id, "item_key": spec.key,
                                "value": {"value": rng.randint(spec.scale.min, spec.scale.max)},
                                "voter_key": None})  # fmt: skip
    db.session.execute(insert(ActionPoint), points)
    db.session.execute(insert(EvaluationAnswer), answers)
    db.session.commit()
    print(f"organisation: {teams} teams, {len(rows)} sessions, {len(points)} action points, "
          f"{len(answers)} evaluation answers")  # fmt: skip
    # What close_session does for each session: keep its evaluation as sums (at k or more).
    began = time.perf_counter()
    closed = db.session.scalars(select(DeliberationSession)).all()
    kept = sum(1 for session in closed if tally(session))
    db.session.commit()
    # As the database's own statistics job would, after a year of sessions (on PostgreSQL the raw
    # columns are never sampled: migration 0007).
    with db.engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    took = (time.perf_counter() - began) * 1000
    print(f"tallied at close: {kept} of {len(closed)} sessions at k or more, "
          f"{took / len(closed):.2f} ms a session")  # fmt: skip


def timed(label: str, function, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        db.session.expire_all()
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    median, worst = statistics.median(timings), max(timings)
    verdict = "meets" if worst < TARGET_MS else "MISSES"
    print(f"{label:<34} median {median:7.1f} ms   max {worst:7.1f} ms   {verdict} the {TARGET_MS} ms target")
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="beraad-bench-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite3'}"
    print(f"database: {database_url.split(':', 1)[0]}")
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench",
        "INSTANCE_PATH": str(folder), "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
        "BABEL_DEFAULT_LOCALE": "nl",
    }  # fmt: skip
    app = create_app(config)
    today = date.today()
    with app.app_context():
        upgrade()
        began = time.perf_counter()
        populate(args.teams, args.sessions, random.Random(7), today)
        print(f"generated in {time.perf_counter() - began:.1f} s")
        coordinator = db.session.scalar(select(User).where(User.username == "bench-coordinator"))
        figures = insights(coordinator, today=today)
        print(f"figures: {figures.total_sessions} sessions, {figures.evaluated_sessions} evaluated at k, "
              f"{len(figures.themes)} themes, {len(figures.items)} evaluation items")  # fmt: skip
        worst_service = timed("insights()", lambda: insights(coordinator, today=today), args.repeat)
    client = app.test_client()
    response = client.post("/login", data={"username": "bench-coordinator", "password": PASSWORD})
    assert response.status_code in (302, 303), response.status_code

    def page():
        response = client.get("/insights")
        assert response.status_code == 200, response.status_code

    with app.app_context():
        worst_page = timed("GET /insights (rendered)", page, args.repeat)
        timed("GET /insights.xlsx", lambda: client.get("/insights.xlsx"), max(3, args.repeat // 2))
    met = worst_service < TARGET_MS and worst_page < TARGET_MS
    print(f"target < {TARGET_MS} ms for 200 teams and 5,000 sessions: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
