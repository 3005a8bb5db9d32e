"""The JSON API (/api/v1) on both databases: every endpoint, every error status, the spec and docs."""

from __future__ import annotations

import logging
import re
from functools import cache

import jsonschema_rs
import pytest
from sqlalchemy import func, select

from beraad.api import spec as api_spec
from beraad.auth import tokens
from beraad.auth.service import get_user_by_username
from beraad.bank import service as bank
from beraad.bank.loader import load_bank
from beraad.extensions import db
from beraad.methods import service as methods_service
from beraad.methods.loader import load_methods
from beraad.models import AccessToken, DeliberationSession, Dilemma, DilemmaRevision, User

from .conftest import DATA_DIR, rows_of_session

SPEC = api_spec.load()
PUBLISHED = "rapport-bijstellen"  # published, options A and B
OTHER_PUBLISHED = "geschenk-leverancier"
DRAFT = "concept-neutraliteit"
NEW_BODY = "Een collega vraagt je om een cijfer in een rapport weg te laten. " * 4
RULE_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


# --- helpers and fixtures --------------------------------------------------------------------------


def conforms(data, schema: str) -> bool:
    """Whether data matches a component schema of the OpenAPI document (formats included)."""
    validator = jsonschema_rs.Draft202012Validator(
        {"components": SPEC["components"], "$ref": f"#/components/schemas/{schema}"}, validate_formats=True
    )
    errors = [error.message for error in validator.iter_errors(data)]
    assert not errors, f"{schema}: {errors[:3]}"
    return True


def is_error(response, status: int, code: str | None = None) -> bool:
    """A JSON error body with this status (and code)."""
    assert response.status_code == status, (response.status_code, response.data[:300])
    assert response.mimetype == "application/json"
    assert conforms(response.json, "Error")
    if code is not None:
        assert response.json["error"]["code"] == code, response.json
    return True


class Api:
    """A client calling /api/v1 with one user's bearer token."""

    def __init__(self, client, token: str):
        self.client = client
        self.token = token
        self.headers = {"Authorization": f"Bearer {token}"}

    def request(self, method: str, path: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open("/api/v1" + path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.request("POST", path, json=json, **kwargs)

    def put(self, path: str, json=None, **kwargs):
        return self.request("PUT", path, json=json, **kwargs)

    def patch(self, path: str, json=None, **kwargs):
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)


@cache
def methods_from_test_data():
    return load_methods(DATA_DIR / "methods")


@pytest.fixture
def content(app):
    """The test methods and the test bank (two published dilemmas, one draft)."""
    with app.app_context():
        methods_service.import_methods(methods_from_test_data())
        bank.import_dilemmas(load_bank(DATA_DIR / "bank"))
        db.session.commit()


@pytest.fixture
def api_as(app, client, content):
    """Return a function giving an Api for a user (created with role on first use).

    Users made here have no usable password (hashing one costs more than the test): they
    call the API with tokens only; sign in with auth.login first for a browser session.
    """

    def make(username: str, role: str = "facilitator") -> Api:
        with app.app_context():
            user = get_user_by_username(username)
            if user is None:
                user = User(username=username, role=role, password_hash="!token-only")
                db.session.add(user)
                db.session.flush()
            _, token = tokens.create_token(user, "test")
            db.session.commit()
        return Api(client, token)

    return make


@pytest.fixture
def anna(api_as) -> Api:
    return api_as("anna", "facilitator")


@pytest.fixture
def cora(api_as) -> Api:
    return api_as("cora", "coordinator")


def new_session(api: Api, **fields) -> dict:
    response = api.post("/sessions", json={"method": "dilemmamethode", "dilemmas": [PUBLISHED], **fields})
    assert response.status_code == 201, response.json
    return response.json


def position_of(session: dict, poll_type: str) -> int:
    """The position of the first step whose poll has this type."""
    types = {poll["id"]: poll["type"] for poll in session["polls"]}
    return next(step["position"] for step in session["steps"] if types.get(step["poll_id"]) == poll_type)


class Phone:
    """A participant's phone: its own cookie jar, JSON requests only."""

    def __init__(self, app, join_code: str):
        self.client = app.test_client()
        self.code = join_code

    def join(self):
        return self.client.post(f"/j/{self.code}/join", json={})

    def answer(self, poll_id: str, body: dict):
        return self.client.post(f"/j/{self.code}/polls/{poll_id}", json=body)

    def contribute(self, text: str, confirm: bool = False):
        return self.client.post(f"/j/{self.code}/contributions", json={"text": text, "confirm": confirm})

    def evaluate(self, answers: dict):
        return self.client.post(f"/j/{self.code}/evaluation", json=answers)


def phones(app, session: dict, count: int) -> list[Phone]:
    result = [Phone(app, session["join_code"]) for _ in range(count)]
    for phone in result:
        assert phone.join().json == {"joined": True}
    return result


# --- the description and the docs page ------------------------------------------------------------


def openapi_path(rule: str) -> str:
    return RULE_PARAMETER.sub(r"{\1}", rule)


def spec_operations() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in SPEC["paths"].items()
        for method in item
        if method in api_spec.HTTP_METHODS
    }


