"""A hand-made Summary covering every part, for PDF and export tests."""

from beraad.summary.model import (
    ActionSummary,
    DilemmaSummary,
    PollSummary,
    ResultRow,
    StepSummary,
    Summary,
)


def sample_summary(**changes) -> Summary:
    before = PollSummary(
        key="moreel-dilemma", step_title="Morele vraag", question="Naar welke kant neig je nu?",
        type="choice", count=6, shown=True,
        rows=(ResultRow("A", "Conclusies aanpassen", 4, 67), ResultRow("B", "Bezwaar vastleggen", 2, 33)),
    )  # fmt: skip
    polls = (
        before,
        PollSummary(
            key="waarden",
            step_title="Waarden",
            question="Welke waarden staan op het spel?",
            type="ranking",
            count=6,
            shown=True,
            rows=(
                ResultRow("integriteit", "Integriteit", 14, 78),
                ResultRow("loyaliteit", "Loyaliteit", 4, 22),
            ),
        ),  # fmt: skip
        PollSummary(
            key="conclusie",
            step_title="Conclusie",
            question="Naar welke kant neig je nu?",
            type="choice",
            count=6,
            shown=True,
            rows=(ResultRow("A", "Conclusies aanpassen", 1, 17), ResultRow("B", "Bezwaar vastleggen", 5, 83)),
            before=before,
        ),  # fmt: skip
        PollSummary(
            key="klein",
            step_title="Eigen afweging",
            question="Wat kies jij?",
            type="choice",
            count=2,
            shown=False,
        ),  # fmt: skip
        PollSummary(
            key="reactie",
            step_title="Eerste reactie",
            question="Wat is je eerste reactie?",
            type="text",
            count=3,
            shown=True,
            texts=("Boos", "Herkenbaar", "“Lastig”"),
        ),  # fmt: skip
    )
    evaluation = (
        PollSummary(
            key="herkenbaar",
            step_title="",
            question="Ik herkende de casus.",
            type="scale",
            count=5,
            shown=True,
            mean=4.2,
            rows=tuple(
                ResultRow(str(n), str(n), c, c * 20)
                for n, c in zip(range(1, 6), (0, 0, 1, 2, 2), strict=True)
            ),
        ),  # fmt: skip
        PollSummary(
            key="verbeterpunt", step_title="", question="Wat kan beter?", type="text", count=2, shown=False
        ),  # fmt: skip
    )
    values = dict(
        session_id=7,
        title="Het rapport moet ‘genuanceerder’",
        language="nl",
        date="2026-11-25",
        method="Dilemmamethode",
        facilitator="Anna de Vries",
        participants=6,
        k=3,
        planned_minutes=90,
        actual_minutes=97,
        dilemmas=(
            DilemmaSummary("Het rapport moet “genuanceerder”",
                           "Een onderzoeker krijgt het verzoek…\n\n**Moet ik de conclusies aanpassen?**",
                           "full"),
        ),
        steps=(
            StepSummary(0, "Inleiding", "Het rapport", 5, 6, "Afspraken: vertrouwelijk, vragen stellen."),
            StepSummary(1, "De casus", "Het rapport", 10, 12,
                        "De casusinbrenger vertelt over de druk.\n\nTweede alinea met é, ë, ï en “quotes”.",
                        screen_text="Wat zou jij doen als je leidinggevende dit vraagt?"),
        ),
        polls=polls,
        contributions=("Onafhankelijkheid", "Wat als de minister het vraagt?"),
        actions=(ActionSummary("Bespreek in het MT", "afdelingshoofd", "2026-12-15"),
                 ActionSummary("Evalueer het protocol", "", None)),
        evaluation=evaluation,
    )  # fmt: skip
    values.update(changes)
    return Summary(**values)
