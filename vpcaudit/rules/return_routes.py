"""Which subnets of a peering's two sides send to each other through it (by longest prefix),
which replies find no route back, and the finding that says so: the per-subnet judgement
behind peering-route-one-way (rules/peering.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, NamedTuple

from vpcaudit.awscli import cli, destination_flag, note, q
from vpcaudit.inventory import (
    Inventory,
    Network,
    Peering,
    PeeringSide,
    Route,
    RouteTable,
    Subnet,
    parse_network,
)
from vpcaudit.model import Violation
from vpcaudit.network import NetworkModel
from vpcaudit.network.addr import BITS, Addr, contains
from vpcaudit.rules.common import peer_cidrs, peering_ref, side_evidence

Hit = tuple[Network, Route] | None
"""What a longest-prefix lookup chose: the matching prefix and its route, or nothing."""


class Member(NamedTuple):
    """A subnet in one IP family: its CIDR, the address routed toward it, and its table."""

    subnet: Subnet
    cidr: str
    """The subnet's CIDR block of this family, as AWS gives it."""
    value: int
    """The CIDR's network address as an integer."""
    prefixlen: int
    probe: Addr
    """A host address of the subnet (the first assignable one, as `path subnet-...` uses)."""
    table: RouteTable
    """Its explicit association, else the VPC's main table."""


@dataclass(frozen=True)
class Miss:
    """A replying subnet whose table does not send the reply back through the peering."""

    replier: Member
    sender: Member
    chosen: Hit
    """What the replier's table picks for the sender's address instead."""


@dataclass(frozen=True)
class Direction:
    """One family's traffic from one side's subnets to the other's, and its lost replies."""

    family: int
    senders: list[Member]
    """Subnets whose table sends some of the peer's subnets through the peering."""
    misses: list[Miss]
    engaged: bool
    """Whether any table of the replying side's subnets routes this family through it."""


class Routed(NamedTuple):
    """Where a peering is routed at all: active routes through it, by VPC and by table."""

    vpcs: frozenset[tuple[str, int]]
    """(VPC id, family) pairs with an active route through the peering."""
    tables: frozenset[tuple[str, int]]
    """(route table id, family) pairs with an active route through the peering."""


def routed(inv: Inventory, peering_id: str) -> Routed:
    """Which VPCs and tables have an active route through the peering, per family."""
    vpcs: set[tuple[str, int]] = set()
    tables: set[tuple[str, int]] = set()
    for t, r in inv.routes_to(peering_id):
        if not r.is_active:
            continue
        # A prefix list may hold either family: count it for both.
        families = (
            (4, 6) if r.destination.startswith("pl-") else (6 if ":" in r.destination else 4,)
        )
        for f in families:
            vpcs.add((t.vpc_id, f))
            tables.add((t.route_table_id, f))
    return Routed(frozenset(vpcs), frozenset(tables))


