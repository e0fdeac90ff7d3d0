"""Output folders: whole or absent, never stale or mixed, never someone else's (issue 10)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tribe_analysis import pipeline
from tribe_analysis.io import Skipped
from tribe_analysis.pipeline import MANIFEST, OutputError, OutputFolder
from tribe_analysis.synth import simulate_tribe


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative POSIX path, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def beside(out: Path) -> list[str]:
    """What a run left beside ``out`` (staging folders, moved-aside folders, lock files)."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def write_folder(out: Path, files: dict[str, str], **kwargs) -> None:
    with OutputFolder(out, **kwargs) as folder:
        for name, text in files.items():
            (folder.path / name).parent.mkdir(parents=True, exist_ok=True)
            (folder.path / name).write_text(text)


def test_folder_is_replaced_whole_and_manifest_lists_every_file(tmp_path):
    out = tmp_path / "results"
    write_folder(out, {"a.csv": "old", "charts/card_x.png": "x", "quarantine.jsonl": "{}\n"})
    assert set(tree(out)) == {"a.csv", "charts/card_x.png", "quarantine.jsonl", MANIFEST}
    write_folder(out, {"a.csv": "new", "b.txt": "b"}, command="test", options={"seed": 1})
    files = tree(out)
    assert set(files) == {"a.csv", "b.txt", MANIFEST}  # nothing of the earlier run is left
    manifest = json.loads(files[MANIFEST])
    assert manifest["tool"] == "tribe-analysis" and manifest["command"] == "test"
    assert manifest["options"] == {"seed": 1}
    assert [f["path"] for f in manifest["files"]] == ["a.csv", "b.txt"]
    for entry in manifest["files"]:
        data = files[entry["path"]]
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert beside(out) == []


def test_manifest_describes_inputs_and_is_the_same_for_the_same_run(tmp_path):
    data = tmp_path / "in" / "events.csv"
    data.parent.mkdir()
    data.write_text("x\n")
    (tmp_path / "in" / ".hidden").write_text("skipped")
    for name in ("a", "b"):
        with OutputFolder(tmp_path / name, command="c", inputs=[data, data.parent]) as folder:
            folder.counts.update(events=3, leaders=1)
            (folder.path / "t.csv").write_text("t")
            staging = folder.path.name
    first = (tmp_path / "a" / MANIFEST).read_bytes()
    assert first == (tmp_path / "b" / MANIFEST).read_bytes()
    manifest = json.loads(first)
    digest = hashlib.sha256(b"x\n").hexdigest()
    assert manifest["inputs"] == [
        {"path": str(data), "bytes": 2, "sha256": digest},
        {
            "path": str(data),
            "bytes": 2,
            "sha256": digest,
        },  # the folder's files, hidden ones left out
    ]
    assert manifest["counts"] == {"events": 3, "leaders": 1}
    assert staging.startswith(".b.tmp-") and staging.encode() not in first
    assert b".tmp-" not in first


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), OutputError),
        (pl.exceptions.ComputeError("parquet: underlying IO error: (os error 28)"), OutputError),
        (KeyboardInterrupt(), KeyboardInterrupt),
        (ValueError("a bug"), ValueError),
    ],
    ids=["enospc", "polars-enospc", "interrupt", "bug"],
)
def test_a_failed_run_leaves_the_previous_output_as_it_was(tmp_path, fault, expected):
    out = tmp_path / "results"
    write_folder(out, {"a.csv": "old"})
    before = tree(out)
    with pytest.raises(expected) as caught, OutputFolder(out) as folder:
        (folder.path / "a.csv").write_text("half")
        with folder.writing():
            raise fault
    if expected is OutputError:
        assert str(caught.value) == f"{out}: cannot write (No space left on device)"
    assert tree(out) == before
    assert beside(out) == []


def test_a_failed_first_run_leaves_nothing(tmp_path):
    out = tmp_path / "new" / "deeper" / "results"
    with pytest.raises(OutputError), OutputFolder(out) as folder, folder.writing():
        raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []  # the folders made for it are gone too


