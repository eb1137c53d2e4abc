"""What ``docker service create``/``scale``/``ps`` print, to the byte, on the fake kernel.

Each expected string names the docker/cli (or moby) source it comes from, at the tag netlab
follows (docker/cli v28.5.2, which vendors moby v28.5.1's ``pkg/jsonmessage`` and go-units
v0.5.0). The progress ``service create`` and ``scale`` print while they wait comes in two
forms, as the CLI's stdout is a terminal or not (``netlab.docker.context.STDOUT_TERMINAL``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from netlab import Lab
from netlab.docker import docker, use
from netlab.docker.commands import swarm as swarm_cmds
from netlab.docker.context import STDOUT_TERMINAL
from netlab.kernel.fake import FakeKernel
from netlab.model import cluster, swarm
from netlab.model.timefmt import ago_lower, human_duration, parse_rfc3339
from netlab.views.tables import ps_row

# docker/cli v28.5.2 cli/command/service/progress/progress.go (replicatedProgressUpdater and
# ServiceProgress: the 5 s monitor, polled every 200 ms), shown by moby v28.5.1
# pkg/jsonmessage/jsonmessage.go off a terminal: "ID: STATUS" a line each, the messages with a
# progress bar (the tasks' "running") left out.
WAITING = "".join(
    f"verify: Waiting {n} seconds to verify that tasks are stable...\n" * 5 for n in (5, 4, 3, 2, 1)
)
# jsonmessage's bar at 9/9 (numberedStates[running] out of maxProgress): 50 "=" then ">".
BAR = "[" + "=" * 50 + ">]"


def d(line: str) -> str:
    out = docker(line)
    assert out.code == 0, f"docker {line}: {out.stdout}{out.stderr}"
    assert out.stderr == ""
    return out.stdout


def swarm_lab(name: str, *workers: str) -> Lab:
    lab = Lab(name, hosts=("node1", *workers))
    use(lab)
    out = d("-H node1 swarm init")
    token = re.search(r"--token (SWMTKN-1-\S+) ", out)
    assert token is not None, out
    for w in workers:
        d(f"-H {w} swarm join --token {token.group(1)} {lab.host('node1').address}:2377")
    return lab


@pytest.fixture
def terminal() -> Iterator[None]:
    """The CLI's stdout is a terminal 120 columns wide (wide enough for the bars: > 110)."""
    token = STDOUT_TERMINAL.set(120)
    yield
    STDOUT_TERMINAL.reset(token)


def screen(text: str) -> list[str]:
    """What a terminal shows after ``text``: its rows, trailing blanks dropped. It knows what
    jsonmessage writes: \\n (the tty's ONLCR: to the next row's start), \\r, ESC[nA, ESC[nB
    (aec's Up/Down) and ESC[2K (aec's EraseLine(EraseModes.All))."""
    rows: list[list[str]] = [[]]
    row = col = 0
    for tok in re.findall(r"\x1b\[(\d+)([ABK])|(\n)|(\r)|([^\x1b\n\r])", text):
        num, code, nl, cr, ch = tok
        if nl:
            row, col = row + 1, 0
        elif cr:
            col = 0
        elif code == "A":
            row = max(0, row - int(num))
        elif code == "B":
            row += int(num)
        elif code == "K":
            assert num == "2"
            rows[row] = []
        else:
            rows[row] += [" "] * (col + 1 - len(rows[row]))
            rows[row][col] = ch
            col += 1
        while len(rows) <= row:
            rows.append([])
    return ["".join(r).rstrip() for r in rows]


# --- service create ----------------------------------------------------------------------------


def test_service_create_off_a_terminal(fake: FakeKernel) -> None:
    swarm_lab("fk_svcout", "node2")
    out = d("-H node1 service create --name web --replicas 2 ubuntu sleep infinity")
    sid = out.splitlines()[0]
    assert re.fullmatch(r"[0-9a-z]{25}", sid)
    assert out == (
        f"{sid}\n"  # docker/cli v28.5.2 cli/command/service/create.go: response.ID
        # docker/cli v28.5.2 cli/command/service/progress/progress.go writeOverallProgress,
        # then progress.Update(ID "1/2", action " ") a bar each: jsonmessage (moby v28.5.1
        # pkg/jsonmessage/jsonmessage.go, Display) prints "ID: " + Status + "\n".
        "overall progress: 0 out of 2 tasks\n"
        "1/2:  \n"
        "2/2:  \n"
        # the tasks' "running" messages have a bar: "disable progressbar in non-terminal"
        "overall progress: 2 out of 2 tasks\n"
        + WAITING
        # progress.go: Action: fmt.Sprintf("Service %s converged", serviceID)
        + f"verify: Service {sid} converged\n"
    )


