from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest
import vl_convert

from tribe_analysis import _drawing, charts, features, graph, report
from tribe_analysis._drawing import compact_svg
from tribe_analysis.participation import PARTS
from tribe_analysis.profiles import profile_leaders
from tribe_analysis.report import TABLE_COLUMNS, _table_html, _unobservable_html, write_report
from tribe_analysis.synth import simulate_tribe

UNOBSERVABLE = (
    "reactions: the platform (twitter) does not expose reactions given (likes, favourites, "
    "votes); shares: no share in any record of the input"
)
BYTES_PER_LEADER = 35_000
"""Bound of report.html per leader (8 leaders: 25 KB each; the 40-leader demo: 1.2 MB, 30 KB
each, under the 2 MB a report to mail should stay; every chart as full SVG: 148 KB each)."""


@pytest.fixture(scope="module")
def tribe():
    return simulate_tribe(n_leaders=6, days=30, seed=4)


@pytest.fixture(scope="module")
def table(tribe):
    measures = features.leader_measures(
        tribe.events, [*tribe.leaders, "ghost"], observability={"reaction": False}, ego=False
    )
    _, profiles = profile_leaders(measures, random_state=0)
    return profiles


def _chosen(table: pl.DataFrame) -> pl.DataFrame:
    """A participator, a broadcaster and the leader without evidence (keeps rendering short)."""
    picks = [
        table.filter(pl.col("profile") == p)["leader_id"][0]
        for p in ("participator", "broadcaster")
    ]
    return table.filter(pl.col("leader_id").is_in([*picks, "ghost"]))


def _text(page: str) -> str:
    """The page without its figures."""
    return re.sub(r"<svg.*?</svg>", "", page, flags=re.S)


# the script of a second run, in another process with another string hash seed
SECOND_RUN = """
import sys
import threading
from pathlib import Path
from tribe_analysis import features, graph, report
from tribe_analysis.profiles import profile_leaders
from tribe_analysis.synth import simulate_tribe

tribe = simulate_tribe(n_leaders=8, days=20, seed=3)
_, table = profile_leaders(features.leader_measures(tribe.events, tribe.leaders), random_state=0)
report.WORKERS = 1  # drawn in this process: the same bytes as the worker processes draw
report.write_report(Path(sys.argv[1]), table, graph.edge_list(tribe.events), tribe.events)
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo-sized report: 8 leaders, 10 charts, drawn by the worker processes."""
    tribe = simulate_tribe(n_leaders=8, days=20, seed=3)
    _, table = profile_leaders(
        features.leader_measures(tribe.events, tribe.leaders), random_state=0
    )
    out = tmp_path_factory.mktemp("demo")
    assert report.WORKERS == 2 and 2 + table.height > report._IN_PROCESS
    path = write_report(out, table, graph.edge_list(tribe.events), tribe.events)
    return out, path.read_text(encoding="utf-8"), table


def test_table_columns():
    assert "label_agreement" not in TABLE_COLUMNS
    assert TABLE_COLUMNS[:6] == (
        "leader",
        "profile",
        "sub_profile",
        "probability",
        "participation_index",
        "parts_observed",
    )
    assert TABLE_COLUMNS[6:] == (*PARTS, "reason", "ways", "drivers")


def test_report_is_small_and_opens_offline(demo):
    out, page, table = demo
    size = len(page.encode("utf-8"))
    assert size < BYTES_PER_LEADER * table.height, f"{size:,} bytes for {table.height} leaders"
    assert page.count("<figure>") == page.count("<svg") == 2 + table.height
    # nothing to fetch: no script, stylesheet, font, frame or image file; links stay in the page
    for tag in ("<script", "<link", "<img", "<iframe", "<object", "@import", "url(http"):
        assert tag not in page
    assert "http://" not in page and "https://" not in page
    cards = [f"card-{number}" for number in range(1, table.height + 1)]
    assert re.findall(r"href='#([^']*)'", page) == re.findall(r"id='(card-[^']*)'", page) == cards
    assert "href=" not in page.replace("href='#card-", "")
    assert not re.search(r"\ssrc=", page)
    # charts/ keeps the full SVG of every chart for slides, and PNG of the two overviews
    cards = {f"card_{leader}" for leader in table["leader_id"]}
    assert {p.stem for p in (out / "charts").glob("*.svg")} == {"profile_map", "comparison", *cards}
    assert {p.stem for p in (out / "charts").glob("*.png")} == {"profile_map", "comparison"}