def test_a_failure_while_swapping_puts_the_previous_output_back(tmp_path, monkeypatch):
    out = tmp_path / "results"
    write_folder(out, {"a.csv": "old"})
    before = tree(out)
    real = os.rename
    calls = []

    def rename(src, dst):
        calls.append(Path(dst).name)
        if Path(src).name.startswith(".results.tmp-"):
            raise OSError(errno.EIO, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OutputError, match=r"cannot write \(Input/output error\)"):
        write_folder(out, {"a.csv": "new"})
    assert calls[0].startswith(".results.old-")  # the old folder was moved aside, then back
    assert tree(out) == before and beside(out) == []


def test_leftovers_of_a_killed_run_are_cleaned_and_its_previous_output_put_back(tmp_path):
    out = tmp_path / "results"
    write_folder(out, {"a.csv": "old"})
    previous = tree(out)
    os.rename(out, tmp_path / ".results.old-999999")  # killed between its two renames
    (tmp_path / ".results.tmp-999999").mkdir()
    (tmp_path / ".results.tmp-999999" / "half.csv").write_text("h")
    with OutputFolder(out) as folder:
        assert tree(out) == previous  # put back before anything else
        (folder.path / "a.csv").write_text("new")
    assert tree(out)["a.csv"] == b"new" and beside(out) == []


@given(
    old=st.dictionaries(
        st.sampled_from(["a.csv", "b.parquet", "charts/c.png", "q.jsonl"]),
        st.text(max_size=5),
        max_size=4,
    ),
    new=st.dictionaries(
        st.sampled_from(["a.csv", "d.html", "charts/e.svg"]), st.text(max_size=5), max_size=3
    ),
    fail_at=st.one_of(st.none(), st.integers(0, 3)),
)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_out_holds_the_old_run_or_the_new_one_whole(tmp_path_factory, old, new, fail_at):
    out = tmp_path_factory.mktemp("runs") / "results"
    write_folder(out, old)
    before = tree(out)
    try:
        with OutputFolder(out) as folder, folder.writing():
            for i, (name, text) in enumerate(new.items()):
                if i == fail_at:
                    raise OSError(errno.ENOSPC, "No space left on device")
                (folder.path / name).parent.mkdir(parents=True, exist_ok=True)
                (folder.path / name).write_text(text)
            if fail_at is not None and fail_at >= len(new):
                raise OSError(errno.ENOSPC, "No space left on device")
        failed = False
    except OutputError:
        failed = True
    after = tree(out)
    if failed:
        assert after == before
    else:
        assert {k: v for k, v in after.items() if k != MANIFEST} == {
            k: v.encode() for k, v in new.items()
        }
        assert json.loads(after[MANIFEST])["tool"] == "tribe-analysis"
    assert beside(out) == []


