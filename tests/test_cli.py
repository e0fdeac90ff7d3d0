from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from tribe_analysis import events as ev
from tribe_analysis.cli import format_profiles, main

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
    assert lines[-4] == "time span         2024-03-01T10:00:00Z .. 2024-03-01T11:30:00Z"
    assert lines[-3] == "orphan replies    33.3% (parent not in the data)"
    assert lines[-2] == "mentions          2 (100.0% name an account of the data)"


def test_validate_names_the_signals_the_input_cannot_show(write_csv):
    """A count of 0 shares where no record could carry one is unknown: validate says so."""
    rows = [r for r in GOOD_ROWS if ",share," not in r and ",reaction," not in r]
    result = run("validate", write_csv(rows))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # shown as unknown, not as 0 (the count is of a signal no record could carry)
    assert "  share           - (unobservable, below)" in lines
    assert "  reaction        - (unobservable, below)" in lines
    assert lines[-2:] == [
        "unobservable      reactions — no reaction in any record of the input",
        "unobservable      shares — no share in any record of the input",
    ]
    everything = run("validate", write_csv(GOOD_ROWS)).stdout
    assert "unobservable" not in everything
    assert "  share           1" in everything.splitlines()


def test_mentions_written_with_an_at_sign_are_pointed_out(write_csv, tmp_path):
    """'@bob' where actor_id says 'bob': validate says so, and profile notes it (console, manifest)."""
    rows = [row.replace("bob|cid", "@bob|@cid|@nobody") for row in GOOD_ROWS]
    path = write_csv(rows)
    validated = run("validate", path)
    assert (
        "mentions          3 (0.0% name an account of the data; 2 more do without their "
        "leading '@')" in validated.stdout.splitlines()
    )
    leaders = tmp_path / "leaders.txt"
    leaders.write_text("ann\n")
    profiled = run("profile", path, "--leaders", leaders, "--out", tmp_path / "o", "--no-report")
    assert profiled.exit_code == 0, profiled.output
    note = (
        "2 mentions name an account of the data with a leading '@' that its actor_id does not have"
    )
    assert note in profiled.stderr
    assert json.loads((tmp_path / "o" / "manifest.json").read_text())["notes"][0].startswith(note)
    plain = write_csv(GOOD_ROWS, name="plain.csv")
    plain = run("profile", plain, "--leaders", leaders, "--out", tmp_path / "p", "--no-report")
    assert "leading '@'" not in plain.stderr


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
        f"error: {path}:8: unknown action 'like' (expected one of post, reply, share, reaction: a like is a reaction)"
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


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("simulate", "--leaders", 0),
        ("simulate", "--members", 1),
        ("simulate", "--seed", -1),
        ("demo", "--seed", 2**32),
        ("profile", "--seed", -1),
    ],
)
def test_bad_arguments_are_usage_errors(tmp_path, command, option, value):
    """A usage error (exit 2), never an 'unexpected failure' from the simulator or NumPy."""
    given = ["data/sample/events.csv"] if command == "profile" else []
    result = run(command, *given, "--out", tmp_path / "out", option, value)
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.stderr


def test_simulated_leaders_without_events_are_not_listed(tmp_path):
    """leaders.txt feeds `profile --leaders`, which refuses an id not in the data."""
    sim = tmp_path / "sim"
    made = run("simulate", "--out", sim, "--leaders", "50", "--days", "1")
    assert made.exit_code == 0
    listed = (sim / "leaders.txt").read_text().split()
    truth = pl.read_csv(sim / "truth.csv").get_column("leader_id").to_list()
    actors = set(pl.read_parquet(sim / "events.parquet").get_column("actor_id").to_list())
    silent = [leader for leader in truth if leader not in actors]
    assert silent and listed == [leader for leader in truth if leader in actors]
    assert f"for {len(silent)} of the leaders ({', '.join(silent)})" in made.stderr
    profiled = run("profile", sim / "events.parquet", "--leaders", sim / "leaders.txt",
                   "--out", tmp_path / "out", "--no-report")  # fmt: skip
    assert profiled.exit_code == 0, profiled.output


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


