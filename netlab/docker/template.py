"""Go's text/template, as the docker CLI (28.5, built with Go 1.24) runs ``--format`` templates.

The docker CLI parses a format with ``template.New("").Funcs(basicFunctions).Parse(format)``
(``templates/templates.go``): Go's template language with Docker's functions ``json``,
``split``, ``join``, ``title``, ``lower``, ``upper``, ``pad`` and ``truncate`` added to Go's
builtins (``and or not len index slice print printf println eq ne lt le gt ge html js
urlquery call``). Here is that language, as three steps:

- the **lexer** (Go's ``text/template/parse/lex.go``): text and ``{{ }}`` actions, comments
  ``{{/* */}}``, the trim markers ``{{- `` and `` -}}``, strings, numbers, fields, variables;
- the **parser** (``parse.go``): recursive descent into a small tree: actions, pipelines with
  ``|``, parenthesised pipelines, ``if``/``else if``/``with``/``else with``/``range`` (with
  ``else``, ``break``, ``continue``), variables ``$x := ...``/``$x = ...``, ``define``,
  ``template`` and ``block``;
- the **evaluator** (``exec.go``, ``funcs.go``): walks the tree over the data, and prints
  values as Go's ``fmt`` does.

Every message is Go's, so a student sees what docker prints: ``template: :1: unclosed
action`` for a template that does not parse, ``template: :1:2: executing "" at <.Foo>: map
has no entry for key "Foo"`` for one that fails as it runs (line, byte column, the node).
What docker adds around them (``template parsing error: ...``, exit status 64 for inspect,
``\\t`` in list formats) is :mod:`netlab.docker.output`'s.

The data are Python values, seen as the Go values the docker CLI has:

========================  ======================================================================
Python                    Go
========================  ======================================================================
``dict``                  ``map[string]interface {}``: ``.Key``; printed ``map[k:v]`` by sorted
                          key, ranged over in key order
:class:`GoStruct`         a struct (``*formatter.ContainerContext`` for a ``docker ps`` row): a
                          field it lacks is "can't evaluate field X in type T"
``list``                  ``[]interface {}``, printed ``[a b]``
``str``/``int``/``bool``  ``string``/``int``/``bool``
``float``                 ``float64``, printed as Go prints one: ``1.5``, ``1e+06``
``None``                  ``nil``: ``<no value>`` when an action prints it, ``<nil>`` inside a map
========================  ======================================================================

What a missing map key gives is Go's ``missingkey`` option: ``<no value>`` by default, an error
with ``missingkey="error"``. ``docker inspect`` runs a template first on Docker's typed structs,
then, if that fails, on the raw JSON document with ``missingkey=error``
(``cli/command/inspect/inspector.go``, ``tryRawInspectFallback``, decoding numbers with
``UseNumber``). netlab has the JSON documents: its inspect runs them with ``missingkey="error"``
(what docker reports for a field that does not exist) and with Python's ints, so
``{{.State.Pid}}`` prints ``1234567`` as docker does (never Go's float form ``1.234567e+06``).
Where Docker's typed pass succeeds and prints otherwise than the JSON would (a struct prints
``{v1 v2}``, a nil slice ``[]``, a key missing from a Go map such as ``.Config.Labels.x``
``<no value>``), netlab prints ``map[...]`` and ``<no value>`` and reports the missing key.

>>> render('{{.Name}} {{.NetworkSettings.IPAddress}}', {"Name": "/web",
...        "NetworkSettings": {"IPAddress": "172.17.0.2"}})
'/web 172.17.0.2'
>>> render('{{range $k, $v := .}}{{$k}}={{$v}} {{end}}', {"b": [1, 2], "a": None})
'a=<no value> b=[1 2] '
>>> render('{{(index .Nets "bridge").IP}}', {"Nets": {"bridge": {"IP": "172.17.0.2"}}})
'172.17.0.2'
"""

from __future__ import annotations

import contextlib
import math
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NoReturn

from netlab.errors import InvalidArgument

__all__ = ["GoStruct", "Template", "TemplateError", "render"]


