"""What a participant experiences on a 360x640 phone: joining, voting, ranking, contributing, following.

The facilitator drives the demo session (dilemmamethode) from a desktop browser; every phone is its
own browser context, so its own participant. The facilitator screen updates in place and the phone
follows the room in place (phone.js), so the tests wait for DOM conditions, never for page loads.
Layout is judged from bounding boxes (geometry.py): in the viewport, not clipped, no sideways scroll.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from .conftest import sign_in, start_session
from .geometry import problems_in_view, visible_boxes

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 360, 640
PHONE = {
    "viewport": {"width": WIDTH, "height": HEIGHT}, "is_mobile": True, "has_touch": True, "locale": "nl-NL",
}  # fmt: skip
DESK = {"viewport": {"width": 1440, "height": 900}, "locale": "nl-NL"}
# The demo's steps (1-based, as people count them) with a vote.
CHOICE_STEP, RANKING_STEP, OWN_JUDGEMENT_STEP = 4, 5, 7
VALUES = [
    "Rechtvaardigheid", "Loyaliteit", "Transparantie", "Zorgvuldigheid",
    "Autonomie", "Veiligheid", "Vertrouwen", "Integriteit",
]  # fmt: skip
VALUE_KEYS = [v.lower() for v in VALUES]
# Resolves once scrollY has stayed the same for 10 animation frames.
SETTLE_JS = """() => new Promise((resolve) => {
  let last = -1, same = 0;
  const tick = () => {
    if (window.scrollY !== last) { last = window.scrollY; same = 0; } else if (++same >= 10) return resolve();
    requestAnimationFrame(tick);
  };
  tick();
})"""


# --- the facilitator ------------------------------------------------------------------------------
def facilitator(browser, live_server, demo, start: bool = True):
    page = browser.new_context(**DESK).new_page()
    sign_in(page, live_server.url, "demo", demo["password"])
    page.goto(demo["facilitator"])
    if start:
        start_session(page)
    return page


def go_to_step(page, number: int) -> None:
    page.locator(f".step-list form:has(input[name=position][value='{number - 1}']) button").click()
    expect(page.locator(".step-list li.current .step-number")).to_have_text(str(number))


def next_step(page) -> int:
    number = int(page.locator(".step-list li.current .step-number").inner_text()) + 1
    page.locator("#next-form button").click()
    expect(page.locator(".step-list li.current .step-number")).to_have_text(str(number))
    return number


def open_poll(page) -> None:
    page.locator(".poll-card form[action$='/open'] button").click()
    expect(page.locator(".poll-card form[action$='/close'] button")).to_be_visible()


def close_and_reveal(page) -> None:
    page.locator(".poll-card form[action$='/close'] button").click()
    expect(page.locator(".poll-card form[action$='/reveal'] button")).to_be_visible()
    page.locator(".poll-card form[action$='/reveal'] button").click()
    expect(page.locator(".poll-card form[action$='/hide'] button")).to_be_visible()


# --- the phone ------------------------------------------------------------------------------------
def new_phone(browser, join_url: str, **options):
    page = browser.new_context(**{**PHONE, **options}).new_page()
    page.goto(join_url)
    return page


def join(page) -> None:
    with page.expect_navigation():
        page.locator("#join-button").click()
    expect(page.locator("#phone-stage")).to_be_attached()


def joined_phone(browser, join_url: str, **options):
    page = new_phone(browser, join_url, **options)
    join(page)
    return page


def scroll_width(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def assert_no_sideways_scroll(page, where: str) -> None:
    width = scroll_width(page)
    assert width <= WIDTH, f"{where}: the page scrolls sideways, scrollWidth {width} > {WIDTH}"


def assert_in_view(page, selector: str, where: str) -> None:
    problems = problems_in_view(page, selector)
    assert not problems, f"{where}: {selector} not fully in view:\n  " + "\n  ".join(problems)


def wait_in_view(page, selector: str, seconds: float) -> list[str]:
    """Poll until every rendered match of selector is fully in view (or time runs out): its last problems."""
    deadline = time.monotonic() + seconds
    while True:
        problems = problems_in_view(page, selector)
        if not problems or time.monotonic() >= deadline:
            return problems
        page.wait_for_timeout(50)


def settle(page) -> None:
    """Wait until the page stops scrolling (phone.js scrolls smoothly to a vote that opens)."""
    page.evaluate(SETTLE_JS)


def main_frame_navigations(page) -> list[str]:
    seen: list[str] = []
    page.on("framenavigated", lambda frame: seen.append(frame.url) if frame == page.main_frame else None)
    return seen


def step_count(page):
    return page.locator("#phone-stage .step-count")


def tap_choice(page, key: str) -> None:
    page.locator(f"#poll label.choice:has(input[name=choice][value='{key}'])").tap()


def send_answer(page) -> None:
    page.locator("#poll [data-answer-button]").tap()


def box_summary(boxes: list[dict]) -> str:
    return ", ".join(f"{b['text'][:12]!r} y={b['y']:.0f} h={b['height']:.0f}" for b in boxes)


# --- 1 ------------------------------------------------------------------------------------------
def test_join_button_in_view_and_no_sideways_scroll(browser, live_server, demo, screenshot):
    desk = facilitator(browser, live_server, demo, start=False)
    phone = new_phone(browser, demo["join"])
    phone.wait_for_load_state("load")
    screenshot(phone, "01-join")
    button = visible_boxes(phone, "#join-button")
    print(f"join button: {button}")
    assert phone.evaluate("window.scrollY") == 0
    assert_in_view(phone, "#join-button", "join page, first load")
    assert not phone.locator("details.privacy-more").evaluate("details => details.open")
    assert_no_sideways_scroll(phone, "join page")
    phone.locator("details.privacy-more summary").click()
    expect(phone.locator("details.privacy-more .privacy")).to_be_visible()
    assert_no_sideways_scroll(phone, "join page, privacy unfolded")
    # The full description opens from there, readable on the phone (its tables scroll on their own).
    description = new_phone(browser, demo["join"])
    description.locator("details.privacy-more summary").click()
    with description.expect_navigation():
        description.locator("details.privacy-more a[href='/privacy']").click()
    expect(description.locator("h1")).to_be_visible()
    screenshot(description, "01-privacy", full_page=True)
    assert_no_sideways_scroll(description, "privacy description")
    description.context.close()

    join(phone)
    expect(phone.locator("#phone-stage .live h1")).to_be_visible()
    screenshot(phone, "02-lobby")
    assert_no_sideways_scroll(phone, "lobby")

    start_session(desk)
    go_to_step(desk, CHOICE_STEP)
    open_poll(desk)
    expect(phone.locator("#poll label.choice")).to_have_count(4, timeout=5000)
    settle(phone)
    screenshot(phone, "03-vote")
    assert_no_sideways_scroll(phone, "vote")
    tap_choice(phone, "A")
    send_answer(phone)
    expect(phone.locator("[data-answer-status]")).to_contain_text("je koos A", timeout=2000)

    close_and_reveal(desk)
    expect(phone.locator("#results .chart")).to_be_visible(timeout=3000)
    screenshot(phone, "04-results")
    assert_no_sideways_scroll(phone, "results")


# --- 2 ------------------------------------------------------------------------------------------
def test_choice_vote_fits_and_is_saved_in_place(browser, live_server, demo, screenshot):
    desk = facilitator(browser, live_server, demo)
    phone = joined_phone(browser, demo["join"])
    go_to_step(desk, CHOICE_STEP)
    open_poll(desk)
    expect(phone.locator("#poll label.choice")).to_have_count(4, timeout=5000)
    settle(phone)
    screenshot(phone, "01-poll")

    # The question and the four cards, as the phone shows them after following the room.
    question = visible_boxes(phone, "#poll .question")
    cards = visible_boxes(phone, "#poll label.choice")
    layout = [p for s in ("#poll .question", "#poll label.choice") for p in problems_in_view(phone, s)]
    top, bottom = question[0]["y"], cards[-1]["y"] + cards[-1]["height"]
    measured = (
        f"scrollY {phone.evaluate('window.scrollY')}; question y={top:.0f} h={question[0]['height']:.0f}; "
        f"cards: {box_summary(cards)}; question top to card D bottom: {bottom - top:.0f}px"
    )
    print(measured)
    print(f"send button after following: {visible_boxes(phone, '#poll [data-answer-button]')}")

    navigations = main_frame_navigations(phone)
    tap_choice(phone, "B")
    expect(phone.locator("#poll input[name=choice][value=B]")).to_be_checked()
    screenshot(phone, "02-tapped-B")
    started = time.monotonic()
    send_answer(phone)
    status = phone.locator("[data-answer-status]")
    expect(status).to_contain_text(re.compile(r"je koos B\b"), timeout=2000)
    status_problems = wait_in_view(phone, "[data-answer-status]", 2 - (time.monotonic() - started))
    print(f"status after B: {visible_boxes(phone, '[data-answer-status]')}")
    screenshot(phone, "03-saved-B")
    assert not status_problems, "status for B not in view within 2 s:\n  " + "\n  ".join(status_problems)

    tap_choice(phone, "C")
    started = time.monotonic()
    send_answer(phone)
    expect(status).to_contain_text(re.compile(r"je koos C\b"), timeout=2000)
    status_problems = wait_in_view(phone, "[data-answer-status]", 2 - (time.monotonic() - started))
    screenshot(phone, "04-saved-C")
    assert not status_problems, "status for C not in view within 2 s:\n  " + "\n  ".join(status_problems)
    assert navigations == [], f"the phone navigated while voting: {navigations}"
    expect(desk.locator(".poll-card [data-live=answers]")).to_have_text("1", timeout=3000)

    assert not layout, (
        "question and four options not together in the 360x640 viewport after following:\n  "
        + "\n  ".join(layout)
        + f"\n  measured: {measured}"
    )


# --- 3 ------------------------------------------------------------------------------------------
def test_touched_option_follows_step_change_and_contribution_draft_is_kept(
    browser, live_server, demo, screenshot
):
    desk = facilitator(browser, live_server, demo)
    phone = joined_phone(browser, demo["join"])
    go_to_step(desk, CHOICE_STEP)
    open_poll(desk)
    expect(phone.locator("#poll label.choice")).to_have_count(4, timeout=5000)
    navigations = main_frame_navigations(phone)

    tap_choice(phone, "B")  # touched, never sent
    expect(phone.locator("#poll input[name=choice][value=B]")).to_be_checked()
    next_step(desk)
    started = time.monotonic()
    expect(step_count(phone)).to_have_text(re.compile(rf"^Stap {CHOICE_STEP + 1} van \d+$"), timeout=3000)
    print(f"touched option: followed in {time.monotonic() - started:.1f}s")
    screenshot(phone, "01-followed-after-touch")
    notice = phone.locator("[data-moved-on-notice]")
    print(f"moved-on notice hidden={notice.is_hidden()} text={notice.inner_text()!r}")
    screenshot(phone, "01-followed-after-touch-full", full_page=True)

    # An unsent contribution survives the next step change: the form is outside the live region.
    phone.locator("#contribute-section summary").click()
    draft = "Wie beschermt de onderzoekers met een tijdelijk contract?"
    phone.locator("#contribution").fill(draft)
    next_step(desk)
    expect(step_count(phone)).to_have_text(re.compile(rf"^Stap {CHOICE_STEP + 2} van \d+$"), timeout=3000)
    expect(phone.locator("#contribution")).to_have_value(draft)
    expect(phone.locator("#contribute-section")).to_have_attribute("open", "")
    expect(phone.locator("#contribute [data-send-button]")).to_be_enabled()
    screenshot(phone, "02-draft-kept")
    print(f"after the second step change the moved-on notice is hidden={notice.is_hidden()}")
    assert navigations == [], f"the phone navigated while following: {navigations}"


# --- 4 ------------------------------------------------------------------------------------------
def test_ranking_by_taps_with_undo_and_keyboard(browser, live_server, demo, screenshot):
    desk = facilitator(browser, live_server, demo)
    phone = joined_phone(browser, demo["join"])
    go_to_step(desk, RANKING_STEP)
    open_poll(desk)
    taps = phone.locator("#poll button.rank-tap")
    expect(taps).to_have_count(8, timeout=5000)
    expect(phone.locator("#poll [data-rank-fallback]")).to_be_hidden()
    expect(taps).to_have_text(VALUES)
    settle(phone)
    screenshot(phone, "01-ranking")
    assert_no_sideways_scroll(phone, "ranking")
    navigations = main_frame_navigations(phone)

    for n in range(len(VALUES)):
        taps.nth(n).tap()
        expect(taps.nth(n)).to_have_attribute("aria-pressed", "true")
        expect(taps.nth(n).locator(".rank-number")).to_have_text(str(n + 1))
    undo = phone.locator(".rank-tools button", has_text="Ongedaan maken")
    undo.tap()
    expect(taps.nth(7)).to_have_attribute("aria-pressed", "false")
    expect(taps.nth(7).locator(".rank-number")).to_have_text("")
    expect(taps.nth(6).locator(".rank-number")).to_have_text("7")
    taps.nth(7).tap()
    expect(taps.nth(7).locator(".rank-number")).to_have_text("8")
    screenshot(phone, "02-ranked")

    started = time.monotonic()
    send_answer(phone)
    status = phone.locator("[data-answer-status]")
    # The status names the first three (the whole order of eight would fill the screen).
    expect(status).to_contain_text("jouw volgorde: " + ", ".join(VALUES[:3]) + ", …", timeout=2000)
    status_problems = wait_in_view(phone, "[data-answer-status]", 2 - (time.monotonic() - started))
    print(f"ranking status: {visible_boxes(phone, '[data-answer-status]')}")
    screenshot(phone, "03-ranking-saved")
    assert not status_problems, "ranking status not in view within 2 s:\n  " + "\n  ".join(status_problems)
    expect(desk.locator(".poll-card [data-live=answers]")).to_have_text("1", timeout=3000)
    assert navigations == []

    # Keyboard: start again, then reach the tap buttons with Tab and press them with Space and Enter.
    phone.locator(".rank-tools button", has_text="Opnieuw").click()
    for n in range(8):
        expect(taps.nth(n)).to_have_attribute("aria-pressed", "false")
    phone.evaluate("document.activeElement && document.activeElement.blur()")
    focused = ""
    for _ in range(40):
        phone.keyboard.press("Tab")
        focused = phone.evaluate("document.activeElement.className")
        if "rank-tap" in focused:
            break
    assert "rank-tap" in focused, f"no .rank-tap reached with Tab (last focus: {focused!r})"
    first = phone.evaluate("document.activeElement.textContent")
    assert first.strip() == VALUES[0]
    phone.keyboard.press("Space")
    expect(taps.nth(0)).to_have_attribute("aria-pressed", "true")
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.classList.contains('rank-tap')")
    phone.keyboard.press("Enter")
    expect(taps.nth(1)).to_have_attribute("aria-pressed", "true")
    expect(taps.nth(1).locator(".rank-number")).to_have_text("2")
    screenshot(phone, "04-keyboard")


# --- 5 ------------------------------------------------------------------------------------------
def test_results_appear_after_reveal_and_only_a_count_below_k(browser, live_server, demo, screenshot):
    desk = facilitator(browser, live_server, demo)
    phones = [joined_phone(browser, demo["join"]) for _ in range(3)]
    go_to_step(desk, CHOICE_STEP)
    open_poll(desk)
    for phone, key in zip(phones, "ABB", strict=True):
        expect(phone.locator("#poll label.choice")).to_have_count(4, timeout=5000)
        tap_choice(phone, key)
        send_answer(phone)
        expect(phone.locator("[data-answer-status]")).to_contain_text(f"je koos {key}", timeout=2000)
    expect(desk.locator(".poll-card [data-live=answers]")).to_have_text("3", timeout=3000)

    close_and_reveal(desk)
    for phone in phones:
        expect(phone.locator("#results .chart")).to_be_visible(timeout=3000)
    rows = phones[0].locator("#results .chart-row")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("33%")
    expect(rows.nth(1)).to_contain_text("67%")
    settle(phones[0])
    print(f"results in view? {problems_in_view(phones[0], '#results .chart') or 'yes'}")
    print(f"results boxes: {visible_boxes(phones[0], '#results')}")
    screenshot(phones[0], "01-results")
    screenshot(phones[0], "01-results-full", full_page=True)
    assert_no_sideways_scroll(phones[0], "results with chart")

    # Below k=3: two answers, so only the count.
    go_to_step(desk, OWN_JUDGEMENT_STEP)
    open_poll(desk)
    for phone in phones[:2]:
        expect(phone.locator("#poll label.choice")).to_have_count(4, timeout=5000)
        tap_choice(phone, "C")
        send_answer(phone)
        expect(phone.locator("[data-answer-status]")).to_contain_text("je koos C", timeout=2000)
    close_and_reveal(desk)
    for phone in phones:
        expect(phone.locator("#results .results-hidden")).to_contain_text("2", timeout=3000)
        expect(phone.locator("#results .chart-rows")).to_have_count(0)
    screenshot(phones[2], "02-below-k")
    assert_no_sideways_scroll(phones[2], "results below k")


# --- 6 ------------------------------------------------------------------------------------------
def test_without_javascript_vote_and_refused_ranking_keeps_choices(browser, live_server, demo, screenshot):
    desk = facilitator(browser, live_server, demo)
    phone = new_phone(browser, demo["join"], java_script_enabled=False)
    assert_in_view(phone, "#join-button", "join page without JavaScript")
    join(phone)
    go_to_step(desk, CHOICE_STEP)
    open_poll(desk)
    with phone.expect_navigation():
        phone.locator("a[data-refresh]").click()  # without JavaScript the phone does not follow by itself
    expect(phone.locator("#poll label.choice")).to_have_count(4)
    screenshot(phone, "01-nojs-poll")
    tap_choice(phone, "B")
    with phone.expect_navigation():
        send_answer(phone)
    assert phone.url.endswith("#poll"), phone.url
    expect(phone.locator("[data-answer-status]")).to_contain_text(re.compile(r"je koos B\b"))
    print(f"no-JS saved status: {visible_boxes(phone, '[data-answer-status]')}")
    screenshot(phone, "02-nojs-saved")
    assert_in_view(phone, "[data-answer-status]", "no-JS vote, after the redirect")
    assert_no_sideways_scroll(phone, "no-JS vote")

    go_to_step(desk, RANKING_STEP)
    open_poll(desk)
    with phone.expect_navigation():
        phone.locator("a[data-refresh]").click()
    selects = phone.locator("#poll select[name=ranking]")
    expect(selects).to_have_count(8)
    for n in range(8):
        expect(selects.nth(n)).to_be_visible()
    chosen = [VALUE_KEYS[0], VALUE_KEYS[0], *VALUE_KEYS[2:]]  # the first value twice, the second not at all
    for n, key in enumerate(chosen):
        selects.nth(n).select_option(key)
    with phone.expect_response(lambda r: r.request.method == "POST" and "/polls/" in r.url) as answered:
        send_answer(phone)
    phone.wait_for_load_state()
    assert answered.value.status == 422
    status = phone.locator("[data-answer-status]")
    expect(status).to_be_visible()
    expect(status).to_have_class(re.compile(r"\bnotice-error\b"))
    error_box = visible_boxes(phone, "[data-answer-status]")
    print(f"no-JS 422: scrollY {phone.evaluate('window.scrollY')}, error {error_box}")
    screenshot(phone, "03-nojs-ranking-refused")
    assert [selects.nth(n).input_value() for n in range(8)] == chosen
    assert_no_sideways_scroll(phone, "no-JS refused ranking")
    assert_in_view(phone, "[data-answer-status]", "no-JS refused ranking (422)")


# --- 7 ------------------------------------------------------------------------------------------
def test_too_long_contribution_refused_before_sending_and_normal_one_confirmed(
    browser, live_server, demo, screenshot
):
    desk = facilitator(browser, live_server, demo)
    phone = joined_phone(browser, demo["join"])
    sent: list[str] = []  # every contribution the phone posts
    phone.on("request", lambda r: r.method == "POST" and "/contributions" in r.url and sent.append(r.url))
    phone.locator("#contribute-section summary").click()
    field = phone.locator("#contribution")
    expect(field).to_be_visible()
    field.fill(("waarde " * 1500)[:10_000])
    assert len(field.input_value()) == 10_000, "the field cut the text instead of refusing it"
    counter = phone.locator("#contribute [data-counter]")
    expect(counter).to_have_class(re.compile(r"\btoo-long\b"))
    expect(counter).to_contain_text("500")
    send = phone.locator("#contribute [data-send-button]")
    expect(send).to_be_disabled()
    print(f"too long: counter {visible_boxes(phone, '#contribute [data-counter]')}")
    look = "b => { const s = getComputedStyle(b); return [s.backgroundColor, s.color, s.opacity, s.cursor]; }"
    print(f"disabled send button looks like: {send.evaluate(look)}")
    screenshot(phone, "01-too-long")
    assert_in_view(phone, "#contribute [data-counter]", "counter of a too long contribution")
    send.click(force=True)  # a tap on the disabled button
    phone.evaluate("document.getElementById('contribute').requestSubmit()")  # any other way to submit
    desk.reload()
    expect(desk.locator("#contributions")).to_be_visible()
    expect(desk.locator("#contributions .contribution-list li")).to_have_count(0)
    assert sent == [], f"a too long contribution was sent: {sent}"

    field.fill("transparantie weegt voor mij het zwaarst in deze casus")
    expect(counter).not_to_have_class(re.compile(r"\btoo-long\b"))
    expect(send).to_be_enabled()
    started = time.monotonic()
    send.tap()
    status = phone.locator("[data-contribution-status]")
    expect(status).to_be_visible(timeout=2000)
    problems = wait_in_view(phone, "[data-contribution-status]", 2 - (time.monotonic() - started))
    print(f"contribution status: {visible_boxes(phone, '[data-contribution-status]')}")
    screenshot(phone, "02-contribution-sent")
    assert not problems, "contribution status not in view within 2 s:\n  " + "\n  ".join(problems)
    expect(field).to_have_value("")
    desk.reload()
    expect(desk.locator("#contributions .contribution-list li")).to_have_count(1)
    assert len(sent) == 1


# --- 8 ------------------------------------------------------------------------------------------
def test_offline_phone_catches_up(browser, live_server, demo, screenshot):
    desk = facilitator(browser, live_server, demo)
    phone = joined_phone(browser, demo["join"])
    expect(step_count(phone)).to_have_text(re.compile(r"^Stap 1 van \d+$"))
    phone.context.set_offline(True)
    next_step(desk)
    current = next_step(desk)
    phone.wait_for_timeout(5000)  # the phone is away for a while (the brief's 5 s)
    expect(step_count(phone)).to_have_text(re.compile(r"^Stap 1 van \d+$"))
    screenshot(phone, "01-offline")
    phone.context.set_offline(False)
    started = time.monotonic()
    expect(step_count(phone)).to_have_text(re.compile(rf"^Stap {current} van \d+$"), timeout=3000)
    print(f"caught up in {time.monotonic() - started:.1f}s")
    screenshot(phone, "02-caught-up")


# --- 9 ------------------------------------------------------------------------------------------
def test_a_vote_sent_after_the_poll_closed_is_refused_in_view_and_the_phone_catches_up(
    browser, live_server, demo, screenshot
):
    desk = facilitator(browser, live_server, demo)
    phone = joined_phone(browser, demo["join"])
    go_to_step(desk, 4)
    open_poll(desk)
    expect(phone.locator("#poll")).to_be_visible(timeout=3000)
    phone.route("**/state", lambda route: route.abort())  # the phone misses the close for a moment
    desk.locator(".poll-card form[action$='/close'] button").click()
    expect(desk.locator(".poll-card form[action$='/reveal'] button")).to_be_visible()
    tap_choice(phone, "B")
    send_answer(phone)
    status = phone.locator("[data-answer-status]")
    expect(status).to_have_class(re.compile("notice-error"), timeout=2000)
    expect(status).to_contain_text("gesloten")
    assert not wait_in_view(phone, "[data-answer-status]", 2)
    screenshot(phone, "09-sent-after-close")
    phone.unroute("**/state")
    expect(phone.locator("#results")).to_be_visible(timeout=3000)  # the step as it is now
    expect(phone.locator("#poll")).to_have_count(0)


# --- 10 -----------------------------------------------------------------------------------------
def test_an_unsent_text_answer_is_kept_when_the_room_moves_on(browser, live_server, screenshot):
    from .test_room import Api

    api = Api(live_server)
    session = api.post("/sessions", {"method": "cura", "dilemmas": ["rapport-afzwakken"], "title": "Proef"})
    api.post(f"/sessions/{session['id']}/start")
    api.post(f"/sessions/{session['id']}/step", {"direction": "next"})  # "U – Uitstellen": a text poll
    phone = joined_phone(browser, f"{live_server.url}/j/{session['join_code']}")
    poll_id = phone.evaluate(
        "fetch(location.pathname + '/state').then((r) => r.json()).then((s) => s.poll.id)"
    )
    api.post(f"/sessions/{session['id']}/polls/{poll_id}/open")
    draft = "Mijn eerste gevoel is onrust, want de druk komt van hogerop."
    phone.locator("#text-answer").fill(draft, timeout=3000)
    api.post(f"/sessions/{session['id']}/step", {"direction": "next"})  # closes the vote, moves on
    notice = phone.locator("[data-moved-on-notice]")
    expect(notice).to_be_visible(timeout=3000)
    expect(notice.locator("textarea")).to_have_value(draft)
    expect(step_count(phone)).to_contain_text("3")
    screenshot(phone, "10-moved-on-with-draft")


def test_an_answer_sent_while_the_database_is_away_is_sent_again_by_itself(browser, live_server, demo):
    desk = facilitator(browser, live_server, demo)
    go_to_step(desk, CHOICE_STEP)
    open_poll(desk)
    phone = joined_phone(browser, demo["join"])
    expect(phone.locator("#poll label.choice")).to_have_count(4, timeout=5000)
    refused = []

    def database_away_once(route):
        if not refused:  # what the server answers while it cannot reach its database
            refused.append(route.request.url)
            body = '{"error": {"code": "unavailable", "message": "The database is briefly unavailable."}}'
            route.fulfill(
                status=503, headers={"Retry-After": "1"}, content_type="application/json", body=body
            )  # noqa: E501
        else:
            route.continue_()

    phone.route("**/polls/*", database_away_once)
    tap_choice(phone, "B")
    send_answer(phone)
    expect(phone.locator("[data-answer-status]")).to_contain_text("je koos B", timeout=5000)
    assert len(refused) == 1
    expect(desk.locator("[data-live=answers]").first).to_have_text("1", timeout=5000)  # counted once
