"""Attacks on the anonymity promise, written as an attacker would try them.

Someone who may read the summary (owner, admin, any coordinator) downloads it before and after one
more person taps their phone: the difference must not tell what that person chose.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text as sql
from sqlalchemy.exc import OperationalError

from beraad.extensions import db
from beraad.models import DeliberationSession
from beraad.summary.build import build_summary
from beraad.summary.exports import to_csv, to_markdown
from beraad.vote import evaluation
from beraad.vote import service as vote

from .test_vote import content, dump_database, facilitator, meeting, meetings  # noqa: F401


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
        member = meeting.join_token(vote.new_token())
        with meeting.app.app_context():
            session = db.session.get(DeliberationSession, meeting.id)
            vote.begin_write()
            evaluation.submit(session, member, answers)
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


def storage_order(app, table: str, column: str, where: str, **params) -> list:
    """The rows as a dump or a raw read sees them: SQLite's storage order, PostgreSQL's ctid order."""
    with app.app_context():
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
    values = storage_order(
        peiling.app, "answer", "value", "poll_id = :poll", poll=peiling.polls["kernwaarde"]
    )
    stored = [json.loads(v)["text"] if isinstance(v, str) else v["text"] for v in values]
    assert sorted(stored) == typed
    assert stored != typed and stored != typed[::-1]  # 1 in 16!/2 by chance
    with peiling.app.app_context():
        if db.engine.dialect.name == "sqlite":  # no hidden arrival counter to order by either
            with pytest.raises(OperationalError):
                db.session.execute(sql("SELECT rowid FROM answer")).all()


def test_a_dump_after_the_evaluation_closes_does_not_keep_one_persons_answers_together(meeting):  # noqa: F811
    meeting.run(lambda session: evaluation.set_open(session, True))
    # 24 phones: a random order leaves every pair whole with chance 2^24 / C(48, 24), about 5e-7
    # (with 8 phones it was 2%, and the test failed now and then although the rows were shuffled).
    phones = 24
    for n in range(phones):
        member = meeting.join_token(vote.new_token())
        with meeting.app.app_context():
            session = db.session.get(DeliberationSession, meeting.id)
            vote.begin_write()
            evaluation.submit(session, member, {"vrij-spreken": 1 + n % 5, "verbeterpunt": f"punt {n}"})
            db.session.commit()
    meeting.run(lambda session: evaluation.set_open(session, False))
    keys = storage_order(meeting.app, "evaluation_answer", "item_key", "session_id = :s", s=meeting.id)
    # Written as pairs (one phone, one transaction); stored in pairs would join them again.
    pairs = sum(
        1 for a, b in zip(keys[::2], keys[1::2], strict=False) if {a, b} == {"vrij-spreken", "verbeterpunt"}
    )
    assert pairs < phones


def test_a_dump_after_the_session_closes_neither_orders_nor_links_anyone(meetings):  # noqa: F811
    """Someone who later holds the database (a dump, a backup, a copy of the files)."""
    room = play_a_room(meetings)
    app = room.app
    dump = dump_database(app)
    voter_keys = [
        text for votes in room.votes for name in ("moreel-dilemma", "eigen-afweging", "evaluation")
        for text in votes[name] if len(text) == 64
    ]  # fmt: skip
    secrets_of_people = [room.secret, *room.tokens, *voter_keys]
    assert [text for text in secrets_of_people if text in dump] == []  # no secret, token or voter key left
    joins = [next(iter(votes["join"])) for votes in room.votes]
    assert sum(dump.count(key) for key in joins) == PHONES  # each join key once, in its own table only
    everything = "session_id = (SELECT max(id) FROM deliberation_session)"
    stored_joins = storage_order(app, "participant", "participant_key", everything)
    contributions = storage_order(app, "contribution", "text", everything)
    items = storage_order(app, "evaluation_answer", "item_key", everything)
    arrival = list(range(PHONES))
    assert sorted(joins.index(key) for key in stored_joins) == arrival
    assert [joins.index(key) for key in stored_joins] not in (arrival, arrival[::-1])
    assert sorted(contributions) == [f"bijdrage{n:02d}x" for n in arrival]
    assert contributions != sorted(contributions) and contributions != sorted(contributions, reverse=True)
    # Each phone wrote its three items in one transaction; stored in threes would join them again.
    triples = sum(1 for start in range(0, len(items), 3) if len(set(items[start : start + 3])) == 3)
    assert len(items) == 3 * PHONES and triples < 11
    with app.app_context():
        if db.engine.dialect.name == "sqlite":  # no hidden arrival counter in any of these tables
            for table in ("answer", "evaluation_answer", "contribution", "participant"):
                with pytest.raises(OperationalError):
                    db.session.execute(sql(f"SELECT rowid FROM {table}")).all()  # noqa: S608


# --- someone who reads outputs: every page, export and API answer, diffed between single votes ---


def every_output(meeting, facilitator) -> dict[str, str]:  # noqa: F811
    """What the owner (and an admin or coordinator) can read about the session, each as text."""
    from pypdf import PdfReader

    session = f"/sessions/{meeting.id}"
    api = f"/api/v1/sessions/{meeting.id}"
    paths = [
        session, f"{session}/state", f"/p/{meeting.projector}", f"/p/{meeting.projector}/stage",
        f"/p/{meeting.projector}/state", f"{session}/summary", f"{session}/summary.md",
        f"{session}/summary.csv",
        api, f"{api}/state", f"{api}/results", f"{api}/summary", f"{api}/summary.md", f"{api}/summary.csv",
        f"/j/{meeting.code}/state",
    ]  # fmt: skip
    outputs = {}
    for path in paths:
        response = facilitator.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        outputs[path] = json.dumps(response.json, indent=1, sort_keys=True) if response.is_json else body
    pdf = facilitator.get(f"{session}/summary.pdf")
    assert pdf.status_code == 200
    outputs["summary.pdf"] = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    return outputs


def without_numbers(text: str) -> str:
    """An output with every number, per-request token and time made the same."""
    text = re.sub(r'(csrf_token|nonce)"?\s*(?:[:=]|value=)\s*"[^"]+"', r"\1=X", text)
    text = re.sub(r"\d+", "N", text)
    return re.sub(r"N (antwoord|answer|stem|vote|deelnemer|participant)(en|s)?\b", r"N \1", text)


def changes_between_single_votes(meeting, facilitator, vote_once) -> dict[str, set[str]]:  # noqa: F811
    """Let PHONES phones act one at a time; return, per output, the lines that changed other
    than in their numbers (an open vote may move its count and nothing else)."""
    before = every_output(meeting, facilitator)
    changed: dict[str, set[str]] = {}
    for number in range(PHONES):
        vote_once(number)
        after = every_output(meeting, facilitator)
        for path, text in after.items():
            old, new = without_numbers(before[path]).splitlines(), without_numbers(text).splitlines()
            if old != new:
                changed.setdefault(path, set()).update(set(new) ^ set(old))
        before = after
    return changed


def test_no_output_moves_but_its_count_while_a_vote_is_open(meeting, facilitator):  # noqa: F811
    meeting.open("moreel-dilemma")
    meeting.show("moreel-dilemma")
    phones = [meeting.phone() for _ in range(PHONES)]
    for phone in phones:
        phone.join()
    poll = meeting.polls["moreel-dilemma"]

    def vote_once(number: int) -> None:
        assert phones[number].answer(poll, json={"choice": "AB"[number % 3 == 0]}).status_code == 201

    assert changes_between_single_votes(meeting, facilitator, vote_once) == {}
    meeting.close("moreel-dilemma")
    assert (
        "Je legt je bezwaar vast" in every_output(meeting, facilitator)[f"/sessions/{meeting.id}/summary.md"]
    )


def test_no_output_moves_but_its_count_while_the_evaluation_is_open(meeting, facilitator):  # noqa: F811
    phones = [meeting.phone() for _ in range(PHONES)]
    for phone in phones:
        phone.join()
    meeting.run(lambda session: evaluation.set_open(session, True))

    def vote_once(number: int) -> None:
        body = {
            "vrij-spreken": 1 + number % 5,
            "cijfer": 10 - number % 4,
            "verbeterpunt": f"verbeterpunt {number}",
        }
        assert (
            phones[number].request("POST", f"{phones[number].base}/evaluation", json=body).status_code == 201
        )

    assert changes_between_single_votes(meeting, facilitator, vote_once) == {}
    meeting.run(lambda session: evaluation.set_open(session, False))
    assert "verbeterpunt 7" in every_output(meeting, facilitator)[f"/sessions/{meeting.id}/summary.md"]


# --- a database administrator watching live ------------------------------------------------------
# Every statement the app sends, with its parameters, as a statement log shows them: grouped per
# transaction on one connection. The attacker knows nothing of tokens; the test knows every
# phone's keys and texts, and checks whether any transaction (or chain of transactions sharing a
# key) holds two different votes of one phone, or a vote and its join.

PHONES = 12


@dataclass
class PlayedRoom:
    """A session played by PHONES phones; per phone, what each of its votes left in statements."""

    app: Flask
    secret: str
    tokens: list[str]
    votes: list[dict[str, set[str]]] = field(default_factory=list)  # phone -> vote -> strings


def play_a_room(meetings) -> PlayedRoom:  # noqa: F811
    """Join, answer two votes, contribute, evaluate (while the second vote is still open) and
    look at the page in between, with PHONES phones over HTTP; return what each phone left."""
    room = meetings("dilemmamethode")
    first, second = room.polls["moreel-dilemma"], room.polls["eigen-afweging"]
    phones = [room.phone() for _ in range(PHONES)]
    for phone in phones:
        phone.join()
    with room.app.app_context():
        secret = db.session.get(DeliberationSession, room.id).secret
    items = ("vrij-spreken", "cijfer", "verbeterpunt")
    room.open("moreel-dilemma")
    for number, phone in enumerate(phones):
        assert phone.answer(first, json={"choice": "AB"[number % 2]}).status_code == 201
        phone.visit()
    room.close("moreel-dilemma")
    room.open("eigen-afweging")
    room.show("eigen-afweging")
    for number, phone in enumerate(phones):
        assert phone.answer(second, json={"choice": "AB"[number % 3 == 0]}).status_code == 201
        phone.request("GET", f"{phone.base}/stage")
    for number, phone in enumerate(phones):
        body = {"text": f"bijdrage{number:02d}x", "confirm": "1"}
        assert phone.request("POST", f"{phone.base}/contributions", json=body).status_code == 201
    room.run(lambda session: evaluation.set_open(session, True))
    for number, phone in enumerate(phones):
        body = {
            "vrij-spreken": 1 + number % 5,
            "cijfer": 6 + number % 4,
            "verbeterpunt": f"verbeter{number:02d}x",
        }
        response = phone.request("POST", f"{phone.base}/evaluation", json=body)
        assert response.status_code == 201, response.get_data(as_text=True)
        phone.visit()
        phone.request("GET", f"{phone.base}/stage")
    room.close("eigen-afweging")
    for phone in phones[:3]:  # the evaluation form alone now: the page reads it back
        phone.visit()
    room.close_session()
    played = PlayedRoom(room.app, secret, [phone.token for phone in phones])
    for number, token in enumerate(played.tokens):
        played.votes.append(
            {
                "join": {vote.participant_key(secret, token)},
                "moreel-dilemma": {vote.voter_key(secret, token, first)},
                "eigen-afweging": {vote.voter_key(secret, token, second)},
                "contribution": {f"bijdrage{number:02d}x"},
                "evaluation": {vote._keyed(secret, f"evaluation:{item}:{token}") for item in items}
                | {f"verbeter{number:02d}x"},
            }
        )
    return played


def linked_votes(room: PlayedRoom, transactions: list[str]) -> dict[int, set[frozenset]]:
    """What a statement log gives away: per phone, the pairs of its votes found together.

    A transaction that touches several phones says nothing of any one (a vote closing, the
    facilitator's screen); the others are chained through the strings they share.
    """
    owner = {text: (phone, name) for phone, votes in enumerate(room.votes) for name, texts in votes.items()
             for text in texts}  # fmt: skip
    parent: dict = {}

    def find(node):
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for blob in transactions:
        assert not any(token in blob for token in room.tokens), "a statement carries a participant's token"
        found = [text for text in owner if text in blob]
        if len({owner[text][0] for text in found}) != 1:
            continue
        for text in found[1:]:
            parent[find(text)] = find(found[0])
    linked: dict[int, set[frozenset]] = {}
    for phone, votes in enumerate(room.votes):
        groups: dict = {}
        for name, texts in votes.items():
            for text in texts:
                groups.setdefault(find(text), set()).add(name)
        for names in groups.values():
            if len(names) > 1:
                linked.setdefault(phone, set()).add(frozenset(names))
    return linked


class StatementLog:
    """Every statement with its parameters, per transaction, from SQLAlchemy's engine events."""

    def __init__(self, engine):
        self.engine = engine
        self.transactions: list[str] = []
        self.open: dict[int, list[str]] = {}

    def _executed(self, connection, _cursor, statement, parameters, _context, _many):
        self.open.setdefault(id(connection.connection.dbapi_connection), []).append(
            f"{statement} {parameters!r}"
        )

    def _close(self, dbapi_connection) -> None:
        if self.open.get(id(dbapi_connection)):
            self.transactions.append("\n".join(self.open.pop(id(dbapi_connection))))

    def _ended(self, connection):
        self._close(connection.connection.dbapi_connection)

    def _reset(self, dbapi_connection, *_args):
        self._close(dbapi_connection)

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._executed)
        event.listen(self.engine, "commit", self._ended)
        event.listen(self.engine, "rollback", self._ended)
        event.listen(self.engine.pool, "reset", self._reset)
        return self

    def __exit__(self, *_exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._executed)
        event.remove(self.engine, "commit", self._ended)
        event.remove(self.engine, "rollback", self._ended)
        event.remove(self.engine.pool, "reset", self._reset)
        self.transactions += ["\n".join(statements) for statements in self.open.values()]


