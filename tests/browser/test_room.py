"""Room rehearsal: a whole session of every method, in real browsers, as a room would see it.

Per method a facilitator screen (1366x768), the projector at 1920x1080 and at 1280x720, and five
phones (360x640) that join and vote through their own pages. At every step the projector must show
everything uncut, apart and readable (geometry.py); the facilitator's step bar must stay in view.
A second test feeds the projector bad input (a 400-word case, eight long options, 200 long text
answers) and checks that it fits or pages instead of cutting anything off.

Layout problems are collected over the whole session and reported together at the end, so one run
shows every step's faults; a broken flow (a vote that is not counted, a step that does not follow)
fails at once. Measured font sizes are written to fonts.json next to the screenshots.
"""

from __future__ import annotations

import http.cookiejar
import json
import random
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from beraad.bank.loader import load_bank
from beraad.methods.loader import load_methods, parse_method

from .conftest import ADMIN_PASSWORD, ROOT, sign_in
from .geometry import assert_room_ok, overlaps, problems_in_view, visible_boxes

pytestmark = pytest.mark.browser

METHOD_FILES = sorted(p for p in (ROOT / "methods").glob("*.yaml") if not p.name.startswith("_"))
METHODS = [p.stem for p in METHOD_FILES]

FACILITATOR = {"viewport": {"width": 1366, "height": 768}, "locale": "nl-NL"}
PROJECTOR_SIZES = {"1920": (1920, 1080), "1280": (1280, 720)}
PHONE = {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True, "locale": "nl-NL"}
PHONES = 5
LOST_CLICKS: list[str] = []  # facilitator clicks that sent no request (see act)

# What the room must see on the projector: every match in view, uncut and apart from the others.
ROOM_SELECTORS = [
    ".stage-title", ".stage-timer", ".stage-body > *", ".chart-row", ".chart-label", ".chart-figure",
    ".option-label", ".text-card", ".stage-contribution", ".case-chunk", ".screen-text", ".pager-indicator",
]  # fmt: skip
RUNNING_ONLY = {".stage-timer", ".stage-body > *"}  # always there while the session runs
BODY_TEXT = {".case-chunk", ".screen-text", ".text-card"}
BODY_TEXT_MIN_PX = 36  # at 1920x1080 only
# The facilitator's step bar: in view and uncut at the top of the page and scrolled down.
FACILITATOR_BAR = [
    "#next-form button",
    "#previous-form button",
    "#run-bar [data-live=participants]",
    ".step-now",
]

# The smallest rendered font size per selector (text-holding descendants included), and --fit.
FONTS_JS = """
(selectors) => {
  const shown = (el) => !el.closest("[hidden]") && el.getClientRects().length > 0
    && getComputedStyle(el).visibility === "visible";
  const out = {fit: getComputedStyle(document.body).getPropertyValue("--fit").trim() || "1"};
  for (const selector of selectors) {
    let smallest = null;
    document.querySelectorAll(selector).forEach((el) => {
      if (!shown(el)) return;
      for (const node of [el, ...el.querySelectorAll("*")]) {
        if (!shown(node)) continue;
        const own = [...node.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
        if (!own) continue;
        const size = parseFloat(getComputedStyle(node).fontSize);
        if (smallest === null || size < smallest) smallest = size;
      }
    });
    if (smallest !== null) out[selector] = smallest;
  }
  return out;
}
"""


# --- plain HTTP on loopback: the JSON API and participants without a browser ----------------------


def _opener(cookies: bool = False) -> urllib.request.OpenerDirector:
    handlers = [urllib.request.ProxyHandler({})]  # loopback only, whatever the environment says
    if cookies:
        handlers.append(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    return urllib.request.build_opener(*handlers)


def _post_json(
    opener, url: str, body: dict | None, headers: dict | None = None, method: str = "POST"
) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body if body is not None else {}).encode(), method=method,
        headers={"Content-Type": "application/json", "Accept": "application/json", **(headers or {})},
    )  # fmt: skip
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"{}")


class Api:
    """The JSON API with a personal access token of the admin user."""

    def __init__(self, live_server):
        self.base = live_server.url + "/api/v1"
        token = live_server.beraad("token", "create", "admin", "--name", "room rehearsal").strip()
        self.headers = {"Authorization": "Bearer " + token.splitlines()[-1].strip()}
        self.opener = _opener()

    def get(self, path: str) -> dict:
        request = urllib.request.Request(
            self.base + path, headers={**self.headers, "Accept": "application/json"}
        )
        with self.opener.open(request, timeout=30) as response:
            return json.loads(response.read())

    def post(self, path: str, body: dict | None = None) -> dict:
        status, reply = _post_json(self.opener, self.base + path, body, self.headers)
        assert status in (200, 201), (path, status, reply)
        return reply

    def patch(self, path: str, body: dict) -> dict:
        status, reply = _post_json(self.opener, self.base + path, body, self.headers, method="PATCH")
        assert status == 200, (path, status, reply)
        return reply


