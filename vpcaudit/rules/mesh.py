"""Peering at scale: VPCs near the per-VPC peering quota, and groups of peered VPCs that have
outgrown a mesh (when a Transit Gateway would serve better, and what it would cost)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from vpcaudit.inventory import Inventory, Peering, PeeringSide, ec2_arn
from vpcaudit.model import ResourceRef, Severity, Violation
from vpcaudit.rules.base import RuleOutput, rule
from vpcaudit.rules.common import cli, note, q, vpc_ref

# Service Quotas code of "Active VPC peering connections per VPC" (service code vpc).
PEERING_QUOTA_CODE = "L-7E9ECCDB"


def _degrees(inv: Inventory) -> tuple[dict[str, int], dict[str, PeeringSide]]:
    """Active peerings per VPC id, and a side naming each VPC (owner and region)."""
    memo: dict[str, Any] = inv.memo("mesh.degrees")
    if "degree" not in memo:
        degree: dict[str, int] = defaultdict(int)
        sides: dict[str, PeeringSide] = {}
        for p in inv.peerings:
            if p.status != "active" or p.requester.vpc_id == p.accepter.vpc_id:
                continue
            for s in (p.requester, p.accepter):
                degree[s.vpc_id] += 1
                sides.setdefault(s.vpc_id, s)
        memo["degree"], memo["sides"] = dict(degree), sides
    return memo["degree"], memo["sides"]


def _vpc_location(inv: Inventory, vpc_id: str, side: PeeringSide) -> ResourceRef:
    """The VPC in its owner's account: from the scan when read, else as a peering names it."""
    vpc = inv.vpc(vpc_id)
    if vpc is not None:
        return vpc_ref(vpc)
    arn = ec2_arn(side.region, side.owner_id, "vpc", vpc_id)
    return ResourceRef(side.owner_id, side.region, "vpc", vpc_id, arn)


@dataclass(frozen=True)
class QuotaParams:
    """Parameters of peering-quota-near."""

    quota: int = 50
    """Active peerings allowed per VPC (AWS's default; set yours if it was raised)."""
    adjustable_to: int = 125
    """The most AWS raises that quota to."""
    warn_ratio: float = 0.8
    """Report a VPC whose active peerings reach this share of the quota."""


