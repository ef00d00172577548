"""What `path` answers: a verdict, the hops both ways, and the first component that blocks."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Verdict(enum.StrEnum):
    """Whether the destination can be reached."""

    REACHABLE = "reachable"
    NOT_REACHABLE = "not-reachable"
    UNKNOWN = "unknown"


# Explanation codes, documented in docs/network-model.md; the CLI and JSON carry them verbatim.
CODES: dict[str, tuple[Verdict, str]] = {
    "NO_ROUTE": (Verdict.NOT_REACHABLE, "no route in the table matches the destination"),
    "BLACKHOLE_ROUTE": (Verdict.NOT_REACHABLE, "the matching route is a blackhole"),
    "PEERING_NOT_ACTIVE": (Verdict.NOT_REACHABLE, "the route's peering is not active"),
    "PEERING_NOT_TRANSITIVE": (
        Verdict.NOT_REACHABLE,
        "the destination is outside the peer VPC's CIDR blocks (peering is not transitive)",
    ),
    "TGW_ATTACHMENT_MISSING": (
        Verdict.NOT_REACHABLE,
        "the VPC has no available attachment to the Transit Gateway its route names",
    ),
    "TGW_NO_ATTACHMENT_IN_AZ": (
        Verdict.NOT_REACHABLE,
        "the Transit Gateway attachment has no subnet in the sender's Availability Zone",
    ),
    "TGW_ATTACHMENT_NOT_ASSOCIATED": (
        Verdict.NOT_REACHABLE,
        "the attachment is associated with no Transit Gateway route table",
    ),
    "TGW_NO_ROUTE": (Verdict.NOT_REACHABLE, "no Transit Gateway route matches the destination"),
    "TGW_BLACKHOLE_ROUTE": (
        Verdict.NOT_REACHABLE,
        "the matching Transit Gateway route is a blackhole",
    ),
    "NO_PUBLIC_IP": (
        Verdict.NOT_REACHABLE,
        "IPv4 through an internet gateway needs a public or Elastic IP",
    ),
    "NO_INTERNET_GATEWAY": (Verdict.NOT_REACHABLE, "the VPC has no internet gateway attached"),
    "EGRESS_ONLY_INBOUND": (
        Verdict.NOT_REACHABLE,
        "the internet cannot open a connection through an egress-only internet gateway",
    ),
    "NAT_GATEWAY_NOT_AVAILABLE": (Verdict.NOT_REACHABLE, "the NAT gateway is not available"),
    "NO_DESTINATION": (
        Verdict.NOT_REACHABLE,
        "the address is in no subnet of the VPC the routes lead to",
    ),
    "ROUTED_ELSEWHERE": (
        Verdict.NOT_REACHABLE,
        "the longest-prefix route sends the traffic somewhere other than the destination",
    ),
    "EDGE_TO_EDGE": (
        Verdict.NOT_REACHABLE,
        "a gateway endpoint or internet gateway cannot carry traffic that entered the VPC from "
        "outside it",
    ),
    "ROUTING_LOOP": (Verdict.NOT_REACHABLE, "the routes send the traffic round in a loop"),
    "SG_EGRESS_DENIED": (
        Verdict.NOT_REACHABLE,
        "no egress rule of the sender's security groups allows it",
    ),
    "SG_INGRESS_DENIED": (
        Verdict.NOT_REACHABLE,
        "no ingress rule of the receiver's security groups allows it",
    ),
    "NACL_EGRESS_DENIED": (Verdict.NOT_REACHABLE, "the subnet's network ACL denies it outbound"),
    "NACL_INGRESS_DENIED": (Verdict.NOT_REACHABLE, "the subnet's network ACL denies it inbound"),
    "VPN_TUNNELS_DOWN": (Verdict.NOT_REACHABLE, "every tunnel of the VPN connection is down"),
    "UNSCANNED_ACCOUNT": (Verdict.UNKNOWN, "the path enters an account that was not scanned"),
    "UNSCANNED_REGION": (Verdict.UNKNOWN, "the path enters a region that was not scanned"),
    "NOT_READ": (Verdict.UNKNOWN, "a resource the path needs could not be read"),
    "CLOUD_WAN": (Verdict.UNKNOWN, "a Cloud WAN core network is not modeled"),
    "TARGET_NOT_MODELED": (Verdict.UNKNOWN, "a route target the model does not know"),
    "NO_ON_PREMISES_RANGE": (Verdict.UNKNOWN, "no on-premises address range is known"),
}


@dataclass(frozen=True)
class Component:
    """A resource on the path, where it lives, and the rule or route of it that matters."""

    kind: str
    """route-table, vpc-peering-connection, transit-gateway-route-table, security-group, ..."""
    id: str
    account_id: str = ""
    region: str = ""
    rule: str = ""
    """The route (destination) or rule number that matched or blocked."""
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        """The JSON form."""
        return {
            "kind": self.kind,
            "id": self.id,
            "account_id": self.account_id,
            "region": self.region,
            "rule": self.rule,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Hop:
    """One step of a path: the component, and what it did with the packet."""

    component: Component
    action: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {**self.component.to_dict(), "action": self.action}


@dataclass(frozen=True)
class PathAnswer:
    """The answer to "can source reach destination", with the path and the reason."""

    source: str
    destination: str
    protocol: str
    port: int | None
    verdict: Verdict
    code: str = ""
    direction: str = ""
    """forward or return: where the block (or the unknown) is; "" when reachable."""
    blocking: Component | None = None
    explanation: str = ""
    fix: str = ""
    forward: tuple[Hop, ...] = ()
    return_path: tuple[Hop, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    source_address: str = ""
    destination_address: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON form (docs/network-model.md)."""
        return {
            "source": self.source,
            "destination": self.destination,
            "source_address": self.source_address,
            "destination_address": self.destination_address,
            "protocol": self.protocol,
            "port": self.port,
            "verdict": self.verdict.value,
            "code": self.code,
            "direction": self.direction,
            "blocking": None if self.blocking is None else self.blocking.to_dict(),
            "explanation": self.explanation,
            "fix": self.fix,
            "forward": [h.to_dict() for h in self.forward],
            "return": [h.to_dict() for h in self.return_path],
            "notes": list(self.notes),
        }
