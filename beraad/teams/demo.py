"""The demo team of `beraad demo --series`: a team with three past sessions, one month apart.

So that a new installation shows what a team's history and the coordinator's insights look like,
the demo facilitator gets a team whose last three months of moral case deliberation really took
place in the app: each session is made, started, run step by step, voted on by simulated phones,
evaluated and closed through the same service functions a facilitator's clicks and the phones' taps
call, with the clock of that day (`now=`) instead of today's. Whatever the app derives along the way
(the Terugblik step, the carried-over points, the scattering of answers, the evaluation tallies at
close) therefore happens exactly as in real use. The second and third session look back on the
action points of the one before, and record what became of each: done, in progress, dropped or
carried over.

The content (notes, action points, follow-up notes, open answers) is Dutch, as the sessions are, and
speaks of roles, never of names. The votes and the evaluation are drawn from a seeded random
generator: the same figures every time the series is made.

Plain functions: they flush, the caller commits. Deleting the old team (`remove_team`) commits,
as `sessions.delete_session` does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import select

from ..bank import service as bank
from ..extensions import db
from ..methods import service as methods
from ..models import DeliberationSession, DilemmaStatus, Poll, SessionStatus, Team, User, utcnow
from ..sessions import service as sessions
from ..vote import evaluation
from ..vote import service as vote
from . import followup
from .service import create_team, series

DEMO_TEAM = "Demo: team Publiekszaken"  # content, in the sessions' language (Dutch)
DEMO_LEVEL = "gemeente"
LANGUAGE = "nl"
STARTS_AT = time(13, 30)  # the team meets on a Tuesday afternoon, local time
MEETING_WEEKDAY = 1  # Tuesday
PREPARED_DAYS = 13  # the facilitator made the session this many days before it took place


@dataclass(frozen=True)
class PlannedSession:
    """One session of the demo series: what it is about and what happened in it."""

    months_ago: int
    title: str
    method: str  # a method key (every method but the periodic measure has the evaluation)
    dilemma: str  # the slug of a published dilemma of the bank
    participants: int
    notes: dict[str, str]  # step key -> the facilitator's notes at that step
    actions: tuple[tuple[str, str, int], ...]  # what, who (a role), due: days after the session
    # What became of each action point of the previous session, in their order: (status, note).
    review: tuple[tuple[str, str], ...] = ()
    leaning: dict[str, str] = field(default_factory=dict)  # choice poll key -> the option most chose
    values: tuple[str, ...] = ()  # ranking polls: the values most put on top, in that order
    texts: tuple[str, ...] = ()  # answers to the open questions of the votes
    level: float = 0.7  # where the evaluation's answers lie on each scale (0: lowest, 1: highest)
    improvements: tuple[str, ...] = ()  # answers to the evaluation's open question


PLAN = (
    PlannedSession(
        months_ago=3,
        title="Beraad: meebeoordelen bij een familieband",
        method="dilemmamethode",
        dilemma="belangenverstrengeling-aanbesteding",
        participants=8,
        notes={
            "inleiding": "Afspraken over vertrouwelijkheid herhaald: wat hier gezegd wordt, blijft hier. "
            "Twee nieuwe collega's van inkoop doen voor het eerst mee.",
            "verhelderende-vragen": "De vragen gingen vooral over wat er al bij inkoop gemeld was en of de "
            "plannen ook geanonimiseerd herkenbaar zijn. Niet iedereen wist dat een gemelde familieband in "
            "het aanbestedingsdossier komt.",
            "waarden-en-normen": "Zorgvuldigheid en transparantie bovenaan. Loyaliteit aan de planning van "
            "de scholen speelde duidelijk mee.",
            "alternatieven": "Nieuw alternatief uit de groep: meebeoordelen, maar een tweede beoordelaar "
            "controleert de scores op installatietechniek van alle inschrijvers.",
            "dialoog": "Spanning tussen deskundigheid en de schijn van belangenverstrengeling. Een deel van "
            "het team vindt de schijn alleen al zwaar genoeg wegen; anderen wijzen op het risico dat de "
            "gymzalen niet op tijd klaar zijn. Afgesproken: we praten over rollen, niet over personen.",
            "conclusie": "De groep schuift op naar een onafhankelijke tweede beoordeling. Het melden van "
            "familiebanden moet een vast punt worden bij de start van elke aanbesteding.",
        },
        actions=(
            (
                "Werkinstructie belangenverstrengeling bij aanbestedingen aanvullen met een meldroute",
                "inkoopadviseur",
                35,
            ),
            (
                "Teamoverleg: afspraken over het melden van familiebanden met inschrijvers vastleggen",
                "teamleider",
                28,
            ),
            ("Casus geanonimiseerd delen in de nieuwsbrief integriteit", "integriteitscoördinator", 42),
            (
                "Nagaan of vooraf een externe deskundige kan worden ingehuurd voor technische beoordelingen",
                "inkoopadviseur",
                14,
            ),
        ),
        leaning={"moreel-dilemma": "B", "eigen-afweging": "B", "conclusie": "B"},
        values=("zorgvuldigheid", "transparantie", "rechtvaardigheid", "vertrouwen"),
        texts=(
            "Zorgvuldigheid: ook de schijn telt bij een aanbesteding.",
            "Rechtvaardigheid naar de andere inschrijvers. Schade beperken met een tweede beoordelaar.",
            "Vertrouwen in de gemeente als opdrachtgever weegt zwaarder dan de planning.",
            "Deskundigheid inzetten, maar controleerbaar. Dan blijft de schade klein.",
            "Transparantie: melden en vastleggen, dan kan iedereen het volgen.",
            "De kinderen moeten na de zomer kunnen sporten. Dat weegt ook.",
        ),
        level=0.6,
        improvements=(
            "Meer tijd voor de dialoog.",
            "Casus een week vooraf rondsturen.",
            "Kortere inleiding.",
        ),
    ),
    PlannedSession(
        months_ago=2,
        title="Beraad: cliënten informeren na een datalek",
        method="zeven-vragen",
        dilemma="datalek-collega",
        participants=7,
        notes={
            "terugblik": "De meeste punten zijn afgerond of bewust losgelaten. Het stuk voor de "
            "nieuwsbrief schuift door.",
            "morele-kwestie": "Kern: is openheid naar cliënten een plicht, ook als de wet het niet vraagt?",
            "betrokkenen": "Cliënten, de medewerker die het lek zelf meldde, de ontvanger, het "
            "afdelingshoofd, de privacyfunctionaris en de cliëntenraad.",
            "ontbrekende-informatie": "We weten niet hoe cliënten eerder reageerden op brieven van de "
            "gemeente. De cliëntenraad kan dat vertellen.",
            "argumenten": "Voor informeren: vertrouwen en het recht om te weten. Ertegen: onrust en afhaken "
            "bij een kwetsbare groep. Bescherming van de collega die het meldde mag geen reden zijn om te "
            "zwijgen tegen cliënten.",
            "concrete-stappen": "Een brief in gewone taal met één vast aanspreekpunt, eerst afgestemd met de "
            "cliëntenraad.",
        },
        actions=(
            (
                "Waarschuwing instellen bij automatisch aangevulde e-mailadressen van buiten de gemeente",
                "informatiebeveiligingsadviseur",
                30,
            ),
            ("Vaste tekst opstellen om cliënten na een datalek te informeren", "privacyfunctionaris", 28),
            ("In het werkoverleg bespreken hoe we fouten melden zonder schuldvraag", "teamleider", 21),
        ),
        review=(
            ("done", "De aanvulling staat op intranet; de meldroute loopt via inkoop."),
            ("done", "Vastgelegd in het teamoverleg en opgenomen in de startnotitie van elke aanbesteding."),
            ("carried", "De nieuwsbrief verscheen later dan gepland; het stuk ligt klaar."),
            ("dropped", "Het raamcontract voor externe deskundigen regelt dit al."),
        ),
        leaning={"conclusie": "A"},
        level=0.7,
        improvements=(
            "Fijn dat we begonnen met terugkijken op de afspraken.",
            "Meer tijd voor de argumenten.",
            "De stap over ontbrekende informatie mocht langer.",
        ),
    ),
    PlannedSession(
        months_ago=1,
        title="Beraad: Bibob-onderzoek onder druk",
        method="nijmeegse-methode",
        dilemma="bibob-vergunning-druk",
        participants=9,
        notes={
            "terugblik": "De casus stond in de nieuwsbrief. De waarschuwing bij e-mailadressen wordt nog "
            "getest. Het werkoverleg over melden zonder schuldvraag ging niet door en schuift door.",
            "probleem": "Kan een adviseur een dossier zuiver beoordelen als een bestuurder aandringt en er "
            "mogelijk sprake is van intimidatie?",
            "feiten": "Het RIEC-signaal gaat over een oud-zakenpartner, niet over de aanvrager. De lening "
            "komt van een bv met een onbekende eigenaar. Het festival begint over zes weken.",
            "morele-evaluatie": "Veiligheid en zorgvuldigheid wegen het zwaarst. Rechtvaardigheid voor een "
            "mogelijk eerlijke ondernemer bleef nadrukkelijk op tafel.",
            "besluit": "Een meerderheid kiest ervoor eerst aanvullende stukken op te vragen. Welke keuze "
            "ook: de druk van buiten en de auto bij het huis worden gemeld.",
            "afronding": "Afgesproken dat niemand een Bibob-dossier alleen draagt als er signalen van "
            "intimidatie zijn.",
        },
        actions=(
            (
                "Teamoverleg: afspraken vastleggen over contact met bestuurders over lopende dossiers",
                "teamleider",
                21,
            ),
            (
                "De meldroute bij intimidatie rond dossiers opnieuw onder de aandacht brengen",
                "integriteitscoördinator",
                14,
            ),
            (
                "Drempel voor een Bibob-advies bij horeca-aanvragen opnemen in de werkinstructie",
                "vergunningverlener",
                42,
            ),
        ),
        review=(
            ("done", "Verschenen in de laatste nieuwsbrief integriteit."),
            ("in_progress", "ICT test de waarschuwing; invoering na de migratie van de mailomgeving."),
            ("done", "Tekst afgestemd met de cliëntenraad en de privacyfunctionaris."),
            ("carried", "Het werkoverleg ging niet door; we pakken het vandaag op."),
        ),
        leaning={"besluit": "B"},
        values=("veiligheid", "zorgvuldigheid", "rechtvaardigheid"),
        level=0.78,
        improvements=(
            "Goed dat de terugblik kort bleef.",
            "Graag vaker een casus uit de eigen praktijk.",
            "Het besluit kwam wat snel; meer tijd voor de feiten.",
        ),
    ),
)


@dataclass(frozen=True)
class Outcome:
    team: Team
    sessions: list[DeliberationSession]
    state: str  # created | reused | reset
    deleted: int = 0  # sessions of the old demo team deleted (reset)


def missing_methods() -> list[str]:
    """The keys of the methods the series runs that are not in the database."""
    return [key for key in dict.fromkeys(p.method for p in PLAN) if methods.get_method(key) is None]


def missing_dilemmas() -> list[str]:
    """The slugs of the series' dilemmas that are not published in the bank."""
    missing = []
    for slug in dict.fromkeys(p.dilemma for p in PLAN):
        dilemma = bank.get_by_slug(slug)
        if dilemma is None or dilemma.status != DilemmaStatus.PUBLISHED:
            missing.append(slug)
    return missing


