"""Web security properties: headers, cookies, CSRF, no state change on GET, error pages."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select

from beraad.bank import loader
from beraad.bank import service as bank
from beraad.extensions import db
from beraad.i18n import LANGUAGE_COOKIE
from beraad.models import Dilemma, DilemmaRevision, User

from .conftest import DATA_DIR, PASSWORD

NEW_PASSWORD = "a brand new passphrase"
HTTPS = "https://localhost"
DRAFT = "concept-neutraliteit"
PUBLISHED = "geschenk-leverancier"
# A form's hidden CSRF field; a prefixed form names it "<prefix>-csrf_token".
TOKEN_FIELD = re.compile(r'<input[^>]*name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"')


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def english(client):
    """Show the interface in English, so messages can be asserted whatever translations exist."""
    client.set_cookie(LANGUAGE_COOKIE, "en")


@pytest.fixture
def dilemmas(app):
    """The three test dilemmas: one draft, two published."""
    with app.app_context():
        bank.import_dilemmas(loader.load_bank(DATA_DIR / "bank"))
        db.session.commit()


@pytest.fixture
def sign_in(client, auth):
    """Sign the client in with a role (CSRF checks off); None leaves it anonymous."""

    def sign_in_as(role: str | None) -> None:
        if role is not None:
            assert auth.login(role, role=role).status_code == 302

    return sign_in_as


def is_signed_in(client) -> bool:
    response = client.get("/account")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and urlsplit(response.location).path == "/login"
    return False


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        tokens = part.split()
        if tokens:
            directives[tokens[0].lower()] = tokens[1:]
    return directives


def cookie_attributes(response, name: str) -> dict[str, str]:
    """The attributes (lower-case names) of the Set-Cookie header for cookie name."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.partition("=")[0].strip() == name:
            attributes = {}
            for part in header.split(";")[1:]:
                key, _, value = part.strip().partition("=")
                attributes[key.lower()] = value
            return attributes
    raise AssertionError(f"the response sets no {name} cookie: {response.headers.getlist('Set-Cookie')}")


def sets_cookie(response, name: str) -> bool:
    return any(h.partition("=")[0].strip() == name for h in response.headers.getlist("Set-Cookie"))


def database_state(app) -> tuple:
    """Everything a forged request could change: accounts and dilemmas."""
    with app.app_context():
        users = db.session.execute(
            select(
                User.username, User.role, User.is_enabled, User.session_version, User.password_hash
            ).order_by(User.username)
        ).all()
        dilemmas = db.session.execute(
            select(Dilemma.slug, Dilemma.status, Dilemma.title, Dilemma.body).order_by(Dilemma.slug)
        ).all()
        revisions = db.session.scalar(select(func.count()).select_from(DilemmaRevision))
    return tuple(users), tuple(dilemmas), revisions


