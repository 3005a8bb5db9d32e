"""Benchmark live voting: N phones join a session and answer a poll over HTTP.

What it does, in one run (everything on 127.0.0.1):
1. a fresh instance folder and database (`beraad init`, `beraad demo`), one session per N (the demo,
   then copies of it),
   started and moved to its first choice poll, which is opened (service functions, one commit);
2. `beraad serve` (gunicorn; one worker with 8 threads, as by default) on a free port;
3. per N (default 100 and 1,000): N simulated phones, run by a bounded thread pool, each GET the
   join page (cookie + CSRF token) and POST join; then --rounds (default 3) answer rounds: every
   phone POSTs one JSON answer with a random option (round 1 creates the answers, later rounds
   change them), and right after each round the baseline gets a round of N upserts;
4. per N: accepted answers (2xx), lost answers (first-round 2xx minus rows in the answer table,
   plus stored choices that differ from each phone's last accepted one; must be 0), errors by
   status, answer throughput, p50/p99 latency of the first round; then GET /j/<code>/state is
   hammered with the current ETag for a few seconds (304s per second) while checking that no
   database write happens (SQLite file and WAL unchanged, `PRAGMA data_version`, session version):
   first from Python client threads, then, when Debian's `wrk` is installed, from wrk. The Python
   client needs about as much CPU per request as a 304 costs the server, so on two cores it
   tops out first; the target is judged on wrk's figure (`apt-get install wrk`);
5. resident memory (VmRSS) of every gunicorn worker, and the workers' CPU time per request
   (from /proc: user + system time of the children of the gunicorn master);
6. the baseline: bench/baseline_app.py (bare Flask, one upsert on the same backend: SQLite with
   WAL and busy_timeout, or a table of its own in the same PostgreSQL database) under the same
   gunicorn settings, hammered with the same number of requests and threads right
   after each answer round (both servers run throughout; the idle one costs no CPU). The ratio
   is the median over the rounds of (answers/s) / (baseline upserts/s): alternating rounds
   keep a busy neighbour on a shared machine from favouring one side.

Targets (DESIGN §8, §8a.1): answers/s ≥ 50% of the baseline's; 1,000 participants join and vote
within 30 s, every vote stored exactly once, p99 vote latency < 500 ms, zero 5xx, zero
"database is locked"; `state` with no change answers 304 without a database write at ≥ 2,000/s;
< 150 MB resident per worker.

Uses SQLite unless DATABASE_URL is set (then that database must be empty or disposable).
The client runs on the same machine as the servers, so it competes with them for the CPU; the
baseline pays the same price, which is why the ratio is the figure to judge. On a shared or
busy machine wall-clock figures swing; the workers' CPU time per request swings less, so the
ratio by CPU is printed too.

Exit status: 0 when every answer was stored once, with no error, no database write on a 304
and nothing alarming in the server logs (targets missed are marked in the summary, not here);
1 otherwise; 2 when --time-limit was hit (what was measured so far is still printed).

Run: .venv/bin/python bench/votes.py [--participants 100 1000] [--rounds 3] [--threads 64]
                                     [--time-limit 180]
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


from sqlalchemy import func, select  # noqa: E402

from beraad import create_app  # noqa: E402
from beraad.extensions import db  # noqa: E402
from beraad.models import Answer, Participant  # noqa: E402
from beraad.sessions import service as sessions  # noqa: E402

HOST = "127.0.0.1"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
LOG_PROBLEM = re.compile(r"Traceback|database is locked|OperationalError|\[ERROR\]|WORKER TIMEOUT|Exception")
TARGET_P99_MS = 500
TARGET_JOIN_AND_VOTE_S = 30
TARGET_STATE_PER_S = 2000
TARGET_RATIO = 0.5
TARGET_RSS_MB = 150


class TimeLimitExceeded(RuntimeError):
    """The run took longer than --time-limit."""


class Deadline:
    """The time limit of the whole run; also the stop flag for Ctrl-C."""

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds
        self.aborted = threading.Event()

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def expired(self) -> bool:
        return self.aborted.is_set() or self.remaining() <= 0

    def request_timeout(self) -> float:
        return max(1.0, min(30.0, self.remaining()))

    def check(self, what: str) -> None:
        if self.expired():
            raise TimeLimitExceeded(f"time limit exceeded during {what}")


# --- HTTP client ---------------------------------------------------------------------------


@dataclass
class Reply:
    status: str  # "201", or the exception's name when no response came
    body: bytes
    seconds: float
    headers: http.client.HTTPMessage | None = None


class Client:
    """One phone: its own connection (reused when the server keeps it alive) and cookie jar."""

    def __init__(self, port: int, timeout: float):
        self.connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.cookies: dict[str, str] = {}
        self.csrf_token: str | None = None

    def send(self, method: str, path: str, json_body=None, headers: dict | None = None) -> Reply:
        headers = dict(headers or {})
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if self.csrf_token:
            headers["X-CSRFToken"] = self.csrf_token
        started = time.perf_counter()
        for attempt in (1, 2):
            reused = self.connection.sock is not None
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected) as error:
                # The server closed a kept-alive connection while it sat idle; a browser then sends
                # the request again on a new connection (nothing was received), and so do we, once.
                self.connection.close()
                if not reused or attempt == 2:
                    return Reply(type(error).__name__, b"", time.perf_counter() - started)
            except (OSError, http.client.HTTPException) as error:
                self.connection.close()
                return Reply(type(error).__name__, b"", time.perf_counter() - started)
        elapsed = time.perf_counter() - started
        self._keep_cookies(response)
        return Reply(str(response.status), data, elapsed, response.headers)

    def _keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def close(self) -> None:
        self.connection.close()


def run_pool(task, items: list, threads: int) -> list:
    """Run task over items on a bounded thread pool; results in order."""
    pool = ThreadPoolExecutor(max_workers=threads)
    try:
        futures = [pool.submit(task, item) for item in items]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def is_2xx(status: str) -> bool:
    return status.startswith("2") and len(status) == 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


# --- servers -------------------------------------------------------------------------------


class Server:
    """A gunicorn master we started, with its log file."""

    def __init__(self, name: str, command: list[str], env: dict, log_path: Path, port: int):
        self.name, self.command, self.env, self.log_path, self.port = name, command, env, log_path, port
        self.process: subprocess.Popen | None = None
        self.worker_pids_seen: set[int] = set()

    def start(self, ready_path: str, deadline: Deadline) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
            )
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            deadline.check(f"start of {self.name}")
            reply = Client(self.port, 2).send("GET", ready_path)
            if reply.status.isdigit():
                self.worker_pids()
                return
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: children of the master process."""
        if self.process is None:
            return []
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            pids = [int(child) for child in children]
        except OSError:
            pids = [p for p in _all_pids() if _parent_pid(p) == pid]
        self.worker_pids_seen.update(pids)
        return pids

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the workers (load-independent cost measure)."""
        return sum(_cpu_seconds(pid) for pid in self.worker_pids())

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown of the workers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            for pid in [self.process.pid, *self.worker_pids_seen]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.process.wait(timeout=5)


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _parent_pid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def log_problems(path: Path, context: int = 12, limit: int = 80) -> list[str]:
    """Excerpts of the server log around tracebacks, errors and 'database is locked'."""
    if not path.exists():
        return []
    lines = path.read_text(errors="replace").splitlines()
    shown: list[str] = []
    last = -1
    for index, line in enumerate(lines):
        if index <= last or not LOG_PROBLEM.search(line):
            continue
        last = min(len(lines) - 1, index + context)
        shown.extend(lines[index : last + 1])
        shown.append("  …")
        if len(shown) >= limit:
            break
    return shown


# --- setup of beraad -----------------------------------------------------------------------


def beraad_env(folder: Path, database_url: str) -> dict:
    return dict(
        os.environ,
        BERAAD_INSTANCE_PATH=str(folder),
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_hex(32),
    )


def run_cli(env: dict, deadline: Deadline, *args: str) -> str:
    timeout = max(1.0, deadline.remaining())
    result = subprocess.run(
        [sys.executable, "-m", "beraad", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"`beraad {' '.join(args)}` failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def create_demo_session(env: dict, deadline: Deadline, base_url: str) -> str:
    """Run `beraad demo --reset` (a fresh demo, also in a reused database); return its join code."""
    output = run_cli(env, deadline, "demo", "--reset", "--base-url", base_url)
    match = re.search(r"/j/([A-Z0-9]+)", output)
    if match is None:
        raise RuntimeError(f"no join code in the output of `beraad demo`:\n{output}")
    return match.group(1)


def open_first_choice_poll(app, join_code: str) -> tuple[str, list[str]]:
    """Start the session, go to the step of its first choice poll, open it; return id and options."""
    with app.app_context():
        session = sessions.get_by_join_code(join_code)
        sessions.start_session(session)
        poll = min((p for p in session.polls if p.type == "choice"), key=lambda p: p.position)
        sessions.go_to_step(session, poll.position)
        sessions.open_poll(session, poll)
        db.session.commit()
        result = poll.id, [option["key"] for option in poll.options]
        db.session.remove()
    return result


def stored_counts(app, join_code: str, poll_id: str) -> tuple[int, int]:
    """Rows in the participant table for the session and in the answer table for the poll."""
    with app.app_context():
        session = sessions.get_by_join_code(join_code)
        participants = db.session.scalar(
            select(func.count()).select_from(Participant).where(Participant.session_id == session.id)
        )
        answers = db.session.scalar(select(func.count()).select_from(Answer).where(Answer.poll_id == poll_id))
        db.session.remove()
    return participants, answers


def stored_tally(app, poll_id: str) -> Counter:
    """How many stored answers of the poll chose each option."""
    with app.app_context():
        values = db.session.scalars(select(Answer.value).where(Answer.poll_id == poll_id)).all()
        db.session.remove()
    return Counter(value.get("choice") for value in values)


def session_version(app, join_code: str) -> int:
    with app.app_context():
        version = sessions.version_by_join_code(join_code)
        db.session.remove()
    return version


class WriteWatch:
    """Detects database writes between two snapshots: session version, and on SQLite the main
    file, the WAL file and `PRAGMA data_version` (changes when any other connection commits)."""

    def __init__(self, app, join_code: str, sqlite_path: Path | None):
        self.app, self.join_code, self.sqlite_path = app, join_code, sqlite_path
        self.connection = sqlite3.connect(sqlite_path) if sqlite_path else None

    def snapshot(self) -> dict:
        state = {"version": session_version(self.app, self.join_code)}
        if self.connection is not None:
            state["data_version"] = self.connection.execute("PRAGMA data_version").fetchone()[0]
            for suffix in ("", "-wal"):
                path = Path(f"{self.sqlite_path}{suffix}")
                stat = path.stat() if path.exists() else None
                state[f"file{suffix}"] = (stat.st_mtime_ns, stat.st_size) if stat else None
        return state

    @staticmethod
    def differences(before: dict, after: dict) -> list[str]:
        return [f"{key} {before[key]} -> {after[key]}" for key in before if before[key] != after[key]]

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


# --- measurements --------------------------------------------------------------------------


@dataclass
class BeraadRun:
    participants: int
    page_statuses: Counter = field(default_factory=Counter)
    join_statuses: Counter = field(default_factory=Counter)
    join_seconds: float = 0.0
    join_cpu_seconds: float | None = None  # the workers' CPU time for all page loads + joins
    answer_statuses: Counter = field(default_factory=Counter)  # every round
    first_round_statuses: Counter = field(default_factory=Counter)
    answer_seconds: float = 0.0  # the first round (the "join and vote" target)
    latencies: list[float] = field(default_factory=list)  # the first round
    answer_cpu_seconds: float | None = None  # the workers' CPU time during the answer rounds
    stored_participants: int | None = None
    stored_answers: int | None = None
    state: StateRun | None = None  # with the ETag the server gave, Python client threads
    state_wrk: StateRun | None = None  # the same, with wrk as the client (when installed)
    worker_rss_mb: list[float] = field(default_factory=list)
    # (answers/s, baseline upserts/s) per round: round 1 creates the answers, later rounds change
    # them, each followed at once by a baseline round, so both see the same machine.
    round_rates: list[tuple[float, float]] = field(default_factory=list)
    changes_lost: int | None = None  # stored choices that differ from each phone's last accepted one

    @property
    def accepted(self) -> int:
        return sum(count for status, count in self.answer_statuses.items() if is_2xx(status))

    @property
    def lost(self) -> int | None:
        if self.stored_answers is None:
            return None
        return self.first_round_accepted - self.stored_answers + (self.changes_lost or 0)

    @property
    def first_round_accepted(self) -> int:
        return sum(n for status, n in self.first_round_statuses.items() if is_2xx(status))

    @property
    def ratio(self) -> float | None:
        """The median over the rounds of beraad's answers/s over the baseline's upserts/s."""
        ratios = sorted(answers / baseline for answers, baseline in self.round_rates if baseline)
        return ratios[len(ratios) // 2] if ratios else None

    @property
    def errors(self) -> Counter:
        every = self.page_statuses + self.join_statuses + self.answer_statuses
        return Counter({s: n for s, n in every.items() if not is_2xx(s) and s != "skipped"})

    @property
    def answers_per_second(self) -> float:
        """The first round's rate (every phone's first answer)."""
        return self.first_round_accepted / self.answer_seconds if self.answer_seconds else 0.0

    @property
    def cpu_ms_per_join(self) -> float | None:
        if self.join_cpu_seconds is None or not self.participants:
            return None
        return 1000 * self.join_cpu_seconds / self.participants

    @property
    def cpu_ms_per_answer(self) -> float | None:
        if self.answer_cpu_seconds is None or not self.accepted:
            return None
        return 1000 * self.answer_cpu_seconds / self.accepted


@dataclass
class StateRun:
    """GET /j/<code>/state with one If-None-Match value from several threads."""

    if_none_match: str | None = None
    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    writes: list[str] | None = None  # what changed in the database meanwhile
    versions: tuple[int, int] | None = None
    cpu_seconds: float | None = None

    @property
    def cpu_ms_per_request(self) -> float | None:
        total = sum(self.statuses.values())
        return None if self.cpu_seconds is None or not total else 1000 * self.cpu_seconds / total

    @property
    def not_modified_per_second(self) -> float:
        return self.statuses["304"] / self.seconds if self.seconds else 0.0


@dataclass
class BaselineRun:
    requests: int
    poll: str = "bench"
    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    stored: int | None = None
    cpu_seconds: float | None = None

    @property
    def accepted(self) -> int:
        return sum(count for status, count in self.statuses.items() if is_2xx(status))

    @property
    def per_second(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self) -> float | None:
        return (
            None if self.cpu_seconds is None or not self.accepted else 1000 * self.cpu_seconds / self.accepted
        )


def join_phase(run: BeraadRun, port: int, code: str, threads: int, deadline: Deadline) -> list[Client]:
    """Each phone GETs the join page (cookies, CSRF token) and POSTs join; return the joined ones."""

    def join_one(_number: int) -> tuple[Client | None, str, str]:
        if deadline.expired():
            return None, "skipped", "skipped"
        client = Client(port, deadline.request_timeout())
        page = client.send("GET", f"/j/{code}")
        match = CSRF_INPUT.search(page.body.decode(errors="replace"))
        if page.status != "200" or match is None:
            return client, page.status, "not tried"
        client.csrf_token = html.unescape(match.group(1))
        joined = client.send("POST", f"/j/{code}/join", json_body={})
        return client, page.status, joined.status

    started = time.perf_counter()
    outcomes = run_pool(join_one, list(range(run.participants)), threads)
    run.join_seconds = time.perf_counter() - started
    run.page_statuses.update(page for _, page, _ in outcomes)
    run.join_statuses.update(joined for _, _, joined in outcomes if joined != "not tried")
    return [client for client, _, joined in outcomes if client is not None and is_2xx(joined)]


def answer_phase(
    phones: list[Client], path: str, choices: list[str], threads: int, deadline: Deadline
) -> tuple[list[Reply], float]:
    """Every joined phone POSTs one JSON answer; return the replies (in phone order) and the time."""

    def answer_one(item: tuple[Client, str]) -> Reply:
        client, choice = item
        if deadline.expired():
            return Reply("skipped", b"", 0.0)
        reply = client.send("POST", path, json_body={"choice": choice})
        client.close()
        return reply

    started = time.perf_counter()
    replies = run_pool(answer_one, list(zip(phones, choices, strict=False)), threads)
    return replies, time.perf_counter() - started


def current_etag(port: int, code: str, deadline: Deadline) -> tuple[str, str | None]:
    first = Client(port, deadline.request_timeout()).send("GET", f"/j/{code}/state")
    return first.status, first.headers.get("ETag") if first.headers else None


def python_load(
    port: int, path: str, headers: dict, seconds: float, threads: int, deadline: Deadline
) -> Counter:
    """GET path from `threads` Python client threads for `seconds`; count the statuses."""
    stop_at = time.perf_counter() + seconds

    def hammer(_number: int) -> Counter:
        client, counts = Client(port, deadline.request_timeout()), Counter()
        while time.perf_counter() < stop_at and not deadline.aborted.is_set():
            counts[client.send("GET", path, headers=headers).status] += 1
        client.close()
        return counts

    total: Counter = Counter()
    for counts in run_pool(hammer, list(range(threads)), threads):
        total.update(counts)
    return total


WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      io.write(string.format("status %d %d\\n", status, count))
    end
  end
  io.write(string.format("errors %d\\n", summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout))
end
"""