def test_every_api_route_is_described_and_every_described_path_is_a_route(app):
    routes = {
        (method, openapi_path(rule.rule))
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    api_routes = {(method, path) for method, path in routes if path.startswith("/api/v1")}
    described = spec_operations()
    assert api_routes - described == set(), "routes missing from openapi.yaml"
    assert described - routes == set(), "openapi.yaml describes what no route serves"
    assert {path for _, path in described if not path.startswith("/api/v1")} == {
        "/j/{join_code}/join", "/j/{join_code}/state", "/j/{join_code}/polls/{poll_id}",
        "/j/{join_code}/contributions", "/j/{join_code}/evaluation",
    }  # fmt: skip


def _references(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def test_the_description_is_openapi_3_1_with_bearer_auth_and_resolvable_references():
    assert SPEC["openapi"].startswith("3.1")
    bearer = SPEC["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    assert {"bearer": []} in SPEC["security"]
    for reference in set(_references(SPEC)):
        node = SPEC
        for part in reference.removeprefix("#/").split("/"):
            node = node[part]  # a KeyError names a dangling reference
    for name in SPEC["components"]["schemas"]:
        jsonschema_rs.Draft202012Validator(
            {"components": SPEC["components"], "$ref": f"#/components/schemas/{name}"}
        )


def test_the_description_has_no_empty_values():
    """A comma in an unquoted YAML flow value splits it into a stray key with no value."""

    def empty_keys(node, path=""):
        if isinstance(node, dict):
            for key, value in node.items():
                if value is None:
                    yield f"{path}/{key}"
                yield from empty_keys(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from empty_keys(value, f"{path}/{index}")

    assert list(empty_keys(SPEC)) == []


def _resolved(node: dict) -> dict:
    while "$ref" in node:
        target = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_every_json_body_has_a_named_schema_and_every_operation_documents_errors():
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method not in api_spec.HTTP_METHODS:
                continue
            label = f"{method.upper()} {path}"
            assert operation.get("summary") and operation.get("operationId"), label
            body = operation.get("requestBody")
            if body is not None:
                for media in _resolved(body)["content"].values():
                    assert media["schema"]["$ref"].startswith("#/components/schemas/"), label
            assert "default" in operation["responses"], f"{label} documents no error body"
            for status, response in operation["responses"].items():
                for media_type, media in _resolved(response).get("content", {}).items():
                    if media_type == "application/json":
                        schema = media["schema"]
                        assert (
                            "$ref" in schema
                            or schema.get("items", {}).get("$ref")
                            or path.endswith("openapi.json")
                        ), f"{label} {status}"
            if path.startswith("/api/v1") and operation.get("security") != []:
                assert "401" in operation["responses"], label


def test_openapi_json_is_served_without_a_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json["openapi"] == SPEC["openapi"]
    assert set(response.json["paths"]) == set(SPEC["paths"])


def test_docs_page_lists_every_operation_with_its_schemas(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'class="site-header"' in page  # the site's layout (base.html)
    for method, path in spec_operations():
        assert f"<code>{method} {path}</code>" in page, (method, path)
    for name in SPEC["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    for parameter in ("session_id", "join_code", "per_page"):
        assert f"<code>{parameter}</code>" in page
    assert "SessionCreate" in page and "Error" in page
    assert "<script" not in page.split("</header>", 1)[1]  # no scripts, no CDN
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_the_account_page_links_to_the_docs(client, auth):
    auth.login("anna", role="facilitator")
    assert "/api/v1/docs" in client.get("/account").get_data(as_text=True)


# --- authentication and tokens --------------------------------------------------------------------


def test_me_answers_with_the_tokens_user(anna):
    response = anna.get("/me")
    assert response.status_code == 200 and conforms(response.json, "User")
    assert response.json["username"] == "anna" and response.json["role"] == "facilitator"


def test_no_token_is_401_json_with_www_authenticate(client, content):
    response = client.get("/api/v1/sessions")
    assert is_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header", ["Bearer brd_not-a-real-token", "Bearer ", "Basic YW5uYTpwdw==", "brd_x", "Bearer " + "x" * 500]
)
def test_a_bad_authorization_header_is_401(client, content, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert is_error(response, 401, "invalid_token")
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_a_token_from_the_cli_works_and_revoking_it_takes_effect_at_once(app, client, runner, create_user):
    create_user("bert")
    result = runner.invoke(args=["token", "create", "bert", "--name", "script"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    api = Api(client, token)
    assert api.get("/me").json["username"] == "bert"
    result = runner.invoke(args=["token", "revoke", token])
    assert result.exit_code == 0, result.output
    assert is_error(api.get("/me"), 401, "invalid_token")


def test_a_disabled_users_token_stops_working(app, anna):
    with app.app_context():
        get_user_by_username("anna").is_enabled = False
        db.session.commit()
    assert is_error(anna.get("/me"), 401)


def test_token_use_is_recorded_as_a_day_only(app, anna):
    anna.get("/me")
    with app.app_context():
        row = db.session.scalar(select(AccessToken))
        assert row.last_used_on is not None and not hasattr(row.last_used_on, "hour")


def test_the_bearer_token_wins_over_a_login_cookie(client, auth, api_as):
    auth.login("root", role="admin")
    anna = api_as("anna")
    assert anna.get("/me").json["username"] == "anna"
    assert client.get("/api/v1/me").json["username"] == "root"  # the cookie alone


def test_bearer_responses_set_no_cookie(anna):
    response = anna.post("/sessions", json={"method": "dilemmamethode", "dilemmas": [PUBLISHED]})
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers


def test_cookie_calls_need_the_csrf_token_for_changes_but_bearer_calls_do_not(
    app, client, create_user, content
):
    app.config["WTF_CSRF_ENABLED"] = True
    create_user("anna")
    page = client.get("/login").get_data(as_text=True)
    csrf_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post(
        "/login", data={"username": "anna", "password": "correct horse battery", "csrf_token": csrf_token}
    )
    page = client.get("/account").get_data(as_text=True)  # the session rotated at login: a new token
    csrf_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = {"method": "dilemmamethode", "dilemmas": [PUBLISHED]}
    assert client.get("/api/v1/me").status_code == 200  # reading needs no token
    refused = client.post("/api/v1/sessions", json=body)
    assert is_error(refused, 400, "csrf_failed")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DeliberationSession)) == 0
    accepted = client.post("/api/v1/sessions", json=body, headers={"X-CSRFToken": csrf_token})
    assert accepted.status_code == 201
    with app.app_context():
        user = get_user_by_username("anna")
        _, token = tokens.create_token(user, "t")
        db.session.commit()
    other = app.test_client()  # no cookie, no CSRF token: a bearer call
    assert (
        other.post("/api/v1/sessions", json=body, headers={"Authorization": f"Bearer {token}"}).status_code
        == 201
    )


# --- errors ---------------------------------------------------------------------------------------


def test_unknown_api_url_is_404_json(client):
    assert is_error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert is_error(client.get("/api/v1/sessions/-1"), 404)


def test_wrong_method_is_405_json_with_allow(anna):
    response = anna.delete("/me")
    assert is_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_malformed_json_is_400(anna):
    for data in ('{"method": ', "[1, 2]", '"text"', "\xff\xfe"):
        response = anna.post("/sessions", data=data, headers={"Content-Type": "application/json"})
        assert is_error(response, 400, "malformed")


def test_deeply_nested_json_is_refused_without_a_crash(anna):
    data = '{"method": ' + "[" * 5000 + "]" * 5000 + "}"
    response = anna.post("/sessions", data=data, headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422) and is_error(response, response.status_code)


def test_a_body_that_is_not_json_is_415(anna):
    response = anna.post("/sessions", data={"method": "dilemmamethode"})
    assert is_error(response, 415, "unsupported_media_type")


def test_a_body_over_the_size_limit_is_413(app, anna):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = anna.post(
        "/sessions", json={"method": "dilemmamethode", "dilemmas": [PUBLISHED], "title": "x" * 20_000}
    )
    assert is_error(response, 413, "too_large")


def test_unknown_fields_are_422_and_unstorable_text_is_made_storable(anna):
    response = anna.post(
        "/sessions", json={"method": "dilemmamethode", "dilemmas": [PUBLISHED], "colour": "red"}
    )
    assert is_error(response, 422, "unknown_field") and response.json["error"]["field"] == "colour"
    for title, stored in (("nul\x00byte", "nulbyte"), ("lone \ud800 surrogate", "lone \ufffd surrogate")):
        response = anna.post(
            "/sessions", json={"method": "dilemmamethode", "dilemmas": [PUBLISHED], "title": title}
        )
        assert response.status_code == 201 and response.json["title"] == stored


def test_an_unexpected_exception_is_a_logged_json_500(app, anna, monkeypatch, caplog):
    def broken():
        raise RuntimeError("database fell over")

    monkeypatch.setattr(methods_service, "list_methods", broken)
    with caplog.at_level(logging.ERROR):
        response = anna.get("/methods")
    assert is_error(response, 500, "server_error")
    assert "database fell over" not in response.get_data(as_text=True)
    assert any("database fell over" in (record.exc_text or "") for record in caplog.records)


def test_rate_limit_is_per_token_and_answers_429_with_retry_after(app, api_as):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    anna, bert = api_as("anna"), api_as("bert")
    for _ in range(3):
        assert anna.get("/me").status_code == 200
    response = anna.get("/me")
    assert is_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 0
    assert bert.get("/me").status_code == 200  # another token has its own budget


def test_the_api_budget_is_one_per_token_across_every_route(app, api_as):
    """A script cannot multiply its budget by spreading calls over the API's routes."""
    app.config["API_RATE_LIMIT"] = "4 per minute"
    anna = api_as("anna")
    assert [anna.get(path).status_code for path in ("/me", "/methods", "/dilemmas", "/sessions")] == [200] * 4
    assert is_error(anna.get("/methods/dilemmamethode"), 429, "rate_limited")


# --- dilemma bank ---------------------------------------------------------------------------------


def test_facilitators_list_published_dilemmas_only(anna):
    response = anna.get("/dilemmas", query_string={"status": "draft"})
    assert response.status_code == 200 and conforms(response.json, "DilemmaPage")
    assert {item["slug"] for item in response.json["items"]} == {PUBLISHED, OTHER_PUBLISHED}
    assert response.json["total"] == 2


def test_curators_list_every_status_and_can_filter(cora):
    everything = cora.get("/dilemmas").json
    assert everything["total"] == 3
    drafts = cora.get("/dilemmas", query_string={"status": "draft"}).json
    assert [item["slug"] for item in drafts["items"]] == [DRAFT]
    by_level = cora.get("/dilemmas", query_string=[("level", "rijk")]).json
    assert {item["slug"] for item in by_level["items"]} == {PUBLISHED, DRAFT}
    by_theme = cora.get("/dilemmas", query_string=[("theme", "geschenken"), ("theme", "onderzoek")]).json
    assert by_theme["total"] == 2
    by_role = cora.get("/dilemmas", query_string={"role": "onderzoeker"}).json
    assert by_role["total"] == 1


def test_search_and_pages(anna):
    found = anna.get("/dilemmas", query_string={"q": "kerstpakket"}).json
    assert [item["slug"] for item in found["items"]] == [OTHER_PUBLISHED]
    first = anna.get("/dilemmas", query_string={"per_page": 1}).json
    second = anna.get("/dilemmas", query_string={"per_page": 1, "page": 2}).json
    assert first["pages"] == 2 and first["items"][0]["slug"] != second["items"][0]["slug"]


@pytest.mark.parametrize(
    "query", [{"page": "0"}, {"page": "x"}, {"per_page": "101"}, {"theme": "Bad Theme"}, {"level": "wereld"}]
)
def test_bad_list_parameters_are_422(anna, query):
    assert is_error(anna.get("/dilemmas", query_string=query), 422, "invalid")


def test_get_a_dilemma(anna, cora):
    response = anna.get(f"/dilemmas/{PUBLISHED}")
    assert response.status_code == 200 and conforms(response.json, "Dilemma")
    assert response.json["options"][0] == {"key": "A", "text": "Je past de conclusies aan."}
    assert response.json["allowed_transitions"] == []
    assert cora.get(f"/dilemmas/{PUBLISHED}").json["allowed_transitions"] == ["retired"]


def test_a_draft_is_404_for_facilitators(anna, cora):
    assert is_error(anna.get(f"/dilemmas/{DRAFT}"), 404)
    assert cora.get(f"/dilemmas/{DRAFT}").status_code == 200
    assert is_error(cora.get("/dilemmas/no-such-dilemma"), 404)
    assert is_error(cora.get("/dilemmas/Not%20A%20Slug"), 404)


def test_curators_create_dilemmas_as_drafts(app, cora):
    body = {
        "id": "nieuwe-casus", "title": "Nieuwe casus", "body": NEW_BODY, "themes": ["loyaliteit"],
        "levels": ["gemeente"], "roles": ["adviseur"], "sources": ["Eigen ervaring"],
        "options": [{"key": "A", "text": "Weglaten"}, {"key": "B", "text": "Laten staan"}],
    }  # fmt: skip
    response = cora.post("/dilemmas", json=body)
    assert response.status_code == 201 and conforms(response.json, "Dilemma")
    assert response.json["status"] == "draft" and response.json["allowed_transitions"] == ["review"]
    assert response.json["options"][1] == {"key": "B", "text": "Laten staan"}
    with app.app_context():
        dilemma = bank.get_by_slug("nieuwe-casus")
        assert dilemma.themes == ["loyaliteit"] and [r.change for r in bank.revisions(dilemma)] == ["create"]


def test_facilitators_cannot_create_dilemmas(anna):
    response = anna.post("/dilemmas", json={"id": "x", "title": "X", "body": NEW_BODY})
    assert is_error(response, 403, "forbidden")


def test_a_duplicate_dilemma_id_is_409(cora):
    assert is_error(
        cora.post("/dilemmas", json={"id": PUBLISHED, "title": "X", "body": NEW_BODY}), 409, "duplicate"
    )


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"id": "Not A Slug"}, "id"),
        ({"levels": ["wereld"]}, "level"),
        ({"options": [{"key": "A", "text": "Alleen"}]}, "at least two"),
        ({"options": [{"key": "B", "text": "x"}, {"key": "A", "text": "y"}]}, "in order"),
        ({"themes": "geen-lijst"}, "list"),
        ({"language": "de"}, "language"),
        ({"title": ""}, "title"),
        ({"body": "   "}, "empty"),
        ({"body": 12}, "body"),
    ],
)
def test_invalid_dilemmas_are_422_with_the_loaders_message(cora, changes, words):
    body = {"id": "nieuwe-casus", "title": "Nieuwe casus", "body": NEW_BODY, **changes}
    response = cora.post("/dilemmas", json=body)
    assert is_error(response, 422)
    assert words in response.json["error"]["message"]


def test_the_loaders_message_is_english_whatever_language_the_client_asks_for(cora):
    """The bank editor shows the loader's messages in Dutch; the API keeps them in English."""
    body = {"id": "Not A Slug", "title": "Nieuwe casus", "body": NEW_BODY}
    response = cora.post("/dilemmas", json=body, headers={"Accept-Language": "nl"})
    assert is_error(response, 422)
    assert response.json["error"]["message"] == "id 'Not A Slug' must be lowercase a-z, 0-9, dashes"


def test_a_dilemma_over_the_size_limit_is_413(app, cora):
    app.config["MAX_DILEMMA_BYTES"] = 2_000
    response = cora.post("/dilemmas", json={"id": "lang", "title": "Lang", "body": "woord " * 1_000})
    assert is_error(response, 413, "too_large")


def test_curators_edit_dilemmas_keeping_what_they_leave_out(app, cora):
    response = cora.patch(f"/dilemmas/{PUBLISHED}", json={"title": "Het rapport aanpassen", "note": "titel"})
    assert response.status_code == 200 and conforms(response.json, "Dilemma")
    assert response.json["title"] == "Het rapport aanpassen"
    assert response.json["status"] == "published" and len(response.json["options"]) == 2
    with app.app_context():
        dilemma = bank.get_by_slug(PUBLISHED)
        latest = bank.revisions(dilemma)[0]
        assert (latest.change, latest.note) == ("edit", "titel")
    assert is_error(cora.patch(f"/dilemmas/{PUBLISHED}", json={"levels": ["wereld"]}), 422)
    assert is_error(cora.patch("/dilemmas/no-such", json={"title": "X"}), 404)


def test_facilitators_cannot_edit_dilemmas(anna):
    assert is_error(anna.patch(f"/dilemmas/{PUBLISHED}", json={"title": "X"}), 403)


def test_an_edit_that_changes_nothing_records_no_revision(app, cora):
    cora.patch(f"/dilemmas/{PUBLISHED}", json={})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DilemmaRevision)) == 3


