"""Leaders' names where people read them: in natural order, and on a scatter plot.

:func:`natural_key` orders names as a reader expects ("Leader 2" before "Leader 10",
"allsfair86" among the a's), for every list of leaders a person reads: the console
summary, the report, the comparison chart.

:func:`place_labels` puts names on a scatter plot: beside their point where they fit,
else at the end of a thin line.

Greedy and deterministic, in pixels (the chart's width and height): every point is
an obstacle, and so is its interval bar; a name goes beside its point when a place
there is clear and nearer that point than any other (so it names one point only),
otherwise, with ``callouts``, a little further away with a line from the point to
it (a *callout*), the line crossing no other point, name or line (it may cross a
thin interval bar). Points that lie on one another get no name: a line could not
say which of them it means. Text boxes are estimated (``char`` pixels per
character, 12 px high).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence

Box = tuple[float, float, float, float]
"""left, right, bottom, top in pixels (y up)."""

HEIGHT = 12.0
"""Height of a name's box in pixels."""

_CALLOUT_ANGLES = (35, -35, 60, -60, 15, -15, 90, -90, 145, -145, 120, -120, 165, -165)
"""Directions tried for a callout, in degrees from the right (up positive): right first,
where a profile map has room (the participation index rarely reaches 1)."""

_CALLOUT_GAPS = (14.0, 26.0, 42.0, 62.0, 86.0, 114.0, 146.0)
"""Pixels from a point's mark to its callout line's far end (where the name starts), in order."""

_SAME_SPOT = 3.0
"""Points whose centres are closer than this (pixels), or than half the smaller mark's
half-side, are on one spot: a callout could not say which it names."""


_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
"""Characters that draw nothing though Unicode does not call them space: the Hangul fillers
and the blank Braille pattern (favourites for a name that looks empty)."""


def _invisible(char: str, *, marks: bool = False) -> bool:
    """Whether ``char`` draws nothing by itself (with ``marks``, a combining mark too)."""
    kind = unicodedata.category(char)
    return (
        char.isspace()
        or kind in ("Cc", "Cf", "Zs", "Zl", "Zp")
        or char in _BLANK_LETTERS
        or (marks and kind in ("Mn", "Me"))
    )


def visible_name(name: str | None) -> str | None:
    r"""A display name as the report and the charts write it; None when nothing of it shows.

    Runs of white space (line breaks too) are one space, and white space and
    invisible characters (zero-width spaces, direction marks, fillers) at either
    end are dropped. A control character inside it (an escape, a bell) is ``�``, as
    on the console (:func:`terminal_text`) and in the drawings, which cannot hold one.
    A name that is only white space, invisible characters or combining marks is
    None: the caller shows the account's id instead.

    Examples
    --------
    >>> visible_name("  Ann\n  Lee "), visible_name("\u200bZoë\u200e"), visible_name("Bo\x1b[2J")
    ('Ann Lee', 'Zoë', 'Bo�[2J')
    >>> [visible_name(n) for n in (None, "", "   ", "\u200b", "\u3164", "\u0301")]
    [None, None, None, None, None, None]
    """
    if name is None or all(_invisible(c, marks=True) for c in name):
        return None
    text = " ".join(name.split())
    start, end = 0, len(text)
    while _invisible(text[start]):
        start += 1
    while _invisible(text[end - 1]):
        end -= 1
    shown = "".join("\ufffd" if unicodedata.category(c) == "Cc" else c for c in text[start:end])
    return closed_bidi(shown)


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_OPENERS = {"\u202a": "\u202c", "\u202b": "\u202c", "\u202d": "\u202c", "\u202e": "\u202c"}
_OPENERS |= dict.fromkeys("\u2066\u2067\u2068", "\u2069")


