"""What a poll's results look like as a chart: one model for the projector, the facilitator and print.

Plain data from aggregated results (the live `vote.service.Results` or a summary's `PollSummary`);
the template `sessions/_chart.html` draws it. Nothing here sees a single answer: only counts per
value, so every figure follows the k rule the aggregate already applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ChartRow:
    key: str
    label: str
    count: int  # answers (choice, scale) or Borda points (ranking)
    percent: int  # the bar's length, 0–100
    before_percent: int | None = None  # before/after: the earlier poll's share
    mean_position: float | None = None  # ranking: 1 is the top


@dataclass(frozen=True)
class Shift:
    """The largest change between the earlier and the later poll, for a one-line summary."""

    key: str
    before_percent: int
    percent: int


@dataclass(frozen=True)
class Chart:
    kind: str  # hidden | choice | scale | ranking | text
    count: int
    k: int
    rows: tuple[ChartRow, ...] = ()
    texts: tuple[str, ...] = ()
    mean: float | None = None
    median: float | None = None
    min_label: str = ""
    max_label: str = ""
    before_count: int | None = None
    shift: Shift | None = None

    @property
    def peak(self) -> int:
        """The highest count, so a histogram's tallest column fills its height."""
        return max((row.count for row in self.rows), default=0)


def _row_fields(row: Any) -> tuple[str, str, int, int]:
    if hasattr(row, "key"):
        return row.key, row.label, row.count, row.percent
    key, label, count, percent = tuple(row)[:4]
    return key, label, count, percent


def median_of_histogram(rows: list[tuple[str, str, int, int]]) -> float | None:
    """The median of a scale's answers from its counts per point."""
    values = [(float(key), count) for key, _label, count, _percent in rows]
    total = sum(count for _value, count in values)
    if total == 0:
        return None

    def nth(index: int) -> float:  # the value at a 0-based position in sorted order
        seen = 0
        for value, count in values:
            seen += count
            if index < seen:
                return value
        return values[-1][0]

    middle = total // 2
    return nth(middle) if total % 2 else (nth(middle - 1) + nth(middle)) / 2


def build_chart(
    poll_type: str,
    result: Any,
    before: Any = None,
    min_label: str = "",
    max_label: str = "",
    k: int = 0,
) -> Chart:
    """Build the chart of aggregated results (`count`, `k`, `shown`, `rows`, `texts`, `mean`).

    A summary's PollSummary carries no k of its own: pass the session's.
    """
    k = getattr(result, "k", k)
    if not result.shown:
        return Chart("hidden", result.count, k)
    if poll_type == "text":
        return Chart("text", result.count, k, texts=tuple(result.texts))
    rows = [_row_fields(row) for row in result.rows]
    if poll_type == "ranking":
        size = len(rows)
        chart_rows = tuple(
            ChartRow(key, label, count, percent, mean_position=round(size - count / result.count, 1))
            for key, label, count, percent in rows
        )
        return Chart("ranking", result.count, k, chart_rows)
    if poll_type == "scale":
        chart_rows = tuple(ChartRow(*row) for row in rows)
        return Chart(
            "scale", result.count, k, chart_rows, mean=result.mean,
            median=median_of_histogram(rows), min_label=min_label, max_label=max_label,
        )  # fmt: skip
    earlier = {}
    if before is not None and before.shown:
        earlier = {key: percent for key, _label, _count, percent in map(_row_fields, before.rows)}
    chart_rows = tuple(
        ChartRow(key, label, count, percent, before_percent=earlier.get(key, 0) if earlier else None)
        for key, label, count, percent in rows
    )
    shift = None
    if earlier:
        biggest = max(chart_rows, key=lambda row: abs(row.percent - row.before_percent))  # first on a tie
        if biggest.percent != biggest.before_percent:
            shift = Shift(biggest.key, biggest.before_percent, biggest.percent)
    return Chart(
        "choice", result.count, k, chart_rows,
        before_count=before.count if earlier else None, shift=shift,
    )  # fmt: skip


def summary_chart(poll: Any, k: int) -> Chart:
    """The chart of a poll as the summary keeps it (used by the print view)."""
    return build_chart(poll.type, poll, poll.before, k=k)
