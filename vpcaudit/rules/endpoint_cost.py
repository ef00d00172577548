"""endpoint-interface-for-gateway-service: S3/DynamoDB interface endpoints paid for where a
free gateway endpoint would serve, weighed against the uses only an interface can serve."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from vpcaudit.inventory import Endpoint, Inventory
from vpcaudit.model import Severity, Violation
from vpcaudit.rules.base import RuleOutput, rule
from vpcaudit.rules.common import GONE_STATES, cli, endpoint_live, endpoint_ref, note, q, words

# Gateway endpoints exist for these two services only.
_GATEWAY_SERVICE = re.compile(
    r"^(?:cn\.)?com\.amazonaws\.(?P<region>[a-z0-9-]+)\.(?P<service>s3|dynamodb)$"
)
# An AWS service's endpoint name; com.amazonaws.vpce.<region>.vpce-svc-... are PrivateLink
# services of other accounts.
_AWS_SERVICE = re.compile(r"^(?:cn\.)?com\.amazonaws\.(?!vpce\.)")

# An interface endpoint whose connection the service did not accept still exists, with its
# network interfaces, until it is deleted. AWS bills "each hour that your VPC endpoint remains
# provisioned in each Availability Zone, irrespective of the state of its association with the
# service", until it is deleted (or the service that rejected it is deleted); it cannot be
# reused (AWS PrivateLink pricing).
_LINGERING_STATES = frozenset({"rejected", "expired"})

# Client VPN reaches a VPC through requester-managed interfaces in its associated subnets,
# which AWS describes so (DescribeNetworkInterfaces); no VPC route names a Client VPN.
_CLIENT_VPN_ENI = re.compile(r"^ClientVPN Endpoint resource", re.IGNORECASE)
_CLIENT_VPN_ID = re.compile(r"cvpn-endpoint-[0-9a-f]+")


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
        Connect, from Client VPN users, from another region, from a peered VPC or through a
        Transit Gateway or a Cloud WAN core network (a gateway endpoint serves only its own
        VPC and its own region). The rule weighs those uses: when the VPC has any of them the
        finding is graded low, says which, and its fix keeps the endpoint for that traffic
        (a gateway endpoint for in-VPC clients, and private DNS for inbound Resolver endpoints
        only) instead of deleting it. Where a check could not be read, the fix asks to
        confirm nothing outside the VPC uses the endpoint before deleting it. A rejected or
        expired endpoint still exists and AWS bills its hours until it is deleted: it carries
        nothing and cannot be reused, so it is reported for deletion.
    """,
    remediation="""
        Create a gateway endpoint for the service on the VPC's route tables, move clients to
        it, then delete the interface endpoint (aws ec2 delete-vpc-endpoints). Where something
        outside the VPC may use it, keep it: add the gateway endpoint for in-VPC clients and
        set private DNS for inbound Resolver endpoints only (aws ec2 modify-vpc-endpoint
        --dns-options PrivateDnsOnlyForInboundResolverEndpoint=true).
    """,
    evidence=(
        "service",
        "service_region",
        "state",
        "az_count",
        "monthly_cost_usd",
        "legitimate_uses",
        "unchecked",
        "gateway_endpoints",
        "subnet_ids",
    ),
    params=InterfaceForGatewayParams,
    legitimate=(
        """An interface endpoint for another region's S3 or DynamoDB (for example
        com.amazonaws.eu-west-1.s3 in a us-east-1 VPC): a gateway endpoint serves only its
        own region, so no free endpoint could replace it; not flagged.""",
        """AWS's hybrid pattern: an interface endpoint with private DNS for inbound Resolver
        endpoints only (DnsOptions.PrivateDnsOnlyForInboundResolverEndpoint) beside a gateway
        endpoint for the same service; in-VPC traffic takes the free gateway endpoint and
        only on-premises traffic the interface endpoint; not flagged.""",
        """An endpoint in a VPC with a VPN or Direct Connect gateway, a Transit Gateway
        attachment, an active peering, a route to a Cloud WAN core network or a Client VPN
        endpoint's network interfaces: it may carry traffic a gateway endpoint cannot, so it
        is graded low and its fix keeps it (never delete-vpc-endpoints).""",
        """Interface endpoints of other services, S3 on Outposts, DynamoDB Streams and
        PrivateLink services of other accounts.""",
    ),
)
def interface_for_gateway_service(inv: Inventory, params: InterfaceForGatewayParams) -> RuleOutput:
    """Flag S3/DynamoDB interface endpoints and price what they cost each month."""
    for ep in inv.endpoints:
        if ep.endpoint_type.lower() != "interface":
            continue
        m = _GATEWAY_SERVICE.match(ep.service_name)
        if m is None:
            continue
        if ep.state in _LINGERING_STATES:
            yield _lingering(inv, ep, m["service"], m["region"], params)
            continue
        if ep.state in GONE_STATES:
            continue
        service, service_region = m["service"], m["region"]
        if service_region != ep.region:
            continue  # another region's service: no gateway endpoint can serve it here
        gateways = _gateways_beside(inv, ep)
        if gateways and ep.private_dns_enabled and ep.private_dns_only_for_inbound_resolver:
            continue  # the hybrid pattern: in-VPC traffic already takes the gateway endpoint
        uses, unchecked = _legitimate_uses(inv, ep)
        az_count, monthly = _cost(inv, ep, params)
        if uses:
            severity = Severity.LOW
            verdict = (
                "the VPC has uses that a gateway endpoint cannot serve ("
                + "; ".join(uses)
                + "): confirm they go through it"
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
                "state": ep.state,
                "az_count": az_count,
                "monthly_cost_usd": monthly,
                "legitimate_uses": uses,
                "unchecked": unchecked,
                "gateway_endpoints": gateways,
                "subnet_ids": list(ep.subnet_ids),
            },
            remediation=_remediation(inv, ep, gateways, uses, unchecked),
            severity=severity,
        )