class Participant:
    """A participant without a browser: its own cookie jar, JSON posts (README, JSON API)."""

    def __init__(self, base_url: str, join_code: str):
        self.url = f"{base_url}/j/{join_code}"
        self.opener = _opener(cookies=True)

    def join(self) -> Participant:
        status, body = _post_json(self.opener, self.url + "/join", {})
        assert status == 200 and body.get("joined"), body
        return self

    def answer(self, poll_id: str, body: dict) -> None:
        status, reply = _post_json(self.opener, f"{self.url}/polls/{poll_id}", body)
        assert status in (200, 201), (status, reply)


def crowd(base_url: str, join_code: str, count: int) -> list[Participant]:
    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(lambda _: Participant(base_url, join_code).join(), range(count)))


def answer_all(participants: list[Participant], poll_id: str, bodies: list[dict]) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda pair: pair[0].answer(poll_id, pair[1]), zip(participants, bodies, strict=True)))


# --- the browsers ------------------------------------------------------------------------------


@pytest.fixture
def new_context(browser):
    """browser.new_context, closed after the test (a projector or phone left open keeps polling)."""
    opened = []

    def new(**options):
        opened.append(browser.new_context(**options))
        return opened[-1]

    yield new
    for context in opened:
        context.close()


def published_dilemmas() -> list[str]:
    """Published dilemmas of the bank that have options (every vote "from the dilemma" needs them)."""
    return sorted(d.id for d in load_bank(ROOT / "dilemma_bank") if d.status == "published" and d.options)


def open_facilitator(new_context, live_server, session_id: int):
    page = new_context(**FACILITATOR).new_page()
    sign_in(page, live_server.url, "admin", ADMIN_PASSWORD)
    page.goto(f"{live_server.url}/sessions/{session_id}")
    return page


def open_projectors(new_context, url: str) -> dict:
    projectors = {}
    for name, (width, height) in PROJECTOR_SIZES.items():
        page = new_context(viewport={"width": width, "height": height}).new_page()
        page.goto(url)
        projectors[name] = page
    return projectors


def join_on_phone(new_context, base_url: str, join_code: str):
    phone = new_context(**PHONE).new_page()
    phone.goto(f"{base_url}/j/{join_code}")
    phone.locator("form[action$='/join'] button").click()
    phone.wait_for_load_state()
    expect(phone.locator("form[action$='/join']")).to_have_count(0)
    return phone


def act(page, selector: str, timeout: float = 10_000) -> None:
    """Press a facilitator control and wait until the page has updated in place (a new version).

    A click that sends nothing (it can land while the page swaps in a refreshed copy of itself) is
    repeated once, and reported: it is safe to repeat, as the server never saw it.
    """
    before = page.locator(".run").get_attribute("data-version")
    for attempt in range(2):
        try:
            with page.expect_request(lambda request: request.method == "POST", timeout=3000):
                page.locator(selector).click()
            break
        except PlaywrightTimeoutError:
            LOST_CLICKS.append(f"{page.url} {selector} (attempt {attempt + 1})")
            if attempt:
                raise AssertionError(f"{selector}: two clicks sent nothing to the server") from None
    try:
        page.wait_for_function(
            """(before) => {
              const run = document.querySelector(".run");
              return run && run.getAttribute("data-version") !== before
                && !document.documentElement.classList.contains("is-busy");
            }""",
            arg=before,
            timeout=timeout,
        )
    except PlaywrightTimeoutError:
        toasts = page.locator(".toasts").inner_text() if page.locator(".toasts").count() else ""
        version = page.locator(".run").get_attribute("data-version")
        raise AssertionError(
            f"{selector}: the facilitator page did not update (version {before} -> {version}); "
            f"messages: {toasts!r}"
        ) from None


def settle(projector, title: str, meta: str | None) -> None:
    """Wait until the projector shows this step (title and "Stap n / m"), then let it fit."""
    projector.wait_for_function(
        """([title, meta]) => {
          const t = document.querySelector("#stage .stage-title");
          const m = document.querySelector("#stage .stage-meta");
          return t && m && t.textContent.trim() === title && (meta === null || m.textContent.includes(meta));
        }""",
        arg=[title, meta],
        timeout=4000,
    )
    projector.wait_for_timeout(400)


def answer_on_phone(page, poll_type: str, index: int) -> None:
    """Vote through the phone's own form, as a participant taps it."""
    poll = page.locator("#poll")
    if poll_type == "choice":
        labels = poll.locator("label.choice")
        labels.nth(index % labels.count()).click()
    elif poll_type == "scale":
        points = poll.locator("label.scale-point")
        points.nth(index % points.count()).click()
    elif poll_type == "ranking":  # tap the items in order, starting at a different one per phone
        items = poll.locator("button.rank-tap")
        for place in range(items.count()):
            items.nth((place + index) % items.count()).click()
    elif poll_type == "text":
        poll.locator("#text-answer").fill(
            f"Deelnemer {index + 1}: ik twijfel, want beide kanten doen iets pijn."
        )
    else:
        raise AssertionError(f"unknown poll type {poll_type!r}")
    poll.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("#poll .notice-success")).to_be_visible()


def room_problems(projector, label: str, *, running: bool = True, min_font: bool = False) -> list[str]:
    """assert_room_ok over the room selectors that are on screen; its message, or nothing."""
    selectors = {}
    for selector in ROOM_SELECTORS:
        required = selector == ".stage-title" or (running and selector in RUNNING_ONLY)
        if required or visible_boxes(projector, selector):
            selectors[selector] = BODY_TEXT_MIN_PX if min_font and selector in BODY_TEXT else None
    try:
        assert_room_ok(projector, selectors, label)
    except AssertionError as error:
        return [str(error)]
    return []


