"""A team's calendar feed (iCalendar, RFC 5545), written by hand: no dependency for a few lines.

One all-day event per planned session of the team and one per open or in-progress action point
with a due date. Every line ends in CRLF and is folded at 75 octets; text is escaped. UIDs are
stable and DTSTAMP is a fixed moment of each item (when it was made), so the same data gives the
same feed, byte for byte: calendar apps that poll it see no change where there is none.
Plain Python: no request globals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..models import ActionPoint, DeliberationSession, FollowUp, Team

LIMIT = 75  # octets per line, the line break not counted
STILL_OPEN = (FollowUp.OPEN.value, FollowUp.IN_PROGRESS.value)


@dataclass(frozen=True)
class Event:
    uid: str
    day: date
    summary: str
    stamp: datetime  # naive UTC
    description: str = ""


def escape(text: str) -> str:
    """Escape a TEXT value: backslash, semicolon, comma and line breaks."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line into parts of at most 75 octets, never inside a UTF-8 character; every
    continuation starts with a space (which counts towards its 75)."""
    parts, current, size = [], [], 0
    for char in line:
        width = len(char.encode("utf-8"))
        room = LIMIT if not parts else LIMIT - 1
        if size + width > room:
            parts.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _day(value: date) -> str:
    return value.strftime("%Y%m%d")


def render(name: str, events: Iterable[Event]) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//beraad//Moreel beraad//NL",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{_stamp(event.stamp)}",
            f"DTSTART;VALUE=DATE:{_day(event.day)}",
            f"DTEND;VALUE=DATE:{_day(event.day + timedelta(days=1))}",
            f"SUMMARY:{escape(event.summary)}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{escape(event.description)}")
        lines += ["TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def events(sessions: Iterable[DeliberationSession]) -> list[Event]:
    """The feed's events: planned sessions by day, then open action points by due date."""
    sessions = list(sessions)
    planned = sorted((s for s in sessions if s.scheduled_for), key=lambda s: (s.scheduled_for, s.id))
    result = [
        Event(f"session-{s.id}@beraad", s.scheduled_for, f"Moreel beraad: {s.title}", s.created_at)
        for s in planned
    ]
    points: list[tuple[ActionPoint, DeliberationSession]] = [
        (point, session)
        for session in sessions
        for point in session.action_points
        if point.due is not None and point.follow_up in STILL_OPEN
    ]
    points.sort(key=lambda pair: (pair[0].due, pair[0].id))
    for point, session in points:
        # An action point has no creation time of its own: the session's is fixed too.
        description = f"{point.who} · {session.title}" if point.who else session.title
        result.append(
            Event(
                f"action-{point.id}@beraad",
                point.due,
                f"Actiepunt: {point.what}",
                session.created_at,
                description,
            )
        )
    return result


def feed(team: Team, sessions: Iterable[DeliberationSession]) -> str:
    return render(f"Moreel beraad · {team.name}", events(sessions))