def test_a_statement_log_does_not_group_one_phones_votes(app, meetings):  # noqa: F811
    with app.app_context():
        engine = db.engine
    with StatementLog(engine) as log:
        room = play_a_room(meetings)
    assert len(log.transactions) > 10 * PHONES
    # The log did see every vote: each phone's keys and texts are in it.
    every_text = [text for votes in room.votes for texts in votes.values() for text in texts]
    assert all(any(text in blob for blob in log.transactions) for text in every_text)
    assert linked_votes(room, log.transactions) == {}


def postgres_log_transactions(text: str) -> list[str]:
    """The server's own log (log_statement = 'all'), cut per backend process and transaction."""
    record = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] (?:LOG|DETAIL|ERROR|STATEMENT):\s+(.*)$")
    transactions, open_ = [], {}
    pid = None
    for line in text.splitlines():
        match = record.match(line)
        if match:
            pid, body = match.groups()
            statement = body.split(": ", 1)[-1].strip().upper()
            if statement in ("BEGIN", "COMMIT", "ROLLBACK") and open_.get(pid):
                transactions.append("\n".join(open_.pop(pid)))
            open_.setdefault(pid, []).append(body)
        elif pid is not None:
            open_.setdefault(pid, []).append(line)
    return transactions + ["\n".join(lines) for lines in open_.values()]


