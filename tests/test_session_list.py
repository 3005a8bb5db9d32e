"""The sessions list on both databases: archive, restore and delete a session that is not running,
and offer the summary's exports only for sessions that ran.

Deleting removes the session with every raw row of it at once; on SQLite the deleted answers must
then be gone from the database file and its write-ahead log too (an attacker reads the files).
"""

from __future__ import annotations

import logging
import re
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from beraad.extensions import db
from beraad.i18n import LANGUAGE_COOKIE
from beraad.methods import service as methods_service
from beraad.methods.loader import parse_method
from beraad.models import (
    DeliberationSession,
    SessionStatus,
)
from beraad.sessions import service

from .conftest import AuthActions, rows_of_session
from .test_vote import OWNER, PEILING, Meeting, facilitator, meetings  # noqa: F401

PHONES = 3
# The test survey (a text poll) with an evaluation that takes free text: every raw table gets rows.
SURVEY = (
    PEILING.replace("key: peiling", "key: peiling-wissen", 1)
    + """\
evaluation:
  - key: verbeterpunt
    type: text
    question: {nl: "Wat kan er beter?", en: "What could be better?"}
    max_length: 500
"""
)
TOKEN_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
NO_XLSX_YET = (
    "the summary.xlsx route (another change) is not merged yet: the list links every session that ran "
    "to it, so a list with such a session cannot be rendered without it"
)


@pytest.fixture(autouse=True)
def english(client):
    """Interface messages in English, whatever the translation catalogue holds."""
    client.set_cookie(LANGUAGE_COOKIE, "en")


@dataclass
class Filled:
    meeting: Meeting
    poll_ids: list[str]
    markers: list[str]  # every text only a participant (or the facilitator's notes) holds


def fill(meetings, facilitator) -> Filled:  # noqa: F811
    """A running session with rows in every table: steps, polls, answers, participants,
    contributions, evaluation answers and an action point; each text is unique to this call."""
    with facilitator.application.app_context():
        methods_service.import_methods([parse_method(SURVEY, "peiling-wissen.yaml", "peiling-wissen")])
        db.session.commit()
    meeting = meetings("peiling-wissen", k=PHONES + 1)
    tag = secrets.token_hex(4)
    answers = [f"antwoord{tag}n{n}" for n in range(PHONES)]
    sent = [f"bijdrage{tag}n{n}" for n in range(PHONES)]
    evaluations = [f"evaluatie{tag}n{n}" for n in range(PHONES)]
    meeting.open("kernwaarde")
    phones = [meeting.phone() for _ in range(PHONES)]
    for phone, answer, contribution in zip(phones, answers, sent, strict=True):
        phone.join()
        assert phone.answer(meeting.polls["kernwaarde"], json={"text": answer}).status_code == 201
        assert phone.contribute(contribution, confirm=True, as_json=True).status_code == 201
    meeting.close("kernwaarde")
    assert facilitator.post(f"/sessions/{meeting.id}/evaluation/open").status_code == 302
    for phone, evaluation in zip(phones, evaluations, strict=True):
        response = phone.request("POST", f"{phone.base}/evaluation", json={"verbeterpunt": evaluation})
        assert response.status_code == 201, response.get_data(as_text=True)
    note, action = f"notitie{tag}", f"actiepunt{tag}"
    meeting.run(lambda session: service.save_notes(session, 0, note))
    meeting.run(lambda session: service.add_action_point(session, action, "teamleider", None))
    filled = Filled(meeting, list(meeting.polls.values()), [*answers, *sent, *evaluations, note, action])
    with meeting.app.app_context():
        assert all(rows_of_session(filled.meeting.id, filled.poll_ids).values()), rows_of_session(
            meeting.id, filled.poll_ids
        )
    return filled


def nothing_left(session_id: int, poll_ids: list[str]) -> bool:
    rows = rows_of_session(session_id, poll_ids)
    assert rows == dict.fromkeys(rows, 0), rows
    return True


