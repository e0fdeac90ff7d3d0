"""Keyed pseudonyms (HMAC-SHA256) for accounts and content ids.

Every account id except the named leaders becomes ``u_`` + the first 16 hex
digits of HMAC-SHA256(key, id); every event id (``event_id``, ``parent_id``,
``thread_id``) becomes ``e_`` + the same digest of the id, because public
content ids (tweet ids, URIs) lead back to their authors. Text is dropped. The
mapping is stable for one key and cannot be reversed or recomputed without it,
and it is one-to-one, so the interaction graph and every measure are unchanged.

Messages are covered too: :func:`mask_reason` masks the values a reason for a
skipped record or an input error quotes (ids, handles, e-mail addresses, text),
for the console and ``quarantine.jsonl`` of a pseudonymised run.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from pathlib import Path

import polars as pl

__all__ = [
    "KEY_ENV",
    "MASK",
    "MIN_KEY_BYTES",
    "KeyError_",
    "load_key",
    "mask_reason",
    "pseudonymize",
]

KEY_ENV = "TRIBE_ANALYSIS_KEY"
"""Environment variable read for the key when no key file is given."""

MIN_KEY_BYTES = 16
"""Shortest key accepted (a short key can be guessed by trying)."""


class KeyError_(ValueError):  # noqa: N801 - not the builtin KeyError
    """The pseudonymisation key is missing or too weak."""


def load_key(key_file: str | Path | None = None, *, env: str = KEY_ENV) -> bytes:
    """The secret key from ``key_file`` or the environment variable ``env``.

    Raises
    ------
    KeyError_
        When neither gives a key, or the key is shorter than :data:`MIN_KEY_BYTES`:
        there is no default key, since a guessable key makes pseudonyms reversible.

    Examples
    --------
    >>> load_key(env="NO_SUCH_VARIABLE")
    Traceback (most recent call last):
    ...
    tribe_analysis.privacy.KeyError_: no pseudonymisation key: give --key-file FILE or set NO_SUCH_VARIABLE
    """
    if key_file is not None:
        path = Path(key_file)
        try:
            key = path.read_bytes().strip()
        except OSError as exc:
            raise KeyError_(f"{path}: cannot read key file ({exc.strerror})") from None
        where = str(path)
    else:
        value = os.environ.get(env)
        if not value:
            raise KeyError_(f"no pseudonymisation key: give --key-file FILE or set {env}")
        key = value.strip().encode()
        where = env
    if len(key) < MIN_KEY_BYTES:
        raise KeyError_(f"{where}: key too short ({len(key)} bytes; at least {MIN_KEY_BYTES})")
    return key


def _digest(key: bytes, prefix: str, values: Iterable[str]) -> dict[str, str]:
    return {v: prefix + hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:16] for v in values}


def pseudonymize(events: pl.DataFrame, key: bytes, *, keep: Iterable[str] = ()) -> pl.DataFrame:
    """Replace account and content ids by keyed pseudonyms; drop text.

    Parameters
    ----------
    events : polars.DataFrame
        Canonical events.
    key : bytes
        Secret key (see :func:`load_key`).
    keep : iterable of str
        Account ids left as they are (the named leaders).

    Returns
    -------
    polars.DataFrame
        The same events with pseudonymous ids and null ``text``.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from tribe_analysis.events import conform, derive_threads
    >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> ev = derive_threads(conform(pl.DataFrame({"event_id": ["p", "r"], "timestamp": [t, t],
    ...     "actor_id": ["ann", "bob"], "action": ["post", "reply"], "parent_id": [None, "p"],
    ...     "text": ["hi", "hello ann"]}), platform="events"))
    >>> out = pseudonymize(ev, b"0123456789abcdef-secret", keep=["ann"])
    >>> out["actor_id"].to_list()[0], out["actor_id"].to_list()[1].startswith("u_"), out["text"].null_count()
    ('ann', True, 2)
    """
    keep = set(keep)
    accounts = pl.concat(
        [
            events.get_column("actor_id"),
            events.get_column("target_actor_id").drop_nulls(),
            events.get_column("mentions").explode().drop_nulls(),
        ]
    ).unique()
    account_map = _digest(key, "u_", (a for a in accounts.to_list() if a not in keep))
    account_map.update({a: a for a in keep})
    ids = pl.concat(
        [events.get_column(c).drop_nulls() for c in ("event_id", "parent_id", "thread_id")]
    ).unique()
    id_map = _digest(key, "e_", ids.to_list())

    def accounts_of(col: pl.Expr) -> pl.Expr:
        return col.replace_strict(account_map, default=col, return_dtype=pl.String)

    return events.with_columns(
        *[
            pl.col(c).replace_strict(id_map, default=None, return_dtype=pl.String)
            for c in ("event_id", "parent_id", "thread_id")
        ],
        accounts_of(pl.col("actor_id")),
        accounts_of(pl.col("target_actor_id")),
        pl.col("mentions").list.eval(accounts_of(pl.element())),
        pl.lit(None, dtype=pl.String).alias("text"),
    )


MASK = "\u2026"
"""What a masked value is replaced by (an ellipsis)."""

_QUOTED = re.compile(
    r"""(?<!\w)(?:'((?:\\.|[^'\\])*)(?:'|$)|"((?:\\.|[^"\\])*)(?:"|$)|`([^`]*)(?:`|$))"""
)
"""A value in single, double or back quotes (a ``repr``, JSON text, a polars message),
closed or cut off at the end; an apostrophe inside a word (``record's``) opens nothing."""
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b[a-zA-Z][\w+.-]*://\S+")
_HANDLE = re.compile(r"(?<![\w@])@[\w.-]+")
_KEYS = re.compile(r"\bkeys: (?:.*\)|.*)", re.DOTALL)
"""The keys of a record a reader lists (``found keys: delete, limit)``), to the last ``)``:
a key can be a value (a file of users by name), and a key may hold any character."""
_NUMBER = re.compile(
    r"(?<![\w.-])-?(?:\d+\.\d+[eE][+-]?\d+|(?:\d+\.)?\d{3,}(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![\w-])"
)
"""A bare number with a run of 3 digits or more (a numeric id), or with decimals and an
exponent (an id read as a float: ``1.25e+19``), with its sign and decimals (``-1234567``,
``1.2345678901234568e+17``); dates (``2024-05-01``) and times (``12:00:00.000Z``) stay."""