def find_team(owner: User) -> Team | None:
    """The owner's demo team (the oldest, should there be more than one)."""
    statement = select(Team).where(Team.owner_id == owner.id, Team.name == DEMO_TEAM).order_by(Team.id)
    return db.session.scalars(statement).first()


def remove_team(team: Team) -> int:
    """Delete the team with every session in it, the newest first; return how many sessions.

    A session of the team that is running (one the demo user started there) is closed first: a
    running session is never deleted unclosed. Commits (see `sessions.delete_session`).
    """
    found = list(reversed(series(team)))
    for session in found:
        if session.status == SessionStatus.RUNNING:
            sessions.close_session(session)
        sessions.delete_session(session)
    db.session.delete(team)
    db.session.flush()
    return len(found)


def ensure_series(
    owner: User, *, k: int, zone: tzinfo, reset: bool = False, now: datetime | None = None
) -> Outcome:
    """The owner's demo team with its past sessions: reused when it exists, else made; with reset
    the old one is deleted, with all its sessions, and made anew. Check `missing_methods` and
    `missing_dilemmas` first."""
    team = find_team(owner)
    if team is not None and not reset:
        return Outcome(team, series(team), "reused")
    state, deleted = ("reset", remove_team(team)) if team is not None else ("created", 0)
    team = build_series(owner, k=k, zone=zone, now=now)
    return Outcome(team, series(team), state, deleted)


