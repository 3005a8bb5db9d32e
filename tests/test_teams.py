"""Teams and their series on both databases: role rules, the history page and its k rule, the
suggestions for the next dilemma, and the calendar feed (.ics) with its token."""

# ruff: noqa: F811 - the fixtures imported from test_summary are parameters of the tests below

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from beraad.extensions import db
from beraad.models import ActionPoint, DeliberationSession, FollowUp, Team, User
from beraad.teams import calendar, history, service, suggest
from beraad.teams.suggest import Candidate

from .test_summary import content, facilitator, new_session, run_session  # noqa: F401

# --- helpers ---------------------------------------------------------------------------------------


def make_team(app, owner_id: int, name: str = "Team Toezicht", level: str = "rijk") -> int:
    with app.app_context():
        team = service.create_team(db.session.get(User, owner_id), name, level)
        db.session.commit()
        return team.id


def team_of(app, team_id: int) -> Team:
    with app.app_context():
        team = db.session.get(Team, team_id)
        db.session.expunge(team)
        return team


def attach(app, session_id: int, team_id: int, scheduled_for: date | None = None, **changes) -> None:
    """Put a session in a team's series (as the new-session form will)."""
    with app.app_context():
        session = db.session.get(DeliberationSession, session_id)
        session.team_id = team_id
        session.scheduled_for = scheduled_for
        for name, value in changes.items():
            setattr(session, name, value)
        db.session.commit()


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def english(client) -> None:
    client.set_cookie("beraad_lang", "en")


