from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from tribe_analysis import events as ev
from tribe_analysis.cli import main

from .conftest import GOOD_ROWS, HEADER


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_validate_accepts_someone_elses_csv(write_csv):
    result = run("validate", write_csv(GOOD_ROWS))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["events", "6"]
    assert "  reply           3" in lines
    assert "actors            4" in lines
    assert lines[-3] == "time span         2024-03-01T10:00:00Z .. 2024-03-01T11:30:00Z"
    assert lines[-2] == "orphan replies    33.3% (parent not in the data)"


@pytest.mark.parametrize(
    ("rows", "header", "reason"),
    [
        ([*GOOD_ROWS, "z,2024-03-01T10:00:00Z,eve,like,p1,,"], HEADER, ":8: unknown action 'like'"),
        (
            [*GOOD_ROWS, "z,2024-03-01T10:00:00Z,eve,reply,,,"],
            HEADER,
            ":8: reply without parent_id",
        ),
        (
            [*GOOD_ROWS, "p1,2024-03-01T10:00:00Z,eve,post,,,"],
            HEADER,
            ":8: duplicate event_id 'p1'",
        ),
        ([*GOOD_ROWS, "z,March 1st,eve,post,,,"], HEADER, ":8: malformed timestamp 'March 1st'"),
        (
            ["a,2024-03-01T10:00:00Z,post"],
            "event_id,timestamp,action\n",
            ":1: missing required column 'actor_id'",
        ),
        ([], "", ":1: empty file"),
    ],
    ids=[
        "unknown-action",
        "reply-without-parent",
        "duplicate-id",
        "bad-timestamp",
        "missing-column",
        "empty",
    ],
)
def test_validate_rejects_bad_input(write_csv, rows, header, reason):
    path = write_csv(rows, header=header)
    result = run("validate", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: {path}{reason}")
    assert "Traceback" not in result.stderr


def test_validate_rejects_non_utf8(write_csv):
    path = write_csv(GOOD_ROWS)
    path.write_bytes(
        path.read_bytes() + "z,2024-03-01T10:00:00Z,\u00e9ve,post,,,\n".encode("latin-1")
    )
    result = run("validate", path)
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}:8: not UTF-8: byte 0xe9 at column 24\n"


