"""Names on the profile map: beside their point, or at the end of a callout line."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from tribe_analysis._labels import HEIGHT, _segment_hits, _segments_cross, place_labels

WIDTH, PLOT_HEIGHT = 460.0, 320.0


def _pixels(spots, x, y, text, radius, y_domain, char=6.0):
    """Point squares, label boxes and callout segments of a placement, in pixels."""
    low, span = y_domain[0], y_domain[1] - y_domain[0]

    def py(v):
        return (v - low) / span * PLOT_HEIGHT

    points = [
        (xi * WIDTH - r, xi * WIDTH + r, py(yi) - r, py(yi) + r)
        for xi, yi, r in zip(x, y, radius, strict=True)
    ]
    labels, lines = {}, {}
    for i, spot in enumerate(spots):
        if spot is None:
            continue
        left, middle = spot[0] * WIDTH, py(spot[1])
        labels[i] = (left, left + char * len(text[i]), middle - HEIGHT / 2, middle + HEIGHT / 2)
        if len(spot) == 6:
            lines[i] = ((spot[2] * WIDTH, py(spot[3])), (spot[4] * WIDTH, py(spot[5])))
    return points, labels, lines


def _overlap(a, b):
    return a[0] < b[1] - 1e-6 and b[0] < a[1] - 1e-6 and a[2] < b[3] - 1e-6 and b[2] < a[3] - 1e-6


def _check(spots, x, y, text, radius, y_domain):
    """Every invariant of a placement; returns how many names were placed."""
    points, labels, lines = _pixels(spots, x, y, text, radius, y_domain)
    for i, box in labels.items():
        assert box[0] >= -1e-6 and box[1] <= WIDTH + 1e-6, "a name leaves the plot"
        assert box[2] >= -1e-6 and box[3] <= PLOT_HEIGHT + 1e-6, "a name leaves the plot"
        assert not any(_overlap(box, p) for p in points), "a name covers a point"
        assert not any(_overlap(box, other) for j, other in labels.items() if j != i)
    for i, (start, end) in lines.items():
        cx, cy = x[i] * WIDTH, points[i][2] + radius[i]
        # the line starts just outside its own point's mark and ends at its name
        assert math.hypot(start[0] - cx, start[1] - cy) <= radius[i] * math.sqrt(2) + 1.5
        assert _gap(end, labels[i]) <= 3.0
        others = [p for j, p in enumerate(points) if j != i]
        assert not any(_segment_hits(start, end, p) for p in others), "a line crosses a point"
        assert not any(_segment_hits(start, end, box) for j, box in labels.items() if j != i), (
            "a line crosses another name"
        )
        assert not any(_segments_cross(start, end, *lines[j]) for j in lines if j != i)
    return len(labels)


def _gap(p, box):
    dx = max(box[0] - p[0], 0.0, p[0] - box[1])
    dy = max(box[2] - p[1], 0.0, p[1] - box[3])
    return math.hypot(dx, dy)


def test_a_crowded_column_gets_its_names_by_callouts():
    # eight news outlets at index 0 (the PHEME export): no name fits beside any of them
    y = [-4.37, -4.57, -5.16, -5.11, -4.41, -5.43, -5.79, -5.61]
    x = [0.04, 0, 0, 0, 0, 0, 0, 0]
    text = ["FoxNews", "NBCNews", "CBCAlerts", "cnni", "AFP", "cnnbrk", "BBCBreaking", "RT_com"]
    radius = [10.0, 8.6, 10.4, 8.6, 8.6, 9.2, 13.4, 13.0]
    spans = [(xi, xi + 0.07) for xi in x]
    kwargs = dict(width=WIDTH, height=PLOT_HEIGHT, y_domain=(-6, 0), radius=radius, spans=spans)
    beside = place_labels(x, y, text, **kwargs)
    called = place_labels(x, y, text, **kwargs, callouts=True)
    assert sum(s is not None for s in called) >= sum(s is not None for s in beside) + 3
    assert all(s is None or len(s) == 2 for s in beside)  # no callouts unless asked
    assert any(s is not None and len(s) == 6 for s in called)
    _check(called, x, y, text, radius, (-6, 0))
    # CBCAlerts and cnni lie on one spot (3 px apart): a line could not say which
    assert called[2] is None and called[3] is None
    assert place_labels(x, y, text, **kwargs, callouts=True) == called  # deterministic


def test_callouts_leave_names_beside_their_points_where_they_fit():
    x, y, text = [0.2, 0.8], [0.0, 0.5], ["ann", "bob"]
    kwargs = dict(width=WIDTH, height=PLOT_HEIGHT, y_domain=(-1, 1))
    assert place_labels(x, y, text, **kwargs, callouts=True) == place_labels(x, y, text, **kwargs)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 1, allow_nan=False),
            st.floats(-2, 2, allow_nan=False),
            st.floats(4, 14, allow_nan=False),
            st.text("abcXYZ_0", min_size=1, max_size=12),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_placement_invariants_hold_for_any_points(points):
    x, y, radius, text = (list(v) for v in zip(*points, strict=True))
    spots = place_labels(
        x, y, text, width=WIDTH, height=PLOT_HEIGHT, y_domain=(-2, 2), radius=radius, callouts=True
    )
    _check(spots, x, y, text, radius, (-2, 2))
