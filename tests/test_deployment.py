"""The deployment, as an organisation runs it: two app servers behind nginx, one PostgreSQL, the
rate limits in Redis. Containers cannot run here, so the test starts the same topology with real
processes on loopback (compose.yaml describes it for Docker; a test keeps the two in step).
50 phones vote through nginx; one app server is killed in the middle; every answer is stored once.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from pathlib import Path

import psycopg
import pytest
import yaml

from beraad.config import ENVIRONMENT_VARIABLES

from .test_ratelimit_redis import redis_socket  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
REQUIRE_NGINX = os.environ.get("BERAAD_REQUIRE_NGINX") == "1"
PHONES = 50
# The app servers' settings, the same names as compose.yaml's (checked below).
APP_ENVIRONMENT = (
    "DATABASE_URL", "SECRET_KEY", "BERAAD_PRODUCTION", "BERAAD_RATELIMIT_STORAGE_URI",
    "BERAAD_TRUSTED_PROXIES", "BERAAD_BASE_URL", "BERAAD_ADMIN_USER", "BERAAD_ADMIN_PASSWORD",
)  # fmt: skip


def test_compose_file_nginx_example_and_this_test_describe_one_topology():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"app1", "app2", "postgres", "redis", "proxy"}
    for name in ("app1", "app2"):
        environment = services[name]["environment"]
        assert set(environment) == set(APP_ENVIRONMENT), name
        assert set(environment) <= set(ENVIRONMENT_VARIABLES), "every setting is documented"
        assert environment["BERAAD_PRODUCTION"] == "1"
        assert environment["BERAAD_RATELIMIT_STORAGE_URI"].startswith("redis://")
    nginx = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert nginx.count("server app") == 2 and "proxy_next_upstream" in nginx and "access_log off" in nginx
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "USER beraad" in dockerfile and "beraad serve" in dockerfile and '".[redis]"' in dockerfile
    unit = (ROOT / "deploy" / "beraad@.service").read_text(encoding="utf-8")
    assert "ExecStartPre=/opt/beraad/.venv/bin/beraad init" in unit and "User=beraad" in unit


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nginx_config(folder: Path, listen: int, upstreams: list[int]) -> Path:
    """deploy/nginx.conf with loopback addresses, inside the minimal main context nginx needs."""
    server = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    server = server.replace("server app1:8000", f"server 127.0.0.1:{upstreams[0]}")
    server = server.replace("server app2:8000", f"server 127.0.0.1:{upstreams[1]}")
    server = server.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    path = folder / "nginx.conf"
    path.write_text(
        f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'nginx-error.log'};\n"
        "events { worker_connections 512; }\n"
        f"http {{\n client_body_temp_path {folder};\n proxy_temp_path {folder};\n"
        f" fastcgi_temp_path {folder};\n uwsgi_temp_path {folder};\n scgi_temp_path {folder};\n"
        f"{server}\n}}\n",
        encoding="utf-8",
    )
    return path


class Client:
    """One device: its own cookie jar, JSON in and out."""

    def __init__(self, base: str, token: str | None = None):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def post(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base + path, data=json.dumps(body or {}).encode(), method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json", **self.headers},
        )  # fmt: skip
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read() or b"{}") if error.code < 500 else {}
        except (OSError, http.client.HTTPException):  # refused, reset, or cut off mid-answer
            return 0, {}

    def post_until_done(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        """What the phone does: a 502/503 or a dropped connection is tried again, a few times."""
        for attempt in range(6):
            status, reply = self.post(path, body)
            if status not in (0, 502, 503, 504):
                return status, reply
            time.sleep(0.2 * (attempt + 1))
        return status, reply


@pytest.mark.skipif(sys.platform != "linux", reason="starts Linux processes")
def test_two_servers_behind_nginx_keep_every_vote_when_one_dies(postgres_server, redis_socket, tmp_path):  # noqa: F811
    if NGINX is None:
        message = "nginx not found: install Debian's nginx"
        if REQUIRE_NGINX:
            pytest.fail(message + " (BERAAD_REQUIRE_NGINX=1)")
        pytest.skip(message)
    name = f"topology_{secrets.token_hex(4)}"
    with psycopg.connect(
        f"host={postgres_server.socket_dir} user=postgres dbname=postgres", autocommit=True
    ) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    proxy_port, ports = free_port(), [free_port(), free_port()]
    environment = {
        "DATABASE_URL": f"postgresql+psycopg://postgres@/{name}?host={postgres_server.socket_dir}",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "BERAAD_PRODUCTION": "1",
        "BERAAD_RATELIMIT_STORAGE_URI": f"redis+unix://{redis_socket[0]}",
        "BERAAD_TRUSTED_PROXIES": "1",
        "BERAAD_BASE_URL": f"http://127.0.0.1:{proxy_port}",
        "BERAAD_ADMIN_USER": "beheer",
        "BERAAD_ADMIN_PASSWORD": "een-lang-wachtwoord-12",
    }
    assert set(environment) == set(APP_ENVIRONMENT)
    env = {
        **os.environ,
        **environment,
        "BERAAD_INSTANCE_PATH": str(tmp_path / "instance"),
        "PYTHONUNBUFFERED": "1",
    }

    def beraad(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "beraad", *args], env=env, cwd=ROOT, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    beraad("init")
    token = beraad("token", "create", "beheer", "--name", "topology").strip().splitlines()[-1]
    processes: list[subprocess.Popen] = []
    try:
        for port in ports:
            with (tmp_path / f"app-{port}.log").open("w") as log:
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "beraad", "serve", "--port", str(port)], env=env, cwd=ROOT,
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                ))  # fmt: skip
        config = nginx_config(tmp_path, proxy_port, ports)
        nginx = [NGINX, "-c", str(config), "-p", str(tmp_path), "-g", "daemon off;"]
        with (tmp_path / "nginx.log").open("w") as log:
            processes.append(
                subprocess.Popen(nginx, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            )
        base = f"http://127.0.0.1:{proxy_port}"
        deadline = time.monotonic() + 60
        while True:  # ready through nginx, on both servers
            try:
                ready = [
                    urllib.request.urlopen(f"http://127.0.0.1:{p}/readyz", timeout=2).status for p in ports
                ]
                if ready == [200, 200] and urllib.request.urlopen(base + "/healthz", timeout=2).status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, (tmp_path / f"app-{ports[0]}.log").read_text()
            time.sleep(0.2)

        facilitator = Client(base + "/api/v1", token)
        status, created = facilitator.post(
            "/sessions", {"method": "dilemmamethode", "dilemmas": ["rapport-afzwakken"]}
        )
        assert status == 201, created
        assert created["join_url"].startswith(base)  # the QR code carries the proxy's address
        session_id, code = created["id"], created["join_code"]
        poll = next(p for p in created["polls"] if p["type"] == "choice")
        assert facilitator.post(f"/sessions/{session_id}/start")[0] == 200
        assert facilitator.post(f"/sessions/{session_id}/polls/{poll['id']}/open")[0] == 200

        phones = [Client(base) for _ in range(PHONES)]

        def join_and_vote(phone: Client) -> tuple[int, int]:
            joined, _ = phone.post_until_done(f"/j/{code}/join")
            voted, _ = phone.post_until_done(f"/j/{code}/polls/{poll['id']}", {"choice": "A"})
            return joined, voted

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=10) as pool:
            futures = [pool.submit(join_and_vote, phone) for phone in phones]
            while sum(future.done() for future in futures) < PHONES // 2:
                time.sleep(0.005)
            # One app server dies in the middle of the vote, with requests in flight.
            os.killpg(processes[0].pid, signal.SIGKILL)
            outcomes = [future.result() for future in futures]
        took = time.monotonic() - started
        assert all(joined in (200, 201) and voted in (200, 201) for joined, voted in outcomes), outcomes
        assert facilitator.post(f"/sessions/{session_id}/polls/{poll['id']}/close")[0] == 200
        with psycopg.connect(f"host={postgres_server.socket_dir} user=postgres dbname={name}") as database:
            answers = database.execute(
                "SELECT count(*) FROM answer WHERE poll_id = %s", (poll["id"],)
            ).fetchone()[0]
            joined = database.execute("SELECT count(*) FROM participant").fetchone()[0]
        assert answers == PHONES  # every vote stored, and once
        # A join whose answer died with the server is sent again and counts a second phone: at most
        # one per request in flight when it died (10 threads). The room sees "51 joined".
        assert PHONES <= joined <= PHONES + 10
        print(f"\n{PHONES} phones through nginx, one of two servers killed halfway: "
              f"{answers} answers, {joined} participants, {took:.1f} s")  # fmt: skip
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
