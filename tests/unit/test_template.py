"""netlab's ``--format`` templates against Go's text/template, as the docker CLI 28.5 runs them.

No root: the engine on Python data, then the docker front end on the fake kernel. Each
string that docker or Go prints carries its source in a comment: Go's
``src/text/template/{parse/lex.go,parse/parse.go,exec.go,funcs.go}`` (Go 1.24, the Go of the
docker CLI 28.5.2's Dockerfile) or a path in github.com/docker/cli at tag v28.5.2.
"""

from __future__ import annotations

import doctest
from typing import Any

import pytest

from netlab import Lab
from netlab.docker import docker, template, use
from netlab.docker.template import GoStruct, Template, TemplateError, render
from netlab.kernel.fake import FakeKernel

DATA: dict[str, Any] = {
    "Name": "/web",
    "State": {"Status": "running", "Pid": 1234567, "Running": True, "Health": None},
    "Args": ["-g", "daemon off;"],
    "Labels": {"b": "2", "a": "1"},
    "Empty": [],
    "EmptyMap": {},
    "Zero": 0,
    "Text": "",
    "Ratio": 0.5,
    "Big": 1234567.0,
    "NetworkSettings": {
        "Networks": {"bridge": {"IPAddress": "172.17.0.2"}, "lan": {"IPAddress": "10.0.0.2"}}
    },
}


def run(fmt: str, data: Any = None, **options: Any) -> str:
    return render(fmt, DATA if data is None else data, **options)


def error(fmt: str, data: Any = None, **options: Any) -> str:
    with pytest.raises(TemplateError) as info:
        run(fmt, data, **options)
    return str(info.value)


def test_doctests() -> None:
    result = doctest.testmod(template)
    assert result.attempted > 0 and result.failed == 0


# --- the language (Go's text/template documentation, package doc.go) --------------------------


@pytest.mark.parametrize(
    ("fmt", "out"),
    [
        ("plain text", "plain text"),
        ("{{.Name}}", "/web"),
        ("{{.State.Status}} {{.State.Running}}", "running true"),
        ("{{.Labels.a}}", "1"),  # a map's key, like a field
        ("{{/* a comment */}}x", "x"),
        ("a  {{- .Name -}}  b", "a/webb"),  # trim markers
        ("a \n\t{{- /* trimmed */ -}}\n b", "ab"),
        ("{{-3}}", "-3"),  # no space after "{{-": a number (Go's doc.go)
        ("{{.Labels}}", "map[a:1 b:2]"),
        ("{{with .Labels}}{{.a}}{{$.Name}}{{end}}", "1/web"),  # dot, and $ (the data)
        ("{{$x := .a}}{{$x}}{{$x = .b}}{{$x}}", "12"),  # variables: declared, assigned
        ("{{with $x := .a}}{{$x}}{{.}}{{end}}", "11"),
        ("{{if .a}}yes{{end}}", "yes"),
        ("{{if .c}}yes{{else}}no{{end}}", "no"),
        ("{{if .c}}1{{else if .b}}2{{else}}3{{end}}", "2"),
        ("{{with .a}}<{{.}}>{{end}}", "<1>"),
        ("{{with .c}}<{{.}}>{{else}}none{{end}}", "none"),
        ("{{with .c}}1{{else with .b}}{{.}}{{end}}", "2"),
        ("{{range .Labels}}{{.}}{{end}}", "12"),  # a map: its values, by key
        ("{{range $k, $v := .Labels}}{{$k}}={{$v}} {{end}}", "a=1 b=2 "),
        ("{{range $v := .Args}}[{{$v}}]{{end}}", "[-g][daemon off;]"),  # one variable: the element
        ("{{range $i, $v := .Args}}{{$i}}{{end}}", "01"),
        ("{{range .Empty}}x{{else}}empty{{end}}", "empty"),  # nothing to range over
        ("{{range .Nope}}x{{else}}no value{{end}}", "no value"),
        ("{{range 3}}{{.}}{{end}}", "012"),  # Go 1.24: range over an int
        ("{{range $k, $e := .Labels}}{{if eq $k `b`}}{{break}}{{end}}{{$e}}{{end}}", "1"),
        ("{{range .Labels}}{{if eq . `1`}}{{continue}}{{end}}{{.}}{{end}}", "2"),
        ('{{.a | printf "%s-%s" "x"}}', "x-1"),  # a pipe's value is the last argument
        ('{{printf "%s" (print .a .b)}}', "12"),  # a parenthesised pipeline
        ("{{(.Labels).a}} {{$l := .Labels}}{{$l.b}}", "1 2"),
        ("{{`raw\\n`}} {{1.5}} {{true}} {{0x1F}} {{1e3}} {{'a'}}", "raw\\n 1.5 true 31 1000 97"),
        ('{{"str\\t\\u00e9"}}', "str\té"),
        ('{{define "T"}}[{{.}}]{{end}}{{template "T" .a}}', "[1]"),
        ('{{block "B" .b}}<{{.}}>{{end}}', "<2>"),
    ],
)
def test_the_language(fmt: str, out: str) -> None:
    assert run(fmt, DATA | {"a": "1", "b": "2", "c": ""}) == out