def test_dilemmas_move_through_the_workflow(cora, anna):
    response = cora.post(f"/dilemmas/{DRAFT}/transitions", json={"status": "review", "note": "klaar"})
    assert response.status_code == 200 and response.json["status"] == "review"
    assert is_error(
        cora.post(f"/dilemmas/{DRAFT}/transitions", json={"status": "retired"}), 409, "wrong_state"
    )
    assert is_error(cora.post(f"/dilemmas/{DRAFT}/transitions", json={"status": "gone"}), 422)
    # Four eyes: who sent it to review does not publish it, unless an administrator lifted the rule.
    refused = cora.post(f"/dilemmas/{DRAFT}/transitions", json={"status": "published"})
    assert is_error(refused, 409, "wrong_state") and "four eyes" in refused.json["error"]["message"]
    cora.client.application.config["BERAAD_FOUR_EYES"] = False
    assert cora.post(f"/dilemmas/{DRAFT}/transitions", json={"status": "published"}).status_code == 200
    assert anna.get(f"/dilemmas/{DRAFT}").status_code == 200  # now visible to facilitators
    assert is_error(anna.post(f"/dilemmas/{DRAFT}/transitions", json={"status": "retired"}), 403)


# --- methods --------------------------------------------------------------------------------------


def test_list_and_get_methods(anna):
    listed = anna.get("/methods")
    assert listed.status_code == 200
    assert all(conforms(item, "MethodSummary") for item in listed.json)
    assert [m["key"] for m in listed.json] == ["dilemmaspel", "dilemmamethode"]  # shortest first
    method = anna.get("/methods/dilemmamethode")
    assert method.status_code == 200 and conforms(method.json, "Method")
    assert method.json["steps"][3]["poll"]["from_dilemma"] is True
    assert method.json["evaluation"]
    assert is_error(anna.get("/methods/no-such-method"), 404)
    assert is_error(anna.get("/methods/BAD%00KEY"), 404)


