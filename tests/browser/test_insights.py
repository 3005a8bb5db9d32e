"""The coordinator insights page in Chromium at 1366×768: charts fit the width, no sideways scroll."""

from __future__ import annotations

import random
import re
import secrets
from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import ADMIN_PASSWORD, sign_in

pytestmark = pytest.mark.browser


def build_organisation(live_server) -> None:
    """Six teams and sixty closed sessions over the last year, straight into the server's database."""
    from sqlalchemy import insert, select

    from beraad import create_app
    from beraad.extensions import db
    from beraad.methods import service as methods
    from beraad.models import ActionPoint, DeliberationSession, Dilemma, EvaluationAnswer, Team, User
    from beraad.vote.evaluation import tally

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": live_server.env["DATABASE_URL"], "SECRET_KEY": "x",
        "INSTANCE_PATH": str(live_server.instance),
    })  # fmt: skip
    rng = random.Random(3)
    today = date.today()
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.username == "admin"))
        names = [
            "Team Noord",
            "Vergunningen",
            "Wijkteam Oost",
            "Inkoop & Contracten",
            '<script>&"',
            "Griffie",
        ]
        db.session.execute(insert(Team), [
            {"name": name, "owner_id": owner.id, "calendar_token": secrets.token_urlsafe(32)}
            for name in names
        ])  # fmt: skip
        team_ids = list(db.session.scalars(select(Team.id)))
        dilemmas = [
            {"slug": s, "title": t} for s, t in db.session.execute(select(Dilemma.slug, Dilemma.title))
        ]
        method_list = [m for m in methods.list_methods() if m.key != "periodieke-meting"][:6]
        rows = []
        for number in range(60):
            method = rng.choice(method_list)
            begun = datetime.combine(today, datetime.min.time()) - timedelta(days=rng.randint(0, 330))
            rows.append({
                "owner_id": owner.id, "title": f"Sessie {number}", "k": 3, "status": "closed",
                "join_code": secrets.token_hex(8), "projector_token": secrets.token_hex(32),
                "method_key": method.key, "method_snapshot": {"key": method.key},
                "dilemmas_snapshot": (chosen := rng.sample(dilemmas, 1)),
                "dilemma_slugs": [d["slug"] for d in chosen], "team_id": rng.choice(team_ids),
                "started_at": begun, "closed_at": begun + timedelta(hours=1), "created_at": begun,
            })  # fmt: skip
        db.session.execute(insert(DeliberationSession), rows)
        points, answers = [], []
        evaluation = {m.key: [s for s in m.evaluation if s.type == "scale"] for m in method_list}
        for session_id, key in db.session.execute(
            select(DeliberationSession.id, DeliberationSession.method_key)
        ):
            due = today - timedelta(days=rng.randint(-30, 200))
            done = rng.random() < 0.6
            points.append({"session_id": session_id, "what": "Afspraak", "due": due,
                           "follow_up": "done" if done else "open",
                           "done_on": due - timedelta(days=rng.randint(-5, 10)) if done else None,
                           })  # fmt: skip
            for _person in range(rng.randint(2, 9)):
                answers += [{"id": secrets.token_hex(16), "session_id": session_id, "item_key": spec.key,
                             "value": {"value": rng.randint(spec.scale.min, spec.scale.max)}}
                            for spec in evaluation[key]]  # fmt: skip
        db.session.execute(insert(ActionPoint), points)
        db.session.execute(insert(EvaluationAnswer), answers)
        for session in db.session.scalars(select(DeliberationSession)):
            tally(session)  # what closing a session keeps for the insights
        db.session.commit()
        db.engine.dispose()


def test_insights_page_fits_1366_and_shows_its_charts(browser, live_server, screenshot):
    build_organisation(live_server)
    page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="nl-NL").new_page()
    sign_in(page, live_server.url, "admin", ADMIN_PASSWORD)
    page.goto(live_server.url + "/insights")
    expect(page.locator("h1")).to_have_text(re.compile("^(Inzichten|Insights)$"))
    charts = page.locator("svg.insight-chart")
    expect(charts).to_have_count(4)
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
    for index in range(4):
        box = charts.nth(index).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
    assert "<script>&" not in page.content().split("<main", 1)[1]
    expect(page.get_by_role("row", name='<script>&"').first).to_be_visible()
    path = screenshot(page, "insights-1366")
    screenshot(page, "insights-1366-full", full_page=True)
    assert path.exists()


def test_the_demo_series_shows_real_charts_on_the_team_page_and_insights(browser, live_server, screenshot):
    """`beraad demo --series` on a fresh install: the team's history has its evaluation trend and
    the insights their charts, at 1366x768, in view and without sideways scroll."""
    output = live_server.beraad("demo", "--series", "--base-url", live_server.url)
    password = re.search(r"password (\S+)\)", output).group(1)
    team_url = re.search(r"Team:\s+(\S+)", output).group(1)
    laptop = {"width": 1366, "height": 768}

    page = browser.new_context(viewport=laptop, locale="nl-NL").new_page()
    sign_in(page, live_server.url, "demo", password)
    page.goto(team_url)
    trends = page.locator("svg .trend-dot")
    expect(trends.first).to_be_visible()
    assert trends.count() >= 3 * 3  # three sessions, several items, every one at k or more
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, "team-1366")
    screenshot(page, "team-1366-full", full_page=True)

    coordinator = browser.new_context(viewport=laptop, locale="nl-NL").new_page()
    sign_in(coordinator, live_server.url, "admin", ADMIN_PASSWORD)
    coordinator.goto(live_server.url + "/insights")
    charts = coordinator.locator("svg.insight-chart")
    expect(charts.first).to_be_visible()
    assert coordinator.evaluate("document.documentElement.scrollWidth") <= width
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
    mean = coordinator.locator("table:has(th:text-is('Gemiddelde')) tbody tr").first.locator("td").nth(1)
    assert re.fullmatch(r"\d+,\d", mean.inner_text().strip())  # a real mean, not a dash
    screenshot(coordinator, "insights-1366-full", full_page=True)