class TemplateError(InvalidArgument):
    """A template that does not parse or run, in Go's words (``template: :1: unclosed action``).

    ``status`` is the exit status the docker CLI ends with; ``output`` what the template had
    written when it failed (docker still prints a table's header that fails halfway).
    """

    def __init__(self, message: str, *, status: int = 1, output: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.output = output


class GoStruct(dict[str, Any]):
    """A Go struct as a template sees it (``go_type`` is its type, as Go names it).

    A field it lacks is Go's "can't evaluate field X in type T", not a missing map key; its
    fields are methods (docker's rows are), so an argument is "wrong number of args". ``json``
    sorts its keys, as the docker CLI marshals a row through a map (``formatter.MarshalJSON``).
    """

    def __init__(self, fields: dict[str, Any], go_type: str) -> None:
        super().__init__(fields)
        self.go_type = go_type


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_NO_VALUE: Any = _Sentinel("_NO_VALUE")  # Go's invalid reflect.Value: a missing key, nil data
_MISSING: Any = _Sentinel("MISSING")  # no value piped in from a previous command
_MAX_DEPTH = 100000  # exec.go's maxExecDepth (Python's own stack runs out first)


class _Strings(list[str]):
    """A ``[]string`` (what ``split`` returns)."""


# --- the lexer (text/template/parse/lex.go) -------------------------------------------------

_SPACE = " \t\r\n"
# The keywords (the token's kind is the word).
_KEYWORDS = {"block", "break", "continue", "define", "else", "end", "if", "nil", "range"}
_KEYWORDS |= {"template", "with"}
# The tokens that can start an operand of a command.
_OPERANDS = {"bool", "charconst", "complex", "dot", "field", "ident", "lparen", "nil"}
_OPERANDS |= {"number", "rawstring", "string", "var"}


@dataclass(frozen=True)
class _Tok:
    kind: str  # "text", "left", "right", "space", "field", "error", "eof", a keyword...
    val: str
    pos: int
    line: int

    def __str__(self) -> str:
        """Go's item.String(), as parse errors show a token."""
        if self.kind == "eof":
            return "EOF"
        if self.kind == "error":
            return self.val
        if self.kind in _KEYWORDS or self.kind == "dot":
            return f"<{self.val}>"
        if len(self.val.encode("utf-8", "surrogatepass")) > 10:
            return _go_quote(self.val[:10]) + "..."
        return _go_quote(self.val)


def _is_alnum(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or (ch != "" and unicodedata.category(ch) == "Nd")


def _left_trim_at(s: str, i: int) -> bool:
    """A trim marker ``- `` (the minus and a space) at ``s[i]``, as after ``{{``."""
    return s[i : i + 1] == "-" and s[i + 1 : i + 2] in tuple(_SPACE)


def _go_rune(ch: str) -> str:
    """Go's ``%#U``: ``U+0078 'x'``."""
    return f"U+{ord(ch):04X}" + (f" '{ch}'" if ch.isprintable() else "")


class _Lexer:
    """Go's lexer: the template as tokens, the last one "eof" or "error"."""

    def __init__(self, text: str) -> None:
        self.s, self.pos, self.start, self.depth = text, 0, 0, 0
        self.toks: list[_Tok] = []

    def run(self) -> list[_Tok]:
        state: Callable[[], Any] | None = self.text
        while state is not None:
            state = state()
        return self.toks

    def emit(self, kind: str) -> None:
        line = 1 + self.s.count("\n", 0, self.start)
        self.toks.append(_Tok(kind, self.s[self.start : self.pos], self.start, line))
        self.start = self.pos

    def error(self, message: str) -> Callable[[], Any] | None:
        """The error token, which ends the tokens."""
        self.toks.append(_Tok("error", message, self.start, 1 + self.s.count("\n", 0, self.start)))
        return None

    def peek(self) -> str:
        return self.s[self.pos] if self.pos < len(self.s) else ""

    def accept(self, valid: str) -> bool:
        ch = self.peek()
        if ch and ch in valid:
            self.pos += 1
            return True
        return False

    def accept_run(self, valid: str) -> None:
        while self.accept(valid):
            pass

    def skip_space(self) -> None:
        while self.accept(_SPACE):
            pass
        self.start = self.pos

    def at_right_delim(self) -> tuple[bool, bool]:
        """At ``}}`` (first) and whether a trim marker `` -`` comes before it (second)."""
        s, p = self.s, self.pos
        if s[p : p + 1] in tuple(_SPACE) and s[p + 1 : p + 4] == "-}}":
            return True, True
        return s.startswith("}}", p), False

    def at_terminator(self) -> bool:
        ch = self.peek()
        return ch == "" or ch in _SPACE or ch in ".,|:)(" or self.s.startswith("}}", self.pos)

    def text(self) -> Callable[[], Any] | None:
        x = self.s.find("{{", self.pos)
        if x < 0:
            self.pos = len(self.s)
            if self.pos > self.start:
                self.emit("text")
            self.emit("eof")
            return None
        if x > self.pos:
            trim = 0
            if _left_trim_at(self.s, x + 2):
                before = self.s[self.start : x]
                trim = len(before) - len(before.rstrip(_SPACE))
            self.pos = x - trim
            if self.pos > self.start:
                self.emit("text")
            self.pos = self.start = x
        return self.left_delim

    def left_delim(self) -> Callable[[], Any] | None:
        self.pos += 2
        after = 2 if _left_trim_at(self.s, self.pos) else 0
        if self.s.startswith("/*", self.pos + after):
            self.pos += after
            self.start = self.pos
            return self.comment
        self.emit("left")
        self.pos += after
        self.start = self.pos
        self.depth = 0
        return self.inside

    def comment(self) -> Callable[[], Any] | None:
        x = self.s.find("*/", self.pos + 2)
        if x < 0:
            return self.error("unclosed comment")
        self.pos = x + 2
        delim, trim = self.at_right_delim()
        if not delim:
            return self.error("comment ends before closing delimiter")
        self.pos += 4 if trim else 2
        if trim:
            self.skip_space()
        self.start = self.pos
        return self.text

    def right_delim(self) -> Callable[[], Any] | None:
        _, trim = self.at_right_delim()
        if trim:
            self.pos += 2
            self.start = self.pos
        self.pos += 2
        self.emit("right")
        if trim:
            self.skip_space()
        return self.text

    def inside(self) -> Callable[[], Any] | None:
        if self.at_right_delim()[0]:
            return self.right_delim if self.depth == 0 else self.error("unclosed left paren")
        ch = self.peek()
        self.pos += len(ch)
        simple = {"=": "assign", "|": "pipe", "(": "lparen", ")": "rparen"}
        if ch == "":
            return self.error("unclosed action")
        if ch in _SPACE:
            self.pos -= 1
            return self.space
        if ch == ":":
            if not self.accept("="):
                return self.error("expected :=")
            self.emit("declare")
        elif ch in simple:
            self.depth += {"(": 1, ")": -1}.get(ch, 0)
            if self.depth < 0:
                return self.error("unexpected right paren")
            self.emit(simple[ch])
        elif ch in "\"'`":
            return self.quote(ch)
        elif ch == "$":
            return self.field_or_variable("var")
        elif ch == "." and self.peek() != "" and not "0" <= self.peek() <= "9":
            return self.field_or_variable("field")
        elif ch in "+-." or "0" <= ch <= "9":
            self.pos -= 1
            return self.number()
        elif _is_alnum(ch):
            return self.identifier()
        elif ch < "\x7f" and ch.isprintable():
            self.emit("char")
        else:
            return self.error(f"unrecognized character in action: {_go_rune(ch)}")
        return self.inside

    def space(self) -> Callable[[], Any] | None:
        n = 0
        while self.accept(_SPACE):
            n += 1
        if self.peek() == "-" and self.s.startswith("}}", self.pos + 1):
            self.pos -= 1  # the space before " -}}" belongs to the trim marker
            if n == 1:
                return self.right_delim
        self.emit("space")
        return self.inside

    def identifier(self) -> Callable[[], Any] | None:
        while _is_alnum(self.peek()):
            self.pos += 1
        word = self.s[self.start : self.pos]
        if not self.at_terminator():
            return self.error(f"bad character {_go_rune(self.peek())}")
        if word in _KEYWORDS:
            self.emit(word)
        else:
            self.emit("bool" if word in ("true", "false") else "ident")
        return self.inside

    def field_or_variable(self, kind: str) -> Callable[[], Any] | None:
        if self.at_terminator():  # "." or "$" alone
            self.emit("var" if kind == "var" else "dot")
            return self.inside
        while _is_alnum(self.peek()):
            self.pos += 1
        if not self.at_terminator():
            return self.error(f"bad character {_go_rune(self.peek())}")
        self.emit(kind)
        return self.inside

    def quote(self, close: str) -> Callable[[], Any] | None:
        what = {"'": "character constant", '"': "quoted string", "`": "raw quoted string"}
        while True:
            ch = self.peek()
            self.pos += len(ch)
            if ch == "\\" and close != "`":
                ch = self.peek()
                self.pos += len(ch)
                if ch not in ("", "\n"):
                    continue
            if ch == "" or (ch == "\n" and close != "`"):
                return self.error(f"unterminated {what[close]}")
            if ch == close:
                break
        self.emit({"'": "charconst", '"': "string", "`": "rawstring"}[close])
        return self.inside

    def number(self) -> Callable[[], Any] | None:
        if not self.scan_number():
            return self.error(f"bad number syntax: {_go_quote(self.s[self.start : self.pos])}")
        if self.peek() and self.peek() in "+-":  # complex: 1+2i
            if not self.scan_number() or self.s[self.pos - 1] != "i":
                return self.error(f"bad number syntax: {_go_quote(self.s[self.start : self.pos])}")
            self.emit("complex")
        else:
            self.emit("number")
        return self.inside

    def scan_number(self) -> bool:
        self.accept("+-")
        digits = "0123456789_"
        if self.accept("0"):
            for prefix, ds in (
                ("xX", "0123456789abcdefABCDEF_"),
                ("oO", "01234567_"),
                ("bB", "01_"),
            ):
                if self.accept(prefix):
                    digits = ds
                    break
        self.accept_run(digits)
        if self.accept("."):
            self.accept_run(digits)
        if (len(digits) == 11 and self.accept("eE")) or (len(digits) == 23 and self.accept("pP")):
            self.accept("+-")
            self.accept_run("0123456789_")
        self.accept("i")
        if _is_alnum(self.peek()):
            self.pos += 1
            return False
        return True


# --- the tree (text/template/parse/node.go); str() is Go's String(), shown in errors ----------


@dataclass(eq=False)
class _Node:
    pos: int


@dataclass(eq=False)
class _Text(_Node):
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(eq=False)
class _List(_Node):
    nodes: list[_Node] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(map(str, self.nodes))


@dataclass(eq=False)
class _Field(_Node):
    idents: list[str]

    def __str__(self) -> str:
        return "".join("." + i for i in self.idents)


@dataclass(eq=False)
class _Variable(_Node):
    idents: list[str]  # "$x", then fields

    def __str__(self) -> str:
        return ".".join(self.idents)


@dataclass(eq=False)
class _Identifier(_Node):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(eq=False)
class _Dot(_Node):
    def __str__(self) -> str:
        return "."


@dataclass(eq=False)
class _Nil(_Node):
    def __str__(self) -> str:
        return "nil"


@dataclass(eq=False)
class _Bool(_Node):
    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(eq=False)
class _String(_Node):
    quoted: str
    text: str

    def __str__(self) -> str:
        return self.quoted


@dataclass(eq=False)
class _Number(_Node):
    text: str
    is_int: bool = False
    is_uint: bool = False
    is_float: bool = False
    is_complex: bool = False
    int_val: int = 0
    float_val: float = 0.0
    complex_val: complex = 0j

    def __str__(self) -> str:
        return self.text


@dataclass(eq=False)
class _Pipe(_Node):
    decl: list[_Variable] = field(default_factory=list)
    is_assign: bool = False
    cmds: list[_Command] = field(default_factory=list)

    def __str__(self) -> str:
        decl = ", ".join(map(str, self.decl)) + " := " if self.decl else ""
        return decl + " | ".join(map(str, self.cmds))


@dataclass(eq=False)
class _Command(_Node):
    args: list[_Node] = field(default_factory=list)

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, _Pipe) else str(a) for a in self.args)


@dataclass(eq=False)
class _Chain(_Node):
    node: _Node
    fields: list[str]

    def __str__(self) -> str:
        head = f"({self.node})" if isinstance(self.node, _Pipe) else str(self.node)
        return head + "".join("." + f for f in self.fields)


@dataclass(eq=False)
class _Action(_Node):
    pipe: _Pipe

    def __str__(self) -> str:
        return f"{{{{{self.pipe}}}}}"


@dataclass(eq=False)
class _Branch(_Node):
    """``if``, ``with`` or ``range`` (``kind``)."""

    kind: str
    pipe: _Pipe
    body: _List
    other: _List | None  # after {{else}}

    def __str__(self) -> str:
        other = f"{{{{else}}}}{self.other}" if self.other is not None else ""
        return f"{{{{{self.kind} {self.pipe}}}}}{self.body}{other}{{{{end}}}}"


