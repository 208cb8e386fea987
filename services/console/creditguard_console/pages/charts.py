"""Inline SVG charts: the score's signed reasons as bars, the grade's history as a line. Drawn on
the server, so a page needs no charting script."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    width: float
    y: float


def reason_bars(reasons: list[dict], *, width: float = 300, row: float = 34) -> tuple[list[Bar], float, float]:
    """Bars from a centre line: right (red) raises the PD, left (green) lowers it; each reason's
    text above its bar. Returns the bars, the centre's x and the chart's height."""
    centre = width / 2
    largest = max((abs(float(r.get("contribution") or 0)) for r in reasons), default=0) or 1
    bars = []
    for i, reason in enumerate(reasons):
        value = float(reason.get("contribution") or 0)
        length = abs(value) / largest * (centre - 4)
        bars.append(Bar(label=reason["message"], value=value, x=centre if value >= 0 else centre - length, width=max(length, 1), y=i * row))
    return bars, centre, max(len(reasons), 1) * row


def grade_line(history: list[dict], *, width: float = 320, height: float = 90) -> tuple[str, list[tuple[float, float, int, str]]]:
    """Polyline points for grades 1 (top) to 10 (bottom), oldest left; and the points themselves."""
    if not history:
        return "", []
    step = width / max(len(history) - 1, 1)
    points = []
    for i, assessment in enumerate(history):
        x = i * step if len(history) > 1 else width / 2
        y = 5 + (int(assessment["grade"]) - 1) / 9 * (height - 10)
        points.append((round(x, 1), round(y, 1), int(assessment["grade"]), str(assessment["assessed_at"])[:10]))
    return " ".join(f"{x},{y}" for x, y, _, _ in points), points


def column_bars(values: list[tuple[str, float]], *, width: float = 640, height: float = 140) -> list[tuple[str, float, float, float, float, float]]:
    """Columns for a distribution or a forecast: (label, value, x, y, width, height)."""
    if not values:
        return []
    largest = max((v for _, v in values), default=0) or 1
    slot = width / len(values)
    return [
        (label, value, round(i * slot + 2, 1), round(height - value / largest * height, 1), round(max(slot - 4, 1), 1), round(value / largest * height, 1))
        for i, (label, value) in enumerate(values)
    ]
