"""Self-checking exercises: what an exercise is, and the words it says in each language.

A lab's exercise, in the notebook, is a task in the text, maybe an ``answer = None`` cell, and
a ``%netlab check N`` cell; ``%netlab hint N`` leads the way without giving the answer away,
``%netlab solution N`` shows it. The checks live in :mod:`netlab.notebook.exercises`, one
module per lab, so that the English and the Korean notebooks run the very same code cells
and a test can prove each check: it fails on the placeholder and passes on the solution.

A check reads the lab's real state, never the student's string alone: the MAC in the kernel,
the rule in the ruleset, the page a ``curl`` from the LAN client gets.

Every message exists in English and Korean. The language is ``NETLAB_LANG`` if set, else
Korean for a notebook in a folder named ``ko`` (a kernel starts in its notebook's folder:
labs/ko, or ``ko`` in a student's copy), else English.
"""

from __future__ import annotations

import os
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netlab.model.lab import Lab

LANGUAGES = ("en", "ko")


def language() -> str:
    """``en`` or ``ko``: see the module's docstring."""
    chosen = os.environ.get("NETLAB_LANG", "")
    if chosen in LANGUAGES:
        return chosen
    return "ko" if os.path.basename(os.getcwd()) == "ko" else "en"


@dataclass(frozen=True)
class Text:
    """One message, in every language; ``{name}`` fields are filled in when it is said."""

    en: str
    ko: str

    def say(self, **values: object) -> str:
        return str(getattr(self, language())).format(**values)

    def fields(self, lang: str) -> set[str]:
        """The ``{name}`` fields of one language's wording (a test checks they agree)."""
        return {f for _, f, _, _ in string.Formatter().parse(getattr(self, lang)) if f}


@dataclass(frozen=True)
class Verdict:
    """What a check found: right or not (yet), and why, in the student's language."""

    right: bool
    text: str


RIGHT = Text(en="Right: ", ko="정답입니다. ")
NOT_YET = Text(en="Not yet: ", ko="아직입니다. ")
HALFWAY = Text(en="Halfway: ", ko="절반 왔습니다. ")
MORE_HELP = Text(
    en="(`%netlab hint {n}` gives a hint, `%netlab solution {n}` the solution.)",
    ko="(힌트: `%netlab hint {n}`, 풀이: `%netlab solution {n}`)",
)
NO_ANSWER = Text(
    en="`answer` is still None: put your answer in the `answer = None` cell above, run that "
    "cell, then this check again.",
    ko="`answer`가 None 그대로입니다. 위쪽의 `answer = None` 셀에 답을 넣어 실행한 뒤, 이 "
    "확인 셀을 다시 실행하세요.",
)


def right(text: Text, **values: object) -> Verdict:
    return Verdict(True, RIGHT.say() + text.say(**values))


def not_yet(text: Text, **values: object) -> Verdict:
    return Verdict(False, NOT_YET.say() + text.say(**values))


def halfway(text: Text, **values: object) -> Verdict:
    """Not right yet, but the first part of the exercise is: say so, then what is left."""
    return Verdict(False, HALFWAY.say() + text.say(**values))


Check = Callable[["Lab", Mapping[str, Any]], Verdict]
Facts = Callable[["Lab"], dict[str, object]]


@dataclass(frozen=True)
class Exercise:
    """One exercise of one lab.

    ``check(lab, names)`` gets the lab and the notebook's variables (``answer``...).
    ``solve`` is IPython code that carries the solution out as a student would (the
    solution's commands, or ``answer = ...``): the tests run it, then the check must pass.
    ``facts(lab)``, if given, fills the hint's and the solution's ``{fields}`` from the lab
    (the real veth's name, not a made-up one).
    """

    lab: str  # the name of the lab the notebook builds: "lab1"
    number: int
    check: Check
    hint: Text
    solution: Text
    solve: str
    facts: Facts | None = None

    def texts(self) -> list[Text]:
        return [self.hint, self.solution]
