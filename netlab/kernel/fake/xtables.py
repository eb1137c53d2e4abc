"""The fake of :mod:`netlab.kernel.xtables`: each namespace's iptables tables, changed and
printed by the same model of them that the real layer keeps between changes
(:func:`~netlab.kernel.xtables.apply_restore`, :func:`~netlab.kernel.xtables.render_save`).
Nothing filters a packet here: a test reads the rules, not their effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from netlab.kernel import trace, xtables
from netlab.kernel.fake.records import _names, _oserror

if TYPE_CHECKING:  # (only a type here: the package imports this module, not the reverse)
    from netlab.kernel.fake import FakeKernel


class FakeXtables:
    """The functions of :mod:`netlab.kernel.xtables`, over the fake kernel."""

    NAMES = _names("save restore generation")

    def __init__(self, kernel: FakeKernel) -> None:
        self.k = kernel

    def save(self, ns: str, *, counters: bool = False) -> str:
        return xtables.render_save(self.k._ns(ns).xtables, counters=counters)

    def generation(self, ns: str) -> int:
        """The fake counts its changes as the kernel does (each restore: one more)."""
        return self.k._ns(ns).xtables_generation

    def restore(self, ns: str, text: str, commands: Sequence[str]) -> None:
        for c in commands:
            trace.record(f"ip netns exec {ns} {c}")
        n = self.k._ns(ns)
        err = self.k._injected("xtables.restore", ns)
        try:
            if err is not None:
                raise _oserror(err)
            n.xtables = xtables.apply_restore(n.xtables, text)
        except ValueError as exc:
            raise xtables.IptablesError(f"iptables-restore in {ns} failed: {exc}") from None
        except OSError as exc:
            raise xtables.IptablesError(
                f"iptables-restore in {ns} failed: {exc.strerror}"
            ) from None
        n.xtables_generation += 1
