"""Drawing charts with vl-convert, in worker processes, and compact SVG for the HTML report.

vl-convert holds the GIL while it draws, so threads take turns; :class:`Drawers`
runs this file as worker scripts instead (plain subprocesses, not
:mod:`multiprocessing`, which would re-run a caller's script that lacks an
``if __name__ == "__main__"`` guard). This module imports nothing but the
standard library and vl-convert (not even the package), so a worker is ready
in about 0.3 s (vl-convert 2.0.0rc7: 0.6-0.7 s with 1.9), then warms up on a
card-like chart while the command reads and profiles.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import queue
import re
import select
import signal
import subprocess
import sys
import threading
import traceback
import xml.etree.ElementTree as ET
from collections import Counter, deque
from concurrent.futures import Future
from pathlib import Path
from types import ModuleType
from typing import IO, Any

__all__ = [
    "Drawers",
    "compact_svg",
    "draw",
    "drawers",
    "images",
    "missing_glyphs",
    "start",
    "started",
    "svg",
    "vl_convert",
    "xml_text",
]


@functools.cache
def vl_convert() -> ModuleType:
    """The ``vl_convert`` module, set to fetch nothing (on the first call in a process).

    vl-convert 2 fetches the data of a spec from any ``http:``/``https:`` URL by
    default; the package's specs carry their data, so nothing is fetched and a
    chart never leaves the machine (``allowed_base_urls=[]``: a URL is an error).
    """
    import vl_convert as vlc

    if hasattr(vlc, "configure"):
        vlc.configure(allowed_base_urls=[])
    return vlc


def svg(spec: dict) -> str:
    """The SVG of a Vega-Lite spec, or of a template job.

    A template job is ``{"template": Vega-Lite JSON, "datasets": {name: rows},
    "texts": {marker: text}}`` (a report card: see
    :func:`tribe_analysis.charts._report_card_spec`). Its template is compiled to
    Vega once per process; each job fills in its data sets' values and replaces
    each marker string by its text, then Vega draws it.
    """
    vlc = vl_convert()
    spec = xml_text(spec)
    if "template" not in spec:
        return _numbered_from_start(vlc.vegalite_to_svg(spec))
    compiled = _COMPILED.get(spec["template"])
    if compiled is None:
        compiled = json.dumps(vlc.vegalite_to_vega(json.loads(spec["template"])))
        _COMPILED[spec["template"]] = compiled
    texts = {json.dumps(marker): json.dumps(text) for marker, text in spec["texts"].items()}
    # one pass: a text that happens to hold a marker is never replaced in turn
    filled = _MARKER.sub(lambda m: texts.get(m[0], m[0]), compiled)
    vega = json.loads(filled)
    for data in vega["data"]:
        if data["name"] in spec["datasets"]:
            data["values"] = spec["datasets"][data["name"]]
    return _numbered_from_start(vlc.vega_to_svg(vega))


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 does not allow (control characters, lone surrogates, U+FFFE/U+FFFF)."""