def test_index_into_a_map_then_a_field() -> None:
    """The issue's case: a parenthesised pipeline, then a field of its value."""
    fmt = '{{(index .NetworkSettings.Networks "bridge").IPAddress}}'
    assert run(fmt) == "172.17.0.2"
    fmt = "{{range $n, $e := .NetworkSettings.Networks}}{{$n}}:{{$e.IPAddress}} {{end}}"
    assert run(fmt) == "bridge:172.17.0.2 lan:10.0.0.2 "


def test_with_sets_dot() -> None:
    """``{{with}}`` used to crash ('function "with" not defined')."""
    assert run("{{with .State}}{{.Status}} {{.Pid}}{{end}}") == "running 1234567"
    assert run("{{with .State.Health}}{{.Status}}{{else}}no health{{end}}") == "no health"


@pytest.mark.parametrize(
    ("value", "truth"),
    [
        (False, "F"),
        (0, "F"),
        (0.0, "F"),
        ("", "F"),
        ([], "F"),
        ({}, "F"),
        (None, "F"),
        (True, "T"),
        (-1, "T"),
        ("0", "T"),
        ([0], "T"),
        ({"": None}, "T"),
        (GoStruct({}, "*x.T"), "T"),  # a struct (pointer) is always true
    ],
)
def test_truth_is_gos(value: Any, truth: str) -> None:
    """The empty values are false, 0, nil, and empty arrays, slices, maps and strings."""
    assert run("{{if .v}}T{{else}}F{{end}}", {"v": value}) == truth
    assert run("{{if not .v}}F{{else}}T{{end}}", {"v": value}) == truth


@pytest.mark.parametrize(
    ("fmt", "out"),
    [
        ("{{and 1 0 2}} {{and 1 2}} {{or 0 `` `z`}} {{or 0 ``}}", "0 2 z "),
        ("{{and 0 (index .l 9)}}", "0"),  # and/or stop at the argument that decides
        ("{{not 0}} {{not `x`}}", "true false"),
        ("{{len .l}} {{len `héllo`}} {{len .m}}", "2 6 1"),  # a string's length in bytes
        ("{{index .l 1}} {{index .m `k`}} {{index .m `none`}}", "b v <no value>"),
        ("{{index .n 0 1}} {{index `ab` 0}}", "y 97"),  # nested; a string's byte
        ("{{slice .l 1}} {{slice `hello` 1 3}} {{slice .l}}", "[b] el [a b]"),
        ("{{eq 1 1}} {{eq `a` `b` `a`}} {{ne 1 2}} {{eq .none .none}}", "true true true true"),
        ("{{lt 1 2}} {{le 2 2}} {{gt `b` `a`}} {{ge 1.5 2.5}}", "true true true false"),
        ('{{print 1 2 "a" "b" 3}}|{{println 1 "a"}}|', "1 2ab3|1 a\n|"),
        ('{{printf "%d|%5s|%-3d|%05.1f|%x|%q|%v|%t" 7 "ab" 1 3.14159 255 "é" .l true}}', ""),
        ('{{html "<a href=\'x\'>&"}} {{js "it\'s <b>"}} {{urlquery "a b&c"}}', ""),
    ],
)
def test_builtins(fmt: str, out: str) -> None:
    data = {"l": ["a", "b"], "m": {"k": "v"}, "n": [["x", "y"]]}
    expected = {
        '{{printf "%d|%5s|%-3d|%05.1f|%x|%q|%v|%t" 7 "ab" 1 3.14159 255 "é" .l true}}': (
            '7|   ab|1  |003.1|ff|"é"|[a b]|true'
        ),
        '{{html "<a href=\'x\'>&"}} {{js "it\'s <b>"}} {{urlquery "a b&c"}}': (
            "&lt;a href=&#39;x&#39;&gt;&amp; it\\'s \\u003Cb\\u003E a+b%26c"
        ),
    }
    assert run(fmt, data) == expected.get(fmt, out)