def facilitator_problems(page, label: str) -> list[str]:
    found = []
    for end in ("top", "bottom"):
        page.evaluate(
            "(end) => window.scrollTo(0, end === 'top' ? 0 : document.documentElement.scrollHeight)", end
        )
        page.wait_for_timeout(50)
        scrolled = page.evaluate("Math.round(window.scrollY)")
        assert end == "top" or scrolled > 0, f"{label}: the facilitator page does not scroll"
        try:
            assert_room_ok(
                page, {selector: None for selector in FACILITATOR_BAR}, f"{label}, scrolled to y={scrolled}"
            )
        except AssertionError as error:
            found.append(str(error))
    page.evaluate("window.scrollTo(0, 0)")
    return found


class Rehearsal:
    """Collects layout problems and measured font sizes over a whole session."""

    def __init__(self, screenshot):
        self.screenshot = screenshot
        self.problems: list[str] = []
        self.fonts: dict[str, dict] = {}
        self.folder: Path | None = None

    def check_projectors(self, projectors: dict, name: str, *, running: bool = True) -> None:
        for size, page in projectors.items():
            label = f"{name}, projector {size}"
            self.problems += room_problems(page, label, running=running, min_font=size == "1920")
            self.fonts[label] = page.evaluate(FONTS_JS, ROOM_SELECTORS)
            self.folder = self.screenshot(page, f"{name}-projector-{size}").parent

    def save(self) -> None:
        if self.folder is not None:
            (self.folder / "fonts.json").write_text(json.dumps(self.fonts, indent=1, ensure_ascii=False))
            lost = [f"lost facilitator click: {click}" for click in LOST_CLICKS]
            (self.folder / "problems.txt").write_text("\n\n".join(self.problems + lost) + "\n")
            for line in lost:
                print(line)

    def finish(self) -> None:
        self.save()
        assert not self.problems, f"{len(self.problems)} layout report(s):\n\n" + "\n\n".join(self.problems)


# --- a whole session of every method ------------------------------------------------------------


def _extras_position(method, steps: list[dict], polls: dict) -> int:
    """Where the text on screen and a contribution are tried: the first step that shows the case
    (the fullest stage), else the first without a vote; never the last (we move on afterwards)."""
    definitions = {step.key: step for step in method.steps}
    candidates = [s["position"] for s in steps[:-1] if s["position"] not in polls]
    with_case = [p for p in candidates if definitions[steps[p]["key"]].show_case]
    return (with_case or candidates)[0]


ROOM_OPTIONS = (
    "Mag je loyaal zijn aan een leidinggevende die de regels oprekt?",
    "Wanneer wordt voorzichtigheid lafheid?",
    "Moet je altijd zeggen wat je ziet, ook als niemand erom vraagt en het team daar last van krijgt?",
)


