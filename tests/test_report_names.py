"""Leaders' names and ids as exports give them: hostile, messy or empty-looking.

Checks that the report, the charts and the HTML of :func:`tribe_analysis.charts.save_chart`
show every name as text and never run it (``</script>``, ``<img onerror>``), in a real
browser too (headless Chromium; skipped when it or Playwright is missing); that a name
which shows nothing (white space, zero-width characters, fillers) gives way to the id in the
table, the card headings and the charts; that names alike but for white space are told
apart by id; that a 220-character name does not widen the report's table past the page;
that an id holding a dot keeps its whole card file (``card_john.smith.svg``); and that
the report's bytes are the same run to run.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tribe_analysis import _drawing, _labels, charts, pipeline, report
from tribe_analysis.synth import simulate_tribe

CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"
LONG = "W" * 220
NAMES = {"L001": HOSTILE, "L002": "\u200b \u3164", "L003": LONG, "L004": "Tom", "L005": "Tom "}
"""Display names of the five leaders: script, blank-looking, long, alike but for a space."""
SHOWN = {
    "L001": HOSTILE,
    "L002": "L002",
    "L003": LONG,
    "L004": "Tom (L004)",
    "L005": "Tom (L005)",
}
"""What the report's table and card headings show for each."""
BLANK = st.text(
    alphabet=st.sampled_from(" \t\n\u00a0\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u3164\u2800"),
    max_size=6,
)


@pytest.fixture(scope="module")
def run() -> pipeline.ProfileRun:
    tribe = simulate_tribe(n_leaders=5, days=14, seed=1)
    return pipeline.profile(tribe.events, sorted(tribe.leaders), names=NAMES, seed=1)


