"""Benchmark the room: how fast a vote and a step change reach the projector, and how fast the
facilitator screen answers its own buttons, in real Chromium against the app on loopback.

What it does, in one run (everything on 127.0.0.1, no other network):
1. a fresh instance folder and SQLite database (`beraad init`, `beraad demo`), served by
   `beraad serve --workers 2` (gunicorn) on a free port;
2. Debian's Chromium (Playwright): the facilitator signs in (1440x900), starts the demo session
   (the dilemma method) and clicks "Next" until a step with a poll, which it opens; the projector
   view (1920x1080) follows in a browser context of its own;
3. vote -> projector: --repetitions participants join over plain HTTP (urllib, a cookie jar each,
   JSON: POST /j/<code>/join, GET /j/<code>/state for the poll id, POST /j/<code>/polls/<id>)
   and answer one after another; each time: from the answer's HTTP response to the moment the
   projector's `[data-live=answers]` shows the new count;
4. step change -> projector: the poll is closed, then the facilitator walks the steps (Next until
   the last, Previous until the first, and so on) 2 x --repetitions times; each time: from the
   click to the moment the projector's `.stage-title` equals the facilitator's new `.step-title`;
5. facilitator action -> page updated: the same clicks, until the facilitator's current step
   number (`.step-list li.current .step-number`) and title show the new step; then
   --repetitions clicks on the timer's pause/start button until its label changes. Per click:
   whether the page loaded a new document ("full reload") or changed the one it had ("in place"),
   and the main frame's `framenavigated` events.

How it times: the pages are watched from inside, every 20 ms (a recorder on the projector that
logs each change of the watched texts with Date.now(); page.wait_for_function with polling=20 on
the facilitator page), and the moments are compared with the script's time.time() (one clock:
the same machine). A click's time is taken just before Playwright's click, so its dispatch (a few
ms) is counted against the app. The projector asks for the state once a second, so a change
waits 0-1 s for its next poll; a random pause of 0-1 s before each vote and step change keeps
the samples from locking onto that rhythm.

A participant's phone (360x640) joins through its join page and is watched the same way: when it
shows the new step's "Stap n van m" after each step change, and the vote's question after it opens.

Targets: vote -> projector p90 < 1500 ms; step change -> projector p90 < 1500 ms; step change and
vote opened -> phone p90 < 2000 ms; facilitator action -> page updated p90 < 300 ms. Targets missed
are marked in the summary.

Exit status: 0 when every measurement completed; 1 when some wait timed out or failed; 2 when
--time-limit was hit (what was measured so far is still printed).

Run: .venv/bin/python bench/room.py [--repetitions 20] [--time-limit 170] [--seed 7] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CHROMIUM = "/usr/bin/chromium"
# As in tests/browser/conftest.py: no background traffic, nothing but loopback.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ADMIN_PASSWORD = "bench-admin-password"
POLL_MS = 20
WAIT_S = 10.0  # the longest any one change may take before it counts as a timeout
GIVE_UP_AFTER = 3  # timeouts in a row: that control is broken, measuring on only burns the time

TARGETS_MS = {"vote": 1500, "step": 1500, "facilitator": 300, "phone": 2000}
NEXT = "#next-form button"
PREVIOUS = "#previous-form button"
TIMER = "#timer form button"
CURRENT_STEP = ".step-list li.current .step-number"

# Runs in the projector page (from its first moment, and again should it ever load a new
# document): every 20 ms, each watched selector's text (whitespace collapsed) is compared with the
# last one logged, and a change is logged with Date.now().
RECORDER_JS = """
(selectors) => {
  if (window.__bench) return;
  const log = window.__bench = Object.fromEntries(selectors.map((s) => [s, []]));
  setInterval(() => {
    const now = Date.now();
    for (const s of selectors) {
      const el = document.querySelector(s);
      const text = el ? el.textContent.replace(/\\s+/g, " ").trim() : null;
      const changes = log[s];
      if (!changes.length || changes[changes.length - 1].text !== text) changes.push({text, t: now});
    }
  }, 20);
}
"""
# The time the recorder first saw `text` in `selector`, at or after `since` (ms since the epoch).
SEEN_JS = """
([selector, text, since]) => {
  const hit = ((window.__bench || {})[selector] || []).find((c) => c.text === text && c.t >= since);
  return hit ? hit.t : false;
}
"""
# On the facilitator page: Date.now() once the current step is `number` and its title is no
# longer `oldTitle`.
STEP_SHOWN_JS = """
([number, oldTitle]) => {
  const current = document.querySelector(".step-list li.current .step-number");
  const title = document.querySelector(".step-title");
  if (!current || !title) return false;
  const text = title.textContent.replace(/\\s+/g, " ").trim();
  return current.textContent.trim() === number && text !== oldTitle ? Date.now() : false;
}
"""
# On the facilitator page: Date.now() once the timer's first button no longer reads `oldLabel`.
LABEL_CHANGED_JS = """
([selector, oldLabel]) => {
  const button = document.querySelector(selector);
  return button && button.textContent.replace(/\\s+/g, " ").trim() !== oldLabel ? Date.now() : false;
}
"""
TEXT_JS = "(selector) => (document.querySelector(selector)?.textContent || '').replace(/\\s+/g, ' ').trim()"


class TimeLimitExceeded(RuntimeError):
    """The run took longer than --time-limit."""


class Deadline:
    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds

    def wait_ms(self) -> float:
        """How long one wait may take: WAIT_S, or less near the end of the run."""
        remaining = self.at - time.monotonic()
        if remaining <= 0:
            raise TimeLimitExceeded("time limit reached")
        return 1000 * min(WAIT_S, remaining)


def now_ms() -> float:
    return time.time() * 1000


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


# --- the app ---------------------------------------------------------------------------------

# Loopback only: no proxy from the environment.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Server:
    """beraad under gunicorn on 127.0.0.1, with its own instance folder and SQLite database."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = folder / "server.log"
        self.process: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "BERAAD_INSTANCE_PATH": str(folder),
            "DATABASE_URL": f"sqlite:///{folder / 'room.sqlite3'}",
            "SECRET_KEY": "bench-room-secret",
            "BERAAD_ADMIN_USER": "admin",
            "BERAAD_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "BERAAD_LANGUAGE": "nl",
        }

    def beraad(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "beraad", *args], env=self.env, capture_output=True, text=True,
            timeout=120, check=True, cwd=REPO,
        )  # fmt: skip
        return result.stdout

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "beraad", "serve", "--port", str(self.port)],
                env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                HTTP.open(self.url + "/", timeout=1).close()
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

    def demo(self) -> dict:
        """A demo session: its facilitator's credentials and its three URLs."""
        output = self.beraad("demo", "--base-url", self.url)
        return {
            "facilitator": re.search(r"Facilitator: (\S+)", output).group(1),
            "username": re.search(r"sign in as '([^']+)'", output).group(1),
            "password": re.search(r"password (\S+)\)", output).group(1),
            "projector": re.search(r"Projector:\s+(\S+)", output).group(1),
            "join": re.search(r"Join:\s+(\S+)", output).group(1),
        }


