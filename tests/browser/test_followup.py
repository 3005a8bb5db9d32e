"""The Terugblik in real Chromium: the facilitator marks last session's action points, the projector
shows them with their status, uncut and apart, at 1920x1080 and 1280x720."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from . import test_room
from .conftest import ROOT
from .geometry import assert_room_ok, visible_boxes
from .test_room import act, join_on_phone, open_facilitator, open_projectors, settle

new_context = test_room.new_context  # the fixture: contexts closed after the test

pytestmark = pytest.mark.browser

POINTS = [
    ("Bezwaarprocedure voor spoedvergunningen op papier zetten", "vergunningverlener", "2030-03-01"),
    ("Casus anoniem terugkoppelen aan het managementteam", "teamleider", None),
    ("Afspraak maken met de integriteitscoördinator over meldingen", "", "2030-04-15"),
]
MARKS = [
    ("done", "Ligt bij de jurist ter controle"),
    ("carried", "Na het MT-overleg van maart"),
    ("dropped", ""),
]
EIGHT = [
    ("Werkinstructie over giften van leveranciers bijwerken", "inkoper", "2030-02-01", "done",
     "Staat op intranet"),
    ("Drempelbedrag voor relatiegeschenken in het team bespreken", "teamleider", None, "in_progress",
     "Eerste gesprek gevoerd, vervolg in april"),
    ("Casus anoniem delen met de andere teams van de afdeling", "", "2030-03-10", "dropped",
     "Te herkenbaar"),
    ("Melding bij de vertrouwenspersoon uitleggen in het werkoverleg", "vertrouwenspersoon", None,
     "carried", ""),
    ("Checklist belangenverstrengeling opnemen in de inwerkmap", "HR-adviseur", "2030-05-01", "open", ""),
    ("Vaste plek op de agenda voor moreel beraad afspreken", "teamleider", "2030-01-20", "done", ""),
    ("Met de jurist nagaan wat de regels toestaan bij spoed", "beleidsmedewerker", None, "in_progress",
     "Wacht op antwoord"),
    ("Evaluatie van de pilot met burgerpanels voorbereiden", "projectleider", "2030-06-30", "carried",
     "Schuift door naar het najaar: eerst de resultaten van de eerste ronde afwachten"),
]  # fmt: skip
# What the room must see at the Terugblik: in view, uncut, apart.
ROOM = [
    ".stage-title", ".stage-timer", ".stage-body > *", ".followup-item", ".followup-badge", ".followup-what",
    ".followup-meta", ".followup-note", ".pager-indicator",
]  # fmt: skip
REQUIRED = {".stage-title", ".stage-timer", ".stage-body > *", ".followup-item", ".followup-badge"}

# Run in the live server's environment: a team, a closed session with action points, a new session.
SETUP = r"""
import json, sys
from datetime import date, timedelta
from sqlalchemy import select
from beraad import create_app
from beraad.auth.service import get_user_by_username
from beraad.extensions import db
from beraad.methods import service as methods
from beraad.models import Dilemma, utcnow
from beraad.sessions import service as sessions
from beraad.teams import followup
from beraad.teams.service import create_team

points = json.loads(sys.argv[1])
ahead = len(sys.argv) > 2  # the new session planned before the earlier one was held
app = create_app()
with app.app_context():
    admin = get_user_by_username("admin")
    team = create_team(admin, "Team Vergunningen")
    method = methods.get_method("kort-beraad")
    dilemma = db.session.scalars(
        select(Dilemma).where(Dilemma.status == "published").order_by(Dilemma.slug)).first()
    month_ago = utcnow() - timedelta(days=30)
    if ahead:
        session = sessions.create_session(admin, method, [dilemma], "Beraad februari", team=team)
    earlier = sessions.create_session(admin, method, [dilemma], "Beraad januari", team=team)
    earlier.created_at = month_ago
    sessions.start_session(earlier, now=month_ago)
    for what, who, due, *_ in points:
        sessions.add_action_point(earlier, what, who, date.fromisoformat(due) if due else None)
    sessions.close_session(earlier, now=month_ago + timedelta(hours=1))
    if not ahead:
        session = sessions.create_session(admin, method, [dilemma], "Beraad februari", team=team)
    review = followup.points_to_review(session)
    for point, entry in zip(review, points):
        if len(entry) == 5 and entry[3] != "open":  # what, who, due, status, note
            followup.record_follow_up(session, point, entry[3], entry[4])
    db.session.commit()
    print(json.dumps({"id": session.id, "projector": session.projector_token, "join": session.join_code,
                      "points": [p.id for p in review] or [p.id for p in earlier.action_points]}))