def test_an_unknown_leader_gets_the_account_it_likely_means(sample_csv, tmp_path):
    """'@L001' and 'l002' for L001 and L002; nothing for an id like no account."""
    leaders = tmp_path / "leaders.txt"
    leaders.write_text("@L001\nl002\nnobody\n")
    result = run("profile", sample_csv, "--leaders", leaders, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1:] == [
        f"error: {leaders}:1: leader '@L001' is not in the data "
        "(did you mean 'L001'? write ids as actor_id does)",
        f"error: {leaders}:2: leader 'l002' is not in the data "
        "(did you mean 'L002'? write ids as actor_id does)",
        f"error: {leaders}:3: leader 'nobody' is not in the data",
    ]
    masked = run("profile", sample_csv, "--leaders", leaders, "--out", tmp_path / "out",
                 "--pseudonymize", "--key-file", _key_file(tmp_path))  # fmt: skip
    assert masked.stderr.splitlines()[1] == f"error: {leaders}:1: leader '…' is not in the data"


def _key_file(tmp_path: Path) -> Path:
    key = tmp_path / "secret.key"
    key.write_bytes(bytes(range(32)))
    return key


def test_a_leader_named_by_display_name_gets_its_id():
    """Display names (Bluesky handles, Stack Exchange names) point to the id, or say it is shared."""
    from tribe_analysis.cli import _resemblances

    events = pl.DataFrame({"actor_id": ["did:1", "7", "8", "9"]})
    names = {"did:1": "nytimes.com", "7": "David", "8": "David", "9": "Ann", "10": "Geoff"}
    hints = _resemblances(events, names)(["@nytimes.com", "david", "Geoff", "zed"])
    assert hints == {
        "@nytimes.com": " (did you mean 'did:1'? its display name is 'nytimes.com'; "
        "name leaders by id)",
        "david": " (2 accounts have this display name: '7', '8'; name leaders by id)",
    }


def test_report_of_a_leader_without_threads_or_ties_is_quiet(write_csv, tmp_path, capfd):
    """Its card says so in words; Vega's warnings on empty panels never reach the console."""
    leaders = tmp_path / "leaders.txt"
    leaders.write_text("ann\ndan\n")  # dan: one reply to a post outside the data
    result = run("profile", write_csv(GOOD_ROWS), "--leaders", leaders, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    err = result.stderr + capfd.readouterr().err  # the drawing processes write to fd 2
    assert "Infinite extent" not in err and "Infinity" not in err
    card = (tmp_path / "out" / "charts" / "card_dan.svg").read_text(encoding="utf-8")
    assert "dan started no thread in the data (no root posts)" in card


def test_a_leader_id_holding_a_hash_is_read_whole(write_csv, tmp_path):
    """'user#1234' was cut at '#' to 'user': another account, profiled without a word."""
    rows = [
        "q1,2024-03-01T10:00:00Z,user,post,,,hi",
        "q2,2024-03-01T10:01:00Z,user#1234,post,,,hello",
    ]
    leaders = tmp_path / "leaders.txt"
    leaders.write_text("user#1234   # the one with a tag\n# a comment line\nann\t# the founder\n")
    out = tmp_path / "out"
    result = run(
        "profile", write_csv([*GOOD_ROWS, *rows]), "--leaders", leaders, "--out", out, "--no-report"
    )
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out / "profiles.csv")["leader_id"].to_list() == ["ann", "user#1234"]


def test_leaders_whose_ids_make_one_file_name_get_a_card_each(write_csv, tmp_path):
    """'a/b' and 'a_b' (or 'Ann' and 'ann' on macOS) once shared one card file: one was lost."""
    names = ["a/b", "a_b", "Ann", "ann"]
    rows = [f"q{i},2024-03-01T10:0{i}:00Z,{name},post,,,hello" for i, name in enumerate(names)]
    leaders = tmp_path / "leaders.txt"
    leaders.write_text("\n".join(names) + "\n")
    out = tmp_path / "out"
    result = run("profile", write_csv([*GOOD_ROWS, *rows]), "--leaders", leaders, "--out", out)
    assert result.exit_code == 0, result.output
    cards = sorted((out / "charts").glob("card_*.svg"))
    assert len({p.name.casefold() for p in cards}) == len(cards) == len(names)
    page = (out / "report.html").read_text(encoding="utf-8")
    for name in names:  # each section shows its own leader's card
        section = page.split(f"<h2>Report card: <bdi>{name}</bdi></h2>")[1].split("</section>")[0]
        assert f"Report card — {name}: " in section


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
    result = run("profile", path, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}:8: unknown action 'like'")


