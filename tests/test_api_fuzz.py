"""Fuzzing the JSON API: Hypothesis on the vote-body parser and the answer route, schemathesis live.

- validate_answer (vote/service.py) takes whatever JSON a phone or client sends: it either
  returns a value to store or refuses with VoteError(422), never anything else.
- The answer route, on both databases: arbitrary JSON bodies give no 5xx and a documented body.
- schemathesis runs against the app served by gunicorn on loopback, with a bearer token, a bounded
  number of examples per operation and a time limit: no 5xx, every response matches openapi.yaml.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from http.cookiejar import CookieJar

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from beraad.api import spec as api_spec
from beraad.bank import service as bank
from beraad.bank.loader import load_bank
from beraad.extensions import db
from beraad.methods import service as methods_service
from beraad.methods.loader import parse_method
from beraad.models import Poll, User
from beraad.sessions import service as sessions
from beraad.vote.service import MAX_TEXT_ANSWER, VoteError, validate_answer

from .browser.conftest import ROOT, LiveServer
from .conftest import DATA_DIR

SPEC = api_spec.load()
MAX_EXAMPLES_PER_OPERATION = 20  # bounded: the brief allows at most 30
SCHEMATHESIS_TIME_LIMIT = 420  # seconds for the whole run, server start excluded

# --- the vote-body parser ---------------------------------------------------------------------------

OPTION_KEYS = ["A", "B", "C", "rechtvaardigheid", "loyaliteit"]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(["A", "B", "3", " 4 ", "1,2", "A,B", "\x00", "\ud800", "٣", "1e3", "0x3", ""])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)
answer_fields = st.sampled_from(["choice", "value", "ranking", "text"]) | st.text(max_size=6)
raw_bodies = st.dictionaries(answer_fields, json_values, max_size=5)


@st.composite
def polls(draw) -> Poll:
    """A poll of any type, as the methods define them (options for choice and ranking)."""
    poll_type = draw(st.sampled_from(["choice", "scale", "ranking", "text", "unknown"]))
    keys = draw(st.lists(st.sampled_from(OPTION_KEYS), min_size=2, max_size=5, unique=True))
    low = draw(st.integers(0, 9))
    spec = {
        "scale": {"min": low, "max": draw(st.integers(low + 1, 10))} if poll_type == "scale" else None,
        "max_length": draw(st.sampled_from([None, 20, 280, 1000])),
    }
    options = (
        [{"key": key, "text": {"nl": key, "en": key}} for key in keys]
        if poll_type in ("choice", "ranking")
        else []
    )
    return Poll(id="p" * 16, type=poll_type, spec=spec, options=options)


@st.composite
def valid_answers(draw, poll: Poll) -> dict:
    keys = [o["key"] for o in poll.options]
    if poll.type == "choice":
        return {"choice": draw(st.sampled_from(keys))}
    if poll.type == "scale":
        scale = poll.spec["scale"]
        return {
            "value": draw(
                st.integers(scale["min"], scale["max"]) | st.integers(scale["min"], scale["max"]).map(str)
            )
        }
    if poll.type == "ranking":
        order = draw(st.permutations(keys))
        return {"ranking": draw(st.sampled_from([list(order), ",".join(order)]))}
    limit = min(poll.spec["max_length"] or 280, MAX_TEXT_ANSWER)
    # A NUL byte is refused (PostgreSQL cannot store it, and no keyboard types it).
    text = st.text(min_size=1, max_size=limit).filter(lambda t: t.strip() and "\x00" not in t)
    return {"text": draw(text)}


def check_stored_value(poll: Poll, value: dict) -> None:
    """What validate_answer returns is exactly what the poll allows (and is JSON)."""
    json.dumps(value)
    keys = [o["key"] for o in poll.options]
    if poll.type == "choice":
        assert set(value) == {"choice"} and value["choice"] in keys
    elif poll.type == "scale":
        scale = poll.spec["scale"]
        assert set(value) == {"value"} and type(value["value"]) is int
        assert scale["min"] <= value["value"] <= scale["max"]
    elif poll.type == "ranking":
        assert set(value) == {"ranking"} and sorted(value["ranking"]) == sorted(keys)
    else:
        limit = min(poll.spec["max_length"] or 280, MAX_TEXT_ANSWER)
        assert (
            set(value) == {"text"}
            and 0 < len(value["text"]) <= limit
            and value["text"] == value["text"].strip()
        )


@settings(max_examples=500, deadline=None)
@given(poll=polls(), raw=raw_bodies)
def test_validate_answer_stores_a_valid_value_or_refuses_with_422(poll, raw):
    try:
        value = validate_answer(poll, list(poll.options), raw)
    except VoteError as error:
        assert error.code == 422
        return
    check_stored_value(poll, value)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_validate_answer_accepts_every_valid_answer(data):
    poll = data.draw(polls().filter(lambda p: p.type != "unknown"))
    raw = data.draw(valid_answers(poll))
    check_stored_value(poll, validate_answer(poll, list(poll.options), raw))


# --- the answer route, on both databases ------------------------------------------------------------

FUZZ_METHOD = """
key: fuzz-alle-soorten
name: {nl: Alle soorten vragen, en: Every kind of question}
summary: {nl: Voor de fuzztest., en: For the fuzz test.}
minutes: 8
steps:
  - key: kiezen
    title: {nl: Kiezen, en: Choose}
    minutes: 2
    prompt: {nl: Kies., en: Choose.}
    facilitator: {nl: Open de stemming., en: Open the vote.}
    poll:
      type: choice
      question: {nl: "Wat doe je?", en: "What do you do?"}
      options:
        - {key: A, text: {nl: Dit, en: This}}
        - {key: B, text: {nl: Dat, en: That}}
  - key: schalen
    title: {nl: Schaal, en: Scale}
    minutes: 2
    prompt: {nl: "Hoe zeker?", en: "How sure?"}
    facilitator: {nl: Open de stemming., en: Open the vote.}
    poll:
      type: scale
      question: {nl: "Hoe zeker ben je?", en: "How sure are you?"}
      options: {min: 1, max: 5}
  - key: ordenen
    title: {nl: Ordenen, en: Rank}
    minutes: 2
    prompt: {nl: Orden., en: Rank.}
    facilitator: {nl: Open de stemming., en: Open the vote.}
    poll:
      type: ranking
      question: {nl: "Wat weegt het zwaarst?", en: "What weighs most?"}
      options:
        - {key: eerlijkheid, text: {nl: Eerlijkheid, en: Honesty}}
        - {key: zorg, text: {nl: Zorg, en: Care}}
        - {key: loyaliteit, text: {nl: Loyaliteit, en: Loyalty}}
  - key: schrijven
    title: {nl: Schrijven, en: Write}
    minutes: 2
    prompt: {nl: Schrijf., en: Write.}
    facilitator: {nl: Open de stemming., en: Open the vote.}
    poll:
      type: text
      question: {nl: "Welke waarde mis je?", en: "Which value is missing?"}
      max_length: 40