def wrk_load(port: int, path: str, headers: dict, seconds: float, connections: int, folder: Path) -> Counter:
    """The same GETs from wrk (C, two threads): a client that costs the CPU far less than the
    server does, so the figure shows what the server can do rather than what Python can send."""
    script = folder / "count-statuses.lua"
    script.write_text(WRK_SCRIPT)
    command = [
        "wrk",
        "-t",
        "2",
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(seconds))}s",
        "-s",
        str(script),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run(
        [*command, f"http://{HOST}:{port}{path}"], capture_output=True, text=True, timeout=seconds + 30
    )
    counts: Counter = Counter()
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "status":
            counts[parts[1]] += int(parts[2])
        elif len(parts) == 2 and parts[0] == "errors" and int(parts[1]):
            counts["socket errors"] += int(parts[1])
    if result.returncode != 0 or not counts:
        counts[f"wrk failed ({result.returncode}): {result.stderr.strip()[:200]}"] += 1
    return counts


def state_phase(run: StateRun, server: Server, code: str, watch: WriteWatch, load) -> None:
    """Send GET /j/<code>/state with run.if_none_match through `load` (a function of path and
    headers returning status counts); record statuses, time, the workers' CPU and any DB write."""
    path, headers = f"/j/{code}/state", {"If-None-Match": run.if_none_match}
    before = watch.snapshot()
    cpu_before, started = server.cpu_seconds(), time.perf_counter()
    run.statuses.update(load(path, headers))
    run.seconds = time.perf_counter() - started
    run.cpu_seconds = server.cpu_seconds() - cpu_before
    after = watch.snapshot()
    run.writes = WriteWatch.differences(before, after)
    run.versions = (before["version"], after["version"])