class Phone:
    """One participant over plain HTTP: its own cookie jar, JSON in and out."""

    def __init__(self, join_url: str):
        self.base = join_url
        cookies = urllib.request.HTTPCookieProcessor(CookieJar())
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), cookies)

    def send(self, path: str, body: dict | None = None) -> dict:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        with self.opener.open(request, timeout=WAIT_S) as response:
            return json.loads(response.read() or b"null")


# --- measurements --------------------------------------------------------------------------


@dataclass
class Figures:
    """The latencies of one kind of change, in ms, with what went wrong."""

    name: str
    target_ms: float  # for the p90
    samples: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    in_place: int = 0
    full_reload: int = 0
    navigations: int = 0  # the main frame's framenavigated events
    timeouts: int = 0
    timeouts_in_a_row: int = 0

    def add(self, ms: float) -> None:
        self.samples.append(ms)
        self.timeouts_in_a_row = 0

    def timed_out(self, what: str, error: Exception) -> bool:
        """Note a wait that failed; True (and a note) when it is time to give up on this one."""
        self.failures.append(f"{what}: {str(error).splitlines()[0]}")
        self.timeouts += 1
        self.timeouts_in_a_row += 1
        if self.timeouts_in_a_row < GIVE_UP_AFTER:
            return False
        self.failures.append(f"gave up after {GIVE_UP_AFTER} timeouts in a row")
        return True

    def row(self) -> list[str]:
        p90 = percentile(self.samples, 0.9)
        missed = " (MISSED)" if self.samples and p90 >= self.target_ms else ""
        reloads = f"{self.in_place} / {self.full_reload}" if self.in_place or self.full_reload else ""
        return [
            self.name, str(len(self.samples)), f"{percentile(self.samples, 0.5):.0f}", f"{p90:.0f}",
            f"{max(self.samples, default=float('nan')):.0f}", f"p90 < {self.target_ms:.0f} ms{missed}",
            reloads, str(self.timeouts),
        ]  # fmt: skip


