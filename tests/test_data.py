"""The committed sample in data/sample is what `make data` regenerates, byte for byte."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from tribe_analysis import events as ev
from tribe_analysis.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def _make_data_args() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(
        r"^data:.*\n\t\$\(BIN\)/tribe-analysis (simulate .*)$", makefile, re.MULTILINE
    )
    assert match, "Makefile has no 'data' target running tribe-analysis simulate"
    return shlex.split(match.group(1))


def test_sample_regenerates_byte_for_byte(tmp_path):
    args = _make_data_args()
    out = args.index("--out")
    assert args[out + 1] == "data/sample"
    args[out + 1] = str(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    committed = sorted(p.name for p in SAMPLE.iterdir())
    assert committed == [
        "events.csv",
        "events.parquet",
        "leaders.txt",
        "manifest.json",
        "statuses.jsonl",
        "truth.csv",
    ]
    for name in committed:
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_sample_is_small_and_valid():
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) < 2_000_000
    events = ev.read_events(SAMPLE / "events.csv")
    assert events.equals(ev.read_events(SAMPLE / "events.parquet"))
    leaders = (SAMPLE / "leaders.txt").read_text().split()
    assert set(leaders) <= set(events.get_column("actor_id"))


def test_sample_mastodon_export_reads_back():
    from tribe_analysis import io

    result = io.read(SAMPLE / "statuses.jsonl")
    assert result.platform == "mastodon"
    events = ev.read_events(SAMPLE / "events.csv")
    no_reactions = events.filter(events["action"] != "reaction")
    assert result.events.height == no_reactions.height
    assert result.events["event_id"].sort().to_list() == no_reactions["event_id"].sort().to_list()
