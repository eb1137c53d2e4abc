"""Swarm placement on the fake kernel: --constraint, --mode global, --replicas-max-per-node,
pending tasks with the scheduler's reason, and service ps's filters and format (moby v28.5.2
vendored swarmkit manager/constraint/constraint.go, manager/scheduler/filter.go and
pipeline.go; docker/cli v28.5.2 cli/command/task/formatter.go, service/formatter.go)."""

from __future__ import annotations

from netlab.kernel.fake import FakeKernel
from tests.unit.test_model_on_fake_kernel import d, fails, lab_of, swarm


def nodes_of(service: str) -> list[str]:
    out = d(f"-H node1 service ps --format '{{{{.Node}}}}' {service}")
    return sorted(out.splitlines())


def create(args: str) -> None:
    d(f"-H node1 service create -d {args} ubuntu sleep inf")


def test_constraints_place_tasks(fake: FakeKernel) -> None:
    lab = lab_of("fk_place", "node1", "node2", "node3")
    swarm(lab, "node2", "node3")
    create("--name a --replicas 3 --constraint node.hostname==node2")
    assert nodes_of("a") == ["node2", "node2", "node2"]
    create("--name b --replicas 2 --constraint node.role!=manager")
    assert nodes_of("b") == ["node2", "node3"]
    create("--name c --replicas 1 --constraint node.role==MANAGER")
    assert nodes_of("c") == ["node1"]


def test_no_node_fits_a_task_waits_pending(fake: FakeKernel) -> None:
    lab = lab_of("fk_pend", "node1", "node2")
    swarm(lab, "node2")
    create("--name p --replicas 2 --constraint node.hostname==node9")
    fmt = "'{{.Name}}|{{.Node}}|{{.CurrentState}}|{{.Error}}'"
    rows = d(f"-H node1 service ps --no-trunc --format {fmt} p")
    lines = rows.splitlines()
    assert [ln.split("|")[0] for ln in lines] == ["p.1", "p.2"]
    assert all(ln.split("|")[1] == "" for ln in lines)
    assert all(ln.split("|")[2].startswith("Pending ") for ln in lines)
    assert lines[0].split("|")[3] == (
        '"no suitable node (scheduling constraints not satisfied on 2 nodes)"'
    )
    # ERROR is cut to 30 characters in the table (formatter.go maxErrLength)
    table = d("-H node1 service ps p").splitlines()
    assert '"no suitable node (scheduling …"' in table[1]
    assert d("-H node1 service ls --format '{{.Replicas}}'") == "0/2\n"
    assert [c for h in lab.hosts for c in h.containers()] == []


def test_max_replicas_per_node(fake: FakeKernel) -> None:
    lab = lab_of("fk_maxrep", "node1", "node2")
    swarm(lab, "node2")
    d("-H node1 service create -d --name m --replicas 3 --replicas-max-per-node 1 ubuntu sleep inf")
    assert nodes_of("m") == ["", "node1", "node2"]
    errs = d("-H node1 service ps --no-trunc --format '{{.Error}}' m").split("\n")
    assert '"no suitable node (max replicas per node limit exceed)"' in errs
    assert d("-H node1 service ls --format '{{.Replicas}}'") == "2/3 (max 1 per node)\n"


def test_global_mode_follows_the_nodes(fake: FakeKernel) -> None:
    lab_of("fk_global", "node1", "node2", "node3")
    out = d("-H node1 swarm init")
    token = out.split("--token ")[1].split()[0]
    d(f"-H node2 swarm join --token {token} 192.168.56.11:2377")
    d("-H node1 service create -d --name g --mode global ubuntu sleep inf")
    assert nodes_of("g") == ["node1", "node2"]
    assert d("-H node1 service ls --format '{{.Mode}} {{.Replicas}}'") == "global 2/2\n"
    names = d("-H node1 service ps --format '{{.Name}}' g").split()
    ids = d("-H node1 node ls -q").split()
    assert sorted(names) == sorted(f"g.{i}" for i in ids)  # (a node's ID, not a slot)
    d(f"-H node3 swarm join --token {token} 192.168.56.11:2377")
    assert nodes_of("g") == ["node1", "node2", "node3"]
    d("-H node2 swarm leave")
    assert nodes_of("g") == ["node1", "node3"]
    # (docker/cli v28.5.2 cli/command/service/opts.go ToServiceMode)
    assert fails("-H node1 service create --mode global --replicas 2 ubuntu sleep 1") == (
        "replicas can only be used with replicated or replicated-job mode\n"
    )