@dataclass(eq=False)
class _TemplateCall(_Node):
    name: str
    pipe: _Pipe | None

    def __str__(self) -> str:
        pipe = f" {self.pipe}" if self.pipe is not None else ""
        return f"{{{{template {_go_quote(self.name)}{pipe}}}}}"


@dataclass(eq=False)
class _Keyword(_Node):
    """``{{end}}`` and ``{{else}}`` (which end a list), ``{{break}}``, ``{{continue}}``."""

    word: str

    def __str__(self) -> str:
        return f"{{{{{self.word}}}}}"


# --- the parser (text/template/parse/parse.go) ------------------------------------------------


class _Parser:
    """Recursive descent over the tokens into named trees ("" is the template itself)."""

    def __init__(self, text: str) -> None:
        self.toks = _Lexer(text).run()
        self.i = self.hi = 0  # next token; furthest token read (Go reports its line)
        self.vars = ["$"]
        self.action_line = self.range_depth = self.paren_depth = 0
        self.trees: dict[str, _List] = {}

    def tok(self, i: int) -> _Tok:
        i = min(i, len(self.toks) - 1)
        self.hi = max(self.hi, i)
        return self.toks[i]

    def next(self) -> _Tok:
        self.i += 1
        return self.tok(self.i - 1)

    def peek(self) -> _Tok:
        return self.tok(self.i)

    def next_non_space(self) -> _Tok:
        t = self.next()
        while t.kind == "space":
            t = self.next()
        return t

    def peek_non_space(self) -> _Tok:
        t = self.next_non_space()
        self.i -= 1
        return t

    def error(self, message: str) -> NoReturn:
        raise TemplateError(f"template: :{self.tok(self.hi).line}: {message}")

    def unexpected(self, t: _Tok, context: str) -> NoReturn:
        if t.kind == "error":
            extra = ""
            if self.action_line and self.action_line != t.line:
                extra = f" in action started at :{self.action_line}"
                if t.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            self.error(t.val + extra)
        self.error(f"unexpected {t} in {context}")

    def expect(self, kind: str, context: str) -> _Tok:
        t = self.next_non_space()
        if t.kind != kind:
            self.unexpected(t, context)
        return t

    def parse(self) -> dict[str, _List]:
        """The template and the ones it defines; ``{{define}}`` only at the top."""
        root = _List(self.peek().pos)
        while self.peek().kind != "eof":
            if self.peek().kind == "left":
                start = self.i
                self.next()
                if self.next_non_space().kind == "define":
                    self.definition()
                    continue
                self.i = start
            n = self.text_or_action()
            if isinstance(n, _Keyword) and n.word in ("end", "else"):
                self.error(f"unexpected {n}")
            root.nodes.append(n)
        self.add("", root)
        return self.trees

    def add(self, name: str, tree: _List) -> None:
        old = self.trees.get(name)
        if old is None or _is_empty(old):
            self.trees[name] = tree
        elif not _is_empty(tree):
            self.error(f"template: multiple definition of template {_go_quote(name)}")

    def sub_tree(self, name: str, context: str) -> None:
        """The body of a ``define`` or ``block``, up to its ``{{end}}``: a template of its own."""
        saved = self.vars, self.range_depth
        self.vars, self.range_depth = ["$"], 0
        body, end = self.item_list()
        if end.word != "end":
            self.error(f"unexpected {end} in {context}")
        self.add(name, body)
        self.vars, self.range_depth = saved

    def definition(self) -> None:
        t = self.next_non_space()
        if t.kind not in ("string", "rawstring"):
            self.unexpected(t, "define clause")
        name = self.unquote(t.val)
        self.expect("right", "define clause")
        self.sub_tree(name, "define clause")

    def item_list(self) -> tuple[_List, _Keyword]:
        """Nodes up to an ``{{end}}`` or ``{{else}}``, returned apart."""
        body = _List(self.peek_non_space().pos)
        while self.peek_non_space().kind != "eof":
            n = self.text_or_action()
            if isinstance(n, _Keyword) and n.word in ("end", "else"):
                return body, n
            body.nodes.append(n)
        self.error("unexpected EOF")

    def text_or_action(self) -> _Node:
        t = self.next_non_space()
        if t.kind == "text":
            return _Text(t.pos, t.val)
        if t.kind != "left":
            self.unexpected(t, "input")
        self.action_line = t.line
        try:
            return self.action()
        finally:
            self.action_line = 0

    def action(self) -> _Node:
        t = self.next_non_space()
        if t.kind in ("if", "with", "range"):
            return self.control(t.kind)
        if t.kind in ("block", "template"):
            return self.template_call(t.kind)
        if t.kind == "end":
            return _Keyword(self.expect("right", "end").pos, "end")
        if t.kind == "else":
            following = self.peek_non_space()
            if following.kind in ("if", "with"):  # {{else if ...}}: the if comes next
                return _Keyword(following.pos, "else")
            return _Keyword(self.expect("right", "else").pos, "else")
        if t.kind in ("break", "continue"):
            following = self.next_non_space()
            if following.kind != "right":
                self.unexpected(following, f"{{{{{t.kind}}}}}")
            if not self.range_depth:
                self.error(f"{{{{{t.kind}}}}} outside {{{{range}}}}")
            return _Keyword(t.pos, t.kind)
        self.i -= 1
        return _Action(self.peek().pos, self.pipeline("command", "right"))

    def control(self, kind: str) -> _Branch:
        """``{{if|with|range pipeline}} list [{{else}} list] {{end}}``; ``{{else if}}`` and
        ``{{else with}}`` nest a second one that shares the ``{{end}}``."""
        nvars = len(self.vars)
        pipe = self.pipeline(kind, "right")
        self.range_depth += kind == "range"
        body, end = self.item_list()
        self.range_depth -= kind == "range"
        other = None
        if end.word == "else":
            if kind in ("if", "with") and self.peek().kind == kind:
                self.next()
                other = _List(end.pos, [self.control(kind)])
            else:
                other, end = self.item_list()
                if end.word != "end":
                    self.error(f"expected end; found {end}")
        del self.vars[nvars:]
        return _Branch(pipe.pos, kind, pipe, body, other)

    def template_call(self, kind: str) -> _TemplateCall:
        context = f"{kind} clause"
        t = self.next_non_space()
        if t.kind not in ("string", "rawstring"):
            self.unexpected(t, context)
        name = self.unquote(t.val)
        if kind == "block":
            pipe: _Pipe | None = self.pipeline(context, "right")
            self.sub_tree(name, context)
        elif self.next_non_space().kind != "right":
            self.i -= 1
            pipe = self.pipeline(context, "right")
        else:
            pipe = None
        return _TemplateCall(t.pos, name, pipe)

    def pipeline(self, context: str, end: str) -> _Pipe:
        """``[$v [, $w] (:=|=)] command (| command)*`` up to ``end``."""
        first = self.peek_non_space()
        pipe = _Pipe(first.pos)
        while (v := self.peek_non_space()).kind == "var":
            start = self.i
            self.next()
            following = self.peek_non_space()
            if following.kind in ("declare", "assign"):
                pipe.is_assign = following.kind == "assign"
                self.next_non_space()
                pipe.decl.append(_Variable(v.pos, [v.val]))
                self.vars.append(v.val)
                break
            if following.kind == "char" and following.val == ",":
                self.next_non_space()
                pipe.decl.append(_Variable(v.pos, [v.val]))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().kind in ("var", "right", "rparen"):
                        continue
                    self.error("range can only initialize variables")
                self.error(f"too many declarations in {context}")
            self.i = start  # a variable used, not declared
            break
        while True:
            t = self.next_non_space()
            if t.kind == end:
                if not pipe.cmds:
                    self.error(f"missing value for {context}")
                for i, c in enumerate(pipe.cmds[1:]):
                    if isinstance(c.args[0], (_Bool, _Dot, _Nil, _Number, _String)):
                        self.error(f"non executable command in pipeline stage {i + 2}")
                return pipe
            if t.kind not in _OPERANDS:
                self.unexpected(t, context)
            self.i -= 1
            pipe.cmds.append(self.command())

    def command(self) -> _Command:
        """Space-separated operands, up to ``|`` (consumed), ``}}`` or ``)``."""
        cmd = _Command(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            t = self.next()
            if t.kind == "space":
                continue
            if t.kind in ("right", "rparen"):
                self.i -= 1
            elif t.kind != "pipe":
                self.unexpected(t, "operand")
            break
        if not cmd.args:
            self.error("empty command")
        return cmd

    def operand(self) -> _Node | None:
        """A term and the fields that follow it: ``.A.B``, ``$x.A``, ``(pipeline).A``."""
        node = self.term()
        if node is None or self.peek().kind != "field":
            return node
        chain = _Chain(self.peek().pos, node, [])
        while self.peek().kind == "field":
            chain.fields.append(self.next().val[1:])
        if isinstance(node, _Field):
            return _Field(chain.pos, node.idents + chain.fields)
        if isinstance(node, _Variable):
            return _Variable(chain.pos, node.idents + chain.fields)
        if isinstance(node, (_Bool, _String, _Number, _Nil, _Dot)):
            self.error(f"unexpected . after term {_go_quote(str(node))}")
        return chain

    def term(self) -> _Node | None:
        t = self.next_non_space()
        if t.kind == "ident":
            if t.val not in _FUNCS:
                self.error(f"function {_go_quote(t.val)} not defined")
            return _Identifier(t.pos, t.val)
        if t.kind == "var":
            if t.val not in self.vars:
                self.error(f"undefined variable {_go_quote(t.val)}")
            return _Variable(t.pos, [t.val])
        if t.kind == "field":
            return _Field(t.pos, [t.val[1:]])
        if t.kind == "dot":
            return _Dot(t.pos)
        if t.kind == "nil":
            return _Nil(t.pos)
        if t.kind == "bool":
            return _Bool(t.pos, t.val == "true")
        if t.kind in ("string", "rawstring"):
            return _String(t.pos, t.val, self.unquote(t.val))
        if t.kind in ("number", "charconst", "complex"):
            try:
                return _number(t)
            except ValueError as exc:
                self.error(str(exc))
        if t.kind == "lparen":
            if self.paren_depth >= 10000:
                self.error("max expression depth exceeded")
            self.paren_depth += 1
            pipe = self.pipeline("parenthesized pipeline", "rparen")
            self.paren_depth -= 1
            return pipe
        self.i -= 1
        return None

    def unquote(self, quoted: str) -> str:
        try:
            return _unquote(quoted)
        except ValueError:
            self.error("invalid syntax")


def _is_empty(tree: _Node) -> bool:
    """A tree of white space only (a template of that name may be defined again)."""
    if isinstance(tree, _List):
        return all(_is_empty(n) for n in tree.nodes)
    return isinstance(tree, _Text) and not tree.text.strip()


# --- Go's literals: strconv's rules ----------------------------------------------------------


def _go_int(text: str, signed: bool = True) -> int | None:
    """strconv.ParseInt(text, 0, 64), or ParseUint with ``signed=False``; None if it is no
    64-bit integer. Go's literals are Python's (``0x1f``, ``0o17``, ``0b1``, ``1_000``, ``_``
    only between digits) but for the old octal ``017``."""
    body = text.lstrip("+-")
    if len(text) - len(body) > (1 if signed else 0):
        return None
    if len(body) > 1 and body[0] == "0" and body[1] not in "xXoObB":
        text = text[: len(text) - len(body)] + "0o" + body[1:]
    try:
        value = int(text, 0)
    except ValueError:
        return None
    low, high = (-(1 << 63), 1 << 63) if signed else (0, 1 << 64)
    return value if low <= value < high else None


def _go_float(text: str) -> float | None:
    """strconv.ParseFloat(text, 64), or None (out of range too); a hexadecimal float needs its
    ``p`` exponent."""
    hexa = text.lstrip("+-")[:2] in ("0x", "0X")
    try:
        value = float.fromhex(text.replace("_", "")) if hexa else float(text)
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) and (not hexa or "p" in text.lower()) else None