def meeting_day(today: date, months_ago: int) -> date:
    """The Tuesday on or before the same day of the month `months_ago` months before today."""
    month, year = today.month - months_ago, today.year
    while month < 1:
        month, year = month + 12, year - 1
    day = date(year, month, min(today.day, 28))
    return day - timedelta(days=(day.weekday() - MEETING_WEEKDAY) % 7)


def _utc(day: date, at: time, zone: tzinfo) -> datetime:
    """A local time on a day, as the database keeps times: naive UTC."""
    return datetime.combine(day, at, zone).astimezone(UTC).replace(tzinfo=None)


def build_series(owner: User, *, k: int, zone: tzinfo, now: datetime | None = None) -> Team:
    """Make the demo team and run its past sessions, the oldest first (now: naive UTC, default now)."""
    today = (now or utcnow()).replace(tzinfo=UTC).astimezone(zone).date()
    team = create_team(owner, DEMO_TEAM, DEMO_LEVEL)
    made = []
    for number, plan in enumerate(PLAN):
        rng = random.Random(number)  # noqa: S311 - simulated votes, the same every time; no secret
        made.append(_run(owner, team, plan, meeting_day(today, plan.months_ago), k, zone, rng))
    team.created_at = made[0].created_at - timedelta(days=7)  # the team existed before its first session
    db.session.flush()
    return team


