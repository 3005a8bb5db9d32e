"""The JSON API for teams, their series, the Terugblik's follow-up and the insights, on both databases.

Role rules as in the web UI (a facilitator sees only their own teams, coordinators see all, admins
see and manage all), 422 with nothing stored for bad input, the follow-up's rules, the insights'
k rule; every response is checked against openapi.yaml.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from beraad.extensions import db
from beraad.models import ActionPoint, DeliberationSession, Team

from . import test_api
from .test_api import OTHER_PUBLISHED, PUBLISHED, Api, conforms, is_error, new_session, phones

# The API tests' fixtures (the test content, a token per user), reused here.
content, api_as, anna, cora = test_api.content, test_api.api_as, test_api.anna, test_api.cora

# --- helpers ---------------------------------------------------------------------------------------


def new_team(api: Api, name: str = "Team Vergunningen", level: str = "gemeente") -> dict:
    response = api.post("/teams", json={"name": name, "level": level})
    assert response.status_code == 201, response.json
    assert conforms(response.json, "Team")
    return response.json


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def team_session(api: Api, team: dict, **fields) -> dict:
    session = new_session(api, team_id=team["id"], **fields)
    assert conforms(session, "Session")
    return session


@pytest.fixture
def bert(api_as) -> Api:
    return api_as("bert", "facilitator")


@pytest.fixture
def root(api_as) -> Api:
    return api_as("root", "admin")


@pytest.fixture
def looking_back(anna) -> dict:
    """Anna's team: a closed session that agreed two action points, and a new session in the team
    that starts with a Terugblik on them."""
    team = new_team(anna)
    earlier = team_session(anna, team, title="Vorige keer")
    base = f"/sessions/{earlier['id']}"
    points = [
        anna.post(
            f"{base}/actions", json={"what": "Bezwaar vastleggen", "who": "onderzoeker", "due": "2030-06-01"}
        ),
        anna.post(f"{base}/actions", json={"what": "Protocol bespreken", "who": "teamleider"}),
    ]
    assert [point.status_code for point in points] == [201, 201]
    assert anna.post(f"{base}/start").status_code == 200
    assert anna.post(f"{base}/close").status_code == 200
    current = team_session(anna, team, title="Deze keer", scheduled_for="2030-05-01")
    return {"team": team, "earlier": earlier, "current": current, "points": [p.json for p in points]}


# --- access ------------------------------------------------------------------------------------------

NEW_REQUESTS = [
    ("GET", "/teams", None),
    ("POST", "/teams", {"name": "Team"}),
    ("GET", "/teams/1", None),
    ("PATCH", "/teams/1", {"name": "Team"}),
    ("GET", "/teams/1/sessions", None),
    ("GET", "/sessions/1/follow-up", None),
    ("PATCH", "/sessions/1/follow-up/1", {"follow_up": "done"}),
    ("GET", "/insights", None),
]


@pytest.mark.parametrize("method, path, body", NEW_REQUESTS, ids=[f"{m} {p}" for m, p, _ in NEW_REQUESTS])
def test_anonymous_calls_are_401(app, client, content, method, path, body):
    response = client.open("/api/v1" + path, method=method, json=body)
    assert is_error(response, 401, "unauthorized")
    assert rows(app, Team) == 0


def test_a_facilitator_creates_and_reads_their_team(app, client, anna):
    team = new_team(anna, "  Team   Vergunningen ", "gemeente")
    assert team["name"] == "Team Vergunningen"  # runs of spaces become one, as in the web UI
    assert (team["level"], team["sessions"], team["last_held"], team["next_planned"]) == (
        "gemeente",
        0,
        None,
        None,
    )
    assert team["owner_id"] == anna.get("/me").json["id"] and team["can_manage"] is True
    # The owner gets the calendar feed's secret address, and it works without signing in.
    feed = urlsplit(team["calendar_url"])
    assert feed.path == f"/teams/{team['id']}/calendar.ics" and "token=" in feed.query
    calendar = client.get(f"{feed.path}?{feed.query}")
    assert calendar.status_code == 200 and calendar.mimetype == "text/calendar"
    fetched = anna.get(f"/teams/{team['id']}")
    assert fetched.status_code == 200 and fetched.json == team
    listed = anna.get("/teams")
    assert listed.status_code == 200 and conforms(listed.json, "TeamPage")
    assert listed.json["items"] == [team] and listed.json["total"] == 1


def test_a_facilitator_sees_only_their_own_teams(app, anna, bert):
    mine, theirs = new_team(anna, "Team Anna"), new_team(bert, "Team Bert")
    assert [t["id"] for t in anna.get("/teams").json["items"]] == [mine["id"]]
    before = bert.get(f"/teams/{theirs['id']}").json
    for method, suffix, body in (
        ("GET", "", None), ("PATCH", "", {"name": "Overgenomen"}), ("GET", "/sessions", None),
    ):  # fmt: skip
        response = anna.request(method, f"/teams/{theirs['id']}{suffix}", json=body)
        assert is_error(response, 404, "not_found")  # as if it did not exist
    assert bert.get(f"/teams/{theirs['id']}").json == before
    for path in ("/teams/999999", f"/teams/{2**40}", "/teams/999999/sessions"):
        assert is_error(anna.get(path), 404, "not_found")


def test_coordinators_see_every_team_but_change_only_their_own(anna, bert, cora):
    team = new_team(anna, "Team Anna")
    new_team(bert, "Team Bert")
    listed = cora.get("/teams")
    assert [t["name"] for t in listed.json["items"]] == ["Team Anna", "Team Bert"]
    seen = cora.get(f"/teams/{team['id']}")
    assert seen.status_code == 200 and conforms(seen.json, "Team")
    assert (
        seen.json["can_manage"] is False and seen.json["calendar_url"] is None
    )  # the secret stays the owner's
    assert cora.get(f"/teams/{team['id']}/sessions").status_code == 200
    assert is_error(cora.patch(f"/teams/{team['id']}", json={"name": "Overgenomen"}), 403, "forbidden")
    assert anna.get(f"/teams/{team['id']}").json["name"] == "Team Anna"


def test_admins_manage_every_team_without_getting_its_calendar_address(anna, root):
    team = new_team(anna, "Team Anna")
    assert [t["id"] for t in root.get("/teams").json["items"]] == [team["id"]]
    changed = root.patch(f"/teams/{team['id']}", json={"name": "Team Noord"})
    assert changed.status_code == 200 and conforms(changed.json, "Team")
    assert changed.json["name"] == "Team Noord" and changed.json["can_manage"] is True
    assert changed.json["calendar_url"] is None
    assert anna.get(f"/teams/{team['id']}").json["calendar_url"]


def test_the_team_list_comes_in_pages(anna):
    for name in ("Team C", "team a", "Team B"):
        new_team(anna, name)
    first = anna.get("/teams", query_string={"per_page": 2}).json
    second = anna.get("/teams", query_string={"per_page": 2, "page": 2}).json
    assert conforms(first, "TeamPage") and (first["total"], first["pages"], first["per_page"]) == (3, 2, 2)
    assert [t["name"] for t in first["items"] + second["items"]] == ["team a", "Team B", "Team C"]
    assert anna.get("/teams", query_string={"page": 3, "per_page": 2}).json["items"] == []
    for query in ({"page": "0"}, {"per_page": "101"}, {"per_page": "x"}, {"page": "-1"}):
        assert is_error(anna.get("/teams", query_string=query), 422, "invalid")


# --- create and change: bad input is 422 and stores nothing ------------------------------------------

BAD_TEAMS = [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"name": 12}, "name"),
    ({"name": ["Team"]}, "name"),
    ({"name": None}, "name"),
    ({"level": "rijk"}, "name"),
    ({"name": "Team", "level": "wereld"}, "level"),
    ({"name": "Team", "level": 3}, "level"),
    ({"name": "Team", "level": None}, "level"),
    ({"name": "Team", "owner_id": 1}, "owner_id"),
]


@pytest.mark.parametrize("body, field", BAD_TEAMS, ids=[str(b)[:40] for b, _ in BAD_TEAMS])
def test_invalid_teams_are_422_and_store_nothing(app, anna, body, field):
    response = anna.post("/teams", json=body)
    assert is_error(response, 422) and response.json["error"]["field"] == field
    assert rows(app, Team) == 0


@pytest.mark.parametrize(
    "body, field", BAD_TEAMS[:5] + BAD_TEAMS[7:], ids=[str(b)[:40] for b, _ in BAD_TEAMS[:5] + BAD_TEAMS[7:]]
)
def test_invalid_changes_are_422_and_change_nothing(anna, body, field):
    team = new_team(anna)
    response = anna.patch(f"/teams/{team['id']}", json=body)
    assert is_error(response, 422) and response.json["error"]["field"] == field
    assert anna.get(f"/teams/{team['id']}").json == team


def test_a_malformed_team_body_is_400_or_415(anna):
    assert is_error(anna.post("/teams", data="{", headers={"Content-Type": "application/json"}), 400)
    assert is_error(anna.post("/teams", data={"name": "Team"}), 415)


def test_the_services_message_is_english_whatever_language_the_client_asks_for(anna):
    response = anna.post("/teams", json={"name": " "}, headers={"Accept-Language": "nl"})
    assert is_error(response, 422, "invalid")
    assert response.json["error"] == {"code": "invalid", "message": "Give the team a name.", "field": "name"}


def test_a_change_keeps_what_it_leaves_out(anna):
    team = new_team(anna, "Team Zuid", "rijk")
    renamed = anna.patch(f"/teams/{team['id']}", json={"name": "Team Noord"})
    assert renamed.status_code == 200 and (renamed.json["name"], renamed.json["level"]) == (
        "Team Noord",
        "rijk",
    )
    cleared = anna.patch(f"/teams/{team['id']}", json={"level": ""})
    assert (cleared.json["name"], cleared.json["level"]) == ("Team Noord", "")
    assert anna.patch(f"/teams/{team['id']}", json={}).json == cleared.json


# --- sessions in a team --------------------------------------------------------------------------------


def test_a_session_in_a_team_planned_for_a_day(anna):
    team = new_team(anna)
    session = team_session(anna, team, scheduled_for="2030-05-01")
    assert session["team"] == {"id": team["id"], "name": team["name"]}
    assert session["scheduled_for"] == "2030-05-01" and session["follow_up"] == []  # nothing to look back on
    assert session["steps"][0]["key"] != "terugblik"
    listed = anna.get("/sessions").json
    assert all(conforms(item, "SessionSummary") for item in listed)
    assert listed[0]["team"] == session["team"] and listed[0]["scheduled_for"] == "2030-05-01"
    plain = new_session(anna)
    assert conforms(plain, "Session") and (plain["team"], plain["scheduled_for"]) == (None, None)
    assert new_session(anna, team_id=None, scheduled_for=None)["team"] is None
    after = anna.get(f"/teams/{team['id']}").json
    assert (after["sessions"], after["next_planned"], after["last_held"]) == (1, "2030-05-01", None)


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"team_id": "{own}"}, "team_id"),  # as text
        ({"team_id": True}, "team_id"),
        ({"team_id": 0}, "team_id"),
        ({"team_id": 2**40}, "team_id"),
        ({"team_id": 999999}, "team_id"),
        ({"team_id": "{bert}"}, "team_id"),
        ({"scheduled_for": "2030-02-30"}, "scheduled_for"),
        ({"scheduled_for": "01-05-2030"}, "scheduled_for"),
        ({"scheduled_for": "2030-5-1"}, "scheduled_for"),
        ({"scheduled_for": 20300501}, "scheduled_for"),
        ({"scheduled_for": "2030-05-01T10:00:00"}, "scheduled_for"),
    ],
)
def test_a_team_or_day_that_will_not_do_is_422_and_stores_nothing(app, anna, bert, fields, field):
    own, theirs = new_team(anna), new_team(bert)
    values = {"{own}": str(own["id"]), "{bert}": theirs["id"]}
    fields = {
        key: values.get(value, value) if isinstance(value, str) else value for key, value in fields.items()
    }
    response = anna.post("/sessions", json={"method": "dilemmamethode", "dilemmas": [PUBLISHED], **fields})
    assert is_error(response, 422, "invalid") and response.json["error"]["field"] == field
    assert rows(app, DeliberationSession) == 0


def test_only_a_team_you_manage_takes_new_sessions(app, anna, cora, root):
    team = new_team(anna)
    refused = cora.post(
        "/sessions", json={"method": "dilemmamethode", "dilemmas": [PUBLISHED], "team_id": team["id"]}
    )
    assert is_error(refused, 422, "invalid") and "own teams" in refused.json["error"]["message"]
    assert rows(app, DeliberationSession) == 0
    by_admin = new_session(root, team_id=team["id"])  # admins may use any team, as in the web UI
    assert by_admin["team"]["id"] == team["id"]


def test_the_series_in_order_with_its_history(app, looking_back, anna):
    team, earlier, current = looking_back["team"], looking_back["earlier"], looking_back["current"]
    response = anna.get(f"/teams/{team['id']}/sessions")
    assert response.status_code == 200 and conforms(response.json, "TeamSeries")
    series = response.json
    assert [s["id"] for s in series["sessions"]] == [earlier["id"], current["id"]]
    assert series["sessions"][1]["scheduled_for"] == "2030-05-01"
    assert series["team"]["sessions"] == 2 and series["team"]["next_planned"] == "2030-05-01"
    # The day the earlier session started, in the organisation's time zone (the test configuration's).
    assert series["team"]["last_held"] == datetime.now(ZoneInfo(app.config["TIMEZONE"])).date().isoformat()
    assert [(a["what"], a["session_id"], a["follow_up"]) for a in series["actions"]] == [
        ("Bezwaar vastleggen", earlier["id"], "open"), ("Protocol bespreken", earlier["id"], "open"),
    ]  # fmt: skip
    assert series["actions"][0]["due"] == "2030-06-01" and series["actions"][1]["due"] is None
    assert {t["theme"] for t in series["themes"]} == {"tegenspraak", "onderzoek"}
    assert series["trends"] == []  # nobody evaluated


# --- the Terugblik's follow-up -------------------------------------------------------------------------


def test_the_session_lists_what_it_looks_back_on(looking_back, anna):
    current, points = looking_back["current"], looking_back["points"]
    assert current["steps"][0]["key"] == "terugblik"
    assert [(p["id"], p["follow_up"], p["carried_to_id"]) for p in current["follow_up"]] == [
        (points[0]["id"], "open", None), (points[1]["id"], "open", None),
    ]  # fmt: skip
    listed = anna.get(f"/sessions/{current['id']}/follow-up")
    assert listed.status_code == 200 and listed.json == current["follow_up"]
    assert all(conforms(item, "FollowUpPoint") for item in listed.json)
    assert anna.get(f"/sessions/{looking_back['earlier']['id']}/follow-up").json == []


def test_recording_the_follow_up(app, looking_back, anna):
    current, point = looking_back["current"], looking_back["points"][0]
    path = f"/sessions/{current['id']}/follow-up/{point['id']}"
    done = anna.patch(path, json={"follow_up": "done", "note": "  Vastgelegd in het dossier. "})
    assert done.status_code == 200 and conforms(done.json, "FollowUpPoint")
    assert (done.json["follow_up"], done.json["note"]) == ("done", "Vastgelegd in het dossier.")
    assert done.json["done_on"] == date.today().isoformat() and done.json["reviewed_at"]
    kept = anna.patch(path, json={"follow_up": "in_progress"})  # no note: the note stays
    assert (kept.json["follow_up"], kept.json["note"], kept.json["done_on"]) == (
        "in_progress", "Vastgelegd in het dossier.", None,
    )  # fmt: skip

    carried = anna.patch(path, json={"follow_up": "carried", "note": ""})
    copy_id = carried.json["carried_to_id"]
    assert carried.status_code == 200 and copy_id is not None
    session = anna.get(f"/sessions/{current['id']}").json
    assert {
        "id": copy_id,
        "what": "Bezwaar vastleggen",
        "who": "onderzoeker",
        "due": "2030-06-01",
    } in session["action_points"]
    assert session["follow_up"][0] == carried.json
    dropped = anna.patch(path, json={"follow_up": "dropped"})
    assert dropped.json["carried_to_id"] is None  # the untouched copy is taken out again
    assert all(p["id"] != copy_id for p in anna.get(f"/sessions/{current['id']}").json["action_points"])
    history = anna.get(f"/teams/{looking_back['team']['id']}/sessions").json
    assert [a["follow_up"] for a in history["actions"]] == ["dropped", "open"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"follow_up": "open"}, "follow_up"),  # what a point is before it is looked back on
        ({"follow_up": "finished"}, "follow_up"),
        ({"follow_up": None}, "follow_up"),
        ({"follow_up": ["done"]}, "follow_up"),
        ({"note": "Zonder status"}, "follow_up"),
        ({"follow_up": "done", "note": "x" * 501}, "note"),
        ({"follow_up": "done", "note": 5}, "note"),
        ({"follow_up": "done", "status": "done"}, "status"),
    ],
)
def test_an_invalid_follow_up_is_422_and_changes_nothing(app, looking_back, anna, body, field):
    current, point = looking_back["current"], looking_back["points"][0]
    response = anna.patch(f"/sessions/{current['id']}/follow-up/{point['id']}", json=body)
    assert is_error(response, 422) and response.json["error"]["field"] == field
    assert anna.get(f"/sessions/{current['id']}").json == current


def test_only_the_points_the_session_looks_back_on_can_be_followed_up(app, looking_back, anna):
    current, earlier = looking_back["current"], looking_back["earlier"]
    own = anna.post(f"/sessions/{current['id']}/actions", json={"what": "Nieuw punt"}).json
    other = new_session(anna)
    stranger = anna.post(f"/sessions/{other['id']}/actions", json={"what": "Elders"}).json
    body = {"follow_up": "done"}
    for session_id, action_id in (
        (current["id"], own["id"]),  # this session's own point: looked back on next time
        (current["id"], stranger["id"]),  # another session's point
        (earlier["id"], looking_back["points"][0]["id"]),  # the earlier session looks back on nothing
        (other["id"], stranger["id"]),
        (current["id"], 999999),
        (current["id"], 2**40),
    ):
        assert is_error(
            anna.patch(f"/sessions/{session_id}/follow-up/{action_id}", json=body), 404, "not_found"
        )
    assert is_error(anna.patch(f"/sessions/999999/follow-up/{own['id']}", json=body), 404)
    assert [p["follow_up"] for p in anna.get(f"/sessions/{current['id']}/follow-up").json] == ["open", "open"]


@pytest.mark.parametrize("role", ["facilitator", "coordinator"])
def test_others_may_not_record_the_follow_up(looking_back, anna, api_as, role):
    current, point = looking_back["current"], looking_back["points"][0]
    other = api_as("mallory", role)
    path = f"/sessions/{current['id']}/follow-up"
    assert is_error(other.patch(f"{path}/{point['id']}", json={"follow_up": "done"}), 403, "forbidden")
    assert is_error(other.get(path), 403, "forbidden")
    assert anna.get(path).json == current["follow_up"]


def test_admins_may_record_the_follow_up(looking_back, root):
    current, point = looking_back["current"], looking_back["points"][1]
    response = root.patch(f"/sessions/{current['id']}/follow-up/{point['id']}", json={"follow_up": "done"})
    assert response.status_code == 200 and response.json["follow_up"] == "done"


def test_a_closed_session_records_no_follow_up(looking_back, anna):
    current, point = looking_back["current"], looking_back["points"][0]
    base = f"/sessions/{current['id']}"
    assert anna.post(f"{base}/start").status_code == 200
    assert anna.patch(f"{base}/follow-up/{point['id']}", json={"follow_up": "done"}).status_code == 200
    assert anna.post(f"{base}/close").status_code == 200
    response = anna.patch(f"{base}/follow-up/{point['id']}", json={"follow_up": "dropped"})
    assert is_error(response, 409, "session_closed")
    assert anna.get(f"{base}/follow-up").json[0]["follow_up"] == "done"


# --- insights --------------------------------------------------------------------------------------------


def evaluated_session(app, api: Api, team: dict | None, people: int, value: int) -> dict:
    """A session of the team, run, evaluated by `people` people (k = 3), closed."""
    session = new_session(api, k=3, **({"team_id": team["id"]} if team else {}))
    base = f"/sessions/{session['id']}"
    assert api.post(f"{base}/start").status_code == 200
    assert api.patch(base, json={"evaluation_open": True}).status_code == 200
    for phone in phones(app, session, people):
        assert phone.evaluate({"herkenbaar": value, "vrij-spreken": value}).status_code == 201
    assert api.post(f"{base}/close").status_code == 200
    return session


def test_insights_are_for_coordinators_and_admins(anna, cora, root):
    assert is_error(anna.get("/insights"), 403, "forbidden")
    for api in (cora, root):
        response = api.get("/insights")
        assert response.status_code == 200 and conforms(response.json, "Insights")
        assert response.json["scope"] == "all" and len(response.json["months"]) == 12
        assert response.json["measure"] is None and response.json["total_sessions"] == 0


@pytest.mark.parametrize("months", ["0", "37", "x", "1.5", "-1", "12 "])
def test_insights_months_is_bounded(cora, months):
    response = cora.get("/insights", query_string={"months": months})
    assert is_error(response, 422, "invalid") and response.json["error"]["field"] == "months"


def test_insights_months(cora):
    for months in (1, 36):
        response = cora.get("/insights", query_string={"months": months})
        assert response.status_code == 200 and len(response.json["months"]) == months


def test_a_session_below_k_adds_no_evaluation_figure(app, anna, cora):
    """One session met k = 3 and gives figures; one more, evaluated by two, changes none of them
    (it is counted as held), in the insights and in the team's trend."""
    team = new_team(anna)
    evaluated_session(app, anna, team, 3, 4)
    before = cora.get("/insights").json
    assert conforms(before, "Insights") and before["evaluated_sessions"] == 1
    items = {item["key"]: item for item in before["items"]}
    assert items["herkenbaar"]["question"] == "I recognised the case from my own work."  # English
    assert items["herkenbaar"]["overall"] == {"count": 3, "mean": 4.0, "sd": 0.0, "low": 4.0, "high": 4.0}
    assert items["herkenbaar"]["by_team"][str(team["id"])]["mean"] == 4.0

    small = evaluated_session(app, anna, team, 2, 1)
    after = cora.get("/insights").json
    assert conforms(after, "Insights") and after["total_sessions"] == before["total_sessions"] + 1
    assert (after["items"], after["evaluated_sessions"]) == (before["items"], before["evaluated_sessions"])

    series = anna.get(f"/teams/{team['id']}/sessions").json
    assert conforms(series, "TeamSeries")
    trend = next(t for t in series["trends"] if t["key"] == "herkenbaar")
    assert [(p["k"], p["mean"]) for p in trend["points"]] == [(3, 4.0), (3, None)]
    assert trend["points"][1]["session_id"] == small["id"] and "count" not in trend["points"][1]