def _number(t: _Tok) -> _Number:
    """A number, character or complex constant, with each Go type that can hold it."""
    text = t.val
    n = _Number(t.pos, text)
    if t.kind == "charconst":
        ch, tail = _unquote_char(text[1:], "'")
        if tail != "'":
            raise ValueError(f"malformed character constant: {text}")
        n.is_int = n.is_uint = n.is_float = True
        n.int_val, n.float_val = ord(ch), float(ord(ch))
        return n
    imag = _go_float(text[:-1]) if text.endswith("i") and t.kind == "number" else None
    if t.kind == "complex" or imag is not None:
        try:
            n.complex_val = complex(text[:-1] + "j") if imag is None else complex(0, imag)
        except ValueError:
            raise ValueError("invalid syntax") from None
        n.is_complex = True
        if n.complex_val.imag == 0:
            n.is_float, n.float_val = True, n.complex_val.real
            n.is_int = n.float_val.is_integer() and abs(n.float_val) < 2**63
            n.int_val = int(n.float_val) if n.is_int else 0
        return n
    unsigned, signed = _go_int(text, signed=False), _go_int(text)
    if signed is not None:
        n.is_int, n.int_val, n.is_float, n.float_val = True, signed, True, float(signed)
        n.is_uint = unsigned is not None or signed == 0
    elif unsigned is not None:
        n.is_uint, n.is_float, n.float_val = True, True, float(unsigned)
    elif (f := _go_float(text)) is not None:
        if not any(c in text for c in ".eEpP"):
            raise ValueError(f"integer overflow: {_go_quote(text)}")
        n.is_float, n.float_val = True, f
        n.is_int = f.is_integer() and -(2**63) <= f < 2**63
        n.int_val = int(f) if n.is_int else 0
    else:
        raise ValueError(f"illegal number syntax: {_go_quote(text)}")
    return n


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unquote_char(s: str, quote: str) -> tuple[str, str]:
    """strconv.UnquoteChar: the first character of a quoted literal's body, its escape
    decoded (``\\n``, ``\\x41``, ``\\101``, ``\\u00e9``, ``\\U0001F600``), and the rest;
    ValueError for Go's "invalid syntax"."""
    if not s or s[0] == quote:
        raise ValueError("invalid syntax")
    if s[0] != "\\":
        return s[0], s[1:]
    c = s[1:2]
    if c in _ESCAPES:
        return _ESCAPES[c], s[2:]
    if c in ("\\", quote):
        return c, s[2:]
    if c and c in "xuU01234567":
        size, first = {"x": (2, 2), "u": (4, 2), "U": (8, 2)}.get(c, (3, 1))
        digits = s[first : first + size]
        valid = "01234567" if first == 1 else "0123456789abcdefABCDEF"
        if len(digits) == size and all(d in valid for d in digits):
            value = int(digits, 8 if first == 1 else 16)
            if value <= (0x10FFFF if c in "uU" else 0xFF) and not 0xD800 <= value < 0xE000:
                return chr(value), s[first + size :]
    raise ValueError("invalid syntax")


def _unquote(quoted: str) -> str:
    """strconv.Unquote of a "string" or `raw string` (whose carriage returns Go drops)."""
    body = quoted[1:-1]
    if quoted[0] == "`":
        return body.replace("\r", "")
    out = []
    while body:
        ch, body = _unquote_char(body, '"')
        out.append(ch)
    return "".join(out)


# --- how Go prints values (fmt, strconv, encoding/json) --------------------------------------