def test_console_script_exits_2_without_traceback(write_csv):
    path = write_csv([*GOOD_ROWS, "z,2024-03-01T10:00:00Z,eve,like,p1,,"])
    exe = Path(sys.executable).with_name("tribe-analysis")
    proc = subprocess.run(
        [str(exe), "validate", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"error: {path}:8: unknown action 'like' (expected one of post, reply, share, reaction)"
    )


def test_many_problems_are_counted_not_flooded(write_csv):
    rows = [f"z{i},2024-03-01T10:00:00Z,eve,like,p1,," for i in range(150)]
    result = run("validate", write_csv([*GOOD_ROWS, *rows]))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 101
    assert lines[-1] == "error: ... and 50 more problems (150 in all)"


def test_simulate_writes_outputs(tmp_path):
    out = tmp_path / "sim"
    result = run("simulate", "--out", out, "--leaders", 5, "--days", 10, "--seed", 3, "--csv")
    assert result.exit_code == 0, result.output
    events = pl.read_parquet(out / "events.parquet")
    assert events.schema == ev.SCHEMA
    assert ev.read_events(out / "events.csv").equals(ev.read_events(out / "events.parquet"))
    truth = pl.read_csv(out / "truth.csv")
    leaders = (out / "leaders.txt").read_text().split()
    assert leaders == truth.get_column("leader_id").to_list() and len(leaders) == 5
    assert set(truth.get_column("style")) <= {"broadcaster", "participator"}
    # same seed, same bytes
    again = tmp_path / "again"
    run("simulate", "--out", again, "--leaders", 5, "--days", 10, "--seed", 3, "--csv")
    for name in ("events.parquet", "events.csv", "truth.csv", "leaders.txt"):
        assert (out / name).read_bytes() == (again / name).read_bytes()


def test_simulate_rejects_bad_arguments(tmp_path):
    result = run("simulate", "--out", tmp_path, "--leaders", 0)
    assert result.exit_code == 2
    assert "Invalid value for '--leaders'" in result.stderr


@pytest.fixture(scope="module")
def sample_csv() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "sample" / "events.csv"


def test_profile_writes_outputs_byte_identically(sample_csv, tmp_path):
    leaders = sample_csv.with_name("leaders.txt")
    first = run(
        "profile",
        sample_csv,
        "--leaders",
        leaders,
        "--seed",
        3,
        "--out",
        tmp_path / "a",
        "--no-report",
    )
    assert first.exit_code == 0, first.output
    second = run(
        "profile",
        sample_csv,
        "--leaders",
        leaders,
        "--seed",
        3,
        "--out",
        tmp_path / "b",
        "--no-report",
    )
    assert second.exit_code == 0
    for name in (
        "profiles.csv",
        "features.parquet",
        "edges.parquet",
        "graph.graphml",
        "graph.gexf",
    ):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    table = pl.read_csv(tmp_path / "a" / "profiles.csv")
    assert table.columns[:10] == [
        "leader_id",
        "profile",
        "reason",
        "probability",
        "participation_index",
        "index_low",
        "index_high",
        "parts_observed",
        "sub_profile",
        "leader_name",
    ]
    assert table["leader_id"].to_list() == leaders.read_text().split()
    assert "reply_rate" in table.columns and "reply_rate_den" in table.columns
    assert set(table["profile"]) <= {"broadcaster", "participator", "undetermined"}
    features = pl.read_parquet(tmp_path / "a" / "features.parquet")
    assert {"see_coverage_num", "see_coverage_den", "see_coverage_low", "ego_constraint"} <= set(
        features.columns
    )
    assert {"index_low", "index_high", "parts_observed", "unobservable"} <= set(features.columns)
    assert "participator" in first.stdout and "broadcaster" in first.stdout


def test_profile_top_leaders_and_window(sample_csv, tmp_path):
    result = run(
        "profile",
        sample_csv,
        "--top-leaders",
        5,
        "--since",
        "2024-01-05",
        "--until",
        "2024-01-20",
        "--out",
        tmp_path,
        "--no-report",
    )
    assert result.exit_code == 0, result.output
    assert pl.read_csv(tmp_path / "profiles.csv").height == 5


def test_profile_unknown_leader_is_an_error(sample_csv, tmp_path):
    leaders = tmp_path / "leaders.txt"
    leaders.write_text("L001\n# a comment\nnobody\nL002\n")
    result = run("profile", sample_csv, "--leaders", leaders, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "format: events (recognised from content)",
        f"error: {leaders}:3: leader 'nobody' is not in the data",
    ]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--leaders", "x.txt", "--top-leaders", "3"], "not both"),
        (["--profiles", "zero"], "expected a positive integer or 'auto', got 'zero'"),
        (["--since", "next week"], "cannot parse date 'next week'"),
    ],
)
def test_profile_bad_options(sample_csv, tmp_path, args, message):
    result = run("profile", sample_csv, *args, "--out", tmp_path)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_profile_rejects_bad_events(write_csv, tmp_path):
    path = write_csv([*GOOD_ROWS, "z,2024-03-01T10:00:00Z,eve,like,p1,,"])
    result = run("profile", path, "--out", tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}:8: unknown action 'like'")


def test_demo_profiles_compares_and_reports(tmp_path):
    result = run("demo", "--out", tmp_path, "--leaders", 4, "--days", 30, "--seed", 2)
    assert result.exit_code == 0, result.output
    assert "agreement with the planted styles:" in result.stdout
    for name in (
        "events.parquet",
        "truth.csv",
        "profiles.csv",
        "features.parquet",
        "edges.parquet",
        "graph.graphml",
        "graph.gexf",
    ):
        assert (tmp_path / name).exists()
    leaders = (tmp_path / "leaders.txt").read_text().split()
    expected = {"profile_map", "comparison", *[f"card_{leader}" for leader in leaders]}
    for suffix in ("png", "svg"):
        assert {p.stem for p in (tmp_path / "charts").glob(f"*.{suffix}")} == expected
    from tests.test_charts import _png_size_and_colours

    width, height, colours = _png_size_and_colours(
        (tmp_path / "charts" / "profile_map.png").read_bytes()
    )
    assert 1000 < width < 1600 and 600 < height < 1000 and colours > 20  # scale 2
    report = (tmp_path / "report.html").read_text()
    assert report.count("<svg") == len(expected)
    assert "<table>" in report and all(leader in report for leader in leaders)
    assert "http://" not in report.replace("http://www.w3.org", "")
    assert "https://" not in report