@pytest.mark.parametrize("method_key", METHODS)
def test_a_whole_session_in_the_room(method_key, new_context, live_server, screenshot):
    started = time.monotonic()
    LOST_CLICKS.clear()
    path = ROOT / "methods" / f"{method_key}.yaml"
    method = parse_method(path.read_text(encoding="utf-8"), str(path), method_key)
    pool = published_dilemmas()
    first = METHODS.index(method_key) * 3
    dilemmas = [pool[(first + n) % len(pool)] for n in range(method.dilemmas[0])]
    api = Api(live_server)
    created = api.post(
        "/sessions", {"method": method_key, "dilemmas": dilemmas, "title": f"Repetitie {method_key}"}
    )
    polls = {poll["position"]: poll for poll in created["polls"]}
    steps = created["steps"]
    extras_at = _extras_position(method, steps, polls)
    definitions = {step.key: step for step in method.steps}
    room = Rehearsal(screenshot)

    facilitator = open_facilitator(new_context, live_server, created["id"])
    navigations = []
    facilitator.on(
        "framenavigated",
        lambda frame: navigations.append(frame.url) if frame == facilitator.main_frame else None,
    )
    projectors = open_projectors(new_context, created["projector_url"])
    phones = [join_on_phone(new_context, live_server.url, created["join_code"]) for _ in range(PHONES)]
    for page in projectors.values():
        expect(page.locator(".join-count [data-live=participants]")).to_have_text(str(PHONES), timeout=3000)
    expect(facilitator.locator("#run-bar [data-live=participants]")).to_have_text(str(PHONES), timeout=5000)

    # The lobby.
    for page in projectors.values():
        settle(page, "Welkom", None)
    room.check_projectors(projectors, "00-lobby", running=False)
    screenshot(facilitator, "00-lobby-facilitator")

    act(facilitator, "form[action$='/start'] button")
    facilitator.evaluate("window.roomMarker = 'still the same page'")
    count = facilitator.locator(".step-list li").count()
    assert count == len(steps)
    contribution = f"Wat betekent loyaliteit hier eigenlijk, en aan wie? ({method_key})"
    screen_text = "Stelling: een regel die je voor één aanvrager buigt, is geen regel meer."

    for position in range(count):
        number = position + 1
        name = f"{number:02d}"
        if position > 0:
            seen = len(navigations)
            act(facilitator, "#next-form button")
            assert len(navigations) == seen, f"clicking next navigated: {navigations[seen:]}"
            assert facilitator.evaluate("window.roomMarker") == "still the same page"
        expect(facilitator.locator(".step-now .hint")).to_have_text(f"Stap {number} van {count}")
        title = facilitator.locator(".step-now strong").inner_text().strip()
        assert title == steps[position]["title"]
        for page in projectors.values():
            settle(page, title, f"Stap {number} / {count}")
        for phone in phones:
            expect(phone.locator(".step-count")).to_have_text(f"Stap {number} van {count}", timeout=6000)
        expect(phones[0].locator(".panel.step h1")).to_have_text(title)

        if position == extras_at + 1:
            # Contributions belong to their step: gone from the projector once we moved on.
            for page in projectors.values():
                expect(page.locator(".stage-contribution")).to_have_count(0, timeout=3000)

        if position == extras_at:
            # A participant sends something; the facilitator puts a text on screen, releases and shows it.
            phones[1].locator("#contribute-section summary").click()  # the section is folded away
            phones[1].fill("#contribution", contribution)
            phones[1].locator("#contribute button.big-button:not(.secondary)").click()
            phones[1].wait_for_load_state()
            expect(phones[1].locator("[data-contribution-status]")).to_be_visible(timeout=2000)
            item = facilitator.locator("#contributions li.contribution", has_text=contribution)
            try:  # it arrives by itself: the page polls every 2 s, refreshes the list at most every 15 s
                expect(item).to_have_count(1, timeout=19_000)
            except AssertionError:
                room.problems.append(
                    f"{name}, facilitator 1366x768: a contribution sent from a phone did not appear in "
                    "#contributions within 19 s without an action or reload"
                )
            facilitator.fill("#screen-text", screen_text)
            act(facilitator, "#screen form button[name=action][value=show]")
            for page in [*projectors.values(), phones[0]]:
                expect(page.locator(".screen-text")).to_have_text(screen_text, timeout=4000)
            expect(item).to_have_count(1)  # after the update in place at the latest
            act(facilitator, "#contributions li.contribution form[action$='/released'] button")
            act(facilitator, "#contributions form[action$='/contributions/show'] button")
            for page in projectors.values():
                expect(page.locator(".stage-contribution")).to_have_text(contribution, timeout=3000)
                page.wait_for_timeout(400)

        room.problems += facilitator_problems(facilitator, f"{name}, facilitator 1366x768")
        room.check_projectors(projectors, name)
        screenshot(facilitator, f"{name}-facilitator")
        screenshot(phones[0], f"{name}-phone", full_page=True)

        # A vote here: the facilitator's poll card with an open button (its type from the API).
        has_vote = facilitator.locator(".poll-card form[action$='/open'] button").count() == 1
        assert has_vote == (position in polls), f"step {number}: poll card and API disagree"
        if not has_vote:
            continue
        poll = polls[position]
        if definitions[steps[position]["key"]].poll.from_room:
            # The group proposed candidates (questions, examples): the facilitator types them in.
            open_button = facilitator.locator(".poll-card form[action$='/open'] button")
            expect(open_button).to_be_disabled()
            for candidate in ROOM_OPTIONS:
                facilitator.locator("#alternative-text").fill(candidate)
                act(facilitator, ".poll-card .alternative-form button")
            expect(facilitator.locator(".poll-card .options li")).to_have_count(len(ROOM_OPTIONS))
            screenshot(facilitator, f"{name}-room-options-facilitator")
        act(facilitator, ".poll-card form[action$='/open'] button")
        for phone in phones:
            expect(phone.locator("#poll")).to_be_visible(timeout=6000)
        room.check_projectors(projectors, f"{name}-vote-open")
        screenshot(phones[0], f"{name}-vote-open-phone", full_page=True)
        for index, phone in enumerate(phones):
            answer_on_phone(phone, poll["type"], index)
        voted = time.monotonic()
        for page in projectors.values():
            expect(page.locator(".poll-open [data-live=answers]")).to_have_text(str(PHONES), timeout=2000)
            expect(page.locator(".poll-open")).to_contain_text(f"{PHONES} van {PHONES} gestemd", timeout=100)
        assert time.monotonic() - voted < 2.5
        act(facilitator, ".poll-card form[action$='/close'] button")
        act(facilitator, ".poll-card form[action$='/reveal'] button")
        for page in projectors.values():
            expect(page.locator(".chart")).to_be_visible(timeout=3000)
            expect(page.locator(".chart-hidden")).to_have_count(0)
            page.wait_for_timeout(400)
        room.check_projectors(projectors, f"{name}-results")
        screenshot(facilitator, f"{name}-results-facilitator")

    # Close the session: the projector thanks the room.
    facilitator.on("dialog", lambda dialog: dialog.accept())
    act(facilitator, ".run-head form[action$='/close'] button")
    for page in projectors.values():
        expect(page.locator(".stage-meta")).not_to_contain_text(f"/ {count}", timeout=3000)
        page.wait_for_timeout(400)
    room.check_projectors(projectors, f"{count + 1:02d}-closed", running=False)
    room.save()
    print(f"\n{method_key}: {count} steps, {len(polls)} votes, {time.monotonic() - started:.0f} s")
    room.finish()