@rule(
    id="peering-quota-near",
    title="VPC near its quota of active peerings",
    severity=Severity.LOW,
    area="peering",
    rationale="""
        A VPC may have 50 active peering connections by default, adjustable to 125 through
        Service Quotas; once it is reached, AcceptVpcPeeringConnection fails for both VPCs of
        the next connection, usually in the middle of a project. A VPC whose active peerings
        reach warn_ratio of the quota is reported low (raise the quota, and the routes per
        route table with it); one near the most AWS allows is reported medium, as no quota
        increase can help it. Counts come from the peerings read: a VPC whose account or
        Region was not scanned may have more than the count, which the evidence says.
    """,
    remediation="""
        Check the VPC's applied quota and raise it toward adjustable_to
        (aws service-quotas request-service-quota-increase --service-code vpc --quota-code
        L-7E9ECCDB), together with the routes per route table; near the ceiling, move the
        group to a Transit Gateway (see peering-mesh-consider-tgw).
    """,
    evidence=(
        "vpc_id",
        "active_peerings",
        "quota",
        "adjustable_to",
        "share_of_quota",
        "count_complete",
        "peering_ids",
    ),
    params=QuotaParams,
    legitimate=(
        """A hub VPC (shared services) peered with many spokes by design is graded low, not
        medium, until it nears the ceiling: the finding is a capacity warning, not a design
        judgement.""",
        """A quota already raised is unknown to the scan: set the quota parameter to it and
        the VPC is judged against that.""",
    ),
)
def quota_near(inv: Inventory, params: QuotaParams) -> RuleOutput:
    """Flag VPCs whose active peerings reach warn_ratio of the per-VPC quota."""
    degree, sides = _degrees(inv)
    threshold = params.warn_ratio * params.quota
    ceiling = params.warn_ratio * params.adjustable_to
    ids: dict[str, list[str]] | None = None
    for vpc_id in sorted(v for v, n in degree.items() if n >= threshold):
        if ids is None:
            ids = _peering_ids(inv)
        count, side = degree[vpc_id], sides[vpc_id]
        ref = _vpc_location(inv, vpc_id, side)
        complete = inv.was_read(side.owner_id, side.region, "peerings")
        near_ceiling = count >= ceiling
        if near_ceiling:
            why = (
                f"near the {params.adjustable_to} AWS allows at most: no quota increase can "
                f"make room, only fewer peerings (a Transit Gateway)"
            )
        elif count > params.quota:
            why = (
                f"above the default quota of {params.quota}, so it was raised: set the quota "
                f"parameter to the applied value to judge it against that"
            )
        else:
            why = f"{count / params.quota:.0%} of the quota of {params.quota}"
        raise_to = cli(
            "aws service-quotas request-service-quota-increase --service-code vpc "
            f"--quota-code {q(PEERING_QUOTA_CODE)} --desired-value {q(params.adjustable_to)}",
            ref.region,
            ref.account_id,
        )
        check = cli(
            "aws service-quotas get-service-quota --service-code vpc "
            f"--quota-code {q(PEERING_QUOTA_CODE)}",
            ref.region,
            ref.account_id,
        )
        yield Violation(
            resource=ref,
            message=(
                f"VPC {vpc_id} has {'at least ' if not complete else ''}{count} active "
                f"peering connections, {why}."
            ),
            evidence={
                "vpc_id": vpc_id,
                "active_peerings": count,
                "quota": params.quota,
                "adjustable_to": params.adjustable_to,
                "share_of_quota": round(count / params.quota, 2),
                "count_complete": complete,
                "peering_ids": ids.get(vpc_id, []),
            },
            remediation=(
                f"{check}\n{raise_to}\n# Raise routes per route table (L-93826ACB) to match, "
                "or move the group to a Transit Gateway (see peering-mesh-consider-tgw)."
            ),
            severity=Severity.MEDIUM if near_ceiling else None,
        )


def _peering_ids(inv: Inventory) -> dict[str, list[str]]:
    """Active peering ids per VPC id, sorted."""
    out: dict[str, list[str]] = defaultdict(list)
    for p in inv.peerings:
        if p.status == "active" and p.requester.vpc_id != p.accepter.vpc_id:
            out[p.requester.vpc_id].append(p.peering_id)
            out[p.accepter.vpc_id].append(p.peering_id)
    return {k: sorted(v) for k, v in out.items()}


@dataclass(frozen=True)
class MeshParams:
    """Parameters of peering-mesh-consider-tgw."""

    min_vpcs: int = 6
    """Speak up for a group of at least this many VPCs joined by peering."""
    quota: int = 50
    """Active peerings allowed per VPC (as for peering-quota-near)."""
    quota_warn_ratio: float = 0.8
    """Also speak up when a VPC of the group reaches this share of the quota."""
    attachment_hourly: float = 0.05
    """USD per Transit Gateway attachment hour (us-east-1)."""
    tgw_per_gb: float = 0.02
    """USD per GB a Transit Gateway processes (us-east-1)."""
    peering_cross_az_per_gb: float = 0.01
    """USD per GB crossing zones over a peering, charged in each direction (out and in)."""
    monthly_gb_per_vpc: float = 100.0
    """Estimated GB each VPC sends to the rest of the group a month (an assumption)."""
    cross_az_share: float = 0.5
    """Estimated share of that traffic that crosses zones (an assumption)."""
    hours_per_month: float = 730.0
    """Hours in a month, for the monthly estimate."""
    evidence_sample: int = 50
    """At most this many VPC and peering ids in the evidence (the counts are always whole)."""