def close(meeting: Meeting, client) -> None:
    """Close through the facilitator's form, as a person does (it empties SQLite's WAL)."""
    assert client.post(f"/sessions/{meeting.id}/close").status_code == 302
    with meeting.app.app_context():
        assert db.session.get(DeliberationSession, meeting.id).status == SessionStatus.CLOSED


def archived_at(app, session_id: int):
    with app.app_context():
        return db.session.get(DeliberationSession, session_id).archived_at


def exists(app, session_id: int) -> bool:
    with app.app_context():
        return db.session.get(DeliberationSession, session_id) is not None


def flashed(client) -> list[str]:
    """The messages waiting for the next page (read without rendering it)."""
    with client.session_transaction() as cookie_session:
        return [message for _, message in cookie_session.get("_flashes", [])]


def followed(client, response) -> str:
    """The page a redirect leads to (with its flashed messages)."""
    assert response.status_code == 302, response.status_code
    return client.get(response.location).get_data(as_text=True)


def signed_in(app, create_user, username: str, role: str):
    """Another browser, signed in as username."""
    other = app.test_client()
    other.set_cookie(LANGUAGE_COOKIE, "en")
    assert AuthActions(other, create_user).login(username, role=role).status_code == 302
    return other


def row_of(page: str, session_id: int) -> str:
    """The list's table row of one session."""
    match = re.search(rf'<tr id="session-{session_id}".*?</tr>', page, re.DOTALL)
    assert match, f"session {session_id} is not in the list"
    return match.group(0)


# --- archive and restore ---------------------------------------------------------------------------


def test_the_owner_archives_a_lobby_session_and_puts_it_back(app, facilitator, meetings):  # noqa: F811
    lobby = meetings(start=False)
    page = facilitator.get("/sessions/").get_data(as_text=True)
    assert f"/sessions/{lobby.id}/archive" in row_of(page, lobby.id)

    page = followed(facilitator, facilitator.post(f"/sessions/{lobby.id}/archive"))
    assert "The session “Testberaad” is archived." in page
    assert archived_at(app, lobby.id) is not None
    assert f'id="session-{lobby.id}"' not in page  # gone from the default list
    archived = facilitator.get("/sessions/?archived=1").get_data(as_text=True)
    assert f"/sessions/{lobby.id}/unarchive" in row_of(archived, lobby.id)
    assert "Restore" in row_of(archived, lobby.id)

    page = followed(facilitator, facilitator.post(f"/sessions/{lobby.id}/unarchive"))
    assert "The session “Testberaad” is back in the list." in page
    assert archived_at(app, lobby.id) is None
    assert f'id="session-{lobby.id}"' in facilitator.get("/sessions/").get_data(as_text=True)
    assert f'id="session-{lobby.id}"' not in facilitator.get("/sessions/?archived=1").get_data(as_text=True)


def test_the_list_has_a_tab_for_archived_sessions(app, facilitator, meetings):  # noqa: F811
    page = facilitator.get("/sessions/").get_data(as_text=True)
    assert 'href="/sessions/?archived=1"' in page and "Archived" in page
    archived = facilitator.get("/sessions/?archived=1").get_data(as_text=True)
    assert "No archived sessions." in archived


def test_a_closed_session_can_be_archived_and_keeps_everything(app, facilitator, meetings):  # noqa: F811
    filled = fill(meetings, facilitator)
    close(filled.meeting, facilitator)
    with app.app_context():
        before = rows_of_session(filled.meeting.id, filled.poll_ids)
    response = facilitator.post(f"/sessions/{filled.meeting.id}/archive")
    assert response.status_code == 302 and response.location.endswith("/sessions/")
    assert archived_at(app, filled.meeting.id) is not None
    with app.app_context():
        assert rows_of_session(filled.meeting.id, filled.poll_ids) == before  # archiving deletes nothing