# --- the evaluation and the periodic measure on the phones -----------------------------------------


@pytest.mark.parametrize("method_key", ["dilemmamethode", "periodieke-meting"])
def test_the_phones_fill_in_the_evaluation(method_key, new_context, live_server, screenshot):
    """Every question fits a 360 px phone (a 1-10 grade in even rows), every phone sends its answers,
    and the summary or the measures page shows averages only."""
    # Loaded with the folder: the methods without their own evaluation take the shared one.
    [method] = [m for m in load_methods(ROOT / "methods") if m.key == method_key]
    dilemmas = published_dilemmas()[: method.dilemmas[0]]
    api = Api(live_server)
    title = f"Evaluatie {method_key}"
    created = api.post("/sessions", {"method": method_key, "dilemmas": dilemmas, "title": title})
    facilitator = open_facilitator(new_context, live_server, created["id"])
    phones = [join_on_phone(new_context, live_server.url, created["join_code"]) for _ in range(PHONES)]
    act(facilitator, "form[action$='/start'] button")
    act(facilitator, "#evaluation form[action$='/open'] button")
    scales = [item for item in method.evaluation if item.type == "scale"]
    for phone in phones:
        expect(phone.locator("#evaluation fieldset")).to_have_count(len(method.evaluation), timeout=6000)
    first = phones[0]
    # As if the participant started typing: a later refresh of the step keeps this form in place.
    first.evaluate("document.querySelector('#evaluation').setAttribute('data-dirty', '1')")
    screenshot(first, f"{method_key}-evaluation-phone", full_page=True)
    assert first.evaluate("document.documentElement.scrollWidth") <= 360, "the phone scrolls sideways"
    found = []
    for index, item in enumerate(method.evaluation):
        fieldset = f"#evaluation fieldset >> nth={index}"
        first.locator(fieldset).scroll_into_view_if_needed()  # a long form: one question at a time
        found += problems_in_view(first, f"#evaluation fieldset:nth-of-type({index + 1}) .question")
        if item.type != "scale":
            continue
        boxes = visible_boxes(first, f"#evaluation fieldset:nth-of-type({index + 1}) .scale-point span")
        assert len(boxes) == item.scale.max - item.scale.min + 1, fieldset
        widths = {round(box["width"]) for box in boxes}
        assert max(widths) - min(widths) <= 2, f"{item.key}: points of unequal width {sorted(widths)}"
        rows = sorted({round(box["y"]) for box in boxes})
        per_row = [sum(1 for box in boxes if round(box["y"]) == y) for y in rows]
        assert len(set(per_row)) == 1, f"{item.key}: {per_row} points per row"
        assert all(0 <= box["x"] and box["x"] + box["width"] <= 360 for box in boxes), item.key
        assert all(box["height"] >= 44 for box in boxes), f"{item.key}: points too small to tap"
        found += overlaps(first, f"#evaluation fieldset:nth-of-type({index + 1}) .scale-point span")
    assert not found, "\n".join(found)

    for number, phone in enumerate(phones):
        for item in scales:
            point = item.scale.min + (number + len(item.key)) % (item.scale.max - item.scale.min + 1)
            radio = f"input[name='{item.key}'][value='{point}']"
            choice = phone.locator(f"#evaluation {radio}")
            phone.locator(f"#evaluation label.scale-point:has({radio})").click()
            expect(choice).to_be_checked()
        phone.locator("#evaluation button[type=submit]").click()
        expect(phone.get_by_text("Bedankt voor je evaluatie.")).to_be_visible(timeout=6000)
    screenshot(phones[-1], f"{method_key}-evaluation-sent-phone", full_page=True)

    act(facilitator, "#evaluation form[action$='/close'] button")
    facilitator.on("dialog", lambda dialog: dialog.accept())
    act(facilitator, ".run-head form[action$='/close'] button")
    if method_key == "periodieke-meting":
        facilitator.goto(f"{live_server.url}/measures")
        screenshot(facilitator, "measures-page")
        table = facilitator.locator("table.measures").first
        expect(table).to_contain_text("Morele competentie")
        figures = table.locator("td.figure").all_inner_texts()
        assert figures[-1] == str(PHONES)  # answers to the most-answered question
        assert all("," in figure for figure in figures[:3]), figures  # three domain averages
    else:
        facilitator.goto(f"{live_server.url}/sessions/{created['id']}/summary")
        expect(facilitator.locator("body")).to_contain_text("Evaluatie")


# --- bad input: the projector fits or pages, and never cuts ---------------------------------------