@rule(
    id="peering-mesh-consider-tgw",
    title="Peering mesh large enough to consider a Transit Gateway",
    severity=Severity.INFO,
    area="peering",
    rationale="""
        Peering is not transitive, so N VPCs that must all talk need N(N-1)/2 connections and
        a route for each peer in every route table, on both sides, by hand; each VPC may have
        at most 50 active peerings (125 with a quota increase). A Transit Gateway replaces
        that with one attachment and a route or two per VPC, but bills every attachment hour
        and every GB it processes, where peering costs nothing within a zone. For each group
        of VPCs joined by active peerings that is large (min_vpcs) or has a VPC near the
        quota, this reports the group, how far it is from a full mesh and from the quota, the
        peering routes a hub would replace, and an estimated monthly cost of both, saying
        plainly when peering is still cheaper. The traffic volume is an assumption (the scan
        does not measure traffic): set monthly_gb_per_vpc and cross_az_share to yours.
        peering-quota-near reports the individual VPCs near the quota; this is about the group.
    """,
    remediation="""
        If the group is to move: create a Transit Gateway in the group's Region (aws ec2
        create-transit-gateway), share it with the group's accounts (AWS RAM), attach each
        VPC, move the peering routes to the Transit Gateway table by table, then delete the
        peerings. For cost alone, peering is usually cheaper.
    """,
    evidence=(
        "vpc_count",
        "vpcs",
        "peering_count",
        "peerings",
        "full_mesh_peerings",
        "missing_for_full_mesh",
        "busiest_vpc",
        "max_peerings_per_vpc",
        "quota_headroom",
        "peering_routes",
        "regions",
        "accounts",
        "monthly_cost_comparison_usd",
    ),
    params=MeshParams,
    legitimate=(
        """A few VPCs peered with each other or with a shared-services hub (fewer than
        min_vpcs, none near the quota) are left alone: peering is the simple, cheap design
        there.""",
        """A large group kept as a mesh on purpose (heavy traffic within zones, cheaper as
        peering) is only ever reported as info, and the finding says when peering is
        cheaper.""",
    ),
)
def mesh_consider_tgw(inv: Inventory, params: MeshParams) -> RuleOutput:
    """Report each large or near-quota group of peered VPCs, with a cost comparison."""
    degree, _ = _degrees(inv)
    near = params.quota_warn_ratio * params.quota
    for members, peerings in _groups(inv):
        # The busiest VPC: most peerings, the lowest id among equals.
        busiest = min(members, key=lambda v: (-degree[v], v))
        if len(members) >= params.min_vpcs or degree[busiest] >= near:
            yield _mesh_finding(inv, (members, peerings), busiest, params)


def _groups(inv: Inventory) -> list[tuple[list[str], list[Peering]]]:
    """The connected groups of VPCs joined by active peerings (union-find, near O(n))."""
    parent: dict[str, str] = {}

    def find(v: str) -> str:
        root = parent.setdefault(v, v)
        while root != parent[root]:
            parent[root] = parent[parent[root]]  # path halving keeps the trees flat
            root = parent[root]
        return root

    active = [p for p in inv.peerings if p.status == "active"]
    for p in active:
        a, b = find(p.requester.vpc_id), find(p.accepter.vpc_id)
        if a != b:
            parent[max(a, b)] = min(a, b)
    members: dict[str, list[str]] = defaultdict(list)
    for v in parent:
        members[find(v)].append(v)
    links: dict[str, list[Peering]] = defaultdict(list)
    for p in active:
        links[find(p.requester.vpc_id)].append(p)
    return [
        (sorted(members[root]), sorted(links[root], key=lambda p: p.peering_id))
        for root in sorted(members)
    ]