def user_row(app, username: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None:
            db.session.expunge(user)
        return user


def dilemma_status(app, slug: str) -> str | None:
    with app.app_context():
        return db.session.scalar(select(Dilemma.status).where(Dilemma.slug == slug))


def assert_friendly_error_page(response, status: int, title: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.text
    assert 'class="site-header"' in page  # the site's own layout
    assert f"<h1>{title}</h1>" in page
    assert 'href="/"' in page  # a way back
    for leak in ("Traceback", "werkzeug", "File &#34;", 'File "', "on the server", "jinja2"):
        assert leak not in page


# --- security headers ------------------------------------------------------------------------

# (path, who asks, expected status): ordinary pages, forms and error pages.
HTML_PAGES = [
    ("/", None, 200),
    ("/login", None, 200),
    ("/bank/", "facilitator", 200),
    (f"/bank/{PUBLISHED}", "facilitator", 200),
    ("/account", "facilitator", 200),
    ("/bank/new", "coordinator", 200),
    (f"/bank/{PUBLISHED}/edit", "coordinator", 200),
    (f"/bank/{PUBLISHED}/history", "coordinator", 200),
    ("/admin/users", "admin", 200),
    ("/no-such-page", None, 404),
    ("/admin/users", "facilitator", 403),
    ("/logout", "facilitator", 405),
]
PAGE_IDS = [f"{who or 'anonymous'}:{path}" for path, who, _ in HTML_PAGES]


@pytest.fixture(params=HTML_PAGES, ids=PAGE_IDS)
def html_page(request, client, sign_in, dilemmas):
    path, who, status = request.param
    sign_in(who)
    response = client.get(path)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    return response


def test_html_pages_carry_a_strict_content_security_policy(html_page):
    csp = csp_directives(html_page)
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts, "no script-src and no default-src"
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"):
        assert unsafe not in scripts


def test_html_pages_do_not_need_what_the_policy_forbids(html_page):
    """No inline script, event handler, javascript: URL or style attribute: the CSP would block them."""
    page = html_page.text
    assert re.search(r"<script(?![^>]*\ssrc=)[^>]*>", page) is None
    assert re.search(r"<[^>]+\son[a-z]+\s*=", page, re.IGNORECASE) is None
    assert "javascript:" not in page.lower()
    assert re.search(r"<[^>]+\sstyle\s*=", page, re.IGNORECASE) is None


def test_html_pages_carry_nosniff_and_referrer_policy(html_page):
    assert html_page.headers["X-Content-Type-Options"] == "nosniff"
    assert html_page.headers["Referrer-Policy"] == "same-origin"


def test_no_hsts_over_plain_http(html_page):
    assert "Strict-Transport-Security" not in html_page.headers


@pytest.mark.parametrize("path", ["/", "/login", "/no-such-page"])
def test_hsts_over_https(client, path):
    response = client.get(path, base_url=HTTPS)
    hsts = response.headers.get("Strict-Transport-Security", "")
    match = re.search(r"max-age=(\d+)", hsts)
    assert match, f"no HSTS max-age over https: {hsts!r}"
    assert int(match.group(1)) >= 86400


def test_redirects_and_static_files_carry_the_headers_too(client):
    for response in (client.get("/bank/"), client.get("/static/css/app.css")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        response.close()


# --- session cookie --------------------------------------------------------------------------


def login_response(client, create_user, **kwargs):
    create_user("anna")
    response = client.post("/login", data={"username": "anna", "password": PASSWORD}, **kwargs)
    assert response.status_code == 302
    return response


def test_session_cookie_is_httponly_and_samesite_lax(app, client, create_user):
    cookie = cookie_attributes(login_response(client, create_user), app.config["SESSION_COOKIE_NAME"])
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "lax"


def test_session_cookie_is_not_secure_over_http(app, client, create_user):
    cookie = cookie_attributes(login_response(client, create_user), app.config["SESSION_COOKIE_NAME"])
    assert "secure" not in cookie


def test_session_cookie_is_secure_over_https(app, client, create_user):
    response = login_response(client, create_user, base_url=HTTPS)
    cookie = cookie_attributes(response, app.config["SESSION_COOKIE_NAME"])
    assert "secure" in cookie
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "lax"


# --- CSRF ------------------------------------------------------------------------------------


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def scrape_token(client, path: str) -> str:
    """The CSRF token from the form on the page at path."""
    response = client.get(path)
    assert response.status_code == 200, path
    match = TOKEN_FIELD.search(response.text)
    assert match, f"no csrf_token field on {path}"
    return match.group(1)


@pytest.fixture
def csrf_sign_in(csrf_app, client, create_user):
    """Sign in through the real form, token included; return the user's id."""

    def sign_in_as(username: str, role: str) -> int:
        user_id = create_user(username, role=role)
        token = scrape_token(client, "/login")
        response = client.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        return user_id

    return sign_in_as


# Every state-changing form, as (path, form data); {victim} is the id of a facilitator account.
FORMS = {
    "logout": ("/logout", {}),
    "add-user": ("/admin/users", {"username": "mallory", "password": NEW_PASSWORD, "role": "admin"}),
    "update-user": ("/admin/users/{victim}", {"u{victim}-role": "admin", "u{victim}-enabled": "y"}),
    "password": ("/account", {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    "new-dilemma": (
        "/bank/new",
        {"slug": "vervalst", "title": "Vervalst", "language": "nl", "body": "Tekst van de casus."},
    ),
    "edit-dilemma": (
        f"/bank/{PUBLISHED}/edit",
        {"title": "Vervalst", "language": "nl", "body": "Andere tekst.", "note": "x"},
    ),
    "dilemma-status": (f"/bank/{DRAFT}/status", {"status": "review"}),
    "preview": ("/bank/preview", {"body": "**vet**"}),
    "language": ("/language", {"language": "en", "next": "/bank/"}),
}


def fill(template: str, victim: int) -> str:
    return template.replace("{victim}", str(victim))


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["no-token", "forged-token"])
@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_forms_without_a_valid_token_are_refused_and_change_nothing(
    csrf_app, client, csrf_sign_in, create_user, dilemmas, form, token
):
    victim = create_user("fiona")
    csrf_sign_in("root", "admin")
    before = database_state(csrf_app)
    path, data = form
    data = {fill(key, victim): value for key, value in data.items()}
    if token is not None:
        data["csrf_token"] = token

    response = client.post(fill(path, victim), data=data)

    assert_friendly_error_page(response, 400, "Something was wrong with that request")
    assert database_state(csrf_app) == before
    assert not sets_cookie(response, LANGUAGE_COOKIE)
    assert is_signed_in(client)


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["no-token", "forged-token"])
def test_login_without_a_valid_token_is_refused(csrf_app, client, create_user, token):
    create_user("anna")
    data = {"username": "anna", "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    assert_friendly_error_page(response, 400, "Something was wrong with that request")
    assert not is_signed_in(client)


def test_login_with_the_token_from_the_form_works(csrf_app, client, create_user):
    create_user("anna")
    token = scrape_token(client, "/login")
    response = client.post("/login", data={"username": "anna", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert is_signed_in(client)


def test_token_of_another_session_is_refused(csrf_app, client, csrf_sign_in):
    """An attacker's own valid token does not work in the victim's session."""
    attacker = csrf_app.test_client()
    attackers_token = scrape_token(attacker, "/login")
    csrf_sign_in("root", "admin")
    before = database_state(csrf_app)
    response = client.post(
        "/admin/users",
        data={
            "username": "mallory",
            "password": NEW_PASSWORD,
            "role": "admin",
            "csrf_token": attackers_token,
        },
    )
    assert response.status_code == 400
    assert database_state(csrf_app) == before


def test_logout_with_the_token_works(csrf_app, client, csrf_sign_in):
    csrf_sign_in("anna", "facilitator")
    token = scrape_token(client, "/bank/")  # the sign-out button in the page header
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert not is_signed_in(client)
    assert user_row(csrf_app, "anna").session_version == 2


def test_add_user_with_the_token_works(csrf_app, client, csrf_sign_in):
    csrf_sign_in("root", "admin")
    token = scrape_token(client, "/admin/users")
    response = client.post(
        "/admin/users",
        data={
            "username": "bert",
            "display_name": "",
            "password": NEW_PASSWORD,
            "role": "coordinator",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert user_row(csrf_app, "bert").role == "coordinator"


def test_update_user_with_the_token_works(csrf_app, client, csrf_sign_in, create_user):
    fiona = create_user("fiona")
    csrf_sign_in("root", "admin")
    page = client.get("/admin/users").text
    form = re.search(rf'<form[^>]*action="/admin/users/{fiona}".*?</form>', page, re.DOTALL)
    token = TOKEN_FIELD.search(form.group(0)).group(1)
    response = client.post(
        f"/admin/users/{fiona}",
        data={f"u{fiona}-role": "coordinator", f"u{fiona}-enabled": "y", f"u{fiona}-csrf_token": token},
    )
    assert response.status_code == 302
    assert user_row(csrf_app, "fiona").role == "coordinator"


def test_password_change_with_the_token_works(csrf_app, client, csrf_sign_in):
    csrf_sign_in("anna", "facilitator")
    old_hash = user_row(csrf_app, "anna").password_hash
    token = scrape_token(client, "/account")
    response = client.post(
        "/account",
        data={"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert user_row(csrf_app, "anna").password_hash != old_hash


def test_new_dilemma_with_the_token_works(csrf_app, client, csrf_sign_in):
    csrf_sign_in("cora", "coordinator")
    token = scrape_token(client, "/bank/new")
    response = client.post(
        "/bank/new",
        data={
            "slug": "nieuwe-casus",
            "title": "Een nieuwe casus",
            "language": "nl",
            "body": "Tekst van de casus.",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/bank/nieuwe-casus"
    assert dilemma_status(csrf_app, "nieuwe-casus") == "draft"


def test_dilemma_status_change_with_the_token_works(csrf_app, client, csrf_sign_in, dilemmas):
    csrf_sign_in("cora", "coordinator")
    token = scrape_token(client, f"/bank/{DRAFT}")
    response = client.post(f"/bank/{DRAFT}/status", data={"status": "review", "csrf_token": token})
    assert response.status_code == 302
    assert dilemma_status(csrf_app, DRAFT) == "review"


def test_language_switch_with_the_token_works(csrf_app, client):
    token = scrape_token(client, "/")
    response = client.post("/language", data={"language": "nl", "next": "/login", "csrf_token": token})
    assert response.status_code == 302
    assert cookie_attributes(response, LANGUAGE_COOKIE)
    assert client.get_cookie(LANGUAGE_COOKIE).value == "nl"


def test_form_token_still_works_two_hours_later(csrf_app, client, create_user, monkeypatch):
    """A phone that kept the page open for two hours can still send its form."""
    create_user("anna")
    token = scrape_token(client, "/login")
    now = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now(self) + 2 * 3600 + 60)
    response = client.post("/login", data={"username": "anna", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert is_signed_in(client)


# --- no state change on GET ------------------------------------------------------------------


def test_get_logout_is_405_and_keeps_the_user_signed_in(app, client, sign_in):
    sign_in("facilitator")
    response = client.get("/logout")
    assert response.status_code == 405
    assert is_signed_in(client)
    assert user_row(app, "facilitator").session_version == 1


def test_405_names_the_allowed_methods(client, sign_in):
    sign_in("facilitator")
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers.get("Allow", "")


def test_get_language_is_405_and_sets_no_cookie(client):
    response = client.get("/language", query_string={"language": "nl"})
    assert response.status_code == 405
    assert not sets_cookie(response, LANGUAGE_COOKIE)


def test_form_fields_in_a_get_query_change_nothing(app, client, sign_in, dilemmas):
    sign_in("admin")
    before = database_state(app)
    client.get(
        "/admin/users", query_string={"username": "mallory", "password": NEW_PASSWORD, "role": "admin"}
    )
    client.get("/account", query_string={"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    client.get("/bank/new", query_string={"slug": "via-get", "title": "Via GET", "body": "Tekst."})
    client.get(f"/bank/{PUBLISHED}/edit", query_string={"title": "Via GET", "body": "Tekst."})
    assert database_state(app) == before


# --- language switch -------------------------------------------------------------------------


def test_language_switch_sets_an_httponly_lax_cookie(client):
    response = client.post("/language", data={"language": "nl", "next": "/login"})
    assert response.status_code == 302
    assert response.location == "/login"
    cookie = cookie_attributes(response, LANGUAGE_COOKIE)
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "lax"
    assert "secure" not in cookie
    assert '<html lang="nl">' in client.get("/login").text


def test_language_cookie_is_secure_over_https(client):
    response = client.post("/language", data={"language": "en", "next": "/"}, base_url=HTTPS)
    assert "secure" in cookie_attributes(response, LANGUAGE_COOKIE)


def test_unknown_language_sets_no_cookie(client):
    response = client.post("/language", data={"language": "xx", "next": "/login"})
    assert response.status_code == 302
    assert not sets_cookie(response, LANGUAGE_COOKIE)


def test_language_switch_keeps_a_local_query(client):
    response = client.post("/language", data={"language": "en", "next": "/bank/?q=kerst"})
    assert response.location == "/bank/?q=kerst"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "",
    ],
)
def test_language_switch_redirects_only_to_local_paths(client, target):
    response = client.post("/language", data={"language": "en", "next": target})
    assert response.status_code == 302
    assert response.location == "/"


# --- error pages -----------------------------------------------------------------------------


def test_404_is_a_friendly_page(client):
    assert_friendly_error_page(client.get("/no-such-page"), 404, "Page not found")


def test_404_for_an_unknown_dilemma_is_a_friendly_page(client, sign_in):
    sign_in("facilitator")
    assert_friendly_error_page(client.get("/bank/no-such-dilemma"), 404, "Page not found")


def test_403_is_a_friendly_page(client, sign_in):
    sign_in("facilitator")
    response = client.get("/admin/users")
    assert_friendly_error_page(response, 403, "You do not have access to this page")


def test_405_is_a_friendly_page(client, sign_in):
    sign_in("facilitator")
    assert_friendly_error_page(client.get("/logout"), 405, "That is not possible here")


def test_error_page_is_in_the_visitors_language(client):
    client.set_cookie(LANGUAGE_COOKIE, "nl")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert '<html lang="nl">' in response.text