def test_demo_profiles_compares_and_reports(tmp_path):
    args = ("--leaders", 4, "--days", 30, "--seed", 2, "--card-png")
    result = run("demo", "--out", tmp_path, *args)
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
    listed = (tmp_path / "leaders.txt").read_text().splitlines()
    leaders = [line.split("#")[0].strip() for line in listed if not line.startswith("#")]
    assert leaders == pl.read_csv(tmp_path / "profiles.csv")["leader_id"].to_list()
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


def test_card_png_needs_the_report(tmp_path):
    sample = Path(__file__).resolve().parents[1] / "data" / "sample" / "events.csv"
    for args in (
        ("profile", sample, "--out", tmp_path / "a", "--no-report", "--card-png"),
        ("demo", "--out", tmp_path / "b", "--leaders", 2, "--no-report", "--card-png"),
    ):
        result = run(*args)
        assert result.exit_code == 2
        assert "--card-png draws the report's cards: it cannot go with --no-report" in result.stderr
        assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


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
            "reason": "unknown action 'like' (expected one of post, reply, share, reaction: a like is a reaction)",
            "record": bad_line,
        }
    ]
    # a run that fails after reading writes no quarantine, and never said it wrote one
    late = run(
        *("profile", path, "--on-error", "skip", "--since", "2030-01-01"),
        *("--out", tmp_path / "late", "--no-report"),
    )
    assert late.exit_code == 2 and "error: no events in the window" in late.stderr
    assert f"skipped 1 (kept with the results in {tmp_path / 'late' / 'quarantine.jsonl'})" in (
        late.stderr
    )
    assert "written" not in late.stderr and not (tmp_path / "late").exists()


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


# ------------------------------------------------------------------ issue 10: outputs, faults


def profile_sample(sample_csv, out, *args):
    return run("profile", sample_csv, "--top-leaders", 3, "--out", out, "--no-report", *args)


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def left_beside(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def one_error_line(result, expected: str) -> None:
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [expected]
    assert "Traceback" not in result.stderr and "Usage:" not in result.stderr


def test_profile_rerun_leaves_nothing_of_the_earlier_run(tmp_path):
    sample = Path(__file__).resolve().parents[1] / "data" / "sample" / "events.csv"
    lines = sample.read_text().splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([*lines, "zz1,2024-01-03T10:00:00Z,m00001,like,e1,,,,,"]) + "\n")
    out = tmp_path / "out"
    first = run("profile", bad, "--top-leaders", 2, "--on-error", "skip", "--out", out)
    assert first.exit_code == 0, first.output
    assert {"quarantine.jsonl", "report.html", "charts/profile_map.png"} <= set(files_of(out))
    second = run("profile", sample, "--top-leaders", 2, "--out", out, "--no-report")
    assert second.exit_code == 0, second.output
    files = files_of(out)
    assert sorted(files) == sorted(
        ["profiles.csv", "leaders.txt", "features.parquet", "edges.parquet", "graph.graphml"]
        + ["graph.gexf", "manifest.json"]
    )
    manifest = json.loads(files["manifest.json"])
    assert [f["path"] for f in manifest["files"]] == sorted(set(files) - {"manifest.json"})
    assert left_beside(out) == []


