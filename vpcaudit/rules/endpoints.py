"""Endpoint rules: interface endpoints paid for where a free gateway endpoint would serve."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from vpcaudit.inventory import Endpoint, Inventory
from vpcaudit.model import Severity, Violation
from vpcaudit.rules.base import RuleOutput, rule
from vpcaudit.rules.common import cli, endpoint_ref

# Gateway endpoints exist for these two services only.
_GATEWAY_SERVICE = re.compile(
    r"^(?:cn\.)?com\.amazonaws\.(?P<region>[a-z0-9-]+)\.(?P<service>s3|dynamodb)$"
)
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
            verdict = "the VPC has uses a gateway endpoint cannot serve (" + "; ".join(uses) + ")"
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
