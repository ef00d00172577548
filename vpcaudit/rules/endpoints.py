"""Endpoint rules: interface endpoints paid for where a free gateway endpoint would serve."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from vpcaudit.inventory import Endpoint, Inventory, RouteTable
from vpcaudit.model import Severity, Unverifiable, Violation
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import cli, endpoint_ref, route_table_ref

# Gateway endpoints exist for these two services only.
_GATEWAY_SERVICE = re.compile(
    r"^(?:cn\.)?com\.amazonaws\.(?P<region>[a-z0-9-]+)\.(?P<service>s3|dynamodb)$"
)
# An AWS service's endpoint name; com.amazonaws.vpce.<region>.vpce-svc-... are PrivateLink
# services of other accounts.
_AWS_SERVICE = re.compile(r"^(?:cn\.)?com\.amazonaws\.(?!vpce\.)")
_GONE = frozenset({"deleted", "deleting", "rejected", "failed", "expired"})


@dataclass(frozen=True)
class InterfaceForGatewayParams:
    """Parameters of endpoint-interface-for-gateway-service."""

    hourly_price_per_az: float = 0.01
    """USD per endpoint per AZ per hour (us-east-1 list price)."""
    hours_per_month: float = 730.0
    """Hours in the month used for the monthly estimate."""


@rule(
    id="endpoint-interface-for-gateway-service",
    title="Interface endpoint where a free gateway endpoint would serve",
    severity=Severity.MEDIUM,
    area="endpoints",
    rationale="""
        S3 and DynamoDB have gateway endpoints that cost nothing. An interface endpoint for
        them costs about $0.01 per AZ per hour plus $0.01 per GB processed, and is only needed
        for traffic a gateway endpoint cannot carry: from on-premises over VPN or Direct
        Connect, from another region, from a peered VPC or through a Transit Gateway. The rule
        weighs those uses: when the VPC has any of them the finding is graded low and says
        which, so a team can confirm the endpoint is deliberate.
    """,
    remediation="""
        Create a gateway endpoint for the service on the VPC's route tables, move clients to
        it, then delete the interface endpoint (aws ec2 delete-vpc-endpoints).
    """,
    evidence=(
        "service",
        "service_region",
        "az_count",
        "monthly_cost_usd",
        "legitimate_uses",
        "unchecked",
        "gateway_endpoints",
        "subnet_ids",
    ),
    params=InterfaceForGatewayParams,
)
def interface_for_gateway_service(inv: Inventory, params: InterfaceForGatewayParams) -> RuleOutput:
    """Flag S3/DynamoDB interface endpoints and price what they cost each month."""
    for ep in inv.endpoints:
        if ep.endpoint_type.lower() != "interface" or ep.state in _GONE:
            continue
        m = _GATEWAY_SERVICE.match(ep.service_name)
        if m is None:
            continue
        service, service_region = m["service"], m["region"]
        uses, unchecked = _legitimate_uses(inv, ep, service_region)
        zones = {
            s.availability_zone for s in inv.subnets_of(ep.vpc_id) if s.subnet_id in ep.subnet_ids
        }
        az_count = max(len(zones) or len(ep.subnet_ids), 1)
        monthly = round(az_count * params.hourly_price_per_az * params.hours_per_month, 2)
        gateways = sorted(
            e.endpoint_id
            for e in inv.endpoints_of(ep.vpc_id)
            if e.endpoint_type.lower() == "gateway"
            and e.service_name == ep.service_name
            and e.state not in _GONE
        )
        if uses:
            severity = Severity.LOW
            verdict = (
                "the VPC has uses that a gateway endpoint cannot serve (" + "; ".join(uses) + ")"
            )
        else:
            severity = Severity.MEDIUM
            verdict = "nothing in the VPC needs it over a free gateway endpoint"
        yield Violation(
            resource=endpoint_ref(ep),
            message=(
                f"Interface endpoint {ep.endpoint_id} for {service} in {ep.vpc_id} costs about "
                f"${monthly:.2f}/month plus data processing; {verdict}."
            ),
            evidence={
                "service": ep.service_name,
                "service_region": service_region,
                "az_count": az_count,
                "monthly_cost_usd": monthly,
                "legitimate_uses": uses,
                "unchecked": unchecked,
                "gateway_endpoints": gateways,
                "subnet_ids": list(ep.subnet_ids),
            },
            remediation=_remediation(inv, ep, gateways),
            severity=severity,
        )


def _legitimate_uses(
    inv: Inventory, ep: Endpoint, service_region: str
) -> tuple[list[str], list[str]]:
    """What in the VPC may need an interface endpoint, and what could not be checked."""
    uses: list[str] = []
    unchecked: list[str] = []
    if service_region != ep.region:
        uses.append(f"cross-region access to {service_region}")
    checks: list[tuple[str, Any]] = [
        (
            "vpn_gateways",
            lambda: [
                f"VPN/Direct Connect gateway {g.gateway_id}" for g in inv.vpn_gateways_of(ep.vpc_id)
            ],
        ),
        (
            "tgw_attachments",
            lambda: [
                f"Transit Gateway attachment {a.attachment_id}"
                for a in inv.tgw_attachments_of(ep.vpc_id)
                if a.state in ("available", "pending", "modifying", "initiating")
            ],
        ),
        (
            "peerings",
            lambda: [
                f"active peering {p.peering_id}"
                for p in inv.peerings_of(ep.vpc_id)
                if p.status == "active"
            ],
        ),
    ]
    for kind, found in checks:
        if inv.was_read(ep.account_id, ep.region, kind):
            uses.extend(found())
        else:
            unchecked.append(kind)
    return uses, unchecked


def _remediation(inv: Inventory, ep: Endpoint, gateways: list[str]) -> str:
    steps = []
    if not gateways:
        tables = " ".join(t.route_table_id for t in inv.serving_route_tables(ep.vpc_id))
        steps.append(
            cli(
                f"aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id {ep.vpc_id} "
                f"--service-name {ep.service_name}"
                + (f" --route-table-ids {tables}" if tables else ""),
                ep.region,
                ep.account_id,
            )
        )
    steps.append(
        cli(
            f"aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {ep.endpoint_id}",
            ep.region,
            ep.account_id,
        )
    )
    return "\n".join(steps)


INTERFACE_FOR_GATEWAY_SERVICE = interface_for_gateway_service


def _live(ep: Endpoint) -> bool:
    return ep.state not in _GONE


@rule(
    id="endpoint-gateway-unused",
    title="Gateway endpoint associated with no route table",
    severity=Severity.LOW,
    area="endpoints",
    rationale="""
        A gateway endpoint only carries traffic for the route tables it is associated with.
        One with none does nothing: S3 or DynamoDB traffic still leaves through a NAT gateway
        or the internet, while the endpoint suggests it does not.
    """,
    remediation="Associate the endpoint with the route tables of the subnets that use the "
    "service (aws ec2 modify-vpc-endpoint --add-route-table-ids), or delete it.",
    evidence=("service", "vpc_id", "serving_route_tables"),
    params=NoParams,
)
def gateway_unused(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag gateway endpoints with no route table."""
    del params
    for ep in inv.endpoints:
        if ep.endpoint_type.lower() != "gateway" or not _live(ep) or ep.route_table_ids:
            continue
        tables = [t.route_table_id for t in inv.serving_route_tables(ep.vpc_id)]
        yield Violation(
            resource=endpoint_ref(ep),
            message=(
                f"Gateway endpoint {ep.endpoint_id} ({ep.service_name}) in {ep.vpc_id} is "
                f"associated with no route table, so it carries no traffic."
            ),
            evidence={
                "service": ep.service_name,
                "vpc_id": ep.vpc_id,
                "serving_route_tables": tables,
            },
            remediation=cli(
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {ep.endpoint_id} "
                f"--add-route-table-ids {' '.join(tables) or '<route-table-id>'}",
                ep.region,
                ep.account_id,
            ),
        )