def baseline_phase(run: BaselineRun, port: int, threads: int, rng: random.Random, deadline: Deadline) -> None:
    """The same number of JSON votes, each from a fresh voter, against the bare upsert endpoint."""
    poll = run.poll
    items = [(secrets.token_hex(16), rng.choice("ABCD")) for _ in range(run.requests)]

    def vote_one(item: tuple[str, str]) -> Reply:
        voter, choice = item
        if deadline.expired():
            return Reply("skipped", b"", 0.0)
        client = Client(port, deadline.request_timeout())
        reply = client.send("POST", f"/polls/{poll}/{voter}", json_body={"choice": choice})
        client.close()
        return reply

    started = time.perf_counter()
    replies = run_pool(vote_one, items, threads)
    run.seconds = time.perf_counter() - started
    run.statuses.update(reply.status for reply in replies)
    run.latencies = [reply.seconds * 1000 for reply in replies if reply.status != "skipped"]


# --- report --------------------------------------------------------------------------------


def statuses(counter: Counter) -> str:
    return ", ".join(f"{status}×{count}" for status, count in sorted(counter.items())) or "none"


def print_beraad_run(run: BeraadRun) -> None:
    print(f"  join:    {run.participants} pages + joins in {run.join_seconds:.2f} s "
          f"(page {statuses(run.page_statuses)}; join {statuses(run.join_statuses)}); "
          f"participant rows {run.stored_participants}; workers' CPU {ms(run.cpu_ms_per_join)} "
          "per participant (page + join)")  # fmt: skip
    print(f"  answers: {run.accepted} accepted (2xx), {run.stored_answers} rows, lost {run.lost}; "
          f"statuses {statuses(run.answer_statuses)}")  # fmt: skip
    print(f"  answer phase: {run.answer_seconds:.2f} s -> {run.answers_per_second:.0f} answers/s; latency "
          f"p50 {percentile(run.latencies, 0.5):.0f} ms, p99 {percentile(run.latencies, 0.99):.0f} ms, "
          f"max {max(run.latencies, default=float('nan')):.0f} ms; "
          f"workers' CPU {ms(run.cpu_ms_per_answer)} per answer")  # fmt: skip
    print(f"  join + vote: {run.join_seconds + run.answer_seconds:.2f} s; errors: {statuses(run.errors)}")
    for label, state in (
        ("state (no change, Python client)", run.state),
        ("state (no change, wrk)", run.state_wrk),
    ):
        if state is not None:
            writes = "none" if not state.writes else "; ".join(state.writes)
            print(f"  {label}: If-None-Match {state.if_none_match}: {statuses(state.statuses)} in "
                  f"{state.seconds:.2f} s -> {state.not_modified_per_second:.0f} 304/s; "
                  f"database writes: {writes}; session version {state.versions}; "
                  f"workers' CPU {ms(state.cpu_ms_per_request, 2)} per request")  # fmt: skip
    print(f"  worker RSS: {', '.join(f'{mb:.0f} MB' for mb in run.worker_rss_mb) or 'n/a'}")