"""


def answer_schema(name: str) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(
        {"components": SPEC["components"], "$ref": f"#/components/schemas/{name}"}, validate_formats=True
    )


@pytest.fixture
def fuzz_session(app) -> dict:
    """A running session with a poll of every type; returns its join code and poll ids by type."""
    with app.app_context():
        methods_service.import_methods([parse_method(FUZZ_METHOD, "fuzz.yaml")])
        bank.import_dilemmas(load_bank(DATA_DIR / "bank"))
        owner = User(username="fuzzer", role="facilitator", password_hash="!token-only")
        db.session.add(owner)
        db.session.flush()
        dilemma = bank.get_by_slug("rapport-bijstellen")
        session = sessions.create_session(
            owner, methods_service.get_method("fuzz-alle-soorten"), [dilemma], "Fuzz"
        )
        sessions.start_session(session)
        db.session.commit()
        return {"id": session.id, "code": session.join_code, "polls": {p.type: p.id for p in session.polls}}


@pytest.mark.parametrize("poll_type", ["choice", "scale", "ranking", "text"])
def test_the_answer_route_never_fails_on_any_json_body(app, fuzz_session, poll_type):
    with app.app_context():
        session = db.session.get(sessions.DeliberationSession, fuzz_session["id"])
        poll = sessions.get_poll(session, fuzz_session["polls"][poll_type])
        sessions.go_to_step(session, poll.position)
        sessions.open_poll(session, poll)
        db.session.commit()
    accepted, error = answer_schema("AnswerAccepted"), answer_schema("Error")
    code, poll_id = fuzz_session["code"], fuzz_session["polls"][poll_type]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(body=raw_bodies | json_values)
    @example(body={"text": "lone \ud800 surrogate"})
    @example(body={"text": "nul \x00 byte"})
    @example(body={"choice": "A\x00"})
    @example(body={"value": "9" * 5000})
    @example(body=None)
    def post_any_body(body):
        phone = app.test_client()  # a new participant each time: the per-token limit never bites
        assert phone.post(f"/j/{code}/join", json={}).status_code == 200
        response = phone.post(
            f"/j/{code}/polls/{poll_id}", data=json.dumps(body), content_type="application/json"
        )
        assert response.status_code < 500, response.data[:300]
        assert response.mimetype == "application/json"
        validator = accepted if response.status_code in (200, 201) else error
        assert validator.is_valid(response.json), response.json
        assert response.status_code in (200, 201, 400, 422)

    post_any_body()


# --- schemathesis against the live app ---------------------------------------------------------------

SERVE_WITH_ROOMY_API_LIMIT = """
import sys
from gunicorn.app.base import BaseApplication