def test_the_postgresql_statement_log_does_not_group_one_phones_votes(app, backend, meetings, request):  # noqa: F811
    if backend != "postgresql":
        pytest.skip("the server's statement log is PostgreSQL's")
    import psycopg

    server = request.getfixturevalue("postgres_server")
    logfile = server.root / "server.log"
    superuser = f"host={server.socket_dir} user=postgres dbname=postgres"
    with psycopg.connect(superuser, autocommit=True) as connection:
        connection.execute("ALTER SYSTEM SET log_statement = 'all'")  # a reload, no restart
        connection.execute("SELECT pg_reload_conf()")
    start = logfile.stat().st_size
    try:
        room = play_a_room(meetings)
    finally:
        with psycopg.connect(superuser, autocommit=True) as connection:
            connection.execute("ALTER SYSTEM RESET log_statement")
            connection.execute("SELECT pg_reload_conf()")
    with logfile.open(encoding="utf-8", errors="replace") as file:
        file.seek(start)
        transactions = postgres_log_transactions(file.read())
    assert any(room.votes[0]["moreel-dilemma"] & {word for blob in transactions for word in blob.split("'")})
    assert linked_votes(room, transactions) == {}


# --- the written promise -------------------------------------------------------------------------


def test_the_phone_links_the_threat_model_and_every_test_it_names_exists(meeting):  # noqa: F811
    phone = meeting.phone()
    page = phone.visit().get_data(as_text=True)
    assert 'href="/privacy"' in page
    response = phone.request("GET", "/privacy")
    assert response.status_code == 200
    document = response.get_data(as_text=True)
    for adversary in ("Someone who reads outputs", "Someone who later holds the database",
                      "A database administrator watching live", "Honest limits"):  # fmt: skip
        assert adversary in document
    files = list(Path(__file__).parent.rglob("test_*.py"))
    named = set(re.findall(r"\btest_[a-z0-9_]+", document)) - {path.stem for path in files}
    sources = "\n".join(path.read_text(encoding="utf-8") for path in files)
    defined = set(re.findall(r"^def (test_[a-z0-9_]+)", sources, re.M))
    assert len(named) >= 10 and named <= defined, named - defined