class ReturnRoutes:
    """The per-subnet return-route judgement over one network model (subnets cached)."""

    def __init__(self, model: NetworkModel) -> None:
        self.model = model
        self._members: dict[tuple[str, int], tuple[Member, ...]] = {}

    @classmethod
    def of(cls, model: NetworkModel) -> ReturnRoutes:
        """The instance of this model, built once per inventory."""
        memo: dict[str, ReturnRoutes] = model.inv.memo("rules.return_routes")
        hit = memo.get("instance")
        if hit is None or hit.model is not model:
            hit = memo["instance"] = cls(model)
        return hit

    def members(self, vpc_id: str, family: int) -> tuple[Member, ...]:
        """The VPC's subnets with addresses of the family, each with its route table."""
        # A subnet with no table (its VPC's main table unread) cannot be judged: left out.
        key = (vpc_id, family)
        hit = self._members.get(key)
        if hit is None:
            hit = self._members[key] = self._build(vpc_id, family)
        return hit

    def _build(self, vpc_id: str, family: int) -> tuple[Member, ...]:
        out: dict[str, Member] = {}
        # A shared VPC's subnets are listed once per account that sees them: one is enough.
        for s in self.model.subnets_by_vpc.get(vpc_id, ()):
            table = self.model.table_of_subnet(s)
            if s.subnet_id in out or table is None:
                continue
            for text in (s.cidr,) if family == 4 else s.ipv6_cidrs:
                parsed = _cidr(text, family)
                if parsed is not None:
                    value, plen = parsed
                    # AWS reserves a subnet's first four addresses; the fifth is a host's.
                    probe = Addr(family, value + (4 if BITS[family] - plen > 2 else 0))
                    out[s.subnet_id] = Member(s, text, value, plen, probe, table)
                    break
        return tuple(sorted(out.values(), key=lambda m: m.subnet.subnet_id))

    def direction(
        self, peering_id: str, where: Routed, src_vpc: str, dst_vpc: str, family: int
    ) -> Direction | None:
        """Who in src_vpc sends to dst_vpc through the peering, and whose replies miss (or None)."""
        if (src_vpc, family) not in where.vpcs:
            return None  # no table of src_vpc routes this family through the peering
        tables = where.tables
        # Subnets that may send: their table has some route of the family through the peering.
        maybe = [
            s for s in self.members(src_vpc, family) if (s.table.route_table_id, family) in tables
        ]
        repliers = self.members(dst_vpc, family)
        if not maybe or not repliers:
            return None
        engaged = (dst_vpc, family) in where.vpcs and any(
            (d.table.route_table_id, family) in tables for d in repliers
        )
        # The replying side routes this family through the peering, but not from this subnet's
        # table at all: an isolated subnet, kept off the peering on purpose, is not judged.
        judged = [d for d in repliers if not engaged or (d.table.route_table_id, family) in tables]
        # Replies first: when every judged table answers every possible sender, nothing is
        # one-way, whoever actually sends (the common case, at half the lookups).
        lost: dict[str, dict[str, Hit]] = {}
        for table in {d.table.route_table_id: d.table for d in judged}.values():
            lookup = self.model.compiled(table).lpm.lookup
            bad = {
                s.subnet.subnet_id: hit
                for s in maybe
                if not _answers(hit := lookup(s.probe), peering_id, s)
            }
            if bad:
                lost[table.route_table_id] = bad
        if not lost:
            return None
        reached = self._reached(peering_id, maybe, repliers)
        misses = [
            Miss(d, s, lost[d.table.route_table_id][s.subnet.subnet_id])
            for d in judged
            if d.table.route_table_id in lost
            for s in maybe
            if s.subnet.subnet_id in lost[d.table.route_table_id]
            and d.subnet.subnet_id in reached.get(s.subnet.subnet_id, ())
        ]
        if not misses:
            return None
        senders = [s for s in maybe if reached.get(s.subnet.subnet_id)]
        return Direction(family, senders, misses, engaged)

    def _reached(
        self, peering_id: str, senders: list[Member], repliers: tuple[Member, ...]
    ) -> dict[str, set[str]]:
        """Per sender subnet id, the replier subnet ids its table sends through the peering."""
        by_table: dict[str, set[str]] = {}
        out: dict[str, set[str]] = {}
        for s in senders:
            tid = s.table.route_table_id
            if tid not in by_table:
                lookup = self.model.compiled(s.table).lpm.lookup
                by_table[tid] = {
                    d.subnet.subnet_id for d in repliers if _through(lookup(d.probe), peering_id)
                }
            out[s.subnet.subnet_id] = by_table[tid]
        return out


def _cidr(text: str, family: int) -> tuple[int, int] | None:
    """(network address, prefix length) of a CIDR of the family, or None."""
    if family == 4:
        # Subnet CIDRs are parsed by hand: ipaddress takes ~15 us a parse, ~0.3 s for 20,000.
        addr, _, plen = text.partition("/")
        parts = addr.split(".")
        if len(parts) == 4 and all(p.isdigit() for p in parts) and plen.isdigit():
            octets, n = [int(p) for p in parts], int(plen)
            if n <= 32 and all(o <= 255 for o in octets):
                value = octets[0] << 24 | octets[1] << 16 | octets[2] << 8 | octets[3]
                return value >> (32 - n) << (32 - n), n
        return None
    net = parse_network(text)
    if net is None or net.version != family:
        return None
    return int(net.network_address), net.prefixlen