def _cost(inv: Inventory, ep: Endpoint, params: InterfaceForGatewayParams) -> tuple[int, float]:
    """The endpoint's zones and what its hours cost a month."""
    zones = {s.availability_zone for s in inv.subnets_of(ep.vpc_id) if s.subnet_id in ep.subnet_ids}
    az_count = max(len(zones) or len(ep.subnet_ids), 1)
    return az_count, round(az_count * params.hourly_price_per_az * params.hours_per_month, 2)


def _gateways_beside(inv: Inventory, ep: Endpoint) -> list[str]:
    """The live gateway endpoints for the same service in the endpoint's VPC."""
    return sorted(
        e.endpoint_id
        for e in inv.endpoints_of(ep.vpc_id)
        if e.endpoint_type.lower() == "gateway"
        and e.service_name == ep.service_name
        and endpoint_live(e)
    )


def _lingering(
    inv: Inventory,
    ep: Endpoint,
    service: str,
    service_region: str,
    params: InterfaceForGatewayParams,
) -> Violation:
    """A rejected or expired endpoint: it carries nothing, still bills, cannot be reused."""
    az_count, monthly = _cost(inv, ep, params)
    return Violation(
        resource=endpoint_ref(ep),
        message=(
            f"Interface endpoint {ep.endpoint_id} for {service} in {ep.vpc_id} is {ep.state}: "
            f"it carries no traffic and cannot be reused, yet AWS bills each hour it stays "
            f"provisioned (about ${monthly:.2f}/month) until it is deleted."
        ),
        evidence={
            "service": ep.service_name,
            "service_region": service_region,
            "state": ep.state,
            "az_count": az_count,
            "monthly_cost_usd": monthly,
            "legitimate_uses": [],
            "unchecked": [],
            "gateway_endpoints": _gateways_beside(inv, ep),
            "subnet_ids": list(ep.subnet_ids),
        },
        # It carries nothing, so deleting it cuts no link.
        remediation=cli(
            f"aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {q(ep.endpoint_id)}",
            ep.region,
            ep.account_id,
        ),
        severity=Severity.MEDIUM,
    )


