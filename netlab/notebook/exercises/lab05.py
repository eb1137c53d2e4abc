"""Lab 05 (the overlay): with three tasks, how many forwarding entries has node1's vxlan0?"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from netlab.notebook.exercise import NO_ANSWER, Exercise, Text, Verdict, not_yet, right

if TYPE_CHECKING:
    from netlab.model.lab import Lab


def vxlan_entries(lab: Lab, node: str = "node1", network: str = "overnet") -> int:
    """The forwarding entries with a remote node (``dst``) on NODE's vxlan0 for NETWORK."""
    task = next((c for c in lab.host(node).containers() if network in c.networks), None)
    if task is None:
        return 0
    box = task.networks[network].bridge_ns
    fdb = lab.exec(node, ["ip", "netns", "exec", box, "bridge", "fdb", "show", "dev", "vxlan0"])
    return fdb.stdout.count(" dst ")


def _check(lab: Lab, names: Mapping[str, Any]) -> Verdict:
    tasks = sum(len(lab.host(n).containers()) for n in ("node1", "node2"))
    if tasks != 3:
        return not_yet(
            Text(
                en="{tasks} tasks run; scale the service to 3 first "
                "(`%docker -H node1 service scale myservice=3`).",
                ko="지금 태스크가 {tasks}개입니다. 먼저 서비스를 3개로 늘리세요 "
                "(`%docker -H node1 service scale myservice=3`).",
            ),
            tasks=tasks,
        )
    answer = names.get("answer")
    if answer is None:
        return not_yet(NO_ANSWER)
    entries = vxlan_entries(lab)
    if str(answer).strip() == str(entries):
        return right(
            Text(
                en="node1's vxlan0 has {n} entries: one per task on the *other* node, and one "
                "for that node's load balancer.",
                ko="node1의 vxlan0에는 항목이 {n}개 있습니다. *다른* 노드에 있는 태스크마다 "
                "하나, 그리고 그 노드의 로드 밸런서에 하나입니다.",
            ),
            n=entries,
        )
    return not_yet(
        Text(
            en="node1's vxlan0 does not have {answer} entries with a `dst`.",
            ko="node1의 vxlan0에 `dst`가 있는 항목은 {answer}개가 아닙니다.",
        ),
        answer=answer,
    )


EXERCISES = [
    Exercise(
        lab="lab5",
        number=1,
        check=_check,
        hint=Text(
            en="An entry with `dst` says: this MAC lives behind that other node. Which of the "
            "three tasks run on node2 (the NODE column above)? node2's load balancer, "
            "`lb-overnet`, has a MAC on the overlay too. Then count the lines of "
            "`!bridge -n {{box}} fdb show dev vxlan0 | grep dst`.",
            ko="`dst`가 있는 항목은 '이 MAC은 저쪽 노드 뒤에 있다'는 뜻입니다. 세 태스크 중 "
            "node2에서 도는 것은 무엇인가요(위의 NODE 열)? node2의 로드 밸런서 `lb-overnet`도 "
            "오버레이에 MAC을 가지고 있습니다. 그다음 "
            "`!bridge -n {{box}} fdb show dev vxlan0 | grep dst`의 줄 수를 세어 보세요.",
        ),
        solution=Text(
            en="`!bridge -n {{box}} fdb show dev vxlan0 | grep -c dst` counts them; with two "
            "tasks on node2 that is 3 (two tasks and node2's `lb-overnet`): `answer = 3`.",
            ko="`!bridge -n {{box}} fdb show dev vxlan0 | grep -c dst`로 셀 수 있습니다. "
            "node2에 태스크가 두 개 있으면 3개(태스크 둘과 node2의 `lb-overnet`)이므로 "
            "`answer = 3`입니다.",
        ),
        solve="from netlab.notebook.exercises.lab05 import vxlan_entries\n"
        "answer = vxlan_entries(lab)",
    ),
]