@pytest.fixture(scope="module")
def page(run: pipeline.ProfileRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    return report.write_report(out, run.profiles, run.edges, run.events, labels=run.names)


def _svg_texts(svg: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


@settings(max_examples=30, deadline=None)
@given(blank=BLANK)
def test_a_name_that_shows_nothing_gives_way_to_the_id(blank: str) -> None:
    table = pl.DataFrame({"leader_id": ["a1", "a2"], "leader_name": [blank, "Ann"]})
    assert _labels.visible_name(blank) is None
    assert report._display_names(table, None) == {"a1": "a1", "a2": "Ann"}
    assert report._display_names(table, {"a1": blank}) == {"a1": "a1", "a2": "a2"}
    assert charts._label(table, None)["leader"].to_list() == ["a1", "Ann"]


def test_the_report_names_each_leader_visibly_and_apart(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    heads = [
        html.unescape(h) for h in re.findall(r"<h2>Report card: <bdi>([^<]*)</bdi></h2>", text)
    ]
    links = [
        html.unescape(a) for a in re.findall(r"<a href='#card-\d+'><bdi>([^<]*)</bdi></a>", text)
    ]
    assert sorted(heads) == sorted(links) == sorted(SHOWN.values())
    assert "<script" not in text and "<img" not in text
    drawn = (page.parent / "charts" / "profile_map.svg").read_text(encoding="utf-8")
    assert {"L002", "Tom (L004)", "Tom (L005)"} <= set(_svg_texts(drawn))
    card = (page.parent / "charts" / "card_L002.svg").read_text(encoding="utf-8")
    assert "Report card — L002: " in "".join(_svg_texts(card))


def test_the_report_is_the_same_run_to_run(run: pipeline.ProfileRun, page: Path, tmp_path: Path):
    again = report.write_report(tmp_path, run.profiles, run.edges, run.events, labels=run.names)
    assert again.read_bytes() == page.read_bytes()
    for drawn in sorted((page.parent / "charts").iterdir()):
        assert (tmp_path / "charts" / drawn.name).read_bytes() == drawn.read_bytes(), drawn.name


def test_an_id_holding_a_dot_keeps_its_whole_card_file(tmp_path: Path) -> None:
    spec = {"data": {"values": [{"a": 1}]}, "mark": "point", "encoding": {"x": {"field": "a"}}}
    for stem in ("card_john.smith", "card_john.doe"):
        _drawing.draw(spec, 1.0, tmp_path / stem, "fig")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "card_john.doe.png",
        "card_john.doe.svg",
        "card_john.smith.png",
        "card_john.smith.svg",
    ]


def test_save_chart_html_keeps_a_name_out_of_the_script(run: pipeline.ProfileRun, tmp_path: Path):
    path = charts.save_chart(charts.profile_map(run.profiles, labels=NAMES), tmp_path / "m.html")
    text = path.read_text(encoding="utf-8")
    assert text.count("</script>") == text.count("<script"), "a name closed a <script>"
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in text


# --------------------------------------------------------------------------- in a browser


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _open(browser: object, path: Path) -> tuple[object, list[str]]:
    """A page showing ``path`` (1280 px wide) and the list its dialogs and errors go to."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    said: list[str] = []
    page.on("dialog", lambda d: (said.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: said.append(f"page error: {e}"))
    page.on("console", lambda m: said.append(f"console: {m.text}") if m.type == "error" else None)
    page.goto(path.as_uri(), wait_until="load")
    return page, said


@pytest.fixture(scope="module")
def seen(browser: object, page: Path) -> dict:
    """What Chromium shows of the report: table links (text, width), page width, what it said."""
    view, said = _open(browser, page)
    links = view.eval_on_selector_all(
        "table a", "as => as.map(a => [a.textContent, a.getBoundingClientRect().width])"
    )
    width = view.evaluate("document.documentElement.scrollWidth")
    active = view.evaluate("document.scripts.length + document.images.length")
    view.close()
    return {"links": links, "width": width, "said": said, "active": active}


@pytest.mark.browser
def test_the_report_in_a_browser_runs_no_name(seen: dict) -> None:
    assert not seen["said"] and seen["active"] == 0, seen["said"]


@pytest.mark.browser
def test_the_report_in_a_browser_shows_each_name_visibly(seen: dict) -> None:
    assert sorted(t for t, _ in seen["links"]) == sorted(SHOWN.values())
    assert all(w > 0 for _, w in seen["links"]), seen["links"]


@pytest.mark.browser
def test_a_long_name_does_not_widen_the_report(seen: dict) -> None:
    assert seen["width"] <= 1280, f"the page is {seen['width']} px wide: a name widened the table"


@pytest.mark.browser
def test_save_chart_html_draws_and_runs_no_name(browser: object, run, tmp_path: Path) -> None:
    path = charts.save_chart(charts.profile_map(run.profiles, labels=NAMES), tmp_path / "m.html")
    view, said = _open(browser, path)
    view.wait_for_selector("svg, canvas", timeout=10_000)
    view.close()
    assert not said, said


BIDI = {"L001": "Ann\u202eEvil", "L004": "Tom\u202eX", "L005": "Tom\u202eX"}
"""Names opening a right-to-left override they never close (two alike: ids follow them)."""

LEFT_TO_RIGHT_JS = """els => els.map(el => {
  const node = el.firstChild, text = node.textContent, range = document.createRange();
  const from = Math.max(text.lastIndexOf('('), 0);
  const xs = [];
  for (let i = from; i < text.length; i++) {
    range.setStart(node, i); range.setEnd(node, i + 1);
    xs.push(range.getBoundingClientRect().left);
  }
  return [text.slice(from), xs.every((x, i) => i === 0 || x > xs[i - 1])];
})"""
"""For each element: its id text (all of it, or from its last '('), and whether it reads left to right."""


@pytest.mark.browser
def test_a_name_reversing_text_reverses_only_itself(browser: object, tmp_path: Path) -> None:
    """An unclosed U+202E in a name reversed the id after it ('L001' drawn as '100L')."""
    tribe = simulate_tribe(n_leaders=5, days=14, seed=1)
    run = pipeline.profile(tribe.events, sorted(tribe.leaders), names=BIDI, seed=1)
    path = report.write_report(tmp_path, run.profiles, run.edges, run.events, labels=run.names)
    view, said = _open(browser, path)
    ids = view.eval_on_selector_all("table span.id bdi", LEFT_TO_RIGHT_JS)
    alike = view.eval_on_selector_all("table a bdi", LEFT_TO_RIGHT_JS)
    view.close()
    assert not said, said
    assert ids == [["L001", True]]
    assert sorted(t for t, ok in alike if ok and t.startswith("(")) == ["(L004)", "(L005)"]