def test_printf_says_what_does_not_fit_as_go_does() -> None:
    # Go's fmt (doc.go, "Format errors"): %!verb(type=value), MISSING, EXTRA, NOVERB.
    assert run('{{printf "%d" "x"}}') == "%!d(string=x)"
    assert run('{{printf "%d %s"  1}}') == "1 %!s(MISSING)"
    assert run('{{printf "%d" 1 2}}') == "1%!(EXTRA int=2)"
    assert run('{{printf "%s" .none}} {{printf "%"}}', {"none": None}) == "%!s(<nil>) %!(NOVERB)"


# --- how values print: Go's fmt %v ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        ({"b": 1, "a": [True, None]}, "map[a:[true <nil>] b:1]"),  # sorted keys; nil inside
        (["a", "b c"], "[a b c]"),
        ([], "[]"),
        (None, "<no value>"),  # a nil printed by an action (exec.go printValue)
        (True, "true"),
        (1234567, "1234567"),
        (0.5, "0.5"),
        (1e6, "1e+06"),  # strconv's shortest 'g': %e from exponent 6 on
        (123456.0, "123456"),
        (1e-05, "1e-05"),
        (0.0001, "0.0001"),
        (float("inf"), "+Inf"),
        (-0.0, "-0"),
        (GoStruct({"A": 1, "B": "x"}, "*t.T"), "{1 x}"),
    ],
)
def test_values_print_as_gos_fmt(value: Any, printed: str) -> None:
    assert run("{{.v}}", {"v": value}) == printed


def test_inspect_numbers_print_as_docker_prints_them() -> None:
    """``docker inspect -f '{{.State.Pid}}'`` prints ``1234567``: Docker runs templates on its
    typed structs (int fields), and its raw-JSON retry decodes with UseNumber
    (cli/command/inspect/inspector.go, tryRawInspectFallback), never float64's
    ``1.234567e+06``. netlab's documents hold Python ints, which print alike."""
    assert run("{{.State.Pid}}", missingkey="error") == "1234567"
    assert run("{{json .State.Pid}} {{.Big}} {{json .Big}}") == "1234567 1.234567e+06 1234567"


def test_a_missing_key_is_no_value_or_an_error() -> None:
    # exec.go evalField: missingkey=default is the invalid value, printed "<no value>".
    assert run("{{.Nope}}|{{.State.Nope}}|{{.Nope.Deeper}}") == "<no value>|<no value>|<no value>"
    # (missingkey=zero: the zero interface{}, which prints as no value too)
    assert run("{{.Nope}}", missingkey="zero") == "<no value>"
    # exec.go evalField with missingkey=error (docker inspect's retry on the raw JSON,
    # cli/command/inspect/inspector.go: i.tmpl.Option("missingkey=error")).
    assert error("{{.Nope}}", missingkey="error") == (
        'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"'
    )
    # (The column is the byte offset of the second name: Go's parser makes ".State" + ".Nope"
    # one field node, placed where ".Nope" is; parse.go operand.)
    assert error("{{.State.Nope}}", missingkey="error") == (
        'template: :1:8: executing "" at <.State.Nope>: map has no entry for key "Nope"'
    )
    # exec.go evalField: a field of a nil interface (JSON null).
    assert error("{{.State.Health.Status}}") == (
        'template: :1:8: executing "" at <.State.Health.Status>: '
        "nil pointer evaluating interface {}.Status"
    )


