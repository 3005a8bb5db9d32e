"""Sessions on both databases: plan, creation, lifecycle, timer, notes, polls, pages and CLI."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from beraad.bank import service as bank
from beraad.bank.loader import load_bank, read_dilemma_file
from beraad.extensions import db
from beraad.methods import service as methods_service
from beraad.methods.loader import Text, load_methods
from beraad.models import (
    ActionPoint,
    Answer,
    DeliberationSession,
    Poll,
    PollStatus,
    SessionStatus,
    User,
)
from beraad.sessions import service
from beraad.sessions.plan import expand_steps, planned_minutes
from beraad.vote import service as vote

from .conftest import DATA_DIR

REPO_BANK = Path(__file__).resolve().parent.parent / "dilemma_bank"
T0 = datetime(2030, 5, 1, 9, 0, 0)
JSON = {"Accept": "application/json"}
TWO_DILEMMAS = ("rapport-bijstellen", "geschenk-leverancier")


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- factory fixtures -----------------------------------------------------------------------------


@pytest.fixture
def content(app):
    """Import the test methods and the test bank (two of the three dilemmas are published)."""
    with app.app_context():
        methods_service.import_methods(load_methods(DATA_DIR / "methods"))
        bank.import_dilemmas(load_bank(DATA_DIR / "bank"))
        db.session.commit()


@pytest.fixture
def make_session(app, content):
    """Return a function that creates a session through the service and returns its id."""

    def make(
        owner_id: int,
        method_key: str = "dilemmamethode",
        slugs: tuple[str, ...] = ("rapport-bijstellen",),
        title: str = "Testsessie",
        language: str = "nl",
        k: int = 3,
    ) -> int:
        with app.app_context():
            owner = db.session.get(User, owner_id)
            method = methods_service.get_method(method_key)
            dilemmas = [bank.get_by_slug(slug) for slug in slugs]
            session = service.create_session(owner, method, dilemmas, title, language, k)
            db.session.commit()
            return session.id

    return make


@pytest.fixture
def owner(app) -> int:
    """A facilitator who never signs in: no (slow) password hash needed."""
    with app.app_context():
        user = User(username="anna", password_hash="!unusable", role="facilitator")
        db.session.add(user)
        db.session.commit()
        return user.id


@pytest.fixture
def ctx(app):
    """An application context for calling the service functions directly."""
    with app.app_context():
        yield


def load(session_id: int) -> DeliberationSession:
    return db.session.get(DeliberationSession, session_id)


def poll_at(session: DeliberationSession, position: int) -> Poll:
    return next(poll for poll in session.polls if poll.position == position)


def session_count() -> int:
    return db.session.scalar(select(func.count()).select_from(DeliberationSession))


def option_keys(options: list[dict]) -> list[str]:
    return [option["key"] for option in options]


@pytest.fixture
def test_methods():
    return {method.key: method for method in load_methods(DATA_DIR / "methods")}


# --- plan (pure Python, no database) ---------------------------------------------------------------


def test_dilemmamethode_plan_is_ten_steps_on_the_one_dilemma(test_methods):
    method = test_methods["dilemmamethode"]
    plan = expand_steps(method, 1)
    assert [p.position for p in plan] == list(range(10))
    assert [p.step.key for p in plan] == [step.key for step in method.steps]
    assert {p.dilemma_index for p in plan} == {0}
    assert planned_minutes(method, 1) == method.minutes == 90


def test_dilemmaspel_repeats_its_block_per_dilemma(test_methods):
    method = test_methods["dilemmaspel"]
    plan = expand_steps(method, 3)
    block = ["dilemma-lezen", "eigen-keuze", "verdeling-bespreken", "opnieuw-kiezen"]
    assert [p.step.key for p in plan] == ["inleiding", *block * 3, "afsluiting"]
    assert [p.position for p in plan] == list(range(14))
    assert [p.dilemma_index for p in plan] == [None, *[i for i in range(3) for _ in block], None]
    assert planned_minutes(method, 3) == 5 + 3 * (3 + 2 + 10 + 2) + 6 == 62
    assert planned_minutes(method, 2) == method.minutes == 45


# --- create_session ---------------------------------------------------------------------------------


def test_create_session_snapshots_method_and_dilemma(app, ctx, owner, make_session):
    session_id = make_session(owner, title="  Het rapport  ")
    session = load(session_id)
    assert session.status == SessionStatus.LOBBY and session.current_position == 0
    assert session.title == "Het rapport" and session.owner_id == owner
    assert service.method_of(session) == methods_service.get_method("dilemmamethode")
    assert session.dilemmas_snapshot == [
        {
            "slug": "rapport-bijstellen",
            "title": "Het rapport bijstellen",
            "body": bank.get_by_slug("rapport-bijstellen").body,
            "short": "",  # the test bank's case has none; the projector then pages the whole case
            "language": "nl",
            "options": [
                {"key": "A", "text": "Je past de conclusies aan."},
                {"key": "B", "text": "Je legt je bezwaar vast."},
            ],
        }
    ]
    assert "genuanceerder" in session.dilemmas_snapshot[0]["body"]
    assert [(s.position, s.step_key, s.dilemma_index, s.planned_minutes) for s in session.steps][:2] == [
        (0, "inleiding", 0, 5),
        (1, "casus", 0, 10),
    ]
    assert sum(s.planned_minutes for s in session.steps) == 90


def test_an_empty_title_falls_back_to_the_dilemma_title(app, ctx, owner, make_session):
    assert load(make_session(owner, title="   ")).title == "Het rapport bijstellen"


def test_later_changes_to_dilemma_and_method_leave_the_snapshot_alone(app, owner, make_session):
    session_id = make_session(owner)
    with app.app_context():
        dilemma = bank.get_by_slug("rapport-bijstellen")
        data = replace(
            bank.dilemma_data(dilemma),
            title="Een heel andere titel",
            body="Nieuwe tekst over iets anders.\n\n**Mag dat?**",
        )
        assert bank.update_dilemma(dilemma, data, db.session.get(User, owner)) is True
        method = methods_service.get_method("dilemmamethode")
        first = replace(method.steps[0], title=Text(nl="Opening", en="Opening"))
        changed = replace(method, steps=(first, *method.steps[1:]))
        assert methods_service.import_methods([changed])["updated"] == ["dilemmamethode"]
        db.session.commit()
    with app.app_context():
        assert bank.get_by_slug("rapport-bijstellen").title == "Een heel andere titel"
        assert methods_service.get_method("dilemmamethode").steps[0].title.nl == "Opening"
        session = load(session_id)
        assert session.dilemmas_snapshot[0]["title"] == "Het rapport bijstellen"
        assert "genuanceerder" in session.dilemmas_snapshot[0]["body"]
        assert service.method_of(session).steps[0].title.nl == "Inleiding"
        # A session created now takes the new texts.
    newer = make_session(owner)
    with app.app_context():
        assert load(newer).dilemmas_snapshot[0]["title"] == "Een heel andere titel"
        assert service.method_of(load(newer)).steps[0].title.nl == "Opening"


def test_polls_are_created_per_poll_step_with_random_ids(app, ctx, owner, make_session):
    first, second = load(make_session(owner)), load(make_session(owner))
    assert [(p.position, p.key, p.type, p.dilemma_index) for p in first.polls] == [
        (3, "moreel-dilemma", "choice", 0),
        (4, "waarden-en-normen", "ranking", 0),
        (6, "eigen-afweging", "choice", 0),
        (8, "conclusie", "choice", 0),
    ]
    ids = [p.id for p in first.polls + second.polls]
    assert len(set(ids)) == 8
    assert all(len(poll_id) >= 16 and re.fullmatch(r"[A-Za-z0-9_-]+", poll_id) for poll_id in ids)
    assert all(p.status == PollStatus.PENDING and not p.revealed for p in first.polls)
    assert len(poll_at(first, 4).options) == 8  # the method's own ranking options
    # compare_with points at the poll of the same session, not of another one.
    assert poll_at(first, 8).compare_with_id == poll_at(first, 3).id
    assert poll_at(second, 8).compare_with_id == poll_at(second, 3).id
    assert [poll_at(first, p).compare_with_id for p in (3, 4, 6)] == [None, None, None]


def test_compare_with_resolves_to_the_poll_of_the_same_dilemma(app, ctx, owner, make_session):
    session = load(make_session(owner, "dilemmaspel", TWO_DILEMMAS))
    assert len(session.steps) == 10
    by_key = {(p.key, p.dilemma_index): p for p in session.polls}
    assert sorted(by_key) == [
        ("eigen-keuze", 0),
        ("eigen-keuze", 1),
        ("opnieuw-kiezen", 0),
        ("opnieuw-kiezen", 1),
    ]
    for index in (0, 1):
        assert by_key[("opnieuw-kiezen", index)].compare_with_id == by_key[("eigen-keuze", index)].id
        assert by_key[("eigen-keuze", index)].compare_with_id is None


def test_join_code_and_projector_token(app, ctx, owner, make_session):
    sessions = [load(make_session(owner)) for _ in range(3)]
    assert not set("0O1IL") & set(service.JOIN_CODE_ALPHABET)
    for session in sessions:
        assert len(session.join_code) == 8 and set(session.join_code) <= set(service.JOIN_CODE_ALPHABET)
        assert len(session.projector_token) >= 32
        assert len(session.secret) == 64
    assert len({s.join_code for s in sessions}) == 3
    assert len({s.projector_token for s in sessions}) == 3
    assert service.get_by_join_code(sessions[0].join_code.lower()).id == sessions[0].id


def test_join_code_is_drawn_again_when_taken(app, owner, make_session, monkeypatch):
    first = make_session(owner)
    with app.app_context():
        taken = load(first).join_code
    codes = iter([taken, taken, "ABCDEFGH"])
    monkeypatch.setattr(service, "new_join_code", lambda: next(codes))
    second = make_session(owner)
    with app.app_context():
        assert load(second).join_code == "ABCDEFGH"


@pytest.mark.parametrize(
    ("method_key", "slugs", "changes", "message"),
    [
        ("dilemmamethode", ("concept-neutraliteit",), {}, "published"),
        ("dilemmamethode", TWO_DILEMMAS, {}, "1–1"),
        ("dilemmaspel", ("rapport-bijstellen",), {}, "2–6"),
        ("dilemmamethode", ("rapport-bijstellen",), {"k": 1}, "k"),
        ("dilemmaspel", ("rapport-bijstellen", "rapport-bijstellen"), {}, "twice"),
        ("dilemmamethode", ("rapport-bijstellen",), {"language": "de"}, "language"),
    ],
)
def test_create_session_refuses(app, ctx, owner, make_session, method_key, slugs, changes, message):
    with pytest.raises(service.SessionError, match=message):
        make_session(owner, method_key, slugs, **changes)
    assert session_count() == 0


# --- lifecycle --------------------------------------------------------------------------------------


def test_start_then_start_again_is_an_error(app, ctx, owner, make_session):
    session = load(make_session(owner))
    version = session.version
    service.start_session(session, now=T0)
    assert session.status == SessionStatus.RUNNING and session.started_at == T0
    assert session.version > version
    with pytest.raises(service.SessionError, match="already started") as raised:
        service.start_session(session, now=at(5))
    assert not isinstance(raised.value, service.SessionClosedError)
    assert session.started_at == T0


def test_close_stops_timers_closes_open_polls_and_deletes_the_secret(app, ctx, owner, make_session):
    session = load(make_session(owner))
    service.start_session(session, now=T0)
    service.go_to_step(session, 3, now=at(60))
    poll = poll_at(session, 3)
    service.open_poll(session, poll)
    token = vote.new_token()
    member = vote.join(session, token)
    assert vote.submit_answer(session.join_code, poll.id, member, {"choice": "B"}) == "created"
    db.session.commit()
    version = session.version
    service.close_session(session, now=at(100))
    db.session.commit()
    db.session.expire_all()
    session = load(session.id)
    assert session.status == SessionStatus.CLOSED and session.closed_at == at(100)
    assert session.secret is None
    assert session.version > version
    assert all(step.timer_started_at is None for step in session.steps)
    assert [s.elapsed_seconds for s in session.steps[:4]] == [60, 0, 0, 40]
    assert poll_at(session, 3).status == PollStatus.CLOSED
    assert [(a.value, a.voter_key) for a in db.session.scalars(select(Answer))] == [({"choice": "B"}, None)]
    with pytest.raises(vote.VoteError):
        vote.submit_answer(session.join_code, poll.id, member, {"choice": "A"})


def test_a_closed_session_refuses_every_change(app, ctx, owner, make_session):
    session = load(make_session(owner))
    service.start_session(session, now=T0)
    point = service.add_action_point(session, "Beleid navragen", "teamleider", None)
    service.open_poll(session, poll_at(session, 3))
    service.close_poll(session, poll_at(session, 3))
    service.close_session(session, now=at(10))
    db.session.commit()
    changes = {
        "start": lambda: service.start_session(session, now=at(20)),
        "close": lambda: service.close_session(session, now=at(20)),
        "go_to_step": lambda: service.go_to_step(session, 2, now=at(20)),
        "move": lambda: service.move(session, 1, now=at(20)),
        "notes": lambda: service.save_notes(session, 0, "te laat"),
        "timer start": lambda: service.control_timer(session, "start", now=at(20)),
        "timer add": lambda: service.control_timer(session, "add", 5, now=at(20)),
        "add action": lambda: service.add_action_point(session, "Nog iets", "", None),
        "delete action": lambda: service.delete_action_point(session, point.id),
        "open poll": lambda: service.open_poll(session, poll_at(session, 6)),
        "reveal": lambda: service.set_revealed(session, poll_at(session, 3), True),
        "alternative": lambda: service.add_alternative(session, 0, "Iets anders"),
    }
    version = session.version
    for name, change in changes.items():
        with pytest.raises(service.SessionClosedError):
            change()
        assert session.version == version, name
    assert session.current_position == 0 and session.steps[0].notes == ""
    assert len(session.action_points) == 1 and poll_at(session, 6).status == PollStatus.PENDING
    assert not poll_at(session, 3).revealed


def test_closing_a_poll_of_a_closed_session_is_refused_as_closed(app, ctx, owner, make_session):
    session = load(make_session(owner))
    service.close_session(session, now=T0)
    with pytest.raises(service.SessionClosedError):
        service.close_poll(session, poll_at(session, 3))


# --- steps and timer ----------------------------------------------------------------------------------


def test_start_starts_the_first_step_timer(app, ctx, owner, make_session):
    session = load(make_session(owner))
    assert service.timer_state(session.steps[0], at(30)) == service.TimerState(0, 300, False)
    service.start_session(session, now=T0)
    assert session.steps[0].timer_started_at == T0
    assert service.timer_state(session.steps[0], at(30)) == service.TimerState(30, 300, True)
    assert all(step.timer_started_at is None for step in session.steps[1:])


def test_moving_pauses_the_old_step_and_starts_the_new_one(app, ctx, owner, make_session):
    session = load(make_session(owner))
    service.start_session(session, now=T0)
    service.move(session, 1, now=at(60))
    db.session.commit()
    db.session.expire_all()
    session = load(session.id)
    first, second = session.steps[0], session.steps[1]
    assert session.current_position == 1
    assert (first.elapsed_seconds, first.timer_started_at) == (60, None)
    assert second.timer_started_at == at(60)
    service.move(session, -1, now=at(100))
    assert session.current_position == 0
    assert (second.elapsed_seconds, second.timer_started_at) == (40, None)
    # Elapsed time accumulates over both visits.
    assert service.timer_state(first, at(130)) == service.TimerState(90, 300, True)
    service.go_to_step(session, 5, now=at(200))
    assert first.elapsed_seconds == 160 and session.steps[5].timer_started_at == at(200)
    totals = service.totals(session, at(230))
    assert totals == service.TimerState(160 + 40 + 30, 90 * 60, True)


def test_pause_and_start_the_timer(app, ctx, owner, make_session):
    session = load(make_session(owner))
    service.start_session(session, now=T0)
    step = session.steps[0]
    service.control_timer(session, "pause", now=at(50))
    assert service.timer_state(step, at(500)) == service.TimerState(50, 300, False)
    service.control_timer(session, "pause", now=at(60))  # pausing twice changes nothing
    assert step.elapsed_seconds == 50
    service.control_timer(session, "start", now=at(600))
    service.control_timer(session, "start", now=at(700))  # already running: keeps its start
    assert service.timer_state(step, at(610)) == service.TimerState(60, 300, True)
    with pytest.raises(service.SessionError, match="unknown"):
        service.control_timer(session, "rewind", now=at(620))


def test_timer_controls_need_a_running_session(app, ctx, owner, make_session):
    session = load(make_session(owner))
    with pytest.raises(service.SessionError, match="start the session"):
        service.control_timer(session, "start", now=T0)
    assert session.steps[0].timer_started_at is None


def test_add_minutes_within_limits_and_overrun(app, ctx, owner, make_session):
    session = load(make_session(owner))
    service.start_session(session, now=T0)
    step = session.steps[0]
    assert service.timer_state(step, at(360)).overrun_seconds == 60
    version = session.version
    service.control_timer(session, "add", 1, now=at(360))
    assert session.version > version
    state = service.timer_state(step, at(360))
    assert (state.planned_seconds, state.overrun_seconds) == (360, 0)
    for minutes in (0, -5, 61):
        with pytest.raises(service.SessionError):
            service.control_timer(session, "add", minutes, now=at(360))
    service.control_timer(session, "add", 60, now=at(360))
    service.control_timer(session, "add", 59, now=at(360))
    assert step.extra_minutes == 120
    with pytest.raises(service.SessionError):
        service.control_timer(session, "add", 1, now=at(360))
    assert step.extra_minutes == 120
    assert service.timer_state(step, at(360)).planned_seconds == (5 + 120) * 60
    assert service.timer_state(step, at(125 * 60 + 1)).overrun_seconds == 1
    assert service.totals(session, at(360)).planned_seconds == 90 * 60  # the plan itself


def test_moving_at_either_end_stays_put(app, ctx, owner, make_session):
    session = load(make_session(owner))
    service.start_session(session, now=T0)
    version = session.version
    service.move(session, -1, now=at(10))
    assert session.current_position == 0 and session.version == version
    assert session.steps[0].timer_started_at == T0
    service.go_to_step(session, 9, now=at(20))
    service.move(session, 1, now=at(30))
    assert session.current_position == 9 and session.steps[9].timer_started_at == at(20)
    for position in (-1, 10):
        with pytest.raises(service.SessionError, match="no such step"):
            service.go_to_step(session, position, now=at(40))


def test_moving_in_the_lobby_runs_no_timer(app, ctx, owner, make_session):
    session = load(make_session(owner))
    service.go_to_step(session, 2, now=T0)
    assert session.current_position == 2
    assert all(step.timer_started_at is None for step in session.steps)


# --- notes and action points --------------------------------------------------------------------


def test_notes_are_saved_per_step_up_to_the_limit(app, ctx, owner, make_session):
    session = load(make_session(owner))
    service.save_notes(session, 1, "Casus: het rapport.\x00")
    service.save_notes(session, 2, "Vragen")
    db.session.commit()
    db.session.expire_all()
    session = load(session.id)
    assert [s.notes for s in session.steps[:3]] == ["", "Casus: het rapport.", "Vragen"]
    service.save_notes(session, 1, "x" * service.MAX_NOTES_CHARS)
    with pytest.raises(service.SessionError, match="200000"):
        service.save_notes(session, 1, "x" * (service.MAX_NOTES_CHARS + 1))
    assert len(session.steps[1].notes) == service.MAX_NOTES_CHARS
    with pytest.raises(service.SessionError):
        service.save_notes(session, 10, "geen stap")


def test_saving_notes_does_not_make_phones_refetch(app, ctx, owner, make_session):
    # Notes are for the facilitator only: an autosave must not bump the version every phone polls.
    session = load(make_session(owner))
    version = session.version
    service.save_notes(session, 0, "Afspraken over vertrouwelijkheid")
    assert session.steps[0].notes == "Afspraken over vertrouwelijkheid"
    assert session.version == version


def test_action_points_add_and_delete(app, ctx, owner, make_session):
    session = load(make_session(owner))
    versions = [session.version]
    first = service.add_action_point(session, "  Bezwaar vastleggen  ", " teamleider ", date(2030, 6, 1))
    versions.append(session.version)
    second = service.add_action_point(session, "Protocol navragen", "", None)
    versions.append(session.version)
    with pytest.raises(service.SessionError, match="what"):
        service.add_action_point(session, "   ", "teamleider", None)
    db.session.commit()
    db.session.expire_all()
    session = load(session.id)
    assert [(p.what, p.who, p.due) for p in session.action_points] == [
        ("Bezwaar vastleggen", "teamleider", date(2030, 6, 1)),
        ("Protocol navragen", "", None),
    ]
    service.delete_action_point(session, first.id)
    versions.append(session.version)
    with pytest.raises(service.SessionError, match="no such"):
        service.delete_action_point(session, first.id)
    db.session.commit()
    assert [p.id for p in load(session.id).action_points] == [second.id]
    assert db.session.scalar(select(func.count()).select_from(ActionPoint)) == 1
    assert versions == sorted(set(versions))  # strictly increasing


# --- polls ----------------------------------------------------------------------------------------


def test_opening_a_poll_needs_a_running_session(app, ctx, owner, make_session):
    session = load(make_session(owner))
    with pytest.raises(service.SessionError, match="start the session"):
        service.open_poll(session, poll_at(session, 3))
    assert poll_at(session, 3).status == PollStatus.PENDING


def test_opening_a_poll_closes_the_open_one(app, ctx, owner, make_session):
    session = load(make_session(owner))
    service.start_session(session, now=T0)
    first, second = poll_at(session, 3), poll_at(session, 4)
    version = session.version
    service.open_poll(session, first)
    assert first.status == PollStatus.OPEN and session.version > version
    service.open_poll(session, second)
    assert (first.status, second.status) == (PollStatus.CLOSED, PollStatus.OPEN)
    with pytest.raises(service.SessionError, match="closed"):
        service.open_poll(session, first)
    with pytest.raises(service.SessionError, match="not open"):
        service.close_poll(session, first)


def test_dilemma_options_and_alternatives_are_fixed_when_a_poll_opens(app, ctx, owner, make_session):
    session = load(make_session(owner))
    service.start_session(session, now=T0)
    before, later, last = poll_at(session, 3), poll_at(session, 6), poll_at(session, 8)
    assert option_keys(service.poll_options(session, before)) == ["A", "B"]
    assert service.add_alternative(session, 0, "  Eerst overleggen met collega's ") == "C"
    for poll in (before, later, last):
        assert option_keys(service.poll_options(session, poll)) == ["A", "B", "C"]
    assert len(poll_at(session, 4).options) == 8  # the ranking poll is not from the dilemma
    service.open_poll(session, before)
    db.session.commit()
    db.session.expire_all()
    session = load(session.id)
    before, later = poll_at(session, 3), poll_at(session, 6)
    assert before.options == [
        {"key": "A", "text": {"nl": "Je past de conclusies aan.", "en": "Je past de conclusies aan."}},
        {"key": "B", "text": {"nl": "Je legt je bezwaar vast.", "en": "Je legt je bezwaar vast."}},
        {
            "key": "C",
            "text": {"nl": "Eerst overleggen met collega's", "en": "Eerst overleggen met collega's"},
        },
    ]
    assert service.add_alternative(session, 0, "Melden bij de integriteitscoördinator") == "D"
    assert option_keys(service.poll_options(session, before)) == ["A", "B", "C"]
    assert option_keys(service.poll_options(session, later)) == ["A", "B", "C", "D"]


def test_alternatives_stop_at_eight_options(app, ctx, owner, make_session):
    session = load(make_session(owner))
    keys = [service.add_alternative(session, 0, f"Alternatief {n}") for n in range(6)]
    assert keys == list("CDEFGH")
    version = session.version
    with pytest.raises(service.SessionError, match="8"):
        service.add_alternative(session, 0, "Nog een")
    assert session.version == version
    assert option_keys(service.poll_options(session, poll_at(session, 8))) == list("ABCDEFGH")
    for text in ("", "   ", "x" * 301):
        with pytest.raises(service.SessionError):
            service.add_alternative(session, 0, text)


def test_alternatives_need_a_pending_choice_poll_on_that_dilemma(app, ctx, owner, make_session):
    session = load(make_session(owner, "dilemmaspel", TWO_DILEMMAS))
    service.start_session(session, now=T0)
    with pytest.raises(service.SessionError, match="no later choice poll"):
        service.add_alternative(session, None, "Voor de hele sessie")
    assert service.add_alternative(session, 1, "Terugsturen") == "A"  # this dilemma has no options
    for poll in session.polls:
        if poll.dilemma_index == 0:
            service.open_poll(session, poll)
    service.close_poll(session, next(p for p in session.polls if p.status == PollStatus.OPEN))
    with pytest.raises(service.SessionError, match="no later choice poll"):
        service.add_alternative(session, 0, "Te laat")
    assert all(option_keys(p.options) == ["A", "B"] for p in session.polls if p.dilemma_index == 0)
    assert all(option_keys(p.options) == ["A"] for p in session.polls if p.dilemma_index == 1)


def test_closing_a_poll_wipes_the_voter_keys(app, ctx, owner, make_session):
    session = load(make_session(owner))
    service.start_session(session, now=T0)
    poll = poll_at(session, 3)
    service.open_poll(session, poll)
    tokens = [vote.new_token() for _ in range(2)]
    for token, choice in zip(tokens, "AB", strict=True):
        vote.submit_answer(session.join_code, poll.id, vote.join(session, token), {"choice": choice})
    db.session.commit()
    assert all(key is not None for key in db.session.scalars(select(Answer.voter_key)))
    service.close_poll(session, poll)
    db.session.commit()
    db.session.expire_all()
    rows = sorted((a.value["choice"], a.voter_key) for a in db.session.scalars(select(Answer)))
    assert rows == [("A", None), ("B", None)]
    assert load(session.id).secret is not None  # only the session's close deletes the secret


def test_results_can_be_revealed_only_after_opening(app, ctx, owner, make_session):
    session = load(make_session(owner))
    service.start_session(session, now=T0)
    poll = poll_at(session, 3)
    with pytest.raises(service.SessionError, match="not been opened"):
        service.set_revealed(session, poll, True)
    assert not poll.revealed
    service.open_poll(session, poll)
    service.close_poll(session, poll)
    version = session.version
    service.set_revealed(session, poll, True)
    assert poll.revealed and session.version > version
    service.set_revealed(session, poll, False)
    assert not poll.revealed


# --- views: creating a session ---------------------------------------------------------------------


@pytest.fixture
def english(client):
    """Interface messages in English, whatever the translation catalogue holds."""
    client.set_cookie("beraad_lang", "en")
    return client


def new_session_form(**changes) -> dict:
    """The form as a browser posts it: all six dilemma selects, unused ones empty."""
    data = {"method": "dilemmamethode", "language": "nl", "k": "3", "title": "Beraad over het rapport",
            **{f"dilemmas-{n}": "" for n in range(6)}, "dilemmas-0": "rapport-bijstellen"}  # fmt: skip
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_new_session_page_lists_methods_with_durations_and_published_dilemmas(
    app, client, english, auth, content
):
    auth.login("anna", role="facilitator")
    page = client.get("/sessions/new").get_data(as_text=True)
    assert "Dilemma method · 90 min" in page and "Dilemma game · 45 min" in page
    assert "2 dilemmas: 45 min" in page and "3 dilemmas: 62 min" in page and "6 dilemmas: 113 min" in page
    assert "Het rapport bijstellen" in page and "Een kerstpakket van de leverancier" in page
    assert "Een mening op sociale media" not in page  # a draft


def test_new_session_is_created_and_opens_the_facilitator_screen(app, client, english, auth, content):
    auth.login("anna", role="facilitator")
    response = client.post("/sessions/new", data=new_session_form(k="4", language="en"))
    assert response.status_code == 302
    with app.app_context():
        session = db.session.scalars(select(DeliberationSession)).one()
        assert response.location.endswith(f"/sessions/{session.id}")
        assert (session.title, session.k, session.language, session.method_key) == (
            "Beraad over het rapport", 4, "en", "dilemmamethode",
        )  # fmt: skip
        assert session.owner.username == "anna"
    assert client.get(response.location).status_code == 200


def test_new_dilemma_game_takes_the_dilemmas_in_order(app, client, english, auth, content):
    auth.login("anna", role="facilitator")
    form = new_session_form(
        method="dilemmaspel", **{"dilemmas-0": "geschenk-leverancier", "dilemmas-2": "rapport-bijstellen"}
    )
    assert client.post("/sessions/new", data=form).status_code == 302
    with app.app_context():
        session = db.session.scalars(select(DeliberationSession)).one()
        assert [d["slug"] for d in session.dilemmas_snapshot] == [
            "geschenk-leverancier",
            "rapport-bijstellen",
        ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dilemmas-0": ""}, "Choose at least one published dilemma."),
        ({"dilemmas-0": "concept-neutraliteit"}, "Choose at least one published dilemma."),
        ({"method": "bestaat-niet"}, "Not a valid choice"),
        ({"k": "1"}, "Number must be between 2 and 50"),
        ({"method": "dilemmaspel"}, "The session was not created: this method needs 2–6 dilemma(s)"),
    ],
)
def test_new_session_with_bad_input_explains_and_creates_nothing(
    app, client, english, auth, content, changes, message
):
    auth.login("anna", role="facilitator")
    response = client.post("/sessions/new", data=new_session_form(**changes))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert session_count() == 0


# --- views: the facilitator screen and its controls -----------------------------------------------


def test_facilitator_screen_shows_steps_guidance_timer_poll_notes_and_actions(
    app, client, english, auth, make_session
):
    auth.login("anna", role="facilitator")
    with app.app_context():
        owner_id = db.session.scalar(select(User.id).where(User.username == "anna"))
    session_id = make_session(owner_id)
    with app.app_context():
        session = load(session_id)
        service.start_session(session)
        service.go_to_step(session, 3)
        service.add_action_point(session, "Bezwaar vastleggen", "onderzoeker", date(2030, 6, 1))
        service.save_notes(session, 3, "Kernvraag: mag ik aanpassen?")
        db.session.commit()
        poll_id, join_code = poll_at(session, 3).id, session.join_code
    page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    for title in ("Inleiding", "De casus", "Morele vraag en dilemma", "Evaluatie"):
        assert title in page  # the step list, in the session's language
    assert 'aria-current="step"' in page and "Step 4 of 10" in page
    assert "We maken het dilemma scherp" in page  # the prompt
    assert "Formuleer de vraag samen met de casusinbrenger" in page  # the guidance
    assert "Time for this step" in page and "/timer" in page and "Pause" in page
    assert f"/polls/{poll_id}/open" in page and "Naar welke kant neig je nu?" in page
    assert "Je legt je bezwaar vast." in page and "/alternatives" in page
    assert f"/sessions/{session_id}/steps/3/notes" in page and "Kernvraag: mag ik aanpassen?" in page
    assert (
        "Bezwaar vastleggen" in page and "onderzoeker" in page and f"/sessions/{session_id}/actions" in page
    )
    assert join_code in page


@pytest.fixture
def facilitated(app, client, english, auth, make_session):
    """Sign in as anna and return the id of her (lobby) session."""
    auth.login("anna", role="facilitator")
    with app.app_context():
        owner_id = db.session.scalar(select(User.id).where(User.username == "anna"))
    return make_session(owner_id)


def follow_flash(client, response) -> str:
    assert response.status_code == 302
    return client.get(response.location).get_data(as_text=True)


def test_control_posts_change_the_session_and_redirect_back(app, client, facilitated):
    base = f"/sessions/{facilitated}"

    def post(path: str, **data):
        response = client.post(base + path, data=data)
        assert response.status_code == 302, path
        assert response.location.split("#")[0].endswith(base), path
        return response

    def state() -> DeliberationSession:
        db.session.expire_all()
        return load(facilitated)

    with app.app_context():
        polls = {p.position: p.id for p in load(facilitated).polls}
        version = state().version
        post("/start")
        assert state().status == SessionStatus.RUNNING and state().steps[0].timer_started_at is not None
        post("/step", direction="next")
        assert state().current_position == 1
        post("/step", position="3")
        assert state().current_position == 3
        post("/step", direction="previous")
        assert state().current_position == 2
        post("/timer", action="pause")
        assert state().steps[2].timer_started_at is None
        post("/timer", action="start")
        assert state().steps[2].timer_started_at is not None
        assert post("/timer", action="add", minutes="5").location.endswith("#timer")
        assert state().steps[2].extra_minutes == 5
        assert post("/steps/2/notes", notes="Wat wist je toen?").location.endswith("#notes")
        assert state().steps[2].notes == "Wat wist je toen?"
        assert post("/actions", what="Bezwaar vastleggen", who="onderzoeker", due="2030-06-01")
        [point] = state().action_points
        assert (point.what, point.who, point.due) == ("Bezwaar vastleggen", "onderzoeker", date(2030, 6, 1))
        post("/step", position="0")  # the alternative goes to the current step's dilemma
        assert post("/alternatives", text="Eerst overleggen").location.endswith("#poll")
        assert option_keys(service.poll_options(state(), poll_at(state(), 3))) == ["A", "B", "C"]
        post(f"/polls/{polls[3]}/open")
        assert poll_at(state(), 3).status == PollStatus.OPEN
        assert option_keys(poll_at(state(), 3).options) == ["A", "B", "C"]
        post(f"/polls/{polls[3]}/close")
        assert poll_at(state(), 3).status == PollStatus.CLOSED
        post(f"/polls/{polls[3]}/reveal")
        assert poll_at(state(), 3).revealed
        post(f"/polls/{polls[3]}/hide")
        assert not poll_at(state(), 3).revealed
        post(f"/actions/{point.id}/delete")
        assert state().action_points == []
        post("/close")
        assert state().status == SessionStatus.CLOSED
        assert state().version > version
        assert client.post(base + "/polls/unknown-poll/open").status_code == 404


def test_control_messages_for_bad_input(app, client, facilitated):
    base = f"/sessions/{facilitated}"
    page = follow_flash(client, client.post(base + "/actions", data={"what": "Iets", "due": "31-02-2030"}))
    assert "the date must be a valid date" in page
    page = follow_flash(client, client.post(base + "/actions", data={"what": "", "who": "teamleider"}))
    assert "An action point needs a description" in page
    page = follow_flash(client, client.post(base + "/alternatives", data={"text": ""}))
    assert "Describe the new option in at most 300 characters." in page
    page = follow_flash(client, client.post(base + "/timer", data={"action": "start"}))
    assert "start the session first" in page
    with app.app_context():
        session = load(facilitated)
        assert session.action_points == [] and session.steps[0].timer_started_at is None


def test_notes_answer_json_when_asked(app, client, facilitated):
    url = f"/sessions/{facilitated}/steps/1/notes"
    response = client.post(url, data={"notes": "Opgeslagen via fetch"}, headers=JSON)
    assert response.status_code == 200 and response.get_json() == {"ok": True}
    too_long = client.post(url, data={"notes": "x" * 200_001}, headers=JSON)
    assert too_long.status_code == 422 and too_long.get_json()["error"]["code"] == "invalid"
    no_step = client.post(f"/sessions/{facilitated}/steps/99/notes", data={"notes": "x"}, headers=JSON)
    assert no_step.status_code == 409
    with app.app_context():
        assert load(facilitated).steps[1].notes == "Opgeslagen via fetch"


def test_wrong_state_actions_answer_409_json(app, client, facilitated):
    base = f"/sessions/{facilitated}"
    with app.app_context():
        poll_id = poll_at(load(facilitated), 3).id
    response = client.post(base + f"/polls/{poll_id}/open", headers=JSON)
    assert response.status_code == 409
    assert response.get_json()["error"] == {"code": "conflict", "message": "start the session first"}
    started = client.post(base + "/start", headers=JSON)
    assert started.status_code == 200 and started.get_json()["ok"] is True
    again = client.post(base + "/start", headers=JSON)
    assert again.status_code == 409 and "already started" in again.get_json()["error"]["message"]
    assert client.post(base + "/step", data={"position": "42"}, headers=JSON).status_code == 409
    assert (
        client.post(base + "/timer", data={"action": "add", "minutes": "61"}, headers=JSON).status_code == 409
    )
    assert client.post(base + "/close", headers=JSON).status_code == 200
    closed = client.post(base + "/steps/0/notes", data={"notes": "te laat"}, headers=JSON)
    assert closed.status_code == 409 and "closed" in closed.get_json()["error"]["message"]
    with app.app_context():
        assert load(facilitated).steps[0].notes == ""


def control_requests(session_id: int, poll_id: str, point_id: int) -> list[tuple[str, str, dict]]:
    base = f"/sessions/{session_id}"
    return [
        ("get", base, {}),
        ("get", base + "/state", {}),
        ("post", base + "/start", {}),
        ("post", base + "/close", {}),
        ("post", base + "/step", {"direction": "next"}),
        ("post", base + "/step", {"position": "2"}),
        ("post", base + "/timer", {"action": "pause"}),
        ("post", base + "/steps/0/notes", {"notes": "overgenomen"}),
        ("post", base + "/actions", {"what": "Iets"}),
        ("post", base + f"/actions/{point_id}/delete", {}),
        ("post", base + f"/polls/{poll_id}/open", {}),
        ("post", base + f"/polls/{poll_id}/close", {}),
        ("post", base + f"/polls/{poll_id}/reveal", {}),
        ("post", base + "/alternatives", {"text": "Iets anders"}),
        ("post", base + "/contributions/some-id/released", {}),
        ("post", base + "/contributions/show", {}),
        ("post", base + "/consent", {"consent": "full"}),
        ("post", base + "/evaluation/open", {}),
    ]


@pytest.fixture
def two_sessions(app, create_user, make_session):
    """Sessions of anna and of bram, each with an action point; return (anna's, bram's) ids."""
    ids = []
    for name in ("anna", "bram"):
        ids.append(make_session(create_user(name), title=f"Sessie van {name}"))
    with app.app_context():
        for session_id in ids:
            service.add_action_point(load(session_id), "Bestaand punt", "", None)
        db.session.commit()
    return ids


def snapshot(session_id: int) -> tuple:
    db.session.expire_all()
    session = load(session_id)
    return (
        session.status,
        session.current_position,
        session.version,
        session.steps[0].notes,
        [p.id for p in session.action_points],
        [(p.status, p.options) for p in session.polls],
    )


@pytest.mark.parametrize("role", ["facilitator", "coordinator"])
def test_others_get_403_on_every_control_url(app, client, auth, two_sessions, role):
    annas, _ = two_sessions
    auth.login("carla", role=role)
    with app.app_context():
        session = load(annas)
        requests = control_requests(annas, session.polls[0].id, session.action_points[0].id)
        before = snapshot(annas)
    for method, url, data in requests:
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 403, (method, url)
    with app.app_context():
        assert snapshot(annas) == before


def test_session_list_shows_own_sessions_to_facilitators_and_all_to_coordinators(
    app, client, auth, two_sessions
):
    annas, bram = two_sessions
    auth.login("anna")
    page = client.get("/sessions/").get_data(as_text=True)
    assert "Sessie van anna" in page and "Sessie van bram" not in page
    assert f"/sessions/{annas}" in page
    auth.logout()
    auth.login("cora", role="coordinator")
    page = client.get("/sessions/").get_data(as_text=True)
    assert "Sessie van anna" in page and "Sessie van bram" in page
    assert f'href="/sessions/{annas}"' not in page and f'href="/sessions/{bram}"' not in page
    assert client.get(f"/sessions/{bram}").status_code == 403


def test_an_administrator_may_control_any_session(app, client, auth, two_sessions):
    annas, _ = two_sessions
    auth.login("beheer", role="admin")
    assert client.get(f"/sessions/{annas}").status_code == 200
    assert f'href="/sessions/{annas}"' in client.get("/sessions/").get_data(as_text=True)
    assert client.post(f"/sessions/{annas}/start").status_code == 302
    assert client.post(f"/sessions/{annas}/step", data={"direction": "next"}).status_code == 302
    assert client.get(f"/sessions/{annas}/state").get_json()["step"]["position"] == 1
    with app.app_context():
        assert load(annas).status == SessionStatus.RUNNING


def test_anonymous_visitors_are_sent_to_the_login_page(app, client, two_sessions):
    annas, _ = two_sessions
    with app.app_context():
        session = load(annas)
        requests = control_requests(annas, session.polls[0].id, session.action_points[0].id)
        before = snapshot(annas)
    requests += [("get", "/sessions/", {}), ("get", "/sessions/new", {}), ("post", "/sessions/new", {})]
    for method, url, data in requests:
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 302, (method, url)
        assert "/login" in response.location, (method, url)
    with app.app_context():
        assert snapshot(annas) == before


# --- projector --------------------------------------------------------------------------------------


@pytest.fixture
def projected(app, owner, make_session) -> dict:
    session_id = make_session(owner)
    with app.app_context():
        session = load(session_id)
        return {"id": session_id, "token": session.projector_token, "code": session.join_code}


def test_projector_needs_no_login_and_shows_how_to_join(app, client, projected):
    response = client.get(f"/p/{projected['token']}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert projected["code"] in page
    assert "<svg" in page and "qr-code" in page
    assert f"http://localhost/j/{projected['code']}" in page
    assert client.get(f"/j/{projected['code']}").status_code == 200  # the printed URL works


def test_the_join_link_uses_the_base_url_phones_reach(app, client, auth, projected):
    from beraad.qr import qr_svg

    auth.login("beheer", role="admin")
    lobby = client.get(f"/sessions/{projected['id']}").get_data(as_text=True)
    assert "Telefoons kunnen de deelnamelink http://localhost/j/" in lobby  # loopback: said in the lobby
    app.config["BERAAD_BASE_URL"] = "https://beraad.example.nl"
    lobby = client.get(f"/sessions/{projected['id']}").get_data(as_text=True)
    assert "Telefoons kunnen de deelnamelink" not in lobby
    projector = client.get(f"/p/{projected['token']}").get_data(as_text=True)
    join = f"https://beraad.example.nl/j/{projected['code']}"
    assert join in projector and str(qr_svg(join, title="x")).split("<path", 1)[1][:200] in projector
    api_view = client.get(f"/api/v1/sessions/{projected['id']}").get_json()
    assert api_view["join_url"] == join
    assert api_view["projector_url"] == f"https://beraad.example.nl/p/{projected['token']}"


def test_projector_with_a_wrong_token_is_404_and_refuses_posts(app, client, projected):
    assert client.get("/p/not-the-token").status_code == 404
    assert client.get("/p/" + "x" * 80).status_code == 404
    assert client.get("/p/not-the-token/state").status_code == 404
    assert client.get("/p/not-the-token/stage").status_code == 404
    assert client.post(f"/p/{projected['token']}").status_code == 405


def test_projector_state_has_an_etag_that_changes_with_the_step(app, client, projected):
    url = f"/p/{projected['token']}/state"
    first = client.get(url)
    assert first.status_code == 200 and first.headers["ETag"].startswith('"')
    assert first.headers["Cache-Control"] == "no-cache"
    assert first.get_json()["status"] == "lobby" and first.get_json()["step"]["position"] == 0
    with app.app_context():
        session = load(projected["id"])
        service.start_session(session)
        service.go_to_step(session, 2)
        db.session.commit()
    second = client.get(url)
    assert second.headers["ETag"] != first.headers["ETag"]
    state = second.get_json()
    assert state["status"] == "running" and state["step"] == {
        "position": 2, "count": 10, "title": "Verhelderende vragen",
    }  # fmt: skip
    assert state["timer"]["running"] is True and state["timer"]["planned"] == 12 * 60


def test_projector_state_answers_304_when_nothing_changed(app, client, projected):
    url = f"/p/{projected['token']}/state"
    etag = client.get(url).headers["ETag"]
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag


def test_projector_stage_shows_the_current_step(app, client, projected):
    with app.app_context():
        session = load(projected["id"])
        service.start_session(session)
        db.session.commit()
    url = f"/p/{projected['token']}/stage"
    assert "Inleiding" in client.get(url).get_data(as_text=True)
    with app.app_context():
        service.move(load(projected["id"]), 1)
        db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "De casus" in page and "Inleiding" not in page


def test_projector_speaks_the_session_language_not_the_browser_one(app, client, projected):
    page = client.get(f"/p/{projected['token']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="nl">' in page
    assert "Welkom" in page and "Welcome" not in page


# --- method pages ---------------------------------------------------------------------------------


def test_method_pages(app, client, auth, content):
    client.set_cookie("beraad_lang", "nl")
    auth.login("anna", role="facilitator")
    page = client.get("/methods/").get_data(as_text=True)
    assert "Dilemmamethode" in page and "90 min" in page
    assert "Dilemmaspel" in page and "45 min" in page
    detail = client.get("/methods/dilemmamethode").get_data(as_text=True)
    positions = [
        detail.index(title) for title in ("Inleiding", "Verhelderende vragen", "Dialoog", "Evaluatie")
    ]
    assert positions == sorted(positions)
    assert "Naar welke kant neig je nu?" in detail
    assert client.get("/methods/bestaat-niet").status_code == 404


# --- CLI --------------------------------------------------------------------------------------------


def test_methods_check_reports_each_method(app, runner):
    for args in (["methods", "check", str(DATA_DIR / "methods")], ["methods", "check"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
        assert "ok  dilemmamethode: 10 steps, 90 min, 4 polls, 9 evaluation items" in result.output
        assert "ok  dilemmaspel: 6 steps, 2-6 dilemmas, 45 min, 2 polls, 9 evaluation items" in result.output
        assert "2 method(s) valid." in result.output


def test_methods_check_names_the_broken_file(app, runner, tmp_path):
    folder = tmp_path / "methods"
    shutil.copytree(DATA_DIR / "methods", folder)
    broken = folder / "dilemmaspel.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("minutes: 45", "minutes: 50"), "utf-8")
    result = runner.invoke(args=["methods", "check", str(folder)])
    assert result.exit_code == 1
    assert f"{broken}:" in result.output and "add up to 45" in result.output
    assert "ok  " not in result.output


def test_demo_prints_links_that_work(app, client, runner, auth):
    with app.app_context():
        bank.import_dilemmas([read_dilemma_file(REPO_BANK / "rapport-afzwakken.md")])
        db.session.commit()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    links = dict(
        re.findall(r"^(Facilitator|Projector|Join):\s+http://127\.0\.0\.1:8000(\S+)", result.output, re.M)
    )
    password = re.search(r"password (\S+)\)", result.output).group(1)
    assert sorted(links) == ["Facilitator", "Join", "Projector"]
    assert client.get(links["Projector"]).status_code == 200
    assert client.get(links["Join"]).status_code == 200
    assert client.get(links["Facilitator"]).status_code == 302  # needs a sign-in first
    auth.login("demo", password=password)
    page = client.get(links["Facilitator"])
    assert page.status_code == 200 and "Demo: het rapport" in page.get_data(as_text=True)
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "password unchanged" in again.output
    # Run in another terminal, demo prints the address the running `beraad serve` announced.
    (Path(app.instance_path) / "served-at.txt").write_text("http://192.168.1.20:8765\n")
    assert "Join:        http://192.168.1.20:8765/j/" in runner.invoke(args=["demo"]).output
    app.config["BERAAD_BASE_URL"] = "https://beraad.example.nl"  # behind a proxy: its address wins
    assert "Join:        https://beraad.example.nl/j/" in runner.invoke(args=["demo"]).output


ROOM_METHOD = """\
key: vraag-kiezen
name: {nl: Vraag kiezen, en: Choose the question}
summary: {nl: De groep kiest een vraag., en: The group chooses a question.}
minutes: 10
group_size: [3, 12]
steps:
  - key: vraag
    title: {nl: Vraag, en: Question}
    minutes: 5
    prompt: {nl: Kies de vraag., en: Choose the question.}
    facilitator: {nl: Typ de vragen in., en: Type in the questions.}
    poll:
      type: choice
      question: {nl: "Welke vraag onderzoeken we?", en: "Which question do we explore?"}
      options: from_room
  - key: keuze
    title: {nl: Keuze, en: Choice}
    minutes: 5
    prompt: {nl: Kies., en: Choose.}
    facilitator: {nl: Open de stemming., en: Open the vote.}
    poll:
      type: choice
      question: {nl: "Wat doe jij?", en: "What do you do?"}
      options: from_dilemma
