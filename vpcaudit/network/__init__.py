"""The network model: how AWS forwards and filters a packet, over a snapshot's inventory.

Pure (no AWS calls). `NetworkModel(inventory).path(source, destination, ...)` answers "can A
reach B, and if not, what blocks it"; rules ask it whether traffic gets there and back.
See docs/network-model.md for the semantics and the explanation codes.
"""

from __future__ import annotations

from vpcaudit.network.answer import CODES, Component, Hop, PathAnswer, Verdict
from vpcaudit.network.model import NetworkModel as _Model
from vpcaudit.network.query import ask, check_query, check_snapshot_kinds


class NetworkModel(_Model):
    """The forwarding model of one inventory, with the `path` question as a method."""

    def path(
        self,
        source: str,
        destination: str,
        *,
        protocol: str = "all",
        port: int | None = None,
        family: int | None = None,
    ) -> PathAnswer:
        """Can source reach destination (and the reply come back), and if not, why not."""
        return ask(self, source, destination, protocol=protocol, port=port, family=family)


__all__ = [
    "CODES",
    "Component",
    "Hop",
    "NetworkModel",
    "PathAnswer",
    "Verdict",
    "check_query",
    "check_snapshot_kinds",
]
