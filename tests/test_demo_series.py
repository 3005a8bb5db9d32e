"""`beraad demo --series`: a demo team with three past sessions, through click's runner, on both databases.

The series is made through the service functions (sessions, votes, the Terugblik, the evaluation,
the close), so what is checked here is what a real team's history would hold: three closed sessions
of the last three months, in order, each voted on and evaluated by at least k simulated participants,
the second and third looking back on the previous one's action points; the team history and the
coordinator's insights show evaluation figures and their charts. Running it again makes nothing new;
with --reset the team is made anew.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from beraad.auth import service as accounts
from beraad.extensions import db
from beraad.insights.service import insights
from beraad.models import (
    ActionPoint,
    Answer,
    DeliberationSession,
    Dilemma,
    EvaluationAnswer,
    EvaluationTally,
    Participant,
    Poll,
    Team,
    User,
    utcnow,
)
from beraad.sessions import service as sessions
from beraad.summary.build import build_summary
from beraad.teams import demo, followup, history
from beraad.teams.service import series
from beraad.vote import evaluation

from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
REPO_BANK = ROOT / "dilemma_bank"
BASE = "https://beraad.example.nl"
PASSWORD_SHOWN = re.compile(r"password (\S+)\)")
TEAM_LINK = re.compile(r"^Team:\s+(\S+)$", re.M)
STATUSES = {"done", "in_progress", "dropped", "carried"}


@pytest.fixture
def series_ready(app):
    """What `beraad init` provides: every method of the repository (the test methods folder has only
    two) and the published dilemmas of the demo session and the demo series."""
    from beraad.bank import service as bank
    from beraad.bank.loader import read_dilemma_file

    app.config["METHODS_DIR"] = str(ROOT / "methods")
    slugs = ["rapport-afzwakken", *(plan.dilemma for plan in demo.PLAN)]
    with app.app_context():
        bank.import_dilemmas([read_dilemma_file(REPO_BANK / f"{slug}.md") for slug in slugs])
        db.session.commit()


def run(runner, *options: str) -> str:
    result = runner.invoke(args=["demo", "--base-url", BASE, *options])
    assert result.exit_code == 0, result.output
    return result.output


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def snapshot(app) -> dict:
    """How many rows of each kind the database holds, and the demo team's session ids."""
    with app.app_context():
        teams = db.session.scalars(select(Team)).all()
        return {
            "teams": [(team.id, team.name) for team in teams],
            "sessions": sorted(db.session.scalars(select(DeliberationSession.id))),
            "counts": {
                model.__name__: count(model)
                for model in (ActionPoint, Answer, EvaluationAnswer, EvaluationTally, Participant, Poll)
            },
        }


def demo_team(app) -> tuple[int, list[int]]:
    with app.app_context():
        [team] = db.session.scalars(select(Team)).all()
        return team.id, [s.id for s in series(team)]


# --- what is made ----------------------------------------------------------------------------------


def test_series_makes_one_team_with_three_past_closed_sessions(app, runner, series_ready):
    output = run(runner, "--series")
    assert "Demo session created." in output
    assert f"Demo team created: {demo.DEMO_TEAM!r} with 3 sessions." in output
    team_id, ids = demo_team(app)
    assert TEAM_LINK.findall(output) == [f"{BASE}/teams/{team_id}"]
    assert f"Insights:    {BASE}/insights" in output
    with app.app_context():
        team = db.session.get(Team, team_id)
        owner = accounts.get_user_by_username("demo")
        assert team.name == demo.DEMO_TEAM and team.owner_id == owner.id and team.level == "gemeente"
        made = series(team)
        assert [s.title for s in made] == [plan.title for plan in demo.PLAN]
        assert len(ids) == 3
        for session in made:
            assert output.count(session.title) == 1  # each listed once

        now = utcnow()
        assert team.created_at < made[0].created_at
        for session, plan in zip(made, demo.PLAN, strict=True):
            assert session.status == "closed" and session.secret is None and not session.evaluation_open
            assert session.team_id == team.id and session.owner_id == owner.id
            assert session.created_at < session.started_at < session.closed_at < now
            assert session.scheduled_for.weekday() == 1  # the team meets on Tuesdays
            took = session.closed_at - session.started_at
            assert timedelta(minutes=20) < took < timedelta(hours=3)
            assert sessions.totals(session).elapsed_seconds == round(took.total_seconds())
            assert session.method_key == plan.method and session.dilemmas_snapshot[0]["slug"] == plan.dilemma
            assert sessions.method_of(session).evaluation  # a method with the evaluation
        # One month apart, in the last three months, oldest first.
        for earlier, later in zip(made, made[1:], strict=False):
            assert timedelta(days=21) <= later.started_at - earlier.started_at <= timedelta(days=38)
            assert earlier.closed_at < later.created_at < later.started_at
        # (A month back from the 31st is the 28th, and the Tuesday before that up to six days earlier.)
        assert timedelta(days=21) <= now - made[-1].started_at <= timedelta(days=42)
        assert timedelta(days=80) <= now - made[0].started_at <= timedelta(days=105)
        # Three different methods and dilemmas whose themes do not overlap.
        assert len({s.method_key for s in made}) == 3
        slugs = [s.dilemmas_snapshot[0]["slug"] for s in made]
        themes = [
            set(db.session.scalar(select(Dilemma).where(Dilemma.slug == slug)).themes) for slug in slugs
        ]
        assert all(themes) and not (themes[0] & themes[1] or themes[1] & themes[2] or themes[0] & themes[2])


