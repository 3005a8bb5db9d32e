"""Plain-language messages for refused answers, shown on the phone."""

from flask_babel import lazy_gettext as _l

MESSAGES = {
    "closed": _l("This session has ended. Thank you for taking part."),
    "unknown_poll": _l("This vote does not exist (any more). Reload the page."),
    "poll_not_open": _l("This vote is closed, so your answer was not counted."),
    "not_joined": _l("Join the session first, then answer."),
    "unknown_option": _l("Choose one of the options."),
    "not_a_number": _l("Choose a number on the scale."),
    "out_of_range": _l("Choose a number on the scale."),
    "bad_ranking": _l("Put every item in an order, each once."),
    "empty": _l("Your answer is empty."),
    "too_long": _l("Your answer is too long."),
    "unreadable": _l("Your text contains characters that cannot be stored. Type it again, please."),
    "malformed": _l("Something went wrong sending your answer. Reload the page and try again."),
    "unknown_poll_type": _l("This vote cannot be answered here."),
    "rate_limited": _l("You sent a lot in a short time. Wait a minute, then try again."),
    "evaluation_not_open": _l("The evaluation is not open (any more)."),
    "personal_data": _l(
        "Your text seems to contain a name, an e-mail address or a phone number. "
        "Others might recognise someone. Change it, or send it anyway."
    ),
}


def vote_error_message(code: str) -> str:
    return str(MESSAGES.get(code, MESSAGES["malformed"]))
