"""A session's plan: the method's steps laid out for the session's dilemmas (pure Python)."""

from __future__ import annotations

from dataclasses import dataclass

from ..methods.loader import Method, Step


@dataclass(frozen=True)
class PlannedStep:
    position: int
    step: Step
    dilemma_index: int | None  # which dilemma this step is about; None: the session as a whole


def expand_steps(method: Method, dilemma_count: int) -> list[PlannedStep]:
    """Lay out the steps: each run of `repeat: each_dilemma` steps repeats once per dilemma."""
    plan: list[PlannedStep] = []
    steps = list(method.steps)
    single = dilemma_count == 1
    index = 0
    while index < len(steps):
        if not steps[index].each_dilemma:
            plan.append(PlannedStep(len(plan), steps[index], 0 if single else None))
            index += 1
            continue
        block_end = index
        while block_end < len(steps) and steps[block_end].each_dilemma:
            block_end += 1
        for dilemma_index in range(dilemma_count):
            for step in steps[index:block_end]:
                plan.append(PlannedStep(len(plan), step, dilemma_index))
        index = block_end
    return plan


def planned_minutes(method: Method, dilemma_count: int) -> int:
    """Return the planned total for this number of dilemmas."""
    return sum(planned.step.minutes for planned in expand_steps(method, dilemma_count))
