"""tribe_analysis.pipeline: the whole profile job as library calls."""

from __future__ import annotations

import html
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import hypothesis
import polars as pl
import pytest
from hypothesis import strategies as st

from tribe_analysis import events as ev
from tribe_analysis import graph, pipeline
from tribe_analysis.observability import observe
from tribe_analysis.participation import MIN_PARTS, PARTS
from tribe_analysis.profiles import CONFIDENCE
from tribe_analysis.synth import simulate_tribe


@pytest.fixture(scope="module")
def tribe():
    return simulate_tribe(n_leaders=6, days=21, seed=4)


def test_profile_returns_every_part_of_the_run(tribe):
    run = pipeline.profile(tribe.events, tribe.leaders, seed=0)
    assert run.leaders == sorted(tribe.leaders)
    assert run.profiles.columns[: len(pipeline.FIRST_COLUMNS)] == list(pipeline.FIRST_COLUMNS)
    assert run.profiles["leader_id"].to_list() == run.leaders
    assert run.measures["leader_id"].to_list() == run.leaders
    assert set(run.profiles["profile"]) <= {"participator", "broadcaster", "undetermined"}
    assert run.edges.height > 0 and run.notes == () and run.unobservable == {}


def test_edge_list_is_computed_once(tribe, monkeypatch):
    calls = []
    original = graph.edge_list

    def counting(events, *args, **kwargs):
        calls.append(1)
        return original(events, *args, **kwargs)

    monkeypatch.setattr(graph, "edge_list", counting)
    pipeline.profile(tribe.events, tribe.leaders)
    assert len(calls) == 1


def test_leaders_are_chosen_when_not_given(tribe):
    run = pipeline.profile(tribe.events, top=3)
    assert len(run.leaders) == 3 and run.profiles.height == 3


def test_fewer_leaders_than_asked_for_are_explained(tribe):
    run = pipeline.profile(tribe.events, top=500)
    assert 0 < len(run.leaders) < 500
    assert run.notes == (
        f"{len(run.leaders)} leaders, not 500: only {len(run.leaders)} accounts have enough "
        "observable evidence to be labelled",
    )
    assert pipeline.profile(tribe.events, top=len(run.leaders)).notes == ()
    # what the reader inferred comes first
    said = pipeline.profile(tribe.events, top=500, notes=["a reader's note"]).notes
    assert said == ("a reader's note", *run.notes)


def test_names_label_the_leaders(tribe):
    first = tribe.leaders[0]
    run = pipeline.profile(tribe.events, tribe.leaders, names={first: "Ada", "nobody": "x"})
    assert run.names == {first: "Ada"}
    named = dict(run.profiles.select("leader_id", "leader_name").iter_rows())
    assert named[first] == "Ada" and named[tribe.leaders[1]] == tribe.leaders[1]


def test_names_label_the_nodes_of_the_graph_files(tribe, tmp_path):
    """Gephi shows a node's label: the display name, not a numeric id (Twitter, Bluesky)."""
    import networkx as nx

    mentioned = tribe.events.get_column("mentions").explode().drop_nulls()
    actors = set(tribe.events.get_column("actor_id")) | set(mentioned)
    names = {actor: f"Name & {actor}" for actor in sorted(actors)}
    run = pipeline.profile(tribe.events, tribe.leaders, names=names)
    pipeline.write_outputs(run, tmp_path / "plain", report=False, graph="full")
    gexf = nx.read_gexf(tmp_path / "plain" / "graph.gexf")
    assert {gexf.nodes[n]["label"] for n in gexf} == {names[n] for n in gexf}
    graphml = nx.read_graphml(tmp_path / "plain" / "graph.graphml")
    assert {n: d["label"] for n, d in graphml.nodes(data=True)} == {n: names[n] for n in graphml}
    # pseudonymised, only the leaders keep their names: another name would say who it is
    hidden = pipeline.profile(tribe.events, tribe.leaders, names=names, key=b"k" * 32)
    pipeline.write_outputs(hidden, tmp_path / "hidden", report=False, graph="full")
    for suffix in ("gexf", "graphml"):
        text = (tmp_path / "hidden" / f"graph.{suffix}").read_text()
        shown = {a for a in actors if f"Name &amp; {a}<" in text or f'"Name &amp; {a}"' in text}
        assert shown == set(tribe.leaders), suffix
    # without names the files are as before: GEXF labels are the ids, GraphML has no label
    bare = pipeline.profile(tribe.events, tribe.leaders)
    pipeline.write_outputs(bare, tmp_path / "bare", report=False)
    assert 'key id="label"' not in (tmp_path / "bare" / "graph.graphml").read_text()
    labels = nx.read_gexf(tmp_path / "bare" / "graph.gexf").nodes(data="label")
    assert all(node == label for node, label in labels)


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2024-03-01", "2024-02-01", "is not before"),
        ("2031-01-01", None, r"no events in the window \(the data spans"),
        (None, "1999-01-01", "no events in the window"),
        ("yesterday", None, "cannot parse date"),
    ],
)
def test_a_window_that_labels_nobody_is_refused(tribe, since, until, message):
    with pytest.raises(ValueError, match=message):
        pipeline.profile(tribe.events, tribe.leaders, since=since, until=until)


