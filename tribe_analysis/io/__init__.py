"""Platform readers: one module per platform, each returning canonical events.

Every reader module defines ``NAME``, ``OBSERVABILITY`` (which outgoing actions the
platform exposes), ``sniff(path)`` (content-based recognition) and
``read(paths, *, on_error)`` returning a :class:`ReadResult`. This package is the
only place that knows platform field names (see ``docs/formats.md``).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType

from tribe_analysis import events as ev
from tribe_analysis.io._base import ON_ERROR, ReadResult, Skipped

__all__ = [
    "FORMATS",
    "ON_ERROR",
    "ReadResult",
    "Skipped",
    "account_names",
    "detect",
    "read",
    "reader",
]

FORMATS: tuple[str, ...] = (
    "events",
    "twitter",
    "reddit",
    "mastodon",
    "bluesky",
    "stackexchange",
    "mbox",
    "slack",
)
"""Reader names for ``--format``, in the order ``auto`` tries them."""


def reader(name: str) -> ModuleType:
    """The reader module for a format name.

    Examples
    --------
    >>> reader("events").NAME
    'events'
    """
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r} (expected auto or one of {', '.join(FORMATS)})")
    return importlib.import_module(f"tribe_analysis.io.{name}")


def _available() -> Iterable[ModuleType]:
    for name in FORMATS:
        yield reader(name)


FOLDER_FORMATS: tuple[str, ...] = ("stackexchange", "slack")
"""Formats whose input is a folder (a data dump, a workspace export)."""


def _expand(paths: list[Path], format: str) -> list[Path]:
    """Replace a folder of export files (e.g. Reddit branch files) by its files, sorted.

    Folders that are themselves one export (:data:`FOLDER_FORMATS`) stay as they
    are; hidden files and notes (``*.md``, ``*.txt``) are left out.
    """
    out: list[Path] = []
    for path in paths:
        is_export = format in FOLDER_FORMATS or (
            format == "auto" and any(reader(f).sniff(path) for f in FOLDER_FORMATS)
        )
        if path.is_dir() and not is_export:
            _refuse_output_folder(path)
            files = _folder_files(path, format)
            if not files:
                raise ev.EventsError([ev.Problem(str(path), None, "folder has no export files")])
            out += files
        else:
            out.append(path)
    _refuse_repeats(out)
    return out


def _refuse_repeats(files: list[Path]) -> None:
    """A file named twice (as itself, through a link, or by its folder too) is an error.

    Read twice, each of its records would be reported as a duplicate of itself.
    """
    first: dict[Path, Path] = {}
    for path in files:
        real = path.resolve()
        if real in first:
            reason = f"named twice (also as {first[real]}): give each input once"
            raise ev.EventsError([ev.Problem(str(path), None, reason)])
        first[real] = path


def _folder_files(folder: Path, format: str) -> list[Path]:
    """The export files of ``folder``, sorted; refused, naming its subfolders, when none is one.

    Folders are not walked. A dataset often keeps its export files in a subfolder
    beside an index or notes (the r/ChangeMyView sample: ``branch_index.csv`` and
    ``branches/``): when no file of the folder is recognised as an export and it has
    subfolders, the error names them instead of the index file's missing columns.
    """
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    files = [p for p in entries if p.is_file() and p.suffix.lower() not in (".md", ".txt")]
    subfolders = [p.name for p in entries if p.is_dir()]
    if not subfolders:
        return files
    names = FORMATS if format == "auto" else (format,)
    if any(reader(name).sniff(p) for p in files for name in names if name in FORMATS):
        return files
    shown = ", ".join(f"{name}/" for name in subfolders[:5]) + (", ..." if subfolders[5:] else "")
    n = len(files)
    found = {0: "it has no files", 1: "its one file is not an export"}.get(
        n, f"none of its {n} files is an export"
    )
    raise ev.EventsError(
        [
            ev.Problem(
                str(folder),
                None,
                f"{found}, and its subfolders ({shown}) are not read: "
                f"name the folder that holds the export files (e.g. {folder / subfolders[0]})",
            )
        ]
    )


def _sniffed(path: Path) -> str | None:
    """The format whose reader recognises ``path`` (None when none does; never raises)."""
    return next((module.NAME for module in _available() if module.sniff(path)), None)


def _refuse_output_folder(path: Path) -> None:
    """Refuse a folder that tribe-analysis wrote (its ``manifest.json`` says so), naming what to give.

    Its files are not one export: ``simulate`` writes the same events as CSV and
    Parquet beside the truth, ``profile`` writes results.
    """
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(manifest, dict) or manifest.get("tool") != "tribe-analysis":
        return
    events = path / "events.parquet"
    what = (
        f"name its events file ({events})"
        if events.is_file()
        else "name the input it was made from"
    )
    raise ev.EventsError(
        [ev.Problem(str(path), None, f"a folder tribe-analysis wrote, not an export: {what}")]
    )


def detect(path: str | Path) -> str:
    r"""The format of ``path`` recognised from its content (``--format auto``).

    A file is recognised from its first lines or bytes, never read whole.

    Raises
    ------
    EventsError
        When the path is missing or no reader recognises it.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> table = Path(tmp.name) / "events.csv"
    >>> _ = table.write_text("event_id,timestamp,actor_id,action\np1,2024-05-01T12:00:00Z,ann,post\n")
    >>> detect(table)
    'events'
    >>> detect(Path(tmp.name) / "missing.json")
    Traceback (most recent call last):
    tribe_analysis.errors.EventsError: ...missing.json: no such file or folder
    >>> tmp.cleanup()
    """
    path = Path(path)
    if not path.exists():
        raise ev.EventsError([ev.Problem(str(path), None, "no such file or folder")])
    if path.is_file() and path.stat().st_size == 0:
        raise ev.EventsError([ev.Problem(str(path), 1, "empty file (no header, no events)")])
    for module in _available():
        if module.sniff(path):
            return module.NAME
    if path.is_file() and path.suffix.lower() in (".csv", ".parquet", ".pq"):
        return "events"  # let the canonical validator say what is wrong with it
    if not path.is_dir():
        with path.open("rb") as fh:
            problem = ev.head_problem(str(path), fh.read(8192))
        if problem is not None:
            raise ev.EventsError([problem])
    raise ev.EventsError(
        [
            ev.Problem(
                str(path),
                None,
                f"format not recognised; name it with --format ({', '.join(FORMATS)})",
            )
        ]
    )


def read(
    paths: str | Path | Sequence[str | Path],
    *,
    format: str = "auto",
    on_error: str = "strict",
    spill: str | Path | None = None,
) -> ReadResult:
    r"""Read platform exports into canonical events.

    Parameters
    ----------
    paths : path or sequence of paths
        Files or folders of one platform.
    format : str
        ``"auto"`` (recognise from content; all inputs must agree) or a name of
        :data:`FORMATS`.
    on_error : {"strict", "skip"}
        Stop at the first malformed record, or quarantine malformed records
        (:attr:`ReadResult.skipped`) and load the rest.
    spill : str or Path, optional
        A folder for canonical events files larger than memory: they are read
        out of core (:func:`tribe_analysis.spill.spill_events`, strict only) and
        ``events`` is a lazy frame over the completed files there. Other formats
        are read in memory whatever ``spill`` says.

    Returns
    -------
    ReadResult
        Events, platform, observability, record counts, skipped records and the
        display names the export gives (``names``).

    Raises
    ------
    EventsError
        Naming file, line and reason: a malformed record (strict), or an input
        no record of which can be read (missing, empty, another format).

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> archive = Path(tmp.name) / "list.mbox"
    >>> _ = archive.write_text(
    ...     "From ann@example.org Mon Jun  1 10:00:00 1998\n"
    ...     "From: Ann Lee <ann@example.org>\nMessage-ID: <1@example.org>\n"
    ...     "Date: Mon, 1 Jun 1998 10:00:00 +0000\nSubject: Welcome\n\nHello, list.\n\n"
    ...     "From bob@example.org Mon Jun  1 11:30:00 1998\n"
    ...     "From: Bob <bob@example.org>\nMessage-ID: <2@example.org>\n"
    ...     "In-Reply-To: <1@example.org>\n"
    ...     "Date: Mon, 1 Jun 1998 11:30:00 +0000\nSubject: Re: Welcome\n\nHi Ann.\n"
    ... )
    >>> result = read(archive)
    >>> result.platform, result.records_read, result.records_loaded
    ('mbox', 2, 2)
    >>> result.events.select("actor_id", "action", "target_actor_id").rows()
    [('ann@example.org', 'post', None), ('bob@example.org', 'reply', 'ann@example.org')]
    >>> sorted(signal for signal, seen in result.observability.items() if not seen)
    ['mention', 'reaction', 'share']
    >>> tmp.cleanup()
    """
    given = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not given:
        raise ValueError("no input given")
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {', '.join(ON_ERROR)}, got {on_error!r}")
    files = _expand(given, format)
    if format == "auto":
        format = _one_format(given, files)
    if spill is not None and format == "events":
        return reader(format).read(files, on_error=on_error, spill=spill)
    return reader(format).read(files, on_error=on_error)


def _one_format(given: list[Path], files: list[Path]) -> str:
    """The one format all ``files`` are recognised as, or an error listing what each is.

    A file named by the user that no reader recognises stops the read with its own
    reason (:func:`detect`); the files of a folder are listed by format instead, with
    the ones no reader recognises (a dataset's metadata, labels, indexes). A folder
    none of whose files is recognised gets the first one's reason.
    """
    found: dict[Path, str | None] = {p: detect(p) if p in given else _sniffed(p) for p in files}
    if all(kind is None for kind in found.values()):  # say what is wrong with the first
        found = {p: detect(p) for p in files}
    kinds = sorted({kind for kind in found.values() if kind is not None})
    if len(kinds) == 1 and None not in found.values():
        return kinds[0]
    folders = {path.parent for path in files}
    where = str(folders.pop()) if len(folders) == 1 and set(given).isdisjoint(files) else None

    def listing(kind: str | None) -> str:
        paths = [p.name if where else str(p) for p, k in found.items() if k == kind]
        more = f", ... ({len(paths)} files)" if len(paths) > 3 else ""
        return f"{kind or 'not recognised'}: {', '.join(paths[:3])}{more}"

    unknown: list[str | None] = [None] if None in found.values() else []
    groups = "; ".join(listing(kind) for kind in [*kinds, *unknown])
    reason = (
        f"only some of its files are a {kinds[0]} export ({groups}): name the export's files"
        if len(kinds) == 1
        else f"inputs are of different formats ({groups}): name the files of one export"
    )
    raise ev.EventsError([ev.Problem(where or str(files[0]), None, reason)])


def account_names(paths: str | Path | Sequence[str | Path], format: str) -> dict[str, str]:
    r"""Display names of accounts (screen name, sender name, user name) where the format has them.

    Returns an empty mapping for formats whose ids are already names or that
    carry none. Used to label leaders in reports; the events keep the stable ids.
    (:func:`read` gives the same names, as ``ReadResult.names``, in its one pass.)

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> statuses = Path(tmp.name) / "statuses.jsonl"
    >>> _ = statuses.write_text(
    ...     '{"id": "1", "created_at": "2024-05-01T12:00:00Z", "content": "<p>Hello</p>", '
    ...     '"account": {"id": "7", "acct": "ann@example.social", "display_name": "Ann Lee"}}\n'
    ... )
    >>> account_names(statuses, "mastodon")
    {'7': 'ann@example.social'}
    >>> tmp.cleanup()
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    paths = _expand([Path(p) for p in paths], format)
    names = getattr(reader(format), "account_names", None)
    return names(paths) if names is not None else {}
