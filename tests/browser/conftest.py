"""Real-browser fixtures: the app served by gunicorn on loopback, Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

CHROMIUM = "/usr/bin/chromium"
# Set in CI: a missing Chromium is then a failure, never a skip.
REQUIRE_CHROMIUM = os.environ.get("BERAAD_REQUIRE_CHROMIUM") == "1"
ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "screenshots"
# As the probe of this machine showed: no background traffic, nothing but loopback.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ADMIN_PASSWORD = "browser-admin-password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """beraad under gunicorn on 127.0.0.1, with its own SQLite database; can be restarted."""

    def __init__(self, instance: Path):
        self.instance = instance
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "BERAAD_INSTANCE_PATH": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'browser.sqlite3'}",
            "SECRET_KEY": "browser-test-secret",
            "BERAAD_ADMIN_USER": "admin",
            "BERAAD_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "BERAAD_LANGUAGE": "nl",
            "BERAAD_BASE_URL": "",  # the links carry the address the browser used: 127.0.0.1
        }
        self.log = instance / "server.log"

    def beraad(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "beraad", *args], env=self.env, capture_output=True, text=True,
            timeout=120, check=True, cwd=ROOT,
        )  # fmt: skip
        return result.stdout

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "beraad", "serve", "--port", str(self.port)],
                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/", timeout=1)  # noqa: S310 - loopback only
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("the server exited:\n" + self.log.read_text()) from None
                time.sleep(0.2)
        raise RuntimeError("the server did not start in 30 s:\n" + self.log.read_text())

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} not found: install Debian's chromium to run the browser tests"
        if REQUIRE_CHROMIUM:
            pytest.fail(message + " (BERAAD_REQUIRE_CHROMIUM=1)")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(tmp_path, chromium_path):
    server = LiveServer(tmp_path)
    server.beraad("init")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def demo(live_server) -> dict:
    """A demo session: its facilitator's credentials and its three URLs."""
    output = live_server.beraad("demo", "--base-url", live_server.url)
    return {
        "facilitator": re.search(r"Facilitator: (\S+)", output).group(1),
        "password": re.search(r"password (\S+)\)", output).group(1),
        "projector": re.search(r"Projector:\s+(\S+)", output).group(1),
        "join": re.search(r"Join:\s+(\S+)", output).group(1),
    }


@pytest.fixture
def screenshot(request):
    """Return a function that saves a screenshot under test-output/screenshots/<test>/."""
    folder = OUTPUT / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, full_page: bool = False) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def sign_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/sessions/.*|.*/bank/.*"))


def start_session(page) -> None:
    """Start the session on the facilitator screen and wait until its first step is in place (the
    start is sent in place, so the page's load state says nothing about it)."""
    page.locator("form[action$='/start'] button").click()
    expect(page.locator("form[action$='/start']")).to_have_count(0)
    expect(page.locator(".step-list li.current .step-number")).to_have_text("1")