# --- sessions -------------------------------------------------------------------------------------


def test_create_a_session(app, anna):
    session = new_session(anna, title="Teamoverleg", k=4, language="en", facilitator_name="Anna")
    assert conforms(session, "Session")
    assert (session["title"], session["k"], session["language"], session["status"]) == (
        "Teamoverleg", 4, "en", "lobby",
    )  # fmt: skip
    assert session["join_url"].endswith(f"/j/{session['join_code']}")
    assert "/p/" in session["projector_url"]
    assert len(session["steps"]) == 10 and [p["type"] for p in session["polls"]] == [
        "choice", "ranking", "choice", "choice",
    ]  # fmt: skip
    assert session["polls"][0]["options"] == [
        {"key": "A", "text": "Je past de conclusies aan."}, {"key": "B", "text": "Je legt je bezwaar vast."},
    ]  # fmt: skip
    with app.app_context():
        row = db.session.get(DeliberationSession, session["id"])
        assert row.owner.username == "anna" and row.facilitator_name == "Anna"


def test_session_defaults_follow_the_configuration(app, anna):
    session = new_session(anna)
    assert session["k"] == app.config["BERAAD_K"] and session["title"] == "Het rapport bijstellen"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"method": "no-such-method", "dilemmas": [PUBLISHED]}, "method"),
        ({"method": "dilemmamethode", "dilemmas": [DRAFT]}, "dilemmas"),
        ({"method": "dilemmamethode", "dilemmas": ["no-such"]}, "dilemmas"),
        ({"method": "dilemmamethode", "dilemmas": []}, "dilemmas"),
        ({"method": "dilemmamethode", "dilemmas": PUBLISHED}, "dilemmas"),
        ({"method": "dilemmamethode", "dilemmas": [PUBLISHED], "k": 1}, "k"),
        ({"method": "dilemmamethode", "dilemmas": [PUBLISHED], "k": True}, "k"),
        ({"method": "dilemmamethode", "dilemmas": [PUBLISHED], "language": "fr"}, "language"),
        ({"dilemmas": [PUBLISHED]}, "method"),
    ],
)
def test_invalid_sessions_are_422(anna, body, field):
    response = anna.post("/sessions", json=body)
    assert is_error(response, 422) and response.json["error"].get("field") == field