def test_manifest_records_the_leaders_chosen_by_default(sample_csv, tmp_path):
    """Without --leaders or --top-leaders the run chooses 20: the manifest says 20, not null."""
    named = run("profile", sample_csv, "--no-report", "--out", tmp_path / "top")
    assert named.exit_code == 0, named.output
    options = json.loads((tmp_path / "top" / "manifest.json").read_text())["options"]
    assert options["top_leaders"] == 20 and options["leaders"] is None
    leaders = tmp_path / "leaders.txt"
    leaders.write_text("L001\n")
    given = run("profile", sample_csv, "--leaders", leaders, "--no-report", "--out", tmp_path / "n")
    assert given.exit_code == 0, given.output
    options = json.loads((tmp_path / "n" / "manifest.json").read_text())["options"]
    assert options["top_leaders"] is None and options["leaders"] == str(leaders)


def test_profile_manifest_records_the_run_and_is_deterministic(sample_csv, tmp_path, monkeypatch):
    monkeypatch.delenv("TRIBE_ANALYSIS_KEY", raising=False)
    key = tmp_path / "secret.key"
    key.write_text("a very secret key of enough length\n")
    args = ["--seed", 3, "--pseudonymize", "--key-file", key]
    for name in ("a", "b"):
        result = profile_sample(sample_csv, tmp_path / name, *args)
        assert result.exit_code == 0, result.output
    a, b = files_of(tmp_path / "a"), files_of(tmp_path / "b")
    assert a == b  # every file, manifest.json included, byte for byte
    text = a["manifest.json"].decode()
    assert "secret" not in text and ".tmp-" not in text and str(tmp_path / "a") not in text
    manifest = json.loads(text)
    assert manifest["tool"] == "tribe-analysis" and manifest["command"] == "profile"
    assert manifest["version"] == __import__("tribe_analysis").__version__
    assert manifest["options"]["seed"] == 3 and manifest["options"]["pseudonymize"] is True
    assert manifest["options"]["top_leaders"] == 3 and "key_file" not in manifest["options"]
    assert manifest["inputs"] == [
        {
            "path": str(sample_csv),
            "bytes": sample_csv.stat().st_size,
            "sha256": hashlib.sha256(sample_csv.read_bytes()).hexdigest(),
        }
    ]
    rows = pl.read_csv(sample_csv).height
    assert manifest["counts"] == {
        "events": rows,
        "leaders": 3,
        "records_loaded": rows,
        "records_quarantined": 0,
        "records_read": rows,
    }
    assert manifest["pseudonymized"] is True
    for entry in manifest["files"]:
        assert entry["sha256"] == hashlib.sha256(a[entry["path"]]).hexdigest()


def test_profile_refuses_an_out_that_is_a_file_or_someone_elses(sample_csv, tmp_path):
    afile = tmp_path / "report.docx"
    afile.write_text("mine")
    one_error_line(
        profile_sample(sample_csv, afile),
        f"error: {afile}: cannot write (it is a file, not a folder)",
    )
    theirs = tmp_path / "thesis"
    theirs.mkdir()
    (theirs / "chapter.tex").write_text("mine")
    one_error_line(
        profile_sample(sample_csv, theirs),
        f"error: {theirs}: not replaced: it holds files (chapter.tex) and no tribe-analysis "
        "manifest.json "
        "(name a new or empty folder, or move the files)",
    )
    assert afile.read_text() == "mine" and (theirs / "chapter.tex").read_text() == "mine"
    copy = tmp_path / "data" / "events.csv"
    copy.parent.mkdir()
    copy.write_bytes(sample_csv.read_bytes())
    one_error_line(
        profile_sample(copy, copy.parent),
        f"error: {copy.parent}: holds {copy}, which a run replaces with its results: "
        "name another --out",
    )


