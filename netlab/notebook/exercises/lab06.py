"""Lab 06 (service discovery): a second name, four tasks behind one name, the other VIP."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from netlab.docker import docker
from netlab.notebook.exercise import NO_ANSWER, Exercise, Text, Verdict, not_yet, right

if TYPE_CHECKING:
    from netlab.model.lab import Lab


def _alias(lab: Lab, names: Mapping[str, Any]) -> Verdict:
    cache = next((c for c in lab.host("node1").containers() if c.name == "cache"), None)
    if cache is None:
        return not_yet(
            Text(
                en="node1 has no running container called `cache` (`%docker ps`).",
                ko="node1에 실행 중인 `cache` 컨테이너가 없습니다(`%docker ps`).",
            )
        )
    if "mynet" not in cache.networks:
        return not_yet(
            Text(
                en="`cache` runs, but not on mynet, and c1 only learns the names of its own "
                "networks.",
                ko="`cache`는 실행 중이지만 mynet에 있지 않습니다. c1은 자기가 속한 "
                "네트워크의 이름만 알 수 있습니다.",
            )
        )
    got = lab.exec("c1", "getent hosts redis")
    if not got.ok:
        return not_yet(
            Text(
                en="c1 finds `cache` but not `redis`. How did c2 get its second name, `db`?",
                ko="c1이 `cache`는 찾지만 `redis`는 못 찾습니다. c2는 두 번째 이름 `db`를 "
                "어떻게 얻었나요?",
            )
        )
    found, ip = got.stdout.split()[0], cache.networks["mynet"].ip
    if found != ip:
        return not_yet(
            Text(
                en="`redis` answers {found}, not cache's address ({ip}).",
                ko="`redis`의 답은 cache의 주소({ip})가 아니라 {found}입니다.",
            ),
            found=found,
            ip=ip,
        )
    return right(
        Text(
            en="c1 finds redis at {ip}, cache's address: one container, two names on mynet.",
            ko="c1이 redis를 cache의 주소인 {ip}에서 찾습니다. 컨테이너 하나가 mynet에서 "
            "두 이름을 가집니다.",
        ),
        ip=ip,
    )


def _client(lab: Lab) -> str:
    """The name of the ``client`` service's task (where it runs does not matter to ``%on``)."""
    return next(c.name for c in lab.containers() if c.name.startswith("client."))


def _scale(lab: Lab, names: Mapping[str, Any]) -> Verdict:
    cl = _client(lab)
    tasks = lab.exec(cl, "dig +short tasks.web").stdout.split()
    if len(tasks) != 4:
        return not_yet(
            Text(
                en="tasks.web answers {n} addresses. How many tasks does web have, and which "
                "`docker service` command changes that? (`%docker service --help`)",
                ko="tasks.web의 답은 주소 {n}개입니다. web의 태스크는 몇 개이고, 그 수를 바꾸는 "
                "`docker service` 명령은 무엇일까요? (`%docker service --help`)",
            ),
            n=len(tasks),
        )
    vips = lab.exec(cl, "dig +short web").stdout.split()
    seen = Counter(lab.exec(cl, "curl -s -m 2 http://web/").stdout.strip() for _ in range(8))
    if len(seen) != 4:
        return not_yet(
            Text(
                en="tasks.web has 4 addresses, but http://web/ reached {seen}.",
                ko="tasks.web에는 주소가 4개 있지만 http://web/은 {seen}에 닿았습니다.",
            ),
            seen=dict(seen),
        )
    counts = ", ".join(f"{host} {n}x" for host, n in sorted(seen.items()))
    return right(
        Text(
            en="web is still {vip}; behind it, 4 tasks answered: {counts}.",
            ko="web은 여전히 {vip}이고, 그 뒤에서 태스크 4개가 답했습니다: {counts}.",
        ),
        vip=vips[0] if vips else "?",
        counts=counts,
    )


def vips_of_services() -> dict[str, list[str]]:
    """Each service's VIPs, as the manager (node1) knows them."""
    out = {}
    for name in docker("-H node1 service ls --format '{{.Name}}'").stdout.split():
        endpoint = json.loads(docker(f"-H node1 service inspect {name}").stdout)[0]["Endpoint"]
        out[name] = [v["Addr"].split("/")[0] for v in endpoint.get("VirtualIPs", [])]
    return out


