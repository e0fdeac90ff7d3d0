"""The notebooks are committed executed, so that nbval compares every output."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import altair as alt
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
SCHEMA = alt.SCHEMA_URL  # the $schema Altair writes; outputs go stale when Altair is upgraded


def test_the_suite_is_there():
    assert [p.stem for p in NOTEBOOKS] == [
        "01-quickstart",
        "02-explore-your-data",
        "03-compare-leaders",
        "04-workshop-charts",
        "05-style-over-time",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_executed_top_to_bottom_in_one_kernel(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        for out in cell["outputs"]:
            assert out["output_type"] != "error", cell["source"]
            assert out.get("name") != "stderr", f"{path.name}: stderr output {out.get('text')}"
    assert "charts.setup_notebook()" in "".join(
        code[0]["source"]
    ) or "charts.setup_notebook()" in "".join(code[1]["source"])


VEGALITE = "application/vnd.vegalite.v5+json"  # drawn by JupyterLab's bundled Vega-Lite 5
ALLOWED_URLS = {
    "http://www.w3.org/2000/svg",  # SVG namespaces
    "http://www.w3.org/1999/xlink",
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_charts_are_checked_not_ignored(path):
    """Every chart is stored as spec + SVG (both compared by nbval), and nothing loads a CDN."""
    nb = json.loads(path.read_text())
    charts = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        assert "NBVAL_IGNORE_OUTPUT" not in source and "NBVAL_SKIP" not in source
        for out in cell["outputs"]:
            stored = json.dumps(out)
            assert "<script" not in stored.lower(), f"{path.name}: a script in a stored output"
            assert "cdn.jsdelivr" not in stored and "unpkg.com" not in stored
            urls = set(re.findall(r"https?://[^\s\"'<>\\]+", stored))
            assert urls <= ALLOWED_URLS | {SCHEMA}, f"{path.name}: {urls - ALLOWED_URLS}"
            data = out.get("data", {})
            assert "vega-embed" not in "".join(data.get("text/html", []))  # Altair's html renderer
            if VEGALITE in data:
                charts += 1
                spec = data[VEGALITE]
                assert isinstance(spec, dict) and spec["$schema"] == SCHEMA
                assert "datasets" in spec or "data" in spec
                svg = "".join(data["image/svg+xml"])
                assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
                assert "".join(data["text/plain"]) == "<Altair chart>"
                assert "image/png" not in data  # nbval would not compare it
    assert charts >= 1


def _nbval(notebook: Path, root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval",
            "--nbval-current-env",
            f"--nbval-sanitize-with={root / 'nbval_sanitize.cfg'}",
            "--rootdir",
            str(notebook.parents[1]),
            "-c",
            "/dev/null",
            str(notebook),
        ],
        capture_output=True,
        text=True,
        cwd=notebook.parents[1],
        check=False,
    )


def _change_spec(data: dict) -> None:
    """Add 0.1 to the first participation index in the stored spec (a JSON object)."""
    for rows in data[VEGALITE]["datasets"].values():
        for row in rows:
            if isinstance(row.get("participation_index"), float):
                row["participation_index"] = round(row["participation_index"] + 0.1, 4)
                return
    raise AssertionError("no participation_index in the stored spec")


def _change_svg(data: dict) -> None:
    """Move the first point of the first path in the stored SVG by one pixel."""
    svg = "".join(data["image/svg+xml"])
    edited = re.sub(r'd="M(\d+)', lambda m: f'd="M{int(m.group(1)) + 1}', svg, count=1)
    assert edited != svg
    data["image/svg+xml"] = edited


@pytest.mark.parametrize("change", [_change_spec, _change_svg], ids=["spec", "svg"])
def test_a_changed_chart_number_fails_nbval(tmp_path, change):
    """Edit one number in a stored chart (spec or SVG): nbval fails that cell and only that one."""
    root = Path(__file__).resolve().parents[1]
    notebook = tmp_path / "notebooks" / "01-quickstart.ipynb"
    notebook.parent.mkdir()
    shutil.copytree(root / "data", tmp_path / "data")
    nb = json.loads((root / "notebooks" / "01-quickstart.ipynb").read_text())
    changed = []
    for index, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        for out in cell["outputs"]:
            if VEGALITE in out.get("data", {}) and not changed:
                change(out["data"])
                changed.append(index)
    assert changed == [3]
    notebook.write_text(json.dumps(nb))
    run = _nbval(notebook, root)
    assert run.returncode == 1, run.stdout[-2000:]
    lines = run.stdout.splitlines()
    assert lines[-1].startswith("1 failed, 4 passed"), lines[-1]  # only the chart cell
    assert any("01-quickstart.ipynb::Cell 3" in line for line in lines if "FAILED" in line)


def test_the_unchanged_notebook_passes_nbval(tmp_path):
    """The control for the test above: the same copy, unedited, passes."""
    root = Path(__file__).resolve().parents[1]
    notebook = tmp_path / "notebooks" / "01-quickstart.ipynb"
    notebook.parent.mkdir()
    shutil.copytree(root / "data", tmp_path / "data")
    shutil.copy(root / "notebooks" / "01-quickstart.ipynb", notebook)
    run = _nbval(notebook, root)
    assert run.returncode == 0, run.stdout[-2000:]
    assert run.stdout.splitlines()[-1].startswith("5 passed")