LONG_TITLE = (
    "De subsidieaanvraag van de stichting waar de wethouder tot haar benoeming voorzitter was, "
    "en de vraag wie daar nu eigenlijk over beslist"
)
LONG_CASE = """\
Je werkt sinds vier jaar als beleidsadviseur subsidies bij een middelgrote gemeente. Op een dinsdagochtend \
komt een aanvraag binnen van Stichting Buurtkracht, die in drie wijken huiswerkbegeleiding, een taalcafé en \
een voedselbank draait. De stichting vraagt honderdtachtigduizend euro voor twee jaar, veel meer dan vorig \
jaar. De aanvraag is rommelig: de begroting klopt op twee plekken niet, een accountantsverklaring ontbreekt \
en het activiteitenplan leest als een wervingsfolder. Volgens de subsidieregeling moet je zo'n aanvraag \
terugsturen met een hersteltermijn van twee weken, en bij een tweede onvolledige versie afwijzen.

Die middag, vlak voor de teamvergadering, belt de wethouder je persoonlijk op. Ze vertelt dat ze tot haar \
benoeming voorzitter van de stichting was, dat ze de mensen daar goed kent en dat de voedselbank zonder dit \
geld in maart de deuren moet sluiten. Ze vraagt je niet om regels te buigen, zegt ze nadrukkelijk, maar wel \
om "met een welwillende blik" te kijken en de hersteltermijn over te slaan, omdat de penningmeester ziek \
thuis zit. Je leidinggevende, bij wie je daarna binnenloopt, zucht en zegt dat je het beste zelf kunt \
inschatten wat verstandig is, maar dat de verhouding met deze wethouder al gespannen is sinds het gedoe \
over de begroting.

Intussen hoor je van een collega dat twee andere stichtingen vorige maand wel netjes zijn teruggestuurd \
voor kleinere fouten. Een van hen heeft daarna haar aanvraag ingetrokken omdat de vrijwilligers het niet \
meer zagen zitten. Je weet ook dat de lokale krant al eerder schreef over de banden tussen bestuurders en \
het maatschappelijk middenveld, en dat de gemeenteraad om een integriteitsparagraaf in elke \
subsidiebeschikking heeft gevraagd. De wethouder heeft haar oude functie wel gemeld in het register van \
nevenfuncties, maar niet bij deze aanvraag. Vorig jaar kreeg je zelf nog een training over \
belangenverstrengeling.

Tegelijk zie je de gezinnen die elke week bij de voedselbank staan, en je weet dat de stichting in de wijk \
meer vertrouwen geniet dan de gemeente zelf. Als je de regeling strikt toepast, loopt de beslissing door \
tot na de sluitingsdatum, en dan valt er waarschijnlijk niets meer te redden. Als je de hersteltermijn \
overslaat, behandel je deze aanvraag anders dan de andere, en doe je dat op verzoek van iemand met een \
persoonlijke band met de aanvrager.

Mag je op verzoek van de wethouder de hersteltermijn overslaan om de voedselbank open te houden, of moet je \
deze aanvraag precies zo behandelen als alle andere?
"""
LONG_OPTIONS = [  # A-D in the file (a published case has all four), E-F added by the facilitator
    "Je slaat de hersteltermijn over zoals de wethouder vraagt, legt in het dossier vast waarom en meldt "
    "haar eerdere voorzitterschap bij je leidinggevende, zodat de voedselbank in maart open kan blijven.",
    "Je behandelt de aanvraag precies volgens de regeling: je stuurt haar terug met een hersteltermijn van "
    "twee weken, ook al weet je dat de stichting daardoor waarschijnlijk te laat is voor de voedselbank.",
    "Je legt het verzoek van de wethouder schriftelijk voor aan de integriteitscoördinator en de "
    "gemeentesecretaris, en laat hen beslissen of een afwijking van de hersteltermijn hier te "
    "verdedigen valt.",
    "Je helpt de stichting binnen de regels: je belt de penningmeester, wijst precies aan wat ontbreekt en "
    "plant de beoordeling direct na ontvangst, zodat de termijn blijft staan maar zo kort mogelijk duurt.",
    "Je vraagt de wethouder zich formeel te verschonen van elke bemoeienis met deze aanvraag, en laat het "
    "dossier daarna door een collega van een andere afdeling beoordelen die de stichting niet kent.",
    "Je zoekt een noodregeling buiten deze subsidie om, bijvoorbeeld een tijdelijke bijdrage uit het "
    "armoedebudget voor alleen de voedselbank, en behandelt de aanvraag zelf volgens de gewone regels.",
]
LONG_ALTERNATIVES = [  # G-H: added by the facilitator (at most 8 options, 300 characters each)
    "Je bespreekt het dilemma openlijk in het team en met je leidinggevende, zodat niet jij alleen beslist, "
    "en je legt de afspraken en de rol van de wethouder vast in een notitie die de raad kan inzien.",
    "Je weigert nu iets te beslissen en vraagt de raadscommissie om een uitspraak over hoe de gemeente "
    "omgaat met aanvragen van organisaties waar bestuurders eerder een functie hadden, ook in de toekomst.",
]
# A compound longer than any line on a phone, to test breaking inside words.
LONG_WORD = "subsidieverstrekkingsbeoordelingsprocedurebelangenverstrengelingsrisicoanalyse"


def long_dilemma_file(folder: Path) -> Path:
    """The longest case the publishing gate lets through: 400 words, four long options, a long title."""
    options = "\n".join(
        f"  - key: {key}\n    text: {json.dumps(text, ensure_ascii=False)}"
        for key, text in zip("ABCD", LONG_OPTIONS[:4], strict=True)
    )
    *story, question = LONG_CASE.strip().split("\n\n")
    body = "\n\n".join([*story, f"**{question}**"])
    short = " ".join(LONG_CASE.split()[:75]) + f"\n\n**{question}**"
    path = folder / "lange-casus-wethouder.md"
    path.write_text(
        "---\nid: lange-casus-wethouder\n"
        f"title: {json.dumps(LONG_TITLE, ensure_ascii=False)}\n"
        "language: nl\nthemes: [belangenverstrengeling, politieke-druk]\nlevels: [gemeente]\n"
        f"roles: [beleidsmedewerker]\nstatus: published\noptions:\n{options}\n"
        f"protagonist: Lieve\nshort: {json.dumps(short, ensure_ascii=False)}\n---\n{body}",
        encoding="utf-8",
    )
    return path


