"""Make the Korean series, labs/ko/, from the English labs and their Korean prose.

    .venv/bin/python labs/translate.py          # write labs/ko/NN-*.ipynb
    .venv/bin/python labs/translate.py --check  # say what is out of date (exit status 1 if any)

Each English notebook labs/NN-name.ipynb has a file labs/ko/text/NN-name.json with the Korean
of each markdown cell, keyed by the cell's exact English text:

    {"notebook": "NN-name.ipynb", "cells": [{"en": "...", "ko": "..."}, ...]}

A Korean notebook is the English one with every markdown cell replaced by its Korean: code
cells, and so commands and outputs, are the same (tests/unit/test_korean_labs.py fails
otherwise, and nbval runs both series). An English cell that changed has no Korean any more:
this script names it, and writes nothing until it has one. Outputs come from the English
notebook, except where the Korean notebook has a code cell with the same source at the same
place already (its outputs are kept: a change of prose needs no new run); the exercises'
messages are Korean once the notebook runs in labs/ko (a kernel starts in its notebook's
folder, see netlab/notebook/exercise.py), so run the ones it names after writing:

    cd labs/ko && ../../.venv/bin/jupyter nbconvert --to notebook --execute --inplace NN-*.ipynb
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

LABS = Path(__file__).resolve().parent
KO = LABS / "ko"


def english() -> list[Path]:
    return sorted(LABS.glob("[0-9][0-9]-*.ipynb"))


def load(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def source(cell: dict[str, Any]) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else str(src)


def lines(text: str) -> list[str]:
    """A cell's source as a notebook stores it: lines that keep their newline."""
    return text.splitlines(keepends=True)


def korean(en_path: Path) -> tuple[dict[str, Any], list[str]]:
    """The Korean notebook for one English one, and the English markdown cells that have no
    Korean text yet (the notebook is only usable when there are none)."""
    nb = copy.deepcopy(load(en_path))
    text_file = KO / "text" / f"{en_path.stem}.json"
    pairs = load(text_file)["cells"] if text_file.exists() else []
    table = {p["en"]: p["ko"] for p in pairs}
    missing = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        en = source(cell)
        if en in table:
            cell["source"] = lines(table[en])
        else:
            missing.append(en)
    return nb, missing


def dump(nb: dict[str, Any]) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for en_path in english():
        nb, missing = korean(en_path)
        out = KO / en_path.name
        if missing:
            first = missing[0].strip().splitlines()[0][:70]
            print(f"{out.relative_to(LABS)}: {len(missing)} cell(s) without Korean, from {first!r}")
            stale.append(out)
            continue
        current = load(out) if out.exists() else None
        if current is not None and same_but_outputs(current, nb):
            continue
        if check:
            print(f"{out.relative_to(LABS)}: out of date (run labs/translate.py)")
            stale.append(out)
            continue
        kept = keep_outputs(current, nb) if current is not None else False
        out.write_text(dump(nb), encoding="utf-8")
        more = "" if kept else " (run it in labs/ko for its outputs)"
        print(f"{out.relative_to(LABS)}: written{more}")
    return 1 if stale else 0


def keep_outputs(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Give ``new``'s code cells the outputs ``old`` has for the same source at the same
    place; True if every code cell got them (only the prose changed)."""
    old_code = [c for c in old["cells"] if c["cell_type"] == "code"]
    new_code = [c for c in new["cells"] if c["cell_type"] == "code"]
    every = len(old_code) == len(new_code)
    for o, n in zip(old_code, new_code, strict=False):
        if source(o) == source(n):
            n["outputs"], n["execution_count"] = o["outputs"], o["execution_count"]
        else:
            every = False
    return every


def same_but_outputs(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True if two notebooks have the same cells (kind and source), whatever their outputs."""
    ca, cb = a["cells"], b["cells"]
    if len(ca) != len(cb):
        return False
    pairs = zip(ca, cb, strict=True)
    return all(x["cell_type"] == y["cell_type"] and source(x) == source(y) for x, y in pairs)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