def test_profile_skip_mode_writes_quarantine(tmp_path):
    sample = Path(__file__).resolve().parents[1] / "data" / "sample" / "events.csv"
    lines = sample.read_text().splitlines()
    bad_line = "zz1,2024-01-03T10:00:00Z,m00001,like,e000000001,,,,,"
    path = tmp_path / "events.csv"
    path.write_text("\n".join([*lines[:5], bad_line, *lines[5:]]) + "\n")
    strict = run("profile", path, "--top-leaders", 4, "--out", tmp_path / "strict")
    assert strict.exit_code == 2
    assert f"error: {path}:6: unknown action 'like'" in strict.stderr
    result = run(
        "profile",
        path,
        "--top-leaders",
        4,
        "--on-error",
        "skip",
        "--out",
        tmp_path / "o",
        "--no-report",
    )
    assert result.exit_code == 0, result.output
    assert f"read {len(lines):,} records: loaded {len(lines) - 1:,}, skipped 1" in result.stderr
    assert "unknown action" in result.stderr
    quarantined = [
        json.loads(x) for x in (tmp_path / "o" / "quarantine.jsonl").read_text().splitlines()
    ]
    assert quarantined == [
        {
            "source": str(path),
            "line": 6,
            "reason": "unknown action 'like' (expected one of post, reply, share, reaction)",
            "record": bad_line,
        }
    ]


def test_profile_pseudonymize(tmp_path, sample_csv, monkeypatch):
    monkeypatch.delenv("TRIBE_ANALYSIS_KEY", raising=False)
    leaders = sample_csv.with_name("leaders.txt")
    refused = run("profile", sample_csv, "--leaders", leaders, "--pseudonymize", "--out", tmp_path)
    assert refused.exit_code == 2
    assert "no pseudonymisation key" in refused.stderr
    key = tmp_path / "key"
    key.write_text("correct horse battery staple\n")
    plain = run(
        "profile", sample_csv, "--leaders", leaders, "--out", tmp_path / "plain", "--no-report"
    )
    hidden = run(
        "profile",
        sample_csv,
        "--leaders",
        leaders,
        "--pseudonymize",
        "--key-file",
        key,
        "--out",
        tmp_path / "hidden",
    )
    assert hidden.exit_code == 0, hidden.output
    a = pl.read_csv(tmp_path / "plain" / "profiles.csv")
    b = pl.read_csv(tmp_path / "hidden" / "profiles.csv")
    assert a.select("leader_id", "profile", "participation_index").equals(
        b.select("leader_id", "profile", "participation_index")
    )
    graphml = (tmp_path / "hidden" / "graph.graphml").read_text()
    assert "m00001" not in graphml and "u_" in graphml
    assert plain.exit_code == 0


def test_profile_reports_unobservable_signals(tmp_path):
    tribe_dir = tmp_path / "sim"
    assert (
        run("simulate", "--out", tribe_dir, "--leaders", 6, "--days", 20, "--seed", 2).exit_code
        == 0
    )
    events = pl.read_parquet(tribe_dir / "events.parquet").filter(pl.col("action") != "reaction")
    events.write_parquet(tmp_path / "no_reactions.parquet")
    out = tmp_path / "out"
    result = run(
        "profile",
        tmp_path / "no_reactions.parquet",
        "--top-leaders",
        4,
        "--out",
        out,
        "--no-report",
    )
    assert result.exit_code == 0, result.output
    assert "unobservable: reactions — no reaction in any record of the input" in result.stderr
    table = pl.read_csv(out / "profiles.csv")
    assert set(table["unobservable"]) == {"reactions: no reaction in any record of the input"}
    assert table["see_coverage"].null_count() == table.height


def test_pseudo_account_cannot_be_named_a_leader(sample_csv, tmp_path):
    leaders = tmp_path / "leaders.txt"
    leaders.write_text("L001\n[deleted]\n")
    result = run("profile", sample_csv, "--leaders", leaders, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert f"error: {leaders}:2: '[deleted]' is a pseudo-account, not one person" in result.stderr


def test_profile_graph_files_tribe_by_default_full_on_request(sample_csv, tmp_path):
    import networkx as nx

    leaders = ["L001", "L002"]
    (tmp_path / "leaders.txt").write_text("\n".join(leaders) + "\n")
    for scope in ("tribe", "full"):
        out = tmp_path / scope
        args = ["profile", sample_csv, "--leaders", tmp_path / "leaders.txt", "--out", out]
        result = run(*args, "--no-report", "--graph", scope)
        assert result.exit_code == 0, result.output
    edges = pl.read_parquet(tmp_path / "tribe" / "edges.parquet")
    assert edges.equals(pl.read_parquet(tmp_path / "full" / "edges.parquet"))
    full = nx.read_graphml(tmp_path / "full" / "graph.graphml")
    tribe = nx.read_graphml(tmp_path / "tribe" / "graph.graphml")
    assert full.number_of_edges() == edges.height > tribe.number_of_edges() > 0
    assert set(tribe.nodes) >= set(leaders)
    assert all(tribe.nodes[n]["leader"] == (n in leaders) for n in tribe.nodes)
    gexf = nx.read_gexf(tmp_path / "tribe" / "graph.gexf")
    assert sorted(gexf.edges(data="weight")) == sorted(
        (u, v, float(w)) for u, v, w in tribe.edges(data="weight")
    )