class Facilitator:
    """The facilitator's page, counting its main-frame navigations."""

    def __init__(self, page):
        self.page = page
        self.navigations = 0
        page.on("framenavigated", self._navigated)

    def _navigated(self, frame) -> None:
        if frame == self.page.main_frame:
            self.navigations += 1

    def text(self, selector: str) -> str:
        return self.page.evaluate(TEXT_JS, selector)

    def click_and_wait(self, selector: str, shown_js: str, arg: list, figures: Figures, deadline) -> float:
        """Click, wait until shown_js returns a time; record the latency and how the page changed."""
        page = self.page
        page.wait_for_load_state()
        page.locator(selector).first.wait_for(state="visible", timeout=deadline.wait_ms())
        page.evaluate("() => { window.__benchDocument = true; }")
        navigations, clicked = self.navigations, now_ms()
        page.locator(selector).first.click(timeout=deadline.wait_ms())
        shown = page.wait_for_function(shown_js, arg=arg, polling=POLL_MS, timeout=deadline.wait_ms())
        figures.add(shown.json_value() - clicked)
        figures.navigations += self.navigations - navigations
        if page.evaluate("() => window.__benchDocument === true"):
            figures.in_place += 1
        else:
            figures.full_reload += 1
        page.wait_for_load_state()
        return clicked


def seen_on_projector(projector, selector: str, text: str, since: float, deadline) -> float:
    """When the projector's recorder first saw `text` in `selector` at or after `since`."""
    handle = projector.wait_for_function(
        SEEN_JS, arg=[selector, text, since], polling=POLL_MS, timeout=deadline.wait_ms()
    )
    return handle.json_value()


def measure_votes(projector, join_url: str, count: int, figures: Figures, rng, deadline) -> None:
    """Participants answer one by one; from each answer's response to the projector's new count."""
    phones = [Phone(join_url) for _ in range(count)]
    for phone in phones:
        phone.send("/join", {})
    for number, phone in enumerate(phones, start=1):
        poll = phone.send("/state")["poll"]
        time.sleep(rng.uniform(0, 1))
        try:
            sent = now_ms()
            phone.send(f"/polls/{poll['id']}", {"choice": poll["options"][0]["key"]})
            answered = now_ms()
            seen = seen_on_projector(projector, "[data-live=answers]", str(number), sent, deadline)
            figures.add(max(0.0, seen - answered))
        except (OSError, PlaywrightTimeout) as error:
            if figures.timed_out(f"answer {number}", error):
                return