def _vip(lab: Lab, names: Mapping[str, Any]) -> Verdict:
    answer = names.get("answer")
    if answer is None:
        return not_yet(NO_ANSWER)
    vip_of = vips_of_services()
    if answer not in vip_of:
        return not_yet(
            Text(
                en="there is no service {answer!r} (`%docker -H node1 service ls`).",
                ko="{answer!r}: 그런 서비스가 없습니다(`%docker -H node1 service ls`).",
            ),
            answer=answer,
        )
    if "10.0.1.8" not in vip_of[answer]:
        return not_yet(
            Text(
                en="the VIPs of {answer} are {vips}, not 10.0.1.8.",
                ko="{answer}의 VIP는 10.0.1.8이 아니라 {vips}입니다.",
            ),
            answer=answer,
            vips=", ".join(vip_of[answer]) or "-",
        )
    node = lab.host("node2")
    on_lb = node.exec(
        ["ip", "netns", "exec", node.network("overnet").load_balancer or "", "ip", "-br", "addr"]
    ).stdout
    if "10.0.1.8/32" not in on_lb:
        return not_yet(
            Text(
                en="10.0.1.8 is a VIP of {answer}, but node2's load balancer lost it?",
                ko="10.0.1.8은 {answer}의 VIP인데, node2의 로드 밸런서에서 사라졌나요?",
            ),
            answer=answer,
        )
    return right(
        Text(
            en="10.0.1.8 is the VIP of {answer}. Every service in VIP mode gets one, and every "
            "load balancer of the network holds it, even if nobody ever calls it.",
            ko="10.0.1.8은 {answer}의 VIP입니다. VIP 모드의 서비스는 모두 VIP를 하나씩 받고, "
            "그 네트워크의 모든 로드 밸런서가 그 VIP를 가집니다. 아무도 부르지 않더라도요.",
        ),
        answer=answer,
    )


EXERCISES = [
    Exercise(
        lab="lab6",
        number=1,
        check=_alias,
        hint=Text(
            en="c2 answers to `db` too: look at how it was started. A name that a container "
            "has on one network only is an *alias* (`%docker run --help | grep alias`).",
            ko="c2는 `db`라는 이름으로도 답합니다. c2를 어떻게 띄웠는지 보세요. 한 네트워크에서만 "
            "쓰이는 이름이 *별칭(alias)*입니다(`%docker run --help | grep alias`).",
        ),
        solution=Text(
            en="`%docker run -d --name cache --network mynet --network-alias redis ubuntu "
            "sleep infinity`. `--network-alias` adds a name on that one network "
            "(`docker network connect --alias` does the same for a container that runs "
            "already). Several containers may share an alias: the name then answers all "
            "their addresses, in a new order each time.",
            ko="`%docker run -d --name cache --network mynet --network-alias redis ubuntu "
            "sleep infinity`. `--network-alias`는 그 네트워크에서만 쓰이는 이름을 더합니다"
            "(이미 실행 중인 컨테이너에는 `docker network connect --alias`가 같은 일을 "
            "합니다). 여러 컨테이너가 같은 별칭을 가질 수도 있는데, 그러면 그 이름은 모든 "
            "주소를 매번 다른 순서로 돌려줍니다.",
        ),
        solve="%docker run -d --name cache --network mynet --network-alias redis ubuntu "
        "sleep infinity",
    ),
    Exercise(
        lab="lab6",
        number=2,
        check=_scale,
        hint=Text(
            en="The client keeps calling `web`, its VIP. Behind the VIP is every task of the "
            "service: how do you get a fourth task? (`%docker service --help`)",
            ko="클라이언트는 계속 `web`, 즉 그 VIP를 부릅니다. VIP 뒤에는 서비스의 모든 "
            "태스크가 있습니다. 네 번째 태스크는 어떻게 만들까요? (`%docker service --help`)",
        ),
        solution=Text(
            en="`%docker -H node1 service scale web=4`. Swarm starts a fourth task, the "
            "embedded DNS adds its address to `tasks.web`, and each node's load balancer "
            "adds it to the round robin. `web` keeps its VIP: clients never notice.",
            ko="`%docker -H node1 service scale web=4`. 스웜이 네 번째 태스크를 띄우면 "
            "내장 DNS가 그 주소를 `tasks.web`에 더하고, 각 노드의 로드 밸런서가 라운드 "
            "로빈에 넣습니다. `web`의 VIP는 그대로이므로 클라이언트는 알아채지 못합니다.",
        ),
        solve="%docker -H node1 service scale web=4",
    ),
    Exercise(
        lab="lab6",
        number=3,
        check=_vip,
        hint=Text(
            en="`%docker -H node1 service ls` lists the services, and `service inspect` "
            "shows each one's `Endpoint`, with its `VirtualIPs`.",
            ko="`%docker -H node1 service ls`가 서비스 목록을 보여 주고, `service inspect`는 "
            "각 서비스의 `Endpoint`와 그 안의 `VirtualIPs`를 보여 줍니다.",
        ),
        solution=Text(
            en="`%docker -H node1 service inspect --format '{{{{json .Endpoint.VirtualIPs}}}}' "
            'client` shows 10.0.1.8: `answer = "client"`. Every service in VIP mode gets a '
            "VIP on each of its networks, whether anything ever connects to it or not; "
            "`dig +short client` from any task answers it.",
            ko="`%docker -H node1 service inspect --format '{{{{json .Endpoint.VirtualIPs}}}}' "
            'client`가 10.0.1.8을 보여 주므로 `answer = "client"`입니다. VIP 모드의 '
            "서비스는 누가 접속하든 말든 자기 네트워크마다 VIP를 하나씩 받습니다. 어느 "
            "태스크에서든 `dig +short client`가 그 VIP로 답합니다.",
        ),
        solve="from netlab.notebook.exercises.lab06 import vips_of_services\n"
        'answer = next(s for s, vips in vips_of_services().items() if "10.0.1.8" in vips)',
    ),
]
