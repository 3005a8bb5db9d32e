"""Labels of the exports in the session's language (PDF, Markdown, CSV run without a request)."""

LABELS = {
    "nl": {
        "summary": "Verslag moreel beraad", "date": "Datum", "method": "Methode",
        "facilitator": "Gespreksleider",
        "participants": "Deelnemers", "time": "Tijd", "planned": "gepland", "actual": "werkelijk",
        "minutes": "min", "dilemma": "Dilemma", "steps": "Stappen", "notes": "Notities",
        "on_screen": "Op het scherm",
        "no_notes": "Geen notities.", "polls": "Stemmingen", "no_polls": "Er is niet gestemd.",
        "answers": "antwoorden", "hidden": "resultaten worden pas getoond vanaf {k} antwoorden",
        "before": "eerst", "after": "nu", "mean": "gemiddelde", "points": "punten",
        "contributions": "Anonieme bijdragen", "no_contributions": "Geen bijdragen vrijgegeven.",
        "actions": "Actiepunten", "no_actions": "Geen actiepunten.", "what": "Wat",
        "who": "Wie (rol)", "when": "Wanneer", "evaluation": "Evaluatie",
        "no_evaluation": "Geen evaluatie ingevuld.",
        "evaluation_open": "De evaluatie loopt nog. De uitkomsten komen in dit verslag zodra de "
                           "gespreksleider haar sluit.",
        "step": "Stap", "question": "Vraag",
        "option": "Optie", "count": "Aantal", "percent": "Procent", "shown": "Getoond",
        "consent_redacted": "Aangepaste tekst, met instemming van de casusinbrenger.",
        "consent_question": "Alleen de morele vraag, op verzoek van de casusinbrenger.",
        "anonymity": "Dit verslag bevat alleen totalen. Resultaten van minder dan {k} antwoorden "
                     "worden niet getoond.",
        "planned_actual": "gepland {planned} min, werkelijk {actual} min",
        "not_closed": "Voorlopig verslag: de sessie is nog niet afgesloten.",
        "no_dilemma": "Geen dilemma vastgelegd.", "no_steps": "Geen stappen vastgelegd.",
        "answer": "antwoord", "point": "punt", "compared": "eerst: {question}",
        "no_answers": "Geen antwoorden.", "page": "Pagina {page} van {total}",
    },
    "en": {
        "summary": "Moral case deliberation summary", "date": "Date", "method": "Method",
        "facilitator": "Facilitator",
        "participants": "Participants", "time": "Time", "planned": "planned", "actual": "actual",
        "minutes": "min", "dilemma": "Dilemma", "steps": "Steps", "notes": "Notes",
        "on_screen": "On screen",
        "no_notes": "No notes.", "polls": "Votes", "no_polls": "There were no votes.",
        "answers": "answers", "hidden": "results are only shown from {k} answers",
        "before": "before", "after": "now", "mean": "average", "points": "points",
        "contributions": "Anonymous contributions", "no_contributions": "No contributions released.",
        "actions": "Action points", "no_actions": "No action points.", "what": "What",
        "who": "Who (role)", "when": "By when", "evaluation": "Evaluation",
        "no_evaluation": "No evaluation filled in.",
        "evaluation_open": "The evaluation is still open. Its results appear in this summary once the "
                           "facilitator closes it.",
        "step": "Step", "question": "Question",
        "option": "Option", "count": "Count", "percent": "Percent", "shown": "Shown",
        "consent_redacted": "Edited text, with the case presenter's consent.",
        "consent_question": "Only the moral question, at the case presenter's request.",
        "anonymity": "This summary contains totals only. Results of fewer than {k} answers "
                     "are not shown.",
        "planned_actual": "planned {planned} min, actual {actual} min",
        "not_closed": "Provisional summary: the session has not been closed yet.",
        "no_dilemma": "No dilemma recorded.", "no_steps": "No steps recorded.",
        "answer": "answer", "point": "point", "compared": "before: {question}",
        "no_answers": "No answers.", "page": "Page {page} of {total}",
    },
}  # fmt: skip
MONTHS = {
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}  # fmt: skip


def labels(language: str) -> dict:
    return LABELS.get(language, LABELS["nl"])


def long_date(iso: str, language: str) -> str:
    """2026-11-25 → '25 november 2026' / '25 November 2026'."""
    year, month, day = (int(part) for part in iso.split("-"))
    return f"{day} {MONTHS.get(language, MONTHS['nl'])[month - 1]} {year}"