def _through(hit: Hit, peering_id: str) -> bool:
    return hit is not None and hit[1].target_id == peering_id and hit[1].state == "active"


def _answers(hit: Hit, peering_id: str, sender: Member) -> bool:
    """Whether the route back goes through the peering and holds the sender's whole subnet."""
    # The chosen prefix holds the probe address, so it holds the subnet when it is no longer.
    return _through(hit, peering_id) and hit is not None and hit[0].prefixlen <= sender.prefixlen


def _describe(hit: Hit, member: Member) -> str:
    """What a table chose for a subnet's address, for evidence."""
    if hit is None:
        return "no route"
    prefix, r = hit
    # The route's own destination, unless it is a prefix list (then the entry that matched).
    shown = str(prefix) if r.destination.startswith("pl-") else r.destination
    text = f"{shown} -> {r.target_id or r.target_type}"
    if not r.is_active:
        return f"{text} ({r.state})"
    if prefix.prefixlen > member.prefixlen:
        return f"{text} (covers only part of {member.cidr})"
    return text


def _fixes(
    model: NetworkModel,
    peering_id: str,
    table: RouteTable,
    senders: list[Member],
    blocks: tuple[Network, ...],
) -> list[str]:
    """Commands that route replies to these subnets back through the peering from the table."""
    # One route for the sender VPC's block where that is enough, else one per subnet.
    lpm = model.compiled(table).lpm
    existing = {r.destination: r for r in table.routes}
    by_block: dict[Network | None, list[Member]] = defaultdict(list)
    for s in senders:
        block = next((b for b in blocks if _inside(s, b)), None)
        by_block[block].append(s)
    out: list[str] = []
    for block, group in by_block.items():
        # A block route only helps where nothing more specific, other than a route through
        # the peering itself, already catches the subnet.
        hits = [lpm.lookup(s.probe) for s in group]
        if block is not None and all(
            h is None or h[0].prefixlen <= block.prefixlen or _through(h, peering_id) for h in hits
        ):
            text = str(block)
            out.append(_fix(peering_id, table, text, existing.get(text)))
            continue
        out.extend(_fix(peering_id, table, s.cidr, existing.get(s.cidr)) for s in group)
    return out


def _inside(m: Member, block: Network) -> bool:
    # The block holds the subnet when it holds its probe address and is no longer.
    return m.prefixlen >= block.prefixlen and contains(block, m.probe)


def _fix(peering_id: str, table: RouteTable, cidr: str, current: Route | None) -> str:
    flag = destination_flag(cidr)
    where = (table.region, table.owner_id)
    if current is None:
        return cli(
            f"aws ec2 create-route --route-table-id {q(table.route_table_id)} {q(flag)} {q(cidr)} "
            f"--vpc-peering-connection-id {q(peering_id)}",
            *where,
        )
    if current.target_id == peering_id or not current.is_active:
        # The route exists but carries nothing (a blackhole): replacing it cuts no link.
        return cli(
            f"aws ec2 replace-route --route-table-id {q(table.route_table_id)} {q(flag)} {q(cidr)} "
            f"--vpc-peering-connection-id {q(peering_id)}",
            *where,
        )
    return note(
        f"# {table.route_table_id} sends {cidr} to {current.target_id or current.target_type}: "
        f"replace that route (aws ec2 replace-route) only if the replies should use "
        f"{peering_id} instead"
    )


