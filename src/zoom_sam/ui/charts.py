"""The usage page's charts as SVG geometry computed on the server (the template draws it).

Drawing on the server keeps the package free of a JavaScript chart library and a build step, and
puts every data point in the HTML as an element with its raw ``data-value``, which is what the
browser tests and a screen reader read. Two shapes serve the three charts: lines over a category
axis (assigned vs used over time, the threshold simulation) and grouped bars (last activity).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40
INSET = 36  # keeps a line's first and last labels inside the frame
MAX_LABELS = 8  # a year of daily as-ofs gets every 46th date labelled, not 365 overlapping ones
# Colour-blind-safe (Okabe-Ito), cycled per series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


@dataclass
class Chart:
    """What the template draws: axes labels, polylines, points or bars, a legend."""

    x_labels: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    marks: list[dict[str, Any]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: float = LEFT
    right: float = WIDTH - RIGHT
    baseline: float = HEIGHT - BOTTOM


def _y_scale(values: list[float]) -> tuple[float, list[tuple[float, str]]]:
    top = max([v for v in values if v is not None] + [1])
    ticks = [(HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * i / 4, f"{top * i / 4:,.0f}") for i in range(5)]
    return top, ticks


def _y(value: float, top: float) -> float:
    return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * value / top


def lines(categories: list, series: dict[str, dict[Any, float]], attrs: dict[str, dict[str, str]],
          category: str, label=str) -> Chart:
    """One line per series over ``categories``; ``series[name][c]`` is a point's value,
    ``attrs[name]`` the data attributes every point of that series carries, and ``category`` the
    name of the attribute holding the point's own category."""
    top, ticks = _y_scale([v for points in series.values() for v in points.values()])
    step = (WIDTH - LEFT - RIGHT - 2 * INSET) / max(len(categories) - 1, 1)
    x_of = {c: LEFT + INSET + step * i if len(categories) > 1 else (WIDTH + LEFT - RIGHT) / 2
            for i, c in enumerate(categories)}
    every = max(-(-len(categories) // MAX_LABELS), 1)
    chart = Chart(x_labels=[(x_of[c], label(c)) for c in categories[::every]], y_ticks=ticks)
    for n, (name, points) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        xy = [(x_of[c], _y(points[c], top)) for c in categories if c in points]
        chart.lines.append({"points": " ".join(f"{x:.1f},{y:.1f}" for x, y in xy), "colour": colour})
        chart.marks.extend({"x": x_of[c], "y": _y(v, top), "colour": colour, "value": v,
                            "attrs": {**attrs[name], category: c}} for c, v in points.items())
        chart.legend.append((name, colour))
    return chart


def bars(groups: list[str], series: dict[str, dict[str, float]], attrs: dict[str, dict[str, str]]) -> Chart:
    """Grouped bars: per group, one bar per series (``series[name][group]``)."""
    top, ticks = _y_scale([v for values in series.values() for v in values.values()])
    band = (WIDTH - LEFT - RIGHT) / max(len(groups), 1)
    width = band * 0.8 / max(len(series), 1)
    chart = Chart(x_labels=[(LEFT + band * (i + 0.5), g) for i, g in enumerate(groups)], y_ticks=ticks)
    for n, (name, values) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        for i, group in enumerate(groups):
            value = values.get(group, 0)
            y = _y(value, top)
            chart.marks.append({"x": LEFT + band * (i + 0.1) + width * n, "y": y, "width": width,
                                "height": HEIGHT - BOTTOM - y, "colour": colour, "value": value,
                                "attrs": {**attrs[name], "bucket": group}})
        chart.legend.append((name, colour))
    return chart


def usage_charts(position: dict[str, Any]) -> dict[str, Chart]:
    """The three charts of the usage page from the position answer (``answers.position``)."""
    as_ofs = sorted({row["as_of"] for row in position["history"]})
    over_time: dict[str, dict[str, float]] = {}
    over_time_attrs: dict[str, dict[str, str]] = {}
    for row in position["history"]:
        for measure in ("assigned", "used"):
            name = f"{row['software_model']} {measure}"
            over_time.setdefault(name, {})[row["as_of"]] = row[measure]
            over_time_attrs[name] = {"model": row["software_model"], "series": measure}
    buckets: list[str] = []
    activity: dict[str, dict[str, float]] = {}
    for row in position["last_activity"]:
        buckets += [row["bucket"]] if row["bucket"] not in buckets else []
        activity.setdefault(row["software_model"], {})[row["bucket"]] = row["subscriptions"]
    thresholds = sorted({row["threshold_days"] for row in position["simulation"]})
    simulated: dict[str, dict[int, float]] = {}
    for row in position["simulation"]:
        simulated.setdefault(row["software_model"], {})[row["threshold_days"]] = row["stale"]
    return {
        "assigned_used": lines(as_ofs, over_time, over_time_attrs, "as-of", label=lambda as_of: as_of[:10]),
        "last_activity": bars(buckets, activity, {m: {"model": m} for m in activity}),
        "simulation": lines(thresholds, simulated, {m: {"model": m} for m in simulated}, "threshold",
                            label=lambda t: f"{t} d"),
    }