def test_an_admin_archives_and_restores_anyones_session(app, meetings, create_user):  # noqa: F811
    lobby = meetings(start=False)
    admin = signed_in(app, create_user, "beheer", "admin")
    assert f"/sessions/{lobby.id}/archive" in admin.get("/sessions/").get_data(as_text=True)
    assert admin.post(f"/sessions/{lobby.id}/archive").status_code == 302
    assert archived_at(app, lobby.id) is not None
    assert admin.post(f"/sessions/{lobby.id}/unarchive").status_code == 302
    assert archived_at(app, lobby.id) is None


def test_a_running_session_cannot_be_archived(app, facilitator, meetings):  # noqa: F811
    running = meetings()
    response = facilitator.post(f"/sessions/{running.id}/archive")
    assert response.status_code == 302 and response.location.endswith("/sessions/")
    assert flashed(facilitator) == ["A running session cannot be archived: close it first."]
    assert archived_at(app, running.id) is None


def test_archive_and_restore_are_posts_only(app, facilitator, meetings):  # noqa: F811
    lobby = meetings(start=False)
    assert facilitator.get(f"/sessions/{lobby.id}/archive").status_code == 405
    assert facilitator.get(f"/sessions/{lobby.id}/delete").status_code == 405
    assert archived_at(app, lobby.id) is None and exists(app, lobby.id)


# --- delete --------------------------------------------------------------------------------------


def test_the_owner_deletes_a_closed_session_and_every_row_of_it(app, facilitator, meetings):  # noqa: F811
    filled = fill(meetings, facilitator)
    other = fill(meetings, facilitator)  # another session of the same owner: it stays whole
    close(filled.meeting, facilitator)
    with app.app_context():
        others_before = rows_of_session(other.meeting.id, other.poll_ids)

    response = facilitator.post(f"/sessions/{filled.meeting.id}/delete", data={"confirm": "yes"})
    assert response.status_code == 302 and response.location.endswith("/sessions/")
    with app.app_context():
        assert nothing_left(filled.meeting.id, filled.poll_ids)
        assert rows_of_session(other.meeting.id, other.poll_ids) == others_before
    assert facilitator.get(f"/sessions/{filled.meeting.id}").status_code == 404


def test_deleting_says_so_and_the_list_no_longer_shows_it(app, facilitator, meetings):  # noqa: F811
    lobby = meetings(start=False)
    page = followed(facilitator, facilitator.post(f"/sessions/{lobby.id}/delete", data={"confirm": "yes"}))
    assert "The session “Testberaad” is deleted, with all its answers." in page
    assert f'id="session-{lobby.id}"' not in page
    assert not exists(app, lobby.id)


def test_the_list_asks_to_confirm_a_deletion_with_a_required_checkbox(app, facilitator, meetings):  # noqa: F811
    lobby = meetings(start=False)
    row = row_of(facilitator.get("/sessions/").get_data(as_text=True), lobby.id)
    form = re.search(rf'<form[^>]*action="/sessions/{lobby.id}/delete".*?</form>', row, re.DOTALL)
    assert form, row
    assert re.search(r'<input[^>]*type="checkbox"[^>]*name="confirm"[^>]*required', form.group(0))
    assert "I understand that this cannot be undone" in form.group(0)


@pytest.mark.parametrize("data", [{}, {"confirm": ""}], ids=["no-box", "empty-box"])
def test_deleting_without_the_box_ticked_deletes_nothing(app, facilitator, meetings, data):  # noqa: F811
    lobby = meetings(start=False)
    page = followed(facilitator, facilitator.post(f"/sessions/{lobby.id}/delete", data=data))
    assert "Tick the box to confirm that the deletion cannot be undone." in page
    assert exists(app, lobby.id)


def test_a_running_session_cannot_be_deleted(app, facilitator, meetings):  # noqa: F811
    running = meetings()
    response = facilitator.post(f"/sessions/{running.id}/delete", data={"confirm": "yes"})
    assert response.status_code == 302 and response.location.endswith("/sessions/")
    assert flashed(facilitator) == ["A running session cannot be deleted: close it first."]
    assert exists(app, running.id)


