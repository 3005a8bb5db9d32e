"""Accounts and roles through the test client: sign in and out, sessions, passwords, admin pages."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from beraad.auth import service as accounts
from beraad.auth import tokens
from beraad.bank import loader
from beraad.bank import service as bank
from beraad.extensions import db
from beraad.i18n import LANGUAGE_COOKIE
from beraad.models import Dilemma, User

from .conftest import DATA_DIR, PASSWORD

NEW_PASSWORD = "a brand new passphrase"
DRAFT = "concept-neutraliteit"
PUBLISHED = ("geschenk-leverancier", "rapport-bijstellen")
WRONG_LOGIN = "Unknown username or wrong password."
LAST_ADMIN = "The last enabled administrator cannot be demoted or disabled."


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def english(client):
    """Show the interface in English, so messages can be asserted whatever translations exist."""
    client.set_cookie(LANGUAGE_COOKIE, "en")


def new_client(app, session: str | None = None):
    """A second browser; with session, one that presents a copied session cookie."""
    other = app.test_client()
    other.set_cookie(LANGUAGE_COOKIE, "en")
    if session is not None:
        other.set_cookie(app.config["SESSION_COOKIE_NAME"], session)
    return other


def session_cookie(client) -> str | None:
    cookie = client.get_cookie(client.application.config["SESSION_COOKIE_NAME"])
    return cookie.value if cookie else None


def login(client, username: str, password: str = PASSWORD, next: str | None = None):
    query = {"next": next} if next is not None else None
    return client.post("/login", query_string=query, data={"username": username, "password": password})


def is_signed_in(client) -> bool:
    """True when the client's cookie opens a page that needs a signed-in user."""
    response = client.get("/account")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and urlsplit(response.location).path == "/login"
    return False


