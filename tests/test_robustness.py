"""Bad input from outside gets a clear 4xx and breaks nothing for anyone else.

Written as an attacker would send it: a lone surrogate from a phone, JSON nested thousands deep,
ids larger than any database integer, a page number of 10**20.
"""

from __future__ import annotations

import markdown
import pytest
from sqlalchemy import select

from beraad.extensions import db
from beraad.models import Contribution, DeliberationSession
from beraad.vote import service as vote

from .conftest import without_a_database
from .test_sessions import content, new_session_form  # noqa: F401
from .test_vote import OWNER, facilitator, meeting, meetings  # noqa: F401

LONE_SURROGATE = "waarde \udfff"


def test_a_lone_surrogate_from_a_phone_is_replaced_and_every_page_still_works(  # noqa: F811
    app,
    client,
    facilitator,  # noqa: F811
    meetings,  # noqa: F811
):
    peiling = meetings("peiling")
    phone = peiling.phone()
    phone.join()
    peiling.open("kernwaarde")
    poll = peiling.polls["kernwaarde"]
    # Only JSON can carry one ("\udfff"); a form post is encoded by the browser, which replaces it.
    # The edge replaces it (U+FFFD) and drops a NUL: nothing typed is lost, nothing breaks a page.
    for send in (
        lambda: phone.answer(poll, json={"text": LONE_SURROGATE}),
        lambda: phone.contribute(LONE_SURROGATE, as_json=True),
        lambda: phone.contribute("nul\x00" + LONE_SURROGATE, as_json=True),
    ):
        response = send()
        assert response.status_code in (200, 201), response.status_code
    with app.app_context():
        stored = {row.text: row.count for row in db.session.query(Contribution)}
        assert stored == {"waarde \ufffd": 1, "nulwaarde \ufffd": 1}
    assert phone.answer(poll, json={"text": "moed"}).status_code == 200  # the phone can still change it
    peiling.close("kernwaarde")
    peiling.reveal("kernwaarde")
    with app.app_context():
        session = db.session.get(DeliberationSession, peiling.id)
        projector, session_id = session.projector_token, session.id
    for url in (f"/sessions/{session_id}", f"/p/{projector}/stage", f"/sessions/{session_id}/summary",
                f"/sessions/{session_id}/summary.md"):  # fmt: skip
        assert facilitator.get(url).status_code == 200, url


def test_json_nested_thousands_deep_is_a_400_not_a_500(meeting):  # noqa: F811
    phone = meeting.phone()
    phone.join()
    meeting.open("moreel-dilemma")
    body = "[" * 5000 + "]" * 5000
    response = phone.request(
        "POST", f"{phone.base}/polls/{meeting.polls['moreel-dilemma']}", data=body,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/sessions/18446744073709551616", 404),
     ("GET", "/sessions/18446744073709551616/summary.pdf", 404), ("GET", "/sessions/2147483648", 404),
     ("POST", "/admin/users/18446744073709551616", 404),
     ("GET", "/bank/?page=100000000000000000000", 200)],
)  # fmt: skip
def test_numbers_beyond_any_database_integer_are_not_found_not_a_500(client, auth, method, path, status):
    auth.login("beheer", role="admin")
    assert client.open(path, method=method).status_code == status


def test_signed_in_pages_and_downloads_are_never_stored(app, facilitator, meeting):  # noqa: F811
    with app.app_context():
        session_id = db.session.get(DeliberationSession, meeting.id).id
    base = f"/sessions/{session_id}"
    for path in (
        "/sessions/",
        base,
        f"{base}/summary",
        f"{base}/summary.md",
        f"{base}/summary.csv",
        "/account",
    ):
        response = facilitator.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response.headers.get("Cache-Control", ""), path


def test_a_text_answer_with_newlines_adds_no_structure_to_the_markdown_summary(  # noqa: F811
    app,
    facilitator,  # noqa: F811
    meetings,  # noqa: F811
):
    peiling = meetings("peiling")
    peiling.open("kernwaarde")
    attack = "moed\n# Kop\n- punt\n1. twee"
    peiling.voters("kernwaarde", [{"text": attack}, {"text": "zorg"}, {"text": "trouw"}])
    peiling.close("kernwaarde")
    page = facilitator.get(f"/sessions/{peiling.id}/summary.md").get_data(as_text=True)
    assert (
        "\n# Kop van de aanvaller" not in page and "\n- lijstpunt" not in page and "\n1. nog een" not in page
    )
    html = markdown.markdown(page, extensions=["tables"])
    assert "<table>" not in html and html.count("<h1>") == 1


