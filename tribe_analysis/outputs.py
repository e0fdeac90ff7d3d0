"""Output folders that are whole or absent: staging, lock, manifest, quarantine.

A run writes into a staging folder beside ``--out``; when every file is written,
``manifest.json`` (every file with its size and SHA-256, the inputs, options and
counts) is written last and the staging folder replaces ``--out`` by renames. A
failure or Ctrl-C removes the staging folder and leaves ``--out`` as it was; a
lock file beside ``--out`` keeps a second run out while one writes. See
``README.md`` (output folders) for what a user sees.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from tribe_analysis.errors import io_reason

if TYPE_CHECKING:
    from tribe_analysis.io import Skipped

__all__ = [
    "MANIFEST",
    "QUARANTINE",
    "OutputError",
    "OutputFolder",
    "quarantine_text",
    "write_quarantine",
]

MANIFEST = "manifest.json"
"""The list of every file of an output folder, written last (see :class:`OutputFolder`)."""

QUARANTINE = "quarantine.jsonl"
"""Skipped records of the run, in its output folder (see :func:`write_quarantine`)."""


def write_quarantine(skipped: Sequence[Skipped], path: str | Path, *, masked: bool = False) -> Path:
    """Write skipped records as JSON lines (``source``, ``line``, ``reason``, ``record``).

    Parameters
    ----------
    skipped : sequence of tribe_analysis.io.Skipped
        The records a reader did not load.
    path : str or Path
        The file; it is written beside its place and renamed into it.
    masked : bool
        For a pseudonymised run: ``record`` is left out (``null``) and the values
        a reason quotes are masked (:func:`tribe_analysis.privacy.mask_reason`),
        so the file holds no raw id, handle, address or text. Otherwise
        ``record`` is the record's verbatim text.

    Returns
    -------
    Path

    Raises
    ------
    OutputError
        When the file cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> from tribe_analysis.io import Skipped
    >>> bad = Skipped("tweets.ndjson", 3, "duplicate id '1234567' (kept once)", '{"id": 1234567}')
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = write_quarantine([bad], Path(tmp.name) / "quarantine.jsonl")
    >>> json.loads(path.read_text())["record"]
    '{"id": 1234567}'
    >>> masked = write_quarantine([bad], Path(tmp.name) / "masked.jsonl", masked=True)
    >>> json.loads(masked.read_text())
    {'source': 'tweets.ndjson', 'line': 3, 'reason': "duplicate id '…' (kept once)", 'record': None}
    >>> tmp.cleanup()
    """
    path = Path(path)
    _write_text_whole(path, quarantine_text(skipped, masked=masked))
    return path


def quarantine_text(skipped: Sequence[Skipped], *, masked: bool = False) -> str:
    """The JSON lines :func:`write_quarantine` writes (empty for no skipped record)."""
    from tribe_analysis.privacy import mask_reason

    lines = []
    for item in skipped:
        entry = {
            "source": item.source,
            "line": item.line,
            "reason": mask_reason(item.reason) if masked else item.reason,
            "record": None if masked else item.record,
        }
        lines.append(json.dumps(entry, ensure_ascii=False) + "\n")
    return "".join(lines)


def _write_text_whole(path: Path, text: str) -> None:
    """Write ``text`` to a file beside ``path`` and rename it into place (OutputError on failure)."""
    part = _write_part(path, text)
    with _part_removed_on_failure(part, path):
        os.replace(part, path)


def _write_part(path: Path, text: str) -> Path:
    """Write ``text`` to ``.{name}.tmp-{pid}`` beside ``path``; return it (OutputError on failure)."""
    part = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with _part_removed_on_failure(part, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        part.write_text(text, encoding="utf-8")
    return part


@contextlib.contextmanager
def _part_removed_on_failure(part: Path, path: Path) -> Iterator[None]:
    """On any failure remove ``part``; an OSError becomes the OutputError of ``path``."""
    try:
        yield
    except BaseException as exc:
        with contextlib.suppress(OSError):
            part.unlink()
        if isinstance(exc, OSError):
            raise OutputError(path, f"cannot write ({io_reason(exc)})") from exc
        raise


# --------------------------------------------------------------------------- output folders

_TOOL = "tribe-analysis"
_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
"""Files a desktop leaves in folders: they do not make a results folder someone else's."""