def test_service_ps_filters(fake: FakeKernel) -> None:
    lab = lab_of("fk_psf", "node1", "node2")
    swarm(lab, "node2")
    d("-H node1 service create -d --name s --replicas 2 ubuntu sleep inf")
    assert d("-H node1 service ps --format '{{.Node}}' --filter node=node2 s") == "node2\n"
    assert d("-H node1 service ps -q --filter desired-state=shutdown s") == ""
    assert len(d("-H node1 service ps -q --filter desired-state=running s").split()) == 2
    assert d("-H node1 service ps --format '{{.Name}}' --filter name=s.2 s") == "s.2\n"
    # (moby v28.5.2 daemon/cluster/filters.go newListTasksFilters)
    assert fails("-H node1 service ps --filter desired-state=sleepy s") == (
        "Error response from daemon: Invalid desired-state filter: 'sleepy'\n"
    )
    assert fails("-H node1 service ps --filter color=red s") == (
        "Error response from daemon: invalid filter 'color'\n"
    )


def test_bad_constraints_are_refused(fake: FakeKernel) -> None:
    lab = lab_of("fk_badc", "node1")
    swarm(lab)
    # (vendored swarmkit manager/constraint/constraint.go Parse, an error without a gRPC code)
    assert fails("-H node1 service create --constraint node.hostname ubuntu sleep 1") == (
        "Error response from daemon: rpc error: code = Unknown desc = constraint expected one "
        "operator from ==, !=\n"
    )
    assert "key '-x' is invalid" in fails("-H node1 service create --constraint -x==1 ubuntu true")
    assert d("-H node1 service ls -q") == ""


def test_service_inspect_shows_the_placement(fake: FakeKernel) -> None:
    import json

    lab = lab_of("fk_insp", "node1")
    swarm(lab)
    create("--name a --replicas 1 --constraint node.role==manager --replicas-max-per-node 2")
    create("--name g --mode global")
    a = json.loads(d("-H node1 service inspect a"))[0]["Spec"]
    assert a["TaskTemplate"]["Placement"] == {
        "Constraints": ["node.role==manager"],
        "MaxReplicas": 2,
    }
    assert a["Mode"] == {"Replicated": {"Replicas": 1}}
    g = json.loads(d("-H node1 service inspect g"))[0]["Spec"]
    assert g["Mode"] == {"Global": {}} and "Placement" not in g["TaskTemplate"]


def test_the_lb_endpoint_in_network_inspect(fake: FakeKernel) -> None:
    import json

    lab = lab_of("fk_lbins", "node1")
    swarm(lab)
    d("-H node1 network create -d overlay overnet")
    create("--name web --network overnet --replicas 1")
    net = json.loads(d("-H node1 network inspect overnet"))[0]
    lb = net["Containers"]["lb-overnet"]
    assert (lb["Name"], lb["IPv4Address"]) == ("overnet-endpoint", "10.0.1.3/24")
    assert "10.0.1.4/24" in [c["IPv4Address"] for c in net["Containers"].values()]


def test_drain_pause_and_node_rm(fake: FakeKernel) -> None:
    """docker/cli v28.5.2 cli/command/node/update.go, remove.go; vendored swarmkit
    manager/controlapi/node.go RemoveNode; daemon/cluster/helpers.go getNode."""
    lab = lab_of("fk_drain", "node1", "node2", "node3")
    swarm(lab, "node2", "node3")
    create("--name s --replicas 3")
    assert nodes_of("s") == ["node1", "node2", "node3"]
    assert d("-H node1 node update --availability drain node2") == "node2\n"
    assert nodes_of("s") == ["node1", "node1", "node3"] or nodes_of("s") == [
        "node1",
        "node3",
        "node3",
    ]
    assert lab.host("node2").containers() == []
    rows = {r.split()[1 if "*" not in r else 2]: r for r in d("-H node1 node ls").splitlines()[1:]}
    assert " Drain " in rows["node2"]
    # pause: keeps its tasks, takes no new one
    d("-H node1 node update --availability active node2")
    d("-H node1 node update --availability pause node3")
    on3 = nodes_of("s").count("node3")
    d("-H node1 service scale -d s=6")
    assert nodes_of("s").count("node3") == on3 and len(nodes_of("s")) == 6
    assert fails("-H node1 node update --availability sleepy node2") == (
        'Error response from daemon: invalid Availability: "sleepy"\n'
    )
    assert fails("-H node1 node update --availability drain node9") == (
        "Error response from daemon: node node9 not found\n"
    )
    # node rm: a node that is up needs --force; a manager cannot go
    node2_id = d("-H node1 node ls -q").split()[1]
    assert fails("-H node1 node rm node2") == (
        f"Error response from daemon: rpc error: code = FailedPrecondition desc = node "
        f"{node2_id} is not down and can't be removed\n"
    )
    assert d("-H node1 node rm --force node2") == "node2\n"
    assert "node2" not in d("-H node1 node ls")
    assert lab.host("node2").containers() == []
    assert len(nodes_of("s")) == 6