def test_refuses_a_file_or_a_folder_that_is_not_its_output(tmp_path):
    afile = tmp_path / "notes.txt"
    afile.write_text("mine")
    with pytest.raises(
        OutputError, match=r"notes.txt: cannot write \(it is a file, not a folder\)"
    ):
        write_folder(afile, {"a": "b"})
    theirs = tmp_path / "thesis"
    theirs.mkdir()
    (theirs / "chapter1.tex").write_text("mine")
    with pytest.raises(OutputError, match=r"holds files \(chapter1.tex\) and no tribe-analysis"):
        write_folder(theirs, {"a": "b"})
    foreign = tmp_path / "other-tool"
    foreign.mkdir()
    (foreign / MANIFEST).write_text('{"tool": "something else", "files": []}')
    with pytest.raises(OutputError, match="no tribe-analysis manifest.json"):
        write_folder(foreign, {"a": "b"})
    ours = tmp_path / "results"
    write_folder(ours, {"a": "b"})
    (ours / "my-notes.md").write_text("mine")
    with pytest.raises(OutputError, match=r"did not write \(my-notes.md\)"):
        write_folder(ours, {"a": "c"})
    assert afile.read_text() == "mine" and (theirs / "chapter1.tex").read_text() == "mine"
    assert (ours / "my-notes.md").read_text() == "mine" and (ours / "a").read_text() == "b"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_empty_folder_or_desktop_litter_is_replaced(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    write_folder(empty, {"a": "b"})
    (empty / ".DS_Store").write_bytes(b"\0")
    write_folder(empty, {"a": "c"})
    assert set(tree(empty)) == {"a", MANIFEST}


def test_a_second_run_into_the_same_folder_fails_at_once(tmp_path):
    out = tmp_path / "results"
    with OutputFolder(out) as first:
        with pytest.raises(OutputError) as caught, OutputFolder(out):
            pass
        assert str(caught.value) == f"{out}: another tribe-analysis run is writing here"
        (first.path / "a").write_text("first")
        write_folder(tmp_path / "elsewhere", {"a": "b"})  # another folder is no conflict
    assert tree(out)["a"] == b"first"
    assert beside(out) == []  # the lock file goes with the run
    write_folder(out, {"a": "second"})


def test_unwritable_places_are_one_clear_error(tmp_path, monkeypatch):
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(OutputError, match=r"cannot write \(Not a directory\)"):
        write_folder(afile / "results", {"a": "b"})

    def denied(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    with pytest.raises(OutputError) as caught:
        write_folder(tmp_path / "results", {"a": "b"})
    assert str(caught.value) == f"{tmp_path / 'results'}: cannot write (Permission denied)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_quarantine_raw_or_masked(tmp_path):
    skipped = [
        Skipped("x.jsonl", 3, "duplicate id 'e123456' (kept once)", '{"id": "e123456"}'),
        Skipped("x.jsonl", 9, "invalid JSON (Expecting value at column 2)", "{bob@example.org"),
    ]
    raw = pipeline.write_quarantine(skipped, tmp_path / "raw" / "q.jsonl")
    assert [json.loads(line) for line in raw.read_text().splitlines()] == [
        {"source": s.source, "line": s.line, "reason": s.reason, "record": s.record}
        for s in skipped
    ]
    masked = pipeline.write_quarantine(skipped, tmp_path / "masked.jsonl", masked=True)
    lines = [json.loads(line) for line in masked.read_text().splitlines()]
    assert lines[0] == {
        "source": "x.jsonl",
        "line": 3,
        "reason": "duplicate id '…' (kept once)",
        "record": None,
    }
    assert "bob" not in masked.read_text() and "e123456" not in masked.read_text()
    with pytest.raises(OutputError, match=r"cannot write \(Is a directory\)"):
        pipeline.write_quarantine(skipped, tmp_path / "raw")
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == ["q.jsonl"]


@pytest.fixture(scope="module")
def run():
    tribe = simulate_tribe(n_leaders=3, days=14, seed=5)
    return pipeline.profile(tribe.events, tribe.leaders)


def test_write_outputs_reruns_leave_no_earlier_file(run, tmp_path):
    out = tmp_path / "results"
    skipped = [Skipped("in.csv", 2, "unknown action 'like'", "x,like")]
    first = pipeline.write_outputs(run, out, report=False, skipped=skipped)
    assert "quarantine.jsonl" in first and (out / "quarantine.jsonl").exists()
    second = pipeline.write_outputs(run, out, report=False)
    assert sorted(second) == sorted(p.name for p in out.iterdir()) == sorted(pipeline.OUTPUTS)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["counts"] == {
        "events": run.events.height,
        "leaders": 3,
        "records_quarantined": 0,
    }
    assert manifest["pseudonymized"] is False and manifest["command"] == "write_outputs"


@pytest.mark.parametrize("report", [False, True], ids=["tables", "with-report"])
def test_write_outputs_on_a_full_disk_changes_nothing(run, tmp_path, monkeypatch, report):
    from tribe_analysis import graph_export

    out = tmp_path / "results"
    pipeline.write_outputs(run, out, report=False)
    before = tree(out)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(graph_export, "write_graph_files", full)  # after the charts are started
    with pytest.raises(OutputError) as caught:
        pipeline.write_outputs(run, out, report=report)
    assert str(caught.value) == f"{out}: cannot write (No space left on device)"
    assert tree(out) == before and beside(out) == []
