"""The part of Go's text/template that docker's ``--format`` flags are used with.

Supported: ``{{.Field.Sub}}``, ``{{json .X}}``, ``{{range .X}}...{{end}}`` (over a list or the
values of a map, with ``.`` rebound), ``{{index .Map "key"}}``, ``{{upper .X}}``/``{{lower .X}}``,
``{{println .X}}`` and the ``\\t``/``\\n`` escapes the docker CLI accepts in format strings.

>>> render('{{.Name}} {{.NetworkSettings.IPAddress}}', {"Name": "/web",
...        "NetworkSettings": {"IPAddress": "172.17.0.2"}})
'/web 172.17.0.2'
>>> render('{{range .Nets}}{{.IPAddress}} {{end}}', {"Nets": {"a": {"IPAddress": "10.0.0.2"}}})
'10.0.0.2 '
"""

from __future__ import annotations

import json
import re
from typing import Any

from netlab.errors import InvalidArgument

_ACTION = re.compile(r"{{-?\s*(.*?)\s*-?}}", re.S)


class TemplateError(InvalidArgument):
    """A format string this subset cannot run; the message says what and where."""


def _lookup(dot: Any, path: str) -> Any:
    if path == ".":
        return dot
    value = dot
    for part in path.lstrip(".").split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, dict):
            raise TemplateError(
                f'template: :1: executing "" at <{path}>: map has no entry for key "{part}"'
            )
        else:
            raise TemplateError(
                f'template: :1: executing "" at <{path}>: can\'t evaluate field {part}'
            )
    return value


def _text(value: Any) -> str:
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_text(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_text(v) for v in value) + "]"
    return str(value)


def _eval(expr: str, dot: Any) -> Any:
    words = _split_words(expr)
    if not words:
        raise TemplateError("template: :1: missing value for command")
    head, args = words[0], words[1:]
    if head.startswith("."):
        return _lookup(dot, head)
    if head.startswith('"'):
        return json.loads(head)
    if head.lstrip("-").isdigit():
        return int(head)
    vals = [_eval(a, dot) for a in args]
    if head == "json":
        # Go's encoding/json: no spaces after separators.
        return json.dumps(vals[0], ensure_ascii=False, separators=(",", ":")) if vals else ""
    if head == "upper":
        return _text(vals[0]).upper()
    if head == "lower":
        return _text(vals[0]).lower()
    if head == "println":
        return " ".join(_text(v) for v in vals) + "\n"
    if head == "index":
        container, key = vals[0], vals[1]
        try:
            return container[key]
        except (KeyError, IndexError, TypeError):
            return None
    if head == "len":
        return len(vals[0])
    raise TemplateError(f'template: :1: function "{head}" not defined')


def _split_words(expr: str) -> list[str]:
    return re.findall(r'"(?:[^"\\]|\\.)*"|\S+', expr)


def _render(
    tokens: list[tuple[str, str]], pos: int, dot: Any, out: list[str], stop_at_end: bool
) -> int:
    while pos < len(tokens):
        kind, text = tokens[pos]
        pos += 1
        if kind == "text":
            out.append(text)
            continue
        if text == "end":
            if not stop_at_end:
                raise TemplateError("template: :1: unexpected {{end}}")
            return pos
        if text.startswith("range "):
            items = _eval(text[6:], dot)
            if isinstance(items, dict):
                seq = [items[k] for k in sorted(items)]
            elif isinstance(items, list | tuple) or items is None:
                seq = list(items or [])
            else:  # (a string, a number, a boolean: Go's words)
                raise TemplateError(f"template: :1: range can't iterate over {items}")
            end = _skip_block(tokens, pos)
            for item in seq:
                _render(tokens[:end], pos, item, out, True)
            pos = end
            continue
        out.append(_text(_eval(text, dot)))
    if stop_at_end:
        raise TemplateError("template: :1: unexpected EOF")
    return pos


def _skip_block(tokens: list[tuple[str, str]], pos: int) -> int:
    depth = 1
    while pos < len(tokens):
        kind, text = tokens[pos]
        pos += 1
        if kind == "action" and text.startswith("range "):
            depth += 1
        elif kind == "action" and text == "end":
            depth -= 1
            if depth == 0:
                return pos
    raise TemplateError("template: :1: unexpected EOF")


def render(fmt: str, data: Any) -> str:
    """Run a docker ``--format`` template on ``data``."""
    fmt = _trim(fmt.replace("\\t", "\t").replace("\\n", "\n"))
    tokens: list[tuple[str, str]] = []
    last = 0
    for m in _ACTION.finditer(fmt):
        if m.start() > last:
            tokens.append(("text", fmt[last : m.start()]))
        tokens.append(("action", m.group(1)))
        last = m.end()
    if last < len(fmt):
        tokens.append(("text", fmt[last:]))
    out: list[str] = []
    _render(tokens, 0, data, out, False)
    return "".join(out)


def _trim(fmt: str) -> str:
    """Go's ``{{-`` and ``-}}``: drop the white space next to the action."""
    fmt = re.sub(r"\s+{{-\s", "{{", fmt)
    return re.sub(r"\s-}}\s+", "}}", fmt)
