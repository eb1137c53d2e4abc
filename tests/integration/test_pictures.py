"""Topology graph from the kernel, rendering, the explorer widget and the machine view."""

from __future__ import annotations

import html
import io
import re
import shlex
import subprocess
import sys

import pytest
from matplotlib.patches import FancyArrowPatch

from netlab import Lab
from netlab.docker import docker, use
from netlab.errors import NetlabError
from netlab.kernel import netns, rtnl
from netlab.model import topology
from netlab.views import draw
from netlab.views.draw import layout, paint
from netlab.views.topology import br_node, discover, ns_node

pytestmark = pytest.mark.root

PNG = b"\x89PNG\r\n\x1a\n"


def test_veth_edges_connect_eth0_to_its_real_bridge_port(lab: Lab) -> None:
    use(lab)
    docker("run -d --name web1 -p 8080:80 nginx")
    docker("network create mynet")
    docker("run -d --name a1 --network mynet ubuntu sleep infinity")
    g = discover(lab)
    host = lab.host()
    for name in ("web1", "a1"):
        c = host.container(name)
        bridge = c.networks[next(iter(c.networks))].bridge
        edge = g.edges[ns_node(c.ns), br_node(host.ns, bridge)]
        assert edge["kind"] == "veth"
        port = edge["ends"][br_node(host.ns, bridge)]
        eth0 = next(lk for lk in rtnl.links(c.ns) if lk.name == "eth0")
        assert port == next(lk.name for lk in rtnl.links(host.ns) if lk.index == eth0.peer_index)
        assert edge["ends"][ns_node(c.ns)] == "eth0"
        assert g.nodes[ns_node(c.ns)]["role"] == "container"
    pub = [d for _, _, d in g.edges(data=True) if d["kind"] == "published"]
    assert [(p["host_port"], p["container_port"], p["proto"]) for p in pub] == [(8080, 80, "tcp")]
    # The host hangs on the LAN switch through its eth0.
    lan = topology.ns_name(lab.name, "lan")
    assert g.edges[ns_node(host.ns), br_node(lan, "lan0")]["kind"] == "veth"


def test_a_leftover_namespace_is_marked(lab: Lab) -> None:
    stray = topology.ns_name(lab.name, "stray")
    netns.create(stray)
    g = discover(lab)
    assert g.nodes[ns_node(stray)]["role"] == "leftover"
    fig = draw.draw(lab, g)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "leftover: stray" in texts


def test_vxlan_edge_carries_the_real_vni(make_lab) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab(hosts=("node1", "node2"))
    use(lab)
    token = re.search(r"--token (\S+)", docker("-H node1 swarm init").stdout).group(1)  # type: ignore[union-attr]
    docker(f"-H node2 swarm join --token {token} 192.168.56.11:2377")
    docker("-H node1 network create -d overlay overnet")
    docker("-H node1 service create --name s --network overnet --replicas 2 alpine sleep 600")
    g = discover(lab)
    vx = [(a, b, d) for a, b, d in g.edges(data=True) if d["kind"] == "vxlan"]
    # (one per overlay: ingress, VNI 4096, on every node since it joined, and overnet)
    assert sorted(d["vni"] for _, _, d in vx) == [4096, 4097]
    a, b, d = next(e for e in vx if e[2]["vni"] == 4097)
    kernel_vni = next(lk.vxlan_id for lk in rtnl.links(g.nodes[a]["ns"]) if lk.name == "vxlan0")
    assert d["vni"] == kernel_vni == 4097 and d["port"] == 4789
    assert {g.nodes[a]["host"], g.nodes[b]["host"]} == {"node1", "node2"}
    t1 = lab.host("node1").containers()[0]
    t2 = lab.host("node2").containers()[0]
    p = draw.path(g, ns_node(t1.ns), ns_node(t2.ns))
    assert a in p and b in p, p
    # Each node's load balancer is known for what it is (no "leftover" box in the picture).
    roles = sorted(d["role"] for _, d in g.nodes(data=True) if d["kind"] == "namespace")
    # (lb-overnet and ingress-sbox on each node)
    labels = sorted(d["label"] for _, d in g.nodes(data=True) if d.get("role") == "loadbalancer")
    assert labels == ["ingress-sbox", "ingress-sbox", "lb-overnet", "lb-overnet"]
    assert "leftover" not in roles
    # The tunnels run on lanes under the host boxes, where their labels cross nothing, and
    # the tasks' long names are made to fit their boxes.
    plan = layout.plan(g)
    assert len(plan.tunnels) == 2
    assert all(tn.label_at[1] < plan.host_bottom for tn in plan.tunnels)
    # Each node's ingress-sbox is drawn with its two veths (to docker_gwbridge and to the
    # ingress br0): the routing mesh's path through a node has no gap.
    wired = {(w.container, w.bridge) for w in plan.wires}
    for sbox in [k for k, d in g.nodes(data=True) if d.get("label") == "ingress-sbox"]:
        veths = {(sbox, n) for n in g.neighbors(sbox) if g.edges[sbox, n]["kind"] == "veth"}
        assert len(veths) == 2 and veths <= wired, (veths, wired)
    assert paint.overlaps(draw.draw(lab, g)) == []