def xml_text(value: object) -> Any:
    r"""``value`` (a spec: dicts, lists, strings) with each character SVG cannot hold as ``�``.

    A name or id from an export can hold a control character (``\x04``); vl-convert
    then failed to draw the chart ("a non-XML character"), and the command with it.

    Examples
    --------
    >>> xml_text({"values": [{"name": "Ann\x04", "n": 1}], "title": "tab\tand\nline"})
    {'values': [{'name': 'Ann�', 'n': 1}], 'title': 'tab\tand\nline'}
    """
    if isinstance(value, str):
        return _NOT_XML.sub("\ufffd", value)
    if isinstance(value, dict):
        return {xml_text(key): xml_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [xml_text(item) for item in value]
    return value


_DRAWN_ID = re.compile(r'(\sid="|="url\(#)(clip|gradient_)(\d+)(?=[")])')
"""An id Vega numbers from a count kept for the whole process (``clip3``, ``gradient_2``),
where it is defined (``id="clip3"``) or used (``clip-path="url(#clip3)"``)."""
_FIRST_ID = {"clip": 1, "gradient_": 0}
"""The number of each kind of id in the first drawing of a process."""
_TAG = re.compile(r"<[^>]*>")
"""A tag: ids are looked for only there (the text of a name may look like one)."""


def _numbered_from_start(drawn: str) -> str:
    """An SVG with its clip and gradient ids numbered as in a process's first drawing.

    Vega counts them over every drawing of the process, so the same chart drawn
    again (a second ``write_outputs`` or ``save_chart`` in one session) came out as
    other bytes; the ids of one drawing are consecutive, and are shifted back.

    Examples
    --------
    >>> _numbered_from_start('<g clip-path="url(#clip7)"><text>id="clip7"</text></g>'
    ...     '<clipPath id="clip7"/><clipPath id="clip8"/>')
    '<g clip-path="url(#clip1)"><text>id="clip7"</text></g><clipPath id="clip1"/><clipPath id="clip2"/>'
    """
    lowest: dict[str, int] = {}
    for tag in _TAG.finditer(drawn):
        for found in _DRAWN_ID.finditer(tag[0]):
            kind, number = found[2], int(found[3])
            lowest[kind] = min(number, lowest.get(kind, number))
    shift = {kind: number - _FIRST_ID[kind] for kind, number in lowest.items()}
    if not any(shift.values()):
        return drawn

    def renumber(found: re.Match) -> str:
        return f"{found[1]}{found[2]}{int(found[3]) - shift[found[2]]}"

    return _TAG.sub(lambda tag: _DRAWN_ID.sub(renumber, tag[0]), drawn)


_COMPILED: dict[str, str] = {}
"""Vega JSON of each template this process compiled, by template."""
_MARKER = re.compile(r'"@@[a-z0-9-]+@@"')
"""A marker string in a template's JSON (``"@@card-title-0-text@@"``)."""


def images(spec: dict, *, scale: float = 2.0) -> dict[str, bytes]:
    """SVG and PNG bytes of a spec (as :func:`svg`): one SVG, the PNG rasterised from it."""
    vlc = vl_convert()
    drawn = svg(spec)
    return {"svg": drawn.encode("utf-8"), "png": bytes(vlc.svg_to_png(drawn, scale=scale))}


def draw(spec: dict, scale: float | None, stem: Path, prefix: str) -> str:
    """Write ``stem.svg`` (and ``stem.png`` at ``scale``, unless it is None) of a spec (:func:`svg`).

    The suffix is added to the stem's whole name: a stem holding a dot
    (``card_john.smith``) keeps it (``card_john.smith.svg``, never ``card_john.svg``).
    Returns the compact SVG (ids ``prefix-*``).
    """
    if scale is None:
        drawn = svg(spec)
    else:
        out = images(spec, scale=scale)
        stem.with_name(f"{stem.name}.png").write_bytes(out["png"])
        drawn = out["svg"].decode("utf-8")
    stem.with_name(f"{stem.name}.svg").write_text(drawn, encoding="utf-8")
    return compact_svg(drawn, prefix)


class Drawers:
    """Worker processes that :func:`draw` specs; use as a context manager.

    :meth:`submit` sends a job to the worker with the fewest waiting and
    returns a future of the compact SVG. Each worker answers its jobs in order.
    """

    def __init__(self, workers: int = 2) -> None:
        self._workers = [_Worker() for _ in range(workers)]

    def submit(self, spec: dict, scale: float | None, stem: Path, prefix: str) -> Future[str]:
        """Queue a job for the worker with the fewest waiting; return its future at once.

        A thread feeds each worker: its input pipe holds about two jobs, so writing
        here would block until the worker had drawn the jobs before; the caller goes
        on making specs while the workers draw. A job for a worker that has stopped
        fails at once (its future holds the error).
        """
        worker = min(self._workers, key=lambda w: (w.gone, len(w.waiting)))
        job = json.dumps({"spec": spec, "scale": scale, "stem": str(stem), "prefix": prefix})
        return worker.submit(job)

    def __enter__(self) -> Drawers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def kill(self) -> None:
        """Stop the workers now, jobs or not."""
        for worker in self._workers:
            worker.proc.kill()
        self.close()

    def close(self) -> None:
        """Let the workers finish their jobs and stop."""
        for worker in self._workers:
            worker.jobs.put(None)
        for worker in self._workers:
            worker.join()


class _Worker:
    """One drawing process, the thread that feeds it jobs and the one that reads its answers."""

    def __init__(self) -> None:
        # this file as a script: the package (polars) is not imported; -P keeps the
        # package's folder off sys.path (its io/ would stand for the standard library's)
        self.proc = subprocess.Popen(
            [sys.executable, "-P", str(Path(__file__).resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None  # both piped
        assert self.proc.stderr is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        self.waiting: deque[Future[str]] = deque()
        self.lock = threading.Lock()
        self.gone = False
        self.jobs: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.writer = threading.Thread(target=self._write, daemon=True)
        self.notes = threading.Thread(target=_relay, args=(self.proc.stderr,), daemon=True)
        self.reader.start()
        self.writer.start()
        self.notes.start()

    def submit(self, job: str) -> Future[str]:
        """Queue one JSON job; its future gets the answer, or the error of a stopped worker."""
        future: Future[str] = Future()
        with self.lock:
            if self.gone:
                future.set_exception(self._stopped())
            else:
                self.waiting.append(future)
                self.jobs.put(job + "\n")
        return future

    def _stopped(self) -> RuntimeError:
        return RuntimeError(f"drawing worker stopped (exit code {self.proc.wait()})")

    def _read(self) -> None:
        for line in self.stdout:
            answer = json.loads(line)
            with self.lock:
                future = self.waiting.popleft()
            if "error" in answer:
                reason = answer.get("reason") or "see below"
                error = RuntimeError(f"drawing failed ({reason})\n{answer['error']}")
                future.set_exception(error)
            else:
                future.set_result(answer["svg"])
        with self.lock:  # the worker is gone: its jobs, and any later one, fail
            self.gone = True
            while self.waiting:
                self.waiting.popleft().set_exception(self._stopped())

    def _write(self) -> None:
        """Feed the worker its jobs; ``None`` closes its input (no more jobs)."""
        with contextlib.suppress(BrokenPipeError, ValueError):  # a killed worker
            while (job := self.jobs.get()) is not None:
                self.stdin.write(job)
                self.stdin.flush()
        with contextlib.suppress(BrokenPipeError, ValueError):
            self.stdin.close()

    def join(self) -> None:
        """Wait for the process and its threads (after ``None`` was queued)."""
        self.writer.join()
        self.proc.wait()
        self.reader.join()
        self.notes.join()
        self.stdout.close()


_NO_GLYPH = re.compile(r"No fonts with a (.)/U\+[0-9A-F]+ character were found\.")
_missing: set[str] = set()


def _relay(stream: IO[str]) -> None:
    """Pass a worker's messages on to stderr, but gather the characters no font draws.

    vl-convert says so once per character and drawing ("No fonts with a 👩/U+1F469
    character were found."): a name in another script filled stderr with such lines
    while its PNG drew empty boxes. :func:`missing_glyphs` gives them, to say once.
    """
    for line in stream:
        found = _NO_GLYPH.fullmatch(line.strip())
        if found is not None:
            _missing.add(found.group(1))
        else:
            sys.stderr.write(line)
    stream.close()


def missing_glyphs() -> list[str]:
    """Characters no font on this machine draws, met by the workers so far (sorted).

    Examples
    --------
    >>> all(len(char) == 1 for char in missing_glyphs())  # what drawings so far met
    True
    """
    return sorted(_missing)


WORKER_NICENESS = 10
"""How much lower a drawing process' CPU priority is than the command's (Unix ``nice``).

The command makes the specs the drawers wait for, and reads and profiles while they
start: given the CPU first, it finishes sooner (``demo`` with the report: the median
of ten runs 1.98× ``--no-report`` against 2.08× at equal priority, same session).
"""

_WARM_UP = {
    "data": {"values": [{"a": 1}]},
    "mark": {"type": "text", "text": "0"},
    "encoding": {"x": {"field": "a", "type": "quantitative"}},
}


def _field(name: str, kind: str = "quantitative", **more: object) -> dict:
    return {"field": name, "type": kind, **more}


def _layer(mark: str | dict, **encoding: dict) -> dict:
    return {"mark": mark, "encoding": encoding}


_WARM_CARD = {
    "title": {"text": "Card", "subtitle": ["reason", "ways"]},
    "vconcat": [
        {
            "hconcat": [
                {
                    "title": {"text": "Ways", "subtitle": "dot, bar, tick"},
                    "data": {"values": [{"r": i / 10, "w": f"way {i}"} for i in range(5)]},
                    "layer": [
                        _layer("rule", x=_field("r", title="rate"), y=_field("w", "nominal")),
                        _layer("circle", x=_field("r"), y=_field("w", "nominal")),
                    ],
                },
                {
                    "title": {"text": "Ego network", "subtitle": ["ties", "size"]},
                    "data": {"values": [{"x": i % 4, "y": i // 4, "n": i} for i in range(16)]},
                    "layer": [
                        _layer(
                            "rule",
                            x=_field("x", axis=None),
                            y=_field("y", axis=None),
                            x2={"field": "n"},
                            y2={"field": "n"},
                        ),
                        _layer(
                            "circle", x=_field("x"), y=_field("y"), size=_field("n", legend=None)
                        ),
                        _layer(
                            {"type": "text", "dy": -10},
                            x=_field("x"),
                            y=_field("y"),
                            text=_field("n", "nominal"),
                        ),
                    ],
                },
            ],
        },
        {
            "title": {"text": "Threads", "subtitle": ["colour", "size"]},
            "data": {
                "values": [
                    {"t": f"2024-01-{i % 28 + 1:02d}T10:00:00Z", "j": i % 6, "c": i % 3}
                    for i in range(40)
                ]
            },
            **_layer(
                "circle",
                x=_field("t", "temporal", axis={"format": "%b %d"}),
                y=_field("j"),
                color=_field("c", "nominal", legend=None),
                size=_field("j", legend=None),
            ),
        },
    ],
}
"""A chart with the marks, axes and titles of a report card, drawn up to :data:`_WARM_CARDS`
times while a worker waits for its first job, so that the JavaScript engine has compiled
Vega's drawing code (a cold engine takes about 45 ms a card, a warm one 20-30 ms; ``demo``
÷ ``demo --no-report`` in three pairs of eight-turn runs: median turn ratio 1.79-1.89×
with it, 1.86-2.02× without)."""
_WARM_CARDS = 8
_started: list[Drawers] = []


def start(workers: int = 2) -> None:
    """Start drawing workers now, for the next :func:`drawers`: each takes a second to start.

    ``tribe-analysis profile`` and ``demo`` start them before computing the
    measures, so that they are ready when the report is drawn. Workers never
    taken stop when this process exits.
    """
    if not _started:
        _started.append(Drawers(workers))


def drawers(workers: int = 2) -> Drawers:
    """The workers :func:`start` started, else new ones; the caller closes them."""
    return _started.pop() if _started else Drawers(workers)


def started() -> bool:
    """Whether :func:`start` started workers that no :func:`drawers` took yet."""
    return bool(_started)


@atexit.register
def _stop_started() -> None:
    """Stop the workers no one took (a command that failed before drawing): at once."""
    while _started:
        _started.pop().kill()


def _job_waiting(stream: IO[str]) -> bool:
    """Whether a job (or the end of the input) waits on ``stream``, without reading it."""
    try:
        ready, _, _ = select.select([stream], [], [], 0)
    except (OSError, ValueError):  # no select on pipes (Windows): warm up in full
        return False
    return bool(ready)


def _reason(exc: BaseException) -> str:
    r"""An exception in one line: vl-convert's say what failed on their second line.

    Examples
    --------
    >>> _reason(ValueError("Vega-Lite to SVG conversion failed:\nTypeError: no 'filled'\n  at Ye"))
    "ValueError: Vega-Lite to SVG conversion failed: TypeError: no 'filled'"
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = " ".join(lines[:2]) if len(lines) > 1 and lines[0].endswith(":") else "".join(lines[:1])
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _serve() -> None:
    """A worker: one JSON job per line on stdin, one JSON answer per line on stdout.

    Ctrl-C at a terminal reaches the worker too: it stops at once and says nothing
    (Python's KeyboardInterrupt printed a traceback on the user's console, after the
    command's own ``Aborted!``); the command stops or waits for its workers.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if hasattr(os, "nice"):  # the command's own work (read, measures, specs) goes first
        os.nice(WORKER_NICENESS)
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not mix with answers
    images(_WARM_UP, scale=1)  # vl-convert starts its JavaScript engine: done now
    for _ in range(_WARM_CARDS):  # the engine compiles Vega's drawing code on first use
        if _job_waiting(sys.stdin):  # warm enough: a job never waits for the warm-up
            break
        svg(_WARM_CARD)
    for line in sys.stdin:
        job = json.loads(line)
        try:
            answer = {"svg": draw(job["spec"], job["scale"], Path(job["stem"]), job["prefix"])}
        except Exception as exc:  # noqa: BLE001 - reported to the caller, who raises it
            answer = {"error": traceback.format_exc(), "reason": _reason(exc)}
        out.write(json.dumps(answer) + "\n")
        out.flush()


# --------------------------------------------------------------------------- compact SVG

_NOISE = ("class", "role", "aria-roledescription", "aria-hidden", "pointer-events", "version")
_GEOMETRY = ("transform", "d", "x", "y", "x1", "x2", "y1", "y2", "width", "height", "dx", "dy")
_STROKE = (
    "stroke-width",
    "stroke-opacity",
    "stroke-dasharray",
    "stroke-linecap",
    "stroke-linejoin",
)
_NUMBER = re.compile(r"-?\d*\.\d+(?:e-?\d+)?")
_CIRCLE = re.compile(r"M([\d.]+),0A\1,\1,0,1,1,-\1,0A\1,\1,0,1,1,\1,0")
_NOTHING = ("", "M0,0h0v0h0Z")
_METRIC_FONTS = {"sans-serif": "'Liberation Sans', Arial, Helvetica, sans-serif"}
"""vl-convert measures ``sans-serif`` text with Liberation Sans: a browser must draw it in
a font of the same widths (Arial, Helvetica), not in its own sans-serif (often wider)."""


def _round(match: re.Match) -> str:
    text = f"{round(float(match.group(0)), 1):.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def _invisible(el: ET.Element, fill: str, stroke: str) -> bool:
    """An element that draws nothing: hidden, empty, or a shape with neither fill nor stroke."""
    a = el.attrib
    if a.get("display") == "none":
        return True
    if el.tag == "path" and a.get("d", "") in _NOTHING:
        return True
    return (
        el.tag in ("path", "rect")
        and a.get("fill", fill) == "none"
        and a.get("stroke", stroke) == "none"
    )


def _compact(el: ET.Element, prefix: str, fill: str, stroke: str, width: str, font: str) -> None:
    """Shrink one element and its children in place (see :func:`compact_svg`).

    ``fill``, ``stroke``, ``width`` (stroke width) and ``font`` are the values
    the element inherits.
    """
    a = el.attrib
    for key in _NOISE:
        a.pop(key, None)
    label = a.pop("aria-label", None)
    if a.get("opacity") == "1":
        del a["opacity"]
    for key in _GEOMETRY:
        if key in a:
            a[key] = _NUMBER.sub(_round, a[key])
    if a.get("transform") == "translate(0,0)":
        del a["transform"]
    if "id" in a:
        a["id"] = f"{prefix}-{a['id']}"
    for key, value in a.items():
        if "url(#" in value:
            a[key] = value.replace("url(#", f"url(#{prefix}-")
    fill, stroke = a.get("fill", fill), a.get("stroke", stroke)
    if a.get("stroke-width") == width:
        del a["stroke-width"]
    width = a.get("stroke-width", width)
    if a.get("font-family") == font:
        del a["font-family"]
    font = a.get("font-family", font)
    if stroke == "none" and len(el) == 0:  # nothing stroked: stroke settings do nothing
        for key in _STROKE:
            a.pop(key, None)
    if el.tag == "path" and (circle := _CIRCLE.fullmatch(a.get("d", ""))):
        el.tag = "circle"
        del a["d"]
        a["r"] = circle.group(1)
    if label and el.tag != "g":  # a mark that describes itself: a native tooltip
        title = ET.Element("title")
        title.text = label
        el.insert(0, title)
    kept: list[ET.Element] = []
    for child in list(el):
        if child.tag == "title":
            kept.append(child)
        elif not _invisible(child, fill, stroke):
            _compact(child, prefix, fill, stroke, width, font)
            if child.tag == "g" and not child.attrib:
                kept.extend(child)  # a group that sets nothing: its children take its place
            elif child.tag != "g" or len(child):
                kept.append(child)
    el[:] = kept


def compact_svg(svg: str, prefix: str) -> str:
    """A vl-convert SVG made small for inlining in HTML; it draws the same picture.

    Drops what a browser does not draw (ARIA roles and classes, empty or unfilled
    background paths, attributes equal to their inherited value, groups that set
    nothing), rounds coordinates to 0.1 px, writes circles as ``<circle>`` and
    the most used font once on ``<svg>`` (``sans-serif`` as the fonts of
    Liberation Sans' widths), turns the ARIA label of a mark (its
    ``description``) into a ``<title>``, the browser's tooltip, prefixes ids
    with ``prefix`` (several SVGs share one page) and leaves out the namespace
    (HTML puts ``<svg>`` in it).

    Examples
    --------
    >>> compact_svg('<svg xmlns="http://www.w3.org/2000/svg" class="marks"><g fill="none">'
    ...     '<path d="M0,0h0v0h0Z"/><g><path transform="translate(10.04,5)" '
    ...     'd="M2,0A2,2,0,1,1,-2,0A2,2,0,1,1,2,0" fill="red" aria-label="a: 1"/></g></g></svg>',
    ...     "map")
    '<svg><g fill="none"><circle transform="translate(10,5)" fill="red" r="2"><title>a: 1</title></circle></g></svg>'
    """
    root = ET.fromstring(svg)
    fonts: Counter[str] = Counter()
    for el in root.iter():
        el.tag = el.tag.rpartition("}")[2]
        if "font-family" in el.attrib:
            fonts[el.attrib["font-family"]] += 1
    font = min(fonts, key=lambda f: (-fonts[f], f)) if fonts else ""
    _compact(root, prefix, "black", "none", "1", font)  # the texts in ``font`` inherit it
    if font:
        root.set("font-family", _METRIC_FONTS.get(font, font))
    return ET.tostring(root, encoding="unicode").replace(" />", "/>")


if __name__ == "__main__":
    _serve()
