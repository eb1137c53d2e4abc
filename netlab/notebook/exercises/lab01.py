"""Lab 01 (the default bridge): which veth on docker0 is the container ``second``'s?"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from netlab.kernel import rtnl
from netlab.notebook.exercise import NO_ANSWER, Exercise, Text, Verdict, not_yet, right

if TYPE_CHECKING:
    from netlab.model.lab import Lab


def peer_of_eth0(lab: Lab, container: str) -> str:
    """The name, in the host, of the veth whose other end is the container's eth0 (from the
    kernel: eth0's link index names its peer)."""
    host = lab.host()
    links = host.container(container).links()
    peer = next(link.peer_index for link in links if link.name == "eth0")
    return next(link.name for link in rtnl.links(host.ns) if link.index == peer)


def _check(lab: Lab, names: Mapping[str, Any]) -> Verdict:
    answer = names.get("answer")
    if answer is None:
        return not_yet(NO_ANSWER)
    want = peer_of_eth0(lab, "second")
    if str(answer).strip() == want:
        return right(
            Text(
                en="the kernel agrees: {peer} is the other end of second's eth0.",
                ko="커널도 같은 답입니다. second의 eth0와 짝을 이루는 veth는 {peer}입니다.",
            ),
            peer=want,
        )
    return not_yet(
        Text(
            en="{answer!r} is not the host's end of second's eth0.",
            ko="second의 eth0와 짝을 이루는 호스트 쪽 veth는 {answer!r}이(가) 아닙니다.",
        ),
        answer=answer,
    )


EXERCISES = [
    Exercise(
        lab="lab1",
        number=1,
        check=_check,
        hint=Text(
            en="Inside the container, `%docker exec second ip -br link` shows eth0 as "
            "`eth0@ifN`: N is the index of its peer, an interface of the host. "
            "`%on host ip -o link` starts each line with an interface's index.",
            ko="컨테이너 안에서 `%docker exec second ip -br link`를 실행하면 eth0가 "
            "`eth0@ifN`으로 보입니다. N은 짝이 되는 인터페이스, 즉 호스트 쪽 인터페이스의 "
            "인덱스입니다. `%on host ip -o link`는 각 줄을 인터페이스 인덱스로 시작합니다.",
        ),
        solution=Text(
            en="`%docker exec second ip -br link` shows `eth0@ifN`; the line of "
            "`%on host ip -o link` that starts with `N:` is the veth, e.g. "
            '`answer = "veth1234567"` (its name without `@if...`). In Python, the '
            "`.peer_index` of eth0 in `second.links()` is that N.",
            ko="`%docker exec second ip -br link`가 `eth0@ifN`을 보여 줍니다. "
            "`%on host ip -o link`에서 `N:`으로 시작하는 줄이 그 veth이므로, 예를 들어 "
            '`answer = "veth1234567"`처럼 `@if...`를 뺀 이름을 넣으면 됩니다. Python에서는 '
            "`second.links()` 중 eth0의 `.peer_index`가 그 번호입니다.",
        ),
        solve="from netlab.notebook.exercises.lab01 import peer_of_eth0\n"
        "answer = peer_of_eth0(lab, 'second')",
    ),
]