def _safe_words() -> frozenset[str]:
    from tribe_analysis.events import ACTIONS, SCHEMA

    return frozenset([*SCHEMA.names(), *ACTIONS])


def _several_quoted(text: str) -> str:
    """Mask from the first opening quote to the last quote of its kind when a message has several.

    A value may hold the quote character itself (``'ab'c'``), and then no rule can
    tell where one quoted value ends and the next begins; masking the whole span
    loses the words between them, never a value.

    Examples
    --------
    >>> _several_quoted("(event 'a'b' -> parent 'a'b')")
    "(event '…')"
    >>> _several_quoted("duplicate id 'x' (kept once)")
    "duplicate id 'x' (kept once)"
    """
    for quote in "'\"`":
        if text.count(quote) <= 2:
            continue
        opening = re.search(rf"(?<!\w){re.escape(quote)}", text)
        last = text.rfind(quote)
        if opening is not None and last > opening.start():
            text = text[: opening.start()] + quote + MASK + quote + text[last + 1 :]
    return text


def mask_reason(reason: str) -> str:
    """A message with the values it quotes masked, for pseudonymised runs.

    Quoted values (``'...'``, ``"..."``, ```...```) become ``'…'`` unless they name
    a canonical column or action; e-mail addresses, URLs, ``@handles``, bare
    numbers of 3 digits or more and the keys a reader lists (``found keys: …``)
    become ``…``. What the message says stays readable.

    Parameters
    ----------
    reason : str
        A reason for a skipped record or an input error, or any console message.

    Returns
    -------
    str

    Examples
    --------
    >>> mask_reason("duplicate id 'e000000042' (kept once)")
    "duplicate id '…' (kept once)"
    >>> mask_reason("missing required column 'actor_id'")
    "missing required column 'actor_id'"
    >>> mask_reason('user.id must be a string id, got number 1234567 (see column 12)')
    'user.id must be a string id, got number … (see column 12)'
    >>> mask_reason("no address in From header 'Ann <ann@example.org>'; reply to @bob")
    "no address in From header '…'; reply to @…"
    >>> mask_reason("not a Reddit comment or submission (expected name/id; found keys: ann, bob)")
    'not a Reddit comment or submission (expected name/id; found keys: …)'
    """
    safe = _safe_words()

    def quoted(match: re.Match) -> str:
        text = match.group(0)
        quote = text[0]
        value = next(g for g in match.groups() if g is not None)
        closed = len(text) > len(value) + 1
        shown = value if value in safe else MASK
        return quote + shown + (quote if closed else "")

    keys = _KEYS.sub(lambda m: f"keys: {MASK}" + (")" if m.group(0).endswith(")") else ""), reason)
    masked = _QUOTED.sub(quoted, _several_quoted(keys))
    masked = _EMAIL.sub(f"{MASK}@{MASK}", masked)
    masked = _URL.sub(MASK, masked)
    masked = _HANDLE.sub(f"@{MASK}", masked)
    return _NUMBER.sub(MASK, masked)
