"""Hygiene and waste rules: stale security group references, NAT gateways no route uses, and
Elastic IPs attached to nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from vpcaudit.inventory import (
    ElasticIp,
    Inventory,
    NatGateway,
    RouteTable,
    SecurityGroup,
    SgRule,
    ec2_arn,
)
from vpcaudit.model import ResourceRef, Severity, Unverifiable, Violation
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import cli, destination_flag, q, sorted_tags

# Peering states after which a group reference across the peering can never work again.
_ENDED = frozenset({"deleted", "deleting", "rejected", "failed", "expired"})
# Protocols whose permissions carry ports (or ICMP type and code) that a revoke must repeat.
_PORTED = frozenset({"tcp", "udp", "icmp", "icmpv6", "6", "17", "1", "58"})


def _sg_ref(g: SecurityGroup) -> ResourceRef:
    owner = g.owner_id or g.account_id
    arn = ec2_arn(g.region, owner, "security-group", g.group_id)
    return ResourceRef(owner, g.region, "security-group", g.group_id, arn)


@rule(
    id="sg-stale-reference",
    title="Security group rule referencing a group across a peering that is gone",
    severity=Severity.LOW,
    area="security-groups",
    rationale="""
        A security group rule may name a group in a peered VPC. When that peering is deleted,
        or the referenced group is, AWS keeps the rule but marks it stale: it allows nothing,
        still counts against the group's rules quota, and reads as an allowance the team
        believes is in place. AWS reports it in the group's own data (UserIdGroupPairs[]
        .PeeringStatus, and no UserId once the referenced group is deleted), so the rule
        reads what DescribeSecurityGroups already returned instead of calling the per-VPC
        DescribeStaleSecurityGroups. Routes left to the same ended peering are reported by
        peering-inactive-lingering on their route tables: a different resource and fix.
    """,
    remediation="Revoke each stale permission (aws ec2 revoke-security-group-ingress or "
    "revoke-security-group-egress with the exact protocol, ports and group pair).",
    evidence=("security_group_id", "vpc_id", "stale_rules"),
    params=NoParams,
    legitimate=(
        """A reference across an active peering is left alone, and so is one without a
        peering status (the same VPC, or a Transit Gateway with security group referencing).""",
        """Nothing legitimate depends on a stale rule: AWS no longer applies it, so revoking
        it changes no traffic.""",
    ),
)
def sg_stale_reference(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag security groups with rules that name a group across an ended peering."""
    del params
    seen: set[str] = set()
    # One copy per group: the one read in its owner's account first.
    for g in sorted(inv.security_groups, key=lambda g: (g.account_id != g.owner_id, g.account_id)):
        if g.group_id in seen:
            continue
        seen.add(g.group_id)
        stale = [r for r in (*g.ingress, *g.egress) if r.group_id and _stale_cause(r)]
        if not stale:
            continue
        ref = _sg_ref(g)
        rules = [_stale_evidence(inv, g, r) for r in stale]
        what = "; ".join(
            f"{x['direction']} {_traffic(x)} with {x['group_id']} ({x['cause']})" for x in rules
        )
        yield Violation(
            resource=ref,
            message=(
                f"Security group {g.group_id} ({g.vpc_id}) has {len(stale)} stale rule(s) that "
                f"AWS no longer applies: {what}."
            ),
            evidence={"security_group_id": g.group_id, "vpc_id": g.vpc_id, "stale_rules": rules},
            remediation="\n".join(_revoke(g, r, ref.account_id) for r in stale),
        )


def _stale_cause(r: SgRule) -> str:
    """Why a group pair is stale ("" when it is not): AWS's own signals only."""
    if r.peering_status.lower() in _ENDED:
        return f"peering {r.peering_status.lower()}"
    # AWS stops returning UserId once a referenced group in another VPC is deleted.
    if not r.group_owner and (r.peering_status or r.group_vpc_id):
        return "referenced group deleted"
    return ""