def test_a_window_inside_the_data_profiles(tribe):
    first = tribe.events["timestamp"].min()
    run = pipeline.profile(tribe.events, tribe.leaders, since=first.date().isoformat())
    assert run.profiles.height == len(tribe.leaders)


def test_a_window_run_holds_the_window_s_events_and_edges(tribe):
    """The cards, the graph files and the report's counts show the events measured."""
    lo, hi = datetime(2024, 1, 10, tzinfo=UTC), datetime(2024, 1, 20, tzinfo=UTC)
    run = pipeline.profile(tribe.events, tribe.leaders, since=lo, until=hi)
    inside = tribe.events.filter((pl.col("timestamp") >= lo) & (pl.col("timestamp") < hi))
    assert run.events.equals(inside) and 0 < inside.height < tribe.events.height
    assert run.edges.equals(graph.edge_list(inside))
    assert run.window == (lo, hi)


def test_key_pseudonymises_everyone_but_the_leaders(tribe):
    run = pipeline.profile(tribe.events, tribe.leaders, key=b"k" * 32)
    raw = set(tribe.events["actor_id"]) - set(tribe.leaders)
    seen = set(run.events["actor_id"]) | set(run.edges["source"]) | set(run.edges["target"])
    assert not raw & seen
    assert run.events["text"].null_count() == run.events.height


def test_write_outputs_writes_what_the_run_holds(tribe, tmp_path):
    run = pipeline.profile(tribe.events, tribe.leaders)
    written = pipeline.write_outputs(run, tmp_path, report=False)
    assert written == list(pipeline.OUTPUTS)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(pipeline.OUTPUTS)
    back = pl.read_csv(tmp_path / "profiles.csv")
    assert back["leader_id"].to_list() == run.leaders
    assert back["profile"].to_list() == run.profiles["profile"].to_list()
    assert pl.read_parquet(tmp_path / "edges.parquet").height == run.edges.height


def test_the_report_says_what_was_profiled(tribe, tmp_path):
    """Events, their period and the run's notes under the report's title."""
    run = pipeline.profile(tribe.events, top=len(tribe.leaders) + 50)
    assert run.notes  # fewer leaders than asked for
    pipeline.write_outputs(run, tmp_path / "out")
    page = (tmp_path / "out" / "report.html").read_text()
    first, last = tribe.events["timestamp"].min(), tribe.events["timestamp"].max()
    about = f"{tribe.events.height:,} events, {first:%b %d} – {last:%b %d, %Y}"
    assert f"<p class='about'>{about}<br>note: " in page
    assert all(html.escape(note) in page for note in run.notes)
    since = (first + timedelta(days=3)).date().isoformat()
    window = pipeline.profile(tribe.events, tribe.leaders, since=since)
    pipeline.write_outputs(window, tmp_path / "window")
    page = (tmp_path / "window" / "report.html").read_text()
    day = datetime.fromisoformat(since)
    assert f"<br>window: from {day:%b %d, %Y} (UTC): measured on these events only" in page


def test_write_outputs_rejects_an_unknown_graph_scope(tribe, tmp_path):
    run = pipeline.profile(tribe.events, tribe.leaders)
    with pytest.raises(ValueError, match="graph must be"):
        pipeline.write_outputs(run, tmp_path, report=False, graph="all")


