"""The Korean series (labs/ko/): one notebook for every English lab, with the very same code
cells (commands and what they print stay the same; nbval runs both series), every markdown
cell in Korean from labs/ko/text/, and nothing left out of date (issue 19)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

LABS = Path(__file__).resolve().parents[2] / "labs"
HANGUL = re.compile("[\uac00-\ud7a3]")


def _translate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("translate", LABS / "translate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


translate = _translate()
PAIRS = [(p, translate.KO / p.name) for p in translate.english()]


def test_every_lab_has_a_korean_notebook() -> None:
    assert PAIRS, "no English labs found"
    missing = [str(ko.relative_to(LABS)) for _, ko in PAIRS if not ko.exists()]
    assert not missing, f"no Korean notebook (labs/translate.py makes it): {missing}"


@pytest.mark.parametrize(("en", "ko"), PAIRS, ids=lambda p: p.name)
def test_code_cells_are_identical(en: Path, ko: Path) -> None:
    code = [
        [translate.source(c) for c in translate.load(p)["cells"] if c["cell_type"] == "code"]
        for p in (en, ko)
    ]
    assert code[0] == code[1], f"{ko.name}: its code cells differ from the English ones"


@pytest.mark.parametrize(("en", "ko"), PAIRS, ids=lambda p: p.name)
def test_the_prose_is_the_korean_of_the_english_of_today(en: Path, ko: Path) -> None:
    wanted, missing = translate.korean(en)
    assert not missing, f"{en.name}: markdown cells without Korean in labs/ko/text: {missing}"
    have = translate.load(ko)
    assert translate.same_but_outputs(have, wanted), f"{ko.name}: run labs/translate.py"
    for cell in have["cells"]:
        if cell["cell_type"] == "markdown":
            assert HANGUL.search(translate.source(cell)), translate.source(cell)[:80]
