"""Participants: joining, answering, the k rule, contributions, rate limits and anonymity.

Every test runs on SQLite and on PostgreSQL (the `app` fixture). A "phone" is a test client of
its own, so each participant has its own cookie jar, as on real phones.
"""

from __future__ import annotations

import functools
import logging
import random
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask_babel import force_locale
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    MetaData,
    Time,
    func,
    inspect,
    select,
    update,
)

from beraad.auth import service as auth_service
from beraad.bank import loader as bank_loader
from beraad.bank import service as bank_service
from beraad.extensions import db, limiter
from beraad.methods import service as methods_service
from beraad.methods.loader import load_methods, parse_method
from beraad.models import (
    Answer,
    Contribution,
    DeliberationSession,
    Participant,
    Poll,
    PollStatus,
    User,
)
from beraad.sessions import service as sessions
from beraad.vote import contributions, live
from beraad.vote import service as vote
from beraad.vote.messages import vote_error_message

from .conftest import DATA_DIR, PASSWORD, drop_pooled_connections

OWNER = "gespreksleider"
HTTPS = "https://localhost"
CLIENT_IP = "203.0.113.7"
USER_AGENT = "BeraadTestPhone/7.3 (Zeldzaam-Toestel; q9x4-unique)"
CHOICE_DILEMMA = "rapport-bijstellen"  # has options A and B for the from_dilemma polls
VALUES = [
    "rechtvaardigheid", "loyaliteit", "transparantie", "zorgvuldigheid",
    "autonomie", "veiligheid", "vertrouwen", "integriteit",
]  # fmt: skip
TEXT_LIMIT = 40

# dilemmamethode has choice and ranking polls; scale and text polls come from this small method.
PEILING = f"""\
key: peiling
name: {{nl: "Peiling", en: "Survey"}}
summary: {{nl: "Een korte peiling voor de tests.", en: "A short survey for the tests."}}
minutes: 10
dilemmas: [1, 1]
steps:
  - key: zekerheid
    title: {{nl: "Zekerheid", en: "Certainty"}}
    minutes: 5
    prompt: {{nl: "Hoe zeker ben je?", en: "How sure are you?"}}
    facilitator: {{nl: "Open de peiling.", en: "Open the poll."}}
    poll:
      type: scale
      question: {{nl: "Hoe zeker ben je van je keuze?", en: "How sure are you of your choice?"}}
      options: {{min: 1, max: 5}}
  - key: kernwaarde
    title: {{nl: "Kernwaarde", en: "Core value"}}
    minutes: 5
    prompt: {{nl: "Noem een waarde.", en: "Name a value."}}
    facilitator: {{nl: "Open de vraag.", en: "Open the question."}}
    poll:
      type: text
      question: {{nl: "Welke waarde telt voor jou het zwaarst?", en: "Which value weighs most for you?"}}
      max_length: {TEXT_LIMIT}
"""


# --- the session under test --------------------------------------------------------------------


@dataclass
class Meeting:
    """A running session, with helpers that act as the facilitator (service calls, committed)."""

    app: Flask
    id: int
    code: str
    projector: str
    k: int
    polls: dict[str, str]  # poll key -> poll id

    def run(self, action, *args):
        """Call action(session, *args) as the facilitator and commit."""
        with self.app.app_context():
            session = db.session.get(DeliberationSession, self.id)
            result = action(session, *args)
            db.session.commit()
            return result

    def _poll_action(self, action, key: str, *args):
        def act(session):
            return action(session, sessions.get_poll(session, self.polls[key]), *args)

        return self.run(act)

    def open(self, key: str) -> None:
        self._poll_action(sessions.open_poll, key)

    def close(self, key: str) -> None:
        self._poll_action(sessions.close_poll, key)

    def reveal(self, key: str) -> None:
        self._poll_action(sessions.set_revealed, key, True)

    def show(self, key: str) -> None:
        """Make the step of this poll the current one (projector and phones show it)."""
        self._poll_action(lambda session, poll: sessions.go_to_step(session, poll.position), key)

    def close_session(self) -> None:
        self.run(sessions.close_session)

    def phone(self, **options) -> Phone:
        return Phone(self, **options)

    def join_token(self, token: str) -> vote.Membership:
        """Join directly through the service (for tests about counting, not about HTTP)."""

        def act(session):
            vote.begin_write()
            return vote.join(session, token)

        return self.run(act)

    def submit(self, key: str, member: vote.Membership, raw: dict) -> str:
        """Answer directly through the service, in its own write transaction."""
        with self.app.app_context():
            session = db.session.get(DeliberationSession, self.id)
            try:
                vote.begin_write()
                outcome = vote.submit_answer(session.join_code, self.polls[key], member, raw)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
            return outcome

    def voters(self, key: str, raws: list[dict]) -> None:
        """Let one new participant per raw answer join and answer."""
        for raw in raws:
            member = self.join_token(vote.new_token())
            assert self.submit(key, member, raw) == "created"

    def results(self, key: str) -> vote.Results:
        with self.app.app_context():
            poll = db.session.get(Poll, self.polls[key])
            return vote.results(poll, self.k, "nl")

    def answers(self, key: str) -> list[tuple[str, dict, str | None]]:
        with self.app.app_context():
            rows = db.session.execute(
                select(Answer.id, Answer.value, Answer.voter_key).where(Answer.poll_id == self.polls[key])
            )
            return [tuple(row) for row in rows]

    def participants(self) -> int:
        with self.app.app_context():
            return db.session.scalar(
                select(func.count()).select_from(Participant).where(Participant.session_id == self.id)
            )

    def contributions(self) -> list[Contribution]:
        with self.app.app_context():
            rows = list(db.session.scalars(select(Contribution).where(Contribution.session_id == self.id)))
            db.session.expunge_all()
            return rows


class Phone:
    """A participant's phone: its own client and cookie jar; remembers every page it was sent."""

    def __init__(self, meeting: Meeting, secure: bool = False, address: str | None = None,
                 user_agent: str | None = None):  # fmt: skip
        self.meeting = meeting
        self.client = meeting.app.test_client()
        self.secure = secure
        if address:
            self.client.environ_base["REMOTE_ADDR"] = address
        if user_agent:
            self.client.environ_base["HTTP_USER_AGENT"] = user_agent
        self.pages: list[str] = []

    @property
    def base(self) -> str:
        return f"/j/{self.meeting.code}"

    @property
    def cookie_name(self) -> str:
        return f"__Host-bp-{self.meeting.code}" if self.secure else f"bp-{self.meeting.code}"

    @property
    def cookie_path(self) -> str:
        return "/" if self.secure else self.base

    @property
    def cookie(self) -> str | None:
        """The participant cookie: the token, and once joined '.' and the proof of it."""
        cookie = self.client.get_cookie(self.cookie_name, path=self.cookie_path)
        return cookie.value if cookie else None

    @property
    def token(self) -> str | None:
        return self.cookie.partition(".")[0] if self.cookie else None

    def use_token(self, token: str) -> None:
        self.client.set_cookie(self.cookie_name, token, path=self.cookie_path, secure=self.secure)

    def request(self, method: str, path: str, **kwargs):
        if self.secure:
            kwargs.setdefault("base_url", HTTPS)
        response = self.client.open(path, method=method, **kwargs)
        self.pages.append(response.get_data(as_text=True))
        return response

    def visit(self):
        return self.request("GET", self.base)

    def join(self):
        self.visit()
        response = self.request("POST", f"{self.base}/join")
        assert response.status_code == 302, response.status_code
        return response

    def answer(self, poll_id: str, json=None, data=None, **kwargs):
        if json is not None:
            kwargs["json"] = json
        if data is not None:
            kwargs["data"] = data
        return self.request("POST", f"{self.base}/polls/{poll_id}", **kwargs)

    def contribute(self, text: str, confirm: bool = False, as_json: bool = False):
        body = {"text": text, **({"confirm": "1"} if confirm else {})}
        if as_json:
            return self.request("POST", f"{self.base}/contributions", json=body)
        return self.request("POST", f"{self.base}/contributions", data=body)


