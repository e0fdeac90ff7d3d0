"""Every write of a run can fail: the results are whole or as they were.

A fault is injected at the k-th write of a run, for every k (the file opens for
writing, the renames, polars' writers, vl-convert's drawings, the lock and the
folders made), as a full disk (``OSError(ENOSPC)``) or as Ctrl-C
(``KeyboardInterrupt``). After it the promise of README.md (output folders)
holds: one error naming the results folder and why (never a file of the staging
folder, which is gone), or the interrupt; ``--out`` holds exactly the previous
run's bytes; nothing is left beside it. Without a fault the run writes it whole.
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

from tribe_analysis import _drawing, pipeline
from tribe_analysis.io import Skipped
from tribe_analysis.synth import simulate_tribe

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


def test_write_outputs_with_the_report_is_whole_or_as_it_was_at_every_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk at the odd writes, Ctrl-C at the even ones (each run draws three charts)."""
    monkeypatch.setattr(_drawing, "start", lambda workers=2: None)  # drawn here, where faults are
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
            pipeline.write_outputs(run, out, report=True, card_png=True, skipped=skipped)
        except (pipeline.OutputError, KeyboardInterrupt) as caught:
            return caught
        return None

    done = 0
    for k, at, caught in faults.runs(write, [out]):
        where = f"fault at write {k} ({at})"
        assert hidden(tmp_path) == [], where
        if caught is None:  # no fault, or one the run may pass by (a folder that exists)
            assert at is None or at.startswith("mkdir"), where
            assert {"report.html", "charts/card_L001.png", "quarantine.jsonl"} <= set(
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
