"""Every lab exercise's check, proven on a real lab: it fails on the placeholder answer the
notebook ships with, and passes once the exercise's solution is carried out (issue 19).

Each lab notebook runs as a student would run it, top to bottom, with two cells added after
the first ``%netlab check N`` of each exercise: the solution (``Exercise.solve``: the
solution's commands, or the answer read from the kernel), then ``%netlab check N`` again."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from netlab.notebook.exercises import ALL

LABS = Path(__file__).resolve().parents[2] / "labs"
CHECK = re.compile(r"^%netlab check (\d+)\s*$")


def _notebooks() -> list[Path]:
    return sorted(LABS.glob("0*.ipynb"))


WITH_EXERCISES = [p for p in _notebooks() if "%netlab check" in p.read_text()]


def _checks(nb: Any) -> list[tuple[int, int]]:
    """(cell index, exercise number) of every ``%netlab check N`` cell."""
    return [
        (i, int(m.group(1)))
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (m := CHECK.match(c.source.strip()))
    ]


def test_every_exercise_has_a_check_cell_in_its_lab() -> None:
    found = set()
    for path in WITH_EXERCISES:
        nb = nbformat.read(path, as_version=4)
        found |= {(_lab_of(nb), n) for _, n in _checks(nb)}
    assert found == {(e.lab, e.number) for e in ALL}


def _lab_of(nb: Any) -> str:
    m = re.search(r'Lab\("(lab\d+)"', "".join(c.source for c in nb.cells))
    assert m, 'a lab notebook builds its lab with Lab("labN")'
    return m.group(1)


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_each_check_fails_on_the_placeholder_and_passes_on_the_solution(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    lab = _lab_of(nb)
    solved = copy.deepcopy(nb)
    for c in solved.cells:
        if c.cell_type == "code":
            c.outputs = []
    firsts: dict[int, int] = {}  # exercise -> index of its first check cell
    for i, n in _checks(nb):
        firsts.setdefault(n, i)
    for n, i in firsts.items():
        solved.cells[i].metadata["netlab_test"] = f"placeholder {n}"
    # Insert from the bottom up, so that the indexes above stay right.
    for n, i in sorted(firsts.items(), key=lambda kv: -kv[1]):
        exercise = next(e for e in ALL if e.lab == lab and e.number == n)
        again = nbformat.v4.new_code_cell(f"%netlab check {n}")
        again.metadata["netlab_test"] = f"solved {n}"
        solved.cells[i + 1 : i + 1] = [nbformat.v4.new_code_cell(exercise.solve), again]
    # Run where the notebook lives (the kernel's language is the folder's, English here).
    env_lang = os.environ.pop("NETLAB_LANG", None)
    try:
        NotebookClient(
            solved, timeout=180, kernel_name="python3", resources={"metadata": {"path": LABS}}
        ).execute()
    finally:
        if env_lang is not None:
            os.environ["NETLAB_LANG"] = env_lang

    said = {
        # (a check shows its verdict as Markdown, with the same words as plain text)
        c.metadata["netlab_test"]: "".join(
            o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in c.outputs
        )
        for c in solved.cells
        if "netlab_test" in c.metadata
    }
    for n in firsts:
        assert said[f"placeholder {n}"].startswith("Not yet: "), said
        assert said[f"solved {n}"].startswith("Right: "), said
