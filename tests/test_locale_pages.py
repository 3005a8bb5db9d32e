"""One language per screen: every page, rendered in Dutch and in English, shows no message in the
other language.

Every GET route of the web interface is visited (the JSON API and the downloads are left out: the
API speaks English to developers, the exports follow the session's language and are tested with
the summary). A page in Dutch fails when it shows the English text of a message whose Dutch
translation differs (an untranslated message id, or a message with an empty translation); a page in
English fails when it shows the Dutch translation of a message. Only fragments of three words and
more are compared, so a shared word ("Stap", "PDF") is no false alarm. A new route with an argument
this test cannot fill fails the test too, so no page is left out by accident.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from beraad.config import REPO_ROOT
from beraad.extensions import db
from beraad.models import DeliberationSession, Dilemma, Poll, User
from beraad.sessions import service as sessions
from beraad.teams import service as teams

from .test_summary import content, facilitator, new_session, run_session  # noqa: F401

CATALOGUE = REPO_ROOT / "beraad" / "translations" / "nl" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%%|\{\w*\}")
# Routes not rendered here, with the reason.
LEFT_OUT = {
    "static": "files, not pages",
    "main.health": "JSON for a load balancer",
    "main.ready": "JSON for a load balancer",
}
VISIBLE_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")


class VisibleText(HTMLParser):
    """The text a person sees or hears (screen readers read aria-label and alt), without scripts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)

    @classmethod
    def of(cls, page: str) -> str:
        parser = cls()
        parser.feed(page)
        return " ".join(" ".join(parser.parts).split())


def fragments(message: str) -> list[str]:
    """The pieces of a message between its placeholders that are long enough to be telling."""
    pieces = (" ".join(piece.split()) for piece in PLACEHOLDER.split(message))
    return [piece.strip(" .,:;·–-") for piece in pieces if len(piece.split()) >= 3 and len(piece) >= 15]


def catalogue() -> list[tuple[str, str]]:
    """(English, Dutch) of every message, plural forms included; Dutch is "" when untranslated."""
    with CATALOGUE.open("rb") as handle:
        messages = read_po(handle)
    pairs = []
    for message in messages:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            strings = ("",) * len(ids)
        for index, english in enumerate(ids):
            pairs.append((english, strings[min(index, len(strings) - 1)] or ""))
    return pairs


def wrong_language(text: str, language: str, pairs: list[tuple[str, str]]) -> list[str]:
    found = set()
    for english, dutch in pairs:
        shown, other = (english, dutch) if language == "nl" else (dutch, english)
        for piece in fragments(shown):
            if piece and piece not in other and piece in text:
                found.add(piece)
    return sorted(found)


@pytest.fixture
def rooms(app, run_session, new_session, facilitator):  # noqa: F811
    """Per language: a closed session that ran, a running one with an open vote, one in the lobby."""
    made = {}
    for language in ("nl", "en"):
        ran = run_session(title=f"Beraad {language}", language=language)
        lobby_id = new_session(title=f"Lobby {language}", language=language)
        running_id = new_session(title=f"Lopend {language}", language=language)
        with app.app_context():
            running = db.session.get(DeliberationSession, running_id)
            sessions.start_session(running)
            sessions.go_to_step(running, 3)
            poll = db.session.scalar(
                select(Poll).where(Poll.session_id == running_id, Poll.key == "moreel-dilemma")
            )
            sessions.open_poll(running, poll)
            team = teams.create_team(db.session.get(User, facilitator), f"Team {language}", "gemeente")
            db.session.get(DeliberationSession, ran.session_id).team_id = team.id  # a history to show
            db.session.commit()
            made[language] = {
                "closed": ran.session_id,
                "lobby": lobby_id,
                "running": running_id,
                "join_code": running.join_code,
                "projector": running.projector_token,
                "team": team.id,
            }
    return made


def arguments(app, room: dict) -> dict:
    with app.app_context():
        slug = db.session.scalar(select(Dilemma.slug).where(Dilemma.status == "published").limit(1))
        user_id = db.session.scalar(select(User.id).where(User.username == "anna"))
    return {
        "slug": slug,
        "key": "dilemmamethode",
        "user_id": user_id,
        "join_code": room["join_code"],
        "token": room["projector"],
        "code": room["join_code"],
        "position": 0,
        "number": 1,
        "team_id": room["team"],
    }


def page_urls(app, room: dict) -> list[str]:
    """A URL for every GET page; a session page once per state (closed, running, lobby)."""
    values = arguments(app, room)
    urls, unknown = [], []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in LEFT_OUT or rule.rule.startswith("/api/"):
                continue
            if rule.rule.endswith((".pdf", ".md", ".csv", ".xlsx", ".ics", ".svg", ".png", ".yaml", ".json")):
                continue
            needed = set(rule.arguments)
            if "session_id" in needed:
                for state in ("closed", "running", "lobby"):
                    rest = needed - {"session_id"}
                    if rest - set(values):
                        unknown.append(rule.rule)
                        break
                    urls.append(
                        url_for(rule.endpoint, session_id=room[state], **{n: values[n] for n in rest})
                    )
                continue
            if needed - set(values):
                unknown.append(rule.rule)
                continue
            urls.append(url_for(rule.endpoint, **{name: values[name] for name in needed}))
    assert not unknown, f"routes this test cannot fill in (add their arguments): {unknown}"
    return sorted(set(urls))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_page_speaks_one_language(app, client, auth, rooms, language):
    auth.login("root", role="admin")
    client.set_cookie("beraad_lang", language)
    phone = app.test_client()
    phone.set_cookie("beraad_lang", language)
    room = rooms[language]
    assert phone.post(f"/j/{room['join_code']}/join").status_code == 302  # a phone that joined
    pairs = catalogue()
    problems, visited = {}, 0
    for url in page_urls(app, room):
        browser = phone if url.startswith(("/j/", "/p/")) else client
        response = browser.get(url)
        if response.status_code in (301, 302, 303) or not response.mimetype == "text/html":
            continue
        assert response.status_code < 500, url
        visited += 1
        wrong = wrong_language(VisibleText.of(response.get_data(as_text=True)), language, pairs)
        if wrong:
            problems[url] = wrong
    assert visited >= 20, visited
    assert problems == {}, f"pages in {language} showing the other language: {problems}"


def test_the_check_finds_an_untranslated_message():
    pairs = [("Your answer is saved", "Je antwoord is opgeslagen"), ("Show the results now", "")]
    assert wrong_language("Stap 2 · Show the results now", "nl", pairs) == ["Show the results now"]
    assert wrong_language("Je antwoord is opgeslagen", "en", pairs) == ["Je antwoord is opgeslagen"]
    assert wrong_language("Je antwoord is opgeslagen", "nl", pairs) == []
