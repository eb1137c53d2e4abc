"""Lab 02 (docker network inspect): the MAC that Docker's rule gives the container ``api``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from netlab.notebook.exercise import NO_ANSWER, Exercise, Text, Verdict, not_yet, right

if TYPE_CHECKING:
    from netlab.model.lab import Lab


def _check(lab: Lab, names: Mapping[str, Any]) -> Verdict:
    answer = names.get("answer")
    if answer is None:
        return not_yet(NO_ANSWER)
    api = lab.host().container("api")
    mac = api.exec("cat /sys/class/net/eth0/address").stdout.strip()  # (what the kernel says)
    given = str(answer).strip().lower().replace("-", ":")  # (any case; 02-42-... too)
    if given == mac:
        return right(
            Text(
                en="the kernel gives api's eth0 the MAC {mac}: 02:42, then {ip} in hexadecimal.",
                ko="커널이 api의 eth0에 준 MAC도 {mac}입니다. 02:42 뒤에 주소 {ip}의 "
                "네 숫자를 16진수로 적은 값입니다.",
            ),
            mac=mac,
            ip=api.ip,
        )
    if not given.startswith("02:42:") or len(given.split(":")) != 6:
        return not_yet(
            Text(
                en="{answer!r} does not look like one of Docker's MACs: six two-digit "
                "hexadecimal numbers, starting with 02:42.",
                ko="{answer!r}: Docker가 만드는 MAC 모양이 아닙니다. 02:42로 시작하는 "
                "두 자리 16진수 여섯 개여야 합니다.",
            ),
            answer=answer,
        )
    return not_yet(
        Text(
            en="{answer!r} is not api's MAC. Try your rule on web first: does it give web's "
            "MAC from web's address?",
            ko="{answer!r}: api의 MAC이 아닙니다. 먼저 web에 규칙을 적용해 보세요. web의 "
            "주소로 web의 MAC이 나오나요?",
        ),
        answer=answer,
    )


EXERCISES = [
    Exercise(
        lab="lab2",
        number=1,
        check=_check,
        hint=Text(
            en="Docker builds a container's MAC from its IPv4 address: 02:42, then the four "
            "numbers of the address, each written as two hexadecimal digits. Compare "
            "`%docker exec web ip -br addr` with `%docker exec web ip -br link` to see the "
            "rule at work, then apply it to api's 172.18.0.3. (Upper or lower case: both are "
            "fine.)",
            ko="Docker는 컨테이너의 MAC을 IPv4 주소로 만듭니다. 02:42 뒤에 주소의 네 숫자를 "
            "각각 두 자리 16진수로 씁니다. `%docker exec web ip -br addr`와 "
            "`%docker exec web ip -br link`를 비교해 규칙을 확인한 뒤, api의 172.18.0.3에 "
            "적용해 보세요. (대문자, 소문자 모두 괜찮습니다.)",
        ),
        solution=Text(
            en='172 = 0xac, 18 = 0x12, 0 = 0x00, 3 = 0x03, so `answer = "02:42:ac:12:00:03"`. '
            'In Python: `"02:42:" + ":".join(f"{{int(n):02x}}" for n in '
            '"172.18.0.3".split("."))`.',
            ko="172 = 0xac, 18 = 0x12, 0 = 0x00, 3 = 0x03이므로 "
            '`answer = "02:42:ac:12:00:03"`입니다. Python으로는 '
            '`"02:42:" + ":".join(f"{{int(n):02x}}" for n in '
            '"172.18.0.3".split("."))`입니다.',
        ),
        solve='answer = "02:42:" + ":".join(f"{int(n):02X}" for n in "172.18.0.3".split("."))',
    ),
]