def ms(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f} ms"


def cpu_ratio(run: BeraadRun, baseline: BaselineRun | None) -> float | None:
    """Baseline CPU per upsert / beraad CPU per answer: the throughput ratio two otherwise idle
    cores would give; it does not depend on what else the machine is doing."""
    if baseline is None or not run.cpu_ms_per_answer or baseline.cpu_ms_per_request is None:
        return None
    return baseline.cpu_ms_per_request / run.cpu_ms_per_answer


def state_writes(run: BeraadRun) -> int | str:
    measured = [state for state in (run.state, run.state_wrk) if state and state.writes is not None]
    return sum(len(state.writes) for state in measured) if measured else "n/a"


def print_baseline_run(run: BaselineRun) -> None:
    p50, p99 = percentile(run.latencies, 0.5), percentile(run.latencies, 0.99)
    print(f"  baseline: {run.requests} upserts in {run.seconds:.2f} s -> {run.per_second:.0f}/s; "
          f"statuses {statuses(run.statuses)}; rows {run.stored}; "
          f"p50 {p50:.0f} ms, p99 {p99:.0f} ms; "
          f"workers' CPU {ms(run.cpu_ms_per_request)} per upsert")  # fmt: skip


def summary_rows(run: BeraadRun, baseline: BaselineRun | None) -> dict[str, str]:
    ratio = run.ratio
    changes = run.accepted - run.first_round_accepted
    return {
        "accepted answers (2xx)": f"{run.first_round_accepted}/{run.participants}",
        "accepted changes (2xx)": f"{changes}/{len(run.round_rates[1:]) * run.participants}",
        "lost answers": "n/a" if run.lost is None else str(run.lost),
        "errors": statuses(run.errors),
        "join + vote, wall time": f"{run.join_seconds + run.answer_seconds:.1f} s",
        "answers/s": f"{run.answers_per_second:.0f}",
        "answer latency p50": f"{percentile(run.latencies, 0.5):.0f} ms",
        "answer latency p99": f"{percentile(run.latencies, 0.99):.0f} ms",
        "state 304/s, Python client": f"{run.state.not_modified_per_second:.0f}" if run.state else "n/a",
        "state 304/s, wrk": f"{run.state_wrk.not_modified_per_second:.0f}"
        if run.state_wrk
        else "not installed",
        "state: database writes": str(state_writes(run)),
        "baseline upserts/s": f"{baseline.per_second:.0f}" if baseline else "n/a",
        "beraad / baseline (median of rounds)": f"{ratio:.0%}" if ratio is not None else "n/a",
        "beraad / baseline, each round": " ".join(f"{a / b:.0%}" for a, b in run.round_rates if b) or "n/a",
        "workers' CPU per page + join": ms(run.cpu_ms_per_join),
        "workers' CPU per answer": ms(run.cpu_ms_per_answer),
        "workers' CPU per baseline upsert": ms(baseline.cpu_ms_per_request if baseline else None),
        "beraad / baseline, by CPU": f"{cpu:.0%}" if (cpu := cpu_ratio(run, baseline)) is not None else "n/a",
        "workers' CPU per state 304": ms(best_state(run).cpu_ms_per_request if best_state(run) else None, 2),
        "max RSS per worker": f"{max(run.worker_rss_mb):.0f} MB" if run.worker_rss_mb else "n/a",
    }