def measure_steps(
    facilitator: Facilitator, projector, phone, changes: int, figures: dict[str, Figures], rng, deadline
) -> None:
    """Walk the steps (Next to the last, Previous to the first, ...); time page and projector."""
    page, direction = facilitator.page, NEXT
    for _ in range(changes):
        if page.locator(direction).first.is_disabled():
            direction = PREVIOUS if direction == NEXT else NEXT
        number = int(facilitator.text(CURRENT_STEP))
        expected = str(number + 1 if direction == NEXT else number - 1)
        old_title = facilitator.text(".step-title")
        time.sleep(rng.uniform(0, 1))
        name = "next" if direction == NEXT else "previous"
        try:
            clicked = facilitator.click_and_wait(
                direction, STEP_SHOWN_JS, [expected, old_title], figures[name], deadline
            )
        except PlaywrightTimeout as error:
            if figures[name].timed_out(f"{name} to step {expected}", error):
                return
            continue
        title = facilitator.text(".step-title")
        try:
            seen = seen_on_projector(projector, ".stage-title", title, clicked, deadline)
            figures["step"].add(seen - clicked)
        except PlaywrightTimeout as error:
            if figures["step"].timed_out(f"projector to step {expected} ({title})", error):
                return
        step_line = facilitator.text(".step-now .hint")  # "Stap 5 van 10", as the phone says it
        try:
            figures["phone"].add(
                seen_on_projector(phone, ".step-count", step_line, clicked, deadline) - clicked
            )
        except PlaywrightTimeout as error:
            if figures["phone"].timed_out(f"phone to step {expected}", error):
                return


def measure_timer(facilitator: Facilitator, count: int, figures: Figures, deadline) -> None:
    """Pause and start the step's timer, until the button's label changes."""
    for number in range(count):
        label = facilitator.text(TIMER)
        try:
            facilitator.click_and_wait(TIMER, LABEL_CHANGED_JS, [TIMER, label], figures, deadline)
        except PlaywrightTimeout as error:
            if figures.timed_out(f"timer click {number + 1} ({label})", error):
                return


def click_and_settle(page, button: str, until: str, deadline, state: str = "attached") -> None:
    """Click a control, then wait for its effect: `until` reaching `state` (in place or reloaded)."""
    page.locator(button).first.click(timeout=deadline.wait_ms())
    page.locator(until).first.wait_for(state=state, timeout=deadline.wait_ms())
    page.wait_for_load_state()


def go_to_poll_and_open_it(facilitator: Facilitator, projector, phone, figures: Figures, deadline) -> None:
    """Start the session, click Next until a step with a poll, open it; the projector and phone show it."""
    page = facilitator.page
    start = "form[action$='/start']"
    click_and_settle(page, f"{start} button", start, deadline, state="detached")
    while not page.locator(".poll-card").count():
        following = int(facilitator.text(CURRENT_STEP)) + 1
        click_and_settle(page, NEXT, f".step-list li:nth-child({following}).current", deadline)
    clicked = now_ms()
    click_and_settle(
        page, ".poll-card form[action$='/open'] button", ".poll-card form[action$='/close']", deadline
    )
    projector.locator(".poll-open [data-live=answers]").wait_for(timeout=deadline.wait_ms())
    try:
        figures.add(seen_on_projector(phone, "#poll .question", phone_text(phone, "#poll .question"), clicked,
                                      deadline) - clicked)  # fmt: skip
    except PlaywrightTimeout as error:
        figures.timed_out("poll opened -> phone", error)


def phone_text(phone, selector: str) -> str:
    """Wait until the phone shows `selector`, then return its text."""
    phone.locator(selector).first.wait_for(timeout=10_000)
    return phone.evaluate(TEXT_JS, selector)


def close_poll(page, deadline) -> None:
    closed = ".poll-card form[action$='/open'], .poll-card form[action$='/reveal']"
    click_and_settle(page, ".poll-card form[action$='/close'] button", closed, deadline)


def sign_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/sessions/.*|.*/bank/.*"))