def test_json_is_gos_encoding() -> None:
    # Docker's json function (templates/templates.go): encoding/json, SetEscapeHTML(false),
    # the trailing new line trimmed.
    data = {"s": "<a&b>\n\u2028", "f": [1.0, 1e21, 1e-7, 0.5], "n": None, "m": {"b": 1, "a": 2}}
    assert run("{{json .}}", data) == (
        '{"s":"<a&b>\\n\\u2028","f":[1,1e+21,1e-7,0.5],"n":null,"m":{"b":1,"a":2}}'
    )
    assert run("{{json .missing}}", data) == "null"
    # A docker ps row marshals through a map (cli/command/formatter/reflect.go MarshalJSON):
    # sorted keys.
    assert run("{{json .}}", GoStruct({"Names": "web", "ID": "abc"}, "*t.T")) == (
        '{"ID":"abc","Names":"web"}'
    )


def test_dockers_functions() -> None:
    """templates/templates.go: json, split, join, title, lower, upper, pad, truncate."""
    data = {"s": "hello wORld-x", "l": ["a", "b"]}
    assert run("{{split .s ` `}} {{join .l `,`}} {{join (split `a.b` `.`) `-`}}", data) == (
        "[hello wORld-x] a,b a-b"
    )
    assert run("{{title .s}}|{{upper .s}}|{{lower .s}}", data) == (
        "Hello WORld-X|HELLO WORLD-X|hello world-x"
    )
    assert run("[{{pad `x` 2 1}}][{{pad `` 2 1}}] {{truncate .s 5}} {{truncate `ab` 5}}", data) == (
        "[  x ][] hello ab"
    )