"""


def make_series(live_server, points, ahead: bool = False) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SETUP, json.dumps(points), *(["ahead"] if ahead else [])], env=live_server.env,
        cwd=ROOT,
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def room_ok(projector, label: str, min_font_px: float | None) -> None:
    selectors = {}
    for selector in ROOM:
        if selector in REQUIRED or visible_boxes(projector, selector):
            selectors[selector] = min_font_px if selector == ".followup-what" else None
    assert_room_ok(projector, selectors, label)


def shown_texts(projector) -> list[str]:
    return projector.locator(".followup-item:visible .followup-what").all_inner_texts()


def test_the_terugblik_in_the_room(new_context, live_server, screenshot):
    series = make_series(live_server, POINTS)
    facilitator = open_facilitator(new_context, live_server, series["id"])
    expect(facilitator.locator("#followup .followup-row")).to_have_count(3)
    act(facilitator, "form[action$='/start'] button")
    projectors = open_projectors(new_context, f"{live_server.url}/p/{series['projector']}")
    for projector in projectors.values():
        settle(projector, "Terugblik", "1 /")
        expect(projector.locator(".followup-badge")).to_have_count(3)
    phones = [join_on_phone(new_context, live_server.url, series["join"]) for _ in range(5)]
    for phone in phones:
        expect(phone.locator("#followup .followup-row")).to_have_count(3)

    for point_id, (status, note) in zip(series["points"], MARKS, strict=True):
        facilitator.check(f"#followup-{point_id}-{status}")
        if note:
            facilitator.fill(f"#followup-note-{point_id}", note)
        act(facilitator, f"#followup-form-{point_id} button[type=submit]")
        expect(
            facilitator.locator(f"#followup-form-{point_id} .followup-state.state-{status}")
        ).to_be_visible()
        expect(facilitator.locator(f"#followup-{point_id}-{status}")).to_be_checked()
    # The carried point is on today's list of action points, once.
    expect(facilitator.locator("#actions .action-list li")).to_have_count(1)
    expect(facilitator.locator("#actions .action-list")).to_contain_text(POINTS[1][0])
    for point_id in series["points"]:  # each point's form in view once scrolled to, uncut and apart
        form = f"#followup-form-{point_id}"
        facilitator.locator(form).scroll_into_view_if_needed()
        parts = (".followup-point-what", ".followup-state", ".followup-choices", ".followup-note-row input",
                 "button[type=submit]")  # fmt: skip
        assert_room_ok(
            facilitator, {f"{form} {part}": None for part in parts}, f"facilitator 1366x768, {form}"
        )
    screenshot(facilitator, "facilitator-1366")
    facilitator.locator("#followup").scroll_into_view_if_needed()
    screenshot(facilitator, "facilitator-1366-panel")

    for number, phone in enumerate(phones, start=1):  # the phones followed too, each point readable
        for status, _ in MARKS:
            expect(phone.locator(f"#followup .status-{status} .followup-state")).to_have_count(1)
        expect(phone.locator("#followup .status-done .followup-note")).to_have_text(MARKS[0][1])
        for index in range(3):
            row = f"#followup .followup-row:nth-child({index + 1})"
            phone.locator(row).scroll_into_view_if_needed()
            parts = {f"{row} {part}": None for part in (".followup-state", ".followup-what")}
            assert_room_ok(phone, parts, f"phone {number} 360x640, point {index + 1}")
    phones[0].locator("#followup").scroll_into_view_if_needed()
    screenshot(phones[0], "phone-360")

    for size, projector in projectors.items():
        for status, _ in MARKS:  # the projector followed every change on its own
            expect(projector.locator(f".followup-item.status-{status} .followup-badge")).to_have_count(1)
        projector.wait_for_timeout(400)
        expect(projector.locator(".followup-item.status-done")).to_contain_text("Gedaan")
        expect(projector.locator(".followup-item.status-carried")).to_contain_text("Schuift door")
        expect(projector.locator(".followup-item.status-dropped")).to_contain_text("Vervallen")
        expect(projector.locator(".followup-item.status-done .followup-note")).to_have_text(MARKS[0][1])
        assert sorted(shown_texts(projector)) == sorted(p[0] for p in POINTS), size  # all on one page
        assert "Admin" not in projector.locator("#stage").inner_text()
        room_ok(projector, f"Terugblik, projector {size}", 28 if size == "1920" else None)
        screenshot(projector, f"projector-{size}")


def test_eight_points_fit_or_page_on_the_projector(new_context, live_server, screenshot):
    series = make_series(live_server, EIGHT)
    facilitator = open_facilitator(new_context, live_server, series["id"])
    act(facilitator, "form[action$='/start'] button")
    projectors = open_projectors(new_context, f"{live_server.url}/p/{series['projector']}")
    for size, projector in projectors.items():
        settle(projector, "Terugblik", "1 /")
        expect(projector.locator(".followup-item")).to_have_count(8)
        seen: list[str] = []
        for page in range(8):
            room_ok(
                projector, f"eight points, projector {size}, page {page + 1}", 28 if size == "1920" else None
            )
            screenshot(projector, f"eight-projector-{size}-page-{page + 1}")
            seen += [text for text in shown_texts(projector) if text not in seen]
            if len(seen) == 8:
                break
            projector.evaluate("window.beraadNextPage()")
            projector.wait_for_timeout(200)
        assert sorted(seen) == sorted(p[0] for p in EIGHT), size


def test_a_session_planned_ahead_opens_with_the_terugblik(new_context, live_server, screenshot):
    """Planned before last month's session was held: the lobby shows no Terugblik, the start puts it
    first, and the facilitator, the projectors and a phone all follow."""
    series = make_series(live_server, POINTS, ahead=True)
    facilitator = open_facilitator(new_context, live_server, series["id"])
    expect(facilitator.locator("#followup")).to_have_count(0)
    assert "Terugblik" not in facilitator.locator(".step-list").inner_text()
    projectors = open_projectors(new_context, f"{live_server.url}/p/{series['projector']}")
    phone = join_on_phone(new_context, live_server.url, series["join"])
    act(facilitator, "form[action$='/start'] button")
    expect(facilitator.locator(".step-list li.current")).to_contain_text("Terugblik")
    expect(facilitator.locator("#followup .followup-row")).to_have_count(3)
    for size, projector in projectors.items():
        settle(projector, "Terugblik", "1 /")
        expect(projector.locator(".followup-badge")).to_have_count(3)
        room_ok(projector, f"planned ahead, projector {size}", 28 if size == "1920" else None)
    expect(phone.locator("#followup .followup-row")).to_have_count(3)
    screenshot(facilitator, "facilitator-1366")
    screenshot(projectors["1280"], "projector-1280")