def closed_bidi(text: str) -> str:
    r"""``text`` with each direction embedding, override or isolate it opens closed at its end.

    A name holding a right-to-left override (U+202E) and no closing U+202C
    reverses whatever follows it on the line (in the report, the account id and
    the text after it); closed (Unicode UAX #9: PDF for an embedding or override,
    PDI for an isolate), it reverses only itself.

    Examples
    --------
    >>> [hex(ord(c)) for c in closed_bidi("a‮b")[1:]]
    ['0x202e', '0x62', '0x202c']
    >>> closed_bidi("a⁧b‫c⁩") == "a⁧b‫c⁩"
    True
    >>> closed_bidi("plain") == "plain"
    True
    """
    if not _BIDI_CONTROLS.intersection(text):
        return text
    stack: list[str] = []
    for c in text:
        if c in _OPENERS:
            stack.append(c)
        elif c == "\u202c" and stack and _OPENERS[stack[-1]] == "\u202c":
            stack.pop()
        elif c == "\u2069" and any(_OPENERS[o] == "\u2069" for o in stack):
            while _OPENERS[stack.pop()] != "\u2069":  # closes the embeddings inside it too
                pass
    return text + "".join(_OPENERS[o] for o in reversed(stack))


def terminal_text(text: str) -> str:
    r"""``text`` safe to print on a terminal: control characters and direction overrides shown as ``�``.

    An export's name can hold an escape sequence (``[2J`` clears the screen) or
    a right-to-left override that reverses what follows it on the line.

    Examples
    --------
    >>> terminal_text("Ann[2J"), terminal_text("‮evil"), terminal_text("Zoë 👩‍🔬")
    ('Ann�[2J', '�evil', 'Zoë 👩‍🔬')
    """
    return "".join(
        "\ufffd" if unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS else c for c in text
    )


def natural_key(text: str) -> tuple[tuple[str | int, ...], str]:
    """Sort key of a name in natural order: case folded, runs of digits as numbers.

    Names equal in that order ("ann", "Ann") are ordered by their text itself.

    Examples
    --------
    >>> sorted(["Leader 10", "leader 2", "Bob", "allsfair86", "2097571", "428333"], key=natural_key)
    ['428333', '2097571', 'allsfair86', 'Bob', 'leader 2', 'Leader 10']
    """
    parts = re.split(r"(\d+)", text.casefold())
    folded = tuple(int(part) if i % 2 else part for i, part in enumerate(parts))  # digits odd
    return folded, text