def test_a_running_session_offers_no_archive_or_delete(app, facilitator, meetings):  # noqa: F811
    if "summary.xlsx" not in app.view_functions:
        pytest.skip(NO_XLSX_YET)
    running = meetings()
    row = row_of(facilitator.get("/sessions/").get_data(as_text=True), running.id)
    assert "/archive" not in row and "/delete" not in row
    assert "Close the session to archive or delete it." in row


def test_an_admin_deletes_anyones_session(app, meetings, create_user):  # noqa: F811
    lobby = meetings(start=False)
    admin = signed_in(app, create_user, "beheer", "admin")
    assert admin.post(f"/sessions/{lobby.id}/delete", data={"confirm": "yes"}).status_code == 302
    assert not exists(app, lobby.id)


@pytest.mark.parametrize("role", ["facilitator", "coordinator"])
def test_others_may_neither_archive_nor_delete(app, meetings, create_user, role):  # noqa: F811
    lobby = meetings(start=False)
    other = signed_in(app, create_user, "carla", role)
    for action, data in (("archive", {}), ("unarchive", {}), ("delete", {"confirm": "yes"})):
        assert other.post(f"/sessions/{lobby.id}/{action}", data=data).status_code == 403, action
    assert exists(app, lobby.id) and archived_at(app, lobby.id) is None
    if role == "coordinator":  # sees every session, but without the buttons
        row = row_of(other.get("/sessions/").get_data(as_text=True), lobby.id)
        assert "/archive" not in row and "/delete" not in row
        assert other.get("/sessions/?archived=1").status_code == 200


def test_unknown_sessions_are_404(app, facilitator, meetings):  # noqa: F811
    for action in ("archive", "unarchive", "delete"):
        assert facilitator.post(f"/sessions/999999/{action}", data={"confirm": "yes"}).status_code == 404


# --- CSRF ----------------------------------------------------------------------------------------


def test_archive_and_delete_need_the_csrf_token(app, facilitator, meetings):  # noqa: F811
    lobby = meetings(start=False)
    app.config["WTF_CSRF_ENABLED"] = True  # the owner is signed in; a forged form posts to the app
    for action, data in (("archive", {}), ("delete", {"confirm": "yes"})):
        for token in (None, "forged-token"):
            forged = {**data, **({"csrf_token": token} if token else {})}
            assert facilitator.post(f"/sessions/{lobby.id}/{action}", data=forged).status_code == 400
    assert exists(app, lobby.id) and archived_at(app, lobby.id) is None

    token = TOKEN_FIELD.search(facilitator.get("/sessions/").get_data(as_text=True)).group(1)
    assert facilitator.post(f"/sessions/{lobby.id}/archive", data={"csrf_token": token}).status_code == 302
    assert archived_at(app, lobby.id) is not None
    unarchive = facilitator.post(f"/sessions/{lobby.id}/unarchive")
    assert unarchive.status_code == 400 and archived_at(app, lobby.id) is not None
    assert facilitator.post(f"/sessions/{lobby.id}/unarchive", data={"csrf_token": token}).status_code == 302
    deleted = facilitator.post(f"/sessions/{lobby.id}/delete", data={"confirm": "yes", "csrf_token": token})
    assert deleted.status_code == 302 and not exists(app, lobby.id)


# --- exports only for sessions that ran ----------------------------------------------------------


def test_a_lobby_session_offers_no_exports(app, facilitator, meetings):  # noqa: F811
    lobby = meetings(start=False)
    row = row_of(facilitator.get("/sessions/").get_data(as_text=True), lobby.id)
    assert f"/sessions/{lobby.id}/summary" not in row and "PDF" not in row and "CSV" not in row
    assert "not started yet" in row


