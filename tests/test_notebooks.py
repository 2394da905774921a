"""Every notebook in notebooks/ runs top to bottom (executed, not just parsed)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    # run from a scratch directory so notebooks cannot litter the repository
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    # what a notebook writes goes into output/ beside it, which .gitignore lists
    assert {p.name for p in tmp_path.iterdir()} <= {"output"}


def test_notebook_output_folder_is_ignored_by_git():
    import subprocess

    repo = Path(__file__).resolve().parent.parent
    probe = "notebooks/output/comparison/report.html"
    proc = subprocess.run(["git", "check-ignore", "-q", probe], cwd=repo, capture_output=True)
    if proc.returncode == 128:
        pytest.skip("not a git checkout")
    assert proc.returncode == 0, f"{probe} is not ignored by git"


def test_there_are_notebooks():
    assert any(p.name.startswith("01_") for p in NOTEBOOKS)