def place_labels(
    x: Sequence[float],
    y: Sequence[float],
    text: Sequence[str],
    *,
    width: float,
    height: float,
    char: float = 6.0,
    y_domain: tuple[float, float] | None = None,
    radius: Sequence[float] | None = None,
    spans: Sequence[tuple[float, float] | None] | None = None,
    order: Sequence[int] | None = None,
    callouts: bool = False,
) -> list[tuple[float, ...] | None]:
    """Label positions in data units: ``(left, middle)``, a callout's ``(left, middle, x1, y1, x2, y2)``, or None.

    ``x`` is on [0, 1] across ``width``, ``y`` on ``y_domain`` (default: the data
    range) across ``height``. Every point is an obstacle (a square of half-side
    ``radius``, default 4 px) and so is its interval bar (``spans``: from, to on
    x, at the point's height). Labels are placed in ``order`` (default: as
    given); each tries eight places round its point (right, left, above, below,
    then the corners) and takes the first that stays inside the plot, clear of
    every point, bar and label already placed, and nearer its own point than any
    other. With ``callouts``, a label that found no such place is tried further
    out, at the end of a line from its point (``x1, y1`` to ``x2, y2``) that
    crosses no other point, label or line (bars it may); a point on the same spot as
    another gets none. A label with no place is left out (None): its point keeps
    its tooltip.

    Examples
    --------
    >>> def show(spots):
    ...     return [s and tuple(round(v, 2) for v in s) for s in spots]
    >>> show(place_labels([0.5], [0.0], ["ann"], width=100, height=100, y_domain=(-1, 1)))
    [(0.57, 0.0)]
    >>> stack = dict(width=100, height=100, y_domain=(-1, 1))
    >>> show(place_labels([0.5] * 3, [-0.1, 0, 0.1], ["ann", "bob", "cy"], **stack))
    [(0.41, -0.36), None, (0.44, 0.36)]
    >>> show(place_labels([0.5] * 3, [-0.1, 0, 0.1], ["ann", "bob", "cy"], **stack, callouts=True))
    [(0.41, -0.36), (0.67, 0.21, 0.54, 0.06, 0.65, 0.21), (0.44, 0.36)]
    """
    n = len(x)
    if y_domain is None:
        y_domain = (min(y), max(y)) if n else (0.0, 1.0)
    low, span = y_domain[0], (y_domain[1] - y_domain[0]) or 1.0
    px = [xi * width for xi in x]
    py = [(yi - low) / span * height for yi in y]
    r = list(radius) if radius is not None else [4.0] * n
    plot = _Plot(px, py, r, width, height)
    for i, s in enumerate(spans or ()):
        if s and None not in s:
            plot.bars.append((i, (s[0] * width, s[1] * width, py[i] - 4, py[i] + 4)))
    out: list[tuple[float, ...] | None] = [None] * n
    steps = list(order) if order is not None else list(range(n))
    for i in steps:
        found = plot.beside(i, char * len(text[i]))
        if found is not None:
            box, dx, dy = found
            plot.labels.append(box)
            out[i] = (x[i] + dx / width, y[i] + dy / height * span)
    for i in steps if callouts else ():
        if out[i] is not None or plot.shares_spot(i):
            continue
        found = plot.callout(i, char * len(text[i]))
        if found is not None:
            box, start, end = found
            plot.labels.append(box)
            plot.lines.append((start, end))
            data = [
                (v[0] / width, v[1] / height * span + low) for v in (_box_middle(box), start, end)
            ]
            out[i] = tuple(c for xy in data for c in xy)
    return out


def _box_middle(box: Box) -> tuple[float, float]:
    """The middle of a box's left edge (where a left-aligned, middle-baseline name starts)."""
    return box[0], (box[2] + box[3]) / 2


