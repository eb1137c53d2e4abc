"""How docker commands print what they found: ``--format`` templates, inspect documents and
one line per reference.

The docker CLI prints in three ways, all here so that every command prints alike:

- **Lists** (``ps``, ``network ls``) print a table by default; ``--format TEMPLATE`` runs a Go
  template once per row instead (:func:`print_formatted`). ``--format json`` is
  ``{{json .}}``, one JSON object per line, and ``--format 'table TEMPLATE'`` keeps the
  table: the header is the template with each ``{{.Field}}`` replaced by its column name
  (``{{.ID}}`` is ``CONTAINER ID`` for ``ps``, ``NETWORK ID`` for ``network ls``), and
  columns are the tab-separated parts, aligned as Docker aligns them.
- **Inspect** commands print a JSON array of the objects' API documents, indented by four
  spaces, or each object through ``--format`` (:func:`print_objects`).
- **Actions on several objects** (``docker stop a b``, ``docker network rm x y``) print each
  reference as it was typed once it is done, and the daemon's error for each that failed,
  going on with the rest; the exit status is 1 if any failed (:func:`each_ref`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from netlab.docker.context import Context
from netlab.docker.template import render
from netlab.errors import NetlabError
from netlab.model import inspect as inspect_view
from netlab.views import tables

if TYPE_CHECKING:
    from netlab.model.container import Container


def print_formatted(
    ctx: Context, fmt: str, rows: list[dict[str, Any]], headers: dict[str, str]
) -> int:
    """``--format``: a Go template per row; ``table TEMPLATE`` adds a header and columns."""

    if fmt == "json":
        fmt = "{{json .}}"
    if fmt.startswith("table"):
        body = fmt[5:].strip() or "{{.ID}}"
        body = body.replace("\\t", "\t")
        fields = re.findall(r"{{\s*\.(\w+)\s*}}", body)
        head = body
        for f in fields:
            head = re.sub(r"{{\s*\." + f + r"\s*}}", headers.get(f, f.upper()), head, count=1)
        cells = [head.split("\t")] + [render(body, r).split("\t") for r in rows]
        ctx.print(tables.table(cells[0], cells[1:]))
        return 0
    for r in rows:
        ctx.print(render(fmt, r))
    return 0


def print_objects(ctx: Context, objs: list[dict[str, Any]], fmt: str | None) -> None:
    """Inspect documents: a JSON array, or each object through the ``--format`` template."""
    if fmt:
        for o in objs:
            ctx.print(render(fmt, o))
    else:
        ctx.print(inspect_view.render(objs))


def each(
    ctx: Context, refs: list[str], action: Callable[[Container], None], *, cannot: str = ""
) -> int:
    """Apply ``action`` to each container, printing its reference as docker does."""
    return each_ref(ctx, refs, lambda ref: action(ctx.host.container(ref)), cannot=cannot)


def each_ref(
    ctx: Context, refs: list[str], action: Callable[[str], None], *, cannot: str = ""
) -> int:
    """Run ``action`` for each reference; print it when done, Docker's error when not
    (``cannot``: the verb of a daemon that says "cannot VERB container: REF: ...")."""
    code = 0
    for ref in refs:
        try:
            action(ref)
            ctx.print(ref)
        except NetlabError as exc:
            why = f"cannot {cannot} container: {ref}: " if cannot else ""
            ctx.eprint(f"Error response from daemon: {why}{exc}")
            code = 1
    return code


def all_together(
    ctx: Context,
    refs: list[str],
    act: Callable[[list[Container]], None],
    check: Callable[[str, Container], None] = lambda ref, c: None,
) -> int:
    """Look up (and ``check(ref, container)``) each reference in turn, with Docker's error
    for each that fails; then ``act`` on all the others at once (their kernel work batched,
    their waits shared) and print their references, as docker does for ``stop`` and ``rm``."""
    code, chosen = 0, []
    for ref in refs:
        try:
            c = ctx.host.container(ref)
            check(ref, c)
        except NetlabError as exc:
            ctx.eprint(f"Error response from daemon: {exc}")
            code = 1
            continue
        chosen.append((ref, c))
    act([c for _, c in chosen])
    for ref, _ in chosen:
        ctx.print(ref)
    return code
