"""The labs' exercises, one module per lab (see :mod:`netlab.notebook.exercise`), and the
``%netlab check|hint|solution N`` commands that run them."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from netlab.errors import NetlabError, one_line
from netlab.model.state import removed_message
from netlab.notebook.exercise import MORE_HELP, Exercise, Text
from netlab.notebook.exercises import lab01, lab02, lab03, lab04, lab05, lab06, lab07

ALL: list[Exercise] = [
    *lab01.EXERCISES,
    *lab02.EXERCISES,
    *lab03.EXERCISES,
    *lab04.EXERCISES,
    *lab05.EXERCISES,
    *lab06.EXERCISES,
    *lab07.EXERCISES,
]
COMMANDS = ("check", "hint", "solution")

NO_LAB = Text(
    en="no lab in this notebook yet: run its first code cell (it makes `lab`), then this one.",
    ko="이 노트북에는 아직 실습 환경이 없습니다. 첫 번째 코드 셀(`lab`을 만드는 셀)을 실행한 "
    "뒤 이 셀을 실행하세요.",
)
NO_SUCH = Text(
    en="{lab} has no exercise {n} (its exercises: {numbers}).",
    ko="{lab}에는 {n}번 연습 문제가 없습니다({lab}의 연습 문제: {numbers}).",
)
USAGE = "usage: %netlab check|hint|solution N  (N: the exercise's number in this lab)"


def show(text: str) -> None:
    """Say ``text`` as Markdown in a notebook (its `code` and **bold** rendered, lines
    wrapped at words), as plain text elsewhere; nbval compares the plain text."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # (no IPython: a script)
        print(text)
        return
    if get_ipython() is None:
        print(text)
    else:
        display({"text/markdown": text, "text/plain": text}, raw=True)  # type: ignore[no-untyped-call]


def find(lab: str, number: int) -> Exercise:
    """The exercise NUMBER of the lab named LAB ("lab1")."""
    mine = [e for e in ALL if e.lab == lab]
    for e in mine:
        if e.number == number:
            return e
    numbers = ", ".join(str(e.number) for e in mine) or "-"
    raise NetlabError(NO_SUCH.say(lab=lab, n=number, numbers=numbers))


def command(argv: list[str], names: Mapping[str, Any]) -> None:
    """``%netlab check N`` / ``hint N`` / ``solution N``, with the notebook's variables."""
    if len(argv) != 2 or argv[0] not in COMMANDS or not argv[1].isdigit():
        sys.stderr.write(USAGE + "\n")
        return
    lab = names.get("lab")
    if lab is None or not hasattr(lab, "name"):
        sys.stderr.write(f"netlab: {NO_LAB.say()}\n")
        return
    try:
        exercise = find(lab.name, int(argv[1]))
        if not getattr(lab, "is_up", True):
            raise NetlabError(removed_message(lab.name))
        facts = exercise.facts(lab) if exercise.facts else {}
        if argv[0] == "hint":
            show(exercise.hint.say(**facts))
        elif argv[0] == "solution":
            show(exercise.solution.say(**facts))
        else:
            verdict = exercise.check(lab, names)
            show(verdict.text if verdict.right else f"{verdict.text}\n\n{MORE_HELP.say(n=argv[1])}")
    except NetlabError as exc:
        sys.stderr.write(f"netlab: {exc}\n")
    except Exception as exc:  # (a lab half gone, a bug: one line, never a traceback)
        sys.stderr.write(f"netlab: {one_line(exc)}\n")