def _go_quote(s: str, quote: str = '"', ascii_only: bool = False) -> str:
    """strconv.Quote (``quote='\\''`` for QuoteRune; ``ascii_only`` for QuoteToASCII)."""
    out = [quote]
    for ch in s:
        o = ord(ch)
        if ch in (quote, "\\"):
            out.append("\\" + ch)
        elif ch.isprintable() and not (ascii_only and o >= 0x80) and not 0xD800 <= o < 0xE000:
            out.append(ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif 0xD800 <= o < 0xE000:
            out.append("\\ufffd")
        else:
            out.append(f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
    return "".join(out) + quote


def _go_type(v: Any) -> str:
    """The Go type of a value, as Go's errors name it."""
    if isinstance(v, GoStruct):
        return v.go_type
    names = {bool: "bool", int: "int", float: "float64", complex: "complex128", str: "string"}
    names |= {_Strings: "[]string", list: "[]interface {}", tuple: "[]interface {}"}
    if v is None:
        return "interface {}"
    if isinstance(v, dict):
        return "map[string]interface {}"
    return names.get(type(v), type(v).__name__)


def _sorted_items(d: dict[Any, Any]) -> list[tuple[Any, Any]]:
    try:
        return sorted(d.items(), key=lambda kv: kv[0])
    except TypeError:
        return sorted(d.items(), key=lambda kv: str(kv[0]))


def _float_digits(f: float) -> tuple[str, int]:
    """The shortest digits that read back as ``abs(f)`` (not 0), and where the decimal point
    goes: ``1234567.0`` is ``("1234567", 7)``, ``0.05`` is ``("5", -1)``."""
    t = Decimal(repr(abs(f))).as_tuple()
    assert isinstance(t.exponent, int)
    return "".join(map(str, t.digits)).rstrip("0"), len(t.digits) + t.exponent


def _form_e(digits: str, point: int) -> str:
    exp, rest = point - 1, "." + digits[1:] if digits[1:] else ""
    return f"{digits[0]}{rest}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _form_f(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * -point + digits
    return (
        digits + "0" * (point - len(digits))
        if point >= len(digits)
        else f"{digits[:point]}.{digits[point:]}"
    )


def _go_g(f: float) -> str:
    """A float64 as ``%v`` prints it (strconv's shortest ``'g'``): ``1e+06``, ``0.0001``."""
    if not math.isfinite(f):
        return "NaN" if math.isnan(f) else ("+Inf" if f > 0 else "-Inf")
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    if f == 0:
        return sign + "0"
    digits, point = _float_digits(f)
    return sign + (_form_e if not -4 <= point - 1 < 6 else _form_f)(digits, point)


def _fmt_v(v: Any) -> str:
    """A value as Go's ``%v`` prints it."""
    if v is None:
        return "<nil>"
    if v is _NO_VALUE:
        return "<invalid reflect.Value>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _go_g(v)
    if isinstance(v, complex):
        imag = _go_g(v.imag)
        return f"({_go_g(v.real)}{'' if imag[0] in '+-' else '+'}{imag}i)"
    if isinstance(v, GoStruct):
        return "{" + " ".join(_fmt_v(x) for x in v.values()) + "}"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{_fmt_v(k)}:{_fmt_v(x)}" for k, x in _sorted_items(v)) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(_fmt_v(x) for x in v) + "]"
    return str(v)


def _sprint(*args: Any) -> str:
    """fmt.Sprint: a space between operands when neither is a string."""
    out = []
    for i, a in enumerate(args):
        if i and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(_fmt_v(a))
    return "".join(out)


def _sprintln(*args: Any) -> str:
    return " ".join(_fmt_v(a) for a in args) + "\n"


def _pad(s: str, width: int | None, flags: str) -> str:
    if width is None or len(s) >= width:
        return s
    return s + " " * (width - len(s)) if "-" in flags else " " * (width - len(s)) + s


def _fmt_number(v: int | float, verb: str, flags: str, width: int | None, prec: int | None) -> str:
    """``%d %b %o %O %x %X`` of an int, ``%v %e %f %g`` of a float (sign, zeros, width)."""
    if isinstance(v, float) and not math.isfinite(v):
        return _pad(("+" if v > 0 and "+" in flags else "") + _go_g(v).lstrip("+"), width, flags)
    negative = v < 0 or (isinstance(v, float) and math.copysign(1.0, v) < 0)
    sign = "-" if negative else "+" if "+" in flags else " " if " " in flags else ""
    prefix = ""
    if isinstance(v, int):
        digits = format(abs(v), {"v": "d", "O": "o"}.get(verb, verb))
        if prec is not None:
            digits = "" if prec == 0 and v == 0 else digits.rjust(prec, "0")
        if "#" in flags:
            prefix = {"b": "0b", "o": "0", "x": "0x", "X": "0X"}.get(verb, "")
        prefix = "0o" if verb == "O" else prefix
    elif verb in "vgG" and prec is None:
        digits = _go_g(abs(v)).upper() if verb == "G" else _go_g(abs(v))
    else:
        spec = {"v": "g", "F": "f"}.get(verb, verb)
        digits = format(abs(v), f".{6 if prec is None else prec}{spec}")
    if width and "0" in flags and "-" not in flags and (prec is None or isinstance(v, float)):
        digits = digits.rjust(width - len(sign) - len(prefix), "0")
    return _pad(sign + prefix + digits, width, flags)


def _fmt_one(v: Any, verb: str, flags: str, width: int | None, prec: int | None) -> str:
    """One operand of fmt.Sprintf; a verb that does not fit it is ``%!d(string=x)``."""
    bad = f"%!{verb}({_go_type(v)}={_fmt_v(v)})" if v is not None else f"%!{verb}(<nil>)"
    if verb == "T":
        return _pad("<nil>" if v is None else _go_type(v), width, flags)
    if v is None or isinstance(v, bool):
        return (
            _pad(_fmt_v(v), width, flags) if verb == "v" or (verb == "t" and v is not None) else bad
        )
    if isinstance(v, int):
        if verb in "cqU":
            ch = chr(v) if 0 <= v <= 0x10FFFF and not 0xD800 <= v < 0xE000 else "\ufffd"
            text = {"c": ch, "q": _go_quote(ch, "'")}.get(verb, f"U+{v:04X}")
            return _pad(text + (f" '{ch}'" if verb == "U" and "#" in flags else ""), width, flags)
        return _fmt_number(v, verb, flags, width, prec) if verb in "vdboOxX" else bad
    if isinstance(v, float):
        return _fmt_number(v, verb, flags, width, prec) if verb in "veEfFgG" else bad
    if isinstance(v, str):
        s = v[:prec] if prec is not None else v
        if verb in "sv":
            return _pad(s, width, flags)
        if verb == "q":
            back = "#" in flags and "`" not in s and all(c.isprintable() or c == "\t" for c in s)
            return _pad(f"`{s}`" if back else _go_quote(s, ascii_only="+" in flags), width, flags)
        if verb in "xX":
            pre = "0x" if "#" in flags else ""
            hexes = [f"{b:02x}" for b in v.encode("utf-8", "surrogatepass")]
            text = " ".join(pre + h for h in hexes) if " " in flags else pre + "".join(hexes)
            return _pad(text.upper() if verb == "X" else text, width, flags)
        return bad
    if isinstance(v, GoStruct):
        return "{" + " ".join(_fmt_one(x, verb, flags, width, prec) for x in v.values()) + "}"
    if isinstance(v, dict):
        return (
            "map["
            + " ".join(
                f"{_fmt_one(k, verb, flags, width, prec)}:{_fmt_one(x, verb, flags, width, prec)}"
                for k, x in _sorted_items(v)
            )
            + "]"
        )
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(_fmt_one(x, verb, flags, width, prec) for x in v) + "]"
    return _pad(_fmt_v(v), width, flags) if verb == "v" else bad


def _sprintf(fmt: str, *args: Any) -> str:
    """fmt.Sprintf: flags ``+-# 0``, width and precision (digits or ``*``), Go's verbs, and
    Go's words for what does not fit (``%!d(MISSING)``, ``%!(EXTRA int=1)``)."""
    out, i, used = [], 0, 0

    def number() -> int | None:
        nonlocal i, used
        if fmt[i : i + 1] == "*":
            i += 1
            used += 1
            arg = args[used - 1] if used <= len(args) else None
            if isinstance(arg, int) and not isinstance(arg, bool):
                return arg
            out.append("%!(BADWIDTH)")
            return None
        start = i
        while "0" <= fmt[i : i + 1] <= "9" and fmt[i : i + 1]:
            i += 1
        return int(fmt[start:i]) if i > start else None

    while i < len(fmt):
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        i, flags = j + 1, ""
        while fmt[i : i + 1] and fmt[i] in "+-# 0":
            flags += fmt[i]
            i += 1
        width = number()
        if width is not None and width < 0:
            flags, width = flags + "-", -width
        prec = None
        if fmt[i : i + 1] == ".":
            i += 1
            prec = number() or 0
            prec = None if prec < 0 else prec
        if i >= len(fmt):
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
        elif used >= len(args):
            out.append(f"%!{verb}(MISSING)")
        else:
            used += 1
            out.append(_fmt_one(args[used - 1], verb, flags, width, prec))
    if used < len(args):
        extra = ("<nil>" if a is None else f"{_go_type(a)}={_fmt_v(a)}" for a in args[used:])
        out.append(f"%!(EXTRA {', '.join(extra)})")
    return "".join(out)


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b"}
_JSON_ESCAPES |= {"\f": "\\f", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _json_str(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[ch])
        elif ch < " ":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append("\ufffd" if "\ud800" <= ch <= "\udfff" else ch)
    return "".join(out) + '"'


def _json(v: Any) -> str:
    """Docker's ``json`` function: Go's encoding/json, compact, ``<`` ``>`` ``&`` as they are."""
    if v is None or v is _NO_VALUE:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise _CallError(f"json: unsupported value: {_go_g(v)}")
        if v == 0:
            return "-0" if math.copysign(1.0, v) < 0 else "0"
        digits, point = _float_digits(v)
        text = _form_e(digits, point) if not 1e-6 <= abs(v) < 1e21 else _form_f(digits, point)
        text = text.replace("e-0", "e-")  # Go's "clean up e-09 to e-9"
        return ("-" if v < 0 else "") + text
    if isinstance(v, str):
        return _json_str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_json(x) for x in v) + "]"
    if isinstance(v, dict):
        items = sorted(v.items()) if isinstance(v, GoStruct) else v.items()
        return "{" + ",".join(f"{_json_str(str(k))}:{_json(x)}" for k, x in items) + "}"
    raise _CallError(f"json: unsupported type: {_go_type(v)}")


# --- the functions (text/template/funcs.go and Docker's templates/templates.go) --------------


class _CallError(Exception):
    """A function's error, or the panic Go recovers: "error calling NAME: ..."."""


_VALUE, _ANY, _STR, _INT, _STRS = "reflect.Value", "interface {}", "string", "int", "[]string"


@dataclass(frozen=True)
class _Func:
    """A function's Go parameter types (then those of a final ``...`` parameter) and body."""

    params: tuple[str, ...]
    variadic: str | None
    body: Callable[..., Any]


def _deref(v: Any) -> Any:
    """Go's indirectInterface: a nil interface is no value at all."""
    return _NO_VALUE if v is None else v


def _is_true(v: Any) -> bool:
    """Go's truth: false, 0, nil and empty strings, slices and maps are false."""
    if v is None or v is _NO_VALUE:
        return False
    if isinstance(v, (str, list, tuple, dict)) and not isinstance(v, GoStruct):
        return len(v) > 0
    return bool(v != 0) if isinstance(v, (int, float, complex)) else True


def _length(v: Any) -> int:
    if v is None:
        raise _CallError("len of nil pointer")
    if v is _NO_VALUE:
        raise _CallError("reflect: call of reflect.Value.Type on zero Value")
    if isinstance(v, str):
        return len(v.encode("utf-8", "surrogatepass"))
    if isinstance(v, (list, tuple, dict)) and not isinstance(v, GoStruct):
        return len(v)
    raise _CallError(f"len of type {_go_type(v).lstrip('*')}")


def _index_arg(ix: Any, cap: int) -> int:
    if ix is None or ix is _NO_VALUE:
        raise _CallError("cannot index slice/array with nil")
    if isinstance(ix, bool) or not isinstance(ix, int):
        raise _CallError(f"cannot index slice/array with type {_go_type(ix)}")
    if not 0 <= ix <= cap:
        raise _CallError(f"index out of range: {ix}")
    return ix


def _index(item: Any, *indexes: Any) -> Any:
    """``index x 1 2`` is x[1][2]: a list by position, a map by key, a string's bytes."""
    item = _deref(item)
    if item is _NO_VALUE:
        raise _CallError("index of untyped nil")
    for ix in indexes:
        ix = _deref(ix)
        if item is None:
            raise _CallError("index of nil pointer")
        if isinstance(item, (str, list, tuple)):
            seq = item.encode("utf-8", "surrogatepass") if isinstance(item, str) else item
            x = _index_arg(ix, len(seq))
            if x == len(seq):
                kind = "string" if isinstance(item, str) else "slice"
                raise _CallError(f"reflect: {kind} index out of range")
            item = seq[x]
        elif isinstance(item, dict) and not isinstance(item, GoStruct):
            if ix is _NO_VALUE:
                raise _CallError("value is nil; should be of type string")
            if not isinstance(ix, str):
                raise _CallError(f"value has type {_go_type(ix)}; should be string")
            item = item.get(ix)
        else:
            raise _CallError(f"can't index item of type {_go_type(item).lstrip('*')}")
    return item


def _slice(item: Any, *indexes: Any) -> Any:
    """``slice x 1 2`` is x[1:2] (of a list, or of a string's bytes)."""
    item = _deref(item)
    if item is _NO_VALUE:
        raise _CallError("slice of untyped nil")
    if len(indexes) > 3:
        raise _CallError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str) and len(indexes) == 3:
        raise _CallError("cannot 3-index slice a string")
    if not isinstance(item, (str, list, tuple)):
        raise _CallError(f"can't slice item of type {_go_type(item).lstrip('*')}")
    seq = item.encode("utf-8", "surrogatepass") if isinstance(item, str) else item
    idx = [0, len(seq), len(seq)]
    for i, ix in enumerate(indexes):
        idx[i] = _index_arg(ix, len(seq))
    for a, b in ((idx[0], idx[1]), (idx[1], idx[2])):
        if a > b:
            raise _CallError(f"invalid slice index: {a} > {b}")
    part = seq[idx[0] : idx[1]]
    return part.decode("utf-8", "replace") if isinstance(part, bytes) else type(item)(part)