"""


@pytest.fixture
def room_session(app, content, owner):
    from beraad.methods.loader import parse_method

    with app.app_context():
        methods_service.import_methods([parse_method(ROOM_METHOD, "vraag-kiezen.yaml", "vraag-kiezen")])
        db.session.commit()
        method = methods_service.get_method("vraag-kiezen")
        session = service.create_session(
            db.session.get(User, owner), method, [bank.get_by_slug("rapport-bijstellen")], "Vraag"
        )
        service.start_session(session, at(0))
        db.session.commit()
        return session.id


def test_options_from_the_room_go_to_the_step_s_own_vote_only(app, ctx, room_session):
    session = load(room_session)
    room_poll, dilemma_poll = poll_at(session, 0), poll_at(session, 1)
    assert service.poll_options(session, room_poll) == []
    with pytest.raises(service.SessionError, match="at least two options"):
        service.open_poll(session, room_poll)
    assert service.add_alternative(session, 0, "Mag je een regel buigen?", position=0) == "A"
    with pytest.raises(service.SessionError, match="at least two options"):
        service.open_poll(session, room_poll)
    assert service.add_alternative(session, 0, "Wanneer is loyaliteit blind?", position=0) == "B"
    with pytest.raises(service.DuplicateOptionError):
        service.add_alternative(session, 0, "mag je een regel buigen", position=0)
    # The dilemma's own vote later on is untouched by the room's questions.
    assert option_keys(service.poll_options(session, dilemma_poll)) == ["A", "B"]
    assert [o["key"] for o in dilemma_poll.options] == []
    service.open_poll(session, room_poll)
    assert [o["text"]["nl"] for o in room_poll.options] == [
        "Mag je een regel buigen?",
        "Wanneer is loyaliteit blind?",
    ]
    # Once the room's vote is open, an option at a later step is an alternative for the dilemma.
    assert service.add_alternative(session, 0, "Eerst de opdrachtgever spreken", position=1) == "C"
    assert option_keys(service.poll_options(session, dilemma_poll)) == ["A", "B", "C"]


def test_compare_with_a_poll_of_room_options_is_refused_with_its_line():
    from beraad.methods.loader import MethodFileError, parse_method

    text = ROOM_METHOD.replace("options: from_dilemma", "options: from_room\n      compare_with: vraag")
    with pytest.raises(MethodFileError) as error:
        parse_method(text, "vraag-kiezen.yaml", "vraag-kiezen")
    assert "compare_with needs fixed options" in str(error.value)
    assert error.value.line == 25  # the compare_with line


def test_the_database_keeps_one_open_vote_per_session_whatever_the_servers_saw(app, owner, make_session):
    """Two servers each opening a vote at the same moment: each saw no other open vote."""
    from sqlalchemy import text

    session_id = make_session(owner, "dilemmaspel", ("rapport-bijstellen", "geschenk-leverancier"))
    with app.app_context():
        session = load(session_id)
        service.start_session(session)
        db.session.commit()
        first, second = (p for p in sorted(session.polls, key=lambda p: p.position)[:2])
        # Another server opens the first vote; this server's copy of the session still shows none open.
        with db.engine.begin() as other:
            other.execute(text("UPDATE poll SET status = 'open' WHERE id = :id"), {"id": first.id})
        with pytest.raises(service.SessionError, match="opened at the same moment"):
            service.open_poll(session, second)
        db.session.rollback()
        rows = db.session.execute(select(Poll.id, Poll.status).where(Poll.session_id == session_id))
        statuses = dict(rows.all())
        assert statuses[first.id] == "open" and statuses[second.id] == "pending"
        # And no statement, from any server, can leave two open.
        with pytest.raises(IntegrityError), db.engine.begin() as other:
            other.execute(text("UPDATE poll SET status = 'open' WHERE id = :id"), {"id": second.id})
