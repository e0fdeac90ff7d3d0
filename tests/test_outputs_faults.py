"""Every write of a run can fail: the results and the raw quarantine are whole or as they were.

A fault is injected at the k-th write of a run, for every k (the file opens for
writing, the renames, polars' writers, vl-convert's drawings, the lock and the
folders made), as a full disk (``OSError(ENOSPC)``) or as Ctrl-C
(``KeyboardInterrupt``). After it the promise of README.md (output folders, and
``--quarantine-raw``) holds: one ``error:`` line naming the results folder or
the raw file and why (never a file of the staging folder, which is gone), exit
status 2 (Ctrl-C: click's ``Aborted!``, 1), no traceback; ``--out`` holds exactly
the previous run's bytes and the raw quarantine file what it held, unless the
fault hit the raw file's rename, after the results were in place; nothing is
left beside either. Without a fault the run writes both whole.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result

from tribe_analysis import _drawing, pipeline
from tribe_analysis.cli import main
from tribe_analysis.io import Skipped
from tribe_analysis.synth import simulate_tribe

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "events.csv"
BAD_LINE = "zz1,2024-01-03T10:00:00Z,m00001,like,e000000001,,,,,"
FULL = "No space left on device"


class Faults:
    """Counts the writes of a run and makes the ``at``-th one fail with ``error``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.at: int | None = None
        self.error: BaseException = OSError(errno.ENOSPC, FULL)
        self.seen: list[str] = []
        self.failed: str | None = None

    def hit(self, what: str) -> None:
        self.seen.append(what)
        if len(self.seen) == self.at:
            self.failed = what
            raise self.error

    def wrap(self, owner: object, name: str, describe: Callable[..., str]) -> None:
        real = getattr(owner, name)

        def wrapper(*args, **kwargs):
            self.hit(describe(*args, **kwargs))
            return real(*args, **kwargs)

        self.monkeypatch.setattr(owner, name, wrapper)

    def install(self) -> None:
        real_open = io.open

        def opened(file, mode="r", *args, **kwargs):
            if set(mode) & set("wax+"):
                self.hit(f"open {Path(str(file)).name}")
            return real_open(file, mode, *args, **kwargs)

        self.monkeypatch.setattr(io, "open", opened)
        self.monkeypatch.setattr("builtins.open", opened)
        for name in ("replace", "rename", "mkdir"):
            self.wrap(os, name, lambda src, *a, _n=name, **k: f"{_n} {Path(str(src)).name}")
        real_os_open = os.open

        def os_open(path, flags, *args, **kwargs):  # the lock file (not rmtree's folders)
            if flags & os.O_CREAT:
                self.hit(f"os.open {Path(str(path)).name}")
            return real_os_open(path, flags, *args, **kwargs)

        self.monkeypatch.setattr(os, "open", os_open)
        for name in ("write_parquet", "write_csv"):
            self.wrap(pl.DataFrame, name, lambda *a, _n=name, **k: f"polars {_n}")
        vlc = _drawing.vl_convert()
        for name in ("vegalite_to_svg", "vega_to_svg", "svg_to_png", "vegalite_to_vega"):
            self.wrap(vlc, name, lambda *a, _n=name, **k: f"vl-convert {_n}")

    def runs(
        self, run: Callable[[], object], folders: list[Path]
    ) -> Iterator[tuple[int, str | None, object]]:
        """``run`` with a fault at each write in turn, then once without.

        Yields (k, the write that failed or None, what ``run`` returned). Before
        each run, ``folders`` are put back as they were.
        """
        saved = [(folder, files_of(folder)) for folder in folders]
        self.at, self.seen = 0, []
        run()  # every write of a run (and every import done)
        for k in range(1, len(self.seen) + 2):
            self.at = None
            for folder, files in saved:
                shutil.rmtree(folder, ignore_errors=True)
                for rel, data in (files or {}).items():
                    (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                    (folder / rel).write_bytes(data)
            self.at, self.seen, self.failed = k, [], None
            outcome = run()
            yield k, self.failed, outcome


def files_of(folder: Path) -> dict[str, bytes] | None:
    if not folder.exists():
        return None
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def hidden(folder: Path) -> list[str]:
    """What a run left in ``folder`` beside its outputs (staging folders, locks, parts)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _export_with_a_bad_line(folder: Path) -> Path:
    lines = SAMPLE.read_text().splitlines()
    export = folder / "in" / "events.csv"
    export.parent.mkdir()
    export.write_text("\n".join([*lines[:5], BAD_LINE, *lines[5:]]) + "\n")
    return export


@pytest.mark.parametrize("interrupt", [False, True], ids=["full-disk", "ctrl-c"])
def test_profile_with_a_raw_quarantine_is_whole_or_as_it_was_at_every_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interrupt: bool
) -> None:
    export = _export_with_a_bad_line(tmp_path)
    out, raw = tmp_path / "res" / "out", tmp_path / "raw" / "raw.jsonl"
    args = ["profile", str(export), "--on-error", "skip", "--no-report", "--out", str(out)]
    assert CliRunner().invoke(main, [*args, "--top-leaders", "3"]).exit_code == 0
    previous = files_of(out)
    raw.parent.mkdir()
    raw.write_text("the previous run's records\n")
    run_args = [*args, "--top-leaders", "1", "--quarantine-raw", str(raw)]
    faults = Faults(monkeypatch)
    if interrupt:
        faults.error = KeyboardInterrupt()
    faults.install()
    done = 0
    for k, write, result in faults.runs(
        lambda: CliRunner().invoke(main, run_args), [out, raw.parent]
    ):
        assert isinstance(result, Result)
        where = f"fault at write {k} ({write})"
        assert "Traceback" not in result.stderr, where
        assert hidden(out.parent) == [] and hidden(raw.parent) == [], where
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        if result.exit_code == 0:  # no fault, or one the run may pass by (a folder that exists)
            assert write is None or write.startswith("mkdir"), where
            assert files_of(out) != previous and (out / "graph.gexf").exists(), where
            assert BAD_LINE in raw.read_text() and len(raw.read_text().splitlines()) == 1
            continue
        done += 1
        if interrupt:
            assert result.exit_code == 1 and result.stderr.splitlines()[-1] == "Aborted!", where
            assert errors == [], where
        else:
            assert result.exit_code == 2, (where, result.output)
            assert errors in (
                [f"error: {out}: cannot write ({FULL})"],
                [f"error: {raw}: cannot write ({FULL})"],
                [f"error: {raw}: cannot write ({FULL}); the results in {out} are written"],
            ), where
        if write == f"replace .raw.jsonl.tmp-{os.getpid()}":  # the last rename: after the results'
            assert files_of(out) != previous and (out / "graph.gexf").exists(), where
            if interrupt:  # the results are in place, so is their raw quarantine
                assert BAD_LINE in raw.read_text(), where
            else:
                assert errors[0].endswith("are written"), where
                assert raw.read_text() == "the previous run's records\n", where
            continue
        assert files_of(out) == previous, where
        assert raw.read_text() == "the previous run's records\n", where
    assert done > 12  # the tables, the graphs, the quarantines, the renames


def test_write_outputs_with_the_report_is_whole_or_as_it_was_at_every_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk at the odd writes, Ctrl-C at the even ones (each run draws three charts)."""
    # drawn in this process, where the faults are (never by workers an earlier test started)
    monkeypatch.setattr(_drawing, "start", lambda workers=2: None)
    monkeypatch.setattr(_drawing, "started", lambda: False)
    tribe = simulate_tribe(n_leaders=2, days=10, seed=3)
    run = pipeline.profile(tribe.events, tribe.leaders[:1], names={tribe.leaders[0]: "Ann"})
    out = tmp_path / "out"
    pipeline.write_outputs(run, out, report=False)
    previous = files_of(out)
    skipped = [Skipped("in.csv", 2, "unknown action 'like'", "x,like")]
    faults = Faults(monkeypatch)
    faults.install()

    def write() -> BaseException | None:
        faults.error = KeyboardInterrupt() if faults.at and faults.at % 2 == 0 else full()
        try:
            pipeline.write_outputs(run, out, report=True, skipped=skipped)
        except (pipeline.OutputError, KeyboardInterrupt) as caught:
            return caught
        return None

    done = 0
    for k, at, caught in faults.runs(write, [out]):
        where = f"fault at write {k} ({at})"
        assert hidden(tmp_path) == [], where
        if caught is None:  # no fault, or one the run may pass by (a folder that exists)
            assert at is None or at.startswith("mkdir"), where
            assert {"report.html", "charts/card_L001.svg", "quarantine.jsonl"} <= set(
                files_of(out) or {}
            )
            continue
        done += 1
        if k % 2 == 0:
            assert isinstance(caught, KeyboardInterrupt), where
        else:  # the folder is named, never a file inside the staging folder
            assert str(caught) == f"{out}: cannot write ({FULL})", where
        assert files_of(out) == previous, where
    assert done > 20  # the tables, the charts, the graphs, the report, the renames


def full() -> OSError:
    return OSError(errno.ENOSPC, FULL)


def test_a_raw_quarantine_holds_the_run_that_wrote_it(tmp_path: Path) -> None:
    """A run that skipped nothing leaves the file empty, not another run's records."""
    lines = SAMPLE.read_text().splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([*lines[:5], BAD_LINE, *lines[5:]]) + "\n")
    raw, kept = tmp_path / "raw.jsonl", tmp_path / "kept.jsonl"
    common = ["--on-error", "skip", "--top-leaders", "2", "--no-report"]
    for export in (bad, SAMPLE):
        profiled = CliRunner().invoke(
            main,
            ["profile", str(export), *common, "--out", str(tmp_path / "out"), "--quarantine-raw"]
            + [str(raw)],
        )
        assert profiled.exit_code == 0, profiled.output
        validated = CliRunner().invoke(
            main, ["validate", str(export), "--on-error", "skip", "--quarantine", str(kept)]
        )
        assert validated.exit_code == 0, validated.output
        expected = 1 if export == bad else 0
        assert len(raw.read_text().splitlines()) == expected
        assert len(kept.read_text().splitlines()) == expected


def test_a_failed_out_of_core_run_leaves_no_folder_it_made(tmp_path: Path) -> None:
    """The spill folder beside ``--out`` made its parents before the run took the folder."""
    bad = tmp_path / "bad.csv"
    bad.write_text(SAMPLE.read_text().splitlines()[0] + "\n" + BAD_LINE + "\n")
    out = tmp_path / "new" / "deeper" / "results"
    result = CliRunner().invoke(main, ["profile", str(bad), "--out-of-core", "--out", str(out)])
    assert result.exit_code == 2 and "unknown action 'like'" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_a_run_that_fails_after_reading_leaves_the_raw_quarantine_as_it_was(
    tmp_path: Path,
) -> None:
    """No events in the window: the skipped records were read, but no results were written."""
    export = _export_with_a_bad_line(tmp_path)
    raw = tmp_path / "raw.jsonl"
    raw.write_text("the previous run's records\n")
    args = ["profile", str(export), "--on-error", "skip", "--quarantine-raw", str(raw)]
    args += ["--since", "2031-01-01", "--no-report", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "error: no events in the window" in result.stderr
    assert raw.read_text() == "the previous run's records\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "raw.jsonl"]