# --- errors: Go's words -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        # parse/lex.go
        ("{{", "template: :1: unclosed action"),
        ("{{.Name", "template: :1: unclosed action"),
        ("a\n{{ .Name\n", "template: :3: unclosed action started at :2"),  # (parse.go unexpected)
        ("{{.Name}", "template: :1: bad character U+007D '}'"),
        ('{{"x}}', "template: :1: unterminated quoted string"),
        ("{{/* x", "template: :1: unclosed comment"),
        ("{{/* x */ }}", "template: :1: comment ends before closing delimiter"),
        ("{{(.Name}}", "template: :1: unclosed left paren"),
        ("{{.Name)}}", "template: :1: unexpected right paren"),
        ("{{1x}}", 'template: :1: bad number syntax: "1x"'),
        ("{{.A €}}", "template: :1: unrecognized character in action: U+20AC '€'"),
        # parse/parse.go
        ("{{if .Name}}x", "template: :1: unexpected EOF"),
        ("{{end}}", "template: :1: unexpected {{end}}"),
        ("{{else}}", "template: :1: unexpected {{else}}"),
        ("{{if 1}}{{else}}{{else}}{{end}}", "template: :1: expected end; found {{else}}"),
        ("{{}}", "template: :1: missing value for command"),
        ("{{range}}{{end}}", "template: :1: missing value for range"),
        ("{{nosuch .}}", 'template: :1: function "nosuch" not defined'),
        ("{{$x}}", 'template: :1: undefined variable "$x"'),
        ("{{.Name | 1}}", "template: :1: non executable command in pipeline stage 2"),
        ("{{break}}", "template: :1: {{break}} outside {{range}}"),
        ("{{with $a, $b := 1}}{{end}}", "template: :1: too many declarations in with"),
        ('{{"x".Y}}', 'template: :1: unexpected . after term "\\"x\\""'),
        ("{{if}}", "template: :1: missing value for if"),
        ("{{end x}}", 'template: :1: unexpected "x" in end'),
        ("{{'ab'}}", "template: :1: malformed character constant: 'ab'"),
        ("{{99999999999999999999}}", 'template: :1: integer overflow: "99999999999999999999"'),
    ],
)
def test_parse_errors(fmt: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        Template(fmt)  # (before anything runs: no data)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        # exec.go
        ("{{.Name.X}}", ':1:7: executing "" at <.Name.X>: can\'t evaluate field X in type string'),
        ("{{range .Name}}{{end}}", ':1:8: executing "" at <.Name>: range can\'t iterate over /web'),
        ("{{.Name 1}}", ':1:2: executing "" at <.Name>: Name is not a method but has arguments'),
        ("{{1 2}}", ':1:2: executing "" at <1>: can\'t give argument to non-function 1'),
        ("{{nil}}", ':1:2: executing "" at <nil>: nil is not a command'),
        (
            "{{upper}}",
            ':1:2: executing "" at <upper>: wrong number of args for upper: want 1 got 0',
        ),
        (
            "{{upper .State.Pid}}",
            ':1:14: executing "" at <.State.Pid>: wrong type for value; expected string; got int',
        ),
        ("{{upper 1}}", ':1:8: executing "" at <1>: expected string; found 1'),
        ('{{template "T"}}', ':1:11: executing "" at <{{template "T"}}>: template "T" not defined'),
        # funcs.go, as exec.go reports a function's error ("error calling NAME: ...")
        (
            "{{index .Args 5}}",
            ':1:2: executing "" at <index .Args 5>: error calling index: index out of range: 5',
        ),
        (
            "{{index .Args `x`}}",
            ':1:2: executing "" at <index .Args `x`>: '
            "error calling index: cannot index slice/array with type string",
        ),
        (
            "{{index .Args 2}}",
            ':1:2: executing "" at <index .Args 2>: '
            "error calling index: reflect: slice index out of range",
        ),
        ("{{len 3}}", ':1:2: executing "" at <len 3>: error calling len: len of type int'),
        (
            "{{eq 1 `a`}}",
            ':1:2: executing "" at <eq 1 `a`>: '
            "error calling eq: incompatible types for comparison: int and string",
        ),
        (
            "{{eq 1}}",
            ':1:2: executing "" at <eq 1>: error calling eq: missing argument for comparison',
        ),
        (
            "{{lt .Args .Args}}",
            ':1:2: executing "" at <lt .Args .Args>: error calling lt: invalid type for comparison',
        ),
        (
            "{{slice .Args 2 1}}",
            ':1:2: executing "" at <slice .Args 2 1>: '
            "error calling slice: invalid slice index: 2 > 1",
        ),
    ],
)
def test_execution_errors(fmt: str, message: str) -> None:
    assert error(fmt) == "template: " + message


def test_an_error_says_where_in_a_longer_template() -> None:
    # parse.go ErrorContext: the line, then the byte offset in it; exec.go: the node's text.
    assert error("{{.Name}}\n  {{.Nope.X}}", missingkey="error") == (
        'template: :2:9: executing "" at <.Nope.X>: map has no entry for key "Nope"'
    )
    assert error("é{{.Nope}}", missingkey="error").startswith("template: :1:4: ")


# --- the docker front end, on the fake kernel ----------------------------------------------------


@pytest.fixture
def lab(fake: FakeKernel) -> Lab:
    lab = Lab("fk_tmpl", hosts=("host",))
    use(lab)
    assert docker("run -d --name web ubuntu sleep infinity").code == 0
    return lab


