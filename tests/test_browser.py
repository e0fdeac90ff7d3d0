"""Every stored chart is drawn in a real browser with the network closed.

Headless Chromium (Debian's ``chromium``) driven by Playwright, with every request
that does not go to 127.0.0.1/localhost aborted, looks at the charts the way a
user sees them:

- JupyterLab on a fresh copy of ``notebooks/`` and ``data/``, with fresh Jupyter
  data/config/runtime folders, so that no notebook is trusted: each stored chart
  output (found from the ``.ipynb`` JSON) must show an ``svg``, ``canvas`` or
  ``img`` larger than 50 x 50 px with something drawn in it;
- the HTML that ``jupyter nbconvert --to html`` makes of each notebook, opened
  from a ``file://`` URL: the same;
- ``report.html`` of ``tribe-analysis demo``: every figure drawn, and no network
  request attempted at all.

No page may raise an uncaught error or log a console error about loading a
script. Screenshots go to ``screenshots/`` (git-ignored) for a person to look
at. Without Chromium or Playwright the tests skip, except under ``CI=true``
where they fail. Deselect locally with ``-m "not browser"``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    # Belt and braces beside the route handler: no host name but localhost resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
MIN_PX = 50
VIEWPORT = {"width": 1280, "height": 1000}
DRAW_WAIT_S = 15.0
"""Longest wait, per page, for the charts of a page to be drawn."""

CHART_MIME = re.compile(
    r"application/vnd\.vega(lite)?\.v\d+\+json|image/svg\+xml|image/png|image/jpeg|image/gif"
)
"""Mime types of a chart or picture output: a Vega(-Lite) spec or an image."""

NBCONVERT_TEMPLATE_CDN = re.compile(
    r"^https://cdnjs\.cloudflare\.com/ajax/libs/(require\.js|mathjax)/"
)
"""What nbconvert's own HTML template asks of the network (for widgets and LaTeX)."""
SCRIPT_ERROR = re.compile(r"script", re.IGNORECASE)
"""A console error about loading a script ("Error loading script", "Failed to load module
script"); only the message is searched, not the address it came from, because nbconvert's
own template asks for require.js and MathJax on a CDN, which no chart needs."""

# Evaluated on one output area (or figure): what is drawn in it, and is it a real chart?
DRAWN_JS = """
(el, minPx) => {
  const shapes = 'path, rect, circle, line, text, polygon, polyline, ellipse, image, use';
  const inked = (canvas) => {
    const ctx = canvas.getContext('2d');
    if (!ctx || !canvas.width || !canvas.height) return ctx === null;
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
    return false;
  };
  const found = [];
  let drawn = false;
  for (const n of el.querySelectorAll('svg, canvas, img')) {
    const r = n.getBoundingClientRect();
    const tag = n.tagName.toLowerCase();
    let ok = r.width > minPx && r.height > minPx;
    if (ok && tag === 'img') ok = n.complete && n.naturalWidth > 0;
    else if (ok && tag === 'canvas') ok = inked(n);
    else if (ok && tag === 'svg') ok = n.querySelector(shapes) !== null;
    found.push(`${tag} ${Math.round(r.width)}x${Math.round(r.height)}${ok ? ' drawn' : ''}`);
    drawn = drawn || ok;
  }
  return {drawn, found, text: (el.innerText || '').trim().slice(0, 200)};
}
"""

# The rendered output areas of a notebook page, JupyterLab's or nbconvert's (same classes).
OUTPUT_COUNTS_JS = """
() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'),
                 (cell) => cell.querySelectorAll('.jp-OutputArea-child').length)
"""


OUTSIDE_JS = """
(figure) => {
  // texts of the figure's charts that are not wholly inside the figure's box, or that an
  // SVG clips (its overflow hidden and the text past its edge): what a reader cannot read
  const box = figure.getBoundingClientRect();
  const out = [];
  for (const svg of figure.querySelectorAll('svg')) {
    const clips = getComputedStyle(svg).overflow !== 'visible';
    const own = svg.getBoundingClientRect();
    for (const text of svg.querySelectorAll('text')) {
      const r = text.getBoundingClientRect();
      if (!text.textContent.trim() || r.width === 0) continue;
      const inside = (b) => r.left >= b.left - 1 && r.right <= b.right + 1;
      if (!inside(box) || (clips && !inside(own))) out.push(text.textContent);
    }
  }
  return out;
}
"""