def test_the_method_decides_how_many_dilemmas(anna):
    response = anna.post("/sessions", json={"method": "dilemmaspel", "dilemmas": [PUBLISHED]})
    assert is_error(response, 422, "invalid") and "dilemma" in response.json["error"]["message"]
    two = anna.post("/sessions", json={"method": "dilemmaspel", "dilemmas": [PUBLISHED, OTHER_PUBLISHED]})
    assert two.status_code == 201 and len(two.json["dilemmas"]) == 2


def test_list_sessions_follows_the_roles(anna, api_as, cora):
    mine = new_session(anna)
    theirs = new_session(api_as("bert"))
    assert [s["id"] for s in anna.get("/sessions").json] == [mine["id"]]
    listed = cora.get("/sessions").json
    assert all(conforms(item, "SessionSummary") for item in listed)
    assert {s["id"] for s in listed} == {mine["id"], theirs["id"]}
    assert not any(s["can_control"] for s in listed)


def test_get_session_and_its_state(anna):
    session = new_session(anna)
    response = anna.get(f"/sessions/{session['id']}")
    assert response.status_code == 200 and response.json["join_code"] == session["join_code"]
    state = anna.get(f"/sessions/{session['id']}/state")
    assert state.status_code == 200 and conforms(state.json, "LiveState")
    assert state.json["step"] == {"position": 0, "count": 10, "title": state.json["step"]["title"]}
    assert is_error(anna.get("/sessions/999999"), 404)
    assert is_error(anna.get(f"/sessions/{2**40}"), 404)


def test_admins_may_run_anyones_session(anna, api_as):
    session = new_session(anna)
    root = api_as("root", "admin")
    assert root.get(f"/sessions/{session['id']}").status_code == 200
    assert root.post(f"/sessions/{session['id']}/start").status_code == 200


CONTROL_REQUESTS = [
    ("GET", "", None),
    ("GET", "/state", None),
    ("GET", "/contributions", None),
    ("PATCH", "", {"show_contributions": True}),
    ("POST", "/start", None),
    ("POST", "/close", None),
    ("POST", "/step", {"direction": "next"}),
    ("POST", "/timer", {"action": "add", "minutes": 5}),
    ("PUT", "/steps/0/notes", {"notes": "overgenomen"}),
    ("POST", "/polls/{poll}/open", None),
    ("POST", "/polls/{poll}/close", None),
    ("POST", "/polls/{poll}/reveal", None),
    ("POST", "/polls/{poll}/hide", None),
    ("POST", "/alternatives", {"text": "Iets anders"}),
    ("POST", "/actions", {"what": "Overnemen"}),
    ("DELETE", "/actions/1", None),
]


@pytest.mark.parametrize(
    "method, suffix, body", CONTROL_REQUESTS, ids=[f"{m} {s}" for m, s, _ in CONTROL_REQUESTS]
)
def test_a_facilitators_token_cannot_control_anothers_session(app, anna, api_as, method, suffix, body):
    session = new_session(anna)
    before = anna.get(f"/sessions/{session['id']}").json
    mallory = api_as("mallory")
    path = f"/sessions/{session['id']}" + suffix.replace("{poll}", session["polls"][0]["id"])
    response = mallory.request(method, path, json=body)
    assert is_error(response, 403, "forbidden")
    assert anna.get(f"/sessions/{session['id']}").json == before


def test_coordinators_read_results_and_summaries_but_cannot_run_sessions(anna, cora, api_as):
    session = new_session(anna)
    assert cora.get(f"/sessions/{session['id']}/results").status_code == 200
    assert cora.get(f"/sessions/{session['id']}/summary").status_code == 200
    assert is_error(cora.post(f"/sessions/{session['id']}/start"), 403)
    assert is_error(cora.get(f"/sessions/{session['id']}"), 403)
    other = api_as("bert")
    assert is_error(other.get(f"/sessions/{session['id']}/results"), 403)
    assert is_error(other.get(f"/sessions/{session['id']}/summary.pdf"), 403)


def test_state_changes_in_the_wrong_state_are_409(anna):
    session = new_session(anna)
    base = f"/sessions/{session['id']}"
    poll = session["polls"][0]["id"]
    assert is_error(anna.post(f"{base}/polls/{poll}/open"), 409, "wrong_state")  # not started
    assert is_error(anna.post(f"{base}/timer", json={"action": "start"}), 409)
    assert anna.post(f"{base}/start").status_code == 200
    assert is_error(anna.post(f"{base}/start"), 409)
    assert is_error(anna.post(f"{base}/polls/{poll}/close"), 409)  # not open
    assert is_error(anna.post(f"{base}/polls/{poll}/reveal"), 409)  # never opened
    assert anna.post(f"{base}/close").status_code == 200
    for method, path, body in [
        ("POST", "/close", None), ("POST", "/step", {"position": 2}), ("POST", "/actions", {"what": "x"}),
        ("PUT", "/steps/0/notes", {"notes": "x"}), ("PATCH", "", {"evaluation_open": True}),
    ]:  # fmt: skip
        assert is_error(anna.request(method, base + path, json=body), 409, "session_closed"), path


