"""The Terugblik: a team's new session looks back on what its previous session agreed.

On both databases: the step is prepended only when the team's previous session has action points
(for every method in methods/), the follow-up of each point (done, in progress, dropped, carried
over), the facilitator's form, and the Terugblik section of the summary (PDF and print view).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from beraad.bank import service as bank
from beraad.extensions import db
from beraad.methods import service as methods_service
from beraad.methods.loader import Method, load_methods
from beraad.models import ActionPoint, DeliberationSession, FollowUp, Team, User, utcnow
from beraad.sessions import service as sessions
from beraad.sessions.plan import expand_steps, planned_minutes
from beraad.sessions.state import stage_context
from beraad.summary.build import build_summary
from beraad.summary.model import Summary
from beraad.teams import followup
from beraad.teams.service import create_team

from . import test_summary

# The summary tests' factory fixtures (content, a facilitator, a session, a whole run), reused here.
content = test_summary.content
facilitator = test_summary.facilitator
new_session = test_summary.new_session
run_session = test_summary.run_session
pdf_or_skip, pdf_text = test_summary.pdf_or_skip, test_summary.pdf_text

ROOT = Path(__file__).resolve().parents[1]
METHODS = load_methods(ROOT / "methods")
TOKEN_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
POINTS = [
    ("Bezwaar schriftelijk vastleggen", "onderzoeker", date(2030, 6, 1)),
    ("Protocol bespreken in het MT", "teamleider", None),
    ("Casus terugkoppelen aan de afdeling", "", date(2030, 7, 1)),
]


def load(session_id: int) -> DeliberationSession:
    return db.session.get(DeliberationSession, session_id)


def dilemmas_for(method: Method) -> list:
    published = [bank.get_by_slug("rapport-bijstellen"), bank.get_by_slug("geschenk-leverancier")]
    return published[: method.dilemmas[0]]


@pytest.fixture
def team_series(app, content, facilitator):
    """Return a function that makes a team, a closed session in it with the given action points
    (None: no previous session at all), and a new session in the team; returns (team_id, new_id)."""

    def make(points=POINTS, method: Method | None = None, language: str = "nl") -> tuple[int, int]:
        with app.app_context():
            owner = db.session.get(User, facilitator)
            team = create_team(owner, "Team Vergunningen")
            if points is not None:
                earlier = sessions.create_session(
                    owner, methods_service.get_method("dilemmamethode"),
                    [bank.get_by_slug("rapport-bijstellen")], "Vorige keer", team=team,
                )  # fmt: skip
                month_ago = utcnow() - timedelta(days=30)
                earlier.created_at = month_ago
                sessions.start_session(earlier, now=month_ago)
                for what, who, due in points:
                    sessions.add_action_point(earlier, what, who, due)
                sessions.close_session(earlier, now=month_ago + timedelta(hours=1))
            chosen = method or methods_service.get_method("dilemmamethode")
            session = sessions.create_session(
                owner, chosen, dilemmas_for(chosen), "Deze keer", language, team=team
            )
            db.session.commit()
            return team.id, session.id

    return make


# --- the step ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS, ids=[m.key for m in METHODS])
def test_every_method_starts_with_the_terugblik_in_a_team_with_points(app, team_series, method):
    _, session_id = team_series(method=method)
    with app.app_context():
        session = load(session_id)
        snapshot_method = sessions.method_of(session)
        first = snapshot_method.steps[0]
        assert first.followup and first.minutes == 5
        assert first.title.nl == "Terugblik" and first.title.en == "Looking back"
        assert first.prompt.nl and first.prompt.en and first.facilitator.nl and first.facilitator.en
        assert [s.key for s in snapshot_method.steps[1:]] == [s.key for s in method.steps]
        assert not any(s.followup for s in snapshot_method.steps[1:])
        assert len({s.key for s in snapshot_method.steps}) == len(snapshot_method.steps)  # no clash
        # Positions, minutes and polls follow: one step more, five minutes more, polls one place on.
        count = len(session.dilemmas_snapshot)
        assert [s.position for s in session.steps] == list(range(len(expand_steps(method, count)) + 1))
        assert session.steps[0].step_key == first.key and session.steps[0].planned_minutes == 5
        assert session.steps[0].dilemma_index is None  # about last time, not today's dilemma
        assert planned_minutes(snapshot_method, count) == planned_minutes(method, count) + 5
        assert snapshot_method.minutes == method.minutes + 5
        plain = {(p.step.key, p.dilemma_index): p.position for p in expand_steps(method, count)}
        for poll in session.polls:
            step = sessions.step_at(session, poll.position)
            assert poll.position == plain[(step.step_key, step.dilemma_index)] + 1
        assert sessions.totals(session).planned_seconds == planned_minutes(method, count) * 60 + 300
        context = stage_context(session)
        assert context["title"] == "Terugblik" and len(context["followup"]) == len(POINTS)
        assert [p.what for p in followup.points_to_review(session)] == [p[0] for p in POINTS]


@pytest.mark.parametrize("points", [None, []], ids=["no-previous-session", "no-action-points"])
def test_no_terugblik_without_a_previous_session_with_points(app, team_series, points):
    team_id, session_id = team_series(points=points)
    with app.app_context():
        session = load(session_id)
        assert session.team_id == team_id
        assert not any(step.followup for step in sessions.method_of(session).steps)
        assert session.steps[0].step_key == "inleiding"
        assert followup.points_to_review(session) == []
        assert stage_context(session)["followup"] == []


def test_no_terugblik_without_a_team(app, new_session):
    session_id = new_session()
    with app.app_context():
        session = load(session_id)
        assert session.team_id is None
        assert session.steps[0].step_key == "inleiding"
        assert followup.points_to_review(session) == []


def test_english_session_and_old_snapshots(app, team_series):
    _, session_id = team_series(language="en")
    with app.app_context():
        session = load(session_id)
        assert stage_context(session)["title"] == "Looking back"
        snapshot = dict(session.method_snapshot)
        snapshot["steps"] = [{k: v for k, v in s.items() if k != "followup"} for s in snapshot["steps"]]
        assert not any(step.followup for step in Method.from_dict(snapshot).steps)  # old snapshots load


# --- record_follow_up ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["done", "in_progress", "dropped", "carried"])
def test_record_each_status(app, team_series, status):
    _, session_id = team_series()
    with app.app_context():
        session = load(session_id)
        point = followup.points_to_review(session)[0]
        version = session.version
        copy = followup.record_follow_up(
            session, point, status, "  Besproken in het MT. ", today=date(2030, 5, 2)
        )
        db.session.commit()
        point = db.session.get(ActionPoint, point.id)
        assert point.follow_up == status and point.follow_up_note == "Besproken in het MT."
        assert point.reviewed_at is not None
        assert point.done_on == (date(2030, 5, 2) if status == "done" else None)
        assert load(session_id).version > version
        carried = [p for p in load(session_id).action_points if p.carried_from_id is not None]
        if status == "carried":
            assert copy is not None and carried == [copy]
            assert (copy.what, copy.who, copy.due) == POINTS[0] and copy.carried_from_id == point.id
            assert copy.follow_up == FollowUp.OPEN
        else:
            assert copy is None and carried == []


def test_bad_status_long_note_and_foreign_point_are_refused(app, team_series, new_session):
    _, session_id = team_series()
    other_id = new_session()
    with app.app_context():
        session = load(session_id)
        point = followup.points_to_review(session)[0]
        for status in ("open", "", "finished", None):
            with pytest.raises(sessions.SessionError, match="status"):
                followup.record_follow_up(session, point, status)
        with pytest.raises(sessions.SessionError, match="500"):
            followup.record_follow_up(session, point, "done", "x" * 501)
        followup.record_follow_up(session, point, "done", "x" * 500)
        foreign = sessions.add_action_point(load(other_id), "Iets anders", "", None)
        with pytest.raises(sessions.SessionError):
            followup.record_follow_up(session, foreign, "done")
        with pytest.raises(sessions.SessionError):  # the session's own points are not looked back on
            followup.record_follow_up(load(other_id), point, "done")


def test_carried_once_and_removed_when_changed_back(app, team_series):
    _, session_id = team_series()
    with app.app_context():
        session = load(session_id)
        first, second = followup.points_to_review(session)[:2]
        copy = followup.record_follow_up(session, first, "carried")
        again = followup.record_follow_up(session, first, "carried", "Nog steeds nodig")
        assert again.id == copy.id
        assert [p.carried_from_id for p in session.action_points] == [first.id]
        followup.record_follow_up(session, first, "done")
        assert session.action_points == [] and first.done_on is not None
        # A copy the team has changed stays when the point is changed back.
        edited = followup.record_follow_up(session, second, "carried")
        edited.who = "beleidsadviseur"
        followup.record_follow_up(session, second, "dropped")
        assert [p.id for p in session.action_points] == [edited.id]
        assert second.done_on is None
        db.session.commit()
        assert len(load(session_id).action_points) == 1


def test_carried_points_appear_in_the_new_session_and_its_summary(app, team_series):
    _, session_id = team_series()
    with app.app_context():
        session = load(session_id)
        points = followup.points_to_review(session)
        followup.record_follow_up(session, points[0], "done", "Is gebeurd")
        followup.record_follow_up(session, points[1], "carried")
        followup.record_follow_up(session, points[2], "dropped", "Niet meer nodig")
        sessions.start_session(session)
        db.session.commit()
        summary = build_summary(load(session_id))
        assert [a.what for a in summary.actions] == [POINTS[1][0]]
        assert [(f.what, f.status, f.note) for f in summary.follow_up] == [
            (POINTS[0][0], "done", "Is gebeurd"),
            (POINTS[1][0], "carried", ""),
            (POINTS[2][0], "dropped", "Niet meer nodig"),
        ]
        assert summary.follow_up[0].due == "2030-06-01" and summary.follow_up[1].who == "teamleider"
        assert Summary.from_dict(summary.to_dict()) == summary


def test_refused_once_the_session_is_closed(app, team_series):
    _, session_id = team_series()
    with app.app_context():
        session = load(session_id)
        sessions.start_session(session)
        sessions.close_session(session)
        point = followup.points_to_review(session)[0]
        with pytest.raises(sessions.SessionClosedError):
            followup.record_follow_up(session, point, "done")
        assert point.follow_up == FollowUp.OPEN


# --- the facilitator's form ---------------------------------------------------------------------------


def point_ids(app, session_id: int) -> list[int]:
    with app.app_context():
        return [p.id for p in followup.points_to_review(load(session_id))]


def test_facilitator_screen_shows_the_panel_and_saves_a_point(app, client, auth, team_series):
    _, session_id = team_series()
    ids = point_ids(app, session_id)
    auth.login("anna", role="facilitator")
    page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert 'id="followup"' in page and POINTS[0][0] in page and "onderzoeker" in page
    for status in ("done", "in_progress", "dropped", "carried"):  # the words follow the translations
        assert f'name="status" value="{status}"' in page
    assert f'id="followup-note-{ids[0]}"' in page
    response = client.post(
        f"/sessions/{session_id}/followup/{ids[1]}", data={"status": "carried", "note": "Na de zomer"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#followup")
    response = client.post(f"/sessions/{session_id}/followup/{ids[0]}", data={"status": "in_progress"},
                           headers={"Accept": "application/json"})  # fmt: skip
    assert response.status_code == 200 and response.get_json()["ok"]
    with app.app_context():
        session = load(session_id)
        assert [p.follow_up for p in followup.points_to_review(session)] == ["in_progress", "carried", "open"]
        assert [p.carried_from_id for p in session.action_points] == [ids[1]]
    bad = client.post(f"/sessions/{session_id}/followup/{ids[0]}", data={"status": "nope"})
    assert bad.status_code == 302
    assert client.post(f"/sessions/{session_id}/followup/999999", data={"status": "done"}).status_code == 404
    # After the Terugblik step the panel is gone from the facilitator's main column.
    client.post(f"/sessions/{session_id}/step", data={"direction": "next"})
    assert 'id="followup"' not in client.get(f"/sessions/{session_id}").get_data(as_text=True)


def test_only_the_owner_may_record_and_csrf_is_needed(app, client, auth, team_series, create_user):
    _, session_id = team_series()
    ids = point_ids(app, session_id)
    create_user("bert", role="facilitator")
    auth.login("bert", role="facilitator")
    assert (
        client.post(f"/sessions/{session_id}/followup/{ids[0]}", data={"status": "done"}).status_code == 403
    )
    auth.logout()
    auth.login("anna", role="facilitator")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for token in (None, "forged-token"):
            data = {"status": "done", **({"csrf_token": token} if token else {})}
            assert client.post(f"/sessions/{session_id}/followup/{ids[0]}", data=data).status_code == 400
        page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
        token = TOKEN_FIELD.search(page).group(1)
        response = client.post(
            f"/sessions/{session_id}/followup/{ids[0]}", data={"status": "done", "csrf_token": token}
        )
        assert response.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        assert db.session.get(ActionPoint, ids[0]).follow_up == "done"


# --- the projector and the summary ---------------------------------------------------------------------


def test_projector_shows_the_points_with_their_status(app, client, team_series):
    _, session_id = team_series()
    with app.app_context():
        session = load(session_id)
        points = followup.points_to_review(session)
        followup.record_follow_up(session, points[0], "done", "Klaar in mei")
        followup.record_follow_up(session, points[2], "dropped")
        sessions.start_session(session)
        db.session.commit()
        token, facilitator_name = session.projector_token, session.owner.display_name
    html = client.get(f"/p/{token}/stage").get_data(as_text=True)
    assert html.count('class="followup-item') == 3
    assert "Gedaan" in html and "Vervallen" in html and "Nog niet besproken" in html
    assert "Klaar in mei" in html and POINTS[1][0] in html
    assert not facilitator_name or facilitator_name not in html


def test_summary_pdf_and_print_view_have_the_terugblik(app, client, auth, team_series):
    pdf_or_skip()
    _, session_id = team_series()
    with app.app_context():
        session = load(session_id)
        points = followup.points_to_review(session)
        followup.record_follow_up(session, points[0], "done", "Is gebeurd")
        followup.record_follow_up(session, points[1], "carried")
        followup.record_follow_up(session, points[2], "in_progress", "Bijna klaar")
        sessions.start_session(session)
        sessions.close_session(session)
        db.session.commit()
    auth.login("anna", role="facilitator")
    response = client.get(f"/sessions/{session_id}/summary.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    start = text.index("Terugblik")
    assert start < text.index("Stappen")  # right after the title block
    section = text[start : text.index("Stappen")]
    for expected in ("Gedaan", "Schuift door", "Loopt nog", "Is gebeurd", "Bijna klaar", "onderzoeker",
                     "1 juni 2030", "Status", "Toelichting"):  # fmt: skip
        assert expected in section, expected
    assert "Bezwaar schriftelijk" in section
    page = client.get(f"/sessions/{session_id}/summary").get_data(as_text=True)
    assert "Terugblik" in page and "Schuift door" in page and "Bijna klaar" in page


def test_a_summary_without_terugblik_has_none(app, run_session):
    ran = run_session()
    with app.app_context():
        summary = build_summary(load(ran.session_id))
        assert summary.follow_up == ()
        data = summary.to_dict()
        data.pop("follow_up")
        assert Summary.from_dict(data).follow_up == ()  # archived before the Terugblik existed


def test_points_to_review_is_the_previous_session_only(app, team_series, facilitator):
    team_id, session_id = team_series()
    with app.app_context():
        owner = db.session.get(User, facilitator)
        team = db.session.get(Team, team_id)
        session = load(session_id)
        sessions.start_session(session)
        sessions.add_action_point(session, "Nieuw punt", "", None)
        later = sessions.create_session(
            owner, methods_service.get_method("dilemmamethode"), [bank.get_by_slug("rapport-bijstellen")],
            "Daarna", team=team,
        )  # fmt: skip
        db.session.flush()
        assert [p.what for p in followup.points_to_review(later)] == ["Nieuw punt"]
        assert len(followup.points_to_review(load(session_id))) == len(POINTS)


def test_a_session_planned_ahead_is_not_the_previous_one(app, team_series, facilitator):
    """Made first for next month, then one for this week: this week's session still looks back on
    the one held last month, and next month's (once held) on this week's."""
    team_id, ahead_id = team_series()  # "Deze keer" stands for the session planned ahead
    with app.app_context():
        owner = db.session.get(User, facilitator)
        team = db.session.get(Team, team_id)
        this_week = sessions.create_session(
            owner, methods_service.get_method("dilemmamethode"), [bank.get_by_slug("rapport-bijstellen")],
            "Deze week", team=team,
        )  # fmt: skip
        db.session.flush()
        assert [p.what for p in followup.points_to_review(this_week)] == [what for what, _, _ in POINTS]
        sessions.start_session(this_week)
        sessions.add_action_point(this_week, "Afspraak van deze week", "teamleider", None)
        sessions.close_session(this_week)
        ahead = load(ahead_id)
        sessions.start_session(ahead, now=utcnow() + timedelta(days=30))
        assert [p.what for p in followup.points_to_review(ahead)] == ["Afspraak van deze week"]


# --- decided again at the start (sessions planned ahead) -----------------------------------------


def _plan(session: DeliberationSession) -> tuple:
    """What a session's plan consists of: its method, its steps and its polls, by position."""
    by_id = {poll.id: poll for poll in session.polls}
    steps = [(s.position, s.step_key, s.dilemma_index, s.planned_minutes) for s in session.steps]
    polls = [
        (p.position, p.key, p.dilemma_index, p.type,
         (by_id[p.compare_with_id].key, by_id[p.compare_with_id].position) if p.compare_with_id else None)
        for p in session.polls
    ]  # fmt: skip
    return sessions.method_of(session).to_dict(), steps, polls


