"""Tests of :mod:`tribe_analysis._textscan`: the scanner agrees with the standard library.

The scanner finds records with vectorised byte searches over pieces of the file, so
its hard cases are a record, a quoted line break, a ``\\r\\n`` or a multi-byte
character cut by the end of a piece. The properties write random CSV with
:mod:`csv` (fields holding commas, quotes, line breaks and non-ASCII text) and
random JSON lines, scan them in pieces of 1 to 64 bytes as well as whole, and
compare with what :mod:`csv` and :mod:`json` read back.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from unittest import mock

import hypothesis
from hypothesis import strategies as st

from tribe_analysis import _textscan

SETTINGS = hypothesis.settings(
    max_examples=150, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)

FIELD = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\té€😀')), max_size=8)
PIECES = st.one_of(st.integers(1, 64), st.just(16 * 2**20))


def _scan(data: bytes, piece: int, *, as_csv: bool) -> tuple[_textscan.Layout, list[str]]:
    """Scan ``data`` written to a file, in pieces of ``piece`` bytes; and each record's text."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("x.csv" if as_csv else "x.ndjson")
        path.write_bytes(data)
        with mock.patch.object(_textscan, "_PIECE", piece):
            layout = _textscan.scan(path, csv=as_csv)
        texts = [_textscan.record_text(path, layout, k) for k in range(layout.lines.size)]
    return layout, texts


def _csv_records(rows: list[list[str]], blanks: list[bool]) -> list[str]:
    """Each row as :mod:`csv` writes it (without its line break), blank lines where asked."""
    out: list[str] = []
    for row, blank in zip(rows, blanks, strict=True):
        if blank:
            out.append("")
        buffer = io.StringIO()
        # "\r\n" as the writer's terminator: it then quotes every field holding
        # either character (with "\n" it would leave a bare "\r" unquoted)
        csv.writer(buffer, lineterminator="\r\n").writerow(row)
        out.append(buffer.getvalue().removesuffix("\r\n"))
    return out


def _first_lines(records: list[str]) -> list[int]:
    """Each record's first physical line, as counted in the text."""
    first = [1]
    for record in records[:-1]:
        first.append(first[-1] + record.count("\n") + 1)
    return first


@SETTINGS
@hypothesis.given(
    width=st.integers(1, 4),
    data=st.data(),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    final_break=st.booleans(),
    piece=PIECES,
)
def test_csv_records_are_where_the_csv_module_finds_them(
    width, data, newline, bom, final_break, piece
):
    rows = data.draw(
        st.lists(st.lists(FIELD, min_size=width, max_size=width), min_size=1, max_size=8)
    )
    blanks = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    blanks[0] = False  # the header comes first
    records = _csv_records(rows, blanks)
    text = newline.join(records) + (newline if final_break else "")
    raw = text.encode()
    layout, texts = _scan((_textscan.BOM if bom else b"") + raw, piece, as_csv=True)

    assert layout.bad == {}
    assert layout.crlf == (newline == "\r\n" and (len(records) > 1 or final_break))
    assert layout.bom == (3 if bom else 0)
    assert texts == records
    kept = [k for k in range(len(records)) if k not in set(layout.blank.tolist())]
    assert [texts[k] for k in kept] == [r for r in records if r]
    assert [next(csv.reader(io.StringIO(texts[k], newline=""))) for k in kept] == rows
    assert layout.lines.tolist() == _first_lines(records)


@SETTINGS
@hypothesis.given(
    width=st.integers(2, 4),
    rows=st.integers(2, 6),
    data=st.data(),
    piece=PIECES,
)
def test_csv_a_ragged_or_stray_quoted_record_is_the_one_reported(width, rows, data, piece):
    table = [[f"r{r}c{c}" for c in range(width)] for r in range(rows)]
    wrong = data.draw(st.integers(1, rows - 1))
    kind = data.draw(st.sampled_from(["short", "long", *STRAY]))
    records = _csv_records(table, [False] * rows)
    if kind == "short":
        records[wrong] = ",".join(table[wrong][:-1])
    elif kind == "long":
        records[wrong] += ',"x\ny"'
    else:
        records[wrong] = STRAY[kind] + records[wrong]
    layout, texts = _scan(("\n".join(records) + "\n").encode(), piece, as_csv=True)

    assert list(layout.bad) == [wrong]  # the records after it are whole
    assert texts == records
    assert layout.lines.tolist() == _first_lines(records)
    reason = layout.bad[wrong]
    assert reason.startswith("stray quote") if kind in STRAY else "expected" in reason


STRAY = {  # a quote in the middle of an unquoted field, which csv and polars read as a letter
    "one": 'he said "hi',
    "before a separator": 'ab",',
    "doubled": 'a""b',
    "a quoted word": 'say "yes" now',
    "after a closed field": '"ab"c"d',
}


@SETTINGS
@hypothesis.given(
    values=st.lists(
        st.one_of(
            st.dictionaries(st.sampled_from(["a", "b", "é"]), FIELD, max_size=3),
            st.sampled_from(["", "  ", "\t"]),
        ),
        min_size=1,
        max_size=8,
    ),
    newline=st.sampled_from(["\n", "\r\n"]),
    piece=PIECES,
)
def test_json_lines_one_record_per_line_blank_ones_marked(values, newline, piece):
    lines = [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values]
    layout, texts = _scan((newline.join(lines) + newline).encode(), piece, as_csv=False)

    assert layout.bad == {}
    assert layout.lines.tolist() == list(range(1, len(lines) + 1))
    assert texts == lines
    assert layout.blank.tolist() == [k for k, line in enumerate(lines) if not line.strip()]
    assert [json.loads(texts[k]) for k, v in enumerate(values) if not isinstance(v, str)] == [
        v for v in values if not isinstance(v, str)
    ]


@SETTINGS
@hypothesis.given(
    lines=st.lists(
        st.text(alphabet=st.sampled_from(list("abé€ ")), min_size=1, max_size=6),
        min_size=1,
        max_size=6,
    ),
    data=st.data(),
    piece=PIECES,
)
def test_a_byte_that_is_not_utf8_is_reported_at_its_record_and_column(lines, data, piece):
    encoded = [line.encode() for line in lines]
    where = data.draw(st.integers(0, len(lines) - 1))
    cut = data.draw(st.integers(0, len(lines[where])))  # between characters
    column = len(lines[where][:cut].encode())
    encoded[where] = encoded[where][:column] + b"\xff" + encoded[where][column:]
    layout, _ = _scan(b"\n".join(encoded) + b"\n", piece, as_csv=False)

    assert layout.bad == {where: f"not UTF-8: byte 0xff at column {column + 1}"}


@SETTINGS
@hypothesis.given(records=st.integers(1, 5), piece=PIECES)
def test_a_character_cut_by_the_end_of_the_file_is_not_utf8(records, piece):
    data = b"".join(b'{"a": "\xe2\x82\xac"}\n' for _ in range(records)) + b'{"a": "\xe2\x82'
    layout, _ = _scan(data, piece, as_csv=False)

    column = len(b'{"a": "') + 1
    assert layout.bad == {records: f"not UTF-8: byte 0xe2 at column {column}"}


def test_an_unclosed_quote_is_the_last_record_whatever_the_pieces():
    for piece in (1, 3, 7, 16 * 2**20):
        layout, texts = _scan(b'a,b\n1,2\n3,"open\n4,5\n', piece, as_csv=True)
        assert layout.bad == {2: "unclosed quote (the field runs to the end of the file)"}
        assert texts[2] == '3,"open\n4,5'