def targets_met(run: BeraadRun, baseline: BaselineRun | None) -> dict[str, bool | None]:
    """Per summary row: target met (True), missed (False) or not measured (None)."""
    ratio = run.ratio
    p99 = percentile(run.latencies, 0.99)
    writes = state_writes(run)
    return {
        "accepted answers (2xx)": run.first_round_accepted == run.participants,
        "accepted changes (2xx)": run.accepted == run.participants * len(run.round_rates),
        "lost answers": None if run.lost is None else run.lost == 0,
        "errors": not run.errors,
        "join + vote, wall time": run.join_seconds + run.answer_seconds < TARGET_JOIN_AND_VOTE_S,
        "answer latency p99": None if p99 != p99 else p99 < TARGET_P99_MS,
        "state 304/s, Python client": None,  # bound by the client itself; see wrk
        "state 304/s, wrk": best_state(run).not_modified_per_second >= TARGET_STATE_PER_S
        if run.state_wrk
        else None,
        "state: database writes": None if writes == "n/a" else writes == 0,
        "beraad / baseline (median of rounds)": None if ratio is None else ratio >= TARGET_RATIO,
        "max RSS per worker": max(run.worker_rss_mb) < TARGET_RSS_MB if run.worker_rss_mb else None,
    }


TARGETS = {
    "accepted answers (2xx)": "all",
    "accepted changes (2xx)": "all",
    "lost answers": "0",
    "errors": "none",
    "join + vote, wall time": f"< {TARGET_JOIN_AND_VOTE_S} s (N=1,000)",
    "answer latency p99": f"< {TARGET_P99_MS} ms",
    "state 304/s, wrk": f">= {TARGET_STATE_PER_S:,}",
    "state: database writes": "0",
    "beraad / baseline (median of rounds)": f">= {TARGET_RATIO:.0%}",
    "max RSS per worker": f"< {TARGET_RSS_MB} MB",
}