# --------------------------------------------------------------------------- stored outputs


@dataclass(frozen=True)
class ChartOutput:
    cell: int
    """Index of the cell among all cells of the notebook (markdown included)."""
    output: int
    """Index of the output area within the cell, as the page shows it."""
    mimes: tuple[str, ...]

    def __str__(self) -> str:
        return f"cell {self.cell} output {self.output} ({', '.join(self.mimes)})"


def _is_chart(output: dict) -> bool:
    data = output.get("data", {})
    if any(CHART_MIME.fullmatch(mime) for mime in data):
        return True
    return "vega-embed" in "".join(data.get("text/html", ""))  # Altair's html renderer


def _shown_outputs(outputs: list[dict], *, merge_streams: bool) -> list[dict]:
    """Outputs as the page lays them out: JupyterLab joins consecutive same-name streams."""
    shown: list[dict] = []
    for out in outputs:
        if (
            merge_streams
            and shown
            and out["output_type"] == "stream"
            and shown[-1]["output_type"] == "stream"
            and shown[-1].get("name") == out.get("name")
        ):
            continue
        shown.append(out)
    return shown


def stored_layout(nb: dict, *, merge_streams: bool) -> tuple[list[int], list[ChartOutput]]:
    """Output areas per cell, and the chart outputs, of a notebook's JSON."""
    counts, charts = [], []
    for c, cell in enumerate(nb["cells"]):
        shown = _shown_outputs(cell.get("outputs", []), merge_streams=merge_streams)
        counts.append(len(shown))
        charts += [
            ChartOutput(c, o, tuple(sorted(out.get("data", {}))))
            for o, out in enumerate(shown)
            if _is_chart(out)
        ]
    return counts, charts


# --------------------------------------------------------------------------- browser


def _require(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} under CI=true")
        pytest.skip(reason)


@dataclass
class Watch:
    """What a page tried to fetch off this machine, and the errors it reported."""

    blocked: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    """Message, then the address of the script or resource in brackets."""

    def problems(self, allowed: re.Pattern[str] | None = None) -> list[str]:
        """Uncaught page errors, console errors about loading a script, and requests
        that tried to leave this machine (but those ``allowed`` matches)."""
        loading = [e for e in self.console_errors if SCRIPT_ERROR.search(e.rsplit(" [", 1)[0])]
        leaving = [u for u in self.blocked if not (allowed and allowed.search(u))]
        return (
            [f"page error: {e}" for e in self.page_errors]
            + [f"console error: {e}" for e in loading]
            + [f"request off this machine: {u}" for u in leaving]
        )

    def __str__(self) -> str:
        return (
            f"blocked requests: {self.blocked[:10]}; page errors: {self.page_errors[:5]}; "
            f"console errors: {self.console_errors[:5]}"
        )


def _local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("file", "data", "blob", "about") or parts.hostname in LOCAL_HOSTS