def test_service_create_on_a_terminal(fake: FakeKernel, terminal: None) -> None:
    swarm_lab("fk_svctty", "node2")
    out = d("-H node1 service create --name web --replicas 2 ubuntu sleep infinity")
    sid = out.splitlines()[0]
    # moby v28.5.1 pkg/jsonmessage/jsonmessage.go DisplayJSONMessagesStream: a new ID opens a
    # line ("\n"), then cursor up, erase the line, "\r", "ID: STATUS PROGRESS\r", cursor down.
    assert out.startswith(
        f"{sid}\n\n\x1b[1A\x1b[2K\roverall progress: 0 out of 2 tasks \r\x1b[1B"
        "\n\x1b[1A\x1b[2K\r1/2:   \r\x1b[1B"
    )
    # What stays on the screen: docker/cli's own example (docker/cli#2964, v20.10) with the
    # service ID after "Service" as v28.5.2's progress.go writes it; 9 = len("allocated"),
    # progress.go's longestState, pads "running"; the bar needs > 110 columns.
    assert screen(out) == [
        sid,
        "overall progress: 2 out of 2 tasks",
        f"1/2: running   {BAR}",
        f"2/2: running   {BAR}",
        f"verify: Service {sid} converged",
        "",
    ]
    # Each line ends in a blank: jsonmessage's "%s %s%s" (Status, Progress.String(), "\r").
    assert "\x1b[2K\rverify: Service " + sid + " converged \r" in out


def test_no_bars_on_a_narrow_terminal(fake: FakeKernel) -> None:
    # moby v28.5.1 pkg/jsonmessage/jsonmessage.go JSONProgress.String: the bar only if the
    # terminal is wider than 110 columns; HideCounts: nothing else.
    swarm_lab("fk_svcnarrow")
    token = STDOUT_TERMINAL.set(80)
    try:
        out = d("-H node1 service create --name web ubuntu sleep infinity")
    finally:
        STDOUT_TERMINAL.reset(token)
    sid = out.splitlines()[0]
    assert screen(out) == [
        sid,
        "overall progress: 1 out of 1 tasks",
        "1/1: running",
        f"verify: Service {sid} converged",
        "",
    ]
    assert "\r1/1: running   \r" in out


@pytest.mark.parametrize("flag", ["-d", "--detach", "-q", "--quiet"])
def test_service_create_detached_or_quiet_prints_the_id_alone(fake: FakeKernel, flag: str) -> None:
    # docker/cli v28.5.2 cli/command/service/create.go: -d returns after the ID; -q waits
    # (helpers.go WaitOnService: the progress goes to io.Discard).
    swarm_lab("fk_svcquiet")
    out = d(f"-H node1 service create {flag} --name web --replicas 3 ubuntu sleep infinity")
    assert re.fullmatch(r"[0-9a-z]{25}\n", out)


def test_many_replicas_have_no_task_lines(fake: FakeKernel) -> None:
    # progress.go: maxProgressBars = 20; with more replicas, the overall line alone.
    swarm_lab("fk_svcmany")
    out = d("-H node1 service create -q --name web --replicas 1 ubuntu sleep infinity")
    out = d("-H node1 service scale web=21")
    assert out == (
        "web scaled to 21\n"
        "overall progress: 0 out of 21 tasks\n"
        "overall progress: 21 out of 21 tasks\n" + WAITING + "verify: Service web converged\n"
    )


def test_service_create_help_lists_quiet(fake: FakeKernel) -> None:
    # docker/cli v28.5.2 cli/command/service/opts.go: addServiceFlags, addDetachFlag
    out = d("service create --help")
    assert re.search(r"\n  -q, --quiet +Suppress progress output\n", out)
    detach = r"\n  -d, --detach +Exit immediately instead of waiting for the service to converge\n"
    assert re.search(detach, out)
    assert re.search(detach, d("service scale --help"))


def test_a_management_command_lists_its_commands_as_docker_does(fake: FakeKernel) -> None:
    # docker/cli v28.5.2 cli/cobra.go usageTemplate: rpad(Name, NamePadding = 11 at least),
    # then Short; the closing "Run ... COMMAND --help" line
    out = d("service --help")
    assert "\nCommands:\n  create      Create a new service\n" in out
    assert "  update      Update a service\n" in out
    assert out.endswith(
        "\n\nRun 'docker service COMMAND --help' for more information on a command.\n"
    )
    assert d("service") == out  # (a management command alone prints its help)


# --- service scale -----------------------------------------------------------------------------


