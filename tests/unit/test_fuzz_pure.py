"""Property-based, no root: the flag parser and the template engine on arbitrary input."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from netlab.docker import COMMANDS
from netlab.docker.flags import FlagError, parse
from netlab.docker.template import GoStruct, TemplateError, render
from netlab.errors import InvalidArgument
from netlab.model import topology
from netlab.model.ports import parse_publish

TOKENS = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "-d",
                "-dt",
                "--name",
                "--name=x",
                "-p",
                "--",
                "-p8080:80",
                "--rm",
                "-",
                "--",
                "x",
                "-h",
            ]
        ),
        st.text(max_size=8),
    ),
    max_size=8,
)


@settings(max_examples=1000, derandomize=True)
@given(TOKENS, st.sampled_from(sorted(COMMANDS)))
def test_flag_parser_only_raises_flag_errors(tokens: list[str], path: str) -> None:
    cmd = COMMANDS[path]
    try:
        opts, args = parse(cmd.flags, tokens, interspersed=cmd.interspersed)
    except FlagError as exc:
        assert str(exc)
    else:
        assert set(opts) == {f.name for f in cmd.flags}
        assert all(isinstance(a, str) for a in args)


TEMPLATE_DATA = {
    "a": {"b": [1, "x", None, 2.5], "c": {"d": True}},
    "c": "text",
    "n": 3,
    "f": 1e21,
    "z": None,
    "e": [],
    "row": GoStruct({"ID": "abc", "Names": "web"}, "*formatter.ContainerContext"),
}
# Pieces of Go's template language, so that random strings often get past the lexer.
TEMPLATE_WORDS = st.sampled_from(
    [
        *"""{{ }} {{/* */}} .a .b .c .row.ID $ $x := = | ( ) "s" `r` 'c' 1 -2 0x1f 1e3 nil true .
        , if else end range with break continue define template block index len slice printf
        print println eq lt and or not json split join title upper lower pad truncate html call
        "%v" "%d" "%5.2f" "%q" """.split(),  # noqa: SIM905 (a list of 60 words)
        " ",
        " -}}",
        "{{- ",
    ]
)


@settings(max_examples=2000, derandomize=True)
@given(
    st.lists(st.one_of(TEMPLATE_WORDS, st.text(max_size=3)), max_size=14).map("".join),
    st.sampled_from(["default", "zero", "error"]),
)
def test_templates_only_raise_template_errors(fmt: str, missingkey: str) -> None:
    """Whatever the string, the engine answers or says why in Go's words; never another
    exception (no IndexError, RecursionError, KeyError...)."""
    try:
        assert isinstance(render(fmt, TEMPLATE_DATA, missingkey=missingkey), str)
    except TemplateError as exc:
        assert str(exc).startswith("template: ")


@settings(max_examples=500, derandomize=True)
@given(st.text(max_size=40))
def test_any_text_only_raises_template_errors(fmt: str) -> None:
    try:
        assert isinstance(render(fmt, TEMPLATE_DATA), str)
    except TemplateError as exc:
        assert str(exc).startswith("template: ")


@st.composite
def template_and_output(draw: st.DrawFn, data: dict[str, Any], depth: int = 0) -> tuple[str, str]:
    """A valid template of random constructs, and what Go prints for it on ``data``
    (``s``: a string, ``n``: an int, ``b``: a bool, ``l``: a list of strings; read from ``$``,
    the data, as dot changes inside ``with`` and ``range``)."""
    kinds = ["text", "field", "if", "with", "range", "var", "len", "eq", "upper", "comment"]
    kind = draw(st.sampled_from(kinds[:2] if depth > 2 else kinds))
    s, n, b, lst = data["s"], data["n"], data["b"], data["l"]

    def inner() -> tuple[str, str]:
        return draw(template_and_output(data, depth + 1))

    if kind == "text":  # (no "{" in text: "{{" would start an action)
        text = draw(st.text(alphabet=st.characters(exclude_characters="{"), max_size=6))
        return text, text
    if kind == "field":
        name = draw(st.sampled_from("snbl"))
        shown = {"s": s, "n": str(n), "b": str(b).lower(), "l": "[" + " ".join(lst) + "]"}
        return f"{{{{$.{name}}}}}", shown[name]
    if kind == "if":
        (t1, o1), (t2, o2) = inner(), inner()
        return f"{{{{if $.b}}}}{t1}{{{{else}}}}{t2}{{{{end}}}}", o1 if b else o2
    if kind == "with":
        (t1, o1), (t2, o2) = inner(), inner()
        fmt = f"{{{{with $.s}}}}[{{{{.}}}}]{t1}{{{{else}}}}{t2}{{{{end}}}}"
        return fmt, f"[{s}]{o1}" if s else o2
    if kind == "range":  # dot is each element; $ is still the data
        return "{{range $i, $e := $.l}}{{$i}}={{.}}/{{$e}} {{end}}", "".join(
            f"{i}={e}/{e} " for i, e in enumerate(lst)
        )
    if kind == "var":
        t1, o1 = inner()
        return f"{{{{$v := $.n}}}}{t1}{{{{$v}}}}", o1 + str(n)
    if kind == "len":
        return "{{len $.s}}|{{len $.l}}", f"{len(s.encode())}|{len(lst)}"
    if kind == "eq":
        k = draw(st.integers(-2, 2))
        fmt = f"{{{{eq $.n {k}}}}} {{{{lt $.n {k}}}}}"
        return fmt, f"{str(n == k).lower()} {str(n < k).lower()}"
    if kind == "upper":
        return "{{$.s | upper}}", s.upper()
    return "a {{- /* comment */ -}} \n b", "ab"


@settings(max_examples=500, derandomize=True)
@given(
    st.fixed_dictionaries(
        {
            "s": st.text(alphabet="abcxyz ", max_size=5),
            "n": st.integers(-3, 3),
            "b": st.booleans(),
            "l": st.lists(st.text(alphabet="pq", min_size=1, max_size=2), max_size=3),
        }
    ).flatmap(lambda d: st.tuples(st.just(d), st.lists(template_and_output(d), max_size=4)))
)
def test_valid_templates_print_what_go_prints(case: tuple[dict[str, Any], list[Any]]) -> None:
    """Templates built from valid pieces parse, run, and print what each piece prints."""
    data, pieces = case
    fmt = "".join(t for t, _ in pieces)
    assert render(fmt, data) == "".join(o for _, o in pieces), fmt


@settings(max_examples=1000, derandomize=True)
@given(st.text(alphabet="0123456789:.-/udptcp[]", max_size=24))
def test_port_specs_parse_or_say_why(spec: str) -> None:
    try:
        maps = parse_publish(spec)
    except InvalidArgument as exc:
        assert str(exc)
    else:
        assert 1 <= len(maps) <= 100
        assert all(1 <= m.container_port <= 65535 and 0 <= m.host_port <= 65535 for m in maps)


NAME_CHECKS = (
    topology.check_lab_name,
    topology.check_host_name,
    topology.check_container_name,
    topology.check_network_name,
    topology.check_swarm_name,
)


@settings(max_examples=400, derandomize=True)
@given(
    st.text(alphabet="ab1_-.", min_size=0, max_size=8),
    st.characters(categories=["Cc"]),  # newline, tab, NUL, escape...
    st.text(alphabet="ab1_-.", min_size=0, max_size=8),
)
def test_no_name_with_a_control_character_is_accepted(head: str, ctrl: str, tail: str) -> None:
    """Every kind of name refuses a control character anywhere, a trailing newline too
    (``re.match`` with ``$`` used to accept ``"lab\\n"``)."""
    for check in NAME_CHECKS:
        try:
            check(head + ctrl + tail)
        except InvalidArgument:
            continue
        raise AssertionError(f"{check.__name__} accepted {head + ctrl + tail!r}")
