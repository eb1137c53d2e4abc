"""Lab 04 (publishing a port): publish nginx on 9090; then a DOCKER-USER rule of your own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from netlab.docker import docker
from netlab.notebook.exercise import Exercise, Text, Verdict, not_yet, right

if TYPE_CHECKING:
    from netlab.model.lab import Lab


def reaches(lab: Lab, where: str, port: int, address: str = "") -> bool:
    """Does ``where`` get a page from ADDRESS:PORT (the host's LAN address by default)?"""
    url = f"http://{address or lab.host().address}:{port}/"
    return lab.exec(where, f"curl -s -o /dev/null -m 1 {url}").ok


def _publish(lab: Lab, names: Mapping[str, Any]) -> Verdict:
    mine = next((c for c in lab.host().containers(all=True) if c.name == "mine"), None)
    if mine is None:
        return not_yet(
            Text(
                en="there is no container called `mine` (`%docker ps -a`).",
                ko="`mine`이라는 컨테이너가 없습니다(`%docker ps -a`).",
            )
        )
    if not mine.running:
        return not_yet(
            Text(
                en="`mine` exists but does not run ({status}); `%docker rm mine` and try again.",
                ko="`mine`은 있지만 실행 중이 아닙니다({status}). `%docker rm mine` 후 다시 "
                "해 보세요.",
            ),
            status=mine.status,
        )
    if not reaches(lab, "client", 9090):
        ports = docker("port mine").stdout.split("\n")
        to = next((p.split("/")[0] for p in ports if p.endswith(":9090")), None)
        if to is not None:
            return not_yet(
                Text(
                    en="port 9090 of the host leads to port {to} of `mine`, where nothing "
                    "listens: nginx listens on port 80.",
                    ko="호스트의 9090 포트는 `mine`의 {to} 포트로 이어지는데, 그 포트에서는 "
                    "아무도 기다리지 않습니다. nginx는 80 포트에서 기다립니다.",
                ),
                to=to,
            )
        return not_yet(
            Text(
                en="`mine` runs, but does not publish port 9090 of the host (`%docker port "
                "mine` lists what it publishes). A container's ports are published when it "
                "starts: `%docker rm -f mine`, then run it again with the right `-p`.",
                ko="`mine`은 실행 중이지만 호스트의 9090 포트를 퍼블리싱하지 않습니다"
                "(`%docker port mine`이 퍼블리싱한 포트를 보여 줍니다). 컨테이너의 포트는 "
                "시작할 때 퍼블리싱되므로, `%docker rm -f mine` 후 올바른 `-p`로 다시 실행하세요.",
            )
        )
    return right(
        Text(
            en="the LAN client gets nginx's page from the host's port 9090.",
            ko="LAN 클라이언트가 호스트의 9090 포트에서 nginx 페이지를 받습니다.",
        )
    )


def _firewall(lab: Lab, names: Mapping[str, Any]) -> Verdict:
    listed = lab.host().exec("iptables -S DOCKER-USER").stdout.splitlines()
    mine = [r for r in listed if r.startswith("-A DOCKER-USER")]
    if not mine:
        return not_yet(
            Text(
                en="DOCKER-USER has no rule (`%on host iptables -S DOCKER-USER` shows only "
                "`-N DOCKER-USER`).",
                ko="DOCKER-USER에 규칙이 없습니다(`%on host iptables -S DOCKER-USER`에는 "
                "`-N DOCKER-USER`만 보입니다).",
            )
        )
    if reaches(lab, "client", 8080):
        return not_yet(
            Text(
                en="your rule is in the kernel ({rule}), but the client still reaches 8080: "
                "at DOCKER-USER the packet's destination is no longer port 8080.",
                ko="규칙은 커널에 들어갔지만({rule}) 클라이언트는 여전히 8080에 닿습니다. "
                "DOCKER-USER에 도착했을 때 패킷의 목적지는 이미 8080 포트가 아닙니다.",
            ),
            rule=mine[0],
        )
    if not reaches(lab, "client", 9090):
        if any("--dport 80" in r for r in mine):
            return not_yet(
                Text(
                    en="too much: the client cannot reach 9090 either. Both ports lead to port "
                    "80 of an nginx, so a rule on port 80 blocks both.",
                    ko="너무 많이 막았습니다. 클라이언트가 9090에도 닿지 못합니다. 두 포트 모두 "
                    "nginx의 80 포트로 이어지므로, 80 포트에 건 규칙은 둘 다 막습니다.",
                )
            )
        return not_yet(
            Text(
                en="too much: with {rule} the client cannot reach 9090 either (and is `mine` "
                "running? `%docker ps`). Block only what the client sent to port 8080.",
                ko="너무 많이 막았습니다. {rule} 규칙 때문에 클라이언트가 9090에도 닿지 "
                "못합니다(`mine`은 실행 중인가요? `%docker ps`). 클라이언트가 8080 포트로 "
                "보낸 것만 막으세요.",
            ),
            rule=mine[0],
        )
    if not reaches(lab, "host", 8080, "localhost"):
        return not_yet(
            Text(
                en="too much: the host cannot reach localhost:8080 any more; block the client "
                "only.",
                ko="너무 많이 막았습니다. 호스트도 localhost:8080에 닿지 못합니다. 클라이언트만 "
                "막으세요.",
            )
        )
    return right(
        Text(
            en="{rule} blocks the client from 8080 and nothing else.",
            ko="{rule} 규칙이 클라이언트의 8080 접근만 막고 다른 것은 막지 않습니다.",
        ),
        rule=mine[0],
    )


EXERCISES = [
    Exercise(
        lab="lab4",
        number=1,
        check=_publish,
        hint=Text(
            en="`docker run` with `-p HOSTPORT:CONTAINERPORT`, as web1 was started at the top "
            "of this lab; nginx listens on port 80.",
            ko="이 실습 맨 처음에 web1을 띄운 것처럼 `docker run`에 `-p HOSTPORT:CONTAINERPORT`를 "
            "주면 됩니다. nginx는 80 포트에서 기다립니다.",
        ),
        solution=Text(
            en="`%docker run --name mine -d -p 9090:80 nginx`",
            ko="`%docker run --name mine -d -p 9090:80 nginx`",
        ),
        solve="%docker run --name mine -d -p 9090:80 nginx",
    ),
    Exercise(
        lab="lab4",
        number=2,
        check=_firewall,
        hint=Text(
            en="Look at the packet path above: when a packet from the client reaches "
            "`DOCKER-USER`, the DNAT rule has already rewritten its destination. What is its "
            "port there, and what else goes to that port? `%on host iptables -m conntrack "
            "--help` lists what conntrack remembers of the packet *before* it was translated.",
            ko="위의 패킷 경로를 보세요. 클라이언트의 패킷이 `DOCKER-USER`에 도착할 때는 이미 "
            "DNAT 규칙이 목적지를 바꿔 놓았습니다. 그 시점의 포트는 무엇이고, 그 포트로는 또 "
            "무엇이 갈까요? `%on host iptables -m conntrack --help`는 conntrack이 주소 변환 "
            "*전의* 패킷에 대해 기억하는 것들을 보여 줍니다.",
        ),
        solution=Text(
            en="`%on host iptables -I DOCKER-USER -s 192.168.56.100 -p tcp -m conntrack "
            "--ctorigdstport 8080 --ctdir ORIGINAL -j DROP`. `-p tcp --dport 8080` matches "
            "nothing here: DNAT in `PREROUTING` has already made the destination "
            "`172.17.0.2:80`, and `--dport 80` would block every published port of every "
            "nginx. conntrack remembers the original destination port (`--ctorigdstport`), "
            "which is what Docker's documentation recommends. The same line with `-D` instead "
            "of `-I` removes the rule.",
            ko="`%on host iptables -I DOCKER-USER -s 192.168.56.100 -p tcp -m conntrack "
            "--ctorigdstport 8080 --ctdir ORIGINAL -j DROP`. 여기서 `-p tcp --dport 8080`은 "
            "아무것도 잡지 못합니다. `PREROUTING`의 DNAT가 이미 목적지를 `172.17.0.2:80`으로 "
            "바꿨기 때문이고, `--dport 80`은 모든 nginx의 퍼블리싱된 포트를 전부 막아 버립니다. "
            "conntrack은 원래 목적지 포트(`--ctorigdstport`)를 기억하며, Docker 문서도 이 "
            "방법을 권합니다. 같은 줄에서 `-I` 대신 `-D`를 쓰면 규칙이 지워집니다.",
        ),
        solve="%on host iptables -I DOCKER-USER -s 192.168.56.100 -p tcp -m conntrack "
        "--ctorigdstport 8080 --ctdir ORIGINAL -j DROP",
    ),
]