def _stale_evidence(inv: Inventory, g: SecurityGroup, r: SgRule) -> dict[str, Any]:
    peering = next(
        (
            p
            for p in sorted(
                inv.peerings_of(g.vpc_id), key=lambda p: (p.status == "active", p.peering_id)
            )
            if r.group_vpc_id
            and {p.requester.vpc_id, p.accepter.vpc_id} == {g.vpc_id, r.group_vpc_id}
        ),
        None,
    )
    return {
        "direction": "egress" if r.egress else "ingress",
        "protocol": r.protocol,
        "ports": _ports(r),
        "group_id": r.group_id,
        "group_account_id": r.group_owner,
        "group_vpc_id": r.group_vpc_id,
        "peering_status": r.peering_status,
        "peering_id": peering.peering_id if peering else "",
        "cause": _stale_cause(r),
    }


def _traffic(x: dict[str, Any]) -> str:
    return "all traffic" if x["protocol"] == "-1" else f"{x['protocol']} {x['ports']}"


def _ports(r: SgRule) -> str:
    if r.protocol == "-1" or (r.from_port, r.to_port) == (-1, -1):
        return "all"
    return str(r.from_port) if r.from_port == r.to_port else f"{r.from_port}-{r.to_port}"


def _revoke(g: SecurityGroup, r: SgRule, account: str) -> str:
    """The revoke command for exactly this permission: AWS refuses one that does not match."""
    perm: dict[str, Any] = {"IpProtocol": r.protocol}
    if r.protocol in _PORTED:
        perm["FromPort"], perm["ToPort"] = r.from_port, r.to_port
    pair = {"GroupId": r.group_id, **({"UserId": r.group_owner} if r.group_owner else {})}
    perm["UserIdGroupPairs"] = [pair]
    direction = "egress" if r.egress else "ingress"
    return cli(
        f"aws ec2 revoke-security-group-{q(direction)} --group-id {q(g.group_id)} "
        f"--ip-permissions {q(json.dumps([perm], separators=(',', ':')))}",
        g.region,
        account,
    )


@dataclass(frozen=True)
class NatUnreferencedParams:
    """Parameters of nat-gateway-unreferenced."""

    hourly_price: float = 0.045
    """USD per NAT gateway hour (us-east-1 list price; check your region's)."""
    public_ipv4_hourly: float = 0.005
    """USD per public IPv4 address hour, for a public NAT gateway's address."""
    hours_per_month: float = 730.0
    """Hours in a month, for the monthly estimate."""