class _Plot:
    """The obstacles of one plot, in pixels: points, bars (with their point), labels, lines."""

    def __init__(
        self, px: list[float], py: list[float], r: list[float], width: float, height: float
    ):
        self.px, self.py, self.r = px, py, r
        self.width, self.height = width, height
        self.points: list[Box] = [
            (x - ri, x + ri, y - ri, y + ri) for x, y, ri in zip(px, py, r, strict=True)
        ]
        self.bars: list[tuple[int, Box]] = []
        self.labels: list[Box] = []
        self.lines: list[tuple[tuple[float, float], tuple[float, float]]] = []

    def inside(self, box: Box) -> bool:
        return box[0] >= 0 and box[1] <= self.width and box[2] >= 0 and box[3] <= self.height

    def clear(self, box: Box) -> bool:
        boxes = [*self.points, *(b for _, b in self.bars), *self.labels]
        return not any(_overlap(box, b) for b in boxes) and not any(
            _segment_hits(p, q, box) for p, q in self.lines
        )

    def gap(self, j: int, box: Box) -> float:
        """Pixels between point ``j``'s mark and the box."""
        dx = max(box[0] - self.px[j], 0.0, self.px[j] - box[1])
        dy = max(box[2] - self.py[j], 0.0, self.py[j] - box[3])
        return math.hypot(dx, dy) - self.r[j]

    def beside(self, i: int, w: float) -> tuple[Box, float, float] | None:
        """The first of eight places round point ``i`` that is clear and names it alone.

        Returns the box and its left edge's and middle's offsets from the point.
        """
        x, y, d, h = self.px[i], self.py[i], self.r[i] + 3, HEIGHT
        for dx, dy in (
            (d, 0.0),
            (-d - w, 0.0),
            (-w / 2, d + h / 2),
            (-w / 2, -d - h / 2),
            (d * 0.7, d * 0.7 + h / 2),
            (-d * 0.7 - w, d * 0.7 + h / 2),
            (d * 0.7, -d * 0.7 - h / 2),
            (-d * 0.7 - w, -d * 0.7 - h / 2),
        ):
            box = (x + dx, x + dx + w, y + dy - h / 2, y + dy + h / 2)
            own = self.gap(i, box)
            if (
                self.inside(box)
                and self.clear(box)
                and all(self.gap(j, box) > own + 2 for j in range(len(self.px)) if j != i)
            ):
                return box, dx, dy
        return None

    def shares_spot(self, i: int) -> bool:
        x, y, r = self.px[i], self.py[i], self.r[i]
        return any(
            j != i
            and math.hypot(self.px[j] - x, self.py[j] - y) < max(_SAME_SPOT, min(r, self.r[j]) / 2)
            for j in range(len(self.px))
        )

    def callout(self, i: int, w: float):
        """(label box, line start, line end) further out from point ``i``, or None."""
        x, y, r = self.px[i], self.py[i], self.r[i]
        for gap in _CALLOUT_GAPS:
            for angle in _CALLOUT_ANGLES:
                ux, uy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
                start = (x + ux * (r + 1), y + uy * (r + 1))
                end = (x + ux * (r + gap), y + uy * (r + gap))
                box = _box_at(end, ux, uy, w)
                if self.inside(box) and self.clear(box) and self.line_clear(i, start, end):
                    return box, start, end
        return None

    def line_clear(self, i: int, p: tuple[float, float], q: tuple[float, float]) -> bool:
        """The segment crosses no other point, no label and no line (thin bars it may)."""
        boxes = [b for j, b in enumerate(self.points) if j != i] + self.labels
        return not any(_segment_hits(p, q, b) for b in boxes) and not any(
            _segments_cross(p, q, a, b) for a, b in self.lines
        )


def _box_at(end: tuple[float, float], ux: float, uy: float, w: float) -> Box:
    """A name's box just past the line's end, on the side the line points to."""
    ex, ey, h = end[0], end[1], HEIGHT
    if abs(ux) < 0.3:  # up or down: centred over (under) the end
        bottom = ey + 1 if uy > 0 else ey - 1 - h
        return (ex - w / 2, ex + w / 2, bottom, bottom + h)
    left = ex + 2 if ux > 0 else ex - 2 - w
    return (left, left + w, ey - h / 2, ey + h / 2)


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def _segment_hits(p: tuple[float, float], q: tuple[float, float], box: Box) -> bool:
    """Whether the segment ``p``-``q`` meets the box (Liang-Barsky clipping)."""
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for delta, near, far in (
        (dx, box[0] - p[0], box[1] - p[0]),
        (dy, box[2] - p[1], box[3] - p[1]),
    ):
        if delta == 0:
            if near > 0 or far < 0:
                return False
            continue
        a, b = near / delta, far / delta
        t0, t1 = max(t0, min(a, b)), min(t1, max(a, b))
        if t0 > t1:
            return False
    return True


def _segments_cross(
    p: tuple[float, float], q: tuple[float, float], a: tuple[float, float], b: tuple[float, float]
) -> bool:
    """Whether segments ``p``-``q`` and ``a``-``b`` cross (touching ends count)."""

    def side(o: tuple[float, float], s: tuple[float, float], t: tuple[float, float]) -> float:
        return (s[0] - o[0]) * (t[1] - o[1]) - (s[1] - o[1]) * (t[0] - o[0])

    d1, d2 = side(a, b, p), side(a, b, q)
    d3, d4 = side(p, q, a), side(p, q, b)
    return (d1 * d2 <= 0) and (d3 * d4 <= 0) and not (d1 == d2 == 0)