def text_answer(index: int, length: int) -> str:
    """A distinct text answer of exactly `length` characters."""
    base = (
        f"Reactie {index + 1}: mijn eerste gevoel is onbehagen. De wethouder zegt geen regels te willen "
        "buigen, maar vraagt dat feitelijk wel. Tegelijk wil ik de gezinnen bij de voedselbank niet laten "
        "vallen. Ik wil eerst weten wat de andere stichtingen precies fout deden en of iemand anders dan ik "
        "dit dossier kan beoordelen, want mijn eigen positie is niet neutraal meer. "
    )
    if index % 10 == 0:
        base = f"{LONG_WORD} {base}"
    return (base * 3)[: length - 1].rstrip() + "."


# How long the projector keeps a page (static/js/projector.js since ce5240c): 0.3 s a word on the
# page, at least 8 s and at most 45 s.
PAGE_SECONDS_MIN, SECONDS_PER_WORD, PAGE_SECONDS_MAX = 8, 0.3, 45
WORDS_ON_PAGE_JS = """
() => [...document.querySelectorAll("[data-pager]")]
  .filter((pager) => pager.nextElementSibling?.matches(".pager-indicator:not([hidden])"))
  .flatMap((pager) => [...pager.children].filter((item) => !item.hidden))
  .reduce((words, item) => words + (item.textContent.match(/\\S+/g) || []).length, 0)
"""


def noisy_order(keys: list[str], rng: random.Random) -> list[str]:
    """The keys roughly in their own order: the first usually high, the last usually low."""
    place = {key: index + rng.uniform(0, 5) for index, key in enumerate(keys)}
    return sorted(keys, key=place.__getitem__)


def check_pages_turn(projectors: dict, label: str, room: Rehearsal) -> None:
    """The text answers are paged: a visible "1/N" indicator that turns to "2/N" by itself, once the
    room had time to read the page (the brief expected ~8.5 s: see PAGE_SECONDS_MIN), and at once
    with a presenter's clicker (the right arrow key)."""
    watched = {}
    for size, page in projectors.items():
        indicator = page.locator(".pager-indicator:not([hidden])")
        expect(indicator).to_have_count(1, timeout=3000)
        first = indicator.inner_text().strip()
        match = re.fullmatch(r"1/(\d+)", first)
        assert match and int(match.group(1)) >= 2, f"{label} {size}: pager indicator {first!r}"
        words = page.evaluate(WORDS_ON_PAGE_JS)
        hold = min(PAGE_SECONDS_MAX, max(PAGE_SECONDS_MIN, words * SECONDS_PER_WORD))
        watched[size] = (indicator, int(match.group(1)), hold, time.monotonic())
    first_seen = min(seen for *_, seen in watched.values())
    time.sleep(max(0.0, 8.5 - (time.monotonic() - first_seen)))
    at_8_5 = {size: indicator.inner_text().strip() for size, (indicator, *_) in watched.items()}
    for size, (indicator, pages, hold, seen) in watched.items():
        page = projectors[size]
        expect(indicator).to_have_text(
            f"2/{pages}", timeout=max(500, (hold + 1.5 - (time.monotonic() - seen)) * 1000)
        )
        turned = time.monotonic() - seen
        print(
            f"{label} {size}: {pages} pages; {at_8_5[size]} at 8.5 s; 2/{pages} after {turned:.1f} s",
            f"(expected hold {hold:.1f} s)",
        )
        assert turned >= PAGE_SECONDS_MIN - 1, f"{label} {size}: the page turned after {turned:.1f} s"
        room.problems += room_problems(page, f"{label}, page 2, projector {size}", min_font=size == "1920")
        room.screenshot(page, f"{label}-page-2-projector-{size}")
        page.keyboard.press("ArrowRight")  # a presenter's clicker turns the page at once
        expect(indicator).to_have_text(f"3/{pages}", timeout=1000)


