"""Writing the interaction graph for other tools: Parquet edge list, GraphML and GEXF.

Three files, for three uses (``README.md``, *Outputs*):

* ``edges.parquet`` — the whole weighted edge list (:data:`~tribe_analysis.graph.EDGE_SCHEMA`),
  for polars, pandas, R or DuckDB; it scales to any input.
* ``graph.graphml`` and ``graph.gexf`` — for Gephi, networkx, igraph, Cytoscape. By
  default they hold the leaders' tribe subgraph (:func:`tribe_edges`: the leaders, their
  alters and the ties among them), which is what people open and look at; the whole
  graph on request.

The GraphML and GEXF files are written as text from polars string columns, with no
Python object per edge, so the whole graph of a large input is written in seconds
(networkx's writers build an element tree per edge), a slice of rows at a time, the
GraphML and the GEXF file each in a thread of its own. They are the same documents
networkx writes and read back with :func:`networkx.read_graphml` and
:func:`networkx.read_gexf` (tested), plus a boolean ``leader`` node attribute and,
where the export gives display names, each node's name as its ``label`` (what Gephi
shows on the node; GEXF's label is the id otherwise).
Characters XML 1.0 forbids (control characters such as U+0001, and U+FFFE, U+FFFF)
cannot appear in a valid file, so the file always parses: in an id each is written as
U+FFFD followed by its code point in four hex digits (U+0001 as ``\ufffd0001``), so two
accounts whose ids differ only there stay two nodes; in a display name it is U+FFFD
alone. A tab, line feed or carriage return is written as a character reference, so it
reads back as itself (a parser turns one written as is into a space).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from tribe_analysis.graph import _ATTRS, _XML_IDS, EDGE_SCHEMA

__all__ = ["tribe_edges", "write_edges", "write_graph_file", "write_graph_files"]

_INVALID_XML = r"[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]"
_FORBIDDEN = [chr(c) for c in _XML_IDS]
"""The characters of :data:`_INVALID_XML`, one by one."""
_FORBIDDEN_IN_IDS = list(_XML_IDS.values())
"""How each of :data:`_FORBIDDEN` is written in an id: U+FFFD and its code point."""

_GRAPHML_HEAD = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
    'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
    '  <key id="leader" for="node" attr.name="leader" attr.type="boolean" />\n'
    + "".join(
        f'  <key id="{name}" for="edge" attr.name="{name}" attr.type="long" />\n' for name in _ATTRS
    )
    + '  <graph edgedefault="directed">\n'
)
_GRAPHML_LABEL_KEY = '  <key id="label" for="node" attr.name="label" attr.type="string" />\n'
"""Declared (before the other keys) when some node has a display name."""
_GRAPHML_TAIL = "  </graph>\n</graphml>\n"

_GEXF_HEAD = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">\n'
    '  <graph defaultedgetype="directed" mode="static" name="">\n'
    '    <attributes mode="static" class="node">\n'
    '      <attribute id="0" title="leader" type="boolean" />\n'
    "    </attributes>\n"
    '    <attributes mode="static" class="edge">\n'
    + "".join(
        f'      <attribute id="{i + 1}" title="{name}" type="long" />\n'
        for i, name in enumerate(_ATTRS[:-1])
    )
    + "    </attributes>\n"
)


def tribe_edges(edges: pl.DataFrame, leaders: Sequence[str]) -> pl.DataFrame:
    """The leaders' tribe subgraph: leaders, their alters, and every edge among them.

    Alters are the accounts with an edge to or from a leader (its tribe, DESIGN.md
    section 4). Ties among alters are kept: they show whether a tribe talks to
    itself or only to its leader.

    Examples
    --------
    >>> e = pl.DataFrame({"source": ["a", "b", "c", "x"], "target": ["b", "c", "a", "y"],
    ...     "reply": [1, 1, 1, 1], "reaction": [0] * 4, "share": [0] * 4, "mention": [0] * 4,
    ...     "weight": [1] * 4})
    >>> tribe_edges(e, ["a"]).select("source", "target").rows()
    [('a', 'b'), ('b', 'c'), ('c', 'a')]
    """
    lead = pl.Series(list(leaders), dtype=pl.String)
    near = pl.concat(
        [
            edges.filter(pl.col("source").is_in(lead.implode()))["target"],
            edges.filter(pl.col("target").is_in(lead.implode()))["source"],
            lead,
        ]
    ).unique()
    keep = pl.col("source").is_in(near.implode()) & pl.col("target").is_in(near.implode())
    return _sorted(edges.filter(keep))


def write_edges(edges: pl.DataFrame, path: str | Path) -> Path:
    """Write the edge list as Parquet (columns of :data:`~tribe_analysis.graph.EDGE_SCHEMA`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> e = pl.DataFrame({"source": ["a"], "target": ["b"], "reply": [1], "reaction": [0],
    ...     "share": [0], "mention": [0], "weight": [1]})
    >>> out = write_edges(e, pathlib.Path(tempfile.mkdtemp()) / "edges.parquet")
    >>> pl.read_parquet(out).row(0)
    ('a', 'b', 1, 0, 0, 0, 1)
    """
    path = Path(path)
    # one chunk: the row groups then depend on the rows only, not on how they were computed
    typed = edges.select(EDGE_SCHEMA.names()).cast(dict(EDGE_SCHEMA))  # type: ignore[arg-type]
    _sorted(typed).rechunk().write_parquet(path, statistics=False)
    return path


_ESCAPES = (
    ("&", "&amp;"),
    ("<", "&lt;"),
    (">", "&gt;"),
    ('"', "&quot;"),
    ("\t", "&#9;"),
    ("\n", "&#10;"),
    ("\r", "&#13;"),
)
"""Characters written as references in attribute text (``&`` first). A tab, line feed or
carriage return written as itself would be read back as a space (XML attribute-value
normalisation), so an id holding one would come back changed."""


def _xml(column: str, escape: bool = True, *, name: bool = False) -> pl.Expr:
    """An id (or, with ``name``, a display name) as XML text, escaped.

    A character XML forbids is written as U+FFFD and its code point in an id (two
    ids never come out the same, :func:`_check_distinct`), as U+FFFD alone in a
    name. ``escape=False`` when no id needs it (:func:`_needs_escape`): eight
    string passes fewer per column.
    """
    if not escape:
        return pl.col(column)
    if name:
        text = pl.col(column).str.replace_all(_INVALID_XML, "\ufffd")
    else:
        text = pl.col(column).str.replace_many(_FORBIDDEN, _FORBIDDEN_IN_IDS)
    for char, reference in _ESCAPES:
        text = text.str.replace_all(char, reference, literal=True)
    return text


def _needs_escape(nodes: pl.DataFrame) -> bool:
    """Whether any node id holds a character that XML attribute text must escape or replace."""
    special = pl.col("id").str.contains(_INVALID_XML + r'|[&<>"\t\n\r]')
    return bool(nodes.select(special.any()).item())


def _check_distinct(nodes: pl.DataFrame) -> None:
    """Raise ValueError when two node ids would be written as the same text.

    Only possible when an id holds a character XML forbids and another holds, as
    such, the U+FFFD and four hex digits it is written as.
    """
    shown = nodes.select(pl.col("id"), _xml("id").alias("shown"))
    twice = shown.filter(pl.col("shown").is_duplicated()).sort("shown", "id")
    if twice.height:
        first, second = twice.get_column("id").head(2).to_list()
        raise ValueError(
            f"the ids {first!r} and {second!r} cannot be told apart in a GraphML or GEXF "
            "file (XML 1.0 has no control characters)"
        )


def _nodes(
    edges: pl.DataFrame, leaders: Sequence[str], names: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """``id``, ``leader`` and ``label`` (the display name, null without one) of every node."""
    ids = pl.concat([edges["source"], edges["target"], pl.Series(list(leaders), dtype=pl.String)])
    lead = pl.Series(list(leaders), dtype=pl.String).implode()
    nodes = (
        pl.DataFrame({"id": ids})
        .unique()
        .sort("id")
        .with_columns(pl.col("id").is_in(lead).alias("leader"))
    )
    named = pl.DataFrame(
        {"id": list((names or {}).keys()), "label": list((names or {}).values())},
        schema={"id": pl.String, "label": pl.String},
    ).filter(pl.col("label").is_not_null() & (pl.col("label") != pl.col("id")))
    return nodes.join(named, on="id", how="left", maintain_order="left")


def _leader_text() -> pl.Expr:
    """The ``leader`` attribute as XML text."""
    return pl.when(pl.col("leader")).then(pl.lit("true")).otherwise(pl.lit("false"))


def _graphml_nodes(nodes: pl.DataFrame, escape: bool) -> pl.Series:
    """GraphML node elements, one string per node (a ``label`` only where there is a name)."""
    label = pl.format('      <data key="label">{}</data>\n', _xml("label", name=True))
    label = label.fill_null("")
    return nodes.select(
        pl.format(
            '    <node id="{}">\n{}      <data key="leader">{}</data>\n    </node>\n',
            _xml("id", escape),
            label,
            _leader_text(),
        )
    ).to_series()


def _graphml_edges(edges: pl.DataFrame, escape: bool, first: int) -> pl.Series:
    """GraphML edge elements (``first``, the row number of the first, is unused: no edge ids)."""
    data = "".join(f'      <data key="{name}">{{}}</data>\n' for name in _ATTRS)
    return edges.select(
        pl.format(
            '    <edge source="{}" target="{}">\n' + data + "    </edge>\n",
            _xml("source", escape),
            _xml("target", escape),
            *[pl.col(name) for name in _ATTRS],
        )
    ).to_series()


def _gexf_nodes(nodes: pl.DataFrame, escape: bool) -> pl.Series:
    """GEXF node elements, one string per node."""
    return nodes.select(
        pl.format(
            '      <node id="{}" label="{}">\n        <attvalues>\n'
            '          <attvalue for="0" value="{}" />\n        </attvalues>\n      </node>\n',
            _xml("id", escape),
            pl.coalesce(_xml("label", name=True), _xml("id", escape)),
            _leader_text(),
        )
    ).to_series()


def _gexf_edges(edges: pl.DataFrame, escape: bool, first: int) -> pl.Series:
    """GEXF edge elements; ``first`` is the id of the first (edges are numbered in file order)."""
    values = "".join(
        f'          <attvalue for="{i + 1}" value="{{}}" />\n' for i in range(len(_ATTRS) - 1)
    )
    return (
        edges.with_row_index("n", offset=first)
        .select(
            pl.format(
                '      <edge source="{}" target="{}" id="{}" weight="{}">\n'
                "        <attvalues>\n" + values + "        </attvalues>\n      </edge>\n",
                _xml("source", escape),
                _xml("target", escape),
                pl.col("n"),
                pl.col("weight"),
                *[pl.col(name) for name in _ATTRS[:-1]],
            )
        )
        .to_series()
    )


_GRAPHML = (_GRAPHML_HEAD, _graphml_nodes, "", _graphml_edges, _GRAPHML_TAIL)
_GEXF = (
    _GEXF_HEAD + "    <nodes>\n",
    _gexf_nodes,
    "    </nodes>\n    <edges>\n",
    _gexf_edges,
    "    </edges>\n  </graph>\n</gexf>\n",
)

SLICE_ROWS = 1 << 18
"""Rows turned into XML text at a time: the text of a slice, not of the whole graph, is in memory."""


def write_graph_file(
    edges: pl.DataFrame,
    path: str | Path,
    *,
    leaders: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
) -> Path:
    """Write an edge list as GraphML or GEXF (by suffix), streaming, byte-identical run to run.

    Parameters
    ----------
    edges : polars.DataFrame
        :func:`tribe_analysis.graph.edge_list` output, or a part of it such as
        :func:`tribe_edges`.
    path : str or pathlib.Path
        Ends in ``.graphml`` or ``.gexf``.
    leaders : sequence of str
        Flagged with the node attribute ``leader`` (and added as nodes even
        without edges).
    names : mapping, optional
        Display names by id: each node's ``label`` (GEXF's label, which is the id
        without a name; a GraphML ``label`` attribute where there is one), which
        Gephi shows on the node.

    Examples
    --------
    >>> import tempfile, pathlib, networkx as nx
    >>> e = pl.DataFrame({"source": ["a"], "target": ["b<&>"], "reply": [2], "reaction": [1],
    ...     "share": [0], "mention": [0], "weight": [3]})
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> g = nx.read_graphml(write_graph_file(e, folder / "g.graphml", leaders=["a"]))
    >>> g.edges["a", "b<&>"]["weight"], g.nodes["a"]["leader"]
    (3, True)
    >>> nx.read_gexf(write_graph_file(e, folder / "g.gexf")).edges["a", "b<&>"]["reply"]
    2
    >>> named = write_graph_file(e, folder / "n.gexf", names={"a": "Ann & co"})
    >>> nx.read_gexf(named, node_type=str, relabel=True).nodes  # Gephi shows the labels
    NodeView(('Ann & co', 'b<&>'))
    """
    (written,) = write_graph_files(edges, [path], leaders=leaders, names=names)
    return written


def write_graph_files(
    edges: pl.DataFrame,
    paths: Sequence[str | Path],
    *,
    leaders: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
) -> list[Path]:
    """:func:`write_graph_file` for each of ``paths``, sorting edges and nodes once for all.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> e = pl.DataFrame({"source": ["a"], "target": ["b"], "reply": [1], "reaction": [0],
    ...     "share": [0], "mention": [0], "weight": [1]})
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> [p.name for p in write_graph_files(e, [folder / "g.graphml", folder / "g.gexf"])]
    ['g.graphml', 'g.gexf']
    """
    files = [Path(p) for p in paths]
    for path in files:
        suffix = path.suffix.lower()
        if suffix not in (".graphml", ".gexf"):
            raise ValueError(
                f"unknown graph file type {suffix or '(none)'!r} for {path.name!r} "
                "(expected one of .graphml, .gexf)"
            )
    edges = _sorted(edges.select(EDGE_SCHEMA.names()))
    nodes = _nodes(edges, leaders, names)
    escape = _needs_escape(nodes)
    if escape:
        _check_distinct(nodes)
    if len(files) < 2:
        for path in files:
            _write_graph(edges, nodes, escape, path)
        return files
    # each file in a thread of its own: building and writing the text is polars work that
    # lets go of the GIL, and one file keeps about one core busy
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="tribe-analysis-graph") as pool:
        for done in [pool.submit(_write_graph, edges, nodes, escape, path) for path in files]:
            done.result()
    return files


def _write_graph(edges: pl.DataFrame, nodes: pl.DataFrame, escape: bool, path: Path) -> None:
    """One GraphML or GEXF file (by suffix) of sorted ``edges`` and their ``nodes``.

    The text is built and written :data:`SLICE_ROWS` rows at a time.
    """
    head, node_text, middle, edge_text, tail = (
        _GRAPHML if path.suffix.lower() == ".graphml" else _GEXF
    )
    if head is _GRAPHML_HEAD and nodes.get_column("label").is_not_null().any():
        head = head.replace("  <key id=", _GRAPHML_LABEL_KEY + "  <key id=", 1)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(head)
        for part in nodes.iter_slices(SLICE_ROWS):
            _write_all(fh, node_text(part, escape))
        fh.write(middle)
        for first in range(0, edges.height, SLICE_ROWS):
            _write_all(fh, edge_text(edges.slice(first, SLICE_ROWS), escape, first))
        fh.write(tail)


def _write_all(fh, lines: pl.Series) -> None:
    """Write string rows as they are (each ends in a newline), by polars' own CSV writer."""
    fh.flush()
    pl.DataFrame({"line": lines}).write_csv(
        fh.buffer, include_header=False, quote_style="never", line_terminator=""
    )
    fh.buffer.flush()


def _sorted(edges: pl.DataFrame) -> pl.DataFrame:
    """Edges by ``source`` then ``target`` (as :func:`~tribe_analysis.graph.edge_list` gives them)."""
    src, tgt = pl.col("source"), pl.col("target")
    in_order = (src > src.shift()) | ((src == src.shift()) & (tgt > tgt.shift()))
    if edges.height < 2 or edges.select(in_order.slice(1).all()).item():
        return edges
    return edges.sort("source", "target")