def test_profile_on_a_full_disk_is_one_line_and_changes_nothing(sample_csv, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert profile_sample(sample_csv, out).exit_code == 0
    before = files_of(out)

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_csv", full)
    one_error_line(
        profile_sample(sample_csv, out), f"error: {out}: cannot write (No space left on device)"
    )
    assert files_of(out) == before and left_beside(out) == []

    def polars_full(self, *args, **kwargs):  # how polars itself reports it
        raise pl.exceptions.ComputeError("parquet: underlying IO error: (os error 28)")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", polars_full)
    one_error_line(
        profile_sample(sample_csv, tmp_path / "new"),
        f"error: {tmp_path / 'new'}: cannot write (No space left on device)",
    )
    assert not (tmp_path / "new").exists() and left_beside(tmp_path / "new") == []


def test_profile_interrupted_leaves_the_previous_output(sample_csv, tmp_path, monkeypatch):
    from tribe_analysis import graph_export

    out = tmp_path / "out"
    assert profile_sample(sample_csv, out).exit_code == 0
    before = files_of(out)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(graph_export, "write_graph_files", interrupted)
    result = profile_sample(sample_csv, out, "--graph", "full")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert files_of(out) == before and left_beside(out) == []


_CTRL_C_IN_IMPORT = """
import importlib.abc, runpy, sys

class Interrupted(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "polars":  # as Ctrl-C does while polars loads
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, Interrupted())
sys.argv = ["tribe-analysis", "--help"]
runpy.run_module("tribe_analysis.cli", run_name="__main__")
"""


@pytest.mark.parametrize("how", ["-m", "script"])
def test_ctrl_c_while_the_libraries_load_is_aborted_without_a_traceback(how, tmp_path):
    """Ctrl-C in the first 0.3 s (polars loading) printed a traceback, not click's 'Aborted!'."""
    code = _CTRL_C_IN_IMPORT
    if how == "script":  # the console script: ``from tribe_analysis.cli import main``
        code = code.replace(
            'runpy.run_module("tribe_analysis.cli", run_name="__main__")',
            "from tribe_analysis.cli import main\nsys.exit(main())",
        )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "\nAborted!\n")


def test_unwritable_out_parent_is_one_line(sample_csv, tmp_path):
    parent = tmp_path / "a-file"
    parent.write_text("x")
    one_error_line(
        profile_sample(sample_csv, parent / "out"),
        f"error: {parent / 'out'}: cannot write (Not a directory)",
    )


def test_a_second_run_into_the_same_out_fails_at_once(sample_csv, tmp_path):
    from tribe_analysis.pipeline import OutputFolder

    out = tmp_path / "out"
    assert profile_sample(sample_csv, out).exit_code == 0
    before = files_of(out)
    with OutputFolder(out):  # another run is writing (a lock held by another open file)
        result = profile_sample(sample_csv, out)
        assert files_of(out) == before  # the second run changed nothing
    one_error_line(result, f"error: {out}: another tribe-analysis run is writing here")
    assert "format:" not in result.stderr  # refused before reading anything
    assert left_beside(out) == []


def test_a_second_process_is_refused_while_the_first_writes(sample_csv, tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from tribe_analysis.pipeline import OutputFolder\n"
            "with OutputFolder(sys.argv[1]):\n"
            "    print('locked', flush=True)\n"
            "    sys.stdin.readline()\n",
            str(out),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        one_error_line(
            profile_sample(sample_csv, out),
            f"error: {out}: another tribe-analysis run is writing here",
        )
    finally:
        holder.communicate("\n")
    assert holder.returncode == 0 and sorted(files_of(out)) == ["manifest.json"]


def test_simulate_and_demo_faults_are_one_line(tmp_path, monkeypatch):
    afile = tmp_path / "file"
    afile.write_text("x")
    one_error_line(
        run("simulate", "--out", afile, "--leaders", 2, "--days", 5),
        f"error: {afile}: cannot write (it is a file, not a folder)",
    )
    one_error_line(
        run("demo", "--out", afile, "--leaders", 2, "--days", 5, "--no-report"),
        f"error: {afile}: cannot write (it is a file, not a folder)",
    )
    sim = tmp_path / "sim"
    assert run("simulate", "--out", sim, "--leaders", 2, "--days", 5).exit_code == 0
    before = files_of(sim)
    assert json.loads(before["manifest.json"])["command"] == "simulate"

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ev, "write_events", full)
    one_error_line(
        run("simulate", "--out", sim, "--leaders", 3, "--days", 5),
        f"error: {sim}: cannot write (No space left on device)",
    )
    one_error_line(
        run("demo", "--out", sim, "--leaders", 3, "--days", 5, "--no-report"),
        f"error: {sim}: cannot write (No space left on device)",
    )
    assert files_of(sim) == before and left_beside(sim) == []


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (["--since", "2024-03-01", "--until", "2024-02-01"], "--since 2024-03-01 is not before"),
        (["--since", "2031-01-01"], "no events in the window (the data spans 2024-01-01 to"),
    ],
    ids=["reversed", "empty"],
)
def test_profile_window_errors_are_one_line(sample_csv, tmp_path, window, message):
    result = profile_sample(sample_csv, tmp_path / "out", *window)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {message}")
    assert "Traceback" not in result.stderr and "Usage:" not in result.stderr
    assert not (tmp_path / "out").exists() and left_beside(tmp_path / "out") == []