def _legitimate_uses(inv: Inventory, ep: Endpoint) -> tuple[list[str], list[str]]:
    """What in the VPC may need an interface endpoint, and what could not be checked."""
    uses: list[str] = []
    unchecked: list[str] = []
    checks: list[tuple[str, Callable[[], list[str]]]] = [
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
        (
            "route_tables",
            lambda: [f"Cloud WAN core network {arn}" for arn in _core_networks(inv, ep.vpc_id)],
        ),
        (
            "network_interfaces",
            lambda: [f"Client VPN {c}" for c in _client_vpns(inv, ep.vpc_id)],
        ),
    ]
    for kind, found in checks:
        if inv.was_read(ep.account_id, ep.region, kind):
            uses.extend(found())
        else:
            unchecked.append(kind)
    return uses, unchecked


def _core_networks(inv: Inventory, vpc_id: str) -> list[str]:
    """The Cloud WAN core networks the VPC's route tables send traffic to (IPv4 or IPv6)."""
    return sorted(
        {
            r.target_id
            for t in inv.route_tables_of(vpc_id)
            for r in t.routes
            if r.target_type == "core-network" and r.is_active
        }
    )


def _client_vpns(inv: Inventory, vpc_id: str) -> list[str]:
    """The Client VPN endpoints with network interfaces in the VPC (by id when the
    description names it, else by interface)."""
    memo: dict[str, dict[str, list[str]]] = inv.memo("endpoints.client_vpn")
    if "by_vpc" not in memo:
        by_vpc: dict[str, list[str]] = {}
        for eni in inv.network_interfaces:
            if _CLIENT_VPN_ENI.match(eni.description):
                found = _CLIENT_VPN_ID.search(eni.description)
                by_vpc.setdefault(eni.vpc_id, []).append(
                    found.group(0) if found else f"network interface {eni.eni_id}"
                )
        memo["by_vpc"] = by_vpc
    return sorted(set(memo["by_vpc"].get(vpc_id, [])))


def _remediation(
    inv: Inventory, ep: Endpoint, gateways: list[str], uses: list[str], unchecked: list[str]
) -> str:
    where = (ep.region, ep.account_id)
    create = ""
    if not gateways:
        tables = words(t.route_table_id for t in inv.serving_route_tables(ep.vpc_id))
        create = cli(
            f"aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id {q(ep.vpc_id)} "
            f"--service-name {q(ep.service_name)}"
            + (" --route-table-ids " + tables if tables else ""),
            *where,
        )
    if uses:
        # A use the rule sees: say what to check and how to keep it, never delete.
        enis = " ".join(ep.network_interface_ids) or "its network interfaces"
        lines = [
            note(
                f"# {ep.endpoint_id} may carry traffic a gateway endpoint cannot "
                f"({'; '.join(uses)}): check what reaches it (VPC flow logs of {enis}) and keep "
                f"it for that traffic."
            )
        ]
        if create:
            lines += ["# In-VPC clients can use a free gateway endpoint meanwhile:", create]
        if ep.private_dns_enabled and not ep.private_dns_only_for_inbound_resolver:
            lines += [
                "# With private DNS for inbound Resolver endpoints only (it needs the gateway "
                "endpoint), in-VPC clients resolve the service to the gateway endpoint and "
                "on-premises clients keep this one:",
                cli(
                    f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {q(ep.endpoint_id)} "
                    f"--dns-options PrivateDnsOnlyForInboundResolverEndpoint=true",
                    *where,
                ),
            ]
        elif gateways:
            lines.append(
                note(
                    f"# In-VPC clients already use the gateway endpoint ({', '.join(gateways)}): "
                    f"private DNS is off here, so only clients given this endpoint's own DNS "
                    f"names use it."
                )
            )
        return "\n".join(lines)
    lines = [create] if create else []
    if unchecked:
        lines.append(
            note(
                f"# {', '.join(unchecked)} could not be read: first confirm nothing outside the "
                f"VPC (VPN, Direct Connect, Client VPN, peering, Transit Gateway, Cloud WAN) "
                f"uses {ep.endpoint_id}, then:"
            )
        )
    lines.append(
        cli(f"aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {q(ep.endpoint_id)}", *where)
    )
    return "\n".join(lines)


INTERFACE_FOR_GATEWAY_SERVICE = interface_for_gateway_service