def user_row(app, username: str) -> dict | None:
    """The stored account, read straight from the database."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            return None
        return {
            "id": user.id,
            "role": user.role,
            "is_enabled": user.is_enabled,
            "session_version": user.session_version,
            "password_hash": user.password_hash,
            "must_change_password": user.must_change_password,
        }


def count_users(app, username: str | None = None) -> int:
    with app.app_context():
        query = select(func.count()).select_from(User)
        if username is not None:
            query = query.where(User.username == username)
        return db.session.scalar(query)


def set_enabled(app, username: str, enabled: bool) -> None:
    with app.app_context():
        user = accounts.get_user_by_username(username)
        user.is_enabled = enabled
        db.session.commit()


def mentions_minimum_length(page: str) -> bool:
    """True when the page tells the minimum password length ("at least 10", "between 10 and ...")."""
    return re.search(r"\b10\b[^<]*characters", page) is not None


def location_path(response) -> str:
    """The redirect target; fails when it points to another host."""
    parts = urlsplit(response.location)
    assert not parts.scheme and not parts.netloc, response.location
    return parts.path + (f"?{parts.query}" if parts.query else "")


def update_user(client, user_id: int, role: str, enabled: bool):
    data = {f"u{user_id}-role": role}
    if enabled:
        data[f"u{user_id}-enabled"] = "y"
    return client.post(f"/admin/users/{user_id}", data=data, follow_redirects=True)


@pytest.fixture
def dilemmas(app):
    """The three test dilemmas: one draft, two published."""
    with app.app_context():
        bank.import_dilemmas(loader.load_bank(DATA_DIR / "bank"))
        db.session.commit()
        statuses = dict(db.session.execute(select(Dilemma.slug, Dilemma.status)).all())
    assert statuses[DRAFT] == "draft"
    assert all(statuses[slug] == "published" for slug in PUBLISHED)
    return statuses


@pytest.fixture
def admin(client, auth):
    """The client, signed in as the only administrator, "root"."""
    assert auth.login("root", role="admin").status_code == 302
    return client


# --- signing in ------------------------------------------------------------------------------


def test_login_success_redirects_and_signs_in(client, create_user):
    create_user("anna")
    response = login(client, "anna")
    assert response.status_code == 302
    assert location_path(response) == "/"
    assert is_signed_in(client)


def test_login_accepts_username_in_other_case_and_with_spaces(client, create_user):
    create_user("anna")
    assert login(client, "  Anna ").status_code == 302
    assert is_signed_in(client)


def test_wrong_password_shows_error_and_does_not_sign_in(client, create_user):
    create_user("anna")
    response = login(client, "anna", "not the password")
    assert response.status_code == 200
    assert WRONG_LOGIN in response.text
    assert not is_signed_in(client)


def test_unknown_user_gets_the_same_error(client):
    response = login(client, "nobody")
    assert response.status_code == 200
    assert WRONG_LOGIN in response.text
    assert not is_signed_in(client)


def test_disabled_account_cannot_sign_in(app, client, create_user):
    create_user("anna")
    set_enabled(app, "anna", False)
    response = login(client, "anna")
    assert response.status_code == 200
    assert WRONG_LOGIN in response.text
    assert not is_signed_in(client)


def test_empty_form_does_not_sign_in(client, create_user):
    create_user("anna")
    response = client.post("/login", data={"username": "anna", "password": ""})
    assert response.status_code == 200
    assert not is_signed_in(client)


# --- the next parameter ----------------------------------------------------------------------


def test_relative_next_is_honoured(client, create_user):
    create_user("anna")
    response = login(client, "anna", next="/bank/?q=kerst")
    assert response.status_code == 302
    assert location_path(response) == "/bank/?q=kerst"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "http://evil.example",
        "//evil.example/phish",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "https:evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_next_to_another_site_is_not_followed(client, create_user, target):
    create_user("anna")
    response = login(client, "anna", next=target)
    assert response.status_code == 302
    assert location_path(response) == "/"
    assert is_signed_in(client)


def test_signed_in_user_visiting_login_is_not_sent_off_site(client, auth):
    auth.login("anna", role="facilitator")
    response = client.get("/login", query_string={"next": "//evil.example"})
    assert response.status_code == 302
    assert location_path(response) == "/"


# --- sessions --------------------------------------------------------------------------------


def test_session_rotates_at_login(app, client, create_user):
    user_id = create_user("anna")
    with client.session_transaction() as before:
        before["planted"] = "set before sign-in"
    cookie_before = session_cookie(client)

    login(client, "anna")

    assert session_cookie(client) != cookie_before
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after["_user_id"] == f"{user_id}.1"


def test_pre_login_cookie_is_not_signed_in_afterwards(app, client, create_user):
    """Session fixation: a cookie planted before sign-in does not become a signed-in one."""
    create_user("anna")
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "attacker"
    planted = session_cookie(client)
    login(client, "anna")
    assert is_signed_in(client)
    assert not is_signed_in(new_client(app, planted))


def test_logout_signs_out(client, auth):
    auth.login("anna", role="facilitator")
    response = auth.logout()
    assert response.status_code == 302
    assert location_path(response) == "/login"
    assert not is_signed_in(client)


def test_logout_invalidates_a_copied_cookie(app, client, auth):
    auth.login("anna", role="facilitator")
    copied = session_cookie(client)
    assert is_signed_in(new_client(app, copied))  # the copy works while signed in

    auth.logout()

    assert not is_signed_in(new_client(app, copied))
    assert user_row(app, "anna")["session_version"] == 2


def test_logout_bumps_only_the_users_own_session_version(app, client, auth, create_user):
    create_user("bert")
    other = new_client(app)
    login(other, "bert")
    auth.login("anna", role="facilitator")
    auth.logout()
    assert is_signed_in(other)
    assert user_row(app, "bert")["session_version"] == 1


def test_cookie_with_forged_session_version_is_refused(app, client, create_user):
    user_id = create_user("anna")
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}.99"
    assert not is_signed_in(client)


# --- changing the password -------------------------------------------------------------------


def change_password(client, current: str, new: str, confirm: str | None = None):
    return client.post(
        "/account", data={"current": current, "new": new, "confirm": new if confirm is None else confirm}
    )


def test_password_change_succeeds(app, client, auth):
    auth.login("anna", role="facilitator")
    old_hash = user_row(app, "anna")["password_hash"]

    response = change_password(client, PASSWORD, NEW_PASSWORD)

    assert response.status_code == 302
    assert location_path(response) == "/account"
    assert "Your password is changed." in client.get("/account").text
    assert user_row(app, "anna")["password_hash"] != old_hash
    assert login(new_client(app), "anna", NEW_PASSWORD).status_code == 302
    assert WRONG_LOGIN in login(new_client(app), "anna", PASSWORD).text


def test_password_change_keeps_the_changer_signed_in_and_ends_old_cookies(app, client, auth):
    auth.login("anna", role="facilitator")
    copied = session_cookie(client)
    other_device = new_client(app)
    login(other_device, "anna")
    assert is_signed_in(other_device)

    assert change_password(client, PASSWORD, NEW_PASSWORD).status_code == 302

    assert is_signed_in(client)
    assert not is_signed_in(new_client(app, copied))
    assert not is_signed_in(other_device)


def test_password_change_with_wrong_current_password_is_refused(app, client, auth):
    auth.login("anna", role="facilitator")
    before = user_row(app, "anna")

    response = change_password(client, "not the password", NEW_PASSWORD)

    assert response.status_code == 200
    assert "The current password is not correct." in response.text
    assert user_row(app, "anna") == before
    assert is_signed_in(client)


def test_too_short_new_password_is_refused_with_message(app, client, auth):
    auth.login("anna", role="facilitator")
    before = user_row(app, "anna")

    response = change_password(client, PASSWORD, "short")

    assert response.status_code == 200
    assert mentions_minimum_length(response.text)
    assert user_row(app, "anna") == before


def test_new_password_must_be_repeated_exactly(app, client, auth):
    auth.login("anna", role="facilitator")
    before = user_row(app, "anna")
    response = change_password(client, PASSWORD, NEW_PASSWORD, confirm=NEW_PASSWORD + "x")
    assert response.status_code == 200
    assert "The passwords do not match." in response.text
    assert user_row(app, "anna") == before


# --- roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/admin/users", "/bank/new", f"/bank/{PUBLISHED[0]}/edit", f"/bank/{PUBLISHED[0]}/history"]
)
def test_facilitator_is_forbidden_curator_and_admin_pages(client, auth, dilemmas, path):
    auth.login("fiona", role="facilitator")
    assert client.get(path).status_code == 403


def test_facilitator_cannot_create_users(app, client, auth):
    auth.login("fiona", role="facilitator")
    response = client.post(
        "/admin/users", data={"username": "mallory", "password": NEW_PASSWORD, "role": "admin"}
    )
    assert response.status_code == 403
    assert count_users(app, "mallory") == 0


def test_facilitator_cannot_create_or_edit_dilemmas(app, client, auth, dilemmas):
    auth.login("fiona", role="facilitator")
    new = client.post(
        "/bank/new", data={"slug": "nieuw", "title": "Nieuw", "body": "Tekst.", "language": "nl"}
    )
    edit = client.post(
        f"/bank/{PUBLISHED[0]}/edit", data={"title": "Gewijzigd", "body": "Tekst.", "language": "nl"}
    )
    assert (new.status_code, edit.status_code) == (403, 403)
    with app.app_context():
        assert bank.get_by_slug("nieuw") is None
        assert bank.get_by_slug(PUBLISHED[0]).title == "Een kerstpakket van de leverancier"


def test_facilitator_sees_only_published_dilemmas(client, auth, dilemmas):
    auth.login("fiona", role="facilitator")
    listing = client.get("/bank/")
    assert listing.status_code == 200
    for slug in PUBLISHED:
        assert f'href="/bank/{slug}"' in listing.text
        assert client.get(f"/bank/{slug}").status_code == 200
    assert f"/bank/{DRAFT}" not in listing.text
    assert client.get(f"/bank/{DRAFT}").status_code == 404


def test_facilitator_cannot_list_drafts_with_a_status_filter(client, auth, dilemmas):
    auth.login("fiona", role="facilitator")
    listing = client.get("/bank/", query_string={"status": "draft"})
    assert listing.status_code == 200
    assert f"/bank/{DRAFT}" not in listing.text


def test_coordinator_sees_drafts(client, auth, dilemmas):
    auth.login("cora", role="coordinator")
    listing = client.get("/bank/")
    for slug in (DRAFT, *PUBLISHED):
        assert f'href="/bank/{slug}"' in listing.text
    assert client.get(f"/bank/{DRAFT}").status_code == 200
    assert client.get(f"/bank/{DRAFT}/edit").status_code == 200
    assert client.get("/bank/new").status_code == 200


def test_coordinator_cannot_reach_admin_pages(app, client, auth, create_user):
    target = create_user("fiona")
    auth.login("cora", role="coordinator")
    assert client.get("/admin/users").status_code == 403
    response = client.post(
        f"/admin/users/{target}", data={f"u{target}-role": "admin", f"u{target}-enabled": "y"}
    )
    assert response.status_code == 403
    assert user_row(app, "fiona")["role"] == "facilitator"
    assert user_row(app, "cora")["role"] == "coordinator"


@pytest.mark.parametrize("path", ["/bank/", f"/bank/{PUBLISHED[0]}", "/bank/new", "/admin/users", "/account"])
def test_anonymous_user_is_sent_to_login(client, dilemmas, path):
    response = client.get(path)
    assert response.status_code == 302
    target = urlsplit(response.location)
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == [path]


def test_anonymous_post_to_admin_creates_nothing(app, client):
    response = client.post(
        "/admin/users", data={"username": "mallory", "password": NEW_PASSWORD, "role": "admin"}
    )
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"
    assert count_users(app) == 0


# --- the admin page --------------------------------------------------------------------------


def add_user(client, username: str, password: str = NEW_PASSWORD, role: str = "facilitator"):
    return client.post(
        "/admin/users",
        data={"username": username, "display_name": "", "password": password, "role": role},
    )


def test_admin_adds_a_user_who_can_sign_in(app, admin):
    response = add_user(admin, "bert", role="coordinator")
    assert response.status_code == 302
    assert location_path(response) == "/admin/users"

    page = admin.get("/admin/users").text
    assert "Account bert created." in page
    assert "<strong>bert</strong>" in page
    row = user_row(app, "bert")
    assert row["role"] == "coordinator" and row["is_enabled"]

    browser = new_client(app)
    assert login(browser, "bert", NEW_PASSWORD).status_code == 302
    assert is_signed_in(browser)


def test_admin_adds_a_user_when_the_optional_display_name_is_left_out(app, admin):
    response = admin.post(
        "/admin/users", data={"username": "bert", "password": NEW_PASSWORD, "role": "facilitator"}
    )
    assert response.status_code == 302
    assert user_row(app, "bert") is not None


def test_admin_duplicate_username_is_refused(app, admin, create_user):
    create_user("bert")
    response = add_user(admin, "Bert")  # usernames are compared in lower case
    assert response.status_code == 200
    assert "A user named bert already exists." in response.text
    assert count_users(app, "bert") == 1
    assert user_row(app, "bert")["role"] == "facilitator"


def test_admin_short_password_is_refused(app, admin):
    response = add_user(admin, "bert", password="short")
    assert response.status_code == 200
    assert mentions_minimum_length(response.text)
    assert user_row(app, "bert") is None


def test_admin_invalid_username_is_refused(app, admin):
    response = add_user(admin, "bert <script>")
    assert response.status_code == 200
    assert "A username has 2 to 80 characters" in response.text
    assert count_users(app) == 1  # only root


def test_admin_changes_a_role(app, admin, create_user):
    fiona = create_user("fiona")
    browser = new_client(app)
    login(browser, "fiona")
    assert browser.get("/bank/new").status_code == 403

    response = update_user(admin, fiona, "coordinator", enabled=True)

    assert "Account fiona updated." in response.text
    assert user_row(app, "fiona")["role"] == "coordinator"
    assert browser.get("/bank/new").status_code == 200


def test_admin_refuses_an_unknown_role(app, admin, create_user):
    fiona = create_user("fiona")
    update_user(admin, fiona, "superuser", enabled=True)
    assert user_row(app, "fiona")["role"] == "facilitator"


def test_disabling_a_user_ends_their_session_and_blocks_sign_in(app, admin, create_user):
    fiona = create_user("fiona")
    browser = new_client(app)
    login(browser, "fiona")
    copied = session_cookie(browser)
    assert is_signed_in(browser)

    response = update_user(admin, fiona, "facilitator", enabled=False)

    assert "Account fiona updated." in response.text
    assert user_row(app, "fiona")["is_enabled"] is False
    assert not is_signed_in(browser)
    assert not is_signed_in(new_client(app, copied))
    assert WRONG_LOGIN in login(new_client(app), "fiona").text


def test_account_disabled_outside_the_admin_page_is_signed_out(app, client, auth):
    """Disabling ends a session even when the session version was not bumped (e.g. in the database)."""
    auth.login("anna", role="facilitator")
    set_enabled(app, "anna", False)
    assert user_row(app, "anna")["session_version"] == 1
    assert not is_signed_in(client)


def test_re_enabled_user_can_sign_in_again(app, admin, create_user):
    fiona = create_user("fiona")
    update_user(admin, fiona, "facilitator", enabled=False)
    update_user(admin, fiona, "facilitator", enabled=True)
    assert user_row(app, "fiona")["is_enabled"] is True
    assert login(new_client(app), "fiona").status_code == 302


def test_last_admin_cannot_be_demoted(app, admin):
    root = user_row(app, "root")["id"]
    response = update_user(admin, root, "coordinator", enabled=True)
    assert LAST_ADMIN in response.text
    assert user_row(app, "root")["role"] == "admin"
    assert admin.get("/admin/users").status_code == 200


def test_last_admin_cannot_be_disabled(app, admin):
    root = user_row(app, "root")["id"]
    response = update_user(admin, root, "admin", enabled=False)
    assert LAST_ADMIN in response.text
    assert user_row(app, "root")["is_enabled"] is True
    assert is_signed_in(admin)


def test_disabled_admins_do_not_count_as_another_admin(app, admin, create_user):
    create_user("ada", role="admin")
    set_enabled(app, "ada", False)
    root = user_row(app, "root")["id"]
    response = update_user(admin, root, "facilitator", enabled=True)
    assert LAST_ADMIN in response.text
    assert user_row(app, "root")["role"] == "admin"


def test_admin_may_demote_another_admin_while_one_remains(app, admin, create_user):
    ada = create_user("ada", role="admin")
    response = update_user(admin, ada, "coordinator", enabled=True)
    assert "Account ada updated." in response.text
    assert user_row(app, "ada")["role"] == "coordinator"


def test_admin_cannot_disable_themselves(app, admin, create_user):
    create_user("ada", role="admin")  # so the last-admin rule does not apply
    root = user_row(app, "root")["id"]
    response = update_user(admin, root, "admin", enabled=False)
    assert "You cannot disable your own account." in response.text
    assert user_row(app, "root")["is_enabled"] is True
    assert is_signed_in(admin)


def test_update_of_unknown_user_is_404(admin):
    assert admin.post("/admin/users/999999", data={"u999999-role": "admin"}).status_code == 404


# --- password storage ------------------------------------------------------------------------


def assert_hashed(row: dict, password: str) -> None:
    assert row["password_hash"].startswith("scrypt:")
    assert password not in row["password_hash"]


def test_passwords_are_stored_hashed(app, create_user):
    create_user("anna")
    create_user("bert")
    anna, bert = user_row(app, "anna"), user_row(app, "bert")
    assert_hashed(anna, PASSWORD)
    assert anna["password_hash"] != bert["password_hash"]  # salted


def test_passwords_from_admin_page_and_password_change_are_hashed(app, admin):
    add_user(admin, "bert")
    assert_hashed(user_row(app, "bert"), NEW_PASSWORD)
    change_password(admin, PASSWORD, NEW_PASSWORD)
    assert_hashed(user_row(app, "root"), NEW_PASSWORD)


# --- rate limit on sign-in -------------------------------------------------------------------


def guess_until_limited(client, username: str, attempts: int = 50):
    """Post wrong passwords until the first 429; return (number of attempts, that response)."""
    for attempt in range(1, attempts + 1):
        response = login(client, username, f"guess number {attempt}")
        if response.status_code == 429:
            return attempt, response
        assert response.status_code == 200
    return attempts, None


def test_login_burst_meets_429_with_retry_after(client, create_user):
    create_user("anna")
    attempts, response = guess_until_limited(client, "anna")
    assert response is not None, "50 wrong passwords in a row were never refused"
    assert attempts < 50
    assert response.headers["Retry-After"].isdigit()
    assert int(response.headers["Retry-After"]) <= 3600
    assert "Too many attempts" in response.text


def test_right_password_is_refused_while_limited(client, create_user):
    create_user("anna")
    guess_until_limited(client, "anna")
    assert login(client, "anna").status_code == 429
    assert not is_signed_in(client)


def test_login_rate_limit_comes_from_config(app, client, create_user):
    create_user("anna")
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    attempts, response = guess_until_limited(client, "anna")
    assert attempts == 4
    assert response.status_code == 429


def test_login_page_stays_readable_while_limited(app, client, create_user):
    create_user("anna")
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    guess_until_limited(client, "anna")
    assert client.get("/login").status_code == 200


def test_login_rate_limit_is_per_address(app, client, create_user):
    create_user("anna")
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    guess_until_limited(client, "anna")
    elsewhere = app.test_client()
    response = elsewhere.post(
        "/login",
        data={"username": "anna", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert response.status_code == 302


# --- the per-account limit, next to the per-address one -------------------------------------------


def from_address(app, number: int):
    """A browser at another address each time: the per-address limit never bites."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = f"198.51.100.{number}"
    return browser