@pytest.mark.parametrize(
    "encoded",
    [
        b"\xef\xbb\xbfL001\r\n# a comment\r\nL002\r\n",
        b"\xef\xbb\xbfL001\nL002",
        b"L001\r\nL002 # trailing comment\r\n",
    ],
    ids=["bom-crlf", "bom", "crlf"],
)
def test_leaders_file_with_bom_or_crlf(sample_csv, tmp_path, encoded):
    leaders = tmp_path / "leaders.txt"
    leaders.write_bytes(encoded)
    out = tmp_path / "out"
    result = run("profile", sample_csv, "--leaders", leaders, "--out", out, "--no-report")
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out / "profiles.csv")["leader_id"].to_list() == ["L001", "L002"]


def test_option_mistakes_are_usage_errors(sample_csv, tmp_path):
    key = tmp_path / "key"
    key.write_text("a key that is long enough\n")
    cases = [
        (["--key-file", key], "--key-file is the key of --pseudonymize"),
        (["--quarantine-raw", tmp_path / "raw.jsonl"], "--quarantine-raw needs --on-error skip"),
    ]
    for args, message in cases:
        result = profile_sample(sample_csv, tmp_path / "out", *args)
        assert result.exit_code == 2 and message in result.stderr
        assert "Traceback" not in result.stderr
    inside = tmp_path / "out" / "raw.jsonl"
    one_error_line(
        profile_sample(
            sample_csv, tmp_path / "out", "--on-error", "skip", "--quarantine-raw", inside
        ),
        f"error: {inside}: --quarantine-raw must be outside --out (the results hold no raw records)",
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("error", [RuntimeError, pl.exceptions.PanicException])
def test_an_unexpected_failure_is_one_line(sample_csv, tmp_path, monkeypatch, error):
    """A polars panic too: it is a BaseException, not an Exception."""
    from tribe_analysis import pipeline

    def broken(*args, **kwargs):
        raise error("something broke\nsecond line")

    monkeypatch.setattr(pipeline, "profile", broken)
    result = profile_sample(sample_csv, tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: unexpected failure ({error.__name__}: something broke); "
        "TRIBE_ANALYSIS_DEBUG=1 shows the traceback"
    )
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()
    monkeypatch.setenv("TRIBE_ANALYSIS_DEBUG", "1")
    if error is RuntimeError:
        assert isinstance(profile_sample(sample_csv, tmp_path / "out").exception, error)
    else:  # the test runner lets a BaseException through
        with pytest.raises(error):
            profile_sample(sample_csv, tmp_path / "out")


def _can_mount_tmpfs(where: Path) -> bool:
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs '{where}'"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def test_real_full_disk_and_read_only_file_system(sample_csv, tmp_path):
    """A real tmpfs of 1.5 MB (in a private mount namespace): no monkeypatching."""
    if shutil.which("unshare") is None or not _can_mount_tmpfs(tmp_path):
        pytest.skip("cannot mount a tmpfs here (needs unshare and user namespaces)")
    exe = Path(sys.executable).with_name("tribe-analysis")
    disk = tmp_path / "disk"
    disk.mkdir()
    log = tmp_path / "log"
    profile = f"'{exe}' profile '{sample_csv}' --top-leaders 3 --out '{disk}/res' --no-report"
    script = f"""
        mount -t tmpfs -o size=1500k tmpfs '{disk}'
        {profile} >/dev/null 2>'{log}.1'; echo $? >'{log}.rc1'
        (cd '{disk}' && ls -A; sha256sum res/*) >'{log}.before'
        {profile} --graph full >/dev/null 2>'{log}.2'; echo $? >'{log}.rc2'
        (cd '{disk}' && ls -A; sha256sum res/*) >'{log}.full'
        mount -o remount,ro '{disk}'
        {profile} >/dev/null 2>'{log}.3'; echo $? >'{log}.rc3'
        (cd '{disk}' && ls -A; sha256sum res/*) >'{log}.ro'
    """
    subprocess.run(["unshare", "-rm", "sh", "-c", script], check=True, timeout=300)

    def read(suffix: str) -> str:
        return Path(f"{log}.{suffix}").read_text()

    assert read("rc1").strip() == "0", read("1")
    assert read("rc2").strip() == "2" and read("rc3").strip() == "2"
    assert (
        read("2").splitlines()[-1] == f"error: {disk}/res: cannot write (No space left on device)"
    )
    assert read("3").splitlines()[-1] == f"error: {disk}/res: cannot write (Read-only file system)"
    assert "Traceback" not in read("2") + read("3")
    assert read("before").splitlines()[0] == "res"  # nothing beside it: no staging, no lock
    assert read("full") == read("before") == read("ro")  # the first run's files, byte for byte


def _fresh(code: str, **env: str) -> list[str]:
    """Words printed by ``code`` run in a fresh Python (with ``env`` added to the environment)."""
    environ = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"} | env
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environ
    )
    return done.stdout.split()