def test_series_sessions_have_votes_notes_actions_and_evaluations_of_at_least_k(app, runner, series_ready):
    run(runner, "--series")
    with app.app_context():
        team = db.session.scalars(select(Team)).one()
        for session in series(team):
            k = session.k
            assert k == app.config["BERAAD_K"]
            people = count(Participant, Participant.session_id == session.id)
            assert 7 <= people <= 9 and people >= k
            assert sum(1 for step in session.steps if step.notes.strip()) >= 4
            assert session.polls and all(poll.status == "closed" for poll in session.polls)
            for poll in session.polls:
                answers = db.session.scalars(select(Answer).where(Answer.poll_id == poll.id)).all()
                assert len(answers) >= k and all(a.voter_key is None for a in answers)  # keys wiped
            points = [p for p in session.action_points if p.carried_from_id is None]
            assert len(points) >= 3 and all(p.due and p.who for p in points)
            # The evaluation: every scale item answered by at least k; kept as tallies at close.
            for spec in evaluation.items(session):
                values = evaluation.values_for(session, spec.key)
                if spec.type == "scale":
                    assert len(values) == people >= k
            tallies = db.session.scalars(
                select(EvaluationTally).where(EvaluationTally.session_id == session.id)
            ).all()
            assert tallies and max(t.answers for t in tallies) >= k
            assert all(v is None for v in db.session.scalars(
                select(EvaluationAnswer.voter_key).where(EvaluationAnswer.session_id == session.id)
            ))  # fmt: skip
            summary = build_summary(session)
            assert summary.participants == people and all(p.shown for p in summary.polls)
            assert summary.evaluation and all(item.shown == (item.count >= k) for item in summary.evaluation)
            assert all(item.shown and item.mean for item in summary.evaluation if item.type == "scale")


def test_second_and_third_session_look_back_on_the_previous_ones_points(app, runner, series_ready):
    run(runner, "--series")
    with app.app_context():
        team = db.session.scalars(select(Team)).one()
        first, second, third = series(team)
        assert not followup.has_terugblik(first) and followup.points_to_review(first) == []
        recorded = set()
        for session, previous in ((second, first), (third, second)):
            assert followup.has_terugblik(session)
            assert session.steps[0].step_key == followup.TERUGBLIK_KEY and session.steps[0].notes
            points = followup.points_to_review(session)
            assert [p.id for p in points] == [p.id for p in previous.action_points]
            assert all(p.follow_up in STATUSES and p.follow_up_note for p in points)
            assert all(previous.closed_at < p.reviewed_at < session.closed_at for p in points)
            for point in points:
                assert (point.done_on is not None) == (point.follow_up == "done")
                if point.follow_up == "carried":  # a copy lives on in the session that looked back
                    assert followup.carried_copy(session, point) is not None
            recorded |= {p.follow_up for p in points}
            follow_up = build_summary(session).follow_up
            assert [(f.what, f.status, f.note) for f in follow_up] == [
                (p.what, p.follow_up, p.follow_up_note) for p in points
            ]
        assert recorded == STATUSES  # done, in progress, dropped and carried over, all of them
        assert all(p.follow_up == "open" for p in third.action_points)  # for the team's next session


