"""Lab 03 (following a ping): without masquerading, where do the web site's replies go? Then
put Docker's rule back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from netlab.model import topology
from netlab.notebook.exercise import (
    NO_ANSWER,
    Exercise,
    Text,
    Verdict,
    halfway,
    not_yet,
    right,
)
from netlab.views.capture import ipv4_of

if TYPE_CHECKING:
    from netlab.model.lab import Lab

RULE = "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"  # (Docker's, lab 03)


def _check(lab: Lab, names: Mapping[str, Any]) -> Verdict:
    answer = names.get("answer")
    if answer is None:
        return not_yet(NO_ANSWER)
    c1 = ipv4_of(lab, "c1")  # (as c1's kernel says)
    if str(answer).strip() != c1:
        return not_yet(
            Text(
                en="the site did not send its replies to {answer}. Without the rewrite, "
                "whose address is the source of c1's packets when they reach the site?",
                ko="{answer}: 사이트가 응답을 보낸 주소가 아닙니다. 주소를 바꿔 쓰지 않으면, "
                "사이트에 도착한 c1의 패킷에는 누구의 주소가 출발지로 적혀 있을까요?",
            ),
            answer=answer,
        )
    rules = lab.host().exec("iptables -t nat -S POSTROUTING").stdout.splitlines()
    other = [r for r in rules if "MASQUERADE" in r and r != RULE]
    if RULE not in rules and other:
        return halfway(
            Text(
                en="right about {ip}. A MASQUERADE rule is back ({rule}), but not Docker's: "
                "Docker's has `! -o docker0`, so that what goes from one container to another "
                "over docker0 keeps its addresses. Delete yours (`-D` instead of `-A`) and "
                "append Docker's.",
                ko="{ip}는 맞습니다. MASQUERADE 규칙이 돌아왔지만({rule}) Docker의 규칙은 "
                "아닙니다. Docker의 규칙에는 `! -o docker0`가 있어서, docker0를 거쳐 컨테이너끼리 "
                "주고받는 패킷은 주소를 그대로 유지합니다. 여러분의 규칙을 지우고(`-A` 대신 "
                "`-D`) Docker의 규칙을 추가하세요.",
            ),
            ip=c1,
            rule=other[0],
        )
    if RULE not in rules:
        return halfway(
            Text(
                en="right about {ip}, an address the internet has no route to. Now put "
                "Docker's rule back (the line you deleted, with `-A` instead of `-D`) and run "
                "the check again.",
                ko="{ip}는 맞습니다. 인터넷에는 그 주소로 가는 경로가 없습니다. 이제 Docker의 "
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
            ko="MASQUERADE가 없으면 사이트는 응답을 {ip} 주소로 보내는데, 인터넷은 그 주소로 가는 "
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
            en="A server answers the source address written in the packet it got. With the rule "
            "gone, nothing rewrites that address on its way out of the host. The host's "
            "conntrack entry for the attempt shows both directions: `%on host conntrack -L -p "
            "tcp --orig-dst 198.51.100.80`.",
            ko="서버는 받은 패킷에 적힌 출발지 주소로 응답합니다. 규칙이 없으면 호스트를 나가는 "
            "패킷의 그 주소를 아무도 바꾸지 않습니다. 이 시도에 대한 호스트의 conntrack 항목이 "
            "두 방향을 모두 보여 줍니다: `%on host conntrack -L -p tcp --orig-dst "
            "198.51.100.80`.",
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