def test_importing_the_package_loads_neither_polars_nor_numpy():
    code = "import sys, tribe_analysis; print('polars' in sys.modules, 'numpy' in sys.modules)"
    assert _fresh(code) == ["False", "False"]


def test_help_imports_no_heavy_library():
    code = (
        "import sys; from tribe_analysis.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(*(m in sys.modules for m in ('sklearn', 'scipy', 'networkx', 'altair')))"
    )
    assert _fresh(code)[-4:] == ["False"] * 4


@pytest.mark.parametrize(("given", "threads"), [(None, "1"), ("2", "2")])
def test_the_command_line_gives_openblas_one_thread_unless_told(given, threads):
    """NumPy's OpenBLAS is loaded with one thread (its idle workers spin), or the user's count."""
    code = (
        "import tribe_analysis.cli, numpy, threadpoolctl; "
        "print(*{i['num_threads'] for i in threadpoolctl.threadpool_info() "
        "if i['internal_api'] == 'openblas'})"
    )
    env = {} if given is None else {"OPENBLAS_NUM_THREADS": given}
    assert _fresh(code, **env) == [threads]


def test_a_folder_tribe_analysis_wrote_is_not_read_as_an_export(tmp_path):
    """simulate's folder holds the events twice (CSV and Parquet) beside the truth: name a file."""
    sim = tmp_path / "sim"
    assert run("simulate", "--out", sim, "--leaders", "3", "--days", "5").exit_code == 0
    result = run("validate", sim)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {sim}: a folder tribe-analysis wrote, not an export: "
        f"name its events file ({sim / 'events.parquet'})"
    )
    assert run("validate", sim / "events.parquet").exit_code == 0


def test_format_profiles_lists_leaders_by_name_in_natural_order():
    # numeric ids sorted as text (the Twitter export) put FoxNews before AFP
    base = {"profile": "broadcaster", "probability": 1.0, "participation_index": 0.0,
            "index_low": 0.0, "index_high": 0.1, "sub_profile": "broadcaster · announcer",
            "reason": "index 0.00", "stability": 1.0, "cluster": 0}  # fmt: skip
    names = {"1367531": "FoxNews", "380648579": "AFP", "2097571": "cnni", "9": None}
    table = pl.DataFrame([{"leader_id": i, "leader_name": n, **base} for i, n in names.items()])
    lines = format_profiles(table).splitlines()[2:6]
    assert [line.split()[0] for line in lines] == ["9", "AFP", "cnni", "FoxNews"]


