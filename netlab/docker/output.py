"""How docker commands print what they found: ``--format`` templates, inspect documents and
one line per reference.

The docker CLI prints in three ways, all here so that every command prints alike:

- **Lists** (``ps``, ``network ls``) print a table by default; ``--format TEMPLATE`` runs a Go
  template (:mod:`.template`) once per row instead (:func:`print_formatted`). ``--format
  json`` is ``{{json .}}``, one JSON object per line, and ``--format 'table TEMPLATE'`` keeps
  the table: the header is the template run on the column names (``{{.ID}}`` is ``CONTAINER
  ID`` for ``ps``, ``NETWORK ID`` for ``network ls``), and columns are the tab-separated
  parts, aligned as Docker aligns them. ``\\t`` and ``\\n`` in a list's format are a tab
  and a new line, as the docker CLI's formatter makes them.
- **Inspect** commands print a JSON array of the objects' API documents, indented by four
  spaces, or each object through ``--format`` (:func:`print_objects`; there ``\\t`` stays
  as typed, as docker leaves it).
- **Actions on several objects** (``docker stop a b``, ``docker network rm x y``) print each
  reference as it was typed once it is done, and the daemon's error for each that failed,
  going on with the rest; the exit status is 1 if any failed (:func:`each_ref`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from netlab.docker.context import Context
from netlab.docker.template import GoStruct, Template, TemplateError
from netlab.errors import NetlabError
from netlab.model import inspect as inspect_view

if TYPE_CHECKING:
    from netlab.model.container import Container


@dataclass(frozen=True)
class _ListKind:
    """What the docker CLI's formatter knows of a list command (found by its ID column's
    header): the Go type of a row, the default table, whether ``ps`` checks the template on an
    empty row before it lists anything (``cli/command/container/list.go``)."""

    go_type: str
    table: str
    checks_first: bool = False


_LISTS = {
    # cli/command/formatter/container.go (defaultContainerTableFormat, ContainerContext)
    "CONTAINER ID": _ListKind(
        "*formatter.ContainerContext",
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}"
        "\t{{.Names}}",
        checks_first=True,
    ),
    # cli/command/network/formatter.go (defaultNetworkTableFormat, networkContext)
    "NETWORK ID": _ListKind(
        "*network.networkContext", "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
    ),
}


def _parse(fmt: str, what: str) -> Template:
    """The template, or the CLI's error for it (``what``: the words docker puts first)."""
    try:
        return Template(fmt)
    except TemplateError as exc:
        raise TemplateError(f"{what}: {exc}") from None


def _run(tmpl: Template, data: Any, what: str, **options: Any) -> str:
    try:
        return tmpl.execute(data, **options)
    except TemplateError as exc:
        raise TemplateError(f"{what}: {exc}") from None


def print_formatted(
    ctx: Context, fmt: str, rows: list[dict[str, Any]], headers: dict[str, str]
) -> int:
    """``--format``: a Go template per row; ``table TEMPLATE`` adds a header and columns.

    As the docker CLI's formatter does it (``cli/command/formatter/formatter.go``): ``table``
    alone is the command's default table and ``json`` is ``{{json .}}``; the ``table`` word and
    the spaces around the template go, and ``\\t``/``\\n`` become a tab and a new line. Every
    row is run before anything prints, so a template that fails prints nothing but Docker's
    error. A table's header is the template run on the column names, with Docker's header
    functions (``{{upper .Name}}`` stays ``NAME``); the columns are aligned as Docker's
    tabwriter aligns them.
    """
    kind = _LISTS.get(headers.get("ID", ""), _ListKind("*formatter.Context", "table {{.ID}}"))
    if kind.checks_first:
        tmpl = _parse(fmt, "failed to parse template")
        _run(tmpl, GoStruct(dict.fromkeys(headers, ""), kind.go_type), "failed to execute template")
    if fmt == "table":
        fmt = kind.table
    is_table = fmt.startswith("table")
    if is_table:
        fmt = fmt[len("table") :]
    elif fmt == "json":
        fmt = "{{json .}}"
    fmt = fmt.strip(" ").replace("\\t", "\t").replace("\\n", "\n")
    tmpl = _parse(fmt, "template parsing error")
    lines = [_run(tmpl, GoStruct(r, kind.go_type), "template parsing error") + "\n" for r in rows]
    if is_table:
        try:
            head = tmpl.execute(headers, header=True)
        except TemplateError as exc:  # (docker prints what the header printed, and no error)
            head = exc.output
        ctx.out.append(_tabwriter(head + "\n" + "".join(lines)))
    else:
        ctx.out += lines
    return 0


def _tabwriter(text: str) -> str:
    """Go's text/tabwriter as the docker CLI sets it (minimum width 10, padding 3): the cells of
    a column (tab-terminated, on consecutive lines) are as wide as its widest cell plus 3."""
    lines = [line.split("\t") for line in text.split("\n")]
    widths: list[int] = []
    out: list[str] = []

    def write(first: int, end: int) -> None:
        for i in range(first, end):
            cells = lines[i]
            out.append(
                "".join(c.ljust(widths[j]) if j < len(widths) else c for j, c in enumerate(cells))
            )
            out.append("\n" if i + 1 < len(lines) else "")

    def block(first: int, end: int) -> None:
        column, this = len(widths), first
        while this < end:
            if column >= len(lines[this]) - 1:  # (a line's last cell is no column's)
                this += 1
                continue
            write(first, this)
            first, width = this, 10
            while this < end and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + 3)
                this += 1
            widths.append(width)
            block(first, this)
            widths.pop()
            first = this
        write(first, end)

    block(0, len(lines))
    return "".join(out)


def print_objects(ctx: Context, objs: list[dict[str, Any]], fmt: str | None) -> None:
    """Inspect documents: a JSON array, or each object through the ``--format`` template.

    As ``cli/command/inspect/inspector.go`` does it: ``json`` is the array on one line; a
    template that does not parse is ``template parsing error: ...`` with exit status 64, before
    anything prints; one that fails on an object prints that object's error after the others'
    output, with exit status 1. A missing key is an error (``missingkey=error``: the CLI's
    second try, on the raw JSON document, after Docker's typed structs fail).
    """
    if not fmt:
        ctx.print(inspect_view.render(objs))
        return
    if fmt == "json":
        ctx.print(json.dumps(objs, ensure_ascii=False, separators=(",", ":")))
        return
    try:
        tmpl = Template(fmt)
    except TemplateError as exc:
        raise TemplateError(f"template parsing error: {exc}", status=64) from None
    errors = []
    for o in objs:
        try:
            ctx.print(tmpl.execute(o, missingkey="error"))
        except TemplateError as exc:
            errors.append(f"template parsing error: {exc}")
    if len(errors) == len(objs):
        ctx.print()  # (the CLI's Flush: a new line when no object printed anything)
    if errors:
        raise TemplateError("\n".join(errors))


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