def combined(rounds: list[BaselineRun]) -> BaselineRun | None:
    """The baseline rounds of one N as one run (statuses, time and CPU added up)."""
    if not rounds:
        return None
    total = BaselineRun(sum(r.requests for r in rounds), poll="all rounds")
    for r in rounds:
        total.statuses.update(r.statuses)
        total.seconds += r.seconds
        total.latencies += r.latencies
        if r.cpu_seconds is not None:
            total.cpu_seconds = (total.cpu_seconds or 0.0) + r.cpu_seconds
    return total


def print_summary(runs: list[BeraadRun], baselines: dict[int, BaselineRun]) -> None:
    if not runs:
        return
    columns = []
    for run in runs:
        baseline = combined(baselines.get(run.participants, []))
        met = targets_met(run, baseline)
        rows = summary_rows(run, baseline)
        columns.append(
            {name: value + (" (MISSED)" if met.get(name) is False else "") for name, value in rows.items()}
        )
    headers = ["", *(f"N={run.participants:,}" for run in runs), "target"]
    table = [headers] + [[name, *(c[name] for c in columns), TARGETS.get(name, "")] for name in columns[0]]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    print("\nSummary")
    for number, row in enumerate(table):
        print("  " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if number == 0:
            print("  " + "-+-".join("-" * width for width in widths))


# --- orchestration -------------------------------------------------------------------------


@dataclass
class Prepared:
    participants: int
    join_code: str
    poll_id: str
    options: list[str]


def another_session_like(app, join_code: str) -> str:
    """A new session with the demo's owner, method and dilemma (`beraad demo` reuses its open demo)."""
    from beraad.bank import service as bank
    from beraad.methods import service as methods

    with app.app_context():
        demo = sessions.get_by_join_code(join_code)
        dilemmas = [bank.get_by_slug(dilemma["slug"]) for dilemma in demo.dilemmas_snapshot]
        session = sessions.create_session(
            demo.owner, methods.get_method(demo.method_key), dilemmas, demo.title, demo.language, demo.k
        )
        db.session.commit()
        code = session.join_code
        db.session.remove()
    return code


def prepare(app, env: dict, counts: list[int], port: int, deadline: Deadline) -> list[Prepared]:
    run_cli(env, deadline, "init")
    demo_code = create_demo_session(env, deadline, f"http://{HOST}:{port}")
    prepared = []
    for number, count in enumerate(counts):
        code = demo_code if number == 0 else another_session_like(app, demo_code)
        poll_id, options = open_first_choice_poll(app, code)
        prepared.append(Prepared(count, code, poll_id, options))
    return prepared


def measure_beraad(
    run: BeraadRun,
    app,
    item: Prepared,
    servers: tuple[Server, Server],
    baselines: list[BaselineRun],
    sqlite_path: Path | None,
    args,
    rng: random.Random,
    deadline: Deadline,
) -> None:
    """Join, then rounds of answers (first answers, then changes) each followed by a baseline
    round; then the state poll and the workers' memory."""
    server, baseline_server = servers
    print(f"\n== beraad, N={item.participants:,} (session {item.join_code}, poll {item.poll_id})", flush=True)
    try:
        cpu_before = server.cpu_seconds()
        phones = join_phase(run, server.port, item.join_code, args.threads, deadline)
        run.join_cpu_seconds = server.cpu_seconds() - cpu_before
        deadline.check(f"join phase, N={item.participants}")
        path = f"/j/{item.join_code}/polls/{item.poll_id}"
        latest: dict[int, str] = {}  # phone -> its last accepted choice
        run.answer_cpu_seconds = 0.0
        for number in range(1, args.rounds + 1):
            choices = [rng.choice(item.options) for _ in phones]
            cpu_before = server.cpu_seconds()
            replies, seconds = answer_phase(phones, path, choices, args.threads, deadline)
            run.answer_cpu_seconds += server.cpu_seconds() - cpu_before
            run.answer_statuses.update(reply.status for reply in replies)
            latest.update(
                {phone: choices[phone] for phone, reply in enumerate(replies) if is_2xx(reply.status)}
            )
            accepted = sum(1 for reply in replies if is_2xx(reply.status))
            if number == 1:
                run.first_round_statuses.update(reply.status for reply in replies)
                run.answer_seconds = seconds
                run.latencies = [reply.seconds * 1000 for reply in replies if reply.status != "skipped"]
            deadline.check(f"answer round {number}, N={item.participants}")
            poll = (
                f"bench-{item.participants}-{number}-{secrets.token_hex(4)}"  # new in a reused database too
            )
            baselines.append(BaselineRun(item.participants, poll=poll))
            measure_baseline(baselines[-1], baseline_server, args, rng, deadline)
            rate, baseline_rate = accepted / seconds if seconds else 0.0, baselines[-1].per_second
            run.round_rates.append((rate, baseline_rate))
            print(f"  round {number}: {accepted} answers in {seconds:.2f} s -> {rate:.0f}/s; baseline "
                  f"{baseline_rate:.0f}/s; ratio {rate / (baseline_rate or float('nan')):.0%}",
                  flush=True)  # fmt: skip
            deadline.check(f"baseline round {number}, N={item.participants}")
        run.stored_participants, run.stored_answers = stored_counts(app, item.join_code, item.poll_id)
        stored = stored_tally(app, item.poll_id)
        run.changes_lost = sum((Counter(latest.values()) - stored).values())
        measure_state(run, app, item.join_code, server, sqlite_path, server.log_path.parent, args, deadline)
        run.worker_rss_mb = [mb for pid in server.worker_pids() if (mb := rss_mb(pid)) is not None]
    finally:
        print_beraad_run(run)


def best_state(run: BeraadRun) -> StateRun | None:
    """The state measurement to judge: wrk's when it ran (the Python client tops out first)."""
    return run.state_wrk if run.state_wrk and run.state_wrk.seconds else run.state


def measure_state(
    run: BeraadRun, app, code: str, server: Server, sqlite_path, folder: Path, args, deadline: Deadline
) -> None:
    """The state poll with the server's own ETag, from Python client threads and from wrk."""
    status, etag = current_etag(server.port, code, deadline)
    run.state = StateRun(etag)
    if status != "200" or not etag:
        run.state.statuses[f"first GET {status}, ETag {etag}"] += 1
        return
    seconds = max(0.0, min(args.state_seconds, deadline.remaining() - 1))
    watch = WriteWatch(app, code, sqlite_path)
    try:
        state_phase(run.state, server, code, watch, lambda path, headers: python_load(
            server.port, path, headers, seconds, args.state_threads, deadline))  # fmt: skip
        deadline.check("state poll")
        if shutil.which("wrk"):
            seconds = max(0.0, min(args.state_seconds, deadline.remaining() - 1))
            run.state_wrk = StateRun(etag)
            state_phase(run.state_wrk, server, code, watch, lambda path, headers: wrk_load(
                server.port, path, headers, seconds, args.state_threads, folder))  # fmt: skip
    finally:
        watch.close()


def measure_baseline(run: BaselineRun, server: Server, args, rng, deadline) -> None:
    try:
        cpu_before = server.cpu_seconds()
        baseline_phase(run, server.port, args.threads, rng, deadline)
        run.cpu_seconds = server.cpu_seconds() - cpu_before
        run.stored = baseline_rows(server, run.poll)
    finally:
        print_baseline_run(run)


def baseline_rows(server: Server, poll: str) -> int:
    """Rows the baseline stored for one round, read from its SQLite file or PostgreSQL table."""
    database_url = server.env["DATABASE_URL"]
    if not database_url.startswith("sqlite"):
        import psycopg
        from baseline_app import PG_TABLE, libpq_url

        with psycopg.connect(libpq_url(database_url)) as connection:
            query = f"SELECT count(*) FROM {PG_TABLE} WHERE poll_id = %s"
            return connection.execute(query, (poll,)).fetchone()[0]
    connection = sqlite3.connect(server.log_path.parent / "baseline.sqlite3")
    try:
        return connection.execute("SELECT count(*) FROM vote WHERE poll_id = ?", (poll,)).fetchone()[0]
    finally:
        connection.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--participants", type=int, nargs="+", default=[100, 1000], help="N (default: 100 1000)"
    )
    parser.add_argument("--threads", type=int, default=64, help="client threads for join/answer/baseline")
    parser.add_argument(
        "--rounds", type=int, default=3, help="answer rounds per N, each with a baseline round (default 3)"
    )
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (both servers)")
    parser.add_argument(
        "--server-threads", type=int, default=8, help="threads per gunicorn worker (both servers)"
    )
    parser.add_argument("--state-seconds", type=float, default=5.0)
    parser.add_argument("--state-threads", type=int, default=8)
    parser.add_argument("--time-limit", type=float, default=180.0, help="seconds for the whole run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, databases)")
    return parser.parse_args()