@pytest.mark.parametrize("username", ["anna", "niemand"])
def test_failed_sign_ins_from_many_addresses_make_the_account_wait(app, create_user, username):
    create_user("anna")
    for number in range(5):
        assert login(from_address(app, number), username, f"gok {number}").status_code == 200
    # The sixth attempt waits, the right password too, and an unknown name waits the same way.
    browser = from_address(app, 77)
    response = login(browser, username, PASSWORD)
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert not is_signed_in(browser)
    # Another account is not affected.
    create_user("bert")
    assert login(from_address(app, 78), "bert").status_code == 302


def test_the_wait_grows_a_minute_an_hour_a_day():
    from beraad.auth import throttle

    windows = [(item.amount, item.get_expiry()) for item in throttle.ACCOUNT_LIMITS]
    assert windows == [(5, 60), (20, 3600), (50, 86400)]


def test_an_admin_lifts_the_wait(app, admin, create_user):
    create_user("anna")
    for number in range(5):
        login(from_address(app, number), "anna", f"gok {number}")
    assert login(from_address(app, 50), "anna").status_code == 429
    with app.app_context():
        anna = db.session.scalars(select(User).where(User.username == "anna")).one()
    page = admin.get("/admin/users").get_data(as_text=True)
    assert f"/admin/users/{anna.id}/sign-in-wait" in page
    response = admin.post(f"/admin/users/{anna.id}/sign-in-wait", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "anna can sign in again at once" in page or "anna kan meteen weer inloggen" in page
    assert login(from_address(app, 51), "anna").status_code == 302


# --- one-time passwords set by an admin ----------------------------------------------------------

ONE_TIME_PASSWORD = re.compile(r'<code[^>]*id="one-time-password"[^>]*>([^<]+)</code>')
MUST_CHANGE = "Choose a new password before you continue."
OWN_ACCOUNT = "Change your own password on your account page."


def set_one_time_password(client, user_id: int):
    return client.post(f"/admin/users/{user_id}/one-time-password")


def one_time_password_in(page: str) -> str:
    match = ONE_TIME_PASSWORD.search(page)
    assert match is not None, "no one-time password on the page"
    return match.group(1)


@pytest.fixture
def reset_fiona(app, admin, create_user):
    """fiona, signed in on her own browser, then given a one-time password by root.
    Returns (her browser, the cookie it held, the one-time password)."""
    fiona = create_user("fiona")
    browser = new_client(app)
    login(browser, "fiona")
    assert is_signed_in(browser)
    response = set_one_time_password(admin, fiona)
    assert response.status_code == 200
    return browser, session_cookie(browser), one_time_password_in(response.text)


def test_users_page_offers_a_one_time_password_for_others_only(app, admin, create_user):
    fiona = create_user("fiona")
    root = user_row(app, "root")["id"]
    page = admin.get("/admin/users").text
    assert f'action="/admin/users/{fiona}/one-time-password"' in page
    assert f'action="/admin/users/{root}/one-time-password"' not in page


def test_one_time_password_is_shown_once_and_stored_hashed(app, admin, create_user):
    fiona = create_user("fiona")
    before = user_row(app, "fiona")

    response = set_one_time_password(admin, fiona)

    assert response.status_code == 200
    password = one_time_password_in(response.text)
    assert len(password) >= 12
    row = user_row(app, "fiona")
    assert row["password_hash"] != before["password_hash"]
    assert_hashed(row, password)
    assert row["must_change_password"] is True
    assert password not in admin.get("/admin/users").text  # shown only that once
    with admin.session_transaction() as cookie:
        assert password not in repr(dict(cookie))  # not kept in the admin's cookie (a flash would be)
    # A second one replaces the first, and differs from it.
    again = one_time_password_in(set_one_time_password(admin, fiona).text)
    assert again != password
    assert WRONG_LOGIN in login(new_client(app), "fiona", password).text
    assert login(new_client(app), "fiona", again).status_code == 302


def test_one_time_password_signs_the_user_out_everywhere(app, reset_fiona):
    browser, copied, _password = reset_fiona
    assert user_row(app, "fiona")["session_version"] == 2
    assert not is_signed_in(browser)
    assert not is_signed_in(new_client(app, copied))
    assert WRONG_LOGIN in login(new_client(app), "fiona", PASSWORD).text  # the old password is gone


def test_one_time_password_lifts_the_sign_in_wait(app, admin, create_user):
    fiona = create_user("fiona")
    for number in range(5):
        login(from_address(app, number), "fiona", f"gok {number}")
    assert login(from_address(app, 50), "fiona").status_code == 429

    password = one_time_password_in(set_one_time_password(admin, fiona).text)

    assert login(from_address(app, 51), "fiona", password).status_code == 302


def test_sign_in_with_a_one_time_password_leads_to_the_password_change(app, reset_fiona):
    _browser, _copied, password = reset_fiona
    browser = new_client(app)
    response = login(browser, "fiona", password, next="/bank/")
    assert response.status_code == 302
    assert location_path(response) == "/account"
    page = browser.get("/account")
    assert page.status_code == 200
    assert MUST_CHANGE in page.text
    assert 'id="tokens"' not in page.text  # nothing else to do on the page until then


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/"),
        ("get", "/bank/"),
        ("get", f"/bank/{PUBLISHED[0]}"),
        ("get", "/methods/"),
        ("get", "/sessions/"),
        ("get", "/sessions/new"),
        ("get", "/privacy"),
        ("get", "/login"),
        ("get", "/no-such-page"),
        ("post", "/account/tokens"),
        ("post", "/sessions/new"),
    ],
)
def test_every_other_page_leads_to_the_password_change(app, reset_fiona, dilemmas, method, path):
    _browser, _copied, password = reset_fiona
    browser = new_client(app)
    login(browser, "fiona", password)
    response = getattr(browser, method)(path)
    assert response.status_code == 302, path
    assert location_path(response) == "/account"
    with app.app_context():
        fiona = accounts.get_user_by_username("fiona")
        assert tokens.tokens_of(fiona) == []  # the token form was not reached