def _mesh_finding(
    inv: Inventory, group: tuple[list[str], list[Peering]], busiest: str, params: MeshParams
) -> Violation:
    degree, sides = _degrees(inv)
    members, peerings = group
    n, m = len(members), len(peerings)
    full = n * (n - 1) // 2
    routes = sum(len(inv.routes_to(p.peering_id)) for p in peerings)
    scanned = [v for v in members if inv.vpc(v) is not None]
    home = scanned[0] if scanned else members[0]
    ref = _vpc_location(inv, home, sides[home])
    regions = sorted({sides[v].region for v in members})
    accounts = sorted({sides[v].owner_id for v in members})
    cost = _cost(n, params)
    k = params.evidence_sample
    cheaper = cost["cheaper"]
    verdict = (
        f"peering is still cheaper by ${cost['difference']:,.2f} a month: a hub would pay "
        f"for itself in operations (transitive routing, one attachment per VPC, no per-VPC "
        f"quota), not in charges"
        if cheaper == "peering"
        else f"a Transit Gateway would be cheaper by ${cost['difference']:,.2f} a month"
    )
    return Violation(
        resource=ref,
        message=(
            f"{n} VPCs are joined by {m} active peerings ({m / full:.0%} of the {full} of a "
            f"full mesh); the busiest, {busiest}, has {degree[busiest]} of its "
            f"{params.quota} allowed; a Transit Gateway would replace {routes} peering "
            f"routes. Estimated at {params.monthly_gb_per_vpc:g} GB per VPC a month: Transit "
            f"Gateway ${cost['transit_gateway']:,.2f} vs peering ${cost['peering']:,.2f}; "
            f"{verdict}."
        ),
        evidence={
            "vpc_count": n,
            "vpcs": members[:k],
            "peering_count": m,
            "peerings": [p.peering_id for p in peerings[:k]],
            "full_mesh_peerings": full,
            "missing_for_full_mesh": full - m,
            "busiest_vpc": busiest,
            "max_peerings_per_vpc": degree[busiest],
            "quota_headroom": params.quota - degree[busiest],
            "peering_routes": routes,
            "regions": regions,
            "accounts": accounts[:k],
            "monthly_cost_comparison_usd": cost,
        },
        remediation=(
            cli(
                "aws ec2 create-transit-gateway --description "
                + q(f"Hub for the {n} VPCs peered with {home}"),
                ref.region,
                ref.account_id,
            )
            + "\n# then share it (AWS RAM), attach each VPC (aws ec2 "
            "create-transit-gateway-vpc-attachment), move the peering routes to it table by "
            "table, and delete the peerings"
            + (
                note(
                    f"; the group spans {len(regions)} Regions: one Transit Gateway per Region, "
                    "peered (aws ec2 create-transit-gateway-peering-attachment)"
                )
                if len(regions) > 1
                else ""
            )
            + "."
        ),
    )


def _cost(n: int, params: MeshParams) -> dict[str, Any]:
    """Monthly estimate of a Transit Gateway hub against the peering mesh, with assumptions."""
    gb = params.monthly_gb_per_vpc * n
    tgw = n * params.attachment_hourly * params.hours_per_month + gb * params.tgw_per_gb
    # Peering: free within a zone; across zones both the sender and receiver pay.
    peering = gb * params.cross_az_share * params.peering_cross_az_per_gb * 2
    tgw, peering = round(tgw, 2), round(peering, 2)
    return {
        "transit_gateway": tgw,
        "peering": peering,
        "cheaper": "peering" if peering <= tgw else "transit-gateway",
        "difference": round(abs(tgw - peering), 2),
        "assumptions": [
            f"{params.monthly_gb_per_vpc:g} GB sent by each VPC a month (an estimate, "
            "not measured)",
            f"Transit Gateway: {n} VPC attachments at ${params.attachment_hourly}/h for "
            f"{params.hours_per_month:g} h, plus ${params.tgw_per_gb}/GB processed",
            f"peering: free within a zone; {params.cross_az_share:.0%} of traffic crosses "
            f"zones at ${params.peering_cross_az_per_gb}/GB each way",
            "cross-zone and cross-Region data transfer through the Transit Gateway, and "
            "Transit Gateway peering between Regions, are not counted (the hub's figure is a "
            "floor)",
        ],
    }


QUOTA_NEAR = quota_near
MESH_CONSIDER_TGW = mesh_consider_tgw