def test_unknown_polls_steps_contributions_and_actions_are_404(anna):
    session = new_session(anna)
    base = f"/sessions/{session['id']}"
    assert is_error(anna.post(f"{base}/polls/no-such-poll/open"), 404)
    assert is_error(anna.put(f"{base}/steps/99/notes", json={"notes": "x"}), 404)
    assert is_error(anna.patch(f"{base}/contributions/{'0' * 32}", json={"status": "released"}), 404)
    assert is_error(anna.patch(f"{base}/contributions/not-an-id", json={"status": "released"}), 404)
    assert is_error(anna.delete(f"{base}/actions/12345"), 404)


@pytest.mark.parametrize(
    "path, body",
    [
        ("/step", {}),
        ("/step", {"position": 1, "direction": "next"}),
        ("/step", {"position": 10}),
        ("/step", {"direction": "sideways"}),
        ("/timer", {"action": "add"}),
        ("/timer", {"action": "add", "minutes": 61}),
        ("/timer", {"action": "rewind"}),
        ("/alternatives", {"text": " "}),
        ("/actions", {"what": ""}),
        ("/actions", {"what": "x", "due": "31-12-2030"}),
        ("/actions", {"what": "x", "due": "2030-02-30"}),
        ("", {"case_consent": "redacted"}),
        ("", {"case_redacted": "zonder keuze"}),
        ("", {"show_contributions": "yes"}),
    ],
)
def test_invalid_control_requests_are_422(anna, path, body):
    session = new_session(anna)
    anna.post(f"/sessions/{session['id']}/start")
    method = "PATCH" if path == "" else "POST"
    assert is_error(anna.request(method, f"/sessions/{session['id']}{path}", json=body), 422)


def test_notes_over_the_limit_are_413(anna):
    session = new_session(anna)
    response = anna.put(f"/sessions/{session['id']}/steps/0/notes", json={"notes": "x" * 200_001})
    assert is_error(response, 413, "too_large")