def test_static_files_and_sign_out_work_while_a_new_password_is_required(app, reset_fiona):
    _browser, _copied, password = reset_fiona
    browser = new_client(app)
    login(browser, "fiona", password)
    with browser.get("/static/css/app.css") as stylesheet:
        assert stylesheet.status_code == 200
    response = browser.post("/logout")
    assert response.status_code == 302 and location_path(response) == "/login"
    assert not is_signed_in(browser)


def test_choosing_a_new_password_clears_the_requirement(app, reset_fiona, dilemmas):
    _browser, _copied, password = reset_fiona
    browser = new_client(app)
    login(browser, "fiona", password)

    response = change_password(browser, password, NEW_PASSWORD)

    assert response.status_code == 302
    assert user_row(app, "fiona")["must_change_password"] is False
    assert browser.get("/bank/").status_code == 200
    assert MUST_CHANGE not in browser.get("/account").text
    other = new_client(app)
    response = login(other, "fiona", NEW_PASSWORD)
    assert location_path(response) == "/"
    assert other.get("/bank/").status_code == 200
    assert WRONG_LOGIN in login(new_client(app), "fiona", password).text


def test_a_weak_new_password_keeps_the_requirement(app, reset_fiona):
    _browser, _copied, password = reset_fiona
    browser = new_client(app)
    login(browser, "fiona", password)
    response = change_password(browser, password, "short")
    assert response.status_code == 200
    assert mentions_minimum_length(response.text)
    assert user_row(app, "fiona")["must_change_password"] is True
    assert location_path(browser.get("/bank/")) == "/account"


