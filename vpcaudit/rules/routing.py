"""Routing rules: dead routes, routes peering cannot carry, and overlapping address space."""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from vpcaudit.inventory import (
    Inventory,
    Network,
    Peering,
    Route,
    RouteTable,
    Vpc,
    net_text,
    parse_network,
)
from vpcaudit.model import Severity, Violation
from vpcaudit.network.addr import Addr, contains
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import (
    cidr_strs,
    cli,
    destination_flag,
    peer_cidrs,
    peering_ref,
    q,
    route_table_ref,
    side_evidence,
    vpc_label,
    vpc_ref,
)

# Peering states in which a peering carries nothing and never will again.
TERMINAL = frozenset({"rejected", "failed", "expired", "deleted", "deleting"})
_DEAD_NAT = frozenset({"deleted", "deleting", "failed"})


def _peering_routes(inv: Inventory) -> Iterator[tuple[RouteTable, Route, Peering]]:
    """Every active route through an active peering, with the peering."""
    for t in inv.route_tables:
        for r in t.routes:
            if r.target_type != "vpc-peering-connection" or not r.is_active:
                continue
            p = inv.peering(r.target_id)
            if p is not None and p.status == "active" and p.side(t.vpc_id) is not None:
                yield t, r, p


@rule(
    id="route-blackhole",
    title="Route to a target that no longer exists",
    severity=Severity.MEDIUM,
    area="routing",
    rationale="""
        A route whose target is gone (a deleted NAT gateway, instance, network interface or
        gateway) is a blackhole: the route table keeps matching the destination and every
        packet to it is dropped, so longer-prefix routes elsewhere never get the traffic
        either. Severity follows what the table carries: high in an internet or virtual
        private gateway's edge (ingress) route table, where it drops all inbound traffic to
        that destination; medium in a table that subnets use (explicitly, or as the main
        table of subnets with no association); low in a table nothing uses, where it drops
        nothing until a subnet is associated. Routes to peerings that ended are reported by
        peering-inactive-lingering.
    """,
    remediation="Delete the route, or replace it with a live target (aws ec2 replace-route).",
    evidence=(
        "route_table_id",
        "vpc_id",
        "destination",
        "target_type",
        "target_id",
        "reason",
        "subnet_ids",
        "gateway_ids",
        "impact",
    ),
    params=NoParams,
    legitimate=(
        """A route to a VPC peering that ended: peering-inactive-lingering reports it, with the
        peering's story.""",
        """A route to a NAT gateway that is still pending, or whose NAT gateways could not be
        read: not judged.""",
        """A dead route in a table no subnet or gateway uses (a spare or template table):
        reported low, not medium, since it drops nothing today.""",
    ),
)
def route_blackhole(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag routes marked blackhole or whose NAT gateway is gone, graded by what they drop."""
    del params
    for t in inv.route_tables:
        for r in t.routes:
            reason = _dead_reason(inv, t, r)
            if reason is None:
                continue
            subnets = _subnets_using(inv, t)
            severity, impact = _blackhole_impact(t, r, subnets)
            yield Violation(
                resource=route_table_ref(t),
                message=(
                    f"Route table {t.route_table_id} ({t.vpc_id}) sends {r.destination} to "
                    f"{r.target_id}, which {reason}: {impact}."
                ),
                evidence={
                    "route_table_id": t.route_table_id,
                    "vpc_id": t.vpc_id,
                    "destination": r.destination,
                    "target_type": r.target_type,
                    "target_id": r.target_id,
                    "reason": reason,
                    "subnet_ids": subnets,
                    "gateway_ids": list(t.gateway_ids),
                    "impact": impact,
                },
                severity=severity,
                remediation=cli(
                    f"aws ec2 delete-route --route-table-id {q(t.route_table_id)} "
                    f"{q(destination_flag(r.destination))} {q(r.destination)}",
                    t.region,
                    t.owner_id,
                ),
                discriminator=r.destination,
            )


def _subnets_using(inv: Inventory, t: RouteTable) -> list[str]:
    """The subnets whose traffic the table routes: its own, or as main those with none."""
    if not t.is_main:
        return sorted(t.subnet_ids)
    explicit = {s for x in inv.route_tables_of(t.vpc_id) for s in x.subnet_ids}
    implicit = {s.subnet_id for s in inv.subnets_of(t.vpc_id) if s.subnet_id not in explicit}
    return sorted(set(t.subnet_ids) | implicit)


def _blackhole_impact(t: RouteTable, r: Route, subnets: list[str]) -> tuple[Severity, str]:
    """How much a dead route drops, from what uses its table."""
    if t.gateway_ids:
        return (
            Severity.HIGH,
            f"this is the edge route table of {', '.join(t.gateway_ids)}, so all inbound "
            f"traffic from it to {r.destination} is dropped",
        )
    if subnets:
        return Severity.MEDIUM, f"traffic from {len(subnets)} subnet(s) to it is dropped"
    return (
        Severity.LOW,
        "no subnet or gateway uses this table, so nothing is dropped until one is associated",
    )


def _dead_reason(inv: Inventory, t: RouteTable, r: Route) -> str | None:
    if r.target_type == "vpc-peering-connection":
        p = inv.peering(r.target_id)
        if p is None or p.status in TERMINAL:
            return None  # peering-inactive-lingering reports these, with the peering's story
    if r.target_type == "nat-gateway":
        nat = inv.nat_gateway(r.target_id)
        if nat is not None and nat.state in _DEAD_NAT:
            return f"is a NAT gateway in state {nat.state}"
        if nat is None and inv.was_read(t.owner_id, t.region, "nat_gateways"):
            return "is a NAT gateway that no longer exists"
    if r.state == "blackhole":
        return "AWS reports as gone (route state blackhole)"
    return None


@rule(
    id="peering-route-not-transitive",
    title="Route through a peering to addresses outside the peer VPC",
    severity=Severity.MEDIUM,
    area="peering",
    rationale="""
        VPC peering is not transitive and has no edge-to-edge routing: the peer VPC drops
        traffic addressed to anything but its own CIDR blocks, so it cannot reach a third VPC,
        an on-premises network, the internet or a gateway endpoint through the peer. A route
        through a peering to a destination outside the peer's CIDR blocks therefore sends
        traffic to be dropped, usually because someone expected hub-and-spoke transit that
        needs a Transit Gateway instead. A route of an IP version the peer has no block of
        (::/0 or any IPv6 prefix to an IPv4-only VPC) is the same case: none of it can reach
        the peer. This rule is the one finding for such a route; peering-route-too-broad
        judges routes that hold some of the peer's addresses and more.
    """,
    remediation="""
        Remove the route, and reach the destination directly (its own peering) or through a
        Transit Gateway.
    """,
    evidence=("route_table_id", "destination", "peering_id", "peer", "local_vpc_id"),
    params=NoParams,
    legitimate=(
        """A route to part of the peer's address space (one subnet, or a secondary CIDR block
        known from the peering or from the scanned peer VPC): least-reach routing.""",
        """A route that holds the peer's blocks and more (a default or supernet route):
        peering-route-too-broad reports it, once.""",
        """Prefix-list destinations, routes through a peering that is not active, and peers
        whose CIDR blocks are unknown: not judged.""",
    ),
)
def route_not_transitive(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag peering routes whose destination lies outside every peer CIDR block."""
    del params
    for t, r, p in _peering_routes(inv):
        dest = parse_network(r.destination)
        side = p.side(t.vpc_id)
        if dest is None or side is None:
            continue  # prefix-list destinations are not judged
        peer = p.other(side)
        known = peer_cidrs(inv, peer)
        same = [c for c in known if c.version == dest.version]
        # A peer with no block of the route's IP version drops all of it (e.g. IPv6 routes to
        # an IPv4-only VPC); a peer whose blocks are unknown is not judged.
        if not known or any(dest.overlaps(c) for c in same):
            continue
        family = f"IPv{dest.version}"
        where = (
            f"whose {family} CIDR blocks ({', '.join(cidr_strs(tuple(same)))}) do not include "
            f"it: peering is not transitive"
            if same
            else f"which has no {family} CIDR block: the peer can receive none of it"
        )
        yield Violation(
            resource=route_table_ref(t),
            message=(
                f"Route table {t.route_table_id} sends {dest} through peering "
                f"{p.peering_id} to {peer.vpc_id}, {where}, so this traffic is dropped."
            ),
            evidence={
                "route_table_id": t.route_table_id,
                "local_vpc_id": t.vpc_id,
                "destination": str(dest),
                "peering_id": p.peering_id,
                "peer": side_evidence(inv, peer),
            },
            remediation=cli(
                f"aws ec2 delete-route --route-table-id {q(t.route_table_id)} "
                f"{q(destination_flag(str(dest)))} {q(dest)}",
                t.region,
                t.owner_id,
            ),
            discriminator=str(dest),
        )


