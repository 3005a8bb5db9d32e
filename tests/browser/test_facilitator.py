"""A facilitator runs the dilemma method from start to close, with the projector following."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import sign_in

pytestmark = pytest.mark.browser


def start_button(page):
    return page.locator("form[action$='/start'] button")


def test_facilitator_runs_the_dilemma_method_and_the_projector_follows(
    browser, live_server, demo, screenshot
):
    facilitator = browser.new_context(viewport={"width": 1440, "height": 900}, locale="nl-NL").new_page()
    sign_in(facilitator, live_server.url, "demo", demo["password"])
    facilitator.goto(demo["facilitator"])
    screenshot(facilitator, "01-facilitator-lobby", full_page=True)

    projector = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    projector.goto(demo["projector"])
    expect(projector.locator(".qr-frame svg")).to_be_visible()
    expect(projector.locator(".join-code-big")).to_have_text(demo["join"].rsplit("/", 1)[1])
    screenshot(projector, "02-projector-lobby-1920")

    start_button(facilitator).click()
    facilitator.wait_for_load_state()
    steps = facilitator.locator(".step-list li")
    count = steps.count()
    assert count == 11  # ten steps; the individual judgement shows as two (the vote, its reasons)

    for position in range(count):
        title = facilitator.locator(".step-title").inner_text()
        assert facilitator.locator(".step-list li.current .step-number").inner_text() == str(position + 1)
        # The projector, in its own browser context, follows within 2 seconds.
        expect(projector.locator(".stage-title")).to_have_text(title, timeout=2000)
        expect(projector.locator(".stage-meta")).to_contain_text(f"{position + 1} / {count}")
        if position == 3:
            screenshot(facilitator, "03-facilitator-step-4", full_page=True)
            facilitator.locator(".poll-card form[action$='/open'] button").click()
            facilitator.wait_for_load_state()
            expect(projector.locator(".poll-open")).to_be_visible(timeout=2000)
            screenshot(projector, "04-projector-poll-open-1920")
            facilitator.locator(".poll-card form[action$='/close'] button").click()
            facilitator.wait_for_load_state()
            expect(facilitator.locator(".poll-card .badge")).to_have_class(re.compile("badge-poll-closed"))
        if position == 8:
            facilitator.fill("#action-what", "Bespreek de druk op onderzoeksrapporten in het MT")
            facilitator.fill("#action-who", "afdelingshoofd")
            facilitator.fill("#action-due", "2026-12-15")
            facilitator.locator(".action-form button").click()
            facilitator.wait_for_load_state()
            expect(facilitator.locator(".action-list")).to_contain_text("afdelingshoofd")
        if position < count - 1:
            facilitator.keyboard.press("ArrowRight")  # the keyboard shortcut for "next"
            facilitator.wait_for_load_state()
            expect(facilitator.locator(".step-list li.current .step-number")).to_have_text(str(position + 2))

    projector.set_viewport_size({"width": 1280, "height": 720})
    screenshot(projector, "05-projector-last-step-1280")

    facilitator.on("dialog", lambda dialog: dialog.accept())
    facilitator.locator(".run-head form[action$='/close'] button").click()
    facilitator.wait_for_load_state()
    expect(facilitator.locator(".run-head .badge")).to_have_class(re.compile("badge-closed"))
    assert facilitator.locator("#notes-field").get_attribute("readonly") is not None
    assert facilitator.locator(".step-button").first.is_disabled()
    expect(projector.locator(".stage-title")).to_have_text(re.compile(".+"), timeout=2000)
    expect(projector.locator(".stage-meta")).not_to_contain_text("/ 10", timeout=2000)
    screenshot(facilitator, "06-facilitator-closed", full_page=True)


def test_notes_survive_a_reload_and_an_app_restart(browser, live_server, demo):
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    sign_in(page, live_server.url, "demo", demo["password"])
    page.goto(demo["facilitator"])
    start_button(page).click()
    page.wait_for_load_state()

    text = "De casusinbrenger voelde druk van boven: ‘maak het genuanceerder’ — waarde: onafhankelijkheid."
    page.fill("#notes-field", text)
    # Saved as you type: the status says so without any button.
    expect(page.locator("[data-save-status]")).to_have_text(re.compile(r"\S"), timeout=3000)
    page.wait_for_function("document.querySelector('[data-save-status]').textContent.length > 0")
    page.wait_for_timeout(1500)
    page.reload()
    expect(page.locator("#notes-field")).to_have_value(text)

    # Typing and then closing the tab right away: the note still arrives (sendBeacon on hide).
    page.fill("#notes-field", text + " Tweede zin.")
    page.locator("#next-form button").click()
    page.locator("#previous-form button").click()  # at once: the second action waits for the first
    expect(page.locator(".step-list li.current .step-number")).to_have_text("1")
    expect(page.locator("#notes-field")).to_have_value(text + " Tweede zin.")

    live_server.restart()
    page.reload()
    expect(page.locator("#notes-field")).to_have_value(text + " Tweede zin.")
    expect(page.locator(".step-list li.current .step-number")).to_have_text("1")


def test_another_facilitator_gets_403_and_the_projector_url_is_read_only(browser, live_server, demo):
    live_server.beraad("create-user", "tweede", "--password", "nog-een-wachtwoord")
    page = browser.new_context().new_page()
    sign_in(page, live_server.url, "tweede", "nog-een-wachtwoord")
    response = page.goto(demo["facilitator"])
    assert response.status == 403
    response = page.request.post(demo["projector"], fail_on_status_code=False)
    assert response.status in (400, 405)
    wrong = page.goto(live_server.url + "/p/not-the-right-token")
    assert wrong.status == 404