class Server(BaseApplication):
    def load_config(self):
        options = {"bind": sys.argv[1], "workers": 2, "accesslog": None, "errorlog": "-", "timeout": 60}
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self):
        from beraad import create_app

        app = create_app()
        # Hundreds of requests a minute from one token: the per-token API limit would answer
        # most of them with 429 (tested in test_api.py) and leave the endpoints unexercised.
        app.config["API_RATE_LIMIT"] = "100000 per minute"
        return app

Server().run()
"""


class FuzzServer(LiveServer):
    """The browser tests' live server (gunicorn on 127.0.0.1), with a roomy API rate limit."""

    def start(self) -> None:
        import time

        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", SERVE_WITH_ROOMY_API_LIMIT, f"127.0.0.1:{self.port}"],
                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/api/v1/openapi.json", timeout=1)  # noqa: S310 - loopback
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("the server exited:\n" + self.log.read_text()) from None
                time.sleep(0.2)
        raise RuntimeError("the server did not start in 30 s:\n" + self.log.read_text())


class LoopbackClient:
    """Plain HTTP calls to the live server, keeping cookies like a phone (standard library only)."""

    def __init__(self, server: FuzzServer, token: str | None = None):
        self.server = server
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(  # noqa: S310 - loopback only
            self.server.url + path, method=method, headers=self.headers,
            data=json.dumps(body if body is not None else {}).encode(),
        )  # fmt: skip
        with self.opener.open(request, timeout=10) as response:
            return json.loads(response.read() or b"null")


@pytest.fixture
def fuzz_server(tmp_path):
    server = FuzzServer(tmp_path)
    server.beraad("init")
    server.start()
    yield server
    server.stop()


def seed(server: FuzzServer, token: str) -> dict:
    """Real objects for the fuzzer to find: a team whose earlier (closed) session agreed an action
    point; a running session of that team, which looks back on that point (the Terugblik), with a
    contribution and an action point of its own; and a second session for closing (closing the
    first would leave little to explore)."""
    api = LoopbackClient(server, token)
    case = {"method": "dilemmamethode", "dilemmas": ["datalek-collega"]}
    team = api.call("POST", "/api/v1/teams", {"name": "Team Fuzz", "level": "gemeente"})
    spare = api.call("POST", "/api/v1/teams", {"name": "Team Fuzz (to delete)", "level": ""})
    earlier = api.call("POST", "/api/v1/sessions", {**case, "team_id": team["id"]})
    agreed = api.call("POST", f"/api/v1/sessions/{earlier['id']}/actions", {"what": "Protocol bespreken"})
    api.call("POST", f"/api/v1/sessions/{earlier['id']}/start")
    api.call("POST", f"/api/v1/sessions/{earlier['id']}/close")
    running = api.call(
        "POST", "/api/v1/sessions", {**case, "team_id": team["id"], "scheduled_for": "2030-05-01"}
    )
    assert [point["id"] for point in running["follow_up"]] == [agreed["id"]]
    to_close = api.call("POST", "/api/v1/sessions", case)
    base = f"/api/v1/sessions/{running['id']}"
    api.call("POST", f"{base}/start")
    phone = LoopbackClient(server)
    phone.call("POST", f"/j/{running['join_code']}/join")
    phone.call("POST", f"/j/{running['join_code']}/contributions", {"text": "Wat weegt hier het zwaarst?"})
    action = api.call("POST", f"{base}/actions", {"what": "Navragen bij de jurist", "who": "teamleider"})
    return {
        "path.session_id": running["id"],
        "path.poll_id": running["polls"][0]["id"],
        "path.join_code": running["join_code"],
        "path.contribution_id": api.call("GET", f"{base}/contributions")[0]["id"],
        "path.action_id": action["id"],
        "path.position": 0,
        "path.team_id": team["id"],
        "close": to_close["id"],
        "follow_up": agreed["id"],
        "delete_team": spare["id"],
    }


