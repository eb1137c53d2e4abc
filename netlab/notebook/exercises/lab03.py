"""Lab 03 (following a ping): without masquerading, where do the web site's replies go? Then
put Docker's rule back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from netlab.model import topology
from netlab.notebook.exercise import NO_ANSWER, Exercise, Text, Verdict, not_yet, right

if TYPE_CHECKING:
    from netlab.model.lab import Lab

RULE = "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"  # (Docker's, lab 03)


def _address(lab: Lab, target: str) -> str:
    """The IPv4 address of ``target``'s eth0, as its kernel says."""
    fields = lab.exec(target, "ip -4 -o addr show dev eth0").stdout.split()
    return fields[3].split("/")[0] if len(fields) > 3 else ""


def _check(lab: Lab, names: Mapping[str, Any]) -> Verdict:
    answer = names.get("answer")
    if answer is None:
        return not_yet(NO_ANSWER)
    c1 = _address(lab, "c1")
    if str(answer).strip() != c1:
        return not_yet(
            Text(
                en="the site did not send its replies to {answer}. Without the rewrite, "
                "whose address is the source of c1's packets when they reach the site?",
                ko="사이트가 응답을 보낸 주소는 {answer}이(가) 아닙니다. 주소를 바꿔 쓰지 않으면, "
                "사이트에 도착한 c1의 패킷에는 누구의 주소가 출발지로 적혀 있을까요?",
            ),
            answer=answer,
        )
    rules = lab.host().exec("iptables -t nat -S POSTROUTING").stdout.splitlines()
    if RULE not in rules:
        return not_yet(
            Text(
                en="right about {ip}, an address the internet has no route to. Now put "
                "Docker's rule back (the line you deleted, with `-A` instead of `-D`) and run "
                "the check again.",
                ko="맞습니다, {ip}. 인터넷에는 그 주소로 가는 경로가 없습니다. 이제 Docker의 "
                "규칙을 되돌려 놓고(지운 줄에서 `-D` 대신 `-A`) 다시 확인하세요.",
            ),
            ip=c1,
        )
    page = lab.exec("c1", f"curl -s -m 2 http://{topology.WEB_SITE_NAME}/").stdout
    host = lab.host().address
    if f"from {host}." not in page:
        return not_yet(
            Text(
                en="the rule is back, but c1 does not get the page from {host}'s address "
                "(`%on c1 curl -s http://www.dockercon.com/`).",
                ko="규칙은 돌아왔지만, c1이 {host} 주소로 페이지를 받지 못합니다 "
                "(`%on c1 curl -s http://www.dockercon.com/`).",
            ),
            host=host,
        )
    return right(
        Text(
            en="without masquerading the site answered {ip}, which the internet cannot "
            "route, so the replies never came back. With Docker's rule back, the site sees "
            "the host ({host}) again and c1 gets its page.",
            ko="MASQUERADE가 없으면 사이트는 {ip}(으)로 응답하는데, 인터넷은 그 주소로 가는 "
            "경로를 모르므로 응답이 돌아오지 않습니다. Docker의 규칙을 되돌리자 사이트는 "
            "다시 호스트({host})를 보고, c1은 페이지를 받습니다.",
        ),
        ip=c1,
        host=host,
    )


EXERCISES = [
    Exercise(
        lab="lab3",
        number=1,
        check=_check,
        hint=Text(
            en="The site answers whatever address a packet says it came from. Masquerading "
            "was what replaced c1's address with the host's: without it, the packet keeps "
            "c1's own (`%docker exec c1 ip -br addr`). The conntrack entry's second half, "
            "the reply direction, shows where the answer goes: `%on host conntrack -L -p tcp "
            "--orig-dst 198.51.100.80`.",
            ko="사이트는 패킷에 적힌 출발지 주소로 응답합니다. c1의 주소를 호스트 주소로 "
            "바꿔 준 것이 MASQUERADE였으니, 그것이 없으면 패킷은 c1 자신의 주소를 그대로 "
            "가지고 갑니다(`%docker exec c1 ip -br addr`). conntrack 항목의 뒷부분, 즉 응답 "
            "방향이 응답이 어디로 가는지 보여 줍니다: `%on host conntrack -L -p tcp "
            "--orig-dst 198.51.100.80`.",
        ),
        solution=Text(
            en='`answer = "172.17.0.2"`, c1\'s own address: nothing rewrote it, and the '
            "internet has no route back to 172.17.0.0/16. Then put the rule back: "
            "`%on host iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j "
            "MASQUERADE`.",
            ko='`answer = "172.17.0.2"`, 즉 c1 자신의 주소입니다. 아무도 주소를 바꾸지 '
            "않았고, 인터넷에는 172.17.0.0/16으로 돌아가는 경로가 없습니다. 그다음 규칙을 "
            "되돌립니다: `%on host iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o "
            "docker0 -j MASQUERADE`.",
        ),
        solve='answer = lab.host().container("c1").ip\n'
        "%on host iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
    ),
]