@rule(
    id="nat-gateway-unreferenced",
    title="NAT gateway that no route table uses",
    severity=Severity.MEDIUM,
    area="nat",
    rationale="""
        A NAT gateway carries only what routes send it, and only routes in its own VPC's
        route tables can (a route in another VPC, or in a Transit Gateway route table, cannot
        name it). An available NAT gateway no route targets bills its hourly charge (about
        $32.85 a month in us-east-1) plus its public IPv4 address (about $3.65 a month) for
        nothing. One that only tables no subnet uses point to is graded low: such a table may
        be waiting for its subnets. Judged only where the route tables of its VPC were read;
        otherwise the check is reported as unverifiable. Routes to deleted NAT gateways are
        left to route-blackhole.
    """,
    remediation="Delete the NAT gateway (aws ec2 delete-nat-gateway) and release its Elastic "
    "IP address once it is deleted (aws ec2 release-address).",
    evidence=(
        "nat_gateway_id",
        "vpc_id",
        "subnet_id",
        "connectivity",
        "public_ip",
        "allocation_id",
        "referencing_route_tables",
        "monthly_cost_usd",
    ),
    params=NatUnreferencedParams,
    legitimate=(
        """A standby NAT gateway that failover automation routes to when another zone fails
        looks the same: waive it (the rule cannot see the automation).""",
        """A NAT gateway created moments before its routes (a change in progress) is flagged
        until the routes exist.""",
    ),
)
def nat_gateway_unreferenced(inv: Inventory, params: NatUnreferencedParams) -> RuleOutput:
    """Flag available NAT gateways that no route, or only unused route tables, send to."""
    allocations: dict[tuple[str, str, str], str] | None = None
    for n in inv.nat_gateways:
        if n.state != "available":
            continue
        vpc = inv.vpc(n.vpc_id)
        owners = {n.account_id, vpc.owner_id if vpc is not None else n.account_id}
        ref = _nat_ref(n)
        if not all(inv.was_read(o, n.region, "route_tables") for o in owners):
            yield Unverifiable(
                ref,
                f"the route tables of {n.vpc_id} were not read, so whether any routes to NAT "
                f"gateway {n.nat_gateway_id} is unknown",
            )
            continue
        refs = [t for t, _ in inv.routes_to(n.nat_gateway_id) if t.vpc_id == n.vpc_id]
        if refs and (
            not all(inv.was_read(o, n.region, "subnets") for o in owners)
            or any(_carries(inv, t) for t in refs)
        ):
            continue
        if allocations is None:
            allocations = {
                (e.account_id, e.region, e.eni_id): e.allocation_id for e in inv.elastic_ips
            }
        yield _unreferenced_finding(n, ref, refs, allocations, params)


def _carries(inv: Inventory, t: RouteTable) -> bool:
    """Whether a subnet uses the table or a gateway sends inbound traffic through it."""
    return bool(t.gateway_ids) or any(
        x.route_table_id == t.route_table_id for x in inv.serving_route_tables(t.vpc_id)
    )


def _nat_ref(n: NatGateway) -> ResourceRef:
    arn = ec2_arn(n.region, n.account_id, "natgateway", n.nat_gateway_id)
    return ResourceRef(n.account_id, n.region, "nat-gateway", n.nat_gateway_id, arn)


def _unreferenced_finding(
    n: NatGateway,
    ref: ResourceRef,
    refs: list[RouteTable],
    allocations: dict[tuple[str, str, str], str],
    params: NatUnreferencedParams,
) -> Violation:
    hours = params.hours_per_month
    ipv4 = params.public_ipv4_hourly * hours if n.public_ip else 0.0
    monthly = round(params.hourly_price * hours + ipv4, 2)
    allocation = allocations.get((n.account_id, n.region, n.eni_id), "") if n.eni_id else ""
    tables = sorted({t.route_table_id for t in refs})
    steps = [
        cli(
            f"aws ec2 delete-route --route-table-id {q(t.route_table_id)} "
            f"{q(destination_flag(r.destination))} {q(r.destination)}",
            t.region,
            t.owner_id,
        )
        for t in sorted(
            {t.route_table_id: t for t in refs}.values(), key=lambda t: t.route_table_id
        )
        for r in t.routes
        if r.target_id == n.nat_gateway_id
    ]
    steps.append(
        cli(
            f"aws ec2 delete-nat-gateway --nat-gateway-id {q(n.nat_gateway_id)}",
            n.region,
            ref.account_id,
        )
    )
    if allocation.startswith("eipalloc-"):
        steps += [
            cli(
                f"aws ec2 wait nat-gateway-deleted --nat-gateway-ids {q(n.nat_gateway_id)}",
                n.region,
                ref.account_id,
            ),
            cli(
                f"aws ec2 release-address --allocation-id {q(allocation)}", n.region, ref.account_id
            ),
        ]
    why = (
        f"only route table(s) {', '.join(tables)}, which no subnet uses, route to it"
        if tables
        else "no route table routes to it"
    )
    return Violation(
        resource=ref,
        message=(
            f"NAT gateway {n.nat_gateway_id} ({n.vpc_id}) is available but {why}: about "
            f"${monthly:.2f} a month for nothing."
        ),
        evidence={
            "nat_gateway_id": n.nat_gateway_id,
            "vpc_id": n.vpc_id,
            "subnet_id": n.subnet_id,
            "connectivity": n.connectivity,
            "public_ip": n.public_ip,
            "allocation_id": allocation,
            "referencing_route_tables": tables,
            "monthly_cost_usd": monthly,
        },
        remediation="\n".join(steps),
        severity=Severity.LOW if tables else None,
    )