class Rows(HTMLParser):
    """The cell texts of the table rows carrying an id, by that id."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: dict[str, list[str]] = {}
        self._row: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("id"):
            self._row = attrs["id"]
            self.rows[self._row] = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self.rows[self._row].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    @classmethod
    def of(cls, page: str) -> dict[str, list[str]]:
        parser = cls()
        parser.feed(page)
        return parser.rows


# --- role rules ------------------------------------------------------------------------------------


def test_owner_creates_sees_and_edits_a_team(app, client, auth):
    auth.login("anna", role="facilitator")
    response = client.post("/teams/", data={"name": "  Team   Vergunningen ", "level": "gemeente"})
    assert response.status_code == 302
    with app.app_context():
        team = db.session.scalar(select(Team))
        team_id, owner_id = team.id, team.owner_id
        assert (team.name, team.level) == ("Team Vergunningen", "gemeente")
        assert len(team.calendar_token) >= 32
    assert owner_id == user_id(app, "anna")
    assert response.headers["Location"].endswith(f"/teams/{team_id}")
    listing = client.get("/teams/").get_data(as_text=True)
    assert "Team Vergunningen" in listing
    page = client.get(f"/teams/{team_id}")
    assert page.status_code == 200
    assert 'name="name"' in page.get_data(as_text=True)  # the edit form
    edited = client.post(f"/teams/{team_id}", data={"name": "Team Handhaving", "level": "provincie"})
    assert edited.status_code == 302
    assert team_of(app, team_id).name == "Team Handhaving"
    assert team_of(app, team_id).level == "provincie"


def test_another_facilitator_gets_403_and_unknown_teams_404(app, client, auth, create_user):
    team_id = make_team(app, create_user("bob", role="facilitator"))
    auth.login("anna", role="facilitator")
    assert client.get(f"/teams/{team_id}").status_code == 403
    assert client.post(f"/teams/{team_id}", data={"name": "Overgenomen"}).status_code == 403
    assert client.get(f"/teams/{team_id}/next").status_code == 403
    assert team_of(app, team_id).name == "Team Toezicht"
    assert "Team Toezicht" not in client.get("/teams/").get_data(as_text=True)
    assert client.get("/teams/9999").status_code == 404
    assert client.get("/teams/9999/next").status_code == 404


def test_a_coordinator_sees_every_team_read_only(app, client, auth, create_user):
    team_id = make_team(app, create_user("bob", role="facilitator"))
    auth.login("carla", role="coordinator")
    assert "Team Toezicht" in client.get("/teams/").get_data(as_text=True)
    page = client.get(f"/teams/{team_id}").get_data(as_text=True)
    assert "Team Toezicht" in page
    assert 'name="name"' not in page  # no edit form
    assert "calendar.ics" not in page  # the feed's secret address is the owner's
    assert client.get(f"/teams/{team_id}/next").status_code == 200
    assert client.post(f"/teams/{team_id}", data={"name": "Overgenomen"}).status_code == 403
    assert team_of(app, team_id).name == "Team Toezicht"


def test_an_administrator_manages_every_team(app, client, auth, create_user):
    team_id = make_team(app, create_user("bob", role="facilitator"))
    auth.login("root", role="admin")
    assert 'name="name"' in client.get(f"/teams/{team_id}").get_data(as_text=True)
    assert client.post(f"/teams/{team_id}", data={"name": "Team Inkoop", "level": ""}).status_code == 302
    assert (team_of(app, team_id).name, team_of(app, team_id).level) == ("Team Inkoop", "")


def test_the_pages_need_a_sign_in(app, client, create_user):
    team_id = make_team(app, create_user("bob", role="facilitator"))
    for url in ("/teams/", f"/teams/{team_id}", f"/teams/{team_id}/next"):
        assert client.get(url).status_code == 302, url


def test_creating_with_a_bad_name_keeps_the_input_and_says_why(app, client, auth):
    auth.login("anna", role="facilitator")
    english(client)
    too_long = "Team " + "x" * 130
    response = client.post("/teams/", data={"name": too_long, "level": "provincie"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "A team name has at most 120 characters." in page
    assert f'value="{too_long}"' in page
    assert re.search(r'<option value="provincie"[^>]*selected', page)
    empty = client.post("/teams/", data={"name": "   ", "level": ""}).get_data(as_text=True)
    assert "Give the team a name." in empty
    unknown = client.post("/teams/", data={"name": "Team X", "level": "planeet"}).get_data(as_text=True)
    assert "Unknown level" in unknown and 'value="Team X"' in unknown
    with app.app_context():
        assert db.session.scalar(select(Team)) is None


def test_editing_with_a_bad_name_changes_nothing(app, client, auth):
    auth.login("anna", role="facilitator")
    english(client)
    team_id = make_team(app, user_id(app, "anna"))
    response = client.post(f"/teams/{team_id}", data={"name": "", "level": "rijk"})
    assert response.status_code == 400
    assert "Give the team a name." in response.get_data(as_text=True)
    assert team_of(app, team_id).name == "Team Toezicht"


def test_the_list_shows_counts_and_dates(app, client, auth, facilitator, new_session):
    team_id = make_team(app, facilitator)
    first, planned = new_session(title="Eerste"), new_session(title="Gepland")
    attach(app, first, team_id, started_at=datetime(2030, 3, 5, 10, 0))
    attach(app, planned, team_id, scheduled_for=date(2099, 4, 2))
    auth.login("anna", role="facilitator")
    english(client)
    rows = Rows.of(client.get("/teams/").get_data(as_text=True))
    name, level, count, last, upcoming = rows[f"team-{team_id}"]
    assert (name, level, count) == ("Team Toezicht", "central government", "2")
    assert "2030" in last and "Mar" in last
    assert "2099" in upcoming and "Apr" in upcoming


# --- the history page and its k rule -------------------------------------------------------------


def test_history_hides_the_evaluation_of_a_session_under_k(app, client, auth, facilitator, run_session):
    team_id = make_team(app, facilitator)
    shown = run_session(title="Maart").session_id
    hidden = run_session(title="April").session_id
    attach(app, shown, team_id)
    attach(app, hidden, team_id, k=5)  # four evaluations: under this session's k
    auth.login("anna", role="facilitator")
    english(client)
    page = client.get(f"/teams/{team_id}").get_data(as_text=True)
    rows = Rows.of(page)
    # herkenbaar 4,5,3,4; vrij-spreken 5,5,4,5; kijk-veranderd only two answers; cijfer 8,7,9,8.
    # Questions nobody answered have no column.
    assert rows[f"trend-{shown}"][2:] == ["4.0", "4.8", "–", "8.0"]
    assert rows[f"trend-{hidden}"][2:] == ["–", "–", "–", "–"]
    assert page.count('class="trend-dot"') == 3  # one dot per shown mean, none for the session under k
    assert "<script" not in page


def test_history_trend_computed_directly(app, facilitator, run_session):
    team_id = make_team(app, facilitator)
    ran = [run_session(title=title).session_id for title in ("Een", "Twee")]
    for session_id in ran:
        attach(app, session_id, team_id)
    attach(app, ran[1], team_id, k=4)  # herkenbaar, vrij-spreken and cijfer have four answers
    with app.app_context():
        team = db.session.get(Team, team_id)
        built = history.build(team, service.series(team), "en")
    trends = {trend.key: trend for trend in built.trends}
    assert list(trends) == ["herkenbaar", "vrij-spreken", "kijk-veranderd", "cijfer"]
    assert [(p.count, p.mean) for p in trends["cijfer"].points] == [(4, 8.0), (4, 8.0)]
    assert [(p.count, p.mean) for p in trends["kijk-veranderd"].points] == [(2, None), (2, None)]
    assert all(isinstance(p.mean, float) or p.mean is None for t in built.trends for p in t.points)


def test_history_lists_sessions_themes_and_action_points(app, client, auth, facilitator, run_session):
    team_id = make_team(app, facilitator)
    ran = run_session(title="Beraad over het rapport").session_id
    attach(app, ran, team_id)
    with app.app_context():
        first, second = db.session.scalars(
            select(ActionPoint).where(ActionPoint.session_id == ran).order_by(ActionPoint.id)
        )
        first.follow_up, first.follow_up_note = FollowUp.DONE.value, "Vastgelegd in het dossier"
        db.session.commit()
        first, second = first.id, second.id
    auth.login("anna", role="facilitator")
    english(client)
    page = client.get(f"/teams/{team_id}").get_data(as_text=True)
    rows = Rows.of(page)
    cells = rows[f"session-{ran}"]
    assert "Beraad over het rapport" in cells[1]
    assert "Het rapport bijstellen" in cells[3]
    assert "speaking up" in cells[4] and "research" in cells[4]
    assert f"/sessions/{ran}/summary" in page
    assert rows["theme-tegenspraak"][0] == "speaking up"
    assert "Vastgelegd in het dossier" in " ".join(rows[f"action-{first}"])
    assert "Done" in " ".join(rows[f"action-{first}"])
    assert "Open" in " ".join(rows[f"action-{second}"])


# --- choosing the next dilemma ---------------------------------------------------------------------


def test_suggestions_leave_out_what_the_team_discussed(app, client, auth, facilitator, new_session):
    team_id = make_team(app, facilitator, level="rijk")
    auth.login("anna", role="facilitator")
    english(client)
    page = client.get(f"/teams/{team_id}/next").get_data(as_text=True)
    rapport, geschenk = page.index("Het rapport bijstellen"), page.index("Een kerstpakket van de leverancier")
    assert rapport < geschenk  # the team's level first
    assert "sessions/new?team=" in page and "dilemma=rapport-bijstellen" in page.replace("&amp;", "&")
    assert "never" in page
    attach(app, new_session(), team_id, started_at=datetime(2030, 1, 10, 9, 0))  # rapport-bijstellen
    page = client.get(f"/teams/{team_id}/next").get_data(as_text=True)
    assert "Het rapport bijstellen" not in page
    assert "Een kerstpakket van de leverancier" in page


def test_suggestions_follow_the_level(app, client, auth, content, facilitator):
    team_id = make_team(app, facilitator, level="gemeente")
    auth.login("anna", role="facilitator")
    page = client.get(f"/teams/{team_id}/next").get_data(as_text=True)
    assert page.index("Een kerstpakket van de leverancier") < page.index("Het rapport bijstellen")


def candidate(slug: str, themes: tuple[str, ...], levels: tuple[str, ...] = ("gemeente",)) -> Candidate:
    return Candidate(slug=slug, title=slug.title(), themes=themes, levels=levels)


def test_rank_excludes_discussed_and_prefers_the_level():
    candidates = [
        candidate("a", ("privacy",), ("rijk",)),
        candidate("b", ("privacy",), ("gemeente",)),
        candidate("c", ("pesten",), ("gemeente",)),
    ]
    ranked = suggest.rank(candidates, discussed={"c"}, last_discussed={}, level="gemeente")
    assert [s.slug for s in ranked] == ["b", "a"]
    assert [s.fits_level for s in ranked] == [True, False]
    # No level: by title, but privacy (a) was just suggested, so pesten (c) comes before b.
    assert [s.slug for s in suggest.rank(candidates, set(), {}, "")] == ["a", "c", "b"]


def test_rank_prefers_themes_discussed_longest_ago_or_never():
    last = {"privacy": date(2030, 5, 1), "pesten": date(2029, 1, 1), "geschenken": date(2030, 1, 1)}
    candidates = [
        candidate("recent", ("privacy",)),
        candidate("old", ("pesten",)),
        candidate("mixed", ("geschenken", "privacy")),  # as fresh as its most recent theme
        candidate("never", ("ai",)),
        candidate("middle", ("geschenken",)),
    ]
    ranked = suggest.rank(candidates, set(), last, "gemeente")
    # mixed and recent tie on privacy (by title), but middle's geschenken was picked just before.
    assert [s.slug for s in ranked] == ["never", "old", "middle", "recent", "mixed"]
    assert [s.slug for s in suggest.rank(candidates[:2] + candidates[2:3], set(), last, "")] == [
        "old",
        "mixed",
        "recent",
    ]
    assert ranked[1].themes == (suggest.ThemeSeen("pesten", date(2029, 1, 1)),)
    assert ranked[0].themes == (suggest.ThemeSeen("ai", None),)


def test_rank_rotates_over_themes():
    candidates = [
        candidate("ai-1", ("ai",)),
        candidate("ai-2", ("ai",)),
        candidate("privacy-1", ("privacy",)),
        candidate("pesten-1", ("pesten",)),
    ]
    ranked = suggest.rank(candidates, set(), {}, "gemeente")
    # All never discussed: one of each theme before a theme comes back.
    assert [s.slug for s in ranked] == ["ai-1", "pesten-1", "privacy-1", "ai-2"]
    assert suggest.rank(candidates, set(), {}, "gemeente", limit=2)[-1].slug == "pesten-1"


# --- the calendar feed -----------------------------------------------------------------------------


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_the_feed_needs_its_token(app, client, facilitator):
    team_id = make_team(app, facilitator)
    token = team_of(app, team_id).calendar_token
    assert client.get(f"/teams/{team_id}/calendar.ics").status_code == 404
    assert client.get(f"/teams/{team_id}/calendar.ics?token=wrong").status_code == 404
    assert client.get(f"/teams/{team_id}/calendar.ics?token={token[:-1]}").status_code == 404
    other = make_team(app, facilitator, name="Ander team")
    assert client.get(f"/teams/{other}/calendar.ics?token={token}").status_code == 404
    assert client.get(f"/teams/9999/calendar.ics?token={token}").status_code == 404
    response = client.get(f"/teams/{team_id}/calendar.ics?token={token}")  # not signed in
    assert response.status_code == 200
    assert response.content_type == "text/calendar; charset=utf-8"


def test_the_feed_lists_planned_sessions_and_open_action_points(app, client, facilitator, run_session):
    team_id = make_team(app, facilitator)
    ran = run_session().session_id
    long_title = "Beraad, deel 2; over het rapport\nen de minister " + "lang " * 20
    attach(app, ran, team_id, scheduled_for=date(2030, 3, 5), title=long_title)
    with app.app_context():
        points = list(db.session.scalars(select(ActionPoint).where(ActionPoint.session_id == ran)))
        # run_session made one with a due date (open) and one without.
        points.append(
            ActionPoint(session_id=ran, what="Afgerond punt", due=date(2030, 7, 1), follow_up="done")
        )
        points.append(
            ActionPoint(session_id=ran, what="Loopt nog", due=date(2030, 8, 1), follow_up="in_progress")
        )
        points.append(
            ActionPoint(session_id=ran, what="Geschrapt", due=date(2030, 9, 1), follow_up="dropped")
        )
        db.session.add_all(points[2:])
        db.session.commit()
        ids = {point.what: point.id for point in points}
    token = team_of(app, team_id).calendar_token
    body = client.get(f"/teams/{team_id}/calendar.ics?token={token}").get_data()
    text = body.decode("utf-8")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")  # CRLF only
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    lines = unfold(text)
    assert lines.count("BEGIN:VEVENT") == 3
    summaries = [line for line in lines if line.startswith("SUMMARY:")]
    escaped = long_title.replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")
    assert summaries == [
        f"SUMMARY:Moreel beraad: {escaped}",
        "SUMMARY:Actiepunt: Bezwaar schriftelijk vastleggen",
        "SUMMARY:Actiepunt: Loopt nog",
    ]
    assert any(line.startswith("SUMMARY:Moreel beraad:") for line in text.split("\r\n"))
    assert " lang" in text and "\r\n " in text  # the long summary is folded
    assert f"UID:session-{ran}@beraad" in lines
    assert f"UID:action-{ids['Loopt nog']}@beraad" in lines
    assert "DTSTART;VALUE=DATE:20300305" in lines and "DTEND;VALUE=DATE:20300306" in lines
    assert "DTSTART;VALUE=DATE:20300601" in lines
    assert all(re.fullmatch(r"DTSTAMP:\d{8}T\d{6}Z", line) for line in lines if line.startswith("DTSTAMP"))
    again = client.get(f"/teams/{team_id}/calendar.ics?token={token}").get_data()
    assert again == body  # deterministic


def test_sessions_without_a_date_are_not_in_the_feed(app, client, facilitator, new_session):
    team_id = make_team(app, facilitator)
    attach(app, new_session(title="Zonder datum"), team_id)
    token = team_of(app, team_id).calendar_token
    text = client.get(f"/teams/{team_id}/calendar.ics?token={token}").get_data(as_text=True)
    assert "BEGIN:VEVENT" not in text and "END:VCALENDAR" in text


def test_the_owner_sees_the_feed_address(app, client, auth):
    auth.login("anna", role="facilitator")
    team_id = make_team(app, user_id(app, "anna"))
    token = team_of(app, team_id).calendar_token
    page = client.get(f"/teams/{team_id}").get_data(as_text=True)
    assert f"/teams/{team_id}/calendar.ics?token={token}" in page


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("a,b", "a\\,b"), ("a;b", "a\\;b"), ("a\\b", "a\\\\b"), ("a\nb", "a\\nb"), ("a\r\nb", "a\\nb")],
)
def test_escape(raw, escaped):
    assert calendar.escape(raw) == escaped


def test_fold_keeps_lines_within_75_octets_and_characters_whole():
    line = "SUMMARY:" + "é" * 100  # two octets each
    folded = calendar.fold(line)
    parts = folded.split("\r\n")
    assert len(parts) > 1
    assert all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert folded.replace("\r\n ", "") == line
    assert calendar.fold("SHORT:x") == "SHORT:x"


# --- a new session in a team ---------------------------------------------------------------------


def test_a_new_session_in_a_team_looks_back_on_the_previous_one(app, client, auth, facilitator, run_session):
    team_id = make_team(app, facilitator)
    ran = run_session(title="Beraad over het rapport").session_id  # it agreed two action points
    attach(app, ran, team_id)
    auth.login("anna", role="facilitator")
    english(client)
    page = client.get(f"/sessions/new?team={team_id}").get_data(as_text=True)
    assert f'<option selected value="{team_id}">' in page or f'value="{team_id}" selected' in page
    form = {"method": "dilemmamethode", "language": "nl", "k": "3", "title": "Beraad in december",
            **{f"dilemmas-{n}": "" for n in range(6)}, "dilemmas-0": "rapport-bijstellen",
            "team": str(team_id), "scheduled_for": "2030-01-15"}  # fmt: skip
    response = client.post("/sessions/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with app.app_context():
        session = db.session.scalars(
            select(DeliberationSession).where(DeliberationSession.title == "Beraad in december")
        ).one()
        assert session.team_id == team_id and session.scheduled_for == date(2030, 1, 15)
        assert session.method_snapshot["steps"][0].get("followup") is True


def test_a_new_session_cannot_go_into_someone_elses_team(
    app, client, auth, content, facilitator, create_user
):
    other_team = make_team(app, create_user("bram"), name="Team van Bram")
    auth.login("anna", role="facilitator")
    english(client)
    form = {"method": "dilemmamethode", "language": "nl", "k": "3", "title": "Stiekem",
            **{f"dilemmas-{n}": "" for n in range(6)}, "team": str(other_team)}  # fmt: skip
    page = client.post("/sessions/new", data=form).get_data(as_text=True)
    assert "Choose one of your own teams." in page
    with app.app_context():
        assert (
            db.session.scalar(select(DeliberationSession).where(DeliberationSession.title == "Stiekem"))
            is None
        )


def test_the_list_reads_every_teams_sessions_in_one_query(app, client, auth, facilitator, new_session):
    from sqlalchemy import event

    for number in range(4):
        attach(app, new_session(title=f"Beraad {number}"), make_team(app, facilitator, name=f"Team {number}"))
    auth.login("anna", role="facilitator")
    statements: list[str] = []
    with app.app_context():
        from beraad.extensions import db as database

        engine = database.engine

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/teams/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    from_sessions = [s for s in statements if "FROM deliberation_session" in s]
    assert len(from_sessions) == 1, from_sessions


# --- deleting a team -------------------------------------------------------------------------------


def test_deleting_a_team_keeps_its_sessions_outside_any_team(app, client, auth, facilitator, new_session):
    team_id = make_team(app, facilitator)
    session_id = new_session()
    attach(app, session_id, team_id, date(2030, 3, 4))
    auth.login("anna", role="facilitator")
    feed = f"/teams/{team_id}/calendar.ics?token={team_of(app, team_id).calendar_token}"
    assert client.get(feed).status_code == 200
    english(client)
    assert "Delete the team" in client.get(f"/teams/{team_id}").get_data(as_text=True)

    kept = client.post(f"/teams/{team_id}/delete", data={})  # the box not ticked: nothing happens
    assert kept.status_code == 302 and kept.headers["Location"].endswith(f"/teams/{team_id}")
    assert team_of(app, team_id) is not None

    gone = client.post(f"/teams/{team_id}/delete", data={"confirm": "yes"})
    assert gone.status_code == 302 and gone.headers["Location"].endswith("/teams/")
    with app.app_context():
        assert db.session.get(Team, team_id) is None
        session = db.session.get(DeliberationSession, session_id)
        assert session is not None and session.team_id is None and session.scheduled_for == date(2030, 3, 4)
    assert client.get(f"/teams/{team_id}").status_code == 404
    assert client.get(feed).status_code == 404
    assert client.get(f"/sessions/{session_id}").status_code == 200


def test_only_the_owner_or_an_admin_deletes_a_team(app, client, auth, create_user):
    team_id = make_team(app, create_user("bob", role="facilitator"))
    auth.login("carla", role="coordinator")
    assert client.post(f"/teams/{team_id}/delete", data={"confirm": "yes"}).status_code == 403
    auth.logout()
    auth.login("anna", role="facilitator")
    assert client.post(f"/teams/{team_id}/delete", data={"confirm": "yes"}).status_code == 403
    assert team_of(app, team_id).name == "Team Toezicht"
    auth.logout()
    auth.login("root", role="admin")
    assert client.post(f"/teams/{team_id}/delete", data={"confirm": "yes"}).status_code == 302
    with app.app_context():
        assert db.session.get(Team, team_id) is None