def test_a_pseudonymised_run_writes_a_masked_quarantine(tribe, tmp_path):
    import json

    from tribe_analysis.io import Skipped

    skipped = [Skipped("x.jsonl", 4, "duplicate id 'e0042' (kept once)", '{"id": "e0042"}')]
    hidden = pipeline.profile(tribe.events, tribe.leaders, key=b"k" * 32)
    assert hidden.pseudonymized and not pipeline.profile(tribe.events, tribe.leaders).pseudonymized
    written = pipeline.write_outputs(hidden, tmp_path / "out", report=False, skipped=skipped)
    assert written[-1] == "quarantine.jsonl"
    entry = json.loads((tmp_path / "out" / "quarantine.jsonl").read_text())
    assert entry == {
        "source": "x.jsonl",
        "line": 4,
        "reason": "duplicate id '…' (kept once)",
        "record": None,
    }
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["pseudonymized"] is True
    assert manifest["counts"]["records_quarantined"] == 1


def test_leaders_are_chosen_from_the_window(tribe):
    """With since/until, the top leaders are the window's (before: the whole input's, some
    with no event in the window and every label 'insufficient evidence')."""
    since, until = datetime(2024, 1, 8, tzinfo=UTC), datetime(2024, 1, 11, tzinfo=UTC)
    run = pipeline.profile(tribe.events, top=5, since=since, until=until)
    ts = pl.col("timestamp")
    window = tribe.events.filter((ts >= since) & (ts < until))
    observed = observe(tribe.events)
    assert run.leaders == sorted(pipeline.choose_leaders(window, 5, observed)[0])
    assert run.leaders != sorted(pipeline.choose_leaders(tribe.events, 5, observed)[0])


def test_write_outputs_refuses_a_folder_it_did_not_write(tribe, tmp_path):
    run = pipeline.profile(tribe.events, tribe.leaders)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(pipeline.OutputError, match="no tribe-analysis manifest.json"):
        pipeline.write_outputs(run, tmp_path, report=False)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def _fresh(code: str) -> list[str]:
    """Words ``code`` prints, run in a fresh Python."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_report_modules_import_in_the_background():
    code = (
        "import sys; from tribe_analysis import pipeline; "
        "pipeline.import_in_background((), report=True).join(); "
        "print('tribe_analysis.report' in sys.modules, sys.modules.get('rfc3987_syntax'))"
    )
    assert _fresh(code) == ["True", "None"]


def test_background_imports_leave_out_what_they_are_told_then_restore():
    """pandas is left out of scikit-learn's import, imports afterwards, and the switch interval returns."""
    code = (
        "import sys; from tribe_analysis import pipeline; "
        "before = sys.getswitchinterval(); "
        "t = pipeline.import_in_background(('sklearn.utils.fixes',), without=('pandas',)); "
        "during = sys.getswitchinterval(); t.join(); "
        "import sklearn.utils.fixes as f; left_out = f.pd is None and 'pandas' not in sys.modules; "
        "import pandas; "
        "print(left_out, abs(during - pipeline.IMPORT_SWITCH_INTERVAL) < 1e-6, sys.getswitchinterval() == before)"
    )
    assert _fresh(code) == ["True", "True", "True"]


@pytest.mark.parametrize(
    ("collecting", "after"), [(True, ["True", "True"]), (False, ["False", "False"])]
)
def test_background_imports_pause_the_garbage_collector_and_freeze_what_they_made(
    collecting, after
):
    """Collection is off while the imports run, then as it was, their objects frozen if on."""
    code = (
        f"import gc; gc.enable() if {collecting} else gc.disable(); "
        "from tribe_analysis import pipeline; "
        "t = pipeline.import_in_background(('sklearn.base',)); during = gc.isenabled(); t.join(); "
        "print(during, gc.isenabled(), gc.get_freeze_count() > 10_000)"
    )
    assert _fresh(code) == ["False", *after]


ACTORS = ["ann", "bob", "cid", "dan", "eve", "fay"]
HABITS = {  # actions each account draws from: two who post, two who reply, two of each
    "ann": ["post"] * 6 + ["reply", "share"],
    "bob": ["post"] * 6 + ["reaction", "share"],
    "cid": ["reply"] * 4 + ["post", "reaction", "reaction", "share"],
    "dan": ["reply"] * 4 + ["post", "post", "reaction", "share"],
    "eve": ["post", "post", "reply", "reply", "share", "reaction"],
    "fay": ["post", "reply", "reaction"],
}


