"""A gentle start: an empty plan opens one section at a time, never all at once.

While nothing is in the plan for a person (or while they walk it step by step),
the plan page shows one section, its prompt open, and a way on to the next, in
the order the practice talks things through (`sections.START_ORDER`). Any step
can be skipped, and the whole plan is always one link away.
"""

from dataclasses import dataclass

from backend.entries.sections import START_ORDER, Section
from backend.plans.page import PlanPage


@dataclass(frozen=True)
class Start:
    step: Section
    number: int  # counted from 1
    steps: tuple[Section, ...] = START_ORDER

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def next(self) -> Section | None:
        return self.steps[self.number] if self.number < self.total else None


def gentle_start(
    page: PlanPage, *, step: str = "", show_all: bool = False
) -> Start | None:
    """The step to show, or None for the whole plan.

    The whole plan shows when the person asks for it, or once the plan has
    something in it and they have not asked for a step.
    """
    keys = [s.key for s in START_ORDER]
    if show_all or (step not in keys and (page.in_plan or page.removed_cards)):
        return None
    number = keys.index(step) + 1 if step in keys else 1
    return Start(step=START_ORDER[number - 1], number=number)