def test_rendering_png_and_svg(lab: Lab, tmp_path) -> None:  # type: ignore[no-untyped-def]
    use(lab)
    docker("run -d --name web1 -p 8080:80 nginx")
    png, svg = tmp_path / "lab.png", tmp_path / "lab.svg"
    pic = lab.draw(str(png))
    assert pic._repr_png_().startswith(PNG)
    assert repr(pic) == f"<picture of lab {lab.name}, drawn from the kernel>"
    data = png.read_bytes()
    assert data.startswith(PNG) and 20_000 < len(data) < 2_000_000
    out = subprocess.run(
        [sys.executable, "-m", "netlab", "draw", "-L", lab.name, "-o", str(svg)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert svg.read_text().lstrip().startswith(("<?xml", "<svg"))
    # Same lab, same picture.
    again = tmp_path / "again.png"
    lab.draw(str(again))
    assert again.read_bytes() == data


def test_a_docker_host_s_picture_has_no_text_on_text_or_across_borders(lab: Lab) -> None:
    use(lab)
    docker("network create mynet")
    docker("run -d --name web1 -p 8080:80 nginx")
    docker("run -d --name web2 -p 127.0.0.1:8081:80 --network mynet nginx")
    docker("run -d --name c1 --network mynet ubuntu sleep infinity")
    fig = draw.draw(lab)
    assert paint.overlaps(fig) == []
    # 8080 comes from the LAN (a teal arrow); 8081, on 127.0.0.1 only, does not (grey, none).
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "tcp 8080 \u2192 web1:80" in texts
    assert "tcp 127.0.0.1:8081 \u2192 web2:80 (host only)" in texts
    assert sum(isinstance(p, FancyArrowPatch) for p in fig.axes[0].patches) == 1


def test_fifty_containers_are_summarised_in_the_picture(lab: Lab) -> None:
    host = lab.host()
    for _ in range(50):
        host.run("alpine", "sleep 600")
    fig = draw.draw(lab)  # (how fast: bench/bench_scale.py, not a timed test)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "+ 43 more" in texts


def test_explorer_widget_runs_and_highlights(lab: Lab) -> None:
    use(lab)
    docker("run -dt --name c1 ubuntu sleep infinity")
    ex = lab.explorer()
    assert "container c1 (host)" in ex.source.options
    ex.source.value = "container c1 (host)"
    ex.target.value = f"internet {topology.WEB_SITE_NAME}"
    before = ex.picture.value
    ex.run_button.click()
    assert "reached" in ex.result.value and "1 received" in ex.result.value
    assert "c1 \u2192 docker0 \u2192 host \u2192 lan0" in ex.result.value
    assert ex.picture.value != before, "the path should be drawn"
    ex.tool.value = "curl"
    ex.run_button.click()
    assert "HTTP 200 from 198.51.100.80" in ex.result.value
    docker("run -d --name late alpine sleep 600")
    ex.refresh_button.click()
    assert "container late (host)" in ex.target.options
    bundle = ex._repr_mimebundle_()
    assert {"image/png", "text/plain", "application/vnd.jupyter.widget-view+json"} <= set(bundle)


def test_the_explorer_shows_a_failed_request_as_failed(lab: Lab) -> None:
    use(lab)
    docker("run -d --name web nginx")  # (not published: the LAN cannot reach it)
    ex = lab.explorer()
    ex.source.value = "LAN client"
    ex.target.value = "container web (host)"
    ex.tool.value = "curl"
    ex.run_button.click()
    shown = ex.result.value
    # It left the client and reached the LAN (switch lan0, in the router's namespace), and
    # went no further on its way: the router knows no route to the containers' addresses,
    # the host never saw it (tcpdump in each namespace of the path says so).
    assert "failed (exit 28): last seen at lan0, its way drawn in red" in shown, shown
    failed_picture = ex.picture.value
    # The command as shown can be pasted into a shell: it splits back into curl's words.
    line = html.unescape(re.search(r"<b>(.*?)</b>", shown)[1])
    assert shlex.split(line)[:2] == ["curl", "-sS"]
    assert "HTTP %{http_code} from %{remote_ip}\\n" in shlex.split(line)
    assert pixels(failed_picture, paint.FAILED) > 200 and pixels(failed_picture, paint.HOT) == 0
    # A request that got through: its path orange, nothing red.
    docker("run -d --name pub nginx")
    ex.refresh_button.click()
    ex.source.value = "container pub (host)"
    ex.target.value = "container web (host)"
    ex.run_button.click()
    assert "reached" in ex.result.value and "HTTP 200" in ex.result.value
    assert pixels(ex.picture.value, paint.HOT) > 200 and pixels(ex.picture.value, paint.FAILED) == 0


def test_the_explorer_and_draw_say_when_the_lab_is_gone(make_lab) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab()
    ex = lab.explorer()
    lab.down()
    ex.run_button.click()
    assert "was removed (by lab.down()" in ex.result.value, ex.result.value
    ex.refresh_button.click()
    assert "nsenter" not in ex.result.value
    with pytest.raises(NetlabError, match="was removed"):
        lab.draw()


def pixels(png: bytes, colour: str) -> int:
    """How many pixels of the PNG have ``colour`` (``#rrggbb``)."""
    from matplotlib import image

    rgb = image.imread(io.BytesIO(png), format="png")[:, :, :3]
    want = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    return int((abs(rgb - want) < 0.02).all(axis=2).sum())


def test_machine_view_reads_the_kernel(lab: Lab) -> None:
    use(lab)
    docker("run -d --name v1 ubuntu sleep infinity")
    c = lab.host().container("v1")
    c.exec(["ping", "-c", "1", "-W", "2", "172.17.0.1"])
    v = c.view()
    text = str(v)
    assert f"eth0     UP    {c.mac}  mtu 1500  {c.ip}/16" in text
    assert "default via 172.17.0.1 dev eth0" in text
    assert "172.17.0.1 lladdr" in text
    assert "docker exec v1 ip route" in text
    assert "<table>" in v._repr_html_()
