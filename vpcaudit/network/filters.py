"""Security groups (stateful, allow-only) and network ACLs (stateless, ordered) over a flow.

A flow is a protocol and a set of ports (or ICMP types). `all` means every protocol: a rule
for one protocol cannot allow it, but a deny for one protocol denies part of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from vpcaudit.inventory import ALL_PROTOCOLS, NaclEntry, PrefixList, SgRule
from vpcaudit.network.addr import Addr, contains

_NAMES = {"tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58", "all": ALL_PROTOCOLS}
EPHEMERAL = (1024, 65535)
"""The client ports a reply goes back to: the range a network ACL must allow for replies."""
FINAL_RULE = 32767
"""The number AWS gives the final "*" deny of a network ACL."""

Ranges = tuple[tuple[int, int], ...]


def protocol_number(name: str) -> str:
    """A protocol as AWS's number text: tcp -> "6", all/-1 -> "-1"."""
    return _NAMES.get(name.lower(), name)


@dataclass(frozen=True)
class Flow:
    """What is sent: protocol number ("-1" all) and the ports (ICMP: types) it uses."""

    protocol: str
    ports: Ranges
    """Destination ports for tcp/udp (all of 0-65535 when no port was asked); ICMP types."""

    @classmethod
    def of(cls, protocol: str, port: int | None, version: int) -> Flow:
        """The request flow of a query (ICMP: an echo request)."""
        proto = protocol_number(protocol)
        if proto == "1" and version == 6:
            proto = "58"
        if proto in ("1", "58"):
            return cls(proto, ((8, 8),) if proto == "1" else ((128, 128),))
        if proto in ("6", "17"):
            return cls(proto, ((port, port),) if port is not None else ((0, 65535),))
        return cls(proto, ((0, 65535),))

    def reply(self) -> Flow:
        """The reply's flow: to the client's ephemeral ports; ICMP: an echo reply."""
        if self.protocol == "1":
            return Flow("1", ((0, 0),))
        if self.protocol == "58":
            return Flow("58", ((129, 129),))
        # The replies of "all traffic" go to the client's ephemeral ports too (a tcp 22 deny
        # cannot hit them).
        return Flow(self.protocol, (EPHEMERAL,))

    def describe(self) -> str:
        """Human text: "tcp 443", "all traffic", "icmp echo"."""
        name = {v: k for k, v in _NAMES.items()}.get(self.protocol, f"protocol {self.protocol}")
        if self.protocol == ALL_PROTOCOLS:
            return "all traffic"
        if self.protocol in ("1", "58"):
            return f"{name} type {self.ports[0][0]}"
        (lo, hi), *_ = self.ports
        return f"{name} {lo}" if lo == hi and len(self.ports) == 1 else f"{name} {lo}-{hi}"


def _subtract(have: Ranges, lo: int, hi: int) -> Ranges:
    out: list[tuple[int, int]] = []
    for a, b in have:
        if hi < a or lo > b:
            out.append((a, b))
            continue
        if a < lo:
            out.append((a, lo - 1))
        if b > hi:
            out.append((hi + 1, b))
    return tuple(out)


def _overlaps(have: Ranges, lo: int, hi: int) -> bool:
    return any(not (hi < a or lo > b) for a, b in have)


def _rule_range(protocol: str, lo: int, hi: int) -> tuple[int, int]:
    if protocol in ("1", "58"):
        return (0, 255) if lo == -1 else (lo, lo)
    return (0, 65535) if lo == -1 else (lo, hi)


@dataclass(frozen=True)
class Peer:
    """The other end of a flow, as a filter sees it."""

    addr: Addr
    service: str = ""
    """An AWS service name (com.amazonaws.us-east-1.s3) when the peer is one."""
    groups: frozenset[str] = frozenset()
    """Security groups a group-referencing rule may match (empty across NAT or the internet)."""


def sg_allows(
    rules: Iterable[SgRule],
    flow: Flow,
    peer: Peer,
    prefix_list: Callable[[str], PrefixList | None],
) -> tuple[bool, tuple[SgRule, ...]]:
    """Whether the rules together allow the whole flow to or from peer, and the rules used."""
    remaining = flow.ports
    used: list[SgRule] = []
    for r in rules:
        proto = protocol_number(r.protocol)
        if proto not in (ALL_PROTOCOLS, flow.protocol):
            continue
        if not _sg_peer_matches(r, peer, prefix_list):
            continue
        lo, hi = (
            (0, 65535) if proto == ALL_PROTOCOLS else _rule_range(proto, r.from_port, r.to_port)
        )
        if proto == ALL_PROTOCOLS:
            return True, (r,)
        if _overlaps(remaining, lo, hi):
            used.append(r)
            remaining = _subtract(remaining, lo, hi)
        if not remaining:
            return True, tuple(used)
    return False, ()


def _sg_peer_matches(
    r: SgRule, peer: Peer, prefix_list: Callable[[str], PrefixList | None]
) -> bool:
    if r.cidr is not None:
        return contains(r.cidr, peer.addr)
    if r.group_id:
        return r.group_id in peer.groups and r.peering_status in ("", "active")
    pl = prefix_list(r.prefix_list_id)
    if pl is None:
        return False
    if pl.cidrs is None:
        return bool(peer.service) and pl.name == peer.service
    return any(contains(c, peer.addr) for c in pl.cidrs)


@dataclass(frozen=True)
class NaclVerdict:
    """A network ACL's decision: allowed, or the rule number that denies."""

    allowed: bool
    rule_number: int
    """The deciding rule (the first deny that hits the flow, or 32767 for the final "*")."""


def nacl_decides(
    entries: Iterable[NaclEntry],
    *,
    egress: bool,
    flow: Flow,
    peer: Addr,
    prefix_list: Callable[[str], PrefixList | None] | None = None,
) -> NaclVerdict:
    """Evaluate ordered ACL entries for a flow whose other end is peer (stateless).

    Every port of the flow must be allowed: an allow takes its ports out of what is left to
    decide, and a deny that hits any port left decides the flow.
    """
    del prefix_list  # network ACLs take CIDRs only
    remaining = flow.ports
    whole = flow.protocol == ALL_PROTOCOLS
    for e in entries:
        if e.egress != egress or e.cidr is None or not contains(e.cidr, peer):
            continue
        proto = e.protocol
        if proto != ALL_PROTOCOLS and (whole or proto != flow.protocol):
            # A rule for one protocol cannot allow "all traffic", but its deny hits part of it
            # (for tcp/udp, where its ports meet the flow's).
            if whole and not e.allow:
                ports = (0, 65535) if e.from_port == -1 else (e.from_port, e.to_port)
                if proto not in ("6", "17") or _overlaps(remaining, *ports):
                    return NaclVerdict(False, e.rule_number)
            continue
        if proto == ALL_PROTOCOLS:
            lo, hi = 0, 65535 if flow.protocol not in ("1", "58") else 255
        elif proto in ("1", "58"):
            lo, hi = (0, 255) if e.icmp_type == -1 else (e.icmp_type, e.icmp_type)
        else:
            lo, hi = (0, 65535) if e.from_port == -1 else (e.from_port, e.to_port)
        if not _overlaps(remaining, lo, hi):
            continue
        if not e.allow:
            return NaclVerdict(False, e.rule_number)
        remaining = _subtract(remaining, lo, hi)
        if not remaining:
            return NaclVerdict(True, e.rule_number)
    # No rule decided every port: the final "*" rule denies the rest (moto omits it on custom
    # ACLs; AWS always has it).
    return NaclVerdict(False, FINAL_RULE)