def test_inspect_templates(lab: Lab) -> None:
    # (cli/command/inspect/inspector.go TemplateInspector.Inspect: the template's output, then
    # a new line)
    out = docker("""inspect -f '{{(index .NetworkSettings.Networks "bridge").IPAddress}}' web""")
    assert (out.stdout, out.code) == ("172.17.0.2\n", 0)
    out = docker("inspect -f '{{with .State}}{{.Status}}{{end}} {{.Name}}' web")
    assert (out.stdout, out.code) == ("running /web\n", 0)
    out = docker("network inspect --format '{{.Name}}\\t{{.Driver}}' bridge")
    assert out.stdout == "bridge\\tbridge\n"  # inspect leaves "\t" as typed (no formatter)
    out = docker("inspect --format json web")  # inspector.go NewJSONInspector: one line
    assert out.stdout.startswith('[{"Id":"') and out.stdout.count("\n") == 1


def test_a_template_that_does_not_parse_is_dockers_error_with_status_64(lab: Lab) -> None:
    out = docker("network inspect -f '{{' bridge")
    # cli/command/inspect/inspector.go: fmt.Errorf("template parsing error: %w", err) and
    # cli.StatusError{StatusCode: 64}; cmd/docker/docker.go prints it as it is, exits 64.
    assert (out.stdout, out.stderr, out.code) == (
        "",
        "template parsing error: template: :1: unclosed action\n",
        64,
    )
    assert "Error response from daemon" not in out.stderr
    assert docker("inspect -f '{{end}}' web").code == 64


def test_a_template_that_fails_on_an_object(lab: Lab) -> None:
    out = docker("inspect -f '{{.Nope}}' web")
    # inspector.go: the raw-JSON retry with missingkey=error; its error, exit status 1; Flush
    # writes a new line when nothing was printed.
    assert (out.stdout, out.stderr, out.code) == (
        "\n",
        'template parsing error: template: :1:2: executing "" at <.Nope>: '
        'map has no entry for key "Nope"\n',
        1,
    )


def test_list_formats(lab: Lab) -> None:
    assert docker("run -d --name db ubuntu sleep infinity").code == 0
    # (cli/command/formatter/formatter.go preFormat: a typed "\t" becomes a tab)
    assert docker("ps --format '{{.Names}}\\t{{.State}}'").stdout == "db\trunning\nweb\trunning\n"
    assert docker("ps --format '{{with .Names}}<{{.}}>{{end}}'").stdout == "<db>\n<web>\n"
    # cli/command/formatter/formatter.go: the header is the template run on the column
    # names with HeaderFunctions (upper keeps "NAMES"); tabwriter(minwidth 10, padding 3).
    assert docker("ps --format 'table {{upper .Names}}\\t{{.State}}'").stdout == (
        "NAMES     STATE\nDB        running\nWEB       running\n"
    )
    # network/formatter.go newFormat: "table" alone is the default table.
    assert docker("network ls --format table").stdout.startswith(
        "NETWORK ID     NAME      DRIVER    SCOPE\n"
    )
    # formatter.go preFormat: the spaces around a template go.
    assert docker("network ls --format '  {{.Name}}  '").stdout == "bridge\nhost\nnone\n"
    # reflect.go MarshalJSON: a row's JSON has sorted keys.
    assert docker("ps --format json").stdout.startswith('{"Command":')


def test_list_format_errors(lab: Lab) -> None:
    # cli/command/container/list.go: ps parses and runs the template (on an empty row) first.
    out = docker("ps --format '{{'")
    assert (out.stdout, out.stderr, out.code) == (
        "",
        "failed to parse template: template: :1: unclosed action\n",
        1,
    )
    out = docker("ps --format '{{.Nope}}'")
    assert out.stderr == (
        'failed to execute template: template: :1:2: executing "" at <.Nope>: '
        "can't evaluate field Nope in type *formatter.ContainerContext\n"
    )
    # cli/command/formatter/formatter.go: errors.Wrap(err, "template parsing error"), for
    # parsing and for running; nothing printed.
    out = docker("network ls --format '{{.Nope}}'")
    assert (out.stdout, out.stderr, out.code) == (
        "",
        'template parsing error: template: :1:2: executing "" at <.Nope>: '
        "can't evaluate field Nope in type *network.networkContext\n",
        1,
    )
    assert docker("network ls --format 'x{{'").stderr == (
        "template parsing error: template: :1: unclosed action\n"
    )