# --- races with the close ------------------------------------------------------------------------


def _close_elsewhere(meeting) -> None:  # noqa: F811
    """The facilitator closes the session from another request (its own app context)."""
    with meeting.app.app_context():
        meeting.close_session()


@pytest.mark.parametrize("what", ["evaluation", "contribution"])
def test_what_races_the_close_is_refused_as_closed_and_nothing_is_stored(meeting, what):  # noqa: F811
    from beraad.models import EvaluationAnswer
    from beraad.vote import contributions, evaluation

    meeting.run(lambda session: evaluation.set_open(session, True))
    member = meeting.join_token(vote.new_token())
    with meeting.app.app_context():
        session = db.session.get(DeliberationSession, meeting.id)  # read before the close...
        assert not session.is_closed
        _close_elsewhere(meeting)  # ...which commits in between
        vote.begin_write()
        with pytest.raises(vote.VoteError) as refused:
            if what == "evaluation":
                evaluation.submit(session, member, {"vrij-spreken": 4, "verbeterpunt": "te laat"})
            else:
                contributions.submit(session, "te laat ingestuurd")
        db.session.rollback()
        assert (refused.value.code, refused.value.message) == (410, "closed")
        assert db.session.scalars(select(EvaluationAnswer)).all() == []
        assert db.session.scalars(select(Contribution)).all() == []


def test_a_contribution_or_evaluation_after_the_close_hears_closed_not_not_joined(meeting):  # noqa: F811
    phone = meeting.phone()
    phone.join()
    meeting.close_session()
    for path, body in (("contributions", {"text": "na afloop"}), ("evaluation", {"vrij-spreken": 3})):
        response = phone.request("POST", f"{phone.base}/{path}", json=body)
        assert response.status_code == 410, path
        assert response.json["error"]["code"] == "closed"


# --- the database away ---------------------------------------------------------------------------


@without_a_database
def test_without_its_database_the_app_answers_503_with_retry_after_never_500(tmp_path, url):
    from beraad import create_app

    from .conftest import base_config

    app = create_app(base_config(url, tmp_path))
    client = app.test_client()
    phone_json = {"json": {"choice": "A"}, "headers": {"Accept": "application/json"}}
    bearer = "Bearer brd_" + "x" * 43
    cases = [
        ("GET", "/j/ABCD2345", {}, "text/html"),
        ("GET", "/j/ABCD2345/state", {"headers": {"If-None-Match": '"v3"'}}, "application/json"),
        ("POST", "/j/ABCD2345/polls/0123456789abcdef0123456789abcdef", phone_json, "application/json"),
        ("POST", "/j/ABCD2345/contributions", {"json": {"text": "hallo"}}, "application/json"),
        ("GET", "/api/v1/dilemmas", {"headers": {"Authorization": bearer}}, "application/json"),
    ]
    for method, path, options, kind in cases:
        response = client.open(path, method=method, **options)
        assert response.status_code == 503, (path, response.status_code)
        assert 1 <= int(response.headers["Retry-After"]) <= 60, path  # (the limiter may name its own)
        assert response.mimetype == kind, path
        if kind == "application/json":
            assert response.json["error"]["code"] == "unavailable"
        else:  # the page tries again by itself
            assert '<meta http-equiv="refresh" content="5">' in response.get_data(as_text=True)


# --- the input policy at the edge: HTML forms and query strings too ------------------------------


def test_control_characters_in_forms_and_query_strings_are_dropped_never_a_500(  # noqa: F811
    app,
    client,
    auth,
    content,  # noqa: F811
):
    from beraad.models import ActionPoint

    auth.login("anna", role="facilitator")
    response = client.post("/sessions/new", data=new_session_form(title="Beraad\x00 over\x1b het rapport"))
    assert response.status_code == 302
    base = response.location.split("#")[0]
    response = client.post(
        base + "/actions", data={"what": "Bel\x00 de vertrouwens\x07persoon", "who": "team\x0bleider"}
    )
    assert response.status_code == 302
    with app.app_context():
        session = db.session.scalars(select(DeliberationSession)).one()
        assert session.title == "Beraad over het rapport"
        point = db.session.scalars(select(ActionPoint)).one()
        assert (point.what, point.who) == ("Bel de vertrouwenspersoon", "teamleider")
    for url in (base, base + "/summary", base + "/summary.md", "/bank/?q=rapport%00%1b", "/sessions/?q=%00"):
        assert client.get(url).status_code == 200, url
