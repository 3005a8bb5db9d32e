"""Configuration from environment variables, with safe defaults."""

import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .network import normalise_base_url

REPO_ROOT = Path(__file__).resolve().parent.parent

# Every environment variable beraad reads, with its default and meaning.
# The README's configuration table is checked against this list by a test.
ENVIRONMENT_VARIABLES = {
    "DATABASE_URL": "SQLite file in instance/",
    "SECRET_KEY": "generated once, kept in instance/",
    "BERAAD_ADMIN_USER": "first admin created by `beraad init`",
    "BERAAD_ADMIN_PASSWORD": "password of that first admin",
    "BERAAD_NEW_PASSWORD": "asked for by `beraad set-password`",
    "BERAAD_K": "3",
    "BERAAD_RETENTION_DAYS": "30",
    "BERAAD_LANGUAGE": "nl",
    "BERAAD_INSTANCE_PATH": "instance/ in the working directory",
    "BERAAD_RATELIMIT_STORAGE_URI": "memory://",
    "BERAAD_TRUSTED_PROXIES": "0",
    "BERAAD_FOUR_EYES": "1",
    "BERAAD_BASE_URL": "the address of the request (`beraad serve` on 0.0.0.0 sets this machine's)",
    "BERAAD_PRODUCTION": "0",
    "BERAAD_TIMEZONE": "Europe/Amsterdam: the local time of a session's start and end in its summary",
    "BERAAD_ORGANISATION": "empty: the team or organisation named on every page of a summary",
}
DEFAULT_TIMEZONE = "Europe/Amsterdam"

SUPPORTED_LANGUAGES = ("nl", "en")


class ConfigurationError(RuntimeError):
    """A setting in the environment is wrong; the message names it and what it should be."""


def instance_path() -> Path:
    """Return the folder for local state (database, generated secret key)."""
    return Path(os.environ.get("BERAAD_INSTANCE_PATH", Path.cwd() / "instance")).resolve()


def make_instance_folder(folder: Path) -> None:
    """Create the instance folder if needed, for its owner only: it holds the key and the database."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def load_or_create_secret_key(folder: Path) -> str:
    """Return the secret key kept in folder, creating it on first use."""
    make_instance_folder(folder)
    key_file = folder / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    # Create with owner-only permissions; never world-readable.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _int_env(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from exc
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {value}")
    return value


def from_environment(folder: Path) -> dict:
    """Build the configuration mapping from environment variables."""
    language = os.environ.get("BERAAD_LANGUAGE", "nl")
    if language not in SUPPORTED_LANGUAGES:
        raise ConfigurationError(f"BERAAD_LANGUAGE must be one of {', '.join(SUPPORTED_LANGUAGES)}")
    timezone = timezone_from_environment()
    if not os.environ.get("DATABASE_URL"):
        make_instance_folder(folder)  # the default SQLite file goes there
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or load_or_create_secret_key(folder),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'beraad.sqlite3'}",
        "BERAAD_K": _int_env("BERAAD_K", 3, minimum=2),
        "BERAAD_RETENTION_DAYS": _int_env("BERAAD_RETENTION_DAYS", 30, minimum=0),
        "BABEL_DEFAULT_LOCALE": language,
        "RATELIMIT_STORAGE_URI": os.environ.get("BERAAD_RATELIMIT_STORAGE_URI", "memory://"),
        "TRUSTED_PROXIES": _int_env("BERAAD_TRUSTED_PROXIES", 0, minimum=0),
        "BERAAD_FOUR_EYES": os.environ.get("BERAAD_FOUR_EYES", "1") != "0",
        "BERAAD_BASE_URL": base_url_from_environment(),
        "TIMEZONE": timezone,
        "BABEL_DEFAULT_TIMEZONE": timezone,  # the interface shows times in the same zone
        "ORGANISATION": " ".join(os.environ.get("BERAAD_ORGANISATION", "").split()),
    }


def timezone_from_environment() -> str:
    """BERAAD_TIMEZONE: an IANA time zone name, "Europe/Amsterdam" when unset.

    An unknown name is a ConfigurationError naming the setting."""
    name = os.environ.get("BERAAD_TIMEZONE", "").strip() or DEFAULT_TIMEZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigurationError(
            f"BERAAD_TIMEZONE must be a time zone name such as Europe/Amsterdam, got {name!r}"
        ) from None
    return name


def base_url_from_environment() -> str:
    """BERAAD_BASE_URL, normalised ("" when unset); ConfigurationError naming the mistake."""
    raw = os.environ.get("BERAAD_BASE_URL", "")
    if not raw.strip():
        return ""
    try:
        return normalise_base_url(raw)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None


DEFAULTS = {
    "METHODS_DIR": str(REPO_ROOT / "methods"),
    "DILEMMA_BANK_DIR": str(REPO_ROOT / "dilemma_bank"),
    "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
    "BABEL_DEFAULT_LOCALE": "nl",
    "BABEL_DEFAULT_TIMEZONE": DEFAULT_TIMEZONE,
    "TIMEZONE": DEFAULT_TIMEZONE,
    "ORGANISATION": "",
    "LANGUAGES": SUPPORTED_LANGUAGES,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    # A phone may keep a page open for hours; tokens stay valid for the signed session.
    "WTF_CSRF_TIME_LIMIT": None,
    "RATELIMIT_ENABLED": True,
    # A rate-limit store that is down lets requests through (logged), for the decorated routes
    # (sign-in, the API); the participant routes do the same in beraad/ratelimit_storage.fail_open.
    "RATELIMIT_SWALLOW_ERRORS": True,
    "RATELIMIT_HEADERS_ENABLED": True,
    "TRUSTED_PROXIES": 0,
    "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
    # Per personal access token (per signed-in user or address without one), over all of /api/v1.
    "API_RATE_LIMIT": "300 per minute",
    # How long a process may answer a phone's state poll from the version it read last (s).
    "STATE_CACHE_SECONDS": 0.25,
    "BERAAD_K": 3,
    "BERAAD_FOUR_EYES": True,
    "BERAAD_RETENTION_DAYS": 30,
    # SQLite: how long `beraad purge` keeps trying to empty the WAL while another connection reads
    # (it then fails), and how long closing a session tries once it is closed (then only logs).
    "PURGE_CHECKPOINT_SECONDS": 5.0,
    "CLOSE_CHECKPOINT_SECONDS": 0.5,
    "BANK_PAGE_SIZE": 20,
    "MAX_DILEMMA_BYTES": 40_000,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
}
