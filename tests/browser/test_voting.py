"""Participants join by scanning the projector's QR code and vote from phone-sized browsers."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from .conftest import REQUIRE_CHROMIUM, sign_in

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "locale": "nl-NL"}


def decode_qr(path) -> str:
    """Read the QR code off a screenshot with zbarimg, as a phone camera would."""
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        message = "zbarimg not found: install Debian's zbar-tools to decode the QR code"
        if REQUIRE_CHROMIUM:
            pytest.fail(message)
        pytest.skip(message)
    output = subprocess.run(
        [zbarimg, "--raw", "-q", str(path)], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    return output.strip()


def go_to_step(page, number: int) -> None:
    page.locator(f".step-list li:nth-child({number}) button").click()
    page.wait_for_load_state()
    expect(page.locator(".step-list li.current .step-number")).to_have_text(str(number))


def vote(phone, option: str) -> None:
    phone.locator(f"input[name=choice][value={option}]").check()
    phone.locator("#poll button[type=submit]").click()
    phone.wait_for_load_state()
    expect(phone.locator("#poll .notice-success")).to_be_visible()


def open_poll(page) -> None:
    page.locator(".poll-card form[action$='/open'] button").click()
    page.wait_for_load_state()


def close_and_reveal(page) -> None:
    page.locator(".poll-card form[action$='/close'] button").click()
    page.wait_for_load_state()
    page.locator(".poll-card form[action$='/reveal'] button").click()
    page.wait_for_load_state()


def test_three_phones_join_by_qr_vote_change_and_contribute(browser, live_server, demo, screenshot):
    facilitator = browser.new_context(viewport={"width": 1440, "height": 900}, locale="nl-NL").new_page()
    sign_in(facilitator, live_server.url, "demo", demo["password"])
    facilitator.goto(demo["facilitator"])
    facilitator.locator("form[action$='/start'] button").click()
    facilitator.wait_for_load_state()

    projector = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    projector.goto(demo["projector"])
    join_url = decode_qr(screenshot(projector, "01-projector-qr"))
    assert join_url == demo["join"]

    phones = []
    for number in range(3):
        context = browser.new_context(**PHONE)
        phone = context.new_page()
        sizes = []
        phone.on("response", lambda response, sizes=sizes: sizes.append(len(response.body() or b"")))
        phone.goto(join_url)
        phone.wait_for_load_state("networkidle")
        if number == 0:
            # First load, everything included, stays small for weak connections.
            assert sum(sizes) < 50_000, f"first load was {sum(sizes)} bytes"
            screenshot(phone, "02-phone-join", full_page=True)
        expect(phone.locator(".privacy")).to_contain_text("3")
        phone.locator("form[action$='/join'] button").click()
        phone.wait_for_load_state()
        phones.append(phone)
    expect(projector.locator(".join-count [data-live=participants]")).to_have_text("3", timeout=3000)

    # Step 4 asks for a first position (A–D from the dilemma).
    go_to_step(facilitator, 4)
    open_poll(facilitator)
    for phone in phones:
        expect(phone.locator("#poll")).to_be_visible(timeout=5000)
    screenshot(phones[0], "03-phone-poll", full_page=True)
    vote(phones[0], "A")
    vote(phones[1], "B")
    vote(phones[2], "A")
    vote(phones[2], "B")  # a participant changes their mind while the poll is open
    expect(phones[2].locator("input[name=choice][value=B]")).to_be_checked()
    expect(projector.locator(".poll-open [data-live=answers]")).to_have_text("3", timeout=3000)
    # While open, the projector shows no distribution at all.
    assert projector.locator(".chart-rows").count() == 0

    close_and_reveal(facilitator)
    expect(projector.locator(".chart-rows")).to_be_visible(timeout=3000)
    expect(projector.locator(".chart-row").nth(0)).to_contain_text("33%")
    expect(projector.locator(".chart-row").nth(1)).to_contain_text("67%")
    screenshot(projector, "04-projector-results")

    # An anonymous contribution, released by the facilitator.
    go_to_step(facilitator, 5)
    # The phone follows by itself (it polls the state and reloads when the session moves on).
    expect(phones[1].locator(".step-count")).to_contain_text("5", timeout=5000)
    phones[1].locator("#contribute-section summary").click()  # the section is folded away
    phones[1].fill("#contribution", "Onafhankelijkheid van het onderzoek <script>alert(1)</script>")
    phones[1].locator("#contribute button.big-button:not(.secondary)").click()
    phones[1].wait_for_load_state()
    expect(phones[1].locator("[data-contribution-status]")).to_be_visible(timeout=2000)
    facilitator.reload()
    facilitator.locator("#contributions form[action$='/released'] button").click()
    facilitator.wait_for_load_state()
    facilitator.locator("#contributions form[action$='/show'] button").click()
    facilitator.wait_for_load_state()
    expect(projector.locator(".stage-contributions li")).to_have_text(
        "Onafhankelijkheid van het onderzoek <script>alert(1)</script>", timeout=3000
    )
    screenshot(projector, "05-projector-contribution")

    # Step 7: only two people answer, so below k=3 the projector shows only the count.
    go_to_step(facilitator, 7)
    open_poll(facilitator)
    for phone in phones[:2]:
        expect(phone.locator("#poll input[name=choice][value=C]")).to_be_visible(timeout=5000)
        vote(phone, "C")
    close_and_reveal(facilitator)
    expect(projector.locator(".results-hidden")).to_contain_text("2", timeout=3000)
    assert projector.locator(".chart-rows").count() == 0
    screenshot(projector, "06-projector-below-k")
    screenshot(phones[0], "07-phone-after", full_page=True)
