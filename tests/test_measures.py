"""The periodic measure: a session without a case whose questionnaire is its evaluation, and the
page that puts the measures side by side with averages only, k respected (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from beraad.extensions import db
from beraad.methods import service as methods_service
from beraad.methods.loader import load_methods
from beraad.models import DeliberationSession, User
from beraad.sessions import service as sessions
from beraad.summary import measures
from beraad.vote import evaluation
from beraad.vote import service as vote

from .conftest import DATA_DIR

REPO_DIR = DATA_DIR.parent.parent

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).replace(tzinfo=None)


@pytest.fixture
def real_methods(app):
    with app.app_context():
        methods_service.import_methods(load_methods(REPO_DIR / "methods"))
        db.session.commit()


def run_measure(app, owner_id: int, answers: list[dict], days: int, k: int = 3) -> int:
    """Create, fill in and close one measure; return its session id."""
    with app.app_context():
        method = methods_service.get_method(measures.MEASURE_METHOD)
        session = sessions.create_session(db.session.get(User, owner_id), method, [], "", "nl", k)
        assert session.title == method.name.nl  # no case: the method names it
        sessions.start_session(session, now=T0 + timedelta(days=days))
        members = [vote.join(session, vote.new_token()) for _ in answers]
        db.session.commit()
        evaluation.set_open(session, True)
        db.session.commit()
        for member, filled in zip(members, answers, strict=True):
            vote.begin_write()
            evaluation.submit(session, member, filled)
            db.session.commit()
        sessions.close_session(session, now=T0 + timedelta(days=days, minutes=15))
        db.session.commit()
        return session.id


SPRING = [
    {"competentie-herkennen": "4", "competentie-uitspreken": "2", "teamwerk-open": "5",
     "opmerking": "Vaker"},
    {"competentie-herkennen": "5", "competentie-uitspreken": "3", "teamwerk-open": "4",
     "opmerking": "Korter"},
    {"competentie-herkennen": "3", "competentie-uitspreken": "4", "teamwerk-open": "3",
     "opmerking": "Meer tijd"},
    {"competentie-herkennen": "4", "teamwerk-open": "4"},
]  # fmt: skip
AUTUMN = [  # two people: below k, nothing but the count may show
    {"competentie-herkennen": "1", "teamwerk-open": "1", "opmerking": "Alleen ik schreef dit"},
    {"competentie-herkennen": "2", "teamwerk-open": "2"},
]


def test_the_measure_is_a_method_without_a_case(app, real_methods):
    with app.app_context():
        method = methods_service.get_method(measures.MEASURE_METHOD)
        assert method.dilemmas == (0, 0)
        domains = {item.key.split("-")[0] for item in method.evaluation if item.type == "scale"}
        assert domains == set(measures.DOMAINS)
        assert len([item for item in method.evaluation if item.type == "scale"]) == 15


def test_domain_averages_per_measure_and_nothing_below_k(app, real_methods, create_user):
    owner = create_user("carla", role="coordinator")
    spring = run_measure(app, owner, SPRING, days=0)
    autumn = run_measure(app, owner, AUTUMN, days=180)
    with app.app_context():
        rows = measures.measures(list(db.session.scalars(select(DeliberationSession))))
    assert [row.session_id for row in rows] == [spring, autumn]  # oldest first
    first, second = rows
    assert first.respondents == 4
    # competentie: herkennen (4+5+3+4)/4 = 4.0 and uitspreken (2+3+4)/3 = 3.0 -> 3.5
    assert first.domains == {"competentie": 3.5, "teamwerk": 4.0, "handelen": None}
    assert first.remarks == ("Korter", "Meer tijd", "Vaker")  # sorted, never in the order sent
    assert second.respondents == 2
    assert second.domains == {"competentie": None, "teamwerk": None, "handelen": None}
    assert second.remarks == () and all(q.mean is None for q in second.questions)


def test_the_measures_page_shows_averages_side_by_side(app, real_methods, create_user, client, auth):
    owner = create_user("carla", role="coordinator")
    run_measure(app, owner, SPRING, days=0)
    run_measure(app, owner, AUTUMN, days=180)
    auth.login("carla", role="coordinator")
    page = client.get("/measures").get_data(as_text=True)
    assert "Morele competentie" in page and "3,5" in page and "4,0" in page
    assert "Alleen ik schreef dit" not in page  # an open answer of a measure below k
    assert "Korter" in page
    for single in ("1,0", "1,5", "2,0"):  # the autumn figures, each from two people
        assert f">{single}<" not in page


def test_a_facilitator_sees_only_their_own_measures(app, real_methods, create_user, client, auth):
    run_measure(app, create_user("carla", role="coordinator"), SPRING, days=0)
    auth.login("anna", role="facilitator")
    page = client.get("/measures").get_data(as_text=True)
    assert "Nog geen afgesloten meting" in page


def test_a_measure_is_started_from_the_form_without_a_dilemma(app, real_methods, client, auth):
    auth.login("anna", role="facilitator")
    form = {"method": measures.MEASURE_METHOD, "title": "", "language": "nl", "k": "3",
            "facilitator_name": "Anna"}  # fmt: skip
    response = client.post("/sessions/new", data=form)
    assert response.status_code == 302
    with app.app_context():
        session = db.session.scalar(select(DeliberationSession))
        assert session.method_key == measures.MEASURE_METHOD and session.dilemmas_snapshot == []
    # The run page has no case to consent to, and the projector shows the steps.
    run = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="consent"' not in run
