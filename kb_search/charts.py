"""The dashboard's charts as SVG drawn on the server: no chart library, no script, nothing
fetched. Each chart is an `<svg role="img">` with a title; the page puts a table of the same
figures beside it (the text alternative). Series differ by colour and by dash, so they stay
apart without colour too; every colour meets 3:1 against white (WCAG 1.4.11).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240  # drawn at this size for wide screens, and at NARROW for phones
NARROW = 340  # a 390 px phone's column: drawn 1:1, so its text is as large as the page's
LEFT, RIGHT, TOP, BOTTOM = 48, 48, 16, 36
BAR = "#7c93b8"
INK = "#1f2937"
GRID = "#d1d5db"
LINES = (("#b45309", ""), ("#0f766e", "6 4"), ("#7e22ce", "2 3"))  # colour, dash


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]  # one a day; None: no figure that day


def _x(i: int, n: int, width: int) -> float:
    inner = width - LEFT - RIGHT
    return LEFT + inner * (i + 0.5) / max(1, n)


def _y(value: float, top: float) -> float:
    inner = HEIGHT - TOP - BOTTOM
    return TOP + inner * (1 - (value / top if top else 0))


def _nice(top: float) -> float:
    """A round axis maximum at or above `top`: 1, 2 or 5 times a power of ten."""
    if top <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(top))
    return float(next(m * magnitude for m in (1, 2, 5, 10) if top <= m * magnitude))


def _polyline(series: Series, n: int, top: float, colour: str, dash: str, width: int) -> str:
    runs: list[list[str]] = []
    run: list[str] = []
    for i, value in enumerate(series.values):
        if value is None:
            runs, run = ([*runs, run] if run else runs), []
            continue
        run.append(f"{_x(i, n, width):.1f},{_y(value, top):.1f}")
    runs = [*runs, run] if run else runs
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    parts = []
    for points in runs:
        if len(points) == 1:
            x, y = points[0].split(",")
            parts.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>')
        else:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}"'
                f' stroke-width="2.5"{dashed}/>'
            )
    return "".join(parts)


def _text(x: float, y: float, text: str, anchor: str = "middle", size: int = 12) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"'
        f' fill="{INK}">{escape(text)}</text>'
    )


def _day_ticks(days: Sequence[dt.date], width: int) -> str:
    n = len(days)
    picks = sorted({0, n // 2, n - 1}) if n > 2 else list(range(n))
    return "".join(_text(_x(i, n, width), HEIGHT - 18, days[i].strftime("%d %b")) for i in picks)


def _frame(title: str, body: str, legend: Sequence[tuple[str, str, str]], width: int) -> str:
    keys = []
    x = LEFT if width > NARROW else 8
    height = HEIGHT + 8
    for label, colour, dash in legend:
        if x + 30 + 7 * len(label) > width:  # the next key goes on a line of its own
            x, height = (LEFT if width > NARROW else 8), height + 16
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        y = height - 12
        keys.append(
            f'<line x1="{x}" y1="{y}" x2="{x + 18}" y2="{y}" stroke="{colour}"'
            f' stroke-width="{8 if colour == BAR else 2.5}"{dashed}/>'
            + _text(x + 22, y + 4, label, "start", 11)
        )
        x += 30 + 7 * len(label)
    return (
        f'<svg class="kb-chart" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(title)}</title>{body}{''.join(keys)}</svg>"
    )


def _both(draw: Any) -> Markup:
    """A chart drawn for wide screens and for phones; the stylesheet shows one of them."""
    return Markup(
        f'<span class="kb-chart-wide">{draw(WIDTH)}</span>'
        f'<span class="kb-chart-narrow">{draw(NARROW)}</span>'
    )


def _axis(top: float, fmt: str, x: float, anchor: str, width: int) -> str:
    return "".join(
        f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{_y(top * f, top):.1f}"'
        f' y2="{_y(top * f, top):.1f}" stroke="{GRID}" stroke-width="1"/>'
        + _text(x, _y(top * f, top) + 4, fmt.format(top * f), anchor, 11)
        for f in (0, 0.5, 1)
    )


def day_chart(
    title: str,
    days: Sequence[dt.date],
    bars: Series | None,
    lines: Sequence[Series],
    line_format: str = "{:.0%}",
    line_top: float | None = 1.0,
    marker: dt.date | None = None,
) -> Markup:
    """Bars (counts, left axis) and lines (rates, right axis) over days; `marker`: a day to
    draw a line at (the day a gap was answered)."""
    n = len(days)

    def draw(width: int) -> str:
        body = []
        legend: list[tuple[str, str, str]] = []
        if bars is not None:
            top = _nice(max((v or 0 for v in bars.values), default=0))
            body.append(_axis(top, "{:g}", LEFT - 6, "end", width))
            bar = max(1.0, (width - LEFT - RIGHT) / max(1, n) * 0.7)
            for i, value in enumerate(bars.values):
                if value:
                    y = _y(value, top)
                    body.append(
                        f'<rect x="{_x(i, n, width) - bar / 2:.1f}" y="{y:.1f}" width="{bar:.1f}"'
                        f' height="{HEIGHT - BOTTOM - y:.1f}" fill="{BAR}"/>'
                    )
            legend.append((bars.label, BAR, ""))
        rate_top = line_top or _nice(max((v or 0 for s in lines for v in s.values), default=0))
        if lines:
            body.append(_axis(rate_top, line_format, width - RIGHT + 6, "start", width))
        for series, (colour, dash) in zip(lines, LINES, strict=False):
            body.append(_polyline(series, n, rate_top, colour, dash, width))
            legend.append((series.label, colour, dash))
        if marker is not None and days and days[0] <= marker <= days[-1]:
            x = _x((marker - days[0]).days, n, width)
            body.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="{INK}"'
                ' stroke-width="2" stroke-dasharray="4 3"/>'
                + _text(x + 4, TOP + 10, "answered", "start", 11)
            )
        body.append(_day_ticks(days, width))
        return _frame(title, "".join(body), legend, width)

    return _both(draw)


def before_after(title: str, rows: Sequence[tuple[str, float | None, float | None]]) -> Markup:
    """One row per answered gap: its rate before (hollow) and after (filled) the answer, on a
    0-100 % scale, joined by a line (the gap-closure chart)."""

    def draw(width: int) -> str:
        row_height = 30
        label_width = 200 if width > NARROW else 110
        height = TOP + row_height * max(1, len(rows)) + BOTTOM
        inner = width - label_width - 24

        def x(rate: float) -> float:
            return label_width + inner * rate

        body = [
            f'<line x1="{x(f):.1f}" x2="{x(f):.1f}" y1="{TOP}" y2="{height - BOTTOM}"'
            f' stroke="{GRID}"/>' + _text(x(f), height - BOTTOM + 16, f"{f:.0%}", "middle", 11)
            for f in (0, 0.5, 1)
        ]
        longest = 28 if width > NARROW else 14
        for i, (label, before, after) in enumerate(rows):
            y = TOP + row_height * (i + 0.5)
            short = label if len(label) <= longest else label[: longest - 1] + "…"
            body.append(_text(label_width - 8, y + 4, short, "end", 12))
            if before is not None and after is not None:
                body.append(
                    f'<line x1="{x(before):.1f}" x2="{x(after):.1f}" y1="{y:.1f}" y2="{y:.1f}"'
                    f' stroke="{INK}" stroke-width="2"/>'
                )
            if before is not None:
                body.append(
                    f'<circle cx="{x(before):.1f}" cy="{y:.1f}" r="6" fill="#fff"'
                    f' stroke="{LINES[0][0]}" stroke-width="2.5"/>'
                )
            if after is not None:
                body.append(
                    f'<circle cx="{x(after):.1f}" cy="{y:.1f}" r="6" fill="{LINES[1][0]}"/>'
                )
        legend = (
            f'<circle cx="{label_width + 6}" cy="{height - 8}" r="5" fill="#fff"'
            f' stroke="{LINES[0][0]}" stroke-width="2.5"/>'
            + _text(label_width + 16, height - 4, "before", "start", 11)
            + f'<circle cx="{label_width + 76}" cy="{height - 8}" r="5" fill="{LINES[1][0]}"/>'
            + _text(label_width + 86, height - 4, "since the answer", "start", 11)
        )
        return (
            f'<svg class="kb-chart" viewBox="0 0 {width} {height}" role="img"'
            f' aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f"{''.join(body)}{legend}</svg>"
        )

    return _both(draw)
