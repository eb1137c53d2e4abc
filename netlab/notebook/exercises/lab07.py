"""Lab 07 (the routing mesh): one task behind three doors; two doors, not three."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from netlab.docker import docker
from netlab.notebook.exercise import Exercise, Text, Verdict, not_yet, right

if TYPE_CHECKING:
    from netlab.model.lab import Lab

NODES = ("node1", "node2", "node3")
NO_ANSWER = "(no answer)"


def ask(lab: Lab, node: str, port: int, times: int = 1) -> list[str]:
    """The hostnames that answer TIMES new connections from the LAN client to NODE:PORT."""
    url = f"http://{lab.host(node).address}:{port}/"
    got = [lab.exec("client", f"curl -s -m 1 {url}").stdout.strip() for _ in range(times)]
    return sorted({g or NO_ANSWER for g in got})


def _api(lab: Lab, names: Mapping[str, Any]) -> Verdict:
    listed = docker("-H node1 service ls --format '{{.Name}} {{.Replicas}} {{.Ports}}'").stdout
    api = next((line.split() for line in listed.splitlines() if line.startswith("api ")), None)
    if api is None:
        return not_yet(
            Text(
                en="there is no service `api` (`%docker -H node1 service ls` lists the services).",
                ko="`api` 서비스가 없습니다(`%docker -H node1 service ls`가 서비스 목록을 "
                "보여 줍니다).",
            )
        )
    if len(api) < 3:
        return not_yet(
            Text(
                en="`api` publishes no port through the routing mesh (`service ls` shows no "
                "PORTS; a `mode=host` port is not listed there, and answers only where the "
                "task runs). Look at how `web` published port 8080.",
                ko="`api`는 라우팅 메시로 퍼블리싱한 포트가 없습니다(`service ls`에 PORTS가 "
                "없습니다. `mode=host` 포트는 거기 나오지 않고, 태스크가 도는 노드에서만 "
                "답합니다). `web`이 8080 포트를 어떻게 퍼블리싱했는지 보세요.",
            )
        )
    if api[2] != "*:9090->80/tcp":
        return not_yet(
            Text(
                en="`api` publishes {ports} (service ls, PORTS). Look at how `web` published "
                "port 8080, and at what the star in *:8080 means.",
                ko="`api`가 퍼블리싱한 포트: {ports} (service ls의 PORTS). `web`이 8080 포트를 "
                "어떻게 퍼블리싱했는지, *:8080의 별표가 무슨 뜻인지 보세요.",
            ),
            ports=" ".join(api[2:]),
        )
    if api[1] != "1/1":
        return not_yet(
            Text(
                en="`api` has {replicas} tasks running; the exercise asks for one, so that "
                "two nodes answer without a task.",
                ko="`api`의 태스크가 {replicas}입니다. 태스크 없는 두 노드도 답하는 것을 보려는 "
                "것이니 하나만 띄우세요.",
            ),
            replicas=api[1],
        )
    silent = [node for node in NODES if ask(lab, node, 9090) == [NO_ANSWER]]
    if silent:
        return not_yet(
            Text(
                en="no answer from {nodes}. Is the task running (`service ps api`)?",
                ko="{nodes}에서 답이 없습니다. 태스크가 실행 중인가요(`service ps api`)?",
            ),
            nodes=", ".join(silent),
        )
    return right(
        Text(
            en="one task, and the client gets an answer from {nodes}.",
            ko="태스크는 하나인데, 클라이언트는 {nodes} 모두에서 답을 받습니다.",
        ),
        nodes=", ".join(NODES),
    )


def _edge(lab: Lab, names: Mapping[str, Any]) -> Verdict:
    answers = {node: ask(lab, node, 8082) for node in NODES}
    answered = [node for node in NODES if answers[node] != [NO_ANSWER]]
    if not answered:
        return not_yet(
            Text(
                en="no node answers on 8082 (`%docker -H node1 service ps edge` shows where "
                "its tasks run, and ERROR why not).",
                ko="8082에서 답하는 노드가 없습니다(`%docker -H node1 service ps edge`가 "
                "태스크가 어디서 도는지, 안 돈다면 ERROR 열에 그 이유를 보여 줍니다).",
            )
        )
    if "node2" in answered:
        return not_yet(
            Text(
                en="node2 answers too. A port published the way `web` and `api` publish "
                "theirs answers on every node, whatever runs where; which way of publishing "
                "is tied to the nodes that run a task?",
                ko="node2도 답합니다. `web`과 `api`처럼 퍼블리싱한 포트는 어디서 무엇이 "
                "돌든 모든 노드에서 답합니다. 태스크가 도는 노드에만 묶이는 퍼블리싱 방식은 "
                "무엇일까요?",
            )
        )
    if answered != ["node1", "node3"]:
        return not_yet(
            Text(
                en="only {nodes} answers. Does a task run on each of node1 and node3 "
                "(`service ps edge`)?",
                ko="{nodes}만 답합니다. node1과 node3 각각에 태스크가 도나요(`service ps edge`)?",
            ),
            nodes=", ".join(answered),
        )
    return right(
        Text(
            en="node1 and node3 answer, each with its own task ({one} and {three}); node2 "
            "has no task, so no port.",
            ko="node1과 node3가 각자 자기 태스크({one}, {three})로 답합니다. node2에는 "
            "태스크가 없으므로 포트도 없습니다.",
        ),
        one=answers["node1"][0],
        three=answers["node3"][0],
    )


EXERCISES = [
    Exercise(
        lab="lab7",
        number=1,
        check=_api,
        hint=Text(
            en="`web` was published in the mesh's default mode, ingress: `-p` on "
            "`docker service create`, as on `docker run`. One replica is the default.",
            ko="`web`은 메시의 기본 모드인 ingress로 퍼블리싱되었습니다. `docker run`에서처럼 "
            "`docker service create`에 `-p`를 주면 됩니다. 레플리카는 기본이 하나입니다.",
        ),
        solution=Text(
            en="`%docker -H node1 service create -d --name api -p 9090:80 ubuntu "
            "{{SERVE_HOSTNAME}}`. `-p 9090:80` (short for `--publish "
            "published=9090,target=80`) publishes in **ingress** mode, the default: every "
            "node's `DOCKER-INGRESS` gets a DNAT for 9090 to its ingress-sbox "
            "(`%on node3 iptables -t nat -S DOCKER-INGRESS`), and every ingress-sbox a mark "
            "for 9090 and a rule to the one task.",
            ko="`%docker -H node1 service create -d --name api -p 9090:80 ubuntu "
            "{{SERVE_HOSTNAME}}`. `-p 9090:80`(`--publish published=9090,target=80`의 "
            "줄임)은 기본인 **ingress** 모드로 퍼블리싱합니다. 모든 노드의 `DOCKER-INGRESS`에 "
            "9090을 자기 ingress-sbox로 보내는 DNAT가 생기고"
            "(`%on node3 iptables -t nat -S DOCKER-INGRESS`), 모든 ingress-sbox에는 9090용 "
            "마크와 하나뿐인 태스크로 가는 규칙이 생깁니다.",
        ),
        solve="%docker -H node1 service create -d --name api -p 9090:80 ubuntu {SERVE_HOSTNAME}",
    ),
    Exercise(
        lab="lab7",
        number=2,
        check=_edge,
        hint=Text(
            en="Two things: a way of publishing that opens the port only where a task runs "
            '(the section "Publishing in host mode" above used it for `solo`), and tasks on '
            "node1 and node3 but not on node2 (a constraint, and a mode or a replica count).",
            ko="두 가지가 필요합니다. 태스크가 도는 곳에서만 포트를 여는 퍼블리싱 방식(위의 "
            '"호스트 모드 퍼블리싱" 절에서 `solo`에 썼습니다), 그리고 node2가 아닌 '
            "node1과 node3에서만 도는 태스크(제약 조건과, 모드나 레플리카 수)입니다.",
        ),
        solution=Text(
            en="`%docker -H node1 service create -d --name edge --mode global --constraint "
            "node.hostname!=node2 --publish mode=host,published=8082,target=80 ubuntu "
            "{{SERVE_HOSTNAME}}`. Host mode publishes the port only where a task runs, so the "
            "tasks must run on node1 and node3 and nowhere else: `--mode global` puts one task "
            "on every node that the constraint allows. `--replicas 2` with the same "
            "constraint works too, because the scheduler never puts two tasks with the same "
            "host-mode port on one node.",
            ko="`%docker -H node1 service create -d --name edge --mode global --constraint "
            "node.hostname!=node2 --publish mode=host,published=8082,target=80 ubuntu "
            "{{SERVE_HOSTNAME}}`. host 모드는 태스크가 도는 곳에서만 포트를 열므로, "
            "태스크가 node1과 node3에서만 돌아야 합니다. `--mode global`은 제약 조건이 허락하는 "
            "모든 노드에 태스크를 하나씩 둡니다. 같은 제약 조건에 `--replicas 2`도 됩니다. "
            "스케줄러는 같은 host 모드 포트를 쓰는 태스크 둘을 한 노드에 두지 않기 때문입니다.",
        ),
        solve="%docker -H node1 service create -d --name edge --mode global --constraint "
        "node.hostname!=node2 --publish mode=host,published=8082,target=80 ubuntu "
        "{SERVE_HOSTNAME}",
    ),
]