def test_the_api_refuses_a_user_who_must_choose_a_new_password(app, admin, create_user):
    fiona = create_user("fiona")
    password = one_time_password_in(set_one_time_password(admin, fiona).text)
    browser = new_client(app)  # the signed-in browser's own API calls (her tokens were revoked)
    login(browser, "fiona", password)
    response = browser.get("/api/v1/me")
    assert response.status_code == 403
    assert response.json["error"]["code"] == "password_change_required"
    assert "new password" in response.json["error"]["message"]
    with app.app_context():  # a token made now, as by a script with database access, is refused too
        user = db.session.get(User, fiona)
        _row, token = tokens.create_token(user, "script")
        db.session.commit()
    by_token = new_client(app).get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert by_token.status_code == 403 and by_token.json["error"]["code"] == "password_change_required"

    change_password(browser, password, NEW_PASSWORD)

    assert browser.get("/api/v1/me").status_code == 200


def test_a_password_reset_revokes_the_users_api_tokens(app, admin, create_user, runner, monkeypatch):
    """Whoever knew the old password could have made a token; a reset ends that access too.
    (Choosing a new password oneself keeps one's tokens: that is no sign of a takeover.)"""
    fiona = create_user("fiona")

    def new_token(name: str) -> dict:
        with app.app_context():
            _row, token = tokens.create_token(db.session.get(User, fiona), name)
            db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    by_admin, kept = new_token("script"), new_token("second")
    password = one_time_password_in(set_one_time_password(admin, fiona).text)
    for bearer in (by_admin, kept):
        assert new_client(app).get("/api/v1/me", headers=bearer).status_code == 401
    browser = new_client(app)
    login(browser, "fiona", password)
    change_password(browser, password, NEW_PASSWORD)
    own = new_token("after the reset")
    assert new_client(app).get("/api/v1/me", headers=own).status_code == 200

    monkeypatch.setenv("BERAAD_NEW_PASSWORD", "yet another passphrase")
    result = runner.invoke(args=["set-password", "fiona"])
    assert result.exit_code == 0 and "1 API token(s) were revoked" in result.output, result.output
    assert new_client(app).get("/api/v1/me", headers=own).status_code == 401