def make_servers(folder: Path, env: dict, args) -> tuple[Server, Server]:
    """`beraad serve` and the baseline app, each on a free port with the same worker count."""
    port, baseline_port = free_port(), free_port()
    workers = ["--host", HOST, "--workers", str(args.workers), "--threads", str(args.server_threads)]
    beraad = Server(
        "beraad",
        [sys.executable, "-m", "beraad", "serve", "--port", str(port), *workers],
        env,
        folder / "beraad-server.log",
        port,
    )
    baseline_script = str(REPO / "bench" / "baseline_app.py")
    # The yardstick runs on the backend beraad runs on: the same SQLite settings in a file of its
    # own, or a table of its own in the same PostgreSQL database.
    database_url = env["DATABASE_URL"]
    where = ["--db", str(folder / "baseline.sqlite3")] if database_url.startswith("sqlite") else [
        "--database-url", database_url]  # fmt: skip
    baseline = Server(
        "baseline",
        [sys.executable, baseline_script, *where, "--port", str(baseline_port), *workers],
        dict(os.environ, DATABASE_URL=database_url),
        folder / "baseline-server.log",
        baseline_port,
    )
    return beraad, baseline


def run_all(
    app, env: dict, servers: tuple[Server, Server], sqlite_path, folder: Path, args, deadline
) -> tuple:
    """Both servers up; per N the beraad run and right after it the baseline (same load on the box)."""
    beraad, baseline = servers
    rng = random.Random(args.seed)
    runs: list[BeraadRun] = []
    baselines: dict[int, list[BaselineRun]] = {}
    try:
        prepared = prepare(app, env, args.participants, beraad.port, deadline)
        beraad.start(f"/j/{prepared[0].join_code}/state", deadline)
        baseline.start("/health", deadline)
        for item in prepared:
            runs.append(BeraadRun(item.participants))
            baselines[item.participants] = []
            measure_beraad(runs[-1], app, item, servers, baselines[item.participants], sqlite_path, args, rng,
                           deadline)  # fmt: skip
    except TimeLimitExceeded as error:
        print(f"\nSTOPPED: {error} (limit {args.time_limit:.0f} s)")
        return runs, baselines, 2
    except KeyboardInterrupt:
        print("\nSTOPPED: interrupted")
        return runs, baselines, 130
    finally:
        deadline.aborted.set()  # let any client thread still running stop
        for server in servers:
            server.stop()
    return runs, baselines, 0