def _run(
    owner: User, team: Team, plan: PlannedSession, day: date, k: int, zone: tzinfo, rng: random.Random
) -> DeliberationSession:
    """One past session, from its creation to its close, through the service functions."""
    method = methods.get_method(plan.method)
    dilemma = bank.get_by_slug(plan.dilemma)
    start = _utc(day, STARTS_AT, zone)
    # Made now, it looks back on the team's previous session (the Terugblik) as one made back then
    # would; then dated back to when the facilitator prepared it, as the new-session form would have.
    session = sessions.create_session(
        owner, method, [dilemma], plan.title, LANGUAGE, k, owner.display_name, team=team
    )
    session.created_at = start - timedelta(days=PREPARED_DAYS, hours=4)
    session.scheduled_for = day
    db.session.flush()
    # Enough phones for every result to be shown: at least one more than k.
    members = [vote.join(session, vote.new_token()) for _ in range(max(plan.participants, k + 1))]
    steps = {step.key: step for step in sessions.method_of(session).steps}
    moment = start
    sessions.start_session(session, now=moment)
    last = session.steps[-1].position
    for step in list(session.steps):
        if step.position:
            sessions.go_to_step(session, step.position, now=moment)
        if steps[step.step_key].followup:
            _review(session, plan, day, moment)
        if note := plan.notes.get(step.step_key):
            sessions.save_notes(session, step.position, note)
        for poll in [p for p in session.polls if p.position == step.position]:
            _vote(session, poll, members, plan, k, rng)
        if step.position == last:
            for what, who, days in plan.actions:
                sessions.add_action_point(session, what, who, day + timedelta(days=days))
            _evaluate(session, members, plan, rng)
        moment += timedelta(seconds=round(step.planned_minutes * 60 * rng.uniform(0.85, 1.2)))
    sessions.close_session(session, now=moment)
    return session


