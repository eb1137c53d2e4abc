"""A student's own copy of the labs, so that running them never changes the originals.

JupyterLab saves a notebook over the file it opened. Served straight from the checkout's
``labs/``, every run would leave the tracked notebooks modified (a teacher's ``git pull``
then conflicts) and one student's outputs in the next student's notebooks. So ``./run.sh
labs`` and the hub serve a **working copy** (``~/netlab-labs`` unless ``$NETLAB_LABS`` says
otherwise):

* :func:`ensure` makes it on first start: into a fresh folder, then renamed, so that nobody
  ever sees half a copy. Later starts never overwrite a file there; they only add notebooks
  that are new in the originals (a teacher who adds lab 08 on Tuesday).
* :func:`reset` gives back one original notebook (``netlab labs reset 03``, ``reset ko/03``
  for the Korean series in ``ko/``); the student's version is kept in ``before-reset/`` next
  to it, with the time of the reset in its name.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import time
from dataclasses import dataclass, field

from netlab.errors import InvalidArgument, NotFound

# The originals, when netlab runs from a checkout (or an editable install of one).
CHECKOUT_LABS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "labs")
DEFAULT_NAME = "netlab-labs"  # in the user's home
BACKUPS = "before-reset"
# What the students' copy leaves out: the tests' output sanitizer, the translation tool and
# its texts (labs/translate.py, labs/ko/text), hidden and cached files.
SKIPPED = shutil.ignore_patterns(
    ".*", "__pycache__", "*.pyc", "sanitize.cfg", "translate.py", "text"
)


@dataclass
class Copied:
    """What :func:`ensure` did: the copy's path, whether it made it now, what it added."""

    path: str
    made: bool
    added: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if self.made:
            return f"your copy of the labs: {self.path} (made now; the originals stay as they are)"
        if self.added:
            return f"your copy of the labs: {self.path} (new there: {', '.join(self.added)})"
        return f"your copy of the labs: {self.path}"


def source(given: str | None = None) -> str:
    """The folder of the original labs: ``given``, ``$NETLAB_LABS_SOURCE``, or the
    checkout's ``labs/``."""
    src = given or os.environ.get("NETLAB_LABS_SOURCE") or CHECKOUT_LABS
    if not os.path.isdir(src):
        raise NotFound(
            f"no labs at {src}: give the folder of the original notebooks with --from "
            "(or NETLAB_LABS_SOURCE)"
        )
    return os.path.abspath(src)


def destination(given: str | None = None) -> str:
    """The working copy's folder: ``given``, ``$NETLAB_LABS``, or ``~/netlab-labs``."""
    home = os.path.expanduser("~")
    dest = given or os.environ.get("NETLAB_LABS") or os.path.join(home, DEFAULT_NAME)
    return os.path.abspath(dest)


def ensure(dest: str | None = None, src: str | None = None) -> Copied:
    """Make the working copy if there is none; otherwise add what is new in the originals.
    Never overwrites a file of the copy."""
    src, dest = source(src), destination(dest)
    if _inside(dest, src):
        raise InvalidArgument(f"the copy ({dest}) cannot be inside the originals ({src})")
    if not os.path.lexists(dest):
        tmp = f"{dest}.copying-{os.getpid()}"
        shutil.copytree(src, tmp, ignore=SKIPPED, copy_function=shutil.copy)
        try:
            os.rename(tmp, dest)  # (fails if another start made it meanwhile: theirs stays)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not os.path.isdir(dest):
                raise
        else:
            return Copied(dest, True)
    if not os.path.isdir(dest):
        raise InvalidArgument(f"{dest} is there and is not a folder: move it, or give --to DIR")
    added = []
    for folder, dirs, files in os.walk(src):
        ignored = SKIPPED(folder, dirs + files)
        dirs[:] = sorted(d for d in dirs if d not in ignored)
        inside = os.path.relpath(folder, src)
        for name in sorted(f for f in files if f not in ignored):
            rel = os.path.normpath(os.path.join(inside, name))
            here = os.path.join(dest, rel)
            if os.path.lexists(here):
                continue
            os.makedirs(os.path.dirname(here), exist_ok=True)
            shutil.copy(os.path.join(folder, name), here)
            added.append(rel)
    return Copied(dest, False, added)


def original(which: str, src: str | None = None) -> str:
    """The original notebook that ``which`` names: its number (``3``, ``03``), its file
    name, or the start of it (``03-ping``); ``ko/03`` for one of the Korean series."""
    src = source(src)
    series, _, want = which.strip().rpartition("/")
    if series:
        found_series = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
        if series not in found_series:
            raise InvalidArgument(f"no series {series!r} of labs in {src} (there: {found_series})")
        src = os.path.join(src, series)
    notebooks = sorted(n for n in os.listdir(src) if n.endswith(".ipynb"))
    if want.isdigit():
        want = f"{int(want):02d}-"
    found = [n for n in notebooks if n == want or n.startswith(want)]
    if not found:
        listed = ", ".join(n.split("-", 1)[0] for n in notebooks)
        raise InvalidArgument(f"no lab {which!r} in {src}: the labs are {listed}")
    if len(found) > 1:
        raise InvalidArgument(f"{which!r} names several labs ({', '.join(found)}): say which")
    return os.path.join(src, found[0])


def reset(which: str, dest: str | None = None, src: str | None = None) -> tuple[str, str | None]:
    """Put the original of one notebook back into the working copy. Returns its path there,
    and where the student's version went (None if there was none, or it was unchanged)."""
    first = original(which, src)
    dest = ensure(dest, src).path
    mine = os.path.join(dest, os.path.relpath(first, source(src)))
    kept = None
    if os.path.lexists(mine) and not (os.path.isfile(mine) and filecmp.cmp(first, mine, False)):
        os.makedirs(os.path.join(dest, BACKUPS), exist_ok=True)
        stem = os.path.relpath(mine, dest).removesuffix(".ipynb").replace(os.sep, "-")
        kept = os.path.join(dest, BACKUPS, f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}.ipynb")
        os.replace(mine, kept)
    shutil.copy(first, mine)
    return mine, kept


def _inside(path: str, folder: str) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder + os.sep)