def test_profile_map_points_have_tooltips(demo):
    _, page, table = demo
    svg = re.search(r"<h2>Where each leader stands</h2><figure>(<svg.*?</svg>)", page, re.S)[1]
    tips = [t.text for t in ET.fromstring(svg).iter("title")]
    placed = table.filter(pl.col("participation_index").is_not_null())
    assert len(tips) == placed.height
    for row in placed.iter_rows(named=True):
        tip = next(t for t in tips if t.startswith(f"{row['leader_id']}: "))
        assert row["reason"] in tip and row["ways"] in tip


def test_report_uses_readable_measure_names(demo):
    _, page, table = demo
    text = _text(page)
    headers = re.findall(r"<th class='[a-z]+'>([^<]*)</th>", text)
    assert headers == [
        "leader",
        "profile",
        "probability",
        "participation index (90% interval)",
        "parts observed (of 5)",
        "seeing",
        "commenting",
        "starting conversations",
        "answering",
        "promoting others",
        "why",
    ]
    decided = table.filter(pl.col("drivers") != "")
    assert decided.height
    for row in decided.iter_rows(named=True):
        readable = charts.readable_measures(row["drivers"])
        assert f"<div class='rests'>label rests on: {readable}</div>" in text
    # no column name anywhere: not in the table, the cards or the comparison
    for column in (*PARTS, "broadcast_share", "participation_index", "drivers"):
        assert column not in page
    assert "broadcasting" in page and "dialogic loop share" == charts.measure_name(
        "dialogic_loop_share"
    )