def test_a_session_that_ran_offers_every_export(app, facilitator, meetings):  # noqa: F811
    if "summary.xlsx" not in app.view_functions:
        pytest.skip(NO_XLSX_YET)
    running, closed = meetings(), meetings()
    closed.close_session()
    page = facilitator.get("/sessions/").get_data(as_text=True)
    for meeting in (running, closed):
        row = row_of(page, meeting.id)
        for suffix in ("summary.pdf", "summary", "summary.md", "summary.csv", "summary.xlsx"):
            assert f'href="/sessions/{meeting.id}/{suffix}"' in row, suffix
        assert "not started yet" not in row


# --- the deleted answers leave the files (SQLite) ------------------------------------------------


def sqlite_files(app) -> tuple[Path, Path]:
    path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    return path, Path(f"{path}-wal")


def read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def found_in(data: bytes, needles: list[str]) -> list[str]:
    return [needle for needle in needles if needle.encode() in data]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_a_deleted_sessions_answers_are_gone_from_the_file_and_its_wal(app, facilitator, meetings):  # noqa: F811
    filled = fill(meetings, facilitator)
    close(filled.meeting, facilitator)
    database, wal = sqlite_files(app)
    assert found_in(read(database) + read(wal), filled.markers) == filled.markers  # the search works

    response = facilitator.post(f"/sessions/{filled.meeting.id}/delete", data={"confirm": "yes"})
    assert response.status_code == 302
    assert found_in(read(database), filled.markers) == []
    assert found_in(read(wal), filled.markers) == []
    assert not wal.exists() or wal.stat().st_size == 0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_a_reader_does_not_stop_a_deletion_but_is_logged(app, facilitator, meetings, caplog):  # noqa: F811
    lobby = meetings(start=False)
    database, _ = sqlite_files(app)
    reader = sqlite3.connect(database, isolation_level=None)  # a backup or a monitoring query
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM deliberation_session").fetchone()
        app.config["CLOSE_CHECKPOINT_SECONDS"] = 0.2
        with caplog.at_level(logging.WARNING):
            response = facilitator.post(f"/sessions/{lobby.id}/delete", data={"confirm": "yes"})
    finally:
        reader.close()
    assert response.status_code == 302 and not exists(app, lobby.id)
    assert "WAL" in caplog.text and "beraad purge" in caplog.text


def test_starting_an_archived_session_brings_it_back_to_the_list(app, facilitator, meetings):  # noqa: F811
    lobby = meetings(start=False)
    facilitator.post(f"/sessions/{lobby.id}/archive")
    assert archived_at(app, lobby.id) is not None
    with app.app_context():
        service.start_session(db.session.get(DeliberationSession, lobby.id))
        db.session.commit()
    assert archived_at(app, lobby.id) is None
    assert f'id="session-{lobby.id}"' in facilitator.get("/sessions/").get_data(as_text=True)


# --- the service -----------------------------------------------------------------------------------


def test_the_service_refuses_running_sessions_and_archives_idempotently(app, meetings):  # noqa: F811
    running, lobby = meetings(), meetings(start=False)
    with app.app_context():
        session = db.session.get(DeliberationSession, running.id)
        with pytest.raises(service.SessionError, match="close it first"):
            service.archive_session(session)
        with pytest.raises(service.SessionError, match="close it first"):
            service.delete_session(session)
        db.session.rollback()
        session = db.session.get(DeliberationSession, lobby.id)
        service.archive_session(session)
        first = session.archived_at
        service.archive_session(session)
        assert session.archived_at == first  # archiving again keeps the first moment
        service.unarchive_session(session)
        assert session.archived_at is None
        service.archive_session(db.session.get(DeliberationSession, lobby.id))
        db.session.commit()
        owner = session.owner
        assert [s.id for s in service.sessions_for(owner, service.archived_filter(True))] == [lobby.id]
        assert [s.id for s in service.sessions_for(owner, service.archived_filter(False))] == [running.id]
