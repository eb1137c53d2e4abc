"""How long the lab series takes to run, notebook by notebook, in each language.

Runs every notebook of labs/ (and labs/ko/) top to bottom with nbclient, as nbval and a
student's "Run All" do, in its own folder, and prints the seconds each took, the series'
total, and its ratio to the target: a series well under a minute (issue 19), so that a class
spends its time on the labs, not waiting for cells. Not a timed test: a slow CI machine
would make such a test fail for nothing.

Run as root:  .venv/bin/python bench/bench_series.py [--lang en,ko] [--repeat 1]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

LABS = Path(__file__).resolve().parents[1] / "labs"
TARGET = 60.0  # seconds for the whole series


def run(path: Path) -> float:
    """Seconds to execute one notebook, from starting its kernel to its last cell."""
    nb = nbformat.read(path, as_version=4)
    start = time.monotonic()
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", default="en,ko", help="series to run: en, ko or both")
    parser.add_argument("--repeat", type=int, default=1, help="runs per notebook (median)")
    args = parser.parse_args()
    folders = {"en": LABS, "ko": LABS / "ko"}
    for lang in args.lang.split(","):
        notebooks = sorted(folders[lang].glob("[0-9][0-9]-*.ipynb"))
        print(f"series {lang} ({len(notebooks)} notebooks, median of {args.repeat}):")
        total = 0.0
        for nb in notebooks:
            seconds = statistics.median(run(nb) for _ in range(args.repeat))
            total += seconds
            print(f"  {nb.stem:28s} {seconds:6.1f} s")
        print(
            f"  {'total':28s} {total:6.1f} s   ratio to the {TARGET:.0f} s target: "
            f"{total / TARGET:.2f}"
        )


if __name__ == "__main__":
    main()
