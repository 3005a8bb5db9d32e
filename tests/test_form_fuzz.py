"""Fuzzing the HTML forms and the participant routes: whatever a form or a phone sends, on SQLite and
PostgreSQL, the answer is a page or a clear 4xx, never a 5xx and never an error in the log.

Every POST route of the facilitator screen, the dilemma bank and the accounts pages gets form
fields Hypothesis draws: the route's own field names and stray ones, with text full of control
characters, right-to-left marks, markup, numbers far beyond any column, broken dates and very long
values. The participant routes get the same as form posts and as JSON bodies.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beraad.extensions import db
from beraad.models import ActionPoint, Contribution, DeliberationSession, User

from .test_vote import OWNER, Meeting, content, meetings  # noqa: F401

EXAMPLES_PER_ROUTE = 20
EDGE_VALUES = [
    "", " ", "\x00", "nul\x00in het midden", "\x1b[31mrood", "\u202egnipsel", "\ufeff", "a" * 5000, "9" * 40,
    "-1", "0", "2147483648", "18446744073709551616", "1e309", "NaN", "٣", "31-02-2030", "0000-00-00",
    "2030-02-31", "<script>alert(1)</script>", "{{ 7*7 }}", "'; DROP TABLE answer; --", "A", "B", "on",
]  # fmt: skip
values = st.one_of(
    st.sampled_from(EDGE_VALUES),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)

# route (with {session}, {position}, {poll}, {contribution}, {point}, {user}, {slug}, {token}) -> fields
FACILITATOR_ROUTES = {
    "/sessions/new": ["method", "language", "k", "title", "dilemmas-0", "dilemmas-1", "facilitator_name"],
    "/sessions/{session}/start": [],
    "/sessions/{session}/step": ["position", "direction"],
    "/sessions/{session}/timer": ["action", "minutes"],
    "/sessions/{session}/steps/{position}/notes": ["notes"],
    "/sessions/{session}/actions": ["what", "who", "due"],
    "/sessions/{session}/actions/{point}/delete": [],
    "/sessions/{session}/polls/{poll}/open": [],
    "/sessions/{session}/polls/{poll}/reveal": [],
    "/sessions/{session}/alternatives": ["text", "dilemma"],
    "/sessions/{session}/contributions/{contribution}/released": [],
    "/sessions/{session}/contributions/show": [],
    "/sessions/{session}/contributions/pin": [],
    "/sessions/{session}/join-code/large": [],
    "/sessions/{session}/steps/{position}/screen": ["text", "shown"],
    "/sessions/{session}/consent": ["consent", "redacted"],
    "/sessions/{session}/evaluation/open": [],
}
ADMIN_ROUTES = {
    "/bank/new": ["slug", "title", "language", "themes", "levels", "roles", "options", "sources", "body"],
    "/bank/{slug}/edit": [
        "title",
        "language",
        "themes",
        "levels",
        "roles",
        "options",
        "sources",
        "body",
        "note",
    ],
    "/bank/{slug}/status": ["status", "note"],
    "/bank/preview": ["body"],
    "/account": ["current", "new", "confirm"],
    "/account/tokens": ["name"],
    "/admin/users": ["username", "display_name", "password", "role"],
    "/admin/users/{user}": ["u{user}-role", "u{user}-enabled"],
    "/admin/users/{user}/sign-in-wait": [],
}
PHONE_ROUTES = {
    "/j/{code}/join": [],
    "/j/{code}/polls/{poll}": ["choice", "value", "ranking", "text"],
    "/j/{code}/contributions": ["text", "confirm"],
    "/j/{code}/evaluation": ["herkenbaar", "vrij-spreken", "cijfer", "verbeterpunt"],
}


def fields_for(names: list[str]) -> st.SearchStrategy[dict]:
    return st.dictionaries(st.sampled_from([*names, "stray", "csrf_token"]), values, max_size=len(names) + 2)


class Room:
    """A running session with a poll, a contribution and an action point, and who may change it."""

    def __init__(self, app, meeting: Meeting):
        self.app = app
        self.meeting = meeting
        meeting.open("moreel-dilemma")
        meeting.show("moreel-dilemma")
        phone = meeting.phone()
        phone.join()
        assert phone.contribute("Wat weegt het zwaarst?", as_json=True).status_code == 201
        from beraad.sessions import service as sessions

        meeting.run(lambda session: sessions.add_action_point(session, "Terugkoppelen", "", None))
        with app.app_context():
            session = db.session.get(DeliberationSession, meeting.id)
            self.values = {
                "session": meeting.id,
                "position": session.current_position,
                "poll": meeting.polls["moreel-dilemma"],
                "contribution": db.session.query(Contribution.id).scalar(),
                "point": db.session.query(ActionPoint.id).scalar(),
                "user": db.session.query(User.id).filter(User.username == OWNER).scalar(),
                "slug": "rapport-bijstellen",
                "code": meeting.code,
            }

    def path(self, template: str) -> str:
        return template.format(**self.values)


@pytest.fixture
def room(app, meetings, monkeypatch) -> Room:  # noqa: F811
    from beraad.extensions import limiter

    # The per-address and per-phone limits would turn most examples away before the form is read.
    monkeypatch.setattr(limiter, "enabled", False)
    return Room(app, meetings())


def signed_in(app, username: str, role: str):
    from beraad.auth import service

    from .conftest import PASSWORD

    with app.app_context():
        if not db.session.query(User).filter(User.username == username).count():
            service.create_user(username, PASSWORD, role, "")
            db.session.commit()
    browser = app.test_client()
    response = browser.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return browser


def no_server_error(app, caplog, browser, path: str, **request) -> None:
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        response = browser.post(path, **request)
    assert response.status_code < 500, (path, request, response.status_code)
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [], (path, request, errors)


NASTIEST = ["nul\x00in het midden", "\x1b[31mrood\x07", "a" * 5000, "18446744073709551616", "2030-02-31", ""]


def fuzz(app, caplog, browser, path: str, names: list[str], as_json: bool = False) -> None:
    """First each field alone, then every field at once, with each of the nastiest values (the
    same every run), then what Hypothesis draws."""
    for nasty in NASTIEST:
        for fields in [*({name: nasty} for name in names), {name: nasty for name in names}]:
            if as_json:
                no_server_error(app, caplog, browser, path, json=fields)
            else:
                no_server_error(app, caplog, browser, path, data=fields)

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(fields=fields_for(names))
    def post(fields):
        if as_json:
            no_server_error(app, caplog, browser, path, json=fields)
        else:
            no_server_error(app, caplog, browser, path, data=fields)

    post()


@pytest.mark.parametrize("template", sorted(FACILITATOR_ROUTES))
def test_facilitator_forms_never_fail_on_what_is_posted(app, room, caplog, template):
    owner = signed_in(app, OWNER, "facilitator")
    names = [name.format(**room.values) for name in FACILITATOR_ROUTES[template]]
    fuzz(app, caplog, owner, room.path(template), names)


@pytest.mark.parametrize("template", sorted(ADMIN_ROUTES))
def test_bank_and_account_forms_never_fail_on_what_is_posted(app, room, caplog, template):
    admin = signed_in(app, "beheerder", "admin")
    names = [name.format(**room.values) for name in ADMIN_ROUTES[template]]
    fuzz(app, caplog, admin, room.path(template), names)


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
@pytest.mark.parametrize("template", sorted(PHONE_ROUTES))
def test_phone_routes_never_fail_on_what_is_posted(app, room, caplog, template, as_json):
    from beraad.vote import evaluation

    phone = room.meeting.phone()
    phone.join()
    room.meeting.run(lambda session: evaluation.set_open(session, True))
    fuzz(app, caplog, phone.client, room.path(template), PHONE_ROUTES[template], as_json=as_json)