def test_reads_change_nothing(app, looking_back, anna, cora):
    with app.app_context():
        before = db.session.scalar(select(func.max(DeliberationSession.version)))
        points = db.session.scalar(select(func.count()).select_from(ActionPoint))
    team_id, current = looking_back["team"]["id"], looking_back["current"]["id"]
    for api, path in ((anna, "/teams"), (anna, f"/teams/{team_id}"), (anna, f"/teams/{team_id}/sessions"),
                      (anna, f"/sessions/{current}/follow-up"), (cora, "/insights")):  # fmt: skip
        assert api.get(path).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.max(DeliberationSession.version))) == before
        assert db.session.scalar(select(func.count()).select_from(ActionPoint)) == points


def test_two_published_dilemmas_in_a_team_session(anna):
    """A method with two dilemmas: the team's themes gather from both."""
    team = new_team(anna)
    session = new_session(
        anna, method="dilemmaspel", dilemmas=[PUBLISHED, OTHER_PUBLISHED], team_id=team["id"]
    )
    assert anna.post(f"/sessions/{session['id']}/start").status_code == 200
    themes = {t["theme"]: t["times"] for t in anna.get(f"/teams/{team['id']}/sessions").json["themes"]}
    assert themes == {"tegenspraak": 1, "onderzoek": 1, "geschenken": 1, "belangenverstrengeling": 1}


def test_deleting_a_team_keeps_its_sessions_outside_any_team(anna, bert, cora, root):
    team = new_team(anna, "Team Anna")
    session = team_session(anna, team, scheduled_for="2030-05-01")
    assert is_error(bert.delete(f"/teams/{team['id']}"), 404, "not_found")  # not even seen
    assert is_error(cora.delete(f"/teams/{team['id']}"), 403, "forbidden")  # seen, not theirs
    deleted = anna.delete(f"/teams/{team['id']}")
    assert deleted.status_code == 204 and deleted.data == b""
    assert is_error(anna.get(f"/teams/{team['id']}"), 404, "not_found")
    assert is_error(anna.delete(f"/teams/{team['id']}"), 404, "not_found")
    kept = anna.get(f"/sessions/{session['id']}")
    assert kept.status_code == 200 and conforms(kept.json, "Session")
    assert kept.json["team"] is None and kept.json["scheduled_for"] == "2030-05-01"
    other = new_team(bert, "Team Bert")
    assert root.delete(f"/teams/{other['id']}").status_code == 204  # an admin manages every team