def report_problems(runs: list[BeraadRun], servers: tuple[Server, Server]) -> bool:
    """Print server log excerpts; True when correctness problems (not just missed targets) were seen."""
    problems = any(run.errors or run.lost or state_writes(run) not in (0, "n/a") for run in runs)
    problems |= any(run.state and run.state.seconds and not run.state.statuses["304"] for run in runs)
    for server in servers:
        excerpt = log_problems(server.log_path)
        if excerpt:
            problems = True
            print(f"\n{server.name} server log ({server.log_path}):")
            print("\n".join("  " + line for line in excerpt))
    if any(run.state and run.state.seconds and not run.state.statuses["304"] for run in runs):
        print("\nThe state endpoint never answered 304 to the ETag it had just sent (see the runs above).")
    return problems


def _interrupt(_signal_number, _frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupt)  # stop the servers on `kill` too, not only on Ctrl-C
    deadline = Deadline(args.time_limit)
    folder = Path(tempfile.mkdtemp(prefix="beraad-votes-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'beraad.sqlite3'}"
    is_sqlite = database_url.startswith("sqlite:///")
    sqlite_path = Path(database_url.removeprefix("sqlite:///")) if is_sqlite else None
    env = beraad_env(folder, database_url)
    # This process only calls service functions; its rate limiter is never used.
    warnings.filterwarnings("ignore", message="Using the in-memory storage", category=UserWarning)
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(folder)}
    )
    servers = make_servers(folder, env, args)
    print(f"database: {database_url.split('@')[-1]}; gunicorn workers: {args.workers}; "
          f"client threads: {args.threads}; time limit: {args.time_limit:.0f} s; cores: {os.cpu_count()}; "
          f"load average: {os.getloadavg()[0]:.1f}")  # fmt: skip
    started = time.monotonic()
    runs, baselines, status = run_all(app, env, servers, sqlite_path, folder, args, deadline)
    print_summary(runs, baselines)
    print(f"\nRun took {time.monotonic() - started:.0f} s; load average now {os.getloadavg()[0]:.1f}.")
    problems = report_problems(runs, servers)
    if problems or args.keep or status:
        print(f"Kept {folder} (databases and server logs).")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return status or (1 if problems else 0)


if __name__ == "__main__":
    sys.exit(main())
