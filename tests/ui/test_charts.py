"""The charts' geometry: every data point drawn inside the frame, a long axis labelled sparsely."""
from __future__ import annotations

from zoom_sam.ui.charts import HEIGHT, MAX_LABELS, WIDTH, bars, lines


def test_a_year_of_points_is_all_drawn_with_few_labels():
    days = [f"2026-{1 + d // 31:02d}-{1 + d % 31:02d}" for d in range(365)]
    chart = lines(days, {"seat used": {d: i % 40 for i, d in enumerate(days)}}, {"seat used": {"model": "seat"}}, "as-of")
    assert len(chart.marks) == 365 and len(chart.x_labels) <= MAX_LABELS
    assert all(chart.left < m["x"] < chart.right and 0 <= m["y"] <= chart.baseline for m in chart.marks)
    assert {m["attrs"]["as-of"] for m in chart.marks} == set(days)


def test_bars_stand_on_the_baseline_and_scale_to_the_largest():
    chart = bars(["0-30", "never"], {"a": {"0-30": 4, "never": 8}, "b": {"0-30": 0}}, {"a": {"model": "a"}, "b": {"model": "b"}})
    assert len(chart.marks) == 4  # a missing value is a bar of 0, so every model has every bucket
    assert all(abs(m["y"] + m["height"] - chart.baseline) < 1e-9 for m in chart.marks)
    tallest = max(chart.marks, key=lambda m: m["value"])
    assert tallest["value"] == 8 and tallest["y"] < HEIGHT / 2 and chart.right < WIDTH


def test_an_empty_chart_has_no_marks():
    assert lines([], {}, {}, "threshold").marks == [] and bars([], {}, {}).marks == []