@rule(
    id="peering-route-too-broad",
    title="Route through a peering wider than the peer VPC",
    severity=Severity.LOW,
    area="peering",
    rationale="""
        A route through a peering to 0.0.0.0/0, ::/0 or a prefix that holds addresses outside
        the peer's CIDR blocks claims addresses the peer will never answer for. A default
        route through a peering black-holes all internet-bound traffic of the subnets that use
        it; a wide prefix captures addresses a more specific route elsewhere was meant to
        carry. The route is compared with the union of the peer's blocks of its family, so a
        /16 to a peer that holds both of its /17 halves claims nothing extra and is left
        alone; a route that holds none of the peer's addresses (including a route of an IP
        version the peer has no block of, such as ::/0 to an IPv4-only VPC) is
        peering-route-not-transitive's, and this rule stays silent on it.
    """,
    remediation="Replace the route with one route per peer CIDR block it holds.",
    evidence=(
        "route_table_id",
        "destination",
        "peering_id",
        "peer",
        "local_cidrs",
        "overlaps_local",
        "outside_peer",
    ),
    params=NoParams,
    legitimate=(
        """A route that equals the union of the peer's blocks (a /16 to a peer that holds both
        of its /17 halves): it claims nothing extra.""",
        """A route narrower than a peer block (one subnet of the peer): deliberate
        least-reach routing.""",
        """A route of an IP version the peer has no block of, or wholly outside the peer:
        peering-route-not-transitive reports it, once.""",
    ),
)
def route_too_broad(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag peering routes to a default route or a prefix the peer's blocks do not fill."""
    del params
    for t, r, p in _peering_routes(inv):
        dest = parse_network(r.destination)
        side = p.side(t.vpc_id)
        if dest is None or side is None:
            continue
        peer = p.other(side)
        known = peer_cidrs(inv, peer)
        same = [c for c in known if c.version == dest.version]
        default = dest.prefixlen == 0
        # CIDR blocks nest or are disjoint: the route is either inside one peer block (fine),
        # or holds some blocks whole; it claims extra addresses unless those fill it.
        if any(_within(dest, c) for c in same):
            continue
        inside = [c for c in same if _within(c, dest)]
        if not inside and (known or not default):
            # None of the peer's addresses: peering-route-not-transitive's (one finding). Only
            # a default route to a peer whose blocks are unknown is still judged here.
            continue
        outside = _uncovered(dest, inside)
        if not outside:
            continue
        local = peer_cidrs(inv, side)
        # A destination the table already routes (through this peering or elsewhere) cannot be
        # created again (AWS refuses a duplicate), and was never carried by this route.
        routed = {x.destination for x in t.routes}
        yield Violation(
            resource=route_table_ref(t),
            message=(
                f"Route table {t.route_table_id} sends {dest} through peering {p.peering_id}"
                + (
                    ": a default route through a peering drops all traffic it catches"
                    if default
                    else f", wider than the peer's {', '.join(str(c) for c in inside)}"
                )
                + "."
            ),
            evidence={
                "route_table_id": t.route_table_id,
                "destination": str(dest),
                "peering_id": p.peering_id,
                "peer": side_evidence(inv, peer),
                "local_cidrs": cidr_strs(local),
                "overlaps_local": [
                    str(c) for c in local if c.version == dest.version and c.overlaps(dest)
                ],
                "outside_peer": [str(c) for c in outside[:_OUTSIDE_SAMPLE]],
            },
            remediation="\n".join(
                line
                for line in [
                    cli(
                        f"aws ec2 create-route --route-table-id {q(t.route_table_id)} "
                        f"{q(destination_flag(str(c)))} {q(c)} "
                        f"--vpc-peering-connection-id {q(p.peering_id)}",
                        t.region,
                        t.owner_id,
                    )
                    # Only the blocks this route carried: not those the table routes already.
                    for c in inside
                    if str(c) not in routed
                ]
                + [
                    cli(
                        f"aws ec2 delete-route --route-table-id {q(t.route_table_id)} "
                        f"{q(destination_flag(str(dest)))} {q(dest)}",
                        t.region,
                        t.owner_id,
                    )
                ]
                if line.strip()
            ),
            severity=Severity.MEDIUM if default else None,
            discriminator=str(dest),
        )


# How many ranges outside the peer a finding names (a default route has dozens).
_OUTSIDE_SAMPLE = 8


def _within(inner: Network, outer: Network) -> bool:
    """Whether inner lies inside outer (integer compare: ipaddress.subnet_of is slow)."""
    start = Addr(inner.version, int(inner.network_address))
    return inner.prefixlen >= outer.prefixlen and contains(outer, start)


def _uncovered(dest: Network, blocks: list[Network]) -> list[Network]:
    """The parts of dest that none of the blocks (each inside dest) covers, largest first."""
    rest = [dest]
    for b in blocks:
        nxt: list[Network] = []
        for piece in rest:
            if _within(b, piece):
                # _within checked that both are of one version; mypy sees only the union.
                nxt.extend(piece.address_exclude(b))  # type: ignore[arg-type]
            elif not _within(piece, b):
                nxt.append(piece)
        rest = nxt
    return sorted(rest, key=lambda n: (n.prefixlen, int(n.network_address)))


_ENDED = frozenset({"rejected", "expired", "deleted", "deleting"})
"""Peering states in which nothing is connected any more."""


@rule(
    id="peering-cidr-overlap",
    title="Peered VPCs with overlapping CIDR blocks",
    severity=Severity.HIGH,
    area="peering",
    rationale="""
        Two VPCs whose CIDR blocks overlap, secondary blocks included, cannot route to each
        other's overlapping addresses: the local route always wins. AWS refuses to create
        such a peering (it fails), and an active one whose VPCs grew overlapping blocks
        silently loses reachability for those ranges.
    """,
    remediation="Re-address one VPC (a new secondary block and migration), or connect the "
    "two through a Transit Gateway with NAT.",
    evidence=("peering_id", "status", "requester", "accepter", "overlaps"),
    params=NoParams,
    legitimate=(
        """Peerings that ended (rejected, expired, deleted, deleting): nothing carries traffic
        and nothing is to be fixed.""",
        """A peering AWS refused (failed) for the overlap: graded low, as a record of why it
        never came up.""",
        """Overlapping VPCs that are not peered: vpc-cidr-overlap notes them for planning
        (info).""",
    ),
)
def peering_cidr_overlap(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag peerings (not ended) whose two sides' CIDR sets overlap."""
    del params
    for p in inv.peerings:
        if p.status in _ENDED:
            continue
        a, b = peer_cidrs(inv, p.requester), peer_cidrs(inv, p.accepter)
        overlaps = sorted(f"{x} ~ {y}" for x in a for y in b if _overlap(x, y))
        if not overlaps:
            continue
        severity = {"active": Severity.HIGH, "failed": Severity.LOW}.get(p.status, Severity.MEDIUM)
        side = p.accepter if p.accepter.owner_id in inv.scanned_accounts else p.requester
        yield Violation(
            resource=peering_ref(p, side),
            message=(
                f"Peering {p.peering_id} ({p.status}) joins {p.requester.vpc_id} and "
                f"{p.accepter.vpc_id}, whose CIDR blocks overlap ({'; '.join(overlaps)})."
            ),
            evidence={
                "peering_id": p.peering_id,
                "status": p.status,
                "requester": side_evidence(inv, p.requester),
                "accepter": side_evidence(inv, p.accepter),
                "overlaps": overlaps,
            },
            remediation=f"Re-address one of {p.requester.vpc_id} and {p.accepter.vpc_id}; "
            f"peering cannot carry overlapping ranges.",
            severity=severity,
        )


def _overlap(x: Network, y: Network) -> bool:
    """Whether two networks share an address (integer compare: ipaddress.overlaps is slow)."""
    return (
        x.version == y.version
        and int(x.network_address) <= int(y.broadcast_address)
        and int(y.network_address) <= int(x.broadcast_address)
    )


@dataclass(frozen=True)
class CidrOverlapParams:
    """Parameters of vpc-cidr-overlap."""

    ignore_default_vpcs: bool = True
    """Default VPCs all use 172.31.0.0/16 by design; skip them."""
    sample: int = 5
    """How many overlapping VPCs to name in each finding's evidence."""


@rule(
    id="vpc-cidr-overlap",
    title="VPC whose address space overlaps another scanned VPC",
    severity=Severity.INFO,
    area="routing",
    rationale="""
        VPCs with overlapping CIDR blocks can never be peered or routed to each other through
        a Transit Gateway without NAT. Knowing the overlaps before a merger, a migration or a
        new connectivity request saves a re-addressing project later. Checked across every
        scanned account and region in O(n log n): CIDR blocks either nest or are disjoint, so
        one sorted sweep finds every overlap.
    """,
    remediation="Plan address space centrally (for example with Amazon VPC IPAM); re-address "
    "VPCs that must ever connect.",
    evidence=("cidrs", "overlap_count", "overlapping"),
    params=CidrOverlapParams,
    legitimate=(
        """Default VPCs, which all use 172.31.0.0/16 by design (unless ignore_default_vpcs is
        false).""",
        """A shared VPC seen from several accounts: one VPC, which does not overlap itself.""",
        """Isolated copies of one address plan (identical development or test stacks that never
        connect): a planning note graded info, never a defect.""",
        """Two VPCs with a peering between them that has not ended: peering-cidr-overlap reports
        their overlap, once, with what it breaks.""",
    ),
)
def vpc_cidr_overlap(inv: Inventory, params: CidrOverlapParams) -> RuleOutput:
    """Flag each VPC whose CIDR blocks overlap another VPC's, naming a sample of them."""
    vpcs = [v for v in _unique_vpcs(inv) if not (params.ignore_default_vpcs and v.is_default)]
    blocks = sorted(
        ((c, v) for v in vpcs for c in v.cidrs),
        key=lambda cv: (cv[0].version, int(cv[0].network_address), cv[0].prefixlen),
    )
    hits: dict[str, list[tuple[Network, Vpc]]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    peers = _peered(inv)
    room = params.sample + max((len(p) for p in peers.values()), default=0)
    for version in (4, 6):
        _sweep([b for b in blocks if b[0].version == version], room, hits, counts)
    # One problem, one finding: an overlap between two peered VPCs is peering-cidr-overlap's
    # (it says what breaks); this rule keeps the overlaps nothing connects yet.
    by_id = {v.vpc_id: v for v in vpcs}
    for vpc_id, others in peers.items():
        if vpc_id not in by_id:
            continue
        mine = by_id[vpc_id].cidrs
        counts[vpc_id] -= sum(
            _overlap(x, y) for o in others if o in by_id for x in mine for y in by_id[o].cidrs
        )
        hits[vpc_id] = [h for h in hits[vpc_id] if h[1].vpc_id not in others]
    for v in vpcs:
        if counts.get(v.vpc_id, 0) <= 0:
            continue
        sample = hits[v.vpc_id][: params.sample]
        yield Violation(
            resource=vpc_ref(v),
            message=(
                f"{vpc_label(v)} overlaps "
                f"{counts[v.vpc_id]} other VPC block(s)"
                + (  # sample: 0 names none, and the message lists no empty "e.g."
                    ", e.g. "
                    + ", ".join(
                        f"{o.vpc_id} {net_text(c)} ({o.owner_id} {o.region})" for c, o in sample
                    )
                    if sample
                    else ""
                )
                + ": they can never be peered."
            ),
            evidence={
                "cidrs": cidr_strs(v.cidrs),
                "overlap_count": counts[v.vpc_id],
                "overlapping": [
                    {
                        "vpc_id": o.vpc_id,
                        "cidr": net_text(c),
                        "account_id": o.owner_id,
                        "region": o.region,
                    }
                    for c, o in sample
                ],
            },
            remediation="Re-address before these VPCs ever need to connect.",
        )


def _peered(inv: Inventory) -> dict[str, set[str]]:
    """VPC id -> the VPCs it has a peering with that has not ended (peering-cidr-overlap's)."""
    peers: dict[str, set[str]] = defaultdict(set)
    for p in inv.peerings:
        if p.status not in _ENDED:
            peers[p.requester.vpc_id].add(p.accepter.vpc_id)
            peers[p.accepter.vpc_id].add(p.requester.vpc_id)
    return peers


def _unique_vpcs(inv: Inventory) -> list[Vpc]:
    seen: dict[str, Vpc] = {}
    for v in inv.vpcs:
        if v.vpc_id not in seen or v.account_id == v.owner_id:
            seen[v.vpc_id] = v
    return sorted(seen.values(), key=lambda v: (v.owner_id, v.region, v.vpc_id))


def _sweep(
    blocks: list[tuple[Network, Vpc]],
    sample: int,
    hits: dict[str, list[tuple[Network, Vpc]]],
    counts: dict[str, int],
) -> None:
    """One sorted sweep: CIDR blocks nest or are disjoint, so a block overlaps exactly the
    blocks that enclose it (kept on a stack) and the ones it encloses (the run after it)."""
    starts = [int(c.network_address) for c, _ in blocks]
    # The last address of each block, from its prefix length: ipaddress's broadcast_address
    # builds (and caches) an address object per network, 0.6 s for 130,000 blocks.
    ends = [
        start | ((1 << (c.max_prefixlen - c.prefixlen)) - 1)
        for start, (c, _) in zip(starts, blocks, strict=True)
    ]
    stack: list[int] = []
    for i, (_, v) in enumerate(blocks):
        while stack and ends[stack[-1]] < starts[i]:
            stack.pop()
        inside_end = bisect.bisect_right(starts, ends[i])
        # AWS never lets two blocks of one VPC overlap, so every block counted is another VPC's.
        n = len(stack) + (inside_end - i - 1)
        if n:
            counts[v.vpc_id] += n
            room = max(sample - len(hits[v.vpc_id]), 0)
            # islice: copying a deep stack for every block would make identical blocks O(n^2).
            near = itertools.chain(reversed(stack), range(i + 1, min(inside_end, i + 1 + sample)))
            hits[v.vpc_id].extend(blocks[j] for j in itertools.islice(near, room))
        stack.append(i)


ROUTE_BLACKHOLE = route_blackhole
ROUTE_NOT_TRANSITIVE = route_not_transitive
ROUTE_TOO_BROAD = route_too_broad
PEERING_CIDR_OVERLAP = peering_cidr_overlap
VPC_CIDR_OVERLAP = vpc_cidr_overlap