def _basic_kind(v: Any) -> str | None:
    for kind in (bool, int, float, complex, str):
        if isinstance(v, kind):
            return kind.__name__
    return None


def _kind(v: Any) -> str:
    """Go's reflect.Kind of a value that is no basic one."""
    if isinstance(v, GoStruct):
        return "ptr"
    return "map" if isinstance(v, dict) else "slice" if isinstance(v, (list, tuple)) else "?"


def _eq(a: Any, *others: Any) -> bool:
    """``eq a b c`` is a == b || a == c: basic values of one kind, or nil."""
    a = _deref(a)
    if not others:
        raise _CallError("missing argument for comparison")
    for b in map(_deref, others):
        ka, kb = _basic_kind(a), _basic_kind(b)
        if ka != kb and a is not _NO_VALUE and b is not _NO_VALUE:
            raise _CallError(f"incompatible types for comparison: {_go_type(a)} and {_go_type(b)}")
        if ka is not None and ka == kb:
            truth = a == b
        elif a is _NO_VALUE or b is _NO_VALUE:
            truth = a is b
        elif _kind(a) != _kind(b):
            raise _CallError(
                f"non-comparable types {_fmt_v(a)}: {_go_type(a)}, {_go_type(b)}: {_fmt_v(b)}"
            )
        elif _kind(b) == "ptr":  # a pointer: the same one or not
            truth = a is b
        else:  # maps and slices
            raise _CallError(f"non-comparable type {_fmt_v(b)}: {_go_type(b)}")
        if truth:
            return True
    return False


def _lt(a: Any, b: Any) -> bool:
    a, b = _deref(a), _deref(b)
    ka, kb = _basic_kind(a), _basic_kind(b)
    if ka is None or kb is None:
        raise _CallError("invalid type for comparison")
    if ka != kb:
        raise _CallError(f"incompatible types for comparison: {_go_type(a)} and {_go_type(b)}")
    if ka in ("bool", "complex"):
        raise _CallError("invalid type for comparison")
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    return _lt(a, b) or _eq(a, b)


def _printable_args(args: Iterable[Any]) -> str:
    """The text of html's, js's and urlquery's arguments (evalArgs: a nil is ``<no value>``)."""
    args = list(args)
    if len(args) == 1 and isinstance(args[0], str):
        return str(args[0])
    return _sprint(*("<no value>" if a is None or a is _NO_VALUE else a for a in args))


