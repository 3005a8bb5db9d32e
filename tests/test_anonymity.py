"""Attacks on the anonymity promise, written as an attacker would try them.

Someone who may read the summary (owner, admin, any coordinator) downloads it before and after one
more person taps their phone: the difference must not tell what that person chose.
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import text as sql
from sqlalchemy.exc import OperationalError

from beraad.extensions import db
from beraad.models import DeliberationSession
from beraad.summary.build import build_summary
from beraad.summary.exports import to_csv, to_markdown
from beraad.vote import evaluation
from beraad.vote import service as vote

from .test_vote import content, meeting, meetings  # noqa: F401


def exports(meeting) -> list[str]:  # noqa: F811
    """Every form of the summary the attacker can download: JSON, Markdown, CSV."""
    with meeting.app.app_context():
        summary = build_summary(db.session.get(DeliberationSession, meeting.id))
        return [json.dumps(summary.to_dict(), sort_keys=True), to_markdown(summary), to_csv(summary)]


def poll_entry(summary_json: str, key: str) -> dict:
    return next(poll for poll in json.loads(summary_json)["polls"] if poll["key"] == key)


def test_a_summary_diff_while_a_vote_is_open_tells_nothing_of_the_new_vote(meeting):  # noqa: F811
    meeting.open("moreel-dilemma")
    meeting.voters("moreel-dilemma", [{"choice": "A"}, {"choice": "A"}, {"choice": "B"}])
    before = exports(meeting)
    meeting.voters("moreel-dilemma", [{"choice": "B"}])  # the fourth person: what did they choose?
    after = exports(meeting)
    old_poll, new_poll = (poll_entry(text, "moreel-dilemma") for text in (before[0], after[0]))
    assert (old_poll["count"], new_poll["count"]) == (3, 4)
    assert old_poll == {**new_poll, "count": 3}  # the number of answers is all that changed
    assert not new_poll["shown"] and new_poll["rows"] == []
    for text in before[1:] + after[1:]:  # Markdown and CSV: no option, so no count per option
        assert "Je legt je bezwaar vast" not in text and "Je past de conclusies aan" not in text
    digits = re.compile(r"\d+")
    assert [digits.sub("N", t) for t in before] == [digits.sub("N", t) for t in after]  # only numbers moved
    # Once the vote closes the distribution appears, as on the projector.
    meeting.close("moreel-dilemma")
    closed = exports(meeting)[0]
    assert '"percent": 50' in closed


def test_a_summary_diff_while_the_evaluation_is_open_tells_nothing_of_one_evaluation(meeting):  # noqa: F811
    def evaluate(answers: dict) -> None:
        token = vote.new_token()
        meeting.join_token(token)
        with meeting.app.app_context():
            session = db.session.get(DeliberationSession, meeting.id)
            vote.begin_write()
            evaluation.submit(session, token, answers)
            db.session.commit()

    meeting.run(lambda session: evaluation.set_open(session, True))
    for grade in (4, 4, 5):
        evaluate({"vrij-spreken": grade, "verbeterpunt": f"Meer tijd voor stap {grade}"})
    before = exports(meeting)
    evaluate({"vrij-spreken": 1, "verbeterpunt": "Ik voelde me niet veilig om te spreken"})
    after = exports(meeting)
    for text in after:
        assert "niet veilig om te spreken" not in text and "Meer tijd" not in text
    assert not any("4.3" in t or "3.5" in t or "3,5" in t for t in before + after)  # no mean while open
    meeting.run(lambda session: evaluation.set_open(session, False))
    assert "niet veilig om te spreken" in exports(meeting)[1]


def storage_order(meeting, table: str, column: str, where: str, **params) -> list:  # noqa: F811
    """The rows as a dump or a raw read sees them: SQLite's storage order, PostgreSQL's ctid order."""
    with meeting.app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        order = " ORDER BY ctid" if postgres else ""
        rows = db.session.execute(sql(f"SELECT {column} FROM {table} WHERE {where}{order}"), params)  # noqa: S608
        return [row[0] for row in rows]


def test_a_dump_after_a_vote_closes_does_not_give_the_order_people_answered(meetings):  # noqa: F811
    peiling = meetings("peiling")
    peiling.open("kernwaarde")
    typed = [f"waarde nummer {n:02d}" for n in range(16)]
    peiling.voters("kernwaarde", [{"text": t} for t in typed])
    peiling.close("kernwaarde")
    values = storage_order(peiling, "answer", "value", "poll_id = :poll", poll=peiling.polls["kernwaarde"])
    stored = [json.loads(v)["text"] if isinstance(v, str) else v["text"] for v in values]
    assert sorted(stored) == typed
    assert stored != typed and stored != typed[::-1]  # 1 in 16!/2 by chance
    with peiling.app.app_context():
        if db.engine.dialect.name == "sqlite":  # no hidden arrival counter to order by either
            with pytest.raises(OperationalError):
                db.session.execute(sql("SELECT rowid FROM answer")).all()


def test_a_dump_after_the_evaluation_closes_does_not_keep_one_persons_answers_together(meeting):  # noqa: F811
    meeting.run(lambda session: evaluation.set_open(session, True))
    for n in range(8):
        token = vote.new_token()
        meeting.join_token(token)
        with meeting.app.app_context():
            session = db.session.get(DeliberationSession, meeting.id)
            vote.begin_write()
            evaluation.submit(session, token, {"vrij-spreken": 1 + n % 5, "verbeterpunt": f"punt {n}"})
            db.session.commit()
    meeting.run(lambda session: evaluation.set_open(session, False))
    keys = storage_order(meeting, "evaluation_answer", "item_key", "session_id = :s", s=meeting.id)
    # Written as pairs (one phone, one transaction); stored in pairs would join them again.
    pairs = sum(
        1 for a, b in zip(keys[::2], keys[1::2], strict=False) if {a, b} == {"vrij-spreken", "verbeterpunt"}
    )
    assert pairs < 8