@functools.cache
def content() -> tuple:
    """The test methods (plus peiling) and dilemmas, parsed once: loaders return immutable data."""
    methods = [*load_methods(DATA_DIR / "methods"), parse_method(PEILING, "peiling.yaml", "peiling")]
    return methods, bank_loader.load_bank(DATA_DIR / "bank")


@functools.cache
def owner_password_hash() -> str:
    return auth_service.hash_password(PASSWORD)  # scrypt is slow: hash once per run


@pytest.fixture
def meetings(app):
    """Return a function that creates a running session: meetings("peiling", k=4)."""
    methods, dilemmas = content()
    with app.app_context():
        methods_service.import_methods(methods)
        bank_service.import_dilemmas(dilemmas)
        owner = User(username=OWNER, password_hash=owner_password_hash(), role="facilitator")
        db.session.add(owner)
        db.session.commit()
        owner_id = owner.id

    def make(method: str = "dilemmamethode", dilemma: str = CHOICE_DILEMMA, k: int = 3,
             start: bool = True) -> Meeting:  # fmt: skip
        with app.app_context():
            session = sessions.create_session(
                db.session.get(User, owner_id),
                methods_service.get_method(method),
                [bank_service.get_by_slug(dilemma)],
                "Testberaad",
                "nl",
                k,
            )
            if start:
                sessions.start_session(session)
            db.session.commit()
            return Meeting(
                app, session.id, session.join_code, session.projector_token, session.k,
                {poll.key: poll.id for poll in session.polls},
            )  # fmt: skip

    return make


@pytest.fixture
def meeting(meetings) -> Meeting:
    return meetings()


@pytest.fixture
def facilitator(client, auth, meetings):
    """The shared `client`, signed in as the owner of every meeting."""
    assert auth.login(OWNER, role="facilitator").status_code == 302
    return client


def dump_database(app) -> str:
    """Every row of every table (found by reflection, so new tables are included), as text."""
    with app.app_context():
        metadata = MetaData()
        metadata.reflect(bind=db.engine)
        lines = []
        with db.engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in connection.execute(table.select()):
                    lines.append(f"{table.name}: " + " | ".join(str(value) for value in row))
        return "\n".join(lines)


def message_for(app, code: str, language: str = "nl") -> str:
    with app.test_request_context(), force_locale(language):
        return vote_error_message(code)


def set_cookie_attributes(response, name: str) -> dict[str, str] | None:
    for header in response.headers.getlist("Set-Cookie"):
        first, *attributes = [part.strip() for part in header.split(";")]
        if first.split("=", 1)[0] == name:
            parsed = {"value": first.split("=", 1)[1]}
            for attribute in attributes:
                key, _, value = attribute.partition("=")
                parsed[key.lower()] = value
            return parsed
    return None


def run_parallel(tasks, workers: int) -> list:
    """Run callables on a bounded pool of threads; return their results in order."""
    assert workers <= 40
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(task) for task in tasks]
        return [future.result(timeout=60) for future in futures]


def outcome(request_function):
    """Turn a request into (status, body); an exception escaping the app counts as a 500."""
    try:
        response = request_function()
        return response.status_code, response.get_data(as_text=True)
    except Exception as error:  # noqa: BLE001 - every escaped error must be reported
        return 500, f"{type(error).__name__}: {error}"


# --- joining -----------------------------------------------------------------------------------


def test_join_page_sets_a_session_scoped_httponly_lax_cookie(meeting):
    phone = meeting.phone()
    response = phone.visit()
    assert response.status_code == 200
    cookie = set_cookie_attributes(response, f"bp-{meeting.code}")
    assert cookie is not None
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == f"/j/{meeting.code}"
    assert "secure" not in cookie
    assert vote.is_valid_token(cookie["value"]) and len(cookie["value"]) >= 22  # >= 128 bits
    assert response.headers["Cache-Control"] == "no-store"


def test_join_cookie_over_https_is_host_prefixed_and_secure(meeting):
    phone = meeting.phone(secure=True)
    response = phone.visit()
    assert response.status_code == 200
    cookie = set_cookie_attributes(response, f"__Host-bp-{meeting.code}")
    assert cookie is not None
    assert "secure" in cookie and "httponly" in cookie
    assert cookie["path"] == "/"
    assert "domain" not in cookie
    assert cookie["samesite"].lower() == "lax"
    # The whole flow works with that cookie.
    phone.join()
    assert meeting.participants() == 1
    meeting.open("moreel-dilemma")
    assert phone.answer(meeting.polls["moreel-dilemma"], json={"choice": "A"}).status_code == 201
    assert len(meeting.answers("moreel-dilemma")) == 1


def test_viewing_the_join_page_writes_nothing(app, meeting):
    before = dump_database(app)
    phone = meeting.phone()
    assert phone.visit().status_code == 200
    assert phone.visit().status_code == 200
    assert dump_database(app) == before
    assert meeting.participants() == 0


def test_join_page_explains_in_dutch_what_is_stored_and_names_k(meetings):
    meeting = meetings(k=4)
    page = meeting.phone().visit().get_data(as_text=True)
    assert '<html lang="nl">' in page
    privacy = re.search(r'<ul class="privacy">(.*?)</ul>', page, re.S)
    assert privacy is not None
    text = privacy.group(1)
    assert "IP-adres" in text  # Dutch spelling; the English page says "IP address"
    assert "antwoord" in text.lower()
    assert re.search(r"\b4\b", text), "the page names k"
    assert "We store your answers" not in page


def test_join_registers_one_participant_and_a_second_join_keeps_one(meeting):
    phone = meeting.phone()
    response = phone.join()
    assert response.location.endswith(f"/j/{meeting.code}")
    assert meeting.participants() == 1
    token = phone.token
    phone.join()
    assert phone.token == token
    assert meeting.participants() == 1
    # A returning phone gets no new cookie.
    assert set_cookie_attributes(phone.visit(), f"bp-{meeting.code}") is None
    meeting.phone().join()
    assert meeting.participants() == 2


def test_the_token_appears_in_no_page_and_nowhere_in_the_database(app, meeting):
    phones = [meeting.phone() for _ in range(3)]
    meeting.open("moreel-dilemma")
    meeting.show("moreel-dilemma")
    for number, phone in enumerate(phones):
        phone.join()
        phone.visit()
        phone.answer(meeting.polls["moreel-dilemma"], data={"choice": "AB"[number % 2]})
        phone.answer(meeting.polls["moreel-dilemma"], json={"choice": "B"})
        phone.request("GET", f"{phone.base}/state")
        phone.contribute(f"ik vind eerlijkheid belangrijk {number}")
        phone.visit()
    dump = dump_database(app)
    for phone in phones:
        token = phone.token
        assert token and vote.is_valid_token(token)
        assert all(token not in page for page in phone.pages)
        assert token not in dump
    assert len(meeting.answers("moreel-dilemma")) == 3


def test_a_code_typed_in_lower_case_with_spaces_finds_the_session(client, meeting):
    typed = " ".join([meeting.code[:4].lower(), meeting.code[4:].lower()])
    response = client.get("/join", query_string={"code": typed})
    assert response.status_code == 302
    assert response.location.endswith(f"/j/{meeting.code}")
    assert client.get(response.location).status_code == 200
    # The join URL itself accepts the typed form too.
    response = client.get(f"/j/{meeting.code.lower()}")
    assert response.status_code == 302 and response.location.endswith(f"/j/{meeting.code}")