def _html(*args: Any) -> str:
    text = _printable_args(args)
    for ch, esc in (("&", "&amp;"), ("'", "&#39;"), ('"', "&#34;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(ch, esc)
    return text.replace("\0", "\ufffd")


def _js(*args: Any) -> str:
    out = []
    for ch in _printable_args(args):
        if ch in "\\'\"":
            out.append("\\" + ch)
        elif ch in "<>&=" or ch < " ":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch if ch < "\x80" or ch.isprintable() else f"\\u{ord(ch):04X}")
    return "".join(out)


def _call(callee: str, fn: Any, *args: Any) -> Any:
    """``call``: netlab's data hold no functions, so this is always Go's refusal."""
    if _deref(fn) is _NO_VALUE:
        raise _CallError("call of nil")
    raise _CallError(f"non-function {callee} of type {_go_type(fn)}")


def _separator(ch: str) -> bool:
    """strings.Title's word boundary: not a letter, digit or ``_``."""
    if ch.isascii():
        return not (ch.isalnum() or ch == "_")
    return not _is_alnum(ch) and ch.isspace()


def _title(s: str) -> str:
    """strings.Title: the first letter of each word in title case."""
    out, prev = [], " "
    for ch in s:
        t = ch.title() if _separator(prev) else ch
        out.append(t if len(t) == 1 else ch)
        prev = ch
    return "".join(out)


def _case(s: str, upper: bool) -> str:
    """strings.ToUpper/ToLower, rune by rune (Go maps "ß" to itself, not "SS")."""
    out = (c.upper() if upper else c.lower() for c in s)
    return "".join(o if len(o) == 1 else c for o, c in zip(out, s, strict=True))


def _pad_words(source: str, prefix: int, suffix: int) -> str:
    """Docker's ``pad``: spaces around a string that is not empty."""
    if not source:
        return source
    if prefix < 0 or suffix < 0:
        raise _CallError("strings: negative Repeat count")
    return " " * prefix + source + " " * suffix


def _truncate(source: str, length: int) -> str:
    """Docker's ``truncate``: the first ``length`` bytes."""
    data = source.encode("utf-8", "surrogatepass")
    if length < 0:
        raise _CallError(f"runtime error: slice bounds out of range [:{length}]")
    return source if len(data) < length else data[:length].decode("utf-8", "replace")


def _split(s: str, sep: str) -> _Strings:
    return _Strings(list(s) if sep == "" else s.split(sep))


_BUILTINS: dict[str, _Func] = {
    "and": _Func((_VALUE,), _VALUE, lambda *a: a[-1]),  # (evaluated lazily, in _Exec.call)
    "or": _Func((_VALUE,), _VALUE, lambda *a: a[-1]),
    "call": _Func((_VALUE,), _VALUE, _call),
    "html": _Func((), _ANY, _html),
    "index": _Func((_VALUE,), _VALUE, _index),
    "slice": _Func((_VALUE,), _VALUE, _slice),
    "js": _Func((), _ANY, _js),
    "len": _Func((_VALUE,), None, _length),
    "not": _Func((_VALUE,), None, lambda v: not _is_true(v)),
    "print": _Func((), _ANY, _sprint),
    "printf": _Func((_STR,), _ANY, _sprintf),
    "println": _Func((), _ANY, _sprintln),
    "urlquery": _Func((), _ANY, lambda *a: urllib.parse.quote_plus(_printable_args(a), safe="")),
    "eq": _Func((_VALUE,), _VALUE, _eq),
    "ge": _Func((_VALUE, _VALUE), None, lambda a, b: not _lt(a, b)),
    "gt": _Func((_VALUE, _VALUE), None, lambda a, b: not _le(a, b)),
    "le": _Func((_VALUE, _VALUE), None, _le),
    "lt": _Func((_VALUE, _VALUE), None, _lt),
    "ne": _Func((_VALUE, _VALUE), None, lambda a, b: not _eq(a, b)),
}

# Docker's basicFunctions (templates/templates.go).
_FUNCS: dict[str, _Func] = _BUILTINS | {
    "json": _Func((_ANY,), None, _json),
    "split": _Func((_STR, _STR), None, _split),
    "join": _Func((_STRS, _STR), None, lambda elems, sep: sep.join(elems)),
    "title": _Func((_STR,), None, _title),
    "lower": _Func((_STR,), None, lambda s: _case(s, False)),
    "upper": _Func((_STR,), None, lambda s: _case(s, True)),
    "pad": _Func((_STR, _INT, _INT), None, _pad_words),
    "truncate": _Func((_STR, _INT), None, _truncate),
}

# Docker's HeaderFunctions: a table's header keeps the column names as they are.
_HEADER_FUNCS: dict[str, _Func] = _FUNCS | {
    name: _Func(params, None, lambda v, *_: v)
    for name, params in (
        ("json", (_STR,)),
        ("split", (_STR, _STR)),
        ("join", (_STR, _STR)),
        ("title", (_STR,)),
        ("lower", (_STR,)),
        ("upper", (_STR,)),
        ("truncate", (_STR, _INT)),
    )
}


# --- the evaluator (text/template/exec.go) ----------------------------------------------------


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Exec:
    """One run of a template: dot, the variables, the node being run (for errors), the output."""

    def __init__(self, tmpl: Template, funcs: dict[str, _Func], missingkey: str) -> None:
        self.tmpl, self.funcs, self.missingkey = tmpl, funcs, missingkey
        self.name = ""
        self.node: _Node | None = None
        self.vars: list[tuple[str, Any]] = []
        self.out: list[str] = []
        self.depth = 0

    def at(self, node: _Node) -> None:
        self.node = node

    def errorf(self, message: str) -> NoReturn:
        output = "".join(self.out)
        if self.node is None:
            raise TemplateError(f"template: {self.name}: {message}", output=output)
        before = self.tmpl.text[: self.node.pos]
        column = len(before[before.rfind("\n") + 1 :].encode("utf-8", "surrogatepass"))
        where = f":{before.count(chr(10)) + 1}:{column}"
        raise TemplateError(
            f'template: {where}: executing "{self.name}" at <{self.node}>: {message}',
            output=output,
        )

    def var(self, name: str) -> int:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                return i
        self.errorf(f"undefined variable: {name}")

    # Walking the tree.

    def walk(self, dot: Any, node: _Node) -> None:
        self.at(node)
        if isinstance(node, _Text):
            self.out.append(node.text)
        elif isinstance(node, _List):
            for n in node.nodes:
                self.walk(dot, n)
        elif isinstance(node, _Action):
            value = self.pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.at(node)
                self.out.append("<no value>" if value is _NO_VALUE else _fmt_v(value))
        elif isinstance(node, _Branch) and node.kind == "range":
            self.walk_range(dot, node)
        elif isinstance(node, _Branch):
            mark = len(self.vars)
            value = self.pipeline(dot, node.pipe)
            if _is_true(value):
                self.walk(value if node.kind == "with" else dot, node.body)
            elif node.other is not None:
                self.walk(dot, node.other)
            del self.vars[mark:]
        elif isinstance(node, _TemplateCall):
            self.walk_template(dot, node)
        elif isinstance(node, _Keyword):
            raise _Break() if node.word == "break" else _Continue()

    def walk_range(self, dot: Any, node: _Branch) -> None:
        mark = len(self.vars)
        value = self.pipeline(dot, node.pipe)
        top = len(self.vars)
        decl = node.pipe.decl

        def one(key: Any, elem: Any) -> None:
            if decl:
                name = decl[0].idents[0] if len(decl) == 1 else decl[1].idents[0]
                self.vars[self.var(name) if node.pipe.is_assign else top - 1] = (name, elem)
            if len(decl) > 1:
                name = decl[0].idents[0]
                self.vars[self.var(name) if node.pipe.is_assign else top - 2] = (name, key)
            with contextlib.suppress(_Continue):
                self.walk(elem, node.body)
            del self.vars[top:]

        items: list[tuple[Any, Any]] = []
        if isinstance(value, (list, tuple)):
            items = list(enumerate(value))
        elif isinstance(value, dict) and not isinstance(value, GoStruct):
            items = _sorted_items(value)  # in key order
        elif isinstance(value, int) and not isinstance(value, bool):  # Go 1.24: range 3
            if len(decl) > 1:
                self.errorf(f"can't use {value} to iterate over more than one variable")
            items = [(_NO_VALUE, i) for i in range(value)]
        elif value is not _NO_VALUE:  # (no value ranges over nothing, as a nil map does)
            self.errorf(f"range can't iterate over {_fmt_v(value)}")
        try:
            for key, elem in items:
                one(key, elem)
            if not items and node.other is not None:
                self.walk(dot, node.other)
        except _Break:
            pass
        del self.vars[mark:]

    def walk_template(self, dot: Any, node: _TemplateCall) -> None:
        self.at(node)
        tree = self.tmpl.trees.get(node.name)
        if tree is None:
            self.errorf(f"template {_go_quote(node.name)} not defined")
        if self.depth >= _MAX_DEPTH:
            self.errorf(f"exceeded maximum template depth ({_MAX_DEPTH})")
        dot = self.pipeline(dot, node.pipe)
        saved = self.vars, self.name
        self.vars, self.name = [("$", dot)], node.name
        self.depth += 1
        try:
            self.walk(dot, tree)
        except RecursionError:  # (Python's stack ends long before Go's 100000 templates)
            self.errorf(f"exceeded maximum template depth ({_MAX_DEPTH})")
        finally:
            self.vars, self.name = saved
            self.depth -= 1

    # Evaluating pipelines, commands and their arguments.

    def pipeline(self, dot: Any, pipe: _Pipe | None) -> Any:
        """The pipeline's value (a nil is no value), declaring or assigning its variables."""
        if pipe is None:
            return _NO_VALUE
        self.at(pipe)
        value = _MISSING
        for cmd in pipe.cmds:
            value = _deref(self.command(dot, cmd, value))
        for v in pipe.decl:
            if pipe.is_assign:
                self.vars[self.var(v.idents[0])] = (v.idents[0], value)
            else:
                self.vars.append((v.idents[0], value))
        return value

    def not_a_function(self, args: list[_Node] | None, final: Any) -> None:
        if args and (len(args) > 1 or final is not _MISSING):
            self.errorf(f"can't give argument to non-function {args[0]}")

    def command(self, dot: Any, cmd: _Command, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, _Field):
            self.at(first)
            return self.field_chain(dot, first.idents, cmd.args, final)
        if isinstance(first, _Chain):
            return self.chain(dot, first, cmd.args, final)
        if isinstance(first, _Identifier):
            return self.function(dot, first, cmd, cmd.args, final)
        if isinstance(first, _Pipe):
            self.not_a_function(cmd.args, final)
            return self.pipeline(dot, first)
        if isinstance(first, _Variable):
            return self.variable(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, _Nil):
            self.errorf("nil is not a command")
        return self.literal(dot, first)

    def literal(self, dot: Any, node: _Node) -> Any:
        if isinstance(node, _Bool):
            return node.value
        if isinstance(node, _String):
            return node.text
        if isinstance(node, _Number):
            self.at(node)
            text = node.text
            hex_int = text[:2] in ("0x", "0X") and not any(c in text for c in "pP")
            if node.is_complex:
                return node.complex_val
            if node.is_float and not hex_int and text[0] != "'" and any(c in text for c in ".eEpP"):
                return node.float_val
            if node.is_int:
                return node.int_val
            self.errorf(f"{text} overflows int")
        return dot  # (.)

    def chain(self, dot: Any, node: _Chain, args: list[_Node] | None, final: Any) -> Any:
        self.at(node)
        if isinstance(node.node, _Nil):
            self.errorf(f"indirection through explicit nil in {node}")
        receiver = self.arg(dot, None, node.node)
        return self.field_chain(receiver, node.fields, args, final)

    def variable(self, dot: Any, node: _Variable, args: list[_Node] | None, final: Any) -> Any:
        self.at(node)
        value = self.vars[self.var(node.idents[0])][1]
        if len(node.idents) == 1:
            self.not_a_function(args, final)
            return value
        return self.field_chain(value, node.idents[1:], args, final)

    def field_chain(self, receiver: Any, names: list[str], args: Any, final: Any) -> Any:
        """``.A.B.C`` from ``receiver``; the last name gets the arguments, if any."""
        for name in names[:-1]:
            receiver = self.field(name, None, _MISSING, receiver)
        return self.field(names[-1], args, final, receiver)

    def field(self, name: str, args: list[_Node] | None, final: Any, receiver: Any) -> Any:
        """``.name`` of the receiver: a map's key, a struct's field."""
        if receiver is _NO_VALUE:
            if self.missingkey == "error":
                self.errorf(f"nil data; no entry for key {_go_quote(name)}")
            return _NO_VALUE
        if receiver is None:
            self.errorf(f"nil pointer evaluating interface {{}}.{name}")
        has_args = (args is not None and len(args) > 1) or final is not _MISSING
        if isinstance(receiver, GoStruct) and name in receiver:
            if has_args:
                got = (len(args) - 1 if args else 0) + (final is not _MISSING)
                self.errorf(f"wrong number of args for {name}: want 0 got {got}")
            return receiver[name]
        if isinstance(receiver, dict) and not isinstance(receiver, GoStruct):
            if has_args:
                self.errorf(f"{name} is not a method but has arguments")
            if name in receiver:
                return receiver[name]
            if self.missingkey == "error":
                self.errorf(f"map has no entry for key {_go_quote(name)}")
            return None if self.missingkey == "zero" else _NO_VALUE
        self.errorf(f"can't evaluate field {name} in type {_go_type(receiver)}")

    def function(
        self, dot: Any, node: _Identifier, cmd: _Node, args: list[_Node] | None, final: Any
    ) -> Any:
        """Call a function: Go checks the number of arguments and each one's type."""
        self.at(node)
        name, fn = node.name, self.funcs[node.name]
        args = args[1:] if args else []
        n_in = len(args) + (final is not _MISSING)
        fixed = len(fn.params)
        if fn.variadic is not None and n_in < fixed:
            self.errorf(f"wrong number of args for {name}: want at least {fixed} got {len(args)}")
        if fn.variadic is None and n_in != fixed:
            self.errorf(f"wrong number of args for {name}: want {fixed} got {n_in}")
        if name in ("and", "or"):  # they stop at the first argument that decides
            value = _MISSING
            for a in args:
                value = self.arg(dot, _VALUE, a)
                if _is_true(value) == (name == "or"):
                    return value
            return value if final is _MISSING else self.validate(final, _VALUE)
        types = [*fn.params, *[fn.variadic or ""] * (len(args) - fixed)]
        argv = [self.arg(dot, typ, a) for typ, a in zip(types, args, strict=False)]
        if final is not _MISSING:
            last = fn.params[n_in - 1] if fn.variadic is None or n_in - 1 < fixed else fn.variadic
            argv.append(self.validate(final, last))
        if name == "call":
            argv.insert(0, str(args[0]) if args else _fmt_v(final))
        try:
            return fn.body(*argv)
        except _CallError as exc:
            self.at(cmd)
            self.errorf(f"error calling {name}: {exc}")

    def arg(self, dot: Any, typ: str | None, node: _Node) -> Any:
        """An argument of Go type ``typ`` (None: a chain's receiver)."""
        self.at(node)
        if isinstance(node, _Dot):
            return self.validate(dot, typ)
        if isinstance(node, _Nil):
            if typ in (_VALUE, _ANY, _STRS):
                return self.validate(_NO_VALUE, typ)
            self.errorf(f"cannot assign nil to {typ}")
        if isinstance(node, _Field):
            return self.validate(self.field_chain(dot, node.idents, [node], _MISSING), typ)
        if isinstance(node, _Variable):
            return self.validate(self.variable(dot, node, None, _MISSING), typ)
        if isinstance(node, _Pipe):
            return self.validate(self.pipeline(dot, node), typ)
        if isinstance(node, _Identifier):
            return self.validate(self.function(dot, node, node, None, _MISSING), typ)
        if isinstance(node, _Chain):
            return self.validate(self.chain(dot, node, None, _MISSING), typ)
        wanted = {_STR: _String, _INT: _Number}.get(typ or "")
        if typ in (_VALUE, _ANY) or (wanted is _String and isinstance(node, _String)):
            return self.literal(dot, node)
        if wanted is _Number and isinstance(node, _Number) and node.is_int:
            return node.int_val
        if wanted is not None:
            self.errorf(f"expected {'integer' if typ == _INT else typ}; found {node}")
        self.errorf(f"can't handle {node} for arg of type {typ}")

    def validate(self, value: Any, typ: str | None) -> Any:
        """Go's validateType: the value as an argument of type ``typ``, or Go's error."""
        if value is _NO_VALUE:
            if typ in (None, _VALUE):
                return _NO_VALUE
            if typ in (_ANY, _STRS):
                return None if typ == _ANY else _Strings()
            self.errorf(f"invalid value; expected {typ}")
        ok = {
            _STR: isinstance(value, str),
            _INT: isinstance(value, int) and not isinstance(value, bool),
            _STRS: isinstance(value, (list, tuple)) and all(isinstance(x, str) for x in value),
        }
        if typ is None or ok.get(typ, True):
            return value
        self.errorf(f"wrong type for value; expected {typ}; got {_go_type(value)}")


# --- the public face ---------------------------------------------------------------------------


class Template:
    """A parsed template (docker's ``templates.Parse``): a template that does not parse fails
    here, before anything runs or prints."""

    def __init__(self, text: str) -> None:
        self.text = text
        try:
            self.trees = _Parser(text).parse()
        except RecursionError:
            raise TemplateError("template: :1: max expression depth exceeded") from None

    def execute(self, data: Any, *, missingkey: str = "default", header: bool = False) -> str:
        """Run the template on ``data`` and return what it printed.

        ``missingkey`` is Go's option: ``"default"`` (a missing map key is ``<no value>``),
        ``"zero"`` or ``"error"``. ``header`` runs it with Docker's ``HeaderFunctions``, as the
        docker CLI prints a table's header.
        """
        if missingkey not in ("default", "invalid", "zero", "error"):
            raise ValueError(f"unrecognized missingkey option: {missingkey}")
        run = _Exec(self, _HEADER_FUNCS if header else _FUNCS, missingkey)
        root = _NO_VALUE if data is None else data
        run.vars.append(("$", root))
        try:
            run.walk(root, self.trees[""])
        except RecursionError:
            run.errorf(f"exceeded maximum template depth ({_MAX_DEPTH})")
        return "".join(run.out)


def render(fmt: str, data: Any, *, missingkey: str = "default") -> str:
    """Parse ``fmt`` and run it on ``data``, as the docker CLI runs a ``--format`` template."""
    return Template(fmt).execute(data, missingkey=missingkey)
