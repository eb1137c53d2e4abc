"""The exercises' words: every message has its English and Korean wording, with the same
``{fields}`` and the same `code` spans (commands are never translated); the language follows
NETLAB_LANG or the notebook's folder; ``%netlab hint|solution|check`` say the right thing."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path
from types import SimpleNamespace

import pytest

from netlab.notebook import exercise, exercises

SOURCES = [
    *sorted(Path(exercises.__file__).parent.glob("*.py")),
    Path(exercise.__file__),
    Path(exercise.__file__).parent / "widgets.py",  # (the explorer's words)
]
CODE = re.compile(r"`[^`]+`")


def _texts() -> list[tuple[str, str, str]]:
    """(where, English, Korean) of every ``Text(en=..., ko=...)`` in the sources."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Text":
                words = {k.arg: k.value for k in node.keywords}
                assert set(words) == {"en", "ko"}, f"{path.name}:{node.lineno}"
                en, ko = words["en"], words["ko"]
                assert isinstance(en, ast.Constant) and isinstance(ko, ast.Constant)
                found.append((f"{path.name}:{node.lineno}", en.value, ko.value))
    return found


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_there_are_texts_to_check() -> None:
    assert len(_texts()) > 40


@pytest.mark.parametrize(("where", "en", "ko"), _texts(), ids=lambda v: str(v)[:30])
def test_both_languages_have_the_same_fields_and_commands(where: str, en: str, ko: str) -> None:
    assert (ko.strip() and ko != en) or CODE.fullmatch(en), where  # (a bare command needs none)
    assert _fields(en) == _fields(ko), where
    assert sorted(CODE.findall(en)) == sorted(CODE.findall(ko)), where


def test_the_language_follows_netlab_lang_then_the_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("NETLAB_LANG", raising=False)
    (tmp_path / "ko").mkdir()
    monkeypatch.chdir(tmp_path)
    assert exercise.language() == "en"
    monkeypatch.chdir(tmp_path / "ko")
    assert exercise.language() == "ko"
    monkeypatch.setenv("NETLAB_LANG", "en")
    assert exercise.language() == "en"


def test_hint_and_solution_in_each_language(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = SimpleNamespace(name="lab2")
    monkeypatch.setenv("NETLAB_LANG", "en")
    exercises.command(["hint", "1"], {"lab": lab})
    hint = capsys.readouterr().out
    assert hint.startswith("Docker builds a container's MAC") and "02:42:ac" not in hint
    exercises.command(["solution", "1"], {"lab": lab})
    assert 'answer = "02:42:ac:12:00:03"' in capsys.readouterr().out
    monkeypatch.setenv("NETLAB_LANG", "ko")
    exercises.command(["hint", "1"], {"lab": lab})
    assert "16진수" in capsys.readouterr().out


def test_wrong_use_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NETLAB_LANG", "en")
    exercises.command(["check", "9"], {"lab": SimpleNamespace(name="lab2")})
    assert capsys.readouterr().err == "netlab: lab2 has no exercise 9 (its exercises: 1).\n"
    exercises.command(["check", "1"], {})
    assert capsys.readouterr().err.startswith("netlab: no lab in this notebook yet")
    exercises.command(["check"], {})
    assert capsys.readouterr().err.startswith("usage: %netlab check|hint|solution N")