def config_file(folder, values: dict) -> str:
    """schemathesis.toml: pin the path parameters to the seeded objects (the follow-up to the point
    the running session looks back on, not to its own; deleting a team to a team of its own)."""
    close, follow_up, running = values.pop("close"), values.pop("follow_up"), values["path.session_id"]
    spare = values.pop("delete_team")
    lines = ["[parameters]", *(f"{json.dumps(key)} = {json.dumps(value)}" for key, value in values.items())]
    lines += ["", "[[operations]]", 'include-operation-id = "closeSession"',
              f'parameters = {{ "path.session_id" = {close} }}']  # fmt: skip
    pinned = f'{{ "path.session_id" = {running}, "path.action_id" = {follow_up} }}'
    lines += ["", "[[operations]]", 'include-operation-id = "recordFollowUp"', f"parameters = {pinned}"]
    lines += ["", "[[operations]]", 'include-operation-id = "deleteTeam"',
              f'parameters = {{ "path.team_id" = {spare} }}']  # fmt: skip
    path = folder / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_schemathesis_finds_no_server_error_and_no_undocumented_response(fuzz_server, tmp_path):
    token = fuzz_server.beraad("token", "create", "admin", "--name", "schemathesis").strip().splitlines()[-1]
    config = config_file(tmp_path, seed(fuzz_server, token))
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", config,
        "run", f"{fuzz_server.url}/api/v1/openapi.json",
        "--checks", "not_a_server_error,response_schema_conformance",
        "--header", f"Authorization: Bearer {token}",
        "--max-examples", str(MAX_EXAMPLES_PER_OPERATION),
        "--phases", "examples,coverage,fuzzing",
        "--generation-with-security-parameters", "false",
        "--generation-database", "none",
        "--seed", "20301",
        # One worker: Hypothesis describes strategies with ast.parse, which CPython 3.11 does not
        # make thread-safe ("AST constructor recursion depth mismatch" with several workers).
        "--workers", "1",
        "--request-timeout", "30",
        "--no-color",
    ]  # fmt: skip
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=SCHEMATHESIS_TIME_LIMIT, cwd=tmp_path,
        )  # fmt: skip
    except subprocess.TimeoutExpired as error:
        pytest.fail(
            f"schemathesis did not finish in {SCHEMATHESIS_TIME_LIMIT} s:\n{(error.stdout or '')[-5000:]}"
        )
    output = result.stdout + result.stderr
    report = output.split("=== FAILURES ===")[-1] if "FAILURES" in output else output
    assert result.returncode == 0, report[:20000]
    described = sum(
        1 for item in SPEC["paths"].values() for method in item if method in api_spec.HTTP_METHODS
    )
    total, tested = (
        re.search(r"Operations:\s+\d+ selected / (\d+) total", output),
        re.search(r"Tested: (\d+)", output),
    )
    # Every operation was tested (schemathesis leaves out the one serving the description itself).
    assert total and tested and int(tested.group(1)) == int(total.group(1)) >= described - 1, output[-3000:]
    server_log = fuzz_server.log.read_text()
    assert "Traceback" not in server_log, server_log[-5000:]