def test_admin_cannot_set_a_one_time_password_for_themselves(app, admin):
    root = user_row(app, "root")["id"]
    before = user_row(app, "root")
    response = set_one_time_password(admin, root)
    assert response.status_code == 302
    assert location_path(response) == "/admin/users"
    assert OWN_ACCOUNT in admin.get("/admin/users").text
    assert user_row(app, "root") == before
    assert is_signed_in(admin)


@pytest.mark.parametrize("role", ["facilitator", "coordinator"])
def test_non_admin_cannot_set_a_one_time_password(app, client, auth, create_user, role):
    fiona = create_user("fiona")
    before = user_row(app, "fiona")
    auth.login("someone", role=role)
    assert set_one_time_password(client, fiona).status_code == 403
    assert user_row(app, "fiona") == before


def test_anonymous_cannot_set_a_one_time_password(app, client, create_user):
    fiona = create_user("fiona")
    before = user_row(app, "fiona")
    response = set_one_time_password(client, fiona)
    assert response.status_code == 302 and urlsplit(response.location).path == "/login"
    assert user_row(app, "fiona") == before


def test_one_time_password_needs_the_csrf_token(app, admin, create_user):
    fiona = create_user("fiona")
    before = user_row(app, "fiona")
    app.config["WTF_CSRF_ENABLED"] = True
    assert set_one_time_password(admin, fiona).status_code == 400
    assert user_row(app, "fiona") == before


def test_one_time_password_for_an_unknown_user_is_404(admin):
    assert set_one_time_password(admin, 999999).status_code == 404