def test_service_scale_waits_on_each_service_by_the_name_given(fake: FakeKernel) -> None:
    swarm_lab("fk_svcscale", "node2")
    d("-H node1 service create -d --name web --replicas 1 ubuntu sleep infinity")
    d("-H node1 service create -d --name db --replicas 1 ubuntu sleep infinity")
    out = d("-H node1 service scale web=3 db=02")
    assert out == (
        # docker/cli v28.5.2 cli/command/service/scale.go: "%s scaled to %d\n" for each, the
        # count parsed (ParseUint), then WaitOnService(serviceID as given) for each in turn.
        "web scaled to 3\n"
        "db scaled to 2\n"
        "overall progress: 0 out of 3 tasks\n"
        "1/3:  \n"
        "2/3:  \n"
        "3/3:  \n"
        "overall progress: 3 out of 3 tasks\n"
        + WAITING
        + "verify: Service web converged\n"
        + "overall progress: 0 out of 2 tasks\n"
        "1/2:  \n"
        "2/2:  \n"
        "overall progress: 2 out of 2 tasks\n" + WAITING + "verify: Service db converged\n"
    )
    # scale.go: --detach: the "scaled to" lines alone.
    assert d("-H node1 service scale -d web=1") == "web scaled to 1\n"
    # Down to none: progress.go writes 0 out of 0, twice, and verifies.
    assert d("-H node1 service scale db=0") == (
        "db scaled to 0\n"
        "overall progress: 0 out of 0 tasks\n"
        "overall progress: 0 out of 0 tasks\n" + WAITING + "verify: Service db converged\n"
    )


# --- service ps, and docker ps's STATUS --------------------------------------------------------


@pytest.mark.parametrize(
    ("later", "state"),
    [
        # docker/cli v28.5.2 cli/command/task/formatter.go CurrentState:
        # PrettyPrint(state) + " " + strings.ToLower(units.HumanDuration(since)) + " ago";
        # go-units v0.5.0 duration.go (vendored by docker/cli v28.5.2) HumanDuration.
        (0.2, "Running less than a second ago"),
        (1, "Running 1 second ago"),
        (5, "Running 5 seconds ago"),
        (90, "Running about a minute ago"),
        (600, "Running 10 minutes ago"),
        (3600, "Running about an hour ago"),
        (2 * 3600, "Running 2 hours ago"),
        (2.5 * 3600, "Running 3 hours ago"),  # int(d.Hours() + 0.5)
        (3 * 86400, "Running 3 days ago"),
    ],
)
def test_service_ps_current_state(
    fake: FakeKernel, monkeypatch: pytest.MonkeyPatch, later: float, state: str
) -> None:
    lab = swarm_lab("fk_svcps")
    d("-H node1 service create -d --name web ubuntu sleep infinity")
    (task,) = lab.host("node1").containers()
    # (the swarm task's own creation time, which service ps counts from: it is recorded
    # after its container's, later by more than the margin below on a busy machine)
    (rec,) = swarm.find_service(cluster.require_manager(lab.host("node1")), "web").tasks.values()
    since = parse_rfc3339(rec.created)
    # (+10 ms: float seconds since 1970 are no exact nanoseconds, as Go's durations are)
    monkeypatch.setattr(swarm_cmds, "time", SimpleNamespace(time=lambda: since + later + 0.01))
    header, row = d("-H node1 service ps web").splitlines()
    start = header.index("CURRENT STATE")
    assert row[start:].rstrip() == state
    # docker ps keeps HumanDuration as it is (moby's container state String: "Up " + ...).
    up = ps_row(task, now=parse_rfc3339(task.record.started_at) + later + 0.01)["Status"]
    assert up == "Up " + state.removeprefix("Running ").removesuffix(" ago").capitalize()


def test_human_duration_is_go_units() -> None:
    # go-units v0.5.0 duration.go (vendored by docker/cli v28.5.2)
    assert human_duration(61) == "About a minute"  # docker ps: "Up About a minute"
    assert human_duration(2.5 * 3600) == "3 hours"  # int(d.Hours() + 0.5): half up
    assert human_duration(3.5 * 3600) == "4 hours"
    assert human_duration(13 * 86400) == "13 days"
    assert human_duration(14 * 86400) == "2 weeks"
    assert human_duration(59 * 86400) == "8 weeks"
    assert human_duration(60 * 86400) == "2 months"
    assert human_duration(729 * 86400) == "24 months"
    assert human_duration(730 * 86400) == "2 years"
    assert human_duration(-3) == "Less than a second"
    # docker/cli v28.5.2 cli/command/task/formatter.go: lower-cased, then " ago"
    assert ago_lower(0) == "less than a second ago"
    assert ago_lower(61) == "about a minute ago"
