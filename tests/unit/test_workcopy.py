"""A student's own copy of the labs (netlab/workcopy.py, `netlab labs`): made once, never
overwritten, completed with new notebooks, one notebook given back on request."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

from netlab import workcopy
from netlab.errors import InvalidArgument, NotFound


@pytest.fixture
def originals(tmp_path: pathlib.Path) -> pathlib.Path:
    src = tmp_path / "labs"
    src.mkdir()
    for name in ("00-before-you-start.ipynb", "01-default-bridge.ipynb", "03-ping.ipynb"):
        (src / name).write_text(f'{{"original": "{name}"}}')
    (src / "README.md").write_text("the labs\n")
    (src / "sanitize.cfg").write_text("[regex1]\n")  # (the tests', not the students')
    (src / ".ipynb_checkpoints").mkdir()
    (src / "translate.py").write_text("# makes ko/ (the developers')\n")
    (src / "ko" / "text").mkdir(parents=True)
    (src / "ko" / "text" / "03-ping.json").write_text("{}")  # (translate.py's input)
    (src / "ko" / "03-ping.ipynb").write_text('{"original": "ko 03"}')
    return src


def test_the_copy_is_made_once_and_never_overwritten(
    originals: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    dest = tmp_path / "home" / "netlab-labs"
    dest.parent.mkdir()
    made = workcopy.ensure(str(dest), str(originals))
    assert made.made and made.path == str(dest) and "made now" in str(made)
    assert sorted(os.listdir(dest)) == [
        "00-before-you-start.ipynb",
        "01-default-bridge.ipynb",
        "03-ping.ipynb",
        "README.md",
        "ko",
    ]
    assert os.listdir(dest / "ko") == ["03-ping.ipynb"]  # (the Korean series, not its texts)
    assert not [n for n in os.listdir(dest.parent) if ".copying-" in n]
    (dest / "03-ping.ipynb").write_text("my work")
    (dest / "01-default-bridge.ipynb").unlink()  # (a student removed one: it comes back)
    (originals / "04-port-publishing.ipynb").write_text("{}")  # (the teacher adds a lab)
    (originals / "ko" / "04-port-publishing.ipynb").write_text("{}")  # (in both languages)
    again = workcopy.ensure(str(dest), str(originals))
    assert not again.made
    assert again.added == [
        "01-default-bridge.ipynb",
        "04-port-publishing.ipynb",
        "ko/04-port-publishing.ipynb",
    ]
    assert (dest / "03-ping.ipynb").read_text() == "my work"
    assert workcopy.ensure(str(dest), str(originals)).added == []


def test_reset_gives_one_notebook_back_and_keeps_the_student_s(
    originals: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    dest = tmp_path / "copy"
    workcopy.ensure(str(dest), str(originals))
    (dest / "03-ping.ipynb").write_text("my work")
    (dest / "00-before-you-start.ipynb").write_text("other work")
    path, kept = workcopy.reset("3", str(dest), str(originals))
    assert path == str(dest / "03-ping.ipynb")
    assert (dest / "03-ping.ipynb").read_text() == (originals / "03-ping.ipynb").read_text()
    assert kept is not None and os.path.dirname(kept) == str(dest / workcopy.BACKUPS)
    assert pathlib.Path(kept).read_text() == "my work"
    assert (dest / "00-before-you-start.ipynb").read_text() == "other work"  # (only that one)
    assert workcopy.reset("03-ping", str(dest), str(originals))[1] is None  # (unchanged)
    assert workcopy.reset("0", str(dest), str(originals))[0].endswith("00-before-you-start.ipynb")
    for bad, words in (("9", "no lab '9'.*: the labs are 00, 01, 03"), ("ping", "no lab 'ping'")):
        with pytest.raises(InvalidArgument, match=words):
            workcopy.reset(bad, str(dest), str(originals))
    (dest / "ko" / "03-ping.ipynb").write_text("내 작업")
    path, kept = workcopy.reset("ko/03", str(dest), str(originals))
    assert path == str(dest / "ko" / "03-ping.ipynb") and "ko 03" in pathlib.Path(path).read_text()
    assert kept and os.path.basename(kept).startswith("ko-03-ping-")
    assert (dest / "03-ping.ipynb").read_text() == (originals / "03-ping.ipynb").read_text()
    with pytest.raises(InvalidArgument, match="no series 'fr'"):
        workcopy.reset("fr/03", str(dest), str(originals))
    (originals / "03-pong.ipynb").write_text("{}")
    with pytest.raises(InvalidArgument, match="names several labs"):
        workcopy.reset("03", str(dest), str(originals))


def test_bad_places_are_clear_errors_that_make_nothing(
    originals: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    with pytest.raises(NotFound, match=r"no labs at .*--from"):
        workcopy.ensure(str(tmp_path / "copy"), str(tmp_path / "nowhere"))
    with pytest.raises(InvalidArgument, match="cannot be inside the originals"):
        workcopy.ensure(str(originals / "mine"), str(originals))
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InvalidArgument, match="is not a folder"):
        workcopy.ensure(str(tmp_path / "afile"), str(originals))
    assert sorted(os.listdir(tmp_path)) == ["afile", "labs"]


def test_netlab_labs_command(originals: pathlib.Path, tmp_path: pathlib.Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "NETLAB_LABS_SOURCE": str(originals),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }

    def netlab(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "netlab", "labs", *args]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)

    where = netlab("where")
    assert (where.returncode, where.stdout) == (0, f"{tmp_path}/netlab-labs\n")
    (tmp_path / "netlab-labs" / "01-default-bridge.ipynb").write_text("mine")
    out = netlab("reset", "01")
    assert out.returncode == 0 and "yours is now" in out.stdout and "before-reset/" in out.stdout
    out = netlab("reset")
    assert (
        out.returncode == 1
        and out.stderr == "netlab: which notebook? netlab labs reset NN (e.g. 03)\n"
    )
    env["NETLAB_LABS"] = str(tmp_path / "elsewhere")
    assert netlab().stdout.startswith(f"your copy of the labs: {tmp_path}/elsewhere (made now")