def test_report_bytes_are_the_same_run_to_run(demo, tmp_path):
    """Another process, another string hash seed, drawing in-process: the same bytes."""
    out, _, _ = demo
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(root)}
    run = subprocess.run(
        [sys.executable, "-c", SECOND_RUN, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for name in files:
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_cards_from_the_template_draw_altairs_cards(tribe, table, monkeypatch, vega_warnings):
    """A card drawn from the template is the SVG of the card Altair makes, byte for byte."""
    monkeypatch.setattr(charts, "_CARD_TEMPLATES", {})
    edges = graph.edge_list(tribe.events)
    leaders = table["leader_id"].to_list()
    inputs = charts._card_inputs(tribe.events, edges, leaders)
    labels = charts.pseudonym_labels(leaders)
    for names in (None, labels):
        for leader in leaders:
            made = charts._report_card_spec(
                leader, table, edges, tribe.events, labels=names, inputs=inputs
            )
            assert set(made) == {"template", "datasets", "texts"}
            chart = charts.report_card(leader, table, edges, tribe.events, labels=names)
            want = vl_convert.vegalite_to_svg(charts._render_spec(chart))
            assert _drawing.svg(made) == want, leader
    # one template for every label colour, another for "ghost" (no ties, no threads: its
    # panels say so in words); no tooltip (an SVG has none)
    full, bare = sorted(charts._CARD_TEMPLATES.values(), key=len, reverse=True)
    assert '"tooltip"' not in full + bare
    assert '"ties"' in full and '"ties"' not in bare and "started no thread" not in bare
    assert set(table["profile"]) == set(charts.PROFILE_COLORS)  # every colour was drawn
    assert not vega_warnings  # Vega warned of nothing (an empty panel: "Infinite extent")


def test_a_card_name_holding_quotes_or_a_marker_is_drawn_as_written(tribe, table, monkeypatch):
    monkeypatch.setattr(charts, "NAME_LIMIT", 100)  # the whole name, not cut
    edges = graph.edge_list(tribe.events)
    leader = table["leader_id"][0]
    odd = {leader: 'Ann "@@card-color@@" \\ @@card-title-0-text@@ Zoë'}
    made = charts._report_card_spec(leader, table, edges, tribe.events, labels=odd)
    chart = charts.report_card(leader, table, edges, tribe.events, labels=odd)
    drawn = _drawing.svg(made)
    assert drawn == vl_convert.vegalite_to_svg(charts._render_spec(chart))
    assert "@@card-color@@" in drawn and "Zoë" in drawn


def test_threads_of_many_leaders_are_each_leaders(tribe, table):
    leaders = [*table["leader_id"].to_list(), "nobody"]
    many = charts._threads_of(tribe.events, leaders, 30)
    for leader in leaders:
        one = charts.thread_view(tribe.events, leader, limit=30).data
        assert charts._with_message(many[leader].rows, leader).equals(one), leader
    assert many["nobody"].rows.is_empty() and many["nobody"].total == 0


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no Unix process priorities")
def test_drawing_processes_yield_the_cpu_to_the_command(tmp_path):
    own = os.getpriority(os.PRIO_PROCESS, 0)
    with _drawing.Drawers(1) as drawers:
        spec = {"data": {"values": [{"a": 1}]}, "mark": "point"}
        assert "<svg" in drawers.submit(spec, None, tmp_path / "one", "x").result(timeout=60)
        [worker] = drawers._workers
        proc = worker.proc
        niceness = os.getpriority(os.PRIO_PROCESS, proc.pid)
    assert niceness == min(own + _drawing.WORKER_NICENESS, 19)


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="no Unix job control signals")
def test_submit_does_not_wait_for_a_busy_worker(tmp_path):
    # a worker's input pipe holds about two jobs: submitting more to a worker that is
    # busy (here: stopped) must queue them and return, so specs are made while it draws
    with _drawing.Drawers(1) as drawers:
        [worker] = drawers._workers
        proc = worker.proc
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            spec = {
                "data": {"values": [{"a": i, "pad": "x" * 1000} for i in range(100)]},
                "mark": "point",
                "encoding": {"x": {"field": "a", "type": "quantitative"}},
            }
            futures: list = []
            feeder = threading.Thread(
                target=lambda: futures.extend(
                    drawers.submit(spec, None, tmp_path / f"c{i}", "x") for i in range(8)
                )
            )
            feeder.start()
            feeder.join(timeout=30)
            submitted = not feeder.is_alive()
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        feeder.join()
        assert submitted, "submit blocked on a stopped worker's full input pipe"
        assert all("<svg" in f.result(timeout=120) for f in futures)


def test_a_job_for_a_stopped_worker_fails_at_once(tmp_path):
    spec = {"data": {"values": [{"a": 1}]}, "mark": "point"}
    with _drawing.Drawers(1) as drawers:
        [worker] = drawers._workers
        worker.proc.kill()
        worker.reader.join(timeout=60)  # the reader sees the worker gone
        future = drawers.submit(spec, None, tmp_path / "late", "x")
        with pytest.raises(RuntimeError, match="drawing worker stopped"):
            future.result(timeout=10)


def test_drawing_fetches_nothing():
    vlc = _drawing.vl_convert()
    if not hasattr(vlc, "configure"):
        pytest.skip("vl-convert before 2 has no access policy (requirements.lock pins 2)")
    with pytest.raises(Exception, match="not allowed"):
        _drawing.svg({"data": {"url": "https://example.com/data.csv"}, "mark": "point"})


def test_a_worker_stops_warming_up_when_a_job_waits():
    read, write = os.pipe()
    with os.fdopen(read) as stream, os.fdopen(write, "w") as feed:
        assert not _drawing._job_waiting(stream)
        feed.write("{}\n")
        feed.flush()
        assert _drawing._job_waiting(stream)
        assert stream.readline() == "{}\n"


def test_the_warm_up_card_draws_texts_and_marks():
    root = ET.fromstring(_drawing.svg(_drawing._WARM_CARD))
    texts = {el.text for el in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"Card", "Ways", "Ego network", "Threads", "rate"} <= texts


def test_compact_svg_keeps_the_texts_and_marks(tribe, table):
    chosen = _chosen(table)
    leader = chosen["leader_id"][0]
    chart = charts.report_card(leader, chosen, graph.edge_list(tribe.events), tribe.events)
    full = charts.render(chart, scale=1)["svg"].decode("utf-8")
    small = compact_svg(full, "card")
    assert len(small) < 0.75 * len(full)

    def texts(svg: str) -> list[str]:
        return ["".join(t.itertext()) for t in ET.fromstring(svg).iter() if t.tag.endswith("text")]

    def marks(svg: str) -> int:
        ends = ("line", "circle", "rect")
        return sum(1 for t in ET.fromstring(svg).iter() if t.tag.endswith(ends))

    assert texts(small) == texts(full) and texts(small)
    assert marks(small) >= marks(full)  # circles drawn as paths become <circle>
    assert "xmlns" not in small and "aria-" not in small and "class=" not in small
    # the texts inherit one font: the browser draws them in fonts of the widths vl-convert
    # measured them with (Liberation Sans, Arial), not in its own, often wider, sans-serif
    assert (
        ET.fromstring(small).get("font-family") == "'Liberation Sans', Arial, Helvetica, sans-serif"
    )
    assert 'font-family="sans-serif"' not in small


def test_write_report_with_names_and_unobservable(tmp_path, tribe, table):
    chosen = _chosen(table).with_columns(
        pl.when(pl.col("leader_id") == "ghost")
        .then(pl.lit("Ghost Writer"))
        .otherwise(pl.col("leader_id"))
        .alias("leader_name"),
        pl.lit(UNOBSERVABLE).alias("unobservable"),
    )
    path = write_report(tmp_path, chosen, graph.edge_list(tribe.events), tribe.events)
    page = path.read_text()
    text = _text(page)
    assert page.count("<svg") == 2 + chosen.height
    for row in chosen.iter_rows(named=True):
        assert row["reason"] in text
        assert row["ways"] in text
    # rows and cards by name in natural order: "Ghost Writer" before the L-numbered leaders
    assert (
        "<a href='#card-1'><bdi>Ghost Writer</bdi></a> <span class='id'><bdi>ghost</bdi></span>"
        in text
    )
    cards = re.findall(r"<h2>Report card: <bdi>([^<]+)</bdi></h2>", page)
    assert cards[0] == "Ghost Writer" and cards[1:] == sorted(cards[1:])
    assert "Report card: <bdi>Ghost Writer</bdi>" in text
    assert "<b>reactions</b>: the platform (twitter) does not expose" in text
    assert "<b>shares</b>: no share in any record of the input" in text
    # the signals come before the table, the table before the charts
    assert text.index("does not expose") < text.index("<table>") < page.index("<svg")
    assert ".undetermined { color: #767676" in text
    assert "<span class='undetermined'>undetermined</span></td>" in text
    assert "label_agreement" not in text
    assert "1 participator, 1 broadcaster, 1 undetermined." in text
    participator = chosen.filter(pl.col("profile") == "participator").row(0, named=True)
    interval = (
        f"{participator['participation_index']:.2f}<br>"
        f"({participator['index_low']:.2f}–{participator['index_high']:.2f})"
    )
    assert interval in text
    noun = participator["sub_profile"].removeprefix("participator · ")
    assert f"<span class='participator'>participator</span><br><span class='sub'>{noun}" in text
    assert "<span class='missing'>n/o</span>" in text  # seeing is not observed
    assert {p.stem for p in (tmp_path / "charts").glob("*.png")} == {"profile_map", "comparison"}


def test_card_png_draws_each_card_as_png_too(tribe, table, tmp_path):
    """``card_png``: the PNG of a card is its SVG rasterised, for slides."""
    chosen = _chosen(table)
    edges = graph.edge_list(tribe.events)
    write_report(tmp_path, chosen, edges, tribe.events, card_png=True)
    cards = {f"card_{leader}" for leader in chosen["leader_id"]}
    for suffix in ("png", "svg"):
        assert {p.stem for p in (tmp_path / "charts").glob(f"*.{suffix}")} == {
            "profile_map",
            "comparison",
            *cards,
        }
    leader = chosen["leader_id"][0]
    png = (tmp_path / "charts" / f"card_{leader}.png").read_bytes()
    svg = (tmp_path / "charts" / f"card_{leader}.svg").read_text(encoding="utf-8")
    assert png == bytes(vl_convert.svg_to_png(svg, scale=report.CARD_SCALE))


def test_leaders_sharing_a_name_are_told_apart_in_the_report(tmp_path, tribe, table):
    labels = dict.fromkeys(table["leader_id"], "Tom")
    page = write_report(
        tmp_path, _chosen(table), graph.edge_list(tribe.events), tribe.events, labels=labels
    ).read_text(encoding="utf-8")
    heads = re.findall(r"<h2>Report card: <bdi>([^<]*)</bdi></h2>", page)
    assert len(set(heads)) == len(heads) == 3 and all(h.startswith("Tom (") for h in heads)


def test_report_parts_without_optional_columns(table):
    chosen = _chosen(table)
    assert _unobservable_html(chosen) == ""
    names = {leader: leader for leader in chosen["leader_id"]}
    html = _table_html(chosen.drop("drivers", "ways"), names)
    assert html.count("<tr>") == chosen.height + 1
    assert "<span class='id'>" not in html and "label rests on" not in html
    assert all(
        f"<td class='text'><a href='#card-{i}'><bdi>{leader}</bdi></a></td>" in html
        for i, leader in enumerate(chosen["leader_id"], 1)
    )


def test_unobservable_section_when_everything_is_observable(table):
    html = _unobservable_html(table.with_columns(pl.lit("").alias("unobservable")))
    assert "Every signal the measures use is observable" in html


def test_pseudonyms_hide_ids_and_names_in_the_table(table):
    chosen = _chosen(table).with_columns(pl.lit("Real Name").alias("leader_name"))
    labels = {leader: f"Leader {i}" for i, leader in enumerate(chosen["leader_id"], 1)}
    html = _table_html(chosen, labels)
    assert "Leader 1" in html and "Real Name" not in html
    assert not any(leader in html for leader in chosen["leader_id"])


def test_characters_no_font_draws_are_gathered_not_printed(monkeypatch, capsys):
    """vl-convert's one line per character and drawing becomes one set, said once."""
    import io

    monkeypatch.setattr(_drawing, "_missing", set())
    lines = [
        "No fonts with a ب/U+628 character were found.\n",
        "something else went wrong\n",
        "No fonts with a 👩/U+1F469 character were found.\n",
        "No fonts with a ب/U+628 character were found.\n",
    ]
    _drawing._relay(io.StringIO("".join(lines)))
    assert _drawing.missing_glyphs() == ["ب", "👩"]
    assert capsys.readouterr().err == "something else went wrong\n"


def test_profile_says_once_which_characters_no_font_draws(tmp_path):
    """A leader named in a script the machine has no font for: one note, no flood of lines."""
    from tribe_analysis.events import write_events

    tribe = simulate_tribe(n_leaders=3, days=20, seed=3)
    name = "مرحبا 👩"
    events = tribe.events.with_columns(
        pl.col(c).replace({tribe.leaders[0]: name}) for c in ("actor_id", "target_actor_id")
    )
    write_events(events, tmp_path / "events.parquet")
    (tmp_path / "leaders.txt").write_text("\n".join([name, *tribe.leaders[1:]]) + "\n")
    run = subprocess.run(
        [sys.executable, "-m", "tribe_analysis.cli", "profile", str(tmp_path / "events.parquet"),
         "--leaders", str(tmp_path / "leaders.txt"), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, check=False,
        cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert "No fonts with" not in run.stderr
    notes = [line for line in run.stderr.splitlines() if "no font on this machine" in line]
    assert len(notes) <= 1  # none where the machine has an emoji font
    if notes:
        assert "👩" in notes[0]