@st.composite
def small_tribes(draw) -> pl.DataFrame:
    """Canonical events of a few accounts: any actions, parents inside or outside the data."""
    n = draw(st.integers(1, 200))
    rows, start = [], datetime(2024, 3, 1, tzinfo=UTC)
    for i in range(n):
        actor = draw(st.sampled_from(ACTORS))
        action = draw(st.sampled_from(HABITS[actor]))
        parent = None
        if action != "post":
            earlier = [f"e{j}" for j in range(i)]
            others = [f"e{j}" for j in range(i) if rows[j]["actor_id"] != actor]
            pool = others or earlier  # mostly acting on others' content
            parent = draw(st.sampled_from([*pool, "elsewhere"])) if pool else "elsewhere"
        mentions = (
            draw(st.lists(st.sampled_from(ACTORS), max_size=2)) if action != "reaction" else []
        )
        rows.append(
            {
                "event_id": f"e{i}",
                "timestamp": start + timedelta(minutes=draw(st.integers(0, 5)) + 7 * i),
                "actor_id": actor,
                "action": action,
                "parent_id": parent,
                "mentions": mentions,
                "platform": "events",
            }
        )
    return ev.complete_events(pl.DataFrame(rows))


@hypothesis.settings(max_examples=40, deadline=None)
@hypothesis.given(events=small_tribes(), data=st.data())
def test_any_small_tribe_gives_labels_that_hold_together(events, data):
    """Whatever the events: rates within their counts, labels from the leader's own index."""
    present = sorted(set(events["actor_id"]))
    leaders = data.draw(st.lists(st.sampled_from(present), min_size=1, unique=True))
    run = pipeline.profile(events, leaders, seed=0)
    table = run.profiles
    assert table["leader_id"].to_list() == sorted(leaders)
    for part in PARTS:  # a rate is its numerator over its denominator, within [0, 1]
        rows = run.measures.filter(pl.col(part).is_not_null())
        assert (rows[f"{part}_num"] <= rows[f"{part}_den"]).all()
        assert rows[part].is_between(0, 1).all()
    index = pl.col("participation_index")
    assert table.filter(index.is_null())["profile"].eq("undetermined").all()
    assert table.filter(pl.col("parts_observed") < MIN_PARTS)["profile"].eq("undetermined").all()
    top = table.filter(pl.col("profile") == "broadcaster")[
        "participation_index"
    ].max()  # every participator's index is above every broadcaster's
    low = table.filter(pl.col("profile") == "participator")["participation_index"].min()
    assert top is None or low is None or low > top
    decided = table.filter(pl.col("profile") != "undetermined")
    assert decided["probability"].is_between(CONFIDENCE, 1).all()
    for leader in leaders[:2]:  # a leader's label is its own, whoever else is in the run
        alone = pipeline.profile(events, [leader], seed=0).profiles.row(0, named=True)
        mine = table.filter(pl.col("leader_id") == leader).row(0, named=True)
        assert (alone["profile"], alone["probability"]) == (mine["profile"], mine["probability"])


ids = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
)


@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(st.lists(ids, min_size=1, max_size=8), st.dictionaries(ids, ids, max_size=4))
def test_read_leaders_reads_back_what_leaders_file_writes(tmp_path_factory, leaders, names):
    path = tmp_path_factory.mktemp("leaders") / "leaders.txt"
    text = pipeline.leaders_file(leaders, names)
    path.write_text(text, encoding="utf-8")
    kept = [
        leader
        for leader in leaders
        if len(leader.splitlines()) == 1
        and leader == leader.strip()
        and not pipeline.LEADERS_COMMENT.search(leader)
    ]
    if not kept:
        with pytest.raises(ev.EventsError, match="no leader ids in the file"):
            pipeline.read_leaders(path)
        return
    assert pipeline.read_leaders(path) == list(dict.fromkeys(kept))
    # the way a spreadsheet or Windows editor saves it reads the same
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    assert pipeline.read_leaders(path) == list(dict.fromkeys(kept))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        (b"# only a comment\n\n", "no leader ids in the file"),
        (b"ann\n\xe9ric\n", "not UTF-8 (invalid continuation byte)"),
    ],
)
def test_read_leaders_names_the_file_and_why(tmp_path, content, reason):
    path = tmp_path / "leaders.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ev.EventsError) as caught:
        pipeline.read_leaders(path)
    assert str(caught.value) == f"{path}: {reason}"
