"""Rate limits in a shared Redis, and what happens when it goes away: no vote is lost to it.

A real redis-server on a Unix socket (no network), stopped in the middle of a session; then a
"hung" store that accepts connections and never answers. Policy (beraad/ratelimit_storage.py):
fail open for everyone, with a warning in the log and /readyz saying the store is down.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from beraad import create_app
from beraad.extensions import db
from beraad.models import Answer

from .conftest import base_config
from .test_vote import Phone, meeting, meetings  # noqa: F401

CHOICE = "moreel-dilemma"  # a choice poll of the test dilemma method, options A and B

REDIS = shutil.which("redis-server")
REQUIRE_REDIS = os.environ.get("BERAAD_REQUIRE_REDIS") == "1"


@pytest.fixture
def redis_socket(tmp_path_factory):
    """A redis-server of its own on a Unix socket; yields (socket path, stop function)."""
    if REDIS is None:
        message = "redis-server not found: install Debian's redis-server"
        if REQUIRE_REDIS:
            pytest.fail(message + " (BERAAD_REQUIRE_REDIS=1)")
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("redis")
    path = folder / "redis.sock"
    server = subprocess.Popen(
        [REDIS, "--port", "0", "--unixsocket", str(path), "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert path.exists(), "redis-server did not start"

    def stop() -> None:
        server.kill()
        server.wait(timeout=10)

    yield path, stop
    if server.poll() is None:
        stop()


def redis_app(tmp_path: Path, uri: str):
    from flask_migrate import upgrade

    app = create_app({**base_config(f"sqlite:///{tmp_path / 'redis.sqlite3'}", tmp_path),
                      "RATELIMIT_STORAGE_URI": uri})  # fmt: skip
    with app.app_context():
        upgrade()
    return app


@pytest.fixture
def store_uri(request, redis_socket):
    """The real Redis by default; `hung` (indirect parametrize) for a store that never answers."""
    if getattr(request, "param", None) == "hung":
        return request.getfixturevalue("hung_store")
    return f"redis+unix://{redis_socket[0]}"


@pytest.fixture
def app(tmp_path, store_uri):
    return redis_app(tmp_path, store_uri)


def stored_answers(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Answer))


def test_limits_hold_in_redis_and_votes_go_on_when_it_stops(app, meeting, redis_socket, caplog):  # noqa: F811
    _path, stop = redis_socket
    meeting.open(CHOICE)
    phones = [Phone(meeting) for _ in range(6)]
    for phone in phones[:3]:
        assert phone.join().status_code in (200, 201, 302)
        assert phone.answer(meeting.polls[CHOICE], json={"choice": "A"}).status_code in (200, 201)
    # The limit is counted in Redis: 20 answers a minute per participant, then 429.
    statuses = [phones[0].answer(meeting.polls[CHOICE], json={"choice": "B"}).status_code
                for _ in range(25)]  # fmt: skip
    assert 429 in statuses
    client = app.test_client()
    assert client.get("/readyz").json["checks"]["rate_limit_storage"] == "ok"

    stop()  # Redis goes away in the middle of the vote
    caplog.set_level(logging.WARNING, logger="beraad.ratelimit")
    started = time.monotonic()
    for phone in phones[3:]:
        assert phone.join().status_code in (200, 201, 302)
        assert phone.answer(meeting.polls[CHOICE], json={"choice": "B"}).status_code in (200, 201)
    assert time.monotonic() - started < 10  # no request waits for the store
    assert stored_answers(app) == 6  # every phone's vote, once
    assert "rate-limit store unreachable" in caplog.text
    assert client.get("/readyz").status_code == 503
    assert client.get(f"/j/{meeting.code}").status_code == 200  # the phone page, guesses counted or not
    assert client.post("/login", data={"username": "x", "password": "y" * 12}).status_code in (200, 302)


@pytest.fixture
def hung_store():
    """A 'Redis' that accepts connections and never answers (a hung server)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted, stop = [], threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


@pytest.mark.parametrize("store_uri", ["hung"], indirect=True)
def test_a_hung_store_costs_a_vote_at_most_a_timeout_never_a_worker(app, meeting, store_uri):  # noqa: F811
    meeting.open(CHOICE)
    phone = Phone(meeting)
    started = time.monotonic()
    assert phone.join().status_code in (200, 201, 302)
    assert phone.answer(meeting.polls[CHOICE], json={"choice": "A"}).status_code in (200, 201)
    assert time.monotonic() - started < 5  # each store call gives up after 0.5 s
    assert stored_answers(app) == 1