def _hold(owner, team, points, when) -> DeliberationSession:
    held = sessions.create_session(
        owner, methods_service.get_method("dilemmamethode"), [bank.get_by_slug("rapport-bijstellen")],
        "Tussendoor", team=team,
    )  # fmt: skip
    sessions.start_session(held, now=when)
    for what in points:
        sessions.add_action_point(held, what, "teamleider", None)
    sessions.close_session(held, now=when + timedelta(hours=1))
    return held


@pytest.mark.parametrize("method", METHODS, ids=[m.key for m in METHODS])
def test_a_session_planned_ahead_gains_the_terugblik_when_it_starts(app, team_series, facilitator, method):
    """Made when the team had held nothing, started after a session that agreed points: it opens
    with the Terugblik on those points, its plan the same as that of a session made today."""
    team_id, ahead_id = team_series(points=None, method=method)
    with app.app_context():
        owner, team = db.session.get(User, facilitator), db.session.get(Team, team_id)
        ahead = load(ahead_id)
        assert not followup.has_terugblik(ahead)
        _hold(owner, team, ["Werkinstructie bijwerken", "Casus terugkoppelen"], utcnow() - timedelta(days=1))
        today = sessions.create_session(owner, method, dilemmas_for(method), "Vandaag", team=team)
        sessions.start_session(ahead)
        db.session.commit()
        ahead = load(ahead_id)
        assert followup.has_terugblik(ahead) and _plan(ahead) == _plan(today)
        assert [p.what for p in followup.points_to_review(ahead)] == [
            "Werkinstructie bijwerken",
            "Casus terugkoppelen",
        ]
        context = stage_context(ahead)
        assert context["title"] == "Terugblik" and len(context["followup"]) == 2
        assert ahead.steps[0].timer_started_at is not None  # the Terugblik's timer runs