class OutputError(Exception):
    """An output folder or file cannot be written; the message is ``PATH: reason``.

    Nothing was changed: the path holds what it held before.

    Examples
    --------
    >>> str(OutputError("results", "cannot write (No space left on device)"))
    'results: cannot write (No space left on device)'
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class OutputFolder:
    """A results folder written whole or not at all: a context manager.

    Entering checks ``out`` (missing, empty, or an earlier tribe-analysis output
    listed by its ``manifest.json``; never a file, nor a folder with other
    files, so a mistyped ``--out`` cannot delete anyone's folder), takes the
    lock ``.{name}.lock`` beside it (a second run into the same folder fails at
    once) and makes a fresh staging folder beside it, :attr:`path`. Everything
    is written into :attr:`path`. Leaving the block normally writes
    ``manifest.json`` last and puts the staging folder in place of ``out`` by
    renames (the old folder moved aside, the new one renamed in, the old one
    deleted): a reader of ``out`` sees the previous complete run or the new one,
    never a mix. Leaving with an exception (KeyboardInterrupt included) removes
    the staging folder and leaves ``out`` as it was.

    Parameters
    ----------
    out : str or Path
        The results folder.
    command : str
        What writes it (``profile``, ``demo``, ...), for the manifest.
    options : mapping, optional
        The command's options for the manifest (JSON values; never a key).
    inputs : sequence of path
        Input files or folders, listed in the manifest with sizes and SHA-256
        (hashed in a thread while the caller works).

    Attributes
    ----------
    path : Path
        The staging folder inside the block; ``out`` itself after it.
    counts : dict
        Counts for the manifest (records read, loaded, quarantined, events, leaders).
    facts : dict
        Other manifest entries (``pseudonymized``, ``unobservable``, ``notes``).

    Raises
    ------
    OutputError
        On entering, when ``out`` is a file, someone else's folder, being written
        by another run, or cannot be written; on leaving, when a write failed.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with OutputFolder(Path(tmp) / "results", command="example") as folder:
    ...         _ = (folder.path / "table.csv").write_text("a,b")
    ...     sorted(p.name for p in (Path(tmp) / "results").iterdir())
    ['manifest.json', 'table.csv']
    """

    def __init__(
        self,
        out: str | Path,
        *,
        command: str = "write_outputs",
        options: Mapping[str, object] | None = None,
        inputs: Sequence[str | Path] = (),
    ) -> None:
        self.out = Path(out)
        self.command = command
        self.options = dict(options or {})
        self.inputs = [Path(p) for p in inputs]
        self.counts: dict[str, int] = {}
        self.facts: dict[str, object] = {}
        self.path = self.out
        self._target = Path(os.path.realpath(self.out))
        self._made: list[Path] = []
        self._lock: tuple[int, Path] | None = None
        self._cancel = threading.Event()
        self._described: list[dict] = []
        self._describer: threading.Thread | None = None
        self._companions: list[tuple[Path, Path]] = []
        self._companion_folders: list[Path] = []

    def _beside(self, kind: str) -> Path:
        return self._target.parent / f".{self._target.name}.{kind}-{os.getpid()}"

    def __enter__(self) -> OutputFolder:
        locked = False
        try:
            self._check_kind()
            self._made = _make_folders(self._target.parent)
            self._take_lock()
            locked = True
            self._recover()
            self._check_replaceable()
            staging = self._beside("tmp")
            staging.mkdir()
        except BaseException as exc:
            if locked:  # under the lock, a staging folder of this process is this run's
                _remove_tree(self._beside("tmp"))
            self._release()
            _remove_empty(self._made)
            if isinstance(exc, OSError):
                raise OutputError(self.out, f"cannot write ({io_reason(exc)})") from exc
            raise
        self.path = staging
        self._describer = threading.Thread(
            target=lambda: self._described.extend(_describe_inputs(self.inputs, self._cancel)),
            name="tribe-analysis-input-hashes",
            daemon=True,
        )
        self._describer.start()
        return self

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        committed = False
        try:
            if exc is None:
                try:
                    self._commit()
                    committed = True
                except Exception as error:
                    reason = io_reason(error)
                    if reason is None:
                        raise
                    raise OutputError(self.out, f"cannot write ({reason})") from error
                self._put_companions()
        finally:
            self._cancel.set()
            if not committed:
                _remove_tree(self._beside("tmp"))
                self.path = self.out
            self._drop_companions()
            self._release()
            if not committed:
                _remove_empty(self._made)
                _remove_empty(self._companion_folders)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Turn a failed write inside the block into ``OutputError: OUT: cannot write (why)``."""
        try:
            yield
        except OutputError as exc:  # a file of the staging folder: the folder is what failed
            if self.path != self.out and Path(exc.path).is_relative_to(self.path):
                raise OutputError(self.out, exc.reason) from exc
            raise
        except Exception as exc:
            reason = io_reason(exc)
            if reason is None:
                raise
            raise OutputError(self.out, f"cannot write ({reason})") from exc

    def write_beside(self, path: str | Path, text: str) -> None:
        """Write a file outside the folder that is put in place with it (``--quarantine-raw``).

        ``text`` is written now beside ``path`` (``.{name}.tmp-{pid}``: a full disk
        fails the run before anything is replaced) and renamed into ``path`` just
        after the folder is put in place. A failed or interrupted run leaves
        ``path`` as it was, never a file about a run that wrote no results.

        Raises
        ------
        OutputError
            ``PATH: cannot write (why)``.
        """
        path = Path(path)
        try:
            self._companion_folders = _make_folders(path.parent) + self._companion_folders
        except OSError as exc:
            raise OutputError(path, f"cannot write ({io_reason(exc)})") from exc
        self._companions.append((_write_part(path, text), path))

    def _put_companions(self) -> None:
        """Rename the files of :meth:`write_beside` into place (after the folder's swap).

        The results are in place: Ctrl-C now still puts their files in place.
        """
        while self._companions:
            part, path = self._companions[0]
            try:
                os.replace(part, path)
            except OSError as exc:
                done = f"the results in {self.out} are written"
                raise OutputError(path, f"cannot write ({io_reason(exc)}); {done}") from exc
            except BaseException:
                for part, path in self._companions:
                    with contextlib.suppress(OSError):  # FileNotFoundError: renamed already
                        os.replace(part, path)
                self._companions.clear()
                raise
            self._companions.pop(0)

    def _drop_companions(self) -> None:
        for part, _ in self._companions:
            with contextlib.suppress(OSError):
                part.unlink()
        self._companions.clear()

    def _check_kind(self) -> None:
        """Refuse a file, the file system's root, or the current folder (or one holding it)."""
        target = self._target
        if target.name in ("", ".", ".."):
            raise OutputError(self.out, "cannot write (not a folder name)")
        if target.exists() and not target.is_dir():
            raise OutputError(self.out, "cannot write (it is a file, not a folder)")
        if target.is_dir() and Path.cwd().resolve().is_relative_to(target):
            raise OutputError(
                self.out, "not replaced: it is the current folder or holds it (name a folder in it)"
            )

    def _check_replaceable(self) -> None:
        """Refuse a folder with files that no tribe-analysis manifest lists."""
        target = self._target
        if not target.is_dir():
            return
        listed = _listed_files(target / MANIFEST)
        if listed is None:
            if not _files_under(target):
                return
            held = sorted(e.name + ("/" if e.is_dir() else "") for e in os.scandir(target))
            shown = ", ".join(held[:3]) + (", ..." if len(held) > 3 else "")
            raise OutputError(
                self.out,
                f"not replaced: it holds files ({shown}) and no tribe-analysis manifest.json "
                "(name a new or empty folder, or move the files)",
            )
        extra = [
            rel
            for rel in _files_under(target)
            if rel not in listed and rel != MANIFEST and rel.rsplit("/", 1)[-1] not in _LITTER
        ]
        if extra:
            shown = ", ".join(extra[:3]) + (", ..." if len(extra) > 3 else "")
            raise OutputError(
                self.out, f"not replaced: it holds files tribe-analysis did not write ({shown})"
            )

    def _take_lock(self) -> None:
        """Hold ``.{name}.lock`` beside the folder (flock); fail at once when another run does."""
        if fcntl is None:  # pragma: no cover - Windows: no lock
            return
        path = self._target.parent / f".{self._target.name}.lock"
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise OutputError(self.out, "another tribe-analysis run is writing here") from None
            except OSError:  # pragma: no cover - a file system without locks
                os.close(fd)
                return
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:  # else the run before removed the file meanwhile: lock the new one
                self._lock = (fd, path)
                return
            os.close(fd)

    def _release(self) -> None:
        if self._lock is not None:
            fd, path = self._lock
            self._lock = None
            with contextlib.suppress(OSError):
                path.unlink()  # while locked: a run waiting on this file sees it gone
            os.close(fd)

    def _recover(self) -> None:
        """Remove what killed runs left beside the folder (under the lock: none is running).

        A run killed between its two renames left the previous folder aside: it is
        put back.
        """
        parent, name = self._target.parent, self._target.name
        left = re.compile(rf"\.{re.escape(name)}\.(tmp|old)-\d+")
        for entry in sorted(os.listdir(parent)):
            found = left.fullmatch(entry)
            if found is None:
                continue
            if found.group(1) == "old" and not os.path.lexists(self._target):
                os.rename(parent / entry, self._target)
            else:
                _remove_tree(parent / entry)

    def _commit(self) -> None:
        """Write the manifest, then swap the staging folder in by renames."""
        self._write_manifest()
        target, old = self._target, self._beside("old")
        moved = os.path.lexists(target)
        if moved:
            os.rename(target, old)
        try:
            os.rename(self.path, target)
        except BaseException:
            if moved:
                os.rename(old, target)
            raise
        self.path = self.out
        _remove_tree(old)

    def _write_manifest(self) -> None:
        """``manifest.json``: version, command, options, inputs, counts, facts, every file."""
        from tribe_analysis import __version__

        rels = [rel for rel in _files_under(self.path) if rel != MANIFEST]
        # hashlib lets go of the GIL on large updates: the big graph files hash side by side
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="tribe-analysis-sha") as pool:
            digests = list(pool.map(lambda rel: _sha256(self.path / rel), rels))
        files = [
            {"path": rel, "bytes": (self.path / rel).stat().st_size, "sha256": digest}
            for rel, digest in zip(rels, digests, strict=True)
        ]
        if self._describer is not None:
            self._describer.join()
        manifest = {
            "tool": _TOOL,
            "version": __version__,
            "command": self.command,
            "options": self.options,
            "inputs": self._described,
            "counts": dict(sorted(self.counts.items())),
            **self.facts,
            "files": files,
        }
        text = json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n"
        (self.path / MANIFEST).write_text(text, encoding="utf-8")