def test_run_a_whole_session_through_the_api(app, anna):
    session = new_session(anna)
    sid, base = session["id"], f"/sessions/{session['id']}"

    started = anna.post(f"{base}/start")
    assert started.status_code == 200 and conforms(started.json, "Session")
    assert started.json["status"] == "running" and started.json["steps"][0]["running"]

    assert anna.post(f"{base}/step", json={"direction": "next"}).json["current_position"] == 1
    assert anna.post(f"{base}/step", json={"direction": "previous"}).json["current_position"] == 0
    timer = anna.post(f"{base}/timer", json={"action": "add", "minutes": 5})
    assert timer.json["steps"][0]["extra_minutes"] == 5
    assert anna.post(f"{base}/timer", json={"action": "pause"}).json["steps"][0]["running"] is False
    assert anna.post(f"{base}/timer", json={"action": "start"}).json["steps"][0]["running"] is True

    notes = anna.put(f"{base}/steps/0/notes", json={"notes": "Iedereen is er."})
    assert (
        notes.status_code == 200 and conforms(notes.json, "Step") and notes.json["notes"] == "Iedereen is er."
    )

    # Vote: move to the first choice poll's step, open it, and let three phones answer.
    position = position_of(session, "choice")
    moved = anna.post(f"{base}/step", json={"position": position}).json
    poll_id = moved["steps"][position]["poll_id"]
    opened = anna.post(f"{base}/polls/{poll_id}/open")
    assert opened.status_code == 200 and conforms(opened.json, "Poll") and opened.json["status"] == "open"
    group = phones(app, session, 3)
    assert group[0].answer(poll_id, {"choice": "A"}).status_code == 201
    assert group[1].answer(poll_id, {"choice": "B"}).status_code == 201
    while_open = anna.get(f"{base}/results").json
    assert conforms(while_open, "SessionResults")
    assert while_open["polls"][0]["answers"] == 2 and while_open["polls"][0]["results"] is None
    state = anna.get(f"{base}/state").json
    assert state["poll"]["answers"] == 2 and state["participants"] == 3

    # k rule: with two answers (k = 3) a closed poll gives only its count.
    anna.post(f"{base}/polls/{poll_id}/close")
    below_k = anna.get(f"{base}/results").json["polls"][0]["results"]
    assert below_k == {"count": 2, "k": 3, "shown": False, "rows": [], "texts": [], "mean": None}

    # The ranking poll reaches k: three answers, results with Borda points.
    ranking_position = position_of(session, "ranking")
    ranking_id = session["steps"][ranking_position]["poll_id"]
    anna.post(f"{base}/step", json={"position": ranking_position})
    anna.post(f"{base}/polls/{ranking_id}/open")
    keys = [option["key"] for option in session["polls"][1]["options"]]
    for phone in group:
        assert phone.answer(ranking_id, {"ranking": keys}).status_code == 201
    assert group[0].answer(ranking_id, {"ranking": list(reversed(keys))}).json == {"status": "changed"}
    closed = anna.post(f"{base}/polls/{ranking_id}/close")
    assert closed.json["status"] == "closed" and closed.json["answers"] == 3
    shown = next(p for p in anna.get(f"{base}/results").json["polls"] if p["poll_id"] == ranking_id)
    assert shown["results"]["shown"] is True and shown["results"]["count"] == 3
    assert shown["results"]["rows"][0]["key"] == keys[0]
    assert anna.post(f"{base}/polls/{ranking_id}/reveal").json["revealed"] is True
    assert anna.post(f"{base}/polls/{ranking_id}/hide").json["revealed"] is False

    # An alternative option for the coming choice polls on this dilemma.
    added = anna.post(f"{base}/alternatives", json={"text": "Je vraagt een second opinion."})
    assert added.status_code == 201 and added.json == {"key": "C"}
    later = anna.get(base).json["polls"][2]
    assert [o["key"] for o in later["options"]] == ["A", "B", "C"]

    # Contributions: sent anonymously, released by the facilitator, shown on the projector.
    assert group[0].contribute("Transparantie weegt zwaar.").status_code == 201
    pending = anna.get(f"{base}/contributions")
    assert pending.status_code == 200 and all(conforms(item, "Contribution") for item in pending.json)
    contribution_id = pending.json[0]["id"]
    released = anna.patch(f"{base}/contributions/{contribution_id}", json={"status": "released"})
    assert released.status_code == 200 and released.json["status"] == "released"
    assert is_error(anna.patch(f"{base}/contributions/{contribution_id}", json={"status": "shown"}), 422)
    assert anna.patch(base, json={"show_contributions": True}).json["show_contributions"] is True

    # Action points and the case presenter's consent.
    point = anna.post(
        f"{base}/actions", json={"what": "Bespreken met MT", "who": "teamleider", "due": "2030-06-01"}
    )
    assert point.status_code == 201 and conforms(point.json, "ActionPoint")
    spare = anna.post(f"{base}/actions", json={"what": "Weg ermee"}).json
    assert anna.delete(f"{base}/actions/{spare['id']}").status_code == 204
    consent = anna.patch(base, json={"case_consent": "question"})
    assert consent.status_code == 200 and consent.json["case_consent"] == "question"

    # The evaluation, then close.
    assert anna.patch(base, json={"evaluation_open": True}).json["evaluation_open"] is True
    method = anna.get("/methods/dilemmamethode").json
    scale_item = next(item for item in method["evaluation"] if item["type"] == "scale")
    for phone in group:
        assert phone.evaluate({scale_item["key"]: scale_item["scale"]["max"]}).status_code == 201
    final = anna.post(f"{base}/close")
    assert final.status_code == 200 and final.json["status"] == "closed" and final.json["closed_at"]
    assert is_error(group[1].answer(poll_id, {"choice": "A"}), 410, "closed")

    # The summary in every format.
    summary = anna.get(f"{base}/summary")
    assert summary.status_code == 200 and conforms(summary.json, "Summary")
    assert summary.json["session_id"] == sid and summary.json["contributions"] == [
        "Transparantie weegt zwaar."
    ]
    assert summary.json["actions"] == [{"what": "Bespreken met MT", "who": "teamleider", "due": "2030-06-01"}]
    assert [p["shown"] for p in summary.json["polls"]] == [False, True]
    assert summary.json["dilemmas"][0]["consent"] == "question"
    assert summary.json["evaluation"][0]["count"] == 3
    assert summary.json["steps"][0]["notes"] == "Iedereen is er."
    pdf = anna.get(f"{base}/summary.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    markdown = anna.get(f"{base}/summary.md")
    assert markdown.mimetype == "text/markdown" and "Bespreken met MT" in markdown.get_data(as_text=True)
    table = anna.get(f"{base}/summary.csv")
    assert table.mimetype == "text/csv" and table.get_data(as_text=True).startswith("\ufeffSoort;Code;")


def test_the_summary_files_match_the_web_uis(app, client, auth, api_as):
    auth.login("anna", role="facilitator")
    anna = api_as("anna")  # the same user in the browser and with a token
    session = new_session(anna)
    for extension in ("md", "csv"):
        via_api = anna.get(f"/sessions/{session['id']}/summary.{extension}")
        via_web = client.get(f"/sessions/{session['id']}/summary.{extension}")
        assert via_api.data == via_web.data
        assert via_api.headers["Content-Disposition"] == via_web.headers["Content-Disposition"]


def test_unknown_summary_is_404(anna):
    for suffix in ("summary", "summary.pdf", "summary.md", "summary.csv", "results"):
        assert is_error(anna.get(f"/sessions/424242/{suffix}"), 404)


# --- the participant routes, with JSON ---------------------------------------------------------------


@pytest.fixture
def open_poll(app, anna) -> tuple[dict, str]:
    """A running session whose first choice poll is open."""
    session = new_session(anna)
    base = f"/sessions/{session['id']}"
    anna.post(f"{base}/start")
    position = position_of(session, "choice")
    anna.post(f"{base}/step", json={"position": position})
    poll_id = session["steps"][position]["poll_id"]
    assert anna.post(f"{base}/polls/{poll_id}/open").status_code == 200
    return session, poll_id


def test_participants_join_and_vote_with_json_without_a_csrf_token(app, open_poll):
    app.config["WTF_CSRF_ENABLED"] = True
    session, poll_id = open_poll
    phone = Phone(app, session["join_code"])
    joined = phone.join()
    assert joined.status_code == 200 and conforms(joined.json, "Joined")
    assert any(
        header.startswith(f"bp-{session['join_code']}=") for header in joined.headers.getlist("Set-Cookie")
    )
    state = phone.client.get(f"/j/{session['join_code']}/state")
    assert conforms(state.json, "ParticipantState") and state.json["poll"]["id"] == poll_id
    answered = phone.answer(poll_id, {"choice": "B"})
    assert answered.status_code == 201 and conforms(answered.json, "AnswerAccepted")
    refused = phone.answer(poll_id, {"choice": "Z"})
    assert refused.status_code == 422 and conforms(refused.json, "Error")
    assert refused.json["error"]["code"] == "unknown_option"


def test_participant_form_posts_still_need_the_csrf_token(app, open_poll):
    app.config["WTF_CSRF_ENABLED"] = True
    session, poll_id = open_poll
    phone = Phone(app, session["join_code"])
    phone.join()
    code = session["join_code"]
    assert phone.client.post(f"/j/{code}/polls/{poll_id}", data={"choice": "A"}).status_code == 400
    # A body that looks like JSON but is sent as a form-compatible type is a form post.
    assert (
        phone.client.post(
            f"/j/{code}/polls/{poll_id}", data='{"choice": "A"}', content_type="text/plain"
        ).status_code
        == 400
    )
    assert phone.client.post(f"/j/{code}/join").status_code == 400
    with app.app_context():
        from beraad.vote.service import answer_count

        assert answer_count(poll_id) == 0


def test_participant_json_errors(app, open_poll):
    session, poll_id = open_poll
    stranger = Phone(app, session["join_code"])
    assert stranger.answer(poll_id, {"choice": "A"}).json["error"]["code"] == "not_joined"
    stranger.join()
    assert stranger.answer("no-such-poll", {"choice": "A"}).status_code == 404
    malformed = stranger.client.post(
        f"/j/{session['join_code']}/polls/{poll_id}", data="[", content_type="application/json"
    )
    assert malformed.status_code == 400 and conforms(malformed.json, "Error")
    assert stranger.evaluate({"x": 1}).json["error"]["code"] == "evaluation_not_open"


def test_models_untouched_by_reads(app, anna):
    """Reading through the API changes nothing (beyond the token's last-used day)."""
    sid = new_session(anna)["id"]
    with app.app_context():
        before = (
            db.session.scalar(select(func.max(DeliberationSession.version))),
            db.session.scalar(select(func.count()).select_from(Dilemma)),
            db.session.scalar(select(func.count()).select_from(User)),
        )
    for path in ("/dilemmas", "/methods", "/sessions", f"/sessions/{sid}", f"/sessions/{sid}/state",
                 f"/sessions/{sid}/results", f"/sessions/{sid}/summary"):  # fmt: skip
        assert anna.get(path).status_code == 200
    with app.app_context():
        after = (
            db.session.scalar(select(func.max(DeliberationSession.version))),
            db.session.scalar(select(func.count()).select_from(Dilemma)),
            db.session.scalar(select(func.count()).select_from(User)),
        )
    assert before == after


def test_the_evaluation_form_without_javascript_stores_the_answers(app, anna):
    """The phone's evaluation is a plain HTML form: its fields arrive as form data, not JSON."""
    session = new_session(anna)
    base = f"/sessions/{session['id']}"
    assert anna.post(f"{base}/start").status_code == 200
    assert anna.patch(base, json={"evaluation_open": True}).status_code == 200
    phone = app.test_client()
    assert phone.post(f"/j/{session['join_code']}/join", data={}).status_code in (302, 303)
    page = phone.post(f"/j/{session['join_code']}/evaluation", data={"herkenbaar": "4", "cijfer": "8"})
    assert page.status_code in (302, 303), page.get_data(as_text=True)[:400]
    followed = phone.get(page.headers["Location"]).get_data(as_text=True)
    assert "Bedankt voor je evaluatie." in followed


# --- sessions: archive, restore, delete ----------------------------------------------------------


def test_the_owner_archives_restores_and_lists_archived_sessions(anna):
    kept, archived = new_session(anna), new_session(anna)
    assert kept["archived"] is False
    response = anna.post(f"/sessions/{archived['id']}/archive")
    assert response.status_code == 200 and conforms(response.json, "Session")
    assert response.json["archived"] is True
    assert anna.post(f"/sessions/{archived['id']}/archive").json["archived"] is True  # again: no change

    assert [s["id"] for s in anna.get("/sessions").json] == [kept["id"]]
    assert [s["id"] for s in anna.get("/sessions?archived=false").json] == [kept["id"]]
    listed = anna.get("/sessions?archived=true").json
    assert [s["id"] for s in listed] == [archived["id"]]
    assert all(conforms(item, "SessionSummary") and item["archived"] for item in listed)

    restored = anna.post(f"/sessions/{archived['id']}/unarchive")
    assert restored.status_code == 200 and restored.json["archived"] is False
    assert {s["id"] for s in anna.get("/sessions").json} == {kept["id"], archived["id"]}
    assert anna.get("/sessions?archived=true").json == []


@pytest.mark.parametrize("value", ["yes", "1", "TRUE", "maybe"])
def test_the_archived_filter_takes_true_or_false(anna, value):
    assert is_error(anna.get(f"/sessions?archived={value}"), 422, "invalid")


def test_the_owner_deletes_a_closed_session_with_every_row_of_it(app, anna):
    session = new_session(anna)
    other = new_session(anna)
    base = f"/sessions/{session['id']}"
    assert anna.post(f"{base}/start").status_code == 200
    position = position_of(session, "choice")
    poll_id = session["steps"][position]["poll_id"]
    anna.post(f"{base}/step", json={"position": position})
    anna.post(f"{base}/polls/{poll_id}/open")
    group = phones(app, session, 3)
    for phone, choice in zip(group, "ABA", strict=True):
        assert phone.answer(poll_id, {"choice": choice}).status_code == 201
    assert group[0].contribute("Wat weegt het zwaarst?").status_code == 201
    assert anna.patch(base, json={"evaluation_open": True}).status_code == 200
    assert group[1].evaluate({"herkenbaar": 4}).status_code == 201
    assert anna.post(f"{base}/actions", json={"what": "Navragen"}).status_code == 201
    assert anna.put(f"{base}/steps/0/notes", json={"notes": "Aantekening"}).status_code == 200
    assert is_error(anna.delete(base), 409, "wrong_state")  # running
    assert anna.post(f"{base}/close").status_code == 200
    poll_ids = [poll["id"] for poll in session["polls"]]
    with app.app_context():
        assert all(rows_of_session(session["id"], poll_ids).values())

    response = anna.delete(base)
    assert response.status_code == 204 and response.data == b""
    with app.app_context():
        rows = rows_of_session(session["id"], poll_ids)
        assert rows == dict.fromkeys(rows, 0)
        assert rows_of_session(other["id"], [p["id"] for p in other["polls"]])["poll"] == len(other["polls"])
    assert is_error(anna.get(base), 404)
    assert is_error(anna.delete(base), 404)
    assert [s["id"] for s in anna.get("/sessions").json] == [other["id"]]


def test_an_admin_archives_and_deletes_anyones_session(anna, api_as):
    session = new_session(anna)
    root = api_as("root", "admin")
    assert root.post(f"/sessions/{session['id']}/archive").json["archived"] is True
    assert root.post(f"/sessions/{session['id']}/unarchive").json["archived"] is False
    assert root.delete(f"/sessions/{session['id']}").status_code == 204
    assert is_error(anna.get(f"/sessions/{session['id']}"), 404)


def test_a_running_session_can_be_neither_archived_nor_deleted(anna):
    session = new_session(anna)
    base = f"/sessions/{session['id']}"
    assert anna.post(f"{base}/start").status_code == 200
    for response in (anna.post(f"{base}/archive"), anna.delete(base)):
        assert is_error(response, 409, "wrong_state")
        assert "close it first" in response.json["error"]["message"]
    after = anna.get(base)
    assert after.status_code == 200 and after.json["archived"] is False and after.json["status"] == "running"


@pytest.mark.parametrize("role", ["facilitator", "coordinator"])
@pytest.mark.parametrize(
    "method, suffix",
    [("DELETE", ""), ("POST", "/archive"), ("POST", "/unarchive")],
    ids=["delete", "archive", "unarchive"],
)
def test_others_may_neither_archive_nor_delete_a_session(anna, api_as, role, method, suffix):
    session = new_session(anna)
    other = api_as("mallory", role)
    assert is_error(other.request(method, f"/sessions/{session['id']}{suffix}"), 403, "forbidden")
    after = anna.get(f"/sessions/{session['id']}")
    assert after.status_code == 200 and after.json["archived"] is False