@pytest.mark.parametrize("method", METHODS, ids=[m.key for m in METHODS])
def test_a_session_planned_ahead_loses_the_terugblik_when_the_last_one_agreed_nothing(
    app, team_series, facilitator, method
):
    team_id, ahead_id = team_series(method=method)  # made while last month's points were the latest
    with app.app_context():
        owner, team = db.session.get(User, facilitator), db.session.get(Team, team_id)
        assert followup.has_terugblik(load(ahead_id))
        _hold(owner, team, [], utcnow() - timedelta(days=1))  # held since, and agreed nothing
        today = sessions.create_session(owner, method, dilemmas_for(method), "Vandaag", team=team)
        sessions.start_session(load(ahead_id))
        db.session.commit()
        ahead = load(ahead_id)
        assert not followup.has_terugblik(ahead) and _plan(ahead) == _plan(today)
        assert followup.points_to_review(ahead) == [] and stage_context(ahead)["title"] != "Terugblik"


def test_a_terugblik_with_text_written_at_it_stays(app, team_series, facilitator):
    team_id, ahead_id = team_series()
    with app.app_context():
        owner, team = db.session.get(User, facilitator), db.session.get(Team, team_id)
        sessions.set_screen_text(load(ahead_id), 0, "Wat hebben we geleerd van vorige maand?", False)
        _hold(owner, team, [], utcnow() - timedelta(days=1))
        sessions.start_session(load(ahead_id))
        db.session.commit()
        ahead = load(ahead_id)
        assert followup.has_terugblik(ahead) and ahead.steps[0].screen_text.startswith("Wat hebben")