@dataclass(frozen=True)
class EipParams:
    """Parameters of eip-unassociated."""

    public_ipv4_hourly: float = 0.005
    """USD per public IPv4 address hour (AWS's price since February 2024)."""
    hours_per_month: float = 730.0
    """Hours in a month, for the monthly estimate."""
    ignore_tag: str = "vpcaudit:reserved"
    """An address carrying this tag key (any value) is held on purpose and left alone."""


@rule(
    id="eip-unassociated",
    title="Elastic IP address attached to nothing",
    severity=Severity.LOW,
    area="addresses",
    rationale="""
        AWS bills every public IPv4 address by the hour, about $3.65 a month, whether or not
        it is in use; an Elastic IP associated with no instance or network interface pays that
        for nothing. Addresses held on purpose carry the ignore_tag tag key and are left alone.
    """,
    remediation="Release the address if nothing depends on it (aws ec2 release-address); "
    "tag it with the ignore_tag key if it is held on purpose.",
    evidence=("allocation_id", "public_ip", "tags", "monthly_cost_usd"),
    params=EipParams,
    legitimate=(
        """An address reserved for partners' allow-lists or a DNS record, kept between uses:
        tag it with the ignore_tag key (default vpcaudit:reserved) and it is left alone.""",
        """An address from your own range (BYOIP) is not billed as Amazon's public IPv4; the
        pool is not read, so waive such a finding.""",
    ),
)
def eip_unassociated(inv: Inventory, params: EipParams) -> RuleOutput:
    """Flag Elastic IPs with no association, unless tagged as held on purpose."""
    monthly = round(params.public_ipv4_hourly * params.hours_per_month, 2)
    for e in inv.elastic_ips:
        if e.association_id or e.eni_id or e.instance_id:
            continue
        tags = dict(e.tags)
        if params.ignore_tag and params.ignore_tag in tags:
            continue
        yield Violation(
            resource=_eip_ref(e),
            message=(
                f"Elastic IP {e.public_ip} ({e.allocation_id}) is associated with nothing: "
                f"about ${monthly:.2f} a month. Release it unless something (a DNS record, a "
                f"partner's allow-list) depends on it; a released address may be gone for good."
            ),
            evidence={
                "allocation_id": e.allocation_id,
                "public_ip": e.public_ip,
                "tags": tags,
                "monthly_cost_usd": monthly,
            },
            remediation=cli(
                f"aws ec2 release-address --allocation-id {q(e.allocation_id)}"
                if e.allocation_id.startswith("eipalloc-")
                else f"aws ec2 release-address --public-ip {q(e.public_ip)}",
                e.region,
                e.account_id,
            )
            + "\nor, if it is held on purpose: "
            + cli(
                f"aws ec2 create-tags --resources {q(e.allocation_id)} "
                f"--tags {q(f'Key={params.ignore_tag},Value=held-on-purpose')}",
                e.region,
                e.account_id,
            ),
        )


def _eip_ref(e: ElasticIp) -> ResourceRef:
    arn = ec2_arn(e.region, e.account_id, "elastic-ip", e.allocation_id)
    return ResourceRef(
        e.account_id, e.region, "elastic-ip", e.allocation_id, arn, sorted_tags(dict(e.tags))
    )


SG_STALE_REFERENCE = sg_stale_reference
NAT_GATEWAY_UNREFERENCED = nat_gateway_unreferenced
EIP_UNASSOCIATED = eip_unassociated
