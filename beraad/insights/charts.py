"""Server-side SVG charts of the insights: no JavaScript, no web fonts, nothing fetched; they print.

Each function returns the markup of one <svg> (markupsafe.Markup) that scales to its container
(a viewBox, width 100%). Every text that goes in (team names, themes, questions) is escaped here.
The page puts an accessible <table> with the same figures next to every chart; the chart itself
carries a <title> and role="img".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH = 720
NARROW = 460  # charts in half a page's width
BRAND = "#154273"
MUTED = "#5a6473"
LINE = "#d8dde5"
LABEL_CHARS = 34  # a longer label is cut (with …) in the chart; the table beside it has it in full


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _short(label: str, length: int = LABEL_CHARS) -> str:
    return label if len(label) <= length else label[: length - 1].rstrip() + "…"


def _svg(title: str, height: float, body: list[str], css_class: str, width: int = WIDTH) -> Markup:
    # Safe: every text in `body` and the title went through escape(); the rest are numbers and constants.
    return Markup(  # noqa: S704
        f'<svg class="insight-chart {css_class}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} {_number(height)}" width="100%" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def month_bars(title: str, months: Sequence[tuple[str, int]], fmt: Callable[[float], str] = str) -> Markup:
    """Vertical bars: sessions per month (label, count), oldest first."""
    height, top, bottom, left = 200, 16, 28, 8
    plot = height - top - bottom
    peak = max((count for _label, count in months), default=0) or 1
    step = (WIDTH - left * 2) / max(1, len(months))
    bar = step * 0.64
    body = [f'<line x1="{left}" y1="{top + plot}" x2="{WIDTH - left}" y2="{top + plot}" stroke="{LINE}"/>']
    for index, (label, count) in enumerate(months):
        x = left + index * step + (step - bar) / 2
        length = plot * count / peak
        y = top + plot - length
        middle = _number(x + bar / 2)
        body.append(
            f'<rect class="bar-fill" x="{_number(x)}" y="{_number(y)}" width="{_number(bar)}" '
            f'height="{_number(length)}" fill="{BRAND}">'
            f"<title>{escape(label)}: {escape(fmt(count))}</title></rect>"
        )
        body.append(
            f'<text x="{middle}" y="{_number(y - 4)}" text-anchor="middle" font-size="12" '
            f'fill="#1b2330">{escape(fmt(count))}</text>'
        )
        body.append(
            f'<text x="{middle}" y="{height - 8}" text-anchor="middle" font-size="12" '
            f'fill="{MUTED}">{escape(label)}</text>'
        )
    return _svg(title, height, body, "month-bars")


def horizontal_bars(title: str, rows: Sequence[tuple[str, int]], fmt: Callable[[float], str] = str) -> Markup:
    """Horizontal bars (label, count), in the order given: themes, methods. Drawn narrower than the
    other charts, as they stand in half a page's width: their labels keep a readable size there."""
    row_height, label_width, top = 24, 180, 4
    height = top * 2 + row_height * max(1, len(rows))
    peak = max((count for _label, count in rows), default=0) or 1
    room = NARROW - label_width - 40
    body = []
    for index, (label, count) in enumerate(rows):
        y = top + index * row_height
        length = room * count / peak
        body.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end" font-size="13" fill="#1b2330">'
            f"<title>{escape(label)}</title>{escape(_short(label, 24))}</text>"
        )
        body.append(
            f'<rect class="bar-track" x="{label_width}" y="{y + 4}" width="{room}" height="15" '
            'fill="#eef1f5"/>'
        )
        body.append(
            f'<rect class="bar-fill" x="{label_width}" y="{y + 4}" width="{_number(length)}" height="15" '
            f'fill="{BRAND}"/>'
        )
        body.append(
            f'<text x="{_number(label_width + length + 6)}" y="{y + 16}" font-size="12" '
            f'fill="#1b2330">{escape(fmt(count))}</text>'
        )
    return _svg(title, height, body, "horizontal-bars", NARROW)


def dots_with_whiskers(
    title: str,
    rows: Sequence[tuple[str, float | None, float | None, int, int]],
    fmt: Callable[[float], str] = _number,
    missing: str = "–",
) -> Markup:
    """One line per evaluation item (label, mean, spread, scale min, scale max): a dot at the mean,
    whiskers at mean ± spread (kept within the scale), the scale's ends at both sides. A row without
    a mean (below k) shows `missing` instead of a dot."""
    row_height, label_width, top = 30, 330, 4
    height = top * 2 + row_height * max(1, len(rows))
    left, right = label_width + 24, WIDTH - 48
    body = []
    for index, (label, mean, spread, low, high) in enumerate(rows):
        y = top + index * row_height + 17
        body.append(
            f'<text x="{label_width - 8}" y="{y + 4}" text-anchor="end" font-size="13" fill="#1b2330">'
            f"<title>{escape(label)}</title>{escape(_short(label, 44))}</text>"
        )
        body.append(
            f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" font-size="11" fill="{MUTED}">{low}</text>'
        )
        body.append(f'<text x="{right + 6}" y="{y + 4}" font-size="11" fill="{MUTED}">{high}</text>')
        body.append(f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="{LINE}" stroke-width="2"/>')
        if mean is None:
            middle = _number((left + right) / 2)
            body.append(
                f'<text x="{middle}" y="{y + 4}" text-anchor="middle" font-size="13" fill="{MUTED}">'
                f"{escape(missing)}</text>"
            )
            continue
        span = (high - low) or 1

        def x_of(value: float, low=low, span=span) -> str:
            return _number(left + (right - left) * (min(max(value, low), low + span) - low) / span)

        if spread:
            a, b = x_of(mean - spread), x_of(mean + spread)
            body.append(f'<line x1="{a}" y1="{y}" x2="{b}" y2="{y}" stroke="{BRAND}" stroke-width="2"/>')
            for end in (a, b):
                body.append(
                    f'<line x1="{end}" y1="{y - 6}" x2="{end}" y2="{y + 6}" stroke="{BRAND}" '
                    'stroke-width="2"/>'
                )
        body.append(
            f'<circle class="dot" cx="{x_of(mean)}" cy="{y}" r="6" fill="{BRAND}">'
            f"<title>{escape(label)}: {escape(fmt(mean))}</title></circle>"
        )
        body.append(
            f'<text x="{x_of(mean)}" y="{y - 9}" text-anchor="middle" font-size="11" '
            f'fill="#1b2330">{escape(fmt(mean))}</text>'
        )
    return _svg(title, height, body, "dots-whiskers")
