"""Coordinator insights on both databases: counts, the k rule (no subtraction across views),
action points on time, access, and the page, CSV and XLSX showing the same figures."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from beraad.bank import service as bank
from beraad.extensions import db
from beraad.insights import charts
from beraad.insights.exports import to_csv, to_xlsx
from beraad.insights.service import insights
from beraad.methods import service as methods_service
from beraad.models import DeliberationSession, User, utcnow
from beraad.sessions import service as sessions
from beraad.teams.service import create_team
from beraad.vote import evaluation
from beraad.vote import service as vote

from .test_summary import content, facilitator  # noqa: F401 - fixtures

TODAY = date(2025, 6, 15)
NASTY = '<script>&"'
# Three people who evaluate everything, answers known.
THREE = [
    {"herkenbaar": "4", "vrij-spreken": "5", "cijfer": "8"},
    {"herkenbaar": "2", "vrij-spreken": "5", "cijfer": "6"},
    {"herkenbaar": "3", "vrij-spreken": "4"},  # skips the grade: "cijfer" has 2 answers, below k
]


@pytest.fixture
def org(app, content, facilitator):  # noqa: F811
    """Return a function that builds a session of a team: run, evaluated, closed."""

    def make(
        team_id: int | None,
        started: datetime,
        answers: list[dict] = (),
        k: int = 3,
        slug: str = "rapport-bijstellen",
        actions: list[tuple] = (),
        status: str = "closed",
    ) -> int:
        with app.app_context():
            session = sessions.create_session(
                db.session.get(User, facilitator), methods_service.get_method("dilemmamethode"),
                [bank.get_by_slug(slug)], "Sessie", "nl", k,
            )  # fmt: skip
            session.team_id = team_id
            db.session.commit()
            if status == "lobby":
                return session.id
            sessions.start_session(session, now=started)
            members = [vote.join(session, vote.new_token()) for _ in answers]
            for what, due, follow_up, done_on in actions:
                point = sessions.add_action_point(session, what, "teamleider", due)
                point.follow_up, point.done_on = follow_up, done_on
            evaluation.set_open(session, True)
            db.session.commit()
            for member, filled in zip(members, answers, strict=True):
                vote.begin_write()
                evaluation.submit(session, member, filled)
                db.session.commit()
            evaluation.set_open(session, False)
            if status == "closed":
                sessions.close_session(session, now=started + timedelta(hours=2))
            db.session.commit()
            return session.id

    return make


@pytest.fixture
def teams(app, facilitator):  # noqa: F811
    with app.app_context():
        owner = db.session.get(User, facilitator)
        ids = create_team(owner, "Team Noord").id, create_team(owner, NASTY).id
        db.session.commit()
        return ids


def figures(app, today=TODAY, username="coordinator", role="coordinator", zone=None):
    from beraad.auth.service import create_user, get_user_by_username

    with app.app_context():
        user = get_user_by_username(username) or create_user(username, "x" * 20, role, "")
        db.session.commit()
        return insights(user, today=today, zone=zone)


def test_counts_per_month_team_theme_and_method(app, org, teams):
    noord, other = teams
    org(noord, datetime(2025, 5, 10, 9), THREE)
    org(noord, datetime(2025, 6, 2, 9), slug="geschenk-leverancier")
    org(other, datetime(2025, 6, 3, 9), status="running")
    org(other, datetime(2025, 6, 4, 9), status="lobby")  # never ran: not counted
    org(other, datetime(2024, 5, 4, 9))  # before the twelve months
    ins = figures(app)
    months = {m.month: m.sessions for m in ins.months}
    assert len(months) == 12 and ins.since == date(2024, 7, 1)
    assert months["2025-05"] == 1 and months["2025-06"] == 2 and ins.total_sessions == 3
    assert {t.name: t.sessions for t in ins.teams} == {"Team Noord": 2, NASTY: 1}
    assert {t.key: t.sessions for t in ins.themes} == {
        "tegenspraak": 2, "onderzoek": 2, "geschenken": 1, "belangenverstrengeling": 1,
    }  # fmt: skip
    assert [(m.key, m.label, m.sessions) for m in ins.methods] == [("dilemmamethode", "Dilemmamethode", 3)]
    assert ins.to_dict()["total_sessions"] == 3


def test_evaluation_means_spread_and_a_cell_below_k(app, org, teams):
    org(teams[0], datetime(2025, 5, 10, 9), THREE)
    items = {item.key: item for item in figures(app).items}
    herkenbaar = items["herkenbaar"].overall
    assert herkenbaar.count == 3 and herkenbaar.mean == 3.0
    assert herkenbaar.sd == pytest.approx(0.8165, abs=1e-4) and (herkenbaar.low, herkenbaar.high) == (2, 4)
    cijfer = items["cijfer"]
    assert cijfer.overall.count == 2 and cijfer.overall.mean is None and cijfer.overall.sd is None
    assert cijfer.overall.low is None and cijfer.by_team[teams[0]].mean is None
    assert (cijfer.scale_min, cijfer.scale_max) == (1, 10)
    assert items["vrij-spreken"].by_month["2025-05"].mean == pytest.approx(14 / 3, abs=1e-4)


def _evaluation_section(html: str) -> str:
    return re.search(r"<h2>Evaluatie</h2>.*?</section>", html, re.S).group(0)


def _evaluation_rows(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    start = rows.index(["Evaluatie"])
    end = rows.index(["Periodieke meting"]) if ["Periodieke meting"] in rows else len(rows)
    return rows[start:end]


def _evaluation_sheets(body: bytes) -> dict:
    book = load_workbook(io.BytesIO(body))
    return {
        name: [[cell.value for cell in row] for row in book[name].iter_rows()]
        for name in book.sheetnames
        if name.startswith("Evaluatie")
    }


def _all_views(app, client):
    ins = figures(app, today=utcnow().date())
    page = client.get("/insights")
    assert page.status_code == 200
    csv_text = client.get("/insights.csv").data.decode("utf-8")
    xlsx = client.get("/insights.xlsx").data
    data = ins.to_dict()
    return (
        (data["items"], data["evaluated_sessions"]),
        _evaluation_section(page.get_data(as_text=True)),
        _evaluation_rows(csv_text),
        _evaluation_sheets(xlsx),
    )


def test_subtraction_attack_one_small_session_changes_no_evaluation_figure(app, client, auth, org, teams):
    """A session with fewer than k evaluations: with or without it, the page, the CSV and the
    workbook show exactly the same evaluation figures, so nothing can be subtracted."""
    auth.login("coordinator", role="coordinator")
    recently = utcnow() - timedelta(days=1)
    org(teams[0], recently, THREE)
    org(teams[1], recently, THREE[:2] + [{"herkenbaar": "5"}])
    before = _all_views(app, client)
    assert before[0][1] == 2 and before[0][0]  # two sessions met k and show figures
    small = [{"herkenbaar": "1", "vrij-spreken": "1", "cijfer": "1"}] * 2  # k - 1 = 2 people
    org(teams[0], recently, small)
    after = _all_views(app, client)
    assert figures(app, today=utcnow().date()).total_sessions == 3  # the session itself counts as held
    for one, other in zip(before, after, strict=True):
        assert one == other


def test_a_cell_below_k_is_a_dash_on_the_page_and_empty_in_the_exports(app, client, auth, org, teams):
    auth.login("coordinator", role="coordinator")
    org(teams[0], utcnow() - timedelta(days=1), THREE)
    html = client.get("/insights").get_data(as_text=True)
    section = _evaluation_section(html)
    assert "–" in section
    rows = _evaluation_rows(client.get("/insights.csv").data.decode("utf-8"))
    header = rows[1]
    assert header == ["Vraag", "Code", "Evaluaties", "Gemiddelde", "Standaardafwijking", "Laagste", "Hoogste"]
    by_key = {r[1]: r for r in rows[2:] if len(r) > 1}
    assert by_key["cijfer"][2:] == ["2", "", "", "", ""]
    assert by_key["herkenbaar"][2:] == ["3", "3,00", "0,82", "2,00", "4,00"]
    sheet = _evaluation_sheets(client.get("/insights.xlsx").data)["Evaluatie"]
    assert sheet[0] == header
    cells = {r[1]: r for r in sheet[1:]}
    assert cells["cijfer"][2:] == [2, None, None, None, None]
    assert cells["herkenbaar"][2:4] == [3, 3.0] and isinstance(cells["herkenbaar"][4], float)


def test_action_points_done_within_their_date(app, org, teams):
    due = date(2025, 5, 20)
    org(teams[0], datetime(2025, 5, 1, 9), actions=[
        ("op tijd", due, "done", date(2025, 5, 19)),
        ("op de dag zelf", due, "done", due),
        ("te laat", due, "done", date(2025, 5, 25)),
        ("nog open, verlopen", due, "open", None),
        ("doorgeschoven", due, "carried", None),
        ("nog niet verlopen", date(2025, 7, 1), "open", None),  # not counted yet
        ("al gedaan, datum nog niet verstreken", date(2025, 7, 1), "done", date(2025, 6, 1)),
        ("zonder datum", None, "done", date(2025, 5, 2)),  # no date to be within: not counted
    ])  # fmt: skip
    org(teams[1], datetime(2025, 5, 2, 9), actions=[("x", due, "dropped", None)])
    ins = figures(app)
    rows = {t.team_id: t for t in ins.teams}
    assert (rows[teams[0]].actions_counted, rows[teams[0]].actions_on_time) == (6, 3)
    assert rows[teams[0]].share_on_time == pytest.approx(0.5)
    assert (rows[teams[1]].actions_counted, rows[teams[1]].share_on_time) == (1, 0.0)
    assert (ins.actions_counted, ins.actions_on_time) == (7, 3)


def test_a_facilitator_gets_only_their_own_teams(app, org, teams, create_user):
    org(teams[0], datetime(2025, 5, 1, 9))
    with app.app_context():
        other = create_team(db.session.get(User, create_user("bert")), "Team Bert").id
        db.session.commit()
    org(other, datetime(2025, 5, 1, 9))
    org(None, datetime(2025, 5, 1, 9))
    anna = figures(app, username="anna")
    assert anna.scope == "own" and anna.total_sessions == 1
    assert {t.team_id for t in anna.teams} == set(teams)
    everyone = figures(app)
    assert everyone.total_sessions == 3 and None in {t.team_id for t in everyone.teams}


@pytest.mark.parametrize("path", ["/insights", "/insights.csv", "/insights.xlsx"])
def test_access(client, auth, path):
    assert client.get(path).status_code == 302 and "/login" in client.get(path).headers["Location"]
    auth.login("fiona", role="facilitator")
    assert client.get(path).status_code == 403
    auth.logout()
    auth.login("cora", role="coordinator")
    assert client.get(path).status_code == 200
    auth.logout()
    auth.login("adam", role="admin")
    assert client.get(path).status_code == 200


def test_nav_link_only_for_coordinators_and_admins(client, auth):
    auth.login("fiona", role="facilitator")
    assert 'href="/insights"' not in client.get("/sessions/").get_data(as_text=True)
    auth.logout()
    auth.login("cora", role="coordinator")
    assert 'href="/insights"' in client.get("/sessions/").get_data(as_text=True)


def test_svg_is_well_formed_and_escapes_text(app, client, auth, org, teams):
    for svg in (
        charts.horizontal_bars(NASTY, [(NASTY, 3), ("b", 1)]),
        charts.month_bars(NASTY, [(NASTY, 2), ("jun", 0)]),
        charts.dots_with_whiskers(NASTY, [(NASTY, 3.5, 0.8, 1, 5), ("b", None, None, 1, 10)]),
    ):
        root = ET.fromstring(str(svg))
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert NASTY in "".join(root.itertext()) and "<script" not in str(svg)
    auth.login("coordinator", role="coordinator")
    org(teams[1], utcnow() - timedelta(days=1), THREE)
    html = client.get("/insights").get_data(as_text=True)
    svgs = re.findall(r"<svg class=\"insight-chart.*?</svg>", html, re.S)
    assert len(svgs) == 4
    for svg in svgs:
        ET.fromstring(svg)
    assert "<script>&" not in html and "&lt;script&gt;&amp;" in html


def test_english_csv_uses_commas_and_points(app, client, auth, org, teams):
    auth.login("coordinator", role="coordinator")
    org(teams[0], utcnow() - timedelta(days=1), THREE)
    client.set_cookie("beraad_lang", "en")
    text = client.get("/insights.csv", headers={"Accept-Language": "en"}).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert ["Sessions per month"] in rows
    evaluation_rows = rows[rows.index(["Evaluation"]) :]
    assert evaluation_rows[1][:4] == ["Question", "Key", "Evaluations", "Mean"]
    assert any(row[1:4] == ["herkenbaar", "3", "3.00"] for row in evaluation_rows if len(row) > 3)


def test_xlsx_sheets_and_numeric_cells(app, client, auth, org, teams):
    auth.login("coordinator", role="coordinator")
    org(
        teams[0],
        utcnow() - timedelta(days=1),
        THREE,
        actions=[("x", date(2000, 1, 1), "done", date(2000, 1, 1))],
    )
    book = load_workbook(io.BytesIO(client.get("/insights.xlsx").data))
    assert book.sheetnames[:4] == ["Bijeenkomsten per maand", "Teams", "Thema's", "Methoden"]
    months = [[c.value for c in row] for row in book["Bijeenkomsten per maand"].iter_rows()]
    assert months[0] == ["Maand", "Bijeenkomsten"] and len(months) == 13 and months[-1][1] == 1
    team_rows = {row[0].value: [c.value for c in row] for row in book["Teams"].iter_rows(min_row=2)}
    assert team_rows["Team Noord"] == ["Team Noord", 1, 1, 1, 1.0]
    noord = next(row for row in book["Teams"].iter_rows(min_row=2) if row[0].value == "Team Noord")
    assert noord[4].number_format == "0%" and noord[1].data_type == "n"
    assert team_rows["Alle teams"][1] == 1
    with app.app_context():
        assert to_xlsx(figures(app)) == to_xlsx(figures(app))  # deterministic
        assert to_csv(figures(app)).startswith("\ufeff")


def test_the_session_row_counts_running_sessions_but_evaluations_need_closed(app, org, teams):
    org(teams[0], datetime(2025, 6, 1, 9), THREE, status="running")
    ins = figures(app)
    assert ins.total_sessions == 1 and ins.evaluated_sessions == 0 and ins.items == ()
    with app.app_context():
        assert db.session.query(DeliberationSession).count() == 1


def _tallies(app) -> dict[int, dict[str, tuple]]:
    from beraad.models import EvaluationTally

    with app.app_context():
        result: dict[int, dict[str, tuple]] = {}
        for row in db.session.query(EvaluationTally).all():
            result.setdefault(row.session_id, {})[row.item_key] = (
                row.answers, row.count, row.total, row.squares, row.low, row.high,
            )  # fmt: skip
        return result


def test_closing_keeps_sums_only_for_a_session_at_k_or_more(app, org, teams):
    """The database is dumped after closing: a session with k evaluations leaves sums per item, one
    below k leaves nothing at all (not even its count)."""
    at_k = org(teams[0], datetime(2025, 6, 1, 9), THREE)
    below = org(teams[0], datetime(2025, 6, 2, 9), THREE[:2])
    kept = _tallies(app)
    assert below not in kept
    assert kept[at_k] == {
        "herkenbaar": (3, 3, 9.0, 29.0, 2.0, 4.0),
        "vrij-spreken": (3, 3, 14.0, 66.0, 4.0, 5.0),
        "cijfer": (2, 2, 14.0, 100.0, 6.0, 8.0),  # kept as the session met k; the cell shows no figure
    }


def test_evaluation_figures_stay_when_the_raw_answers_are_purged(app, org, teams):
    from beraad.summary import retention

    org(teams[0], datetime(2025, 6, 1, 9), THREE)
    before = figures(app)
    with app.app_context():
        retention.purge(utcnow() + timedelta(days=3650), days=1)
        db.session.commit()
        assert db.session.query(evaluation.EvaluationAnswer).count() == 0
    after = figures(app)
    assert after.evaluated_sessions == 1 and after.items == before.items
    assert next(i for i in after.items if i.key == "herkenbaar").overall.mean == 3.0


def test_months_and_the_period_follow_the_organisations_time_zone(app, org, teams):
    from zoneinfo import ZoneInfo

    amsterdam = ZoneInfo("Europe/Amsterdam")
    org(teams[0], datetime(2025, 5, 31, 22, 30), THREE)  # 1 June, 00:30 in Amsterdam (summer time)
    org(teams[0], datetime(2024, 6, 30, 22, 30))  # 1 July 2024, 00:30 there: the period's first day
    org(teams[0], datetime(2024, 6, 30, 21, 30))  # 30 June 2024, 23:30 there: before the period
    local, utc = figures(app, zone=amsterdam), figures(app)
    months = {m.month: m.sessions for m in local.months}
    assert months["2025-06"] == 1 and months["2025-05"] == 0 and months["2024-07"] == 1
    assert local.total_sessions == 2
    item = next(i for i in local.items if i.key == "herkenbaar")
    assert set(item.by_month) == {"2025-06"}
    utc_months = {m.month: m.sessions for m in utc.months}
    assert utc_months["2025-05"] == 1 and utc.total_sessions == 1  # in UTC both 2024 sessions are in June


def test_the_migration_tallies_sessions_closed_before_it(app, org, teams):
    """Sessions closed before the tally existed: the migration adds them up by the same rule."""
    from flask_migrate import downgrade, upgrade

    org(teams[0], datetime(2025, 6, 1, 9), THREE)
    org(teams[1], datetime(2025, 6, 2, 9), THREE[:2])  # below k
    before, kept = figures(app), _tallies(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        downgrade(revision="0012")
        upgrade()
        db.engine.dispose()
    assert _tallies(app) == kept and len(kept) == 1
    assert figures(app) == before
