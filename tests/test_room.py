"""The room: charts per poll type, text on screen, the case, contributions per step, moving on.

Logic and views on both databases; tests/browser/test_room.py plays whole sessions in Chromium.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from beraad.charts import build_chart, median_of_histogram
from beraad.extensions import db
from beraad.models import Contribution, PollStatus
from beraad.sessions import service
from beraad.sessions.state import case_chunks, phone_stage, stage_context
from beraad.vote import contributions
from beraad.vote.service import aggregate

from .test_sessions import content, ctx, english, facilitated, load, make_session, owner, poll_at  # noqa: F401  # noqa: F401

LABELS = {"A": "Aanpassen", "B": "Weigeren", "C": "Overleggen"}


# --- charts -----------------------------------------------------------------------------------------


def test_choice_chart_has_label_count_and_percent_per_option():
    result = aggregate("choice", [{"choice": "A"}, {"choice": "A"}, {"choice": "B"}], LABELS, None, 3)
    chart = build_chart("choice", result)
    assert chart.kind == "choice"
    assert [(r.key, r.label, r.count, r.percent) for r in chart.rows] == [
        ("A", "Aanpassen", 2, 67), ("B", "Weigeren", 1, 33), ("C", "Overleggen", 0, 0),
    ]  # fmt: skip
    assert chart.shift is None and chart.before_count is None


def test_before_after_pairs_the_bars_and_names_the_largest_shift():
    before = aggregate("choice", [{"choice": c} for c in "AABB"], LABELS, None, 3)
    after = aggregate("choice", [{"choice": c} for c in "ABBBCC"], LABELS, None, 3)
    chart = build_chart("choice", after, before)
    assert [(r.key, r.before_percent, r.percent) for r in chart.rows] == [
        ("A", 50, 17), ("B", 50, 50), ("C", 0, 33),
    ]  # fmt: skip
    assert (chart.shift.key, chart.shift.before_percent, chart.shift.percent) == ("A", 50, 17)
    assert chart.before_count == 4
    # An earlier vote below k gives no pairing at all: nothing to compare with.
    hidden_before = aggregate("choice", [{"choice": "A"}], LABELS, None, 3)
    assert build_chart("choice", after, hidden_before).before_count is None


def test_ranking_chart_orders_by_mean_position_with_readable_labels():
    labels = {"moed": "Moed", "zorg": "Zorgvuldigheid", "trouw": "Loyaliteit"}
    values = [{"ranking": ["zorg", "moed", "trouw"]}, {"ranking": ["zorg", "trouw", "moed"]},
              {"ranking": ["moed", "zorg", "trouw"]}]  # fmt: skip
    chart = build_chart("ranking", aggregate("ranking", values, labels, None, 3))
    assert [(r.label, r.mean_position) for r in chart.rows] == [
        ("Zorgvuldigheid", 1.3), ("Moed", 2.0), ("Loyaliteit", 2.7),
    ]  # fmt: skip
    assert all(r.label != r.key for r in chart.rows)  # never an internal key as the label


def test_scale_chart_has_mean_median_and_end_labels():
    values = [{"value": v} for v in (1, 4, 4, 5)]
    result = aggregate("scale", values, {}, {"min": 1, "max": 5}, 3)
    chart = build_chart("scale", result, min_label="oneens", max_label="eens")
    assert [r.count for r in chart.rows] == [1, 0, 0, 2, 1]
    assert (chart.mean, chart.median, chart.peak) == (3.5, 4.0, 2)
    assert (chart.min_label, chart.max_label) == ("oneens", "eens")


@pytest.mark.parametrize(
    ("counts", "median"),
    [((1, 0, 0, 0, 0), 1), ((1, 1, 0, 0, 0), 1.5), ((0, 0, 2, 2, 1), 4), ((0,) * 5, None)],
)
def test_median_of_a_histogram(counts, median):
    rows = [(str(n + 1), str(n + 1), count, 0) for n, count in enumerate(counts)]
    assert median_of_histogram(rows) == median


def test_below_k_the_chart_holds_only_the_count():
    chart = build_chart("choice", aggregate("choice", [{"choice": "A"}, {"choice": "B"}], LABELS, None, 3))
    assert (chart.kind, chart.count, chart.rows) == ("hidden", 2, ())


def test_text_chart_keeps_the_sorted_texts():
    result = aggregate("text", [{"text": t} for t in ("zorg", "Moed", "eerlijk")], {}, None, 3)
    assert build_chart("text", result).texts == ("eerlijk", "Moed", "zorg")


# --- the case in the room ---------------------------------------------------------------------------


def test_a_long_case_is_cut_into_pieces_at_sentence_ends():
    sentence = "Dit is een zin van precies tien woorden voor de test."
    text = " ".join([sentence] * 12) + "\n\nEen tweede alinea.\n\n**Wat doe je?**"
    chunks = case_chunks(text)
    assert len(chunks) == 5  # 120 words in pieces of at most 55, then two short paragraphs
    assert all(str(chunk).startswith("<p>") for chunk in chunks)
    assert "<strong>Wat doe je?</strong>" in str(chunks[-1])
    assert sum(str(c).count("tien woorden") for c in chunks) == 12  # nothing lost


def test_case_steps_show_the_case_as_consented(app, owner, make_session):  # noqa: F811
    plain = make_session(owner)
    game = make_session(owner, "dilemmaspel", ("rapport-bijstellen", "geschenk-leverancier"))
    with app.app_context():
        session = load(plain)
        service.start_session(session)
        service.go_to_step(session, 1)
        assert stage_context(session)["case"] == []  # the test copy of this method shows no case here
        db.session.rollback()
    with app.app_context():
        _case_of_the_game(load(game))


def _case_of_the_game(session) -> None:
    service.start_session(session)
    service.go_to_step(session, 1)  # "dilemma-lezen" for the first dilemma: case and options
    context = stage_context(session)
    assert context["case"] and "rapport" in "".join(map(str, context["case"])).lower()
    assert [o["key"] for o in context["case_options"]] == ["A", "B"]
    session.case_consent = "question"
    question = "".join(map(str, stage_context(session)["case"]))
    assert question.count("<p>") == 1 and question.strip().endswith("?</p>")


def test_the_projector_shows_the_short_version_and_the_phones_the_whole_case(app, owner, make_session):  # noqa: F811
    game = make_session(owner, "dilemmaspel", ("rapport-bijstellen", "geschenk-leverancier"))
    with app.app_context():
        session = load(game)
        snapshot = [dict(d) for d in session.dilemmas_snapshot]
        snapshot[0]["short"] = "Kort: de leidinggevende wil zachtere conclusies.\n\n**Moet ik ze aanpassen?**"
        session.dilemmas_snapshot = snapshot
        service.start_session(session)
        service.go_to_step(session, 1)
        context = stage_context(session)
        projector = "".join(map(str, context["projector_case"]))
        assert "Kort: de leidinggevende" in projector and "genuanceerder" not in projector
        assert "genuanceerder" in "".join(map(str, context["case"]))  # the phones carry it in full
        assert "Kort:" not in "".join(map(str, phone_stage(session)["case"]))
        session.case_consent = "redacted"  # a presenter's own text is never swapped for the bank's
        session.case_redacted = "Mijn eigen verhaal, ingekort.\n\n**Moet ik iets zeggen?**"
        assert "Mijn eigen verhaal" in "".join(map(str, stage_context(session)["projector_case"]))
        service.go_to_step(session, 5)  # the second dilemma has no short version: the whole case
        context = stage_context(session)
        assert context["projector_case"] == context["case"] != []
        db.session.rollback()


# --- text on screen ---------------------------------------------------------------------------------


def test_text_on_screen_is_kept_with_its_step(app, ctx, owner, make_session):  # noqa: F811
    session = load(make_session(owner))
    service.start_session(session)
    version = session.version
    service.set_screen_text(session, 0, "  Wanneer mag je een afspraak doorbreken?\n ", True)
    assert session.version > version
    assert stage_context(session)["screen_text"] == "Wanneer mag je een afspraak doorbreken?"
    service.move(session, 1)
    assert stage_context(session)["screen_text"] == ""  # it belongs to step 1
    service.move(session, -1)
    assert stage_context(session)["screen_text"] == "Wanneer mag je een afspraak doorbreken?"
    service.set_screen_text(session, 0, "Wanneer mag je een afspraak doorbreken?", False)
    assert stage_context(session)["screen_text"] == ""
    assert session.steps[0].screen_text == "Wanneer mag je een afspraak doorbreken?"  # kept for the summary
    for bad in ("", "   ", "x" * (service.MAX_SCREEN_TEXT_CHARS + 1)):
        with pytest.raises(service.SessionError):
            service.set_screen_text(session, 0, bad, True)
    with pytest.raises(service.SessionError):
        service.set_screen_text(session, 99, "Vraag", True)


# --- contributions belong to their step -------------------------------------------------------------


def _contribution(session, text: str) -> str:
    contributions.submit(session, text)
    return db.session.scalar(select(Contribution.id).where(Contribution.text == text))


def test_released_contributions_show_at_their_step_and_leave_with_it(app, ctx, owner, make_session):  # noqa: F811
    session = load(make_session(owner))
    service.start_session(session)
    first = _contribution(session, "Wat weegt zwaarder: loyaliteit of waarheid?")
    contributions.moderate(session, first, "released")
    service.set_show_contributions(session, True)
    assert [c.text for c in stage_context(session)["contributions"]] == [
        "Wat weegt zwaarder: loyaliteit of waarheid?"
    ]
    service.move(session, 1)
    assert not session.show_contributions and stage_context(session)["contributions"] == []
    second = _contribution(session, "Wie beschermt de onderzoeker?")
    contributions.moderate(session, second, "released")
    service.set_show_contributions(session, True)
    assert [c.text for c in stage_context(session)["contributions"]] == ["Wie beschermt de onderzoeker?"]
    # Pinned: every released contribution stays, also after moving on.
    service.set_pin_contributions(session, True)
    service.move(session, 1)
    assert session.show_contributions
    assert len(stage_context(session)["contributions"]) == 2


# --- moving on with a vote open; alternatives -----------------------------------------------------


def test_moving_on_closes_the_open_vote_and_says_so(app, ctx, owner, make_session):  # noqa: F811
    session = load(make_session(owner))
    service.start_session(session)
    service.go_to_step(session, 3)
    poll = poll_at(session, 3)
    service.open_poll(session, poll)
    closed = service.move(session, 1)
    assert closed == [poll] and poll.status == PollStatus.CLOSED
    assert service.move(session, 1) == []


def test_the_same_alternative_twice_is_refused(app, ctx, owner, make_session):  # noqa: F811
    session = load(make_session(owner))
    assert service.add_alternative(session, 0, "Eerst overleggen met het team") == "C"
    for same in ("eerst  overleggen met het TEAM.", "Je past de conclusies aan"):
        with pytest.raises(service.DuplicateOptionError):
            service.add_alternative(session, 0, same)
    assert [o["key"] for o in service.poll_options(session, poll_at(session, 3))] == ["A", "B", "C"]


# --- the facilitator's controls through the views -----------------------------------------------


def test_screen_join_and_pin_controls(app, client, facilitated):  # noqa: F811
    base = f"/sessions/{facilitated}"
    client.post(base + "/start")
    response = client.post(
        base + "/steps/0/screen", data={"text": "Wat is hier goed werk?", "action": "show"}
    )
    assert response.status_code == 302 and response.location.endswith("#screen")
    assert client.post(base + "/join-code/large").status_code == 302
    assert client.post(base + "/contributions/pin").status_code == 302
    with app.app_context():
        session = load(facilitated)
        assert session.steps[0].screen_shown and session.show_join and session.pin_contributions
        token = session.projector_token
    stage = client.get(f"/p/{token}/stage").get_data(as_text=True)
    assert '<p class="screen-text">Wat is hier goed werk?</p>' in stage
    assert "join-large" in client.get(f"/p/{token}").get_data(as_text=True)
    too_long = client.post(base + "/steps/0/screen", data={"text": "x" * 601, "action": "show"})
    assert "600" in client.get(too_long.location).get_data(as_text=True)
    with app.app_context():
        assert load(facilitated).steps[0].screen_text == "Wat is hier goed werk?"  # nothing lost


def test_moving_on_with_an_open_vote_tells_the_facilitator(app, client, facilitated):  # noqa: F811
    base = f"/sessions/{facilitated}"
    client.post(base + "/start")
    client.post(base + "/step", data={"position": "3"})
    with app.app_context():
        poll_id = poll_at(load(facilitated), 3).id
    client.post(f"{base}/polls/{poll_id}/open")
    page = client.get(client.post(base + "/step", data={"direction": "next"}).location).get_data(as_text=True)
    assert "was still open: it is now closed" in page


def test_a_duplicate_alternative_is_refused_with_a_message(app, client, facilitated):  # noqa: F811
    base = f"/sessions/{facilitated}"
    client.post(base + "/alternatives", data={"text": "Eerst overleggen"})
    response = client.post(base + "/alternatives", data={"text": "eerst overleggen"})
    assert "is already one of the options; nothing was added" in client.get(response.location).get_data(
        as_text=True
    )


def test_the_facilitator_screen_uses_svg_icons_not_symbol_glyphs(app, client, facilitated):  # noqa: F811
    base = f"/sessions/{facilitated}"
    client.post(base + "/start")
    page = client.get(base).get_data(as_text=True)
    assert 'class="icon icon-pause"' in page and 'class="icon icon-next"' in page
    assert not any(glyph in page for glyph in "⏸▶✕◐")


def test_ranking_items_are_shown_without_their_internal_keys(app, client, facilitated):  # noqa: F811
    base = f"/sessions/{facilitated}"
    client.post(base + "/start")
    client.post(base + "/step", data={"position": "4"})
    with app.app_context():
        session = load(facilitated)
        poll = poll_at(session, 4)
        keys = [option["key"] for option in poll.options]
        token = session.projector_token
    assert poll.type == "ranking" and all(key.islower() for key in keys)
    client.post(f"{base}/polls/{poll.id}/open")
    for page in (
        client.get(base).get_data(as_text=True),
        client.get(f"/p/{token}/stage").get_data(as_text=True),
    ):
        badges = re.findall(r'<span class="option-key">([^<]*)</span>', page)
        assert badges and not set(badges) & set(keys)
