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


def _facts(lab: Lab) -> dict[str, object]:
    """The real answer's pieces, for the solution: the peer's index and name."""
    peer = peer_of_eth0(lab, "second")
    index = next(link.index for link in rtnl.links(lab.host().ns) if link.name == peer)
    return {"peer": peer, "index": index}


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
            ko="{answer!r}: second의 eth0와 짝을 이루는 호스트 쪽 veth가 아닙니다.",
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
            en="`%docker exec second ip -br link` shows `eth0@if{index}`: {index} is the index "
            "of its peer in the host. The line of `%on host ip -o link` that starts with "
            '`{index}:` is `{peer}`, so `answer = "{peer}"` (the name without `@if...`).',
            ko="`%docker exec second ip -br link`가 `eth0@if{index}`를 보여 줍니다. {index}는 "
            "호스트에 있는 짝의 인덱스입니다. `%on host ip -o link`에서 `{index}:`으로 시작하는 "
            '줄이 `{peer}`이므로 `answer = "{peer}"`입니다(`@if...`를 뺀 이름).',
        ),
        solve="from netlab.notebook.exercises.lab01 import peer_of_eth0\n"
        "answer = peer_of_eth0(lab, 'second')",
        facts=_facts,
    ),
]
