"""Container logs as Docker's json-file driver keeps them: capped, rotated, never unbounded.

A container's stdout and stderr go through a pipe to a small writer (part of its init, see
:data:`netlab.kernel.containers.CONTAINER_SHIM`) that appends them to ``logs/<id>.log`` in
the lab's folder and, when the file reaches ``max-size``, rotates it as json-file does:
``<id>.log`` becomes ``<id>.log.1``, ``.1`` becomes ``.2``, ... and the oldest beyond
``max-file`` goes. When the writer falls behind, the container waits (the pipe is full), as
it does on Docker.

``docker run --log-opt max-size=1m --log-opt max-file=3`` sets the limits (Docker's keys,
sizes and messages; ``docker inspect`` shows them under ``HostConfig.LogConfig``). Without
them Docker keeps logs without a limit; netlab, whose state lives in memory, keeps
:data:`DEFAULT_MAX_SIZE` bytes in :data:`DEFAULT_MAX_FILE` files (a difference the README
lists). Each lab's logs live on a file system of their own, :data:`LAB_LOG_SPACE` in size,
so a lab's chatty containers cannot fill the space other labs (or its own state) need: when
it is full, output is dropped and the containers go on, as on a Docker host with a full disk.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from netlab.errors import InvalidArgument

DEFAULT_MAX_SIZE = 10_000_000  # bytes (Docker: unlimited)
DEFAULT_MAX_FILE = 2
LAB_LOG_SPACE = "256m"  # tmpfs size of a lab's logs folder
# json-file's options (moby v28.5.2 daemon/logger/jsonfilelog/jsonfilelog.go ValidateLogOpt);
# those after "compress" name what each log line carries, which ``docker logs`` never shows
KNOWN_OPTS = (
    "max-size",
    "max-file",
    "compress",
    "labels",
    "labels-regex",
    "env",
    "env-regex",
    "tag",
)

_DECIMAL = {"k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4, "p": 1000**5}


@dataclass(frozen=True)
class Limits:
    """How much of a container's output is kept: ``max_file`` files of ``max_size`` bytes."""

    max_size: int = DEFAULT_MAX_SIZE
    max_file: int = DEFAULT_MAX_FILE


def from_human_size(text: str) -> int:
    """A size as Docker's ``units.FromHumanSize`` reads it (``10m`` = 10,000,000 bytes;
    ``k m g t p``, any case, with an optional ``b`` or ``ib``), with its error messages."""
    sep = max(text.rfind(c) for c in "01234567890. ")
    if sep == -1:
        raise InvalidArgument(f"invalid size: '{text}'")
    cut = sep if text[sep] == " " else sep + 1
    num, sfx = text[:cut], text[sep + 1 :]
    try:
        size = float(num) if "_" not in num else float("x")
    except ValueError:
        raise InvalidArgument(f'strconv.ParseFloat: parsing "{num}": invalid syntax') from None
    if size < 0:
        raise InvalidArgument(f"invalid size: '{text}'")
    if not sfx:
        return int(size)
    low = sfx.lower()
    ok = len(sfx) <= 3 and (
        low == "b" or (low[0] in _DECIMAL and (len(low) == 1 or low[1:] in ("b", "ib")))
    )
    if not ok:
        raise InvalidArgument(f"invalid suffix: '{sfx}'")
    return int(size if low == "b" else size * _DECIMAL[low[0]])


def limits(opts: Mapping[str, str]) -> Limits:
    """The limits ``--log-opt`` values set, checked as Docker's json-file driver checks them."""
    for key in opts:
        if key not in KNOWN_OPTS:
            raise InvalidArgument(f"unknown log opt '{key}' for json-file log driver")
    max_size, max_file = DEFAULT_MAX_SIZE, DEFAULT_MAX_FILE
    if "max-size" in opts:
        max_size = from_human_size(opts["max-size"])
        if max_size <= 0:
            raise InvalidArgument("max-size must be a positive number")
        max_file = 1  # (Docker's default once a size is given)
    if "max-file" in opts:
        text = opts["max-file"]
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise InvalidArgument(f'strconv.Atoi: parsing "{text}": invalid syntax')
        max_file = int(text)
        if max_file < 1:
            raise InvalidArgument("max-file cannot be less than 1")
    if "compress" in opts:
        compress = opts["compress"].lower()
        if compress not in ("1", "t", "true", "0", "f", "false"):
            raise InvalidArgument(
                f'strconv.ParseBool: parsing "{opts["compress"]}": invalid syntax'
            )
        if compress in ("1", "t", "true") and (max_file == 1 or "max-size" not in opts):
            raise InvalidArgument(
                "compress cannot be true when max-file is less than 2 or max-size is not set"
            )
    return Limits(max_size, max_file)


def parse_opts(values: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``--log-opt KEY=VALUE`` flags as a map (a value without ``=`` is a key with no value,
    as the docker CLI takes it)."""
    out = {}
    for v in values:
        key, _, value = v.partition("=")
        out[key] = value
    return out


def files(log_file: str, max_file: int) -> list[str]:
    """A log's files that exist, oldest first (``.log.N`` ... ``.log.1``, ``.log``)."""
    names = [f"{log_file}.{i}" for i in range(max(max_file, 1) - 1, 0, -1)] + [log_file]
    return [n for n in names if os.path.exists(n)]


def read(log_file: str, max_file: int) -> str:
    """Everything a container's log still holds, oldest first (``docker logs``)."""
    parts = []
    for name in files(log_file, max_file):
        with contextlib.suppress(FileNotFoundError), open(name, errors="replace") as f:
            parts.append(f.read())
    return "".join(parts)
