"""A facilitator runs the dilemma method from start to close, with the projector following."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import sign_in, start_session
from .geometry import assert_room_ok

pytestmark = pytest.mark.browser




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

    start_session(facilitator)
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
    start_session(page)

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


def test_the_sessions_list_and_the_bank_fit_a_laptop_and_their_actions_work(
    browser, live_server, demo, screenshot
):
    """At 1366x768: a session that ran offers its downloads, one in the lobby does not; archive,
    restore and delete (with its confirmation) work; dilemmas are ticked and printed as cards."""
    laptop = {"width": 1366, "height": 768}
    context = browser.new_context(viewport=laptop, locale="nl-NL", accept_downloads=True)
    page = context.new_page()
    sign_in(page, live_server.url, "demo", demo["password"])
    page.goto(demo["facilitator"])
    start_session(page)
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(".run-head form[action$='/close'] button").click()
    page.wait_for_load_state()
    live_server.beraad("demo", "--base-url", live_server.url)  # the closed demo is not reused: a new one
    page.goto(live_server.url + "/sessions/")
    rows = page.locator("table.table tbody tr")
    expect(rows).to_have_count(2)
    closed = rows.filter(has=page.locator(".badge-closed"))
    lobby = rows.filter(has=page.locator(".badge-lobby"))
    expect(closed.locator("td.downloads a")).to_have_count(5)
    expect(lobby.locator("td.downloads a")).to_have_count(0)
    screenshot(page, "10-sessions-list-1366", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scroll"
    assert_room_ok(
        page,
        {"table.table td.downloads": 13, "table.table td.session-actions button": 13,
         "table.table td.session-actions summary": 13, ".session-tabs": 13},
        "sessions list at 1366",
    )  # fmt: skip

    closed.locator("form[action$='/archive'] button").click()
    page.wait_for_load_state()
    expect(page.locator("table.table tbody tr")).to_have_count(1)
    page.locator(".session-tabs a").click()
    page.wait_for_load_state()
    screenshot(page, "11-sessions-archived-1366")
    page.locator("table.table form[action$='/unarchive'] button").click()
    page.wait_for_load_state()
    expect(page.locator("table.table tbody tr")).to_have_count(0)  # the archived tab is empty now
    page.locator(".session-tabs a").click()
    page.wait_for_load_state()
    expect(page.locator("table.table tbody tr")).to_have_count(2)

    lobby = page.locator("table.table tbody tr").filter(has=page.locator(".badge-lobby"))
    lobby.locator("details summary").click()
    delete = lobby.locator("form[action$='/delete'] button")
    delete.click()  # the box is not ticked: the browser refuses to send the form
    expect(page.locator("table.table tbody tr")).to_have_count(2)
    screenshot(page, "12-sessions-delete-confirm-1366")
    lobby.locator("input[name='confirm']").check()
    delete.click()
    page.wait_for_load_state()
    expect(page.locator("table.table tbody tr")).to_have_count(1)

    # Cards ticked on two pages of the bank are printed together.
    page.goto(live_server.url + "/bank/")
    picks = page.locator("input[name='id']")
    first = [picks.nth(0).get_attribute("value"), picks.nth(1).get_attribute("value")]
    picks.nth(0).check()
    picks.nth(1).check()
    expect(page.locator("[data-pick-count]")).to_have_text(re.compile(r"^2 "))
    page.locator(".pagination a[rel=next]").click()
    page.wait_for_load_state()
    expect(page.locator("[data-pick-count]")).to_have_text(re.compile(r"^2 "))
    third = picks.nth(0).get_attribute("value")
    assert third not in first
    picks.nth(0).check()
    expect(page.locator("[data-pick-count]")).to_have_text(re.compile(r"^3 "))
    screenshot(page, "13-bank-print-cards-1366")
    assert_room_ok(
        page, {".card-print-bar button[type=submit]": 13, "[data-pick-count]": 13, "[data-clear-picks]": 13},
        "bank print bar at 1366",
    )
    with page.expect_request(re.compile(r".*/bank/cards\.pdf\?.*")) as sent:
        with page.expect_download() as download:
            page.locator(".card-print-bar button[type=submit]").click()
    asked = parse_qs(urlsplit(sent.value.url).query)["id"]
    assert sorted(asked) == sorted([*first, third])
    body = Path(download.value.path()).read_bytes()
    assert body.startswith(b"%PDF") and download.value.suggested_filename == "dilemmakaarten.pdf"
    page.locator("[data-clear-picks]").click()
    expect(page.locator("input[name='id']:checked")).to_have_count(0)
    page.goto(live_server.url + "/bank/")
    expect(page.locator("input[name='id']:checked")).to_have_count(0)
    expect(page.locator("[data-pick-count]")).to_be_hidden()