def _review(session: DeliberationSession, plan: PlannedSession, day: date, moment: datetime) -> None:
    """The Terugblik: what became of each action point of the team's previous session."""
    points = followup.points_to_review(session)
    for point, (status, note) in zip(points, plan.review, strict=True):
        followup.record_follow_up(session, point, status, note, today=day)
        point.reviewed_at = moment  # looked back on that day (record_follow_up takes no clock)
    db.session.flush()


def _vote(
    session: DeliberationSession, poll: Poll, members: list, plan: PlannedSession, k: int, rng: random.Random
) -> None:
    """Open the poll, let the phones answer (now and then one abstains), close it."""
    if poll.spec.get("from_room") and len(sessions.poll_options(session, poll)) < 2:
        return  # a vote on options the room types in: none were typed, so it is not held
    sessions.open_poll(session, poll)
    keys = [option["key"] for option in poll.options]
    voters = members[:-1] if len(members) > k + 1 and rng.random() < 0.4 else members
    if poll.type == "text" and len(plan.texts) >= k:
        voters = voters[: len(plan.texts)]  # not everyone types an answer; nobody types the same
    for index, member in enumerate(voters):
        raw = _answer(poll, keys, plan, index, rng)
        vote.submit_answer(session.join_code, poll.id, member, raw)
    sessions.close_poll(session, poll)


def _answer(poll: Poll, keys: list[str], plan: PlannedSession, index: int, rng: random.Random) -> dict:
    if poll.type == "choice":
        lean = plan.leaning.get(poll.key, keys[0])
        return {"choice": rng.choices(keys, weights=[5 if key == lean else 1 for key in keys])[0]}
    if poll.type == "scale":
        scale = poll.spec.get("scale") or {"min": 1, "max": 5}
        return {"value": _scaled(scale["min"], scale["max"], plan.level, rng)}
    if poll.type == "ranking":
        first = [value for value in plan.values if value in keys]
        order = first + [key for key in keys if key not in first]
        for _ in range(2):  # nobody ranks quite like the others
            i = rng.randrange(len(order) - 1)
            order[i], order[i + 1] = order[i + 1], order[i]
        return {"ranking": order}
    texts = plan.texts or ("Zorgvuldigheid weegt voor mij het zwaarst.",)
    return {"text": texts[index % len(texts)]}


def _scaled(low: int, high: int, level: float, rng: random.Random) -> int:
    """An answer on a scale around `level` (0–1 of the way from low to high)."""
    spread = max(1, (high - low) // 4)
    value = low + (high - low) * level + rng.choice((-1, 0, 0, 1)) * spread + rng.uniform(-0.5, 0.5)
    return min(high, max(low, round(value)))


def _evaluate(session: DeliberationSession, members: list, plan: PlannedSession, rng: random.Random) -> None:
    """Open the evaluation and let every phone fill it in (the open question now and then)."""
    evaluation.set_open(session, True)
    items = evaluation.items(session)
    for index, member in enumerate(members):
        answers = {}
        for spec in items:
            if spec.type == "scale" and spec.scale:
                answers[spec.key] = str(_scaled(spec.scale.min, spec.scale.max, plan.level, rng))
            elif index < len(plan.improvements):
                answers[spec.key] = plan.improvements[index]
        evaluation.submit(session, member, answers)