def one_way_finding(
    inv: Inventory,
    model: NetworkModel,
    p: Peering,
    sides: tuple[PeeringSide, PeeringSide],
    found: list[Direction],
) -> Violation:
    """The finding of a peering one side of which loses the replies of the other's subnets."""
    have, lack = sides
    serving = {t.route_table_id for t in inv.serving_route_tables(lack.vpc_id)}
    idle = sorted(
        {
            f"{t.route_table_id} ({r.state})"
            for t, r in inv.routes_to(p.peering_id)
            if t.vpc_id == lack.vpc_id and (t.route_table_id not in serving or not r.is_active)
        }
    )
    gaps: list[dict[str, Any]] = []
    commands: list[str] = []
    blocks = peer_cidrs(inv, have)
    for d in found:
        by_table: dict[str, list[Miss]] = defaultdict(list)
        for m in d.misses:
            by_table[m.replier.table.route_table_id].append(m)
        for misses in by_table.values():
            # One entry per sending subnet: its replies fail alike from every subnet of a table.
            first = list({m.sender.subnet.subnet_id: m for m in misses}.values())
            gaps.append(_gap(d.family, misses, first))
            senders = [m.sender for m in first]
            commands.extend(_fixes(model, p.peering_id, misses[0].replier.table, senders, blocks))
    missing = side_evidence(inv, lack)
    missing["serving_route_tables"] = sorted(serving)
    missing["routes_not_serving_or_inactive"] = idle
    missing["without_return_route"] = sorted(gaps, key=lambda g: (g["route_table_id"], g["family"]))
    sending = side_evidence(inv, have)
    sending["route_tables"] = sorted({s.table.route_table_id for d in found for s in d.senders})
    sending["subnet_ids"] = sorted({s.subnet.subnet_id for d in found for s in d.senders})
    families = [_FAMILY[d.family] for d in found]
    return Violation(
        resource=peering_ref(p, lack),
        message=(
            f"Peering {p.peering_id} is active and {have.vpc_id} ({have.owner_id}, "
            f"{have.region}) routes {' and '.join(families)} traffic to it, but "
            f"{lack.vpc_id} ({lack.owner_id}, {lack.region}) "
            + "; ".join(_clause(d, have) for d in found)
            + ": replies cannot return."
        ),
        evidence={"routed_side": sending, "missing_side": missing, "families": families},
        remediation="\n".join(sorted(dict.fromkeys(commands), key=_by_table)),
        discriminator=lack.vpc_id,
    )


def _gap(family: int, misses: list[Miss], first: list[Miss]) -> dict[str, Any]:
    """Evidence of one table of the lacking side: its subnets, and whose replies it loses."""
    return {
        "family": _FAMILY[family],
        "route_table_id": misses[0].replier.table.route_table_id,
        "subnet_ids": sorted({m.replier.subnet.subnet_id for m in misses}),
        "unanswered": [
            {
                "subnet_id": m.sender.subnet.subnet_id,
                "cidr": m.sender.cidr,
                "return_route": _describe(m.chosen, m.sender),
            }
            for m in first[:_SAMPLE]
        ],
        "unanswered_count": len(first),
    }


_FAMILY = {4: "IPv4", 6: "IPv6"}
# How many unanswered sender subnets a finding names per table (the count says the rest).
_SAMPLE = 10


def _clause(d: Direction, have: PeeringSide) -> str:
    """What the lacking side does wrong for one family, for the message."""
    family = _FAMILY[d.family]
    if not d.engaged:
        return f"has no active {family} route back through it in any route table its subnets use"
    tables = sorted({m.replier.table.route_table_id for m in d.misses})
    senders = sorted({m.sender.subnet.subnet_id for m in d.misses})
    return (
        f"routes {family} replies to {len(senders)} of {have.vpc_id}'s sending subnets "
        f"elsewhere or nowhere from route table(s) {', '.join(tables)}"
    )


def _by_table(command: str) -> tuple[str, str]:
    # Comment lines (routes the fix must not overwrite) sort with their table's commands.
    words = command.split()
    key = words[words.index("--route-table-id") + 1] if "--route-table-id" in words else words[1]
    return (key, command)