def test_bad_input_fits_or_pages(new_context, live_server, screenshot, tmp_path):
    started = time.monotonic()
    LOST_CLICKS.clear()
    folder = tmp_path / "bank"
    folder.mkdir()
    live_server.beraad("import", str(long_dilemma_file(folder)))
    assert len(LONG_CASE.split()) == 400
    assert all(190 <= len(text) <= 210 for text in LONG_OPTIONS + LONG_ALTERNATIVES)
    api = Api(live_server)
    room = Rehearsal(screenshot)

    # The dilemma method: the case, a choice between 8 long options, the ranking of 8 values.
    created = api.post("/sessions", {"method": "dilemmamethode", "dilemmas": ["lange-casus-wethouder"]})
    session_id, code = created["id"], created["join_code"]
    steps = created["steps"]
    count = len(steps)
    projectors = open_projectors(new_context, created["projector_url"])
    people = crowd(live_server.url, code, 200)
    api.post(f"/sessions/{session_id}/start")

    def go_to(key: str) -> tuple[int, str]:
        position = next(s["position"] for s in steps if s["key"] == key)
        while api.get(f"/sessions/{session_id}")["current_position"] < position:
            api.post(f"/sessions/{session_id}/step", {"direction": "next"})
        for page in projectors.values():
            settle(page, steps[position]["title"], f"Stap {position + 1} / {count}")
        return position, f"{position + 1:02d}-{key}"

    _, name = go_to("casus")
    for page in projectors.values():
        expect(page.locator(".case-chunk").first).to_be_visible()
    room.check_projectors(projectors, f"{name}-short-version")
    # The whole 400 words on the projector: a presenter's own text is shown as it is.
    api.patch(f"/sessions/{session_id}", {"case_consent": "redacted", "case_redacted": LONG_CASE})
    for page in projectors.values():
        expect(page.locator(".stage-meta")).not_to_contain_text("telefoon", timeout=3000)
        page.wait_for_timeout(400)
    room.check_projectors(projectors, name)

    position, name = go_to("moreel-dilemma")
    facilitator = open_facilitator(new_context, live_server, session_id)
    for text in LONG_OPTIONS[4:] + LONG_ALTERNATIVES:
        facilitator.fill("#alternative-text", text)
        act(facilitator, ".alternative-form button[type=submit]")
    choice = next(p for p in api.get(f"/sessions/{session_id}")["polls"] if p["position"] == position)
    assert [o["key"] for o in choice["options"]] == list("ABCDEFGH")
    facilitator.context.close()
    for page in projectors.values():
        expect(page.locator(".option-label")).to_have_count(8, timeout=4000)
        page.wait_for_timeout(400)
    room.check_projectors(projectors, f"{name}-8-options")
    api.post(f"/sessions/{session_id}/polls/{choice['id']}/open")
    for page in projectors.values():
        expect(page.locator(".poll-open")).to_be_visible(timeout=3000)
        page.wait_for_timeout(400)
    room.check_projectors(projectors, f"{name}-8-options-open")
    answer_all(people, choice["id"], [{"choice": "ABCDEFGH"[i % 8]} for i in range(200)])
    for page in projectors.values():
        expect(page.locator(".poll-open [data-live=answers]")).to_have_text("200", timeout=3000)
    api.post(f"/sessions/{session_id}/polls/{choice['id']}/close")
    api.post(f"/sessions/{session_id}/polls/{choice['id']}/reveal")
    for page in projectors.values():
        expect(page.locator(".chart-row")).not_to_have_count(0, timeout=3000)
        page.wait_for_timeout(400)
    room.check_projectors(projectors, f"{name}-8-options-results")

    position, name = go_to("waarden-en-normen")
    ranking = next(p for p in api.get(f"/sessions/{session_id}")["polls"] if p["position"] == position)
    keys = [o["key"] for o in ranking["options"]]
    assert len(keys) == 8
    api.post(f"/sessions/{session_id}/polls/{ranking['id']}/open")
    rng = random.Random(8)  # a spread with a clear top and bottom, the same every run
    answer_all(people, ranking["id"], [{"ranking": noisy_order(keys, rng)} for _ in range(200)])
    api.post(f"/sessions/{session_id}/polls/{ranking['id']}/close")
    api.post(f"/sessions/{session_id}/polls/{ranking['id']}/reveal")
    for page in projectors.values():
        expect(page.locator(".chart-ranking")).to_be_visible(timeout=3000)
        page.wait_for_timeout(400)
    room.check_projectors(projectors, f"{name}-ranking-results")
    for page in projectors.values():
        page.context.close()

    # CURA: 200 text answers as long as its text vote allows, paged on the projector.
    created = api.post("/sessions", {"method": "cura", "dilemmas": ["lange-casus-wethouder"]})
    session_id, code, steps = created["id"], created["join_code"], created["steps"]
    count = len(steps)
    projectors = open_projectors(new_context, created["projector_url"])
    people = crowd(live_server.url, code, 200)
    api.post(f"/sessions/{session_id}/start")
    position, name = go_to("vertragen")
    text_poll = next(p for p in api.get(f"/sessions/{session_id}")["polls"] if p["position"] == position)
    assert text_poll["type"] == "text"
    length = text_poll["max_length"]  # 280 in methods/cura.yaml; the app's ceiling is 1,000
    api.post(f"/sessions/{session_id}/polls/{text_poll['id']}/open")
    answer_all(people, text_poll["id"], [{"text": text_answer(i, length)} for i in range(200)])
    api.post(f"/sessions/{session_id}/polls/{text_poll['id']}/close")
    api.post(f"/sessions/{session_id}/polls/{text_poll['id']}/reveal")
    for page in projectors.values():
        expect(page.locator(".text-card:not([hidden])").first).to_be_visible(timeout=3000)
        page.wait_for_timeout(400)
    room.check_projectors(projectors, f"cura-{name}-200-texts-of-{length}")
    check_pages_turn(projectors, f"cura-{name}-200-texts-of-{length}", room)
    print(f"\nbad input: {time.monotonic() - started:.0f} s")
    room.finish()