@rule(
    id="endpoint-gateway-partial",
    title="Gateway endpoint missing from some subnets' route tables",
    severity=Severity.MEDIUM,
    area="endpoints",
    rationale="""
        A VPC has a gateway endpoint for S3 or DynamoDB, but some of its subnets use route
        tables the endpoint is not associated with. Those subnets reach the service through a
        NAT gateway (paying data processing) or the internet, and bucket policies that require
        the endpoint (aws:sourceVpce) fail for them.
    """,
    remediation="Add the missing route tables to the endpoint "
    "(aws ec2 modify-vpc-endpoint --add-route-table-ids).",
    evidence=("service", "vpc_id", "associated", "missing", "missing_subnets"),
    params=NoParams,
)
def gateway_partial(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag gateway endpoints that some serving route tables of their VPC lack."""
    del params
    for ep in inv.endpoints:
        if ep.endpoint_type.lower() != "gateway" or not _live(ep) or not ep.route_table_ids:
            continue
        covered = {
            t
            for e in inv.endpoints_of(ep.vpc_id)
            if e.endpoint_type.lower() == "gateway"
            and e.service_name == ep.service_name
            and _live(e)
            for t in e.route_table_ids
        }
        missing = [
            t for t in inv.serving_route_tables(ep.vpc_id) if t.route_table_id not in covered
        ]
        if not missing:
            continue
        ids = [t.route_table_id for t in missing]
        yield Violation(
            resource=endpoint_ref(ep),
            message=(
                f"Gateway endpoint {ep.endpoint_id} ({ep.service_name}) serves only some of "
                f"{ep.vpc_id}'s subnets: route table(s) {', '.join(ids)} lack it."
            ),
            evidence={
                "service": ep.service_name,
                "vpc_id": ep.vpc_id,
                "associated": sorted(ep.route_table_ids),
                "missing": ids,
                "missing_subnets": _subnets_using(inv, ep.vpc_id, missing),
            },
            remediation=cli(
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {ep.endpoint_id} "
                f"--add-route-table-ids {' '.join(ids)}",
                ep.region,
                ep.account_id,
            ),
        )


def _subnets_using(inv: Inventory, vpc_id: str, tables: list[RouteTable]) -> list[str]:
    """The subnets that use these tables: explicitly, or by default through the main table."""
    explicit = {s for t in inv.route_tables_of(vpc_id) for s in t.subnet_ids}
    out = {s for t in tables for s in t.subnet_ids}
    if any(t.is_main for t in tables):
        out |= {s.subnet_id for s in inv.subnets_of(vpc_id) if s.subnet_id not in explicit}
    return sorted(out)


@dataclass(frozen=True)
class NatTrafficParams:
    """Parameters of nat-traffic-for-gateway-service."""

    nat_price_per_gb: float = 0.045
    """USD per GB processed by a NAT gateway (us-east-1 list price)."""


@rule(
    id="nat-traffic-for-gateway-service",
    title="S3/DynamoDB traffic paid through a NAT gateway",
    severity=Severity.MEDIUM,
    area="endpoints",
    rationale="""
        Private subnets whose default route goes to a NAT gateway, with no gateway endpoint
        for S3 or DynamoDB on their route table, send that traffic through the NAT gateway and
        pay its data processing charge (about $0.045 per GB) for traffic a free gateway
        endpoint would carry, often the largest line of a VPC bill.
    """,
    remediation="Create S3 and DynamoDB gateway endpoints on these route tables "
    "(aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway).",
    evidence=(
        "route_table_id",
        "nat_gateway_id",
        "missing_services",
        "subnet_ids",
        "nat_price_per_gb",
    ),
    params=NatTrafficParams,
)
def nat_traffic(inv: Inventory, params: NatTrafficParams) -> RuleOutput:
    """Flag NAT-routed route tables without S3/DynamoDB gateway endpoints."""
    for t in inv.route_tables:
        nat = next(
            (
                r.target_id
                for r in t.routes
                if r.destination == "0.0.0.0/0" and r.target_type == "nat-gateway" and r.is_active
            ),
            None,
        )
        if nat is None or t.route_table_id not in {
            x.route_table_id for x in inv.serving_route_tables(t.vpc_id)
        }:
            continue
        if not inv.was_read(t.owner_id, t.region, "endpoints"):
            continue
        missing = [s for s in ("s3", "dynamodb") if not _has_gateway(inv, t, s)]
        if not missing:
            continue
        yield Violation(
            resource=route_table_ref(t),
            message=(
                f"Route table {t.route_table_id} ({t.vpc_id}) sends internet traffic through "
                f"NAT gateway {nat} and has no gateway endpoint for {' or '.join(missing)}: "
                f"that traffic pays ${params.nat_price_per_gb}/GB NAT processing for nothing."
            ),
            evidence={
                "route_table_id": t.route_table_id,
                "nat_gateway_id": nat,
                "missing_services": missing,
                "subnet_ids": list(t.subnet_ids),
                "nat_price_per_gb": params.nat_price_per_gb,
            },
            remediation="\n".join(
                cli(
                    f"aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id {t.vpc_id} "
                    f"--service-name com.amazonaws.{t.region}.{s} "
                    f"--route-table-ids {t.route_table_id}",
                    t.region,
                    t.owner_id,
                )
                for s in missing
            ),
        )


def _has_gateway(inv: Inventory, t: RouteTable, service: str) -> bool:
    name = f"com.amazonaws.{t.region}.{service}"
    if any(
        e.endpoint_type.lower() == "gateway"
        and _live(e)
        and e.service_name.endswith(name)
        and t.route_table_id in e.route_table_ids
        for e in inv.endpoints_of(t.vpc_id)
    ):
        return True
    # A route to the service's prefix list is what the endpoint association adds.
    return any(
        inv.prefix_list_names.get((t.region, r.destination), "").endswith(name)
        for r in t.routes
        if r.destination.startswith("pl-") and r.target_id.startswith("vpce-")
    )


@rule(
    id="endpoint-policy-full-access",
    title="Endpoint policy allows everything",
    severity=Severity.LOW,
    area="endpoints",
    rationale="""
        An endpoint policy is a guardrail on what can pass through the endpoint. The default
        policy allows every action by every principal on every resource, so the endpoint
        also carries traffic to other organizations' buckets and tables, the path data
        exfiltration takes. Restricting it (to the organization's principals and resources,
        e.g. with aws:PrincipalOrgID and aws:ResourceOrgID) closes that path.
    """,
    remediation="Attach a policy limited to your organization's principals and resources "
    "(aws ec2 modify-vpc-endpoint --policy-document).",
    evidence=("service", "endpoint_type", "statement"),
    params=NoParams,
)
def policy_full_access(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag endpoints whose policy allows * to * on * without conditions."""
    del params
    for ep in inv.endpoints:
        if not _live(ep) or not ep.policy_document:
            continue
        statement = _full_access_statement(ep.policy_document)
        if statement is None:
            continue
        yield Violation(
            resource=endpoint_ref(ep),
            message=(
                f"Endpoint {ep.endpoint_id} ({ep.service_name}) has a policy allowing every "
                f"action by any principal on any resource."
            ),
            evidence={
                "service": ep.service_name,
                "endpoint_type": ep.endpoint_type,
                "statement": statement,
            },
            remediation=cli(
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {ep.endpoint_id} "
                f"--policy-document file://endpoint-policy.json",
                ep.region,
                ep.account_id,
            ),
        )


def _star(value: Any) -> bool:
    if isinstance(value, list):
        return "*" in value
    if isinstance(value, dict):
        return any(_star(v) for v in value.values())
    return bool(value == "*")


def _full_access_statement(document: str) -> dict[str, Any] | None:
    try:
        doc = json.loads(document)
    except json.JSONDecodeError:
        return None
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    for st in statements if isinstance(statements, list) else [statements]:
        if (
            isinstance(st, dict)
            and st.get("Effect") == "Allow"
            and _star(st.get("Principal"))
            and _star(st.get("Action"))
            and _star(st.get("Resource"))
            and not st.get("Condition")
        ):
            return st
    return None


@rule(
    id="endpoint-sg-open",
    title="Interface endpoint security group open to the world",
    severity=Severity.MEDIUM,
    area="endpoints",
    rationale="""
        An interface endpoint's security group decides who may use it. Ingress from
        0.0.0.0/0 or ::/0 lets anything that can route to the VPC (peers, VPN sites, Transit
        Gateway attachments) use the endpoint and the credentials-free paths behind it; it
        should admit only the VPC's own ranges or known security groups.
    """,
    remediation="Replace the open rule with the VPC CIDR or source security groups "
    "(aws ec2 revoke-security-group-ingress, authorize-security-group-ingress).",
    evidence=("service", "group_id", "open_ingress"),
    params=NoParams,
)
def sg_open(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag interface endpoints with a security group open to 0.0.0.0/0 or ::/0."""
    del params
    for ep in inv.endpoints:
        if ep.endpoint_type.lower() != "interface" or not _live(ep):
            continue
        if not inv.was_read(ep.account_id, ep.region, "security_groups"):
            yield Unverifiable(endpoint_ref(ep), "security groups could not be read")
            continue
        for gid in ep.group_ids:
            sg = inv.security_group(ep.account_id, ep.region, gid)
            if sg is None or not sg.open_ingress:
                continue
            yield Violation(
                resource=endpoint_ref(ep),
                message=(
                    f"Interface endpoint {ep.endpoint_id} ({ep.service_name}) uses security "
                    f"group {gid}, which allows {'; '.join(sg.open_ingress)}."
                ),
                evidence={
                    "service": ep.service_name,
                    "group_id": gid,
                    "open_ingress": list(sg.open_ingress),
                },
                remediation=cli(
                    f"aws ec2 revoke-security-group-ingress --group-id {gid} "
                    f"--ip-permissions <the open permission>",
                    ep.region,
                    ep.account_id,
                ),
                discriminator=gid,
            )


@rule(
    id="endpoint-private-dns-disabled",
    title="Interface endpoint without private DNS",
    severity=Severity.LOW,
    area="endpoints",
    rationale="""
        Without private DNS, the service's default name still resolves to its public
        addresses, so SDKs and tools keep going out through NAT or the internet unless every
        client is configured with the endpoint's own DNS name: the endpoint is paid for and
        mostly bypassed.
    """,
    remediation="Enable private DNS on the endpoint "
    "(aws ec2 modify-vpc-endpoint --private-dns-enabled), with DNS hostnames and resolution "
    "on in the VPC.",
    evidence=("service",),
    params=NoParams,
)
def private_dns_disabled(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag interface endpoints for AWS services with private DNS off."""
    del params
    for ep in inv.endpoints:
        if ep.endpoint_type.lower() != "interface" or not _live(ep) or ep.private_dns_enabled:
            continue
        if not _AWS_SERVICE.match(ep.service_name):
            continue  # PrivateLink services of other accounts choose their own DNS
        yield Violation(
            resource=endpoint_ref(ep),
            message=(
                f"Interface endpoint {ep.endpoint_id} ({ep.service_name}) has private DNS "
                f"off: clients using the default service name bypass it."
            ),
            evidence={"service": ep.service_name},
            remediation=cli(
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {ep.endpoint_id} "
                f"--private-dns-enabled",
                ep.region,
                ep.account_id,
            ),
        )


@rule(
    id="endpoint-single-az",
    title="Interface endpoint in a single Availability Zone",
    severity=Severity.LOW,
    area="endpoints",
    rationale="""
        An interface endpoint has a network interface only in the subnets it was given. In a
        single Availability Zone, an outage of that zone cuts every client in the VPC off the
        service, and clients in other zones pay cross-AZ data transfer.
    """,
    remediation="Add a subnet in a second Availability Zone "
    "(aws ec2 modify-vpc-endpoint --add-subnet-ids).",
    evidence=("service", "availability_zones", "subnet_ids"),
    params=NoParams,
)
def single_az(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag interface endpoints whose subnets are all in one Availability Zone."""
    del params
    for ep in inv.endpoints:
        if ep.endpoint_type.lower() != "interface" or not _live(ep) or not ep.subnet_ids:
            continue
        zones = sorted(
            {s.availability_zone for s in inv.subnets_of(ep.vpc_id) if s.subnet_id in ep.subnet_ids}
        )
        if len(zones) > 1 or (not zones and len(ep.subnet_ids) > 1):
            continue
        yield Violation(
            resource=endpoint_ref(ep),
            message=(
                f"Interface endpoint {ep.endpoint_id} ({ep.service_name}) is in one "
                f"Availability Zone{f' ({zones[0]})' if zones else ''} only."
            ),
            evidence={
                "service": ep.service_name,
                "availability_zones": zones,
                "subnet_ids": list(ep.subnet_ids),
            },
            remediation=cli(
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {ep.endpoint_id} "
                f"--add-subnet-ids <subnet-in-another-az>",
                ep.region,
                ep.account_id,
            ),
        )


GATEWAY_UNUSED = gateway_unused
GATEWAY_PARTIAL = gateway_partial
NAT_TRAFFIC = nat_traffic
POLICY_FULL_ACCESS = policy_full_access
SG_OPEN = sg_open
PRIVATE_DNS_DISABLED = private_dns_disabled
SINGLE_AZ = single_az