def test_format_profiles_counts_each_cluster_with_its_own_stability():
    """Two clusters of one name were one line: both sizes together, one cluster's stability."""
    rows = [("a", "participator · responder", 1, 0.73), ("b", "participator · responder", 1, 0.73),
            ("c", "participator · responder", 2, 0.34), ("d", "participator", 3, 0.5),
            ("e", "broadcaster · announcer", 0, 1.0)]  # fmt: skip
    table = pl.DataFrame(
        [
            {"leader_id": i, "leader_name": None, "profile": sub.split(" · ")[0],
             "probability": 0.99, "participation_index": 0.5, "index_low": 0.4,
             "index_high": 0.6, "sub_profile": sub, "reason": "", "cluster": c, "stability": st}
            for i, sub, c, st in rows
        ]
    )  # fmt: skip
    assert format_profiles(table).splitlines()[-4:] == [
        "  broadcaster · announcer: 1, stability 1.00",
        "  participator: 1, stability 0.50",
        "  participator · responder (cluster 1): 2, stability 0.73",
        "  participator · responder (cluster 2): 1, stability 0.34",
    ]


def test_format_profiles_shows_names_safe_for_a_terminal():
    """An export's name can hold an escape sequence, a line break or a direction override."""
    base = {"profile": "undetermined", "probability": None, "participation_index": None,
            "index_low": None, "index_high": None, "sub_profile": "undetermined",
            "reason": "insufficient evidence", "stability": None, "cluster": None}  # fmt: skip
    names = {"a": "Ann\x1b[2J\x1b[31m", "b": "Bo\nb", "c": "\u202eevil", "d\x07": " \u200b "}
    table = pl.DataFrame([{"leader_id": i, "leader_name": n, **base} for i, n in names.items()])
    text = format_profiles(table)
    assert not any(ch in text for ch in "\x1b\x07\u202e") and text.count("\n") == 7
    lines = text.splitlines()[2:6]
    assert [line[:22].rstrip() for line in lines] == [
        "Ann�[2J�[31m (a)",
        "Bo b (b)",
        "d�",
        "evil (c)",  # a direction override at an end is dropped
    ]


def test_leaders_txt_profiles_the_same_leaders_again(tmp_path, sample_csv):
    """profile writes leaders.txt: --leaders reads it back (a window, another run)."""
    first = run("profile", sample_csv, "--top-leaders", 3, "--out", tmp_path / "a", "--no-report")
    assert first.exit_code == 0, first.output
    listed = tmp_path / "a" / "leaders.txt"
    again = run("profile", sample_csv, "--leaders", listed, "--out", tmp_path / "b", "--no-report")
    assert again.exit_code == 0, again.output
    ids = [pl.read_csv(tmp_path / d / "profiles.csv")["leader_id"].to_list() for d in "ab"]
    assert ids[0] == ids[1] and len(ids[0]) == 3


def test_reader_notes_are_printed_and_kept_in_the_manifest(tmp_path):
    """What a reader inferred (here: a Stack Exchange comment's @name reply) is said."""
    from tests.test_io_stackexchange import A2, Q1, _comment, _with_users, write_dump

    comments = [_comment(i, 2, "9" if i % 2 else "8", f"@{'Cy' if i % 2 == 0 else 'Bée'} ok", i)
                for i in range(1, 9)]  # fmt: skip
    dump = _with_users(write_dump(tmp_path / "site", [Q1, A2], comments))
    note = (
        "7 of 8 comments answer another comment, the one their @name addresses (Stack "
        "Exchange's @reply rules, docs/formats.md); the others reply to their post"
    )
    checked = run("validate", dump)
    assert checked.exit_code == 0, checked.output
    assert f"note              {note}" in checked.stdout.splitlines()
    out = tmp_path / "out"
    (tmp_path / "leaders.txt").write_text("8\n9\n")
    done = run("profile", dump, "--leaders", tmp_path / "leaders.txt", "--no-report", "--out", out)
    assert done.exit_code == 0, done.output
    assert f"note: {note}" in done.stderr.splitlines()
    assert json.loads((out / "manifest.json").read_text())["notes"][0] == note