def test_history_and_insights_show_evaluation_figures(app, runner, series_ready, create_user):
    run(runner, "--series")
    coordinator_id = create_user("cora", role="coordinator")
    with app.app_context():
        team = db.session.scalars(select(Team)).one()
        made = series(team)
        found = history.build(team, made, "nl")
        assert [entry.status for entry in found.sessions] == ["closed"] * 3
        assert len(found.themes) == 9  # three dilemmas, three themes each
        assert found.trends
        for trend in found.trends:
            assert [p.session_id for p in trend.points] == [s.id for s in made]
            assert len(trend.shown) == 3 and all(trend.low <= p.mean <= trend.high for p in trend.shown)
            assert all(p.count >= p.k for p in trend.points)
            assert len(history.chart(trend).segments) == 2
        # The series was made to show progress: the grade rises from session to session.
        grade = next(t for t in found.trends if t.key == "cijfer")
        assert [p.mean for p in grade.points] == sorted(p.mean for p in grade.points)

        figures = insights(db.session.get(User, coordinator_id))
        assert figures.evaluated_sessions == 3
        assert figures.items and all(item.overall.shown for item in figures.items)
        assert all(item.by_team[team.id].shown for item in figures.items)
        [row] = [row for row in figures.teams if row.team_id == team.id]
        assert row.sessions == 3 and row.actions_counted > 0
        assert sum(month.sessions for month in figures.months) == 3
        assert {theme.key for theme in figures.themes} == {t.theme for t in found.themes}


def test_team_page_and_insights_render_their_charts(app, client, auth, runner, series_ready):
    output = run(runner, "--series")
    [password] = PASSWORD_SHOWN.findall(output)
    team_id, _ = demo_team(app)
    assert client.post("/login", data={"username": "demo", "password": password}).status_code == 302
    page = client.get(f"/teams/{team_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and demo.DEMO_TEAM in html
    assert all(plan.title in html for plan in demo.PLAN)
    assert client.get("/insights").status_code == 403  # the demo user is a facilitator
    client.post("/logout")

    assert auth.login("cora", role="coordinator", password=PASSWORD).status_code == 302
    page = client.get("/insights")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<svg") >= 2 and demo.DEMO_TEAM in html
    assert client.get(f"/teams/{team_id}").status_code == 200  # coordinators see every team


# --- idempotent, reset -------------------------------------------------------------------------------


def test_series_twice_makes_nothing_new(app, runner, series_ready):
    run(runner, "--series")
    before = snapshot(app)
    again = run(runner, "--series")
    assert f"Demo team reused: {demo.DEMO_TEAM!r}, 3 sessions." in again
    assert "Demo session reused." in again and "created" not in again
    assert snapshot(app) == before
    assert len(before["teams"]) == 1 and len(before["sessions"]) == 4  # the demo session and three


def test_reset_series_makes_the_team_anew(app, runner, series_ready):
    run(runner, "--series")
    old_team, old_sessions = demo_team(app)
    before = snapshot(app)
    output = run(runner, "--reset", "--series")
    assert "Demo session reset: 1 old demo session deleted." in output
    assert f"Demo team reset: 3 old sessions deleted; {demo.DEMO_TEAM!r} created with 3 sessions." in output
    team_id, ids = demo_team(app)
    after = snapshot(app)
    assert after["counts"] == before["counts"]  # the same series again, nothing left of the old one
    assert len(after["teams"]) == 1 and len(after["sessions"]) == 4
    with app.app_context():
        team = db.session.get(Team, team_id)
        assert team.name == demo.DEMO_TEAM and len(ids) == 3
        assert all(s.status == "closed" for s in series(team))
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):  # SQLite may reuse ids
            assert team_id != old_team and not set(ids) & set(old_sessions)
    assert TEAM_LINK.findall(output) == [f"{BASE}/teams/{team_id}"]


def test_demo_without_series_leaves_the_demo_team_alone(app, runner, series_ready):
    run(runner)
    assert snapshot(app)["teams"] == []  # the plain demo makes no team
    run(runner, "--series")
    before = snapshot(app)
    output = run(runner, "--reset")
    assert "Demo team" not in output and "Team:" not in output
    after = snapshot(app)
    assert after["teams"] == before["teams"] and after["counts"] == before["counts"]


def test_series_without_its_content_fails_and_creates_nothing(app, runner):
    from beraad.bank import service as bank
    from beraad.bank.loader import read_dilemma_file

    with app.app_context():  # the demo session's dilemma only, as test_cli.py's demo_ready
        bank.import_dilemmas([read_dilemma_file(REPO_BANK / "rapport-afzwakken.md")])
        db.session.commit()
    app.config["METHODS_DIR"] = str(ROOT / "methods")
    result = runner.invoke(args=["demo", "--series"])
    assert result.exit_code == 1 and "run `beraad init` first" in result.output
    assert all(plan.dilemma in result.output for plan in demo.PLAN)
    with app.app_context():
        assert accounts.get_user_by_username("demo") is None
        assert count(Team) == 0 and count(DeliberationSession) == 0
