"""Charts drawn on the server as small SVG: a line over time, bars by region, a sparkline.

Why not a chart package: pygal, the maintained SVG chart library on PyPI, wrote 110 KB and took
0.23 s for one line chart of 14 regions x 20 years (its inline stylesheet and a random id per
chart), past the dataset page's 100 KB budget; a JavaScript library would leave readers without
JavaScript (and feed readers, and the embed in a newsroom's CMS) without a chart. These charts
are a few kilobytes, need no script, carry a ``<title>`` on every mark (the browser shows it as
a tooltip), and use presentation attributes only, so the pages' Content-Security-Policy can
forbid inline styles. The figures themselves are always in the table beside the chart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

#: Okabe-Ito's colour-blind-safe palette, then darker tones: one colour a line
PALETTE = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
    "#8C564B",
    "#7F7F7F",
    "#BCBD22",
    "#1F3A93",
    "#A0153E",
    "#2E7D32",
    "#6A1B9A",
)
WIDTH, HEIGHT = 640, 340
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 44
MAX_X_LABELS = 10


@dataclass(frozen=True)
class Mark:
    """One figure to draw: its value (None: missing), and its text as the reader sees it."""

    value: Decimal | None
    text: str


@dataclass(frozen=True)
class Line:
    """A series over the chart's periods (one mark a period, in their order)."""

    label: str
    marks: Sequence[Mark]


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _nice_step(span: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) that cuts ``span`` in about ``ticks``."""
    raw = span / ticks if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _scale(values: Sequence[float]) -> tuple[float, float, list[float]]:
    """The axis' low and high ends and ticks: round numbers that hold every value (and zero
    for bars and for values all of one sign near it)."""
    low, high = min(values), max(values)
    if low > 0 and low < high / 3:
        low = 0.0
    if high == low:
        low, high = (low - 1, high + 1) if low else (0.0, 1.0)
    step = _nice_step(high - low)
    start = math.floor(low / step) * step
    end = math.ceil(high / step) * step
    ticks = []
    tick = start
    while tick <= end + step / 2:
        ticks.append(round(tick, 12))
        tick += step
    return start, end, ticks


def _tick_text(value: float, step: float, number: Callable[[str], str]) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return number(f"{value:.{decimals}f}")


def _svg(label: str, body: list[str], width: int = WIDTH, height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _y_axis(ticks, y, step, number) -> list[str]:
    parts = []
    for tick in ticks:
        at = y(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{at:.1f}" y2="{at:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{at + 4:.1f}" text-anchor="end" class="tick">'
            f"{escape(_tick_text(tick, step, number))}</text>"
        )
    return parts


def line_chart(
    lines: Sequence[Line], periods: Sequence[str], label: str, number: Callable[[str], str]
) -> str:
    """Lines over ``periods``; a gap where a value is missing."""
    values = [float(m.value) for line in lines for m in line.marks if m.value is not None]
    if not values or not periods:
        return ""
    low, high, ticks = _scale(values)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    inner_w = WIDTH - LEFT - RIGHT
    inner_h = HEIGHT - TOP - BOTTOM
    gap = inner_w / max(len(periods) - 1, 1)

    def x(index: int) -> float:
        return LEFT + (index * gap if len(periods) > 1 else inner_w / 2)

    def y(value: float) -> float:
        return TOP + inner_h - (value - low) / (high - low) * inner_h

    parts = _y_axis(ticks, y, step, number)
    every = max(1, math.ceil(len(periods) / MAX_X_LABELS))
    for index, period in enumerate(periods):
        if index % every == 0 or index == len(periods) - 1:
            parts.append(
                f'<text x="{x(index):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" '
                f'class="tick">{escape(period)}</text>'
            )
    for index, line in enumerate(lines):
        parts.extend(_line(line, colour(index), periods, x, y))
    return _svg(label, parts)


def _line(line: Line, stroke: str, periods: Sequence[str], x, y) -> list[str]:
    """A line's polylines (broken where a value is missing) and its marks."""
    parts, segments, current = [], [], []
    for index, mark in enumerate(line.marks):
        if mark.value is None:
            if current:
                segments.append(current)
            current = []
            continue
        current.append(f"{x(index):.1f},{y(float(mark.value)):.1f}")
    if current:
        segments.append(current)
    for segment in segments:
        if len(segment) > 1:
            parts.append(
                f'<polyline points="{" ".join(segment)}" fill="none" stroke="{stroke}" '
                f'stroke-width="2" class="line"/>'
            )
    for index, mark in enumerate(line.marks):
        if mark.value is None:
            continue
        tip = f"{line.label}, {periods[index]}: {mark.text}"
        parts.append(
            f'<circle cx="{x(index):.1f}" cy="{y(float(mark.value)):.1f}" r="3.5" '
            f'fill="{stroke}" class="mark"><title>{escape(tip)}</title></circle>'
        )
    return parts


def bar_chart(bars: Sequence[tuple[str, Mark]], label: str, number: Callable[[str], str]) -> str:
    """One horizontal bar a region (the names stay readable on a phone), longest first."""
    drawn = [(name, mark) for name, mark in bars if mark.value is not None]
    if not drawn:
        return ""
    drawn.sort(key=lambda item: item[1].value, reverse=True)
    values = [float(mark.value) for _, mark in drawn] + [0.0]
    low, high, ticks = _scale(values)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    row, name_w = 26, 250
    height = TOP + row * len(drawn) + 28
    inner_w = WIDTH - name_w - RIGHT - 56

    def x(value: float) -> float:
        return name_w + (value - low) / (high - low) * inner_w

    parts = []
    for tick in ticks:
        at = x(tick)
        parts.append(
            f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{TOP}" y2="{height - 24}" class="grid"/>'
            f'<text x="{at:.1f}" y="{height - 8}" text-anchor="middle" class="tick">'
            f"{escape(_tick_text(tick, step, number))}</text>"
        )
    zero = x(0.0)
    for index, (name, mark) in enumerate(drawn):
        top = TOP + index * row
        end = x(float(mark.value))
        left, width = min(zero, end), abs(end - zero)
        parts.append(
            f'<text x="{name_w - 6}" y="{top + 16}" text-anchor="end" class="name">'
            f"{escape(name)}</text>"
            f'<rect x="{left:.1f}" y="{top + 4}" width="{max(width, 1):.1f}" height="{row - 8}" '
            f'fill="{colour(0)}" class="mark"><title>{escape(f"{name}: {mark.text}")}</title>'
            f"</rect>"
            f'<text x="{max(zero, end) + 4:.1f}" y="{top + 16}" class="value">'
            f"{escape(mark.text)}</text>"
        )
    return _svg(label, parts, WIDTH, height)


def sparkline(values: Sequence[Decimal | None], label: str) -> str:
    """A small line of the last values, no axes: the trend at a glance (its figures are named
    beside it)."""
    points = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return ""
    width, height = 100, 24
    low = min(v for _, v in points)
    high = max(v for _, v in points)
    span = high - low or 1.0
    gap = (width - 4) / max(len(values) - 1, 1)
    coords = " ".join(
        f"{2 + i * gap:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in points
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="sparkline" role="img" aria-label="{escape(label)}">'
        f'<polyline points="{coords}" fill="none" stroke="{colour(0)}" stroke-width="1.5"/>'
        "</svg>"
    )