def run_room(server: Server, demo: dict, args, figures: dict[str, Figures], deadline) -> None:
    rng = random.Random(args.seed)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1440, "height": 900}, locale="nl-NL").new_page()
            sign_in(page, server.url, demo["username"], demo["password"])
            page.goto(demo["facilitator"])
            facilitator = Facilitator(page)
            projector = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
            watched = json.dumps([".stage-title", "[data-live=answers]"])
            projector.add_init_script(f"({RECORDER_JS})({watched})")  # in every document it loads
            projector.goto(demo["projector"])
            phone = browser.new_context(viewport={"width": 360, "height": 640}, locale="nl-NL").new_page()
            phone.add_init_script(f"({RECORDER_JS})({json.dumps(['.step-count', '#poll .question'])})")
            phone.goto(demo["join"])
            phone.locator("#join-button").click()
            phone.locator("#phone-stage").wait_for(timeout=deadline.wait_ms())

            go_to_poll_and_open_it(facilitator, projector, phone, figures["poll"], deadline)
            print(f"vote -> projector: {args.repetitions} participants answer one by one", flush=True)
            measure_votes(projector, demo["join"], args.repetitions, figures["vote"], rng, deadline)
            close_poll(page, deadline)
            print(f"step change: {2 * args.repetitions} clicks on Next / Previous", flush=True)
            measure_steps(facilitator, projector, phone, 2 * args.repetitions, figures, rng, deadline)
            print(f"timer: {args.repetitions} clicks on pause / start", flush=True)
            measure_timer(facilitator, args.repetitions, figures["timer"], deadline)
        finally:
            browser.close()


# --- report --------------------------------------------------------------------------------


def print_summary(figures: dict[str, Figures]) -> None:
    headers = ["", "n", "median", "p90", "max", "target", "in place / full reload", "timeouts"]
    table = [headers] + [f.row() for f in figures.values()]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    print("\nSummary (ms)")
    for number, row in enumerate(table):
        print("  " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if number == 0:
            print("  " + "-+-".join("-" * width for width in widths))
    for f in figures.values():
        if f.in_place or f.full_reload:
            print(f"  {f.name}: {f.navigations} main-frame framenavigated event(s)")
        for failure in f.failures:
            print(f"  {f.name}: {failure}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=20, help="votes, timer clicks; 2x step changes")
    parser.add_argument("--time-limit", type=float, default=170.0, help="seconds for the whole run")
    parser.add_argument("--seed", type=int, default=7, help="for the random pauses")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (log, database)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: install Debian's chromium")
        return 1
    deadline = Deadline(args.time_limit)
    figures = {
        "vote": Figures("vote -> projector count", TARGETS_MS["vote"]),
        "step": Figures("step change -> projector title", TARGETS_MS["step"]),
        "phone": Figures("step change -> phone (360x640)", TARGETS_MS["phone"]),
        "poll": Figures("vote opened -> phone form", TARGETS_MS["phone"]),
        "next": Figures("facilitator: next step", TARGETS_MS["facilitator"]),
        "previous": Figures("facilitator: previous step", TARGETS_MS["facilitator"]),
        "timer": Figures("facilitator: timer pause/start", TARGETS_MS["facilitator"]),
    }
    folder = Path(tempfile.mkdtemp(prefix="beraad-room-"))
    server = Server(folder)
    started, status = time.monotonic(), 0
    print(f"cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}; limit {args.time_limit:.0f} s")
    try:
        server.beraad("init")
        server.start()
        demo = server.demo()
        run_room(server, demo, args, figures, deadline)
    except TimeLimitExceeded as error:
        print(f"\nSTOPPED: {error} (limit {args.time_limit:.0f} s)")
        status = 2
    except KeyboardInterrupt:
        print("\nSTOPPED: interrupted")
        status = 130
    finally:
        server.stop()
    print_summary(figures)
    print(f"\nRun took {time.monotonic() - started:.0f} s; load average now {os.getloadavg()[0]:.1f}.")
    status = status or (1 if any(f.failures for f in figures.values()) else 0)
    if status or args.keep:
        print(f"Kept {folder} (server log, database).")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
