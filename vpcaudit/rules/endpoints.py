"""Endpoint rules: interface endpoints paid for where a free gateway endpoint would serve,
endpoint policies, security groups, private DNS and zones. The gateway endpoint rules live in
rules/gateway_endpoints.py and are re-exported here, where the entry points name them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from vpcaudit.inventory import Endpoint, Inventory
from vpcaudit.model import Severity, Unverifiable, Violation
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import GONE_STATES, cli, endpoint_live, endpoint_ref
from vpcaudit.rules.gateway_endpoints import GATEWAY_PARTIAL, GATEWAY_UNUSED, NAT_TRAFFIC

# Gateway endpoints exist for these two services only.
_GATEWAY_SERVICE = re.compile(
    r"^(?:cn\.)?com\.amazonaws\.(?P<region>[a-z0-9-]+)\.(?P<service>s3|dynamodb)$"
)
# An AWS service's endpoint name; com.amazonaws.vpce.<region>.vpce-svc-... are PrivateLink
# services of other accounts.
_AWS_SERVICE = re.compile(r"^(?:cn\.)?com\.amazonaws\.(?!vpce\.)")


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
        if ep.endpoint_type.lower() != "interface" or ep.state in GONE_STATES:
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
            and e.state not in GONE_STATES
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
        if not endpoint_live(ep) or not ep.policy_document:
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
        if ep.endpoint_type.lower() != "interface" or not endpoint_live(ep):
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
        if (
            ep.endpoint_type.lower() != "interface"
            or not endpoint_live(ep)
            or ep.private_dns_enabled
        ):
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
        if ep.endpoint_type.lower() != "interface" or not endpoint_live(ep) or not ep.subnet_ids:
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


POLICY_FULL_ACCESS = policy_full_access
SG_OPEN = sg_open
PRIVATE_DNS_DISABLED = private_dns_disabled
SINGLE_AZ = single_az

# The entry points name every endpoint rule here, the gateway ones included.
__all__ = [
    "GATEWAY_PARTIAL",
    "GATEWAY_UNUSED",
    "INTERFACE_FOR_GATEWAY_SERVICE",
    "NAT_TRAFFIC",
    "POLICY_FULL_ACCESS",
    "PRIVATE_DNS_DISABLED",
    "SG_OPEN",
    "SINGLE_AZ",
]
