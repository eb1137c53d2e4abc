"""Property-based, no root: the flag parser and the template engine on arbitrary input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netlab.docker import COMMANDS
from netlab.docker.flags import FlagError, parse
from netlab.docker.template import TemplateError, render
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


@settings(max_examples=1000, derandomize=True)
@given(st.text(alphabet='{}. -abcjsonrangeindex"0\\t', max_size=30))
def test_templates_only_raise_template_errors(fmt: str) -> None:
    data = {"a": {"b": [1, "x"]}, "c": "text", "n": 3}
    try:
        assert isinstance(render(fmt, data), str)
    except TemplateError as exc:
        assert str(exc).startswith("template:")


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