def _files_under(root: Path, *, hidden: bool = True) -> list[str]:
    """Relative POSIX paths of the files under ``root``, sorted."""
    found = []
    for folder, dirs, files in os.walk(root):
        if not hidden:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            files = [f for f in files if not f.startswith(".")]
        base = Path(folder).relative_to(root)
        found += [(base / f).as_posix() for f in files]
    return sorted(found)


def _listed_files(manifest: Path) -> set[str] | None:
    """Files a tribe-analysis ``manifest.json`` lists, or None when there is none."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("tool") != _TOOL:
        return None
    files = data.get("files")
    if not isinstance(files, list):
        return None
    return {f["path"] for f in files if isinstance(f, dict) and isinstance(f.get("path"), str)}


def _sha256(path: Path, cancel: threading.Event | None = None) -> str | None:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            if cancel is not None and cancel.is_set():
                return None
            digest.update(chunk)
    return digest.hexdigest()


def _describe_inputs(paths: Sequence[Path], cancel: threading.Event) -> list[dict]:
    """Each input file (the files of an input folder, hidden ones left out): size and SHA-256."""
    described = []
    for path in paths:
        try:
            files = (
                [path / rel for rel in _files_under(path, hidden=False)]
                if path.is_dir()
                else [path]
            )
            for file in files:
                described.append(
                    {
                        "path": str(file),
                        "bytes": file.stat().st_size,
                        "sha256": _sha256(file, cancel),
                    }
                )
        except OSError:
            described.append({"path": str(path), "bytes": None, "sha256": None})
    return described


def _make_folders(folder: Path) -> list[Path]:
    """Make ``folder`` and its missing parents; return those made, deepest first."""
    missing = []
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    made: list[Path] = []
    try:
        for path in reversed(missing):
            path.mkdir()
            made.insert(0, path)
    except BaseException:
        _remove_empty(made)
        raise
    return made


def _remove_empty(folders: Sequence[Path]) -> None:
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _remove_tree(path: Path) -> None:
    """Remove a folder (twice if a file was still being written into it)."""
    for _ in range(2):
        if not os.path.lexists(path):
            return
        shutil.rmtree(path, ignore_errors=True)