@pytest.fixture(scope="module")
def browser():
    _require(CHROMIUM.exists(), f"{CHROMIUM} is not installed (Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require(False, "the playwright package is not installed")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots() -> Path:
    """Fresh screenshot folders (git-ignored) for a person to look at."""
    for sub in ("jupyterlab", "nbconvert", "report"):
        shutil.rmtree(SCREENSHOTS / sub, ignore_errors=True)
        (SCREENSHOTS / sub).mkdir(parents=True)
    return SCREENSHOTS


@contextmanager
def offline_page(browser) -> Iterator[tuple[object, Watch]]:
    """A page in a new context whose non-local requests are aborted and recorded."""
    watch = Watch()
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")

    def route(route, request):
        if _local(request.url):
            route.continue_()
        else:
            watch.blocked.append(request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("request", lambda r: watch.requests.append(r.url))
    page.on("pageerror", lambda e: watch.page_errors.append(str(e)))
    page.on(
        "console",
        lambda m: (
            watch.console_errors.append(f"{m.text} [{m.location.get('url', '')}]")
            if m.type == "error"
            else None
        ),
    )
    try:
        yield page, watch
    finally:
        context.close()


def _undrawn_charts(page, charts: list[ChartOutput], shot_prefix: Path) -> list[str]:
    """Scroll to each chart output, wait (within one deadline) until it is drawn, shoot it."""
    cells = page.locator(".jp-Notebook .jp-Cell")
    deadline = time.monotonic() + DRAW_WAIT_S
    failures = []
    for chart in charts:
        area = cells.nth(chart.cell).locator(".jp-OutputArea-child").nth(chart.output)
        area.scroll_into_view_if_needed()
        while True:
            state = area.evaluate(DRAWN_JS, MIN_PX)
            if state["drawn"] or time.monotonic() > deadline:
                break
            page.wait_for_timeout(200)
        area.screenshot(path=f"{shot_prefix}-cell{chart.cell}-out{chart.output}.png")
        if not state["drawn"]:
            failures.append(
                f"{chart}: nothing drawn; found {state['found'] or 'no svg/canvas/img'}; "
                f"text {state['text']!r}"
            )
    return failures


def _wait_for_outputs(page, counts: list[int], timeout_s: float = 60.0) -> None:
    """Wait until the page shows every cell and every stored output area."""
    deadline = time.monotonic() + timeout_s
    shown: list[int] = []
    while time.monotonic() < deadline:
        shown = page.evaluate(OUTPUT_COUNTS_JS)
        if shown == counts:
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"output areas per cell: page shows {shown}, notebook has {counts}")


# --------------------------------------------------------------------------- project copies


def _fresh_project(dest: Path) -> Path:
    """A copy of notebooks/ and data/ as a fresh clone has them."""
    ignore = shutil.ignore_patterns(".ipynb_checkpoints")
    for name in ("notebooks", "data"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    return dest


def _jupyter_env(home: Path) -> dict[str, str]:
    """Environment with fresh Jupyter folders: no notebook signature is known, none trusted."""
    env = dict(os.environ)
    for var in ("JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        path = home / var.lower()
        path.mkdir(parents=True)
        env[var] = str(path)
    env.pop("JUPYTERLAB_SETTINGS_DIR", None)
    env.pop("JUPYTERLAB_WORKSPACES_DIR", None)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    url: str
    process: subprocess.Popen
    log: Path

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(f"{self.url}{path}", method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")


class Background:
    """A command run in the background while the browser looks at other pages."""

    def __init__(self, command: list[str], result: Path, log: Path, **popen) -> None:
        self.result_path = result
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **popen)

    def result(self) -> Path:
        """Its output folder, once it has finished well."""
        code = self.process.wait(timeout=300)
        assert code == 0, self.log.read_text()[-3000:]
        return self.result_path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def demo_report(browser, tmp_path_factory) -> Iterator[Background]:
    """``tribe-analysis demo`` (about 20 s) into a fresh folder, holding report.html."""
    work = tmp_path_factory.mktemp("demo")
    out = work / "out"
    command = [sys.executable, "-m", "tribe_analysis.cli", "demo", "--out", str(out)]
    job = Background([*command, "--leaders", "8", "--days", "20"], out, work / "demo.log")
    try:
        yield job
    finally:
        job.stop()


@pytest.fixture(scope="module")
def nbconvert_html(browser, tmp_path_factory) -> Iterator[Background]:
    """``jupyter nbconvert --to html`` of a fresh copy of every notebook, into one folder."""
    work = tmp_path_factory.mktemp("nbconvert")
    project = _fresh_project(work / "project")
    html = work / "html"
    copies = [str(project / "notebooks" / p.name) for p in NOTEBOOKS]
    job = Background(
        [sys.executable, "-m", "nbconvert", "--to", "html", f"--output-dir={html}", *copies],
        html,
        work / "nbconvert.log",
        cwd=project / "notebooks",
        env=_jupyter_env(work / "jupyter"),
    )
    try:
        yield job
    finally:
        job.stop()


@pytest.fixture(scope="module")
def lab(browser, demo_report, nbconvert_html, tmp_path_factory) -> Iterator[Lab]:
    """One JupyterLab server on a fresh copy of the project, for every notebook.

    Asks for ``demo_report`` and ``nbconvert_html`` only to start them early: they
    run while the notebooks are looked at, and are ready when their tests come.
    """
    work = tmp_path_factory.mktemp("lab")
    project = _fresh_project(work / "project")
    env = _jupyter_env(work / "jupyter")
    # Only the news toast is silenced; nothing in these settings touches trust.
    settings = Path(env["JUPYTER_CONFIG_DIR"]) / "lab" / "user-settings" / "@jupyterlab"
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    port = _free_port()
    log = work / "jupyterlab.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--port={port}",
                "--ServerApp.port_retries=0",
                "--allow-root",  # CI runs as root
                "--IdentityProvider.token=",
                "--ServerApp.password=",
                "--ServerApp.disable_check_xsrf=True",
                f"--ServerApp.root_dir={project}",
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
            ],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Lab(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"JupyterLab exited: {log.read_text()[-3000:]}")
            try:
                server.api("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"JupyterLab did not answer: {log.read_text()[-3000:]}"
                    ) from None
                time.sleep(0.2)
        yield server
    finally:
        try:
            if process.poll() is None:
                server.shut_down_kernels()
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


# --------------------------------------------------------------------------- tests


def test_the_notebooks_have_charts_to_check():
    """The browser tests below look at something: every notebook stores a chart output."""
    assert NOTEBOOKS
    for path in NOTEBOOKS:
        _, charts = stored_layout(json.loads(path.read_text()), merge_streams=True)
        assert charts, f"{path.name}: no chart output found in the stored outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_charts_are_drawn_in_jupyterlab(path, browser, lab, shots):
    nb = json.loads(path.read_text())
    counts, charts = stored_layout(nb, merge_streams=True)
    # A workspace of its own: nothing else restored beside this notebook.
    url = f"{lab.url}/lab/workspaces/{path.stem}/tree/notebooks/{path.name}"
    with offline_page(browser) as (page, watch):
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        assert page.locator(".jp-Notebook").count() == 1
        _wait_for_outputs(page, counts)
        failures = _undrawn_charts(page, charts, shots / "jupyterlab" / path.stem)
        page.locator(".jp-Notebook .jp-Cell").first.scroll_into_view_if_needed()
        page.screenshot(path=shots / "jupyterlab" / f"{path.stem}.png")
        problems = watch.problems()
    lab.shut_down_kernels()
    assert not failures + problems, "\n".join([path.name, *failures, *problems, str(watch)])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_charts_are_drawn_in_nbconvert_html(path, browser, nbconvert_html, shots):
    nb = json.loads(path.read_text())
    counts, charts = stored_layout(nb, merge_streams=False)
    page_file = nbconvert_html.result() / f"{path.stem}.html"
    with offline_page(browser) as (page, watch):
        page.goto(page_file.as_uri(), wait_until="load")
        _wait_for_outputs(page, counts, timeout_s=10)
        failures = _undrawn_charts(page, charts, shots / "nbconvert" / path.stem)
        page.screenshot(path=shots / "nbconvert" / f"{path.stem}.png", full_page=True)
        problems = watch.problems(allowed=NBCONVERT_TEMPLATE_CDN)
    assert not failures + problems, "\n".join([path.name, *failures, *problems, str(watch)])


def test_report_charts_are_drawn_offline(browser, demo_report, shots):
    out = demo_report.result()
    written = sorted((out / "charts").glob("*.svg"))
    assert written
    with offline_page(browser) as (page, watch):
        page.goto((out / "report.html").as_uri(), wait_until="load")
        figures = page.locator("figure")
        states, cut = [], []
        for i in range(figures.count()):
            states.append(figures.nth(i).evaluate(DRAWN_JS, MIN_PX))
            cut += [f"figure {i}: {t!r}" for t in figures.nth(i).evaluate(OUTSIDE_JS)]
            figures.nth(i).screenshot(path=shots / "report" / f"figure-{i:02d}.png")
        page.screenshot(path=shots / "report" / "report.png", full_page=True)
        problems = watch.problems()
    assert len(states) >= len(written), f"{len(states)} figures for {len(written)} charts"
    undrawn = [
        f"figure {i}: {s['found']} {s['text']!r}" for i, s in enumerate(states) if not s["drawn"]
    ]
    assert not undrawn + problems, "\n".join([*undrawn, *problems, str(watch)])
    assert not cut, "text cut at a figure's edge (the browser's font is wider):\n" + "\n".join(cut)
    network = [url for url in watch.requests if urlsplit(url).scheme not in ("file", "data")]
    assert not network and not watch.blocked, f"report.html asked the network: {network}"
