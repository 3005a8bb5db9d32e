"""Human-readable, translated labels for codes shown in the interface."""

import re

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from .bank.vocabulary import TAG_LABELS_EN

STATUS_LABELS = {
    "draft": _l("Draft"),
    "review": _l("In review"),
    "published": _l("Published"),
    "retired": _l("Retired"),
}
TRANSITION_LABELS = {
    "review": _l("Send to review"),
    "published": _l("Publish"),
    "draft": _l("Back to draft"),
    "retired": _l("Retire"),
}
ROLE_LABELS = {
    "admin": _l("Administrator"),
    "coordinator": _l("Integrity coordinator"),
    "facilitator": _l("Facilitator"),
}
CHANGE_LABELS = {
    "import": _l("Imported"),
    "create": _l("Created"),
    "edit": _l("Edited"),
    "status": _l("Status changed"),
}
POLL_TYPE_LABELS = {
    "choice": _l("Choice"),
    "scale": _l("Scale"),
    "ranking": _l("Ranking"),
    "text": _l("Short text"),
}
SESSION_STATUS_LABELS = {
    "lobby": _l("Not started"),
    "running": _l("Running"),
    "closed": _l("Closed"),
}
POLL_STATUS_LABELS = {
    "pending": _l("Not opened"),
    "open": _l("Open"),
    "closed": _l("Closed"),
}
ERROR_TITLES = {
    400: _l("Something was wrong with that request"),
    403: _l("You do not have access to this page"),
    404: _l("Page not found"),
    405: _l("That is not possible here"),
    413: _l("That is too large"),
    429: _l("Too many attempts"),
    503: _l("One moment, please"),
}
ERROR_TEXTS = {
    400: _l("The form may have expired. Go back, reload the page and try again."),
    403: _l("Your account does not have the role needed for this page."),
    404: _l("The address may be mistyped, or the page was removed."),
    405: _l("Use the buttons on the page instead of typing the address."),
    413: _l("Send less text or a smaller file."),
    429: _l("Please wait a minute before you try again."),
    503: _l("The server cannot reach its database for a moment. This page tries again by itself."),
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def transition_label(status: str) -> str:
    return TRANSITION_LABELS.get(status, status)


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def change_label(change: str) -> str:
    return CHANGE_LABELS.get(change, change)


def poll_type_label(poll_type: str) -> str:
    return POLL_TYPE_LABELS.get(poll_type, poll_type)


def session_status_label(status: str) -> str:
    return SESSION_STATUS_LABELS.get(status, status)


def poll_status_label(status: str) -> str:
    return POLL_STATUS_LABELS.get(status, status)


def duration(seconds: int) -> str:
    """Show seconds as m:ss (or h:mm:ss), for timers."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes}:{secs:02d}"


def tag_label(slug: str) -> str:
    """A tag as people read it: in Dutch the slug with spaces ('politieke druk'), in English its
    translation when there is one."""
    locale = get_locale()
    if locale is not None and locale.language == "en" and slug in TAG_LABELS_EN:
        return TAG_LABELS_EN[slug]
    return slug.replace("-", " ")


def error_title(code: int) -> str:
    return ERROR_TITLES.get(code, _l("Something went wrong"))


def error_text(code: int) -> str:
    return ERROR_TEXTS.get(code, _l("Please try again later."))


def excerpt(markdown_text: str, length: int = 220) -> str:
    """Return the start of a Markdown text as plain text, cut at a word."""
    plain = re.sub(r"[*_`#>\[\]()]", "", markdown_text or "")
    plain = " ".join(plain.split())
    if len(plain) <= length:
        return plain
    return plain[:length].rsplit(" ", 1)[0] + " …"


def option_mark(key: str, number: int) -> str:
    """What an option's round badge shows: its letter (A–H), or its number when the key is a word
    (`eens`, `oneens`): a word does not fit the badge and would only repeat the option's text."""
    return key if len(key) == 1 else str(number)


TEMPLATE_HELPERS = {
    "option_mark": option_mark,
    "status_label": status_label,
    "transition_label": transition_label,
    "role_label": role_label,
    "change_label": change_label,
    "tag_label": tag_label,
    "poll_type_label": poll_type_label,
    "session_status_label": session_status_label,
    "poll_status_label": poll_status_label,
    "duration": duration,
    "error_title": error_title,
    "error_text": error_text,
    "excerpt": excerpt,
}