def test_unknown_code_gets_a_friendly_404_page(client, meeting):
    unknown = "ZZZZ2222" if meeting.code != "ZZZZ2222" else "YYYY3333"
    response = client.get(f"/j/{unknown}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert 'action="/join"' in page and 'name="code"' in page
    assert "Traceback" not in page
    assert "bp-" not in response.headers.get("Set-Cookie", "")


def test_closed_session_gets_a_410_page(app, meeting):
    phone = meeting.phone()
    phone.join()
    meeting.close_session()
    response = phone.visit()
    assert response.status_code == 410
    assert response.mimetype == "text/html"
    assert "Traceback" not in response.get_data(as_text=True)
    assert phone.request("POST", f"{phone.base}/join").status_code == 410
    assert meeting.phone().visit().status_code == 410


def test_projector_participant_count_follows_joins(client, meeting):
    def count() -> int:
        response = client.get(f"/p/{meeting.projector}/state")
        assert response.status_code == 200
        return response.get_json()["participants"]

    assert count() == 0
    first, second = meeting.phone(), meeting.phone()
    first.visit()
    assert count() == 0  # looking is not joining
    first.join()
    assert count() == 1
    second.join()
    assert count() == 2
    first.join()
    assert count() == 2


# --- answers, per poll type ----------------------------------------------------------------------


@dataclass(frozen=True)
class PollCase:
    method: str
    key: str
    form: dict
    first: dict
    second: dict
    invalid: tuple[dict, ...]
    stored_form: dict = field(default_factory=dict)


RANKING = list(VALUES)
POLL_CASES = {
    "choice": PollCase(
        "dilemmamethode",
        "moreel-dilemma",
        form={"choice": "B"},
        first={"choice": "A"},
        second={"choice": "B"},
        invalid=({"choice": "Z"}, {"choice": None}, {}, {"choice": ["A"]}, {"choice": "a"}),
        stored_form={"choice": "B"},
    ),
    "ranking": PollCase(
        "dilemmamethode",
        "waarden-en-normen",
        form={"ranking": RANKING},
        first={"ranking": RANKING},
        second={"ranking": RANKING[::-1]},
        invalid=(
            {"ranking": RANKING[:-1]},
            {"ranking": [*RANKING[:-1], RANKING[0]]},
            {"ranking": [*RANKING[:-1], "moed"]},
            {"ranking": []},
            {"ranking": [*RANKING, "moed"]},
            {"ranking": 7},
            {},
        ),
        stored_form={"ranking": RANKING},
    ),
    "scale": PollCase(
        "peiling",
        "zekerheid",
        form={"value": "4"},
        first={"value": 2},
        second={"value": 5},
        invalid=({"value": 0}, {"value": 6}, {"value": -1}, {"value": "drie"}, {"value": 2.5}, {}),
        stored_form={"value": 4},
    ),
    "text": PollCase(
        "peiling",
        "kernwaarde",
        form={"text": "  Eerlijkheid  "},
        first={"text": "moed"},
        second={"text": "openheid"},
        invalid=({"text": ""}, {"text": "   "}, {"text": "x" * (TEXT_LIMIT + 1)}, {"text": 5}, {}),
        stored_form={"text": "Eerlijkheid"},
    ),
}


INVALID_CODES = ("unknown_option", "out_of_range", "not_a_number", "bad_ranking", "empty", "too_long")


@pytest.fixture(params=list(POLL_CASES))
def poll_case(request, meetings):
    """(meeting with the poll open and shown, case, joined phone)."""
    case = POLL_CASES[request.param]
    meeting = meetings(case.method)
    meeting.open(case.key)
    meeting.show(case.key)
    phone = meeting.phone()
    phone.join()
    return meeting, case, phone


def test_form_post_stores_one_answer_and_redirects(poll_case):
    meeting, case, phone = poll_case
    response = phone.answer(meeting.polls[case.key], data=case.form)
    assert response.status_code == 302
    assert response.location.endswith(f"/j/{meeting.code}#poll")
    rows = meeting.answers(case.key)
    assert [value for _, value, _ in rows] == [case.stored_form]
    # The phone shows its own answer back, and only to itself.
    page = phone.visit().get_data(as_text=True)
    assert "notice-success" in page


def test_json_answer_is_201_then_200_on_change_keeping_one_row(poll_case):
    meeting, case, phone = poll_case
    poll_id = meeting.polls[case.key]
    response = phone.answer(poll_id, json=case.first)
    assert response.status_code == 201
    assert response.get_json() == {"status": "created"}
    response = phone.answer(poll_id, json=case.second)
    assert response.status_code == 200
    assert response.get_json() == {"status": "changed"}
    rows = meeting.answers(case.key)
    assert len(rows) == 1
    assert rows[0][1] == case.second


def test_invalid_answers_are_422_with_a_message_and_store_nothing(app, poll_case):
    meeting, case, phone = poll_case
    poll_id = meeting.polls[case.key]
    for body in case.invalid:
        response = phone.answer(poll_id, json=body)
        assert response.status_code == 422, body
        error = response.get_json()["error"]
        assert error["code"] and error["message"].strip(), body
        assert error["message"] == message_for(app, error["code"])
    assert meeting.answers(case.key) == []
    # An invalid change leaves the earlier answer as it was.
    assert phone.answer(poll_id, json=case.first).status_code == 201
    for body in case.invalid:
        assert phone.answer(poll_id, json=body).status_code == 422
    assert [value for _, value, _ in meeting.answers(case.key)] == [case.first]


def test_invalid_form_answer_shows_a_page_with_the_message(app, poll_case):
    meeting, case, phone = poll_case
    body = {key: value for key, value in case.invalid[0].items()}
    response = phone.answer(meeting.polls[case.key], data=body)
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert any(message_for(app, code) in page for code in INVALID_CODES)
    assert meeting.answers(case.key) == []


def test_answer_to_a_closed_poll_is_409_with_a_clear_message(app, poll_case):
    meeting, case, phone = poll_case
    meeting.close(case.key)
    response = phone.answer(meeting.polls[case.key], json=case.first)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "poll_not_open"
    assert error["message"] == message_for(app, "poll_not_open")
    response = phone.answer(meeting.polls[case.key], data=case.form)
    assert response.status_code == 409
    assert message_for(app, "poll_not_open") in response.get_data(as_text=True)
    assert meeting.answers(case.key) == []


def test_answer_to_a_pending_poll_is_409(meeting):
    phone = meeting.phone()
    phone.join()
    response = phone.answer(meeting.polls["conclusie"], json={"choice": "A"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "poll_not_open"
    assert meeting.answers("conclusie") == []


def test_poll_of_another_session_is_404(meetings):
    mine, other = meetings(), meetings()
    other.open("moreel-dilemma")
    phone = mine.phone()
    phone.join()
    response = phone.answer(other.polls["moreel-dilemma"], json={"choice": "A"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_poll"
    assert phone.answer("nietbestaand", json={"choice": "A"}).status_code == 404
    assert other.answers("moreel-dilemma") == []


def test_malformed_json_is_400(meeting):
    meeting.open("moreel-dilemma")
    phone = meeting.phone()
    phone.join()
    poll_id = meeting.polls["moreel-dilemma"]
    for body in ('{"choice": "A"', "[1, 2]", '"A"', "null"):
        response = phone.answer(poll_id, data=body, content_type="application/json")
        assert response.status_code == 400, body
        assert response.get_json()["error"]["code"] == "malformed"
    assert meeting.answers("moreel-dilemma") == []


def test_answer_without_joining_is_403(meeting):
    meeting.open("moreel-dilemma")
    poll_id = meeting.polls["moreel-dilemma"]
    looked = meeting.phone()
    looked.visit()  # has a cookie, but never pressed "take part"
    assert looked.token is not None
    response = looked.answer(poll_id, json={"choice": "A"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_joined"
    stranger = meeting.phone()  # no cookie at all
    assert stranger.answer(poll_id, json={"choice": "A"}).status_code == 403
    forged = meeting.phone()
    forged.use_token(vote.new_token())
    assert forged.answer(poll_id, json={"choice": "A"}).status_code == 403
    assert meeting.answers("moreel-dilemma") == []


@pytest.mark.parametrize("item", [5, None, ["x"], {"key": "x"}], ids=["number", "null", "list", "object"])
def test_ranking_with_an_item_that_is_not_a_string_is_422(meeting, item):
    meeting.open("waarden-en-normen")
    phone = meeting.phone()
    phone.join()
    poll_id = meeting.polls["waarden-en-normen"]
    status, _ = outcome(lambda: phone.answer(poll_id, json={"ranking": [*RANKING[:-1], item]}))
    assert status == 422
    assert meeting.answers("waarden-en-normen") == []


# --- storage -------------------------------------------------------------------------------------


def test_answer_table_cannot_link_or_order_answers(app):
    with app.app_context():
        inspector = inspect(db.engine)
        columns = {column["name"]: column for column in inspector.get_columns("answer")}
        foreign_keys = inspector.get_foreign_keys("answer")
        primary_key = inspector.get_pk_constraint("answer")["constrained_columns"]
    assert [fk["referred_table"] for fk in foreign_keys] == ["poll"]
    assert not any("participant" in name for name in columns)
    for name, column in columns.items():
        assert not isinstance(column["type"], (DateTime, Date, Time)), name
        assert not re.search(r"(_at|time|date|created|updated)$", name), name
    assert primary_key == ["id"]
    assert not isinstance(columns["id"]["type"], Integer)
    assert columns["id"].get("autoincrement") is not True
    assert not columns["id"].get("default")  # no sequence, no server-side counter


def test_voter_keys_exist_while_open_and_are_wiped_at_close(meeting):
    meeting.open("moreel-dilemma")
    phones = [meeting.phone() for _ in range(3)]
    for phone in phones:
        phone.join()
        assert phone.answer(meeting.polls["moreel-dilemma"], json={"choice": "A"}).status_code == 201
    rows = meeting.answers("moreel-dilemma")
    keys = [key for _, _, key in rows]
    assert all(keys) and len(set(keys)) == 3
    tokens = {phone.token for phone in phones}
    assert not set(keys) & tokens
    for answer_id, _, _ in rows:
        assert re.fullmatch(r"[0-9a-f]{32}", answer_id)
    meeting.close("moreel-dilemma")
    rows = meeting.answers("moreel-dilemma")
    assert len(rows) == 3
    assert [key for _, _, key in rows] == [None, None, None]


def test_participant_keys_are_not_tokens_and_the_secret_goes_at_close(app, meeting):
    phones = [meeting.phone() for _ in range(3)]
    for phone in phones:
        phone.join()
    with app.app_context():
        keys = list(db.session.scalars(select(Participant.participant_key)))
        assert db.session.get(DeliberationSession, meeting.id).secret
    tokens = {phone.token for phone in phones}
    assert len(keys) == 3
    assert not any(token in key or key in token for key in keys for token in tokens)
    meeting.close_session()
    with app.app_context():
        assert db.session.get(DeliberationSession, meeting.id).secret is None


def test_answer_keys_differ_per_poll_for_one_participant(meeting):
    """One person's answers to two polls cannot be joined through their voter keys."""
    phone = meeting.phone()
    phone.join()
    meeting.open("moreel-dilemma")
    phone.answer(meeting.polls["moreel-dilemma"], json={"choice": "A"})
    first = meeting.answers("moreel-dilemma")[0][2]
    meeting.open("eigen-afweging")  # closes the first poll
    phone.answer(meeting.polls["eigen-afweging"], json={"choice": "A"})
    second = meeting.answers("eigen-afweging")[0][2]
    assert first is not None and second is not None
    assert meeting.answers("moreel-dilemma")[0][2] is None
    assert first != second


# --- the k rule ----------------------------------------------------------------------------------


def test_choice_results_show_only_the_count_below_k(meeting):
    meeting.open("moreel-dilemma")
    meeting.voters("moreel-dilemma", [{"choice": "A"}, {"choice": "A"}])
    meeting.close("moreel-dilemma")
    result = meeting.results("moreel-dilemma")
    assert (result.count, result.shown, result.rows, result.texts, result.mean) == (2, False, (), (), None)


def test_choice_results_from_k(meeting):
    meeting.open("moreel-dilemma")
    meeting.voters("moreel-dilemma", [{"choice": "A"}, {"choice": "B"}, {"choice": "A"}])
    meeting.close("moreel-dilemma")
    result = meeting.results("moreel-dilemma")
    assert result.shown and result.count == 3
    assert [(key, count, percent) for key, _, count, percent in result.rows] == [("A", 2, 67), ("B", 1, 33)]


def test_scale_results_give_the_mean_from_k(meetings):
    meeting = meetings("peiling")
    meeting.open("zekerheid")
    meeting.voters("zekerheid", [{"value": 1}, {"value": 2}])
    assert not meeting.results("zekerheid").shown
    assert meeting.results("zekerheid").mean is None
    meeting.voters("zekerheid", [{"value": 4}])
    meeting.close("zekerheid")
    result = meeting.results("zekerheid")
    assert result.shown and result.mean == 2.3
    assert [(key, count) for key, _, count, _ in result.rows] == [
        ("1", 1),
        ("2", 1),
        ("3", 0),
        ("4", 1),
        ("5", 0),
    ]


def test_ranking_results_are_in_borda_order_from_k(meeting):
    rankings = [
        ["transparantie", "integriteit", "rechtvaardigheid", "loyaliteit", "zorgvuldigheid", "autonomie",
         "veiligheid", "vertrouwen"],
        ["transparantie", "vertrouwen", "integriteit", "rechtvaardigheid", "loyaliteit", "zorgvuldigheid",
         "autonomie", "veiligheid"],
        ["integriteit", "transparantie", "rechtvaardigheid", "loyaliteit", "zorgvuldigheid", "autonomie",
         "veiligheid", "vertrouwen"],
    ]  # fmt: skip
    meeting.open("waarden-en-normen")
    meeting.voters("waarden-en-normen", [{"ranking": ranking} for ranking in rankings[:2]])
    assert not meeting.results("waarden-en-normen").shown
    meeting.voters("waarden-en-normen", [{"ranking": rankings[2]}])
    result = meeting.results("waarden-en-normen")
    assert result.shown
    assert [(key, score) for key, _, score, _ in result.rows] == [
        ("transparantie", 20), ("integriteit", 18), ("rechtvaardigheid", 14), ("loyaliteit", 11),
        ("zorgvuldigheid", 8), ("vertrouwen", 6), ("autonomie", 5), ("veiligheid", 2),
    ]  # fmt: skip


def test_text_results_are_sorted_alphabetically_never_in_stored_order(meetings):
    meeting = meetings("peiling")
    meeting.open("kernwaarde")
    stored = ["zorg", "Moed", "eerlijkheid", "Vertrouwen"]  # stored in non-alphabetical order
    meeting.voters("kernwaarde", [{"text": stored[0]}, {"text": stored[1]}])
    result = meeting.results("kernwaarde")
    assert (result.count, result.shown, result.texts) == (2, False, ())
    meeting.voters("kernwaarde", [{"text": text} for text in stored[2:]])
    meeting.close("kernwaarde")
    result = meeting.results("kernwaarde")
    assert result.shown
    assert result.texts == ("eerlijkheid", "Moed", "Vertrouwen", "zorg")
    # The projector lists them in the same order.
    meeting.show("kernwaarde")
    meeting.reveal("kernwaarde")
    page = meeting.app.test_client().get(f"/p/{meeting.projector}/stage").get_data(as_text=True)
    listed = re.search(r'<ul class="text-cards" data-pager>(.*?)</ul>', page, re.S)
    assert listed is not None
    assert re.findall(r'<li class="text-card">(.*?)</li>', listed.group(1)) == [
        "eerlijkheid",
        "Moed",
        "Vertrouwen",
        "zorg",
    ]


def stage(client, meeting: Meeting) -> str:
    response = client.get(f"/p/{meeting.projector}/stage")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("answers, shown", [(2, False), (3, True)])
def test_projector_shows_bars_only_from_k(client, meeting, answers, shown):
    meeting.open("moreel-dilemma")
    meeting.show("moreel-dilemma")
    meeting.voters("moreel-dilemma", [{"choice": "AB"[n % 2]} for n in range(answers)])
    open_page = stage(client, meeting)
    assert "chart-bar" not in open_page  # never while the poll is open
    meeting.close("moreel-dilemma")
    meeting.reveal("moreel-dilemma")
    page = stage(client, meeting)
    hidden = re.search(r'<p class="results-hidden">(.*?)</p>', page, re.S)
    if shown:
        assert hidden is None
        assert page.count('class="chart-bar ') == 2
        assert "67%" in page and "33%" in page
    else:
        assert hidden is not None and re.search(r"\b2\b", hidden.group(1))
        assert "chart-bar" not in page
        assert "%" not in page.split('class="stage-poll"', 1)[1]


@pytest.mark.parametrize("k", [1, 0, -3])
def test_k_cannot_go_below_two(meetings, k):
    with pytest.raises(sessions.SessionError):
        meetings(k=k)


def test_k_of_two_is_allowed(meetings):
    meeting = meetings(k=2)
    meeting.open("moreel-dilemma")
    meeting.voters("moreel-dilemma", [{"choice": "A"}, {"choice": "B"}])
    assert meeting.results("moreel-dilemma").shown


# --- before and after ----------------------------------------------------------------------------


def test_conclusion_is_compared_with_the_first_vote_on_the_projector(app, client, meeting):
    with app.app_context():
        conclusion = db.session.get(Poll, meeting.polls["conclusie"])
        assert conclusion.compare_with_id == meeting.polls["moreel-dilemma"]
    meeting.open("moreel-dilemma")
    meeting.voters("moreel-dilemma", [{"choice": "A"}, {"choice": "A"}, {"choice": "B"}])
    meeting.close("moreel-dilemma")
    meeting.reveal("moreel-dilemma")
    meeting.open("conclusie")
    meeting.voters("conclusie", [{"choice": "A"}, {"choice": "B"}, {"choice": "B"}])
    meeting.show("conclusie")
    assert "→" not in stage(client, meeting)  # still open: no shift shown
    meeting.close("conclusie")
    meeting.reveal("conclusie")
    page = stage(client, meeting)
    assert re.search(r"67%\s*→\s*33%", page), "option A went from 67% to 33%"
    assert re.search(r"33%\s*→\s*67%", page), "option B went from 33% to 67%"


def test_no_shift_is_shown_while_the_earlier_vote_is_below_k(client, meeting):
    meeting.open("moreel-dilemma")
    meeting.voters("moreel-dilemma", [{"choice": "A"}, {"choice": "B"}])
    meeting.close("moreel-dilemma")
    meeting.open("conclusie")
    meeting.voters("conclusie", [{"choice": "A"}, {"choice": "B"}, {"choice": "B"}])
    meeting.close("conclusie")
    meeting.reveal("conclusie")
    meeting.show("conclusie")
    page = stage(client, meeting)
    assert "chart-bar" in page
    assert "→" not in page


# --- concurrency ---------------------------------------------------------------------------------


def test_forty_parallel_submissions_with_one_token_leave_one_answer(monkeypatch, meeting):
    # The per-token rate limit would turn most of them away before they reach the database.
    monkeypatch.setattr(limiter, "enabled", False)
    meeting.open("moreel-dilemma")
    owner = meeting.phone()
    owner.join()
    token = owner.cookie
    poll_id = meeting.polls["moreel-dilemma"]
    count = 40
    barrier = threading.Barrier(count, timeout=30)

    def submit(number: int):
        phone = meeting.phone()
        phone.use_token(token)
        barrier.wait()
        return outcome(lambda: phone.answer(poll_id, json={"choice": "AB"[number % 2]}))

    results = run_parallel([lambda n=n: submit(n) for n in range(count)], workers=count)
    statuses = Counter(status for status, _ in results)
    assert not [body for status, body in results if status >= 500], statuses
    assert set(statuses) <= {200, 201}, statuses
    rows = meeting.answers("moreel-dilemma")
    assert len(rows) == 1
    assert meeting.participants() == 1


def test_thirty_parallel_participants_every_2xx_is_one_answer(meeting):
    meeting.open("moreel-dilemma")
    poll_id = meeting.polls["moreel-dilemma"]
    count = 30
    phones = [meeting.phone() for _ in range(count)]
    barrier = threading.Barrier(count, timeout=30)

    def join(phone: Phone):
        phone.visit()
        barrier.wait()
        return outcome(lambda: phone.request("POST", f"{phone.base}/join"))

    joins = run_parallel([lambda p=p: join(p) for p in phones], workers=count)
    assert [status for status, _ in joins] == [302] * count, joins
    assert meeting.participants() == count

    def answer(number: int):
        barrier.wait()
        return outcome(lambda: phones[number].answer(poll_id, json={"choice": "AB"[number % 3 == 0]}))

    results = run_parallel([lambda n=n: answer(n) for n in range(count)], workers=count)
    assert not [body for status, body in results if status >= 500]
    assert not [body for _, body in results if "database is locked" in body]
    ok = sum(1 for status, _ in results if 200 <= status < 300)
    assert ok == count  # nothing should refuse a valid answer
    rows = meeting.answers("moreel-dilemma")
    assert len(rows) == ok
    assert Counter(value["choice"] for _, value, _ in rows) == Counter({"B": 10, "A": 20})


def test_answers_racing_close_poll_are_counted_or_refused_with_409(meeting, facilitator):
    meeting.open("moreel-dilemma")
    poll_id = meeting.polls["moreel-dilemma"]
    count = 36
    phones = [meeting.phone() for _ in range(count)]
    for phone in phones:
        phone.join()
    early_done = threading.Semaphore(0)
    closed = threading.Event()
    close_result: list = []

    def answer(number: int):
        if number >= 24:  # the last ones are sure to come after the close
            closed.wait(timeout=30)
        result = outcome(lambda: phones[number].answer(poll_id, json={"choice": "A"}))
        if number < 8:
            early_done.release()
        return result

    def close():
        for _ in range(8):  # close while the middle group is answering
            early_done.acquire(timeout=30)
        close_result.append(
            outcome(
                lambda: facilitator.post(
                    f"/sessions/{meeting.id}/polls/{poll_id}/close", headers={"Accept": "application/json"}
                )
            )
        )
        closed.set()

    with ThreadPoolExecutor(max_workers=13) as pool:
        closer = pool.submit(close)
        futures = [pool.submit(answer, n) for n in range(count)]
        results = [future.result(timeout=60) for future in futures]
        closer.result(timeout=60)
    assert close_result[0][0] == 200, close_result
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {200, 201, 409}, [body for status, body in results if status >= 500]
    ok = statuses[200] + statuses[201]
    assert ok >= 8 and statuses[409] >= count - 24
    rows = meeting.answers("moreel-dilemma")
    assert len(rows) == ok
    assert all(key is None for _, _, key in rows)


def test_a_poll_closed_between_the_answers_two_statements_stores_nothing(meeting, monkeypatch):
    """The poll is read without a lock, so the facilitator may close it before the upsert runs:
    the upsert checks by itself and the phone hears 409, as it would have a moment later."""
    meeting.open("moreel-dilemma")
    poll_id = meeting.polls["moreel-dilemma"]
    phone = meeting.phone()
    phone.join()
    with meeting.app.app_context():
        sql = vote._sql()
    run = vote._run

    def close_after_the_read(statement, connection=None, **params):
        result = run(statement, connection, **params)
        if statement is sql.poll_for_answer:
            frozen = result.freeze()  # read it all; then close the poll as close_poll would
            connection.execute(update(Poll).where(Poll.id == poll_id).values(status=PollStatus.CLOSED.value))
            monkeypatch.setattr(vote, "_run", run)
            return frozen()
        return result

    monkeypatch.setattr(vote, "_run", close_after_the_read)
    response = phone.answer(poll_id, json={"choice": "A"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "poll_not_open"
    assert meeting.answers("moreel-dilemma") == []


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_an_answer_on_a_connection_the_database_dropped_is_stored_on_a_new_one(meeting):
    """A database restart or failover leaves dead connections in the pool. The answer is tried
    once more on a new connection (the upsert is idempotent), so the phone never hears a 500."""
    meeting.open("moreel-dilemma")
    poll_id = meeting.polls["moreel-dilemma"]
    phones = [meeting.phone() for _ in range(3)]
    for phone in phones:
        phone.join()
    assert phones[0].answer(poll_id, json={"choice": "A"}).status_code == 201  # the pool has a connection
    drop_pooled_connections(meeting.app)
    statuses = [phone.answer(poll_id, json={"choice": "B"}).status_code for phone in phones]
    assert statuses == [200, 201, 201]
    assert sorted(value["choice"] for _, value, _ in meeting.answers("moreel-dilemma")) == ["B", "B", "B"]


def test_identical_contributions_from_ten_parallel_participants_are_one_row(meeting):
    count = 10
    phones = [meeting.phone() for _ in range(count)]
    for phone in phones:
        phone.join()
    barrier = threading.Barrier(count, timeout=30)

    def send(phone: Phone):
        barrier.wait()
        return outcome(lambda: phone.contribute("wie beslist hier eigenlijk?", as_json=True))

    results = run_parallel([lambda p=p: send(p) for p in phones], workers=count)
    assert [status for status, _ in results] == [201] * count, results
    rows = meeting.contributions()
    assert [(row.text, row.count, row.status) for row in rows] == [
        ("wie beslist hier eigenlijk?", 10, "pending")
    ]


# --- a model of the tally ------------------------------------------------------------------------


def tally_machine(meetings):
    class TallyMachine(RuleBasedStateMachine):
        """Join, answer, change and close, checked against a dict of token -> choice."""

        phones = Bundle("phones")

        @initialize(target=phones, k=st.integers(min_value=2, max_value=4))
        def create(self, k):
            self.meeting = meetings(k=k)
            self.meeting.open("moreel-dilemma")
            self.model: dict[str, str] = {}
            self.closed = False
            return multiple(*(self.join_new() for _ in range(2)))  # so answers can start at once

        def join_new(self) -> vote.Membership:
            return self.meeting.join_token(vote.new_token())

        @rule(target=phones)
        def join(self):
            return self.join_new()

        def _submit(self, token: str, choice: str) -> None:
            if self.closed:
                with pytest.raises(vote.VoteError) as refused:
                    self.meeting.submit("moreel-dilemma", token, {"choice": choice})
                assert refused.value.code == 409
                return
            outcome = self.meeting.submit("moreel-dilemma", token, {"choice": choice})
            assert outcome == ("changed" if token in self.model else "created")
            self.model[token] = choice

        @rule(token=phones, choice=st.sampled_from(["A", "B"]))
        def answer(self, token, choice):
            self._submit(token, choice)

        @precondition(lambda self: self.model)
        @rule(data=st.data())
        def change(self, data):
            token = data.draw(st.sampled_from(sorted(self.model)))
            self._submit(token, "B" if self.model[token] == "A" else "A")

        @rule(choice=st.sampled_from(["A", "B", "Z"]))
        def stranger_answers(self, choice):
            with pytest.raises(vote.VoteError) as refused:
                self.meeting.submit("moreel-dilemma", vote.Membership(vote.new_token()), {"choice": choice})
            assert refused.value.code == (409 if self.closed else 403)

        @precondition(lambda self: self.model)
        @rule(data=st.data())
        def invalid_answer(self, data):
            token = data.draw(st.sampled_from(sorted(self.model)))
            with pytest.raises(vote.VoteError) as refused:
                self.meeting.submit("moreel-dilemma", token, {"choice": "Z"})
            assert refused.value.code == (409 if self.closed else 422)

        @precondition(lambda self: not self.closed)
        @rule()
        def close(self):
            self.meeting.close("moreel-dilemma")
            self.closed = True

        @invariant()
        def tally_matches_the_model(self):
            rows = self.meeting.answers("moreel-dilemma")
            assert len(rows) == len(self.model)
            keys = [key for _, _, key in rows]
            if self.closed:
                assert keys == [None] * len(rows)
            else:
                assert None not in keys and len(set(keys)) == len(keys)
            result = self.meeting.results("moreel-dilemma")
            assert result.count == len(self.model)
            assert result.shown == (len(self.model) >= self.meeting.k)
            if result.shown:
                expected = Counter(self.model.values())
                assert {key: count for key, _, count, _ in result.rows} == {
                    "A": expected["A"],
                    "B": expected["B"],
                }
            else:
                assert result.rows == ()

    return TallyMachine


def test_tally_follows_a_model_of_joins_answers_changes_and_close(meetings):
    run_state_machine_as_test(
        tally_machine(meetings),
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# --- contributions -------------------------------------------------------------------------------


def test_contribution_is_stored_pending(meeting):
    phone = meeting.phone()
    phone.join()
    response = phone.contribute("wat als niemand het merkt?")
    assert response.status_code == 302
    assert response.location.endswith(f"/j/{meeting.code}#contribute")
    rows = meeting.contributions()
    assert [(row.text, row.count, row.status, row.flagged) for row in rows] == [
        ("wat als niemand het merkt?", 1, "pending", False)
    ]
    assert re.fullmatch(r"[0-9a-f]{32}", rows[0].id)


def test_contribution_needs_a_joined_phone(meeting):
    looked = meeting.phone()
    looked.visit()
    assert looked.contribute("hallo", as_json=True).status_code == 403
    assert meeting.phone().contribute("hallo", as_json=True).status_code == 403
    assert meeting.contributions() == []


@pytest.mark.parametrize("text", [5, ["a"], {"a": 1}, True], ids=["number", "list", "object", "true"])
def test_contribution_whose_text_is_not_a_string_is_refused(meeting, text):
    phone = meeting.phone()
    phone.join()
    status, _ = outcome(lambda: phone.request("POST", f"{phone.base}/contributions", json={"text": text}))
    assert status in (400, 422)
    assert meeting.contributions() == []


def test_identical_text_twice_is_one_row_counted_twice(meeting):
    phone = meeting.phone()
    phone.join()
    phone.contribute("Is dit   eerlijk tegenover de burger?")
    phone.contribute("is dit eerlijk tegenover de burger?", as_json=True)
    rows = meeting.contributions()
    assert len(rows) == 1
    assert rows[0].count == 2


def test_contribution_html_is_escaped_for_facilitator_and_projector(meeting, facilitator):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    phone = meeting.phone()
    phone.join()
    assert phone.contribute(payload, as_json=True).status_code == 201
    page = facilitator.get(f"/sessions/{meeting.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in page
    assert "<script>alert(" not in page and "<img src=x" not in page
    [row] = meeting.contributions()
    meeting.run(lambda session: contributions.moderate(session, row.id, "released"))
    meeting.run(lambda session: sessions.set_show_contributions(session, True))
    page = stage(facilitator, meeting)
    assert "&lt;script&gt;alert(" in page
    assert "<script>alert(" not in page and "<img src=x" not in page


def test_too_long_contribution_is_422_and_keeps_the_text(meeting):
    phone = meeting.phone()
    phone.join()
    text = ("een zorgvuldige afweging vraagt tijd " * 15)[:501]
    assert len(text) == 501
    response = phone.contribute(text)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert text.strip() in page
    assert 'class="notice notice-error"' in page
    assert meeting.contributions() == []
    assert phone.contribute(text, as_json=True).status_code == 422
    assert phone.contribute("   ", as_json=True).status_code == 422
    assert meeting.contributions() == []


@pytest.mark.parametrize(
    "text",
    [
        "mail het rapport naar j.devries@voorbeeld.nl voor vrijdag",
        "bel even met 06-12345678 als je twijfelt",
        "Karel Jansen zei dat het zo moest",
    ],
    ids=["email", "phone", "name"],
)
def test_personal_data_asks_for_a_second_look_before_storing(app, meeting, text):
    phone = meeting.phone()
    phone.join()
    response = phone.contribute(text)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message_for(app, "personal_data") in page
    assert text in page  # kept in the form
    assert 'name="confirm" value="1"' in page
    assert meeting.contributions() == []
    response = phone.contribute(text, as_json=True)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "personal_data"
    assert meeting.contributions() == []
    assert phone.contribute(text, confirm=True).status_code == 302
    rows = meeting.contributions()
    assert [(row.text, row.flagged, row.status) for row in rows] == [(text, True, "pending")]


def test_a_function_word_is_not_taken_for_a_name(meeting):
    phone = meeting.phone()
    phone.join()
    assert phone.contribute("De minister zei dat het rapport anders moest").status_code == 302
    rows = meeting.contributions()
    assert [(row.text, row.flagged) for row in rows] == [
        ("De minister zei dat het rapport anders moest", False)
    ]


def test_released_contributions_appear_only_when_shown_in_sort_key_order(app, client, meeting):
    phone = meeting.phone()
    phone.join()
    texts = ["eerste inzending", "tweede inzending", "derde inzending", "vierde inzending"]
    for text in [*texts, "nog niet vrijgegeven"]:
        assert phone.contribute(text, as_json=True).status_code == 201
    by_text = {row.text: row.id for row in meeting.contributions()}
    # Give them sort keys in the reverse of the order they came in.
    with app.app_context():
        for number, text in enumerate(texts):
            db.session.execute(
                update(Contribution).where(Contribution.id == by_text[text]).values(sort_key=100 - number)
            )
        db.session.commit()
    for text in texts:
        meeting.run(lambda session, text=text: contributions.moderate(session, by_text[text], "released"))
    assert "inzending" not in stage(client, meeting)  # released, but not shown yet
    meeting.run(lambda session: sessions.set_show_contributions(session, True))
    page = stage(client, meeting)
    shown = re.findall(r"<li class=\"stage-contribution\">(\w+ inzending)</li>", page)
    assert shown == texts[::-1]
    assert "nog niet vrijgegeven" not in page
    meeting.run(lambda session: sessions.set_show_contributions(session, False))
    assert "inzending" not in stage(client, meeting)


# --- rate limits ---------------------------------------------------------------------------------


def burst(send, limit: int = 60) -> list:
    """Send until the first 429 (or limit requests); return the responses."""
    responses = []
    for number in range(limit):
        responses.append(send(number))
        if responses[-1].status_code == 429:
            break
    return responses


def test_a_burst_of_answers_from_one_token_meets_429(meeting):
    meeting.open("moreel-dilemma")
    phone = meeting.phone()
    phone.join()
    poll_id = meeting.polls["moreel-dilemma"]
    responses = burst(lambda number: phone.answer(poll_id, json={"choice": "AB"[number % 2]}))
    statuses = [response.status_code for response in responses]
    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) <= {200, 201}
    assert len(meeting.answers("moreel-dilemma")) == 1
    # A JSON client gets a JSON refusal that says when to try again.
    refused = responses[-1]
    assert refused.is_json and refused.json["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    # A phone without JavaScript gets its page with the message; the answer stored stays.
    page = phone.answer(poll_id, data={"choice": "A"})
    assert page.status_code == 429 and page.mimetype == "text/html"
    assert "Wacht een minuut" in page.get_data(as_text=True)
    assert int(page.headers["Retry-After"]) >= 1
    assert len(meeting.answers("moreel-dilemma")) == 1


def test_the_answer_limit_of_one_token_leaves_others_alone(meeting):
    meeting.open("moreel-dilemma")
    poll_id = meeting.polls["moreel-dilemma"]
    eager, calm = meeting.phone(address=CLIENT_IP), meeting.phone(address=CLIENT_IP)
    eager.join()
    calm.join()
    assert (
        burst(lambda number: eager.answer(poll_id, json={"choice": "AB"[number % 2]}))[-1].status_code == 429
    )
    assert calm.answer(poll_id, json={"choice": "A"}).status_code == 201
    assert len(meeting.answers("moreel-dilemma")) == 2


def test_a_burst_of_contributions_meets_429_and_keeps_what_was_sent(meeting):
    phone = meeting.phone()
    phone.join()
    responses = burst(lambda number: phone.contribute(f"gedachte {number}", as_json=True))
    assert responses[-1].status_code == 429
    assert responses[-1].json["error"]["code"] == "rate_limited"
    assert len(meeting.contributions()) == len(responses) - 1


def test_sixty_participants_behind_one_address_are_not_limited(meeting):
    meeting.open("moreel-dilemma")
    poll_id = meeting.polls["moreel-dilemma"]
    statuses = Counter()
    for number in range(60):
        phone = meeting.phone(address=CLIENT_IP)
        statuses[phone.visit().status_code] += 1
        statuses[phone.request("POST", f"{phone.base}/join").status_code] += 1
        statuses[phone.answer(poll_id, json={"choice": "AB"[number % 2]}).status_code] += 1
        statuses[phone.contribute(f"gedachte nummer {number}", as_json=True).status_code] += 1
    assert statuses == Counter({200: 60, 302: 60, 201: 120})
    assert len(meeting.answers("moreel-dilemma")) == 60
    assert meeting.participants() == 60


def wrong_codes(meeting: Meeting, count: int) -> list[str]:
    generator = random.Random(20240601)
    codes = []
    while len(codes) < count:
        code = "".join(
            generator.choice(sessions.JOIN_CODE_ALPHABET) for _ in range(sessions.JOIN_CODE_LENGTH)
        )
        if code != meeting.code:
            codes.append(code)
    return codes


GUESS_ALLOWANCE = 300  # failed lookups per minute and address (1,000 people mistyping by hand pass)
GUESS_ROUTES = {
    "join page": ("GET", "/j/{code}"),
    "state": ("GET", "/j/{code}/state"),
    "join button": ("POST", "/j/{code}/join"),
}


@pytest.mark.parametrize(
    "route",
    [
        "join page",
        pytest.param("state"),
        pytest.param("join button"),
    ],
)
def test_join_code_guessing_meets_429_early(client, meeting, route):
    method, template = GUESS_ROUTES[route]
    client.environ_base["REMOTE_ADDR"] = CLIENT_IP
    limited_at = None
    for number, code in enumerate(wrong_codes(meeting, 1000)):
        status = client.open(template.format(code=code), method=method).status_code
        if status == 429:
            limited_at = number
            break
        assert status == 404, (number, status)
        if number >= GUESS_ALLOWANCE:
            break  # the verdict is in: no need to send the rest of the 1,000
    assert limited_at is not None and limited_at <= GUESS_ALLOWANCE, limited_at


def test_valid_code_page_views_are_not_counted_as_guesses(client, meeting):
    client.environ_base["REMOTE_ADDR"] = CLIENT_IP
    for _ in range(80):
        assert client.get(f"/j/{meeting.code}").status_code == 200
    # The guessing allowance is still whole: the first wrong codes are answered normally.
    for code in wrong_codes(meeting, 10):
        assert client.get(f"/j/{code}").status_code == 404


# --- live state: the 304 answered before Flask -------------------------------------------------


def count_flask_requests(app: Flask, monkeypatch) -> list[str]:
    """Record every request that reaches Flask behind the state fast path."""
    seen: list[str] = []
    fast_path = app.wsgi_app
    assert isinstance(fast_path, live.StateNotModified)
    inner = fast_path.wsgi_app

    def counting(environ, start_response):
        seen.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    monkeypatch.setattr(fast_path, "wsgi_app", counting)
    return seen


def test_an_unchanged_state_poll_is_answered_304_before_flask(app, meeting, monkeypatch):
    phone = meeting.phone()
    phone.join()
    first = phone.request("GET", f"{phone.base}/state")
    assert first.status_code == 200 and first.json["version"] >= 1
    etag = first.headers["ETag"]
    assert (
        etag.startswith(f'"v{first.json["version"]}-')
        and len(etag) == len(f'"v{first.json["version"]}-"') + 16
    )
    flask_saw = count_flask_requests(app, monkeypatch)
    for _ in range(3):
        response = phone.request("GET", f"{phone.base}/state", headers={"If-None-Match": etag})
        assert response.status_code == 304 and response.get_data() == b""
        assert response.headers["ETag"] == etag
        assert response.headers["Cache-Control"] == "no-cache"
        assert "object-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Set-Cookie" not in response.headers
    # One of several ETags, and a lower-case code, are understood too.
    listed = phone.request(
        "GET", f"/j/{meeting.code.lower()}/state", headers={"If-None-Match": f'"v0", {etag}'}
    )
    assert listed.status_code == 304
    assert flask_saw == []
    # HEAD and a first visit without an ETag go to the Flask view.
    assert phone.request("HEAD", f"{phone.base}/state", headers={"If-None-Match": etag}).status_code == 304
    assert phone.request("GET", f"{phone.base}/state").status_code == 200
    assert flask_saw == [f"{phone.base}/state"] * 2


def test_a_changed_state_is_sent_in_full_with_a_new_etag(app, meeting, monkeypatch):
    phone = meeting.phone()
    phone.join()
    first = phone.request("GET", f"{phone.base}/state")
    meeting.open("moreel-dilemma")
    flask_saw = count_flask_requests(app, monkeypatch)
    second = phone.request("GET", f"{phone.base}/state", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert second.headers["ETag"] != first.headers["ETag"]
    assert second.json["version"] > first.json["version"]
    assert second.headers["ETag"].startswith(f'"v{second.json["version"]}-')
    assert flask_saw == [f"{phone.base}/state"]


def test_a_process_remembers_a_version_for_a_quarter_second(app, meeting):
    fast_path = app.wsgi_app
    now = [1000.0]
    fast_path.clock = lambda: now[0]
    phone = meeting.phone()
    phone.join()
    state = f"{phone.base}/state"
    etag = phone.request("GET", state).headers["ETag"]
    assert phone.request("GET", state, headers={"If-None-Match": etag}).status_code == 304  # read at 1000.0
    meeting.open("moreel-dilemma")
    now[0] += 0.2
    assert phone.request("GET", state, headers={"If-None-Match": etag}).status_code == 304  # remembered
    now[0] += 0.1
    changed = phone.request("GET", state, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert len(fast_path.versions) == 1  # only the version is kept, per join code


def test_without_remembering_a_change_is_seen_at_once(meeting, app):
    app.wsgi_app.cache_seconds = 0
    phone = meeting.phone()
    phone.join()
    state = f"{phone.base}/state"
    etag = phone.request("GET", state).headers["ETag"]
    assert phone.request("GET", state, headers={"If-None-Match": etag}).status_code == 304
    meeting.open("moreel-dilemma")
    assert phone.request("GET", state, headers={"If-None-Match": etag}).status_code == 200
    assert app.wsgi_app.versions == {}


def test_the_fast_path_secure_state_poll_carries_hsts(meeting):
    phone = meeting.phone(secure=True)
    phone.join()
    etag = phone.request("GET", f"{phone.base}/state").headers["ETag"]
    response = phone.request("GET", f"{phone.base}/state", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_an_unknown_code_with_an_etag_is_a_counted_guess(client, meeting):
    client.environ_base["REMOTE_ADDR"] = CLIENT_IP
    statuses = [
        client.get(f"/j/{code}/state", headers={"If-None-Match": '"v1"'}).status_code
        for code in wrong_codes(meeting, GUESS_ALLOWANCE + 1)
    ]
    assert statuses[0] == 404 and 429 in statuses


def exhaust_guesses(app, meeting, address: str = CLIENT_IP) -> None:  # noqa: F811
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = address
    for code in wrong_codes(meeting, GUESS_ALLOWANCE + 1):
        if guesser.get(f"/j/{code}/state").status_code == 429:
            return
    raise AssertionError("the guesser was never refused")


def test_a_304_needs_the_etag_the_server_sent_and_then_is_never_refused(app, meeting):
    """The ETag is keyed: a guessed one ("v1", "v2", ...) tells nothing, the one sent is kept."""
    phone = app.test_client()
    phone.environ_base["REMOTE_ADDR"] = CLIENT_IP
    etag = phone.get(f"/j/{meeting.code}/state").headers["ETag"]
    version = phone.get(f"/j/{meeting.code}/state").json["version"]
    guessed = ", ".join(f'"v{n}"' for n in range(version + 3))
    assert phone.get(f"/j/{meeting.code}/state", headers={"If-None-Match": guessed}).status_code == 200
    exhaust_guesses(app, meeting)  # someone on the same network guesses codes
    assert phone.get(f"/j/{meeting.code}/state", headers={"If-None-Match": etag}).status_code == 304
    assert phone.get(f"/j/{meeting.code}/state", headers={"If-None-Match": guessed}).status_code == 429
    other = app.test_client()  # someone else, at another address, is not affected
    other.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert other.get(f"/j/{meeting.code}/state", headers={"If-None-Match": guessed}).status_code == 200


def test_a_phone_that_joined_is_never_refused_because_its_network_guessed(app, meeting):
    meeting.open("moreel-dilemma")
    phone = meeting.phone(address=CLIENT_IP)
    phone.join()
    newcomer = meeting.phone(address=CLIENT_IP)
    exhaust_guesses(app, meeting)
    assert phone.visit().status_code == 200
    assert phone.request("GET", f"{phone.base}/stage").status_code == 200
    assert phone.request("GET", f"{phone.base}/state").status_code == 200
    assert phone.answer(meeting.polls["moreel-dilemma"], json={"choice": "A"}).status_code == 201
    assert phone.contribute("Wat als de minister het vraagt?", as_json=True).status_code == 201
    # Someone who has not joined yet waits out the minute, like the guesser (the README says so).
    assert newcomer.visit().status_code == 429


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("GET", "", None), ("GET", "/state", None), ("GET", "/stage", None), ("POST", "/join", {}),
     ("POST", "/polls/0123456789abcdef0123456789abcdef", {"choice": "A"}),
     ("POST", "/contributions", {"text": "hallo"}), ("POST", "/evaluation", {"cijfer": 7})],
)  # fmt: skip
def test_every_route_answers_an_unknown_code_alike_and_counts_it(app, meeting, method, path, body):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = CLIENT_IP
    client.set_cookie(
        "bp-ZZZZ2345", vote.new_token() + ".0123456789abcdef0123456789abcdef", path="/j/ZZZZ2345"
    )
    as_json = {"json": body} if body is not None else {"headers": {"Accept": "application/json"}}
    response = client.open(f"/j/ZZZZ2345{path}", method=method, **as_json)
    assert (response.status_code, response.mimetype) == (404, "application/json")
    assert response.json == {"error": {"code": "not_found", "message": "unknown code"}}
    as_page = client.open(f"/j/ZZZZ2346{path}", method=method, data=body or {})
    if path != "/state":  # the state poll is JSON only
        assert (as_page.status_code, as_page.mimetype) == (404, "text/html")
        assert "We cannot find this code" in as_page.get_data(
            as_text=True
        ) or "code niet vinden" in as_page.get_data(as_text=True)
    statuses = [client.open(f"/j/{code}{path}", method=method, **as_json).status_code
                for code in wrong_codes(meeting, GUESS_ALLOWANCE + 1)]  # fmt: skip
    assert 429 in statuses and set(statuses) == {404, 429}


# --- anonymity: a whole session, then the database and the logs ----------------------------------


def set_every_logger_to_debug(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)


def test_database_and_logs_hold_no_token_address_user_agent_or_order(app, meetings, facilitator, caplog):
    meeting = meetings()
    meeting.open("moreel-dilemma")
    meeting.show("moreel-dilemma")
    set_every_logger_to_debug(caplog)
    phones = [meeting.phone(address=CLIENT_IP, user_agent=USER_AGENT) for _ in range(5)]
    for number, phone in enumerate(phones):
        phone.join()
        phone.answer(meeting.polls["moreel-dilemma"], data={"choice": "AB"[number % 2]})
        phone.contribute(f"een gedachte van deelnemer {number}")
        etag = phone.request("GET", f"{phone.base}/state").headers["ETag"]
        assert phone.request("GET", f"{phone.base}/state", headers={"If-None-Match": etag}).status_code == 304
    meeting.phone(address=CLIENT_IP, user_agent=USER_AGENT).visit()
    phones[0].answer(meeting.polls["moreel-dilemma"], json={"choice": "B"})
    meeting.open("waarden-en-normen")
    for phone in phones:
        phone.answer(meeting.polls["waarden-en-normen"], json={"ranking": VALUES[::-1]})
    logged = "\n".join(
        f"{record.name} {record.getMessage()} {record.args!r} {record.__dict__!r}"
        for record in caplog.records
    )
    caplog.clear()
    tokens = [phone.token for phone in phones]
    assert all(tokens)
    assert "INSERT INTO answer" in logged  # the capture really saw the requests' work
    for secret in [*tokens, CLIENT_IP, USER_AGENT]:
        assert secret not in logged
    # Finish the session as the facilitator would.
    meeting.run(lambda session: sessions.close_session(session))
    dump = dump_database(app)
    for secret in [*tokens, CLIENT_IP, USER_AGENT]:
        assert secret not in dump
    # Answers cannot be put in time order: no time column, random hex ids.
    with app.app_context():
        metadata = MetaData()
        metadata.reflect(bind=db.engine, only=["answer", "contribution", "participant"])
        for name in ("answer", "contribution", "participant"):
            table = metadata.tables[name]
            for column in table.columns:
                assert not isinstance(column.type, (DateTime, Date, Time)), f"{table.name}.{column.name}"
        ids = list(db.session.scalars(select(Answer.id)))
    assert len(ids) == 10
    assert all(re.fullmatch(r"[0-9a-f]{32}", answer_id) for answer_id in ids)
    assert len(set(ids)) == 10
