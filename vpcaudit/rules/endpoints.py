"""Endpoint rules: security groups open to the world, private DNS off, a single zone. The
interface-for-gateway rule lives in endpoint_cost.py, the policy rule in endpoint_policy.py and
the gateway endpoint rules in gateway_endpoints.py; every entry-point name is importable here."""

from __future__ import annotations

import json

from vpcaudit.inventory import Endpoint, Inventory, SecurityGroup, SgRule
from vpcaudit.model import Severity, Unverifiable, Violation
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import ask, cli, endpoint_live, endpoint_ref, note, q
from vpcaudit.rules.endpoint_cost import (
    _AWS_SERVICE,
    _GATEWAY_SERVICE,
    INTERFACE_FOR_GATEWAY_SERVICE,
    _core_networks,
    _gateways_beside,
)
from vpcaudit.rules.endpoint_policy import POLICY_FULL_ACCESS
from vpcaudit.rules.gateway_endpoints import GATEWAY_PARTIAL, GATEWAY_UNUSED, NAT_TRAFFIC


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
    legitimate=(
        """Ingress from the VPC's own ranges, from wider private ranges (a hub endpoint
        serving spokes or on-premises through 10.0.0.0/8, say), from prefix lists or from
        security groups: only 0.0.0.0/0 and ::/0 are flagged.""",
        """Gateway endpoints (they have no security group) and endpoints that are gone or
        rejected (they carry nothing).""",
    ),
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
                remediation=_narrow_sg(inv, ep, sg),
                discriminator=gid,
            )


def _narrow_sg(inv: Inventory, ep: Endpoint, sg: SecurityGroup) -> str:
    """Allow the VPC's own ranges on the open rules' protocols and ports first, then revoke
    each open rule: revoking first would cut the clients inside the VPC."""
    vpc = inv.vpc(ep.vpc_id)
    world = [(r, r.cidr) for r in sg.ingress if r.cidr is not None and r.cidr.prefixlen == 0]
    lines = [
        note(
            f"# Allow {ep.vpc_id}'s own ranges first (add peered, Transit Gateway and "
            f"on-premises ranges that use the endpoint), then remove the open rule(s)."
        )
    ]
    for r, open_cidr in world:
        for c in vpc.cidrs if vpc is not None else ():
            # An identical rule already there would make AWS refuse the call (Duplicate).
            same = ((x.protocol, x.from_port, x.to_port, x.cidr) for x in sg.ingress)
            if c.version == open_cidr.version and (
                r.protocol,
                r.from_port,
                r.to_port,
                c,
            ) not in set(same):
                lines.append(_sg_call("authorize", sg, r, str(c), ep))
    lines += [_sg_call("revoke", sg, r, str(open_cidr), ep) for r, open_cidr in world]
    return "\n".join(lines)


def _sg_call(verb_word: str, sg: SecurityGroup, r: SgRule, cidr: str, ep: Endpoint) -> str:
    """One (authorize|revoke)-security-group-ingress for one protocol, port range and CIDR."""
    perm: dict[str, object] = {"IpProtocol": r.protocol}
    if r.protocol != "-1":
        perm |= {"FromPort": r.from_port, "ToPort": r.to_port}
    ranges = "Ipv6Ranges" if ":" in cidr else "IpRanges"
    perm[ranges] = [{"CidrIpv6" if ":" in cidr else "CidrIp": cidr}]
    return cli(
        f"aws ec2 {verb_word}-security-group-ingress --group-id {q(sg.group_id)} "
        f"--ip-permissions {q(json.dumps([perm], separators=(',', ':')))}",
        ep.region,
        ep.account_id,
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
        mostly bypassed. A hub VPC whose endpoints spokes share through a Route 53 private
        hosted zone (or a Route 53 Profile) keeps private DNS off on purpose: the managed zone
        private DNS creates serves only the endpoint's own VPC. vpcaudit does not read Route
        53, so it cannot see such a zone; where it sees signs of a hub (the VPC is attached
        to a Transit Gateway, peered, or routed to a Cloud WAN core network, and the
        endpoint's security group admits other networks' ranges) it grades the finding info
        or low and asks to confirm, and its fix checks the VPC's hosted zones first.
    """,
    remediation="Enable private DNS on the endpoint "
    "(aws ec2 modify-vpc-endpoint --private-dns-enabled), with DNS hostnames and resolution "
    "on in the VPC, unless a Route 53 private hosted zone for the service's name already "
    "serves this VPC (the shared hub endpoint pattern).",
    evidence=("service", "hub_signals", "admits_from_outside"),
    params=NoParams,
    legitimate=(
        """Hub VPC endpoints shared with spokes through a Route 53 private hosted zone or
        Route 53 Profile: private DNS must stay off there. Route 53 is not read, so an
        endpoint in a VPC attached to a Transit Gateway, peered or routed to Cloud WAN is
        graded low and "confirm" (info when its security group also admits other
        networks), with a fix that checks the VPC's hosted zones before enabling
        anything.""",
        """S3 and DynamoDB interface endpoints beside a gateway endpoint for the same service:
        with private DNS off in-VPC clients use the free gateway endpoint and only clients
        given the endpoint's own names (on-premises, peers) use the interface endpoint.""",
        """PrivateLink services of other accounts (com.amazonaws.vpce.*): their provider
        chooses the DNS names.""",
    ),
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
        if _GATEWAY_SERVICE.match(ep.service_name) and _gateways_beside(inv, ep):
            continue  # in-VPC clients take the gateway endpoint: the hybrid pattern
        hub = _hub_signals(inv, ep)
        outside = _admits_from_outside(inv, ep) if hub else []
        enable = cli(
            f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {q(ep.endpoint_id)} "
            "--private-dns-enabled",
            ep.region,
            ep.account_id,
        )
        if not hub:
            message = (
                f"Interface endpoint {ep.endpoint_id} ({ep.service_name}) has private DNS "
                f"off: clients using the default service name bypass it."
            )
            remediation, severity = enable, Severity.LOW
        else:
            shared = f"; its security group admits {', '.join(outside)}" if outside else ""
            message = (
                f"Interface endpoint {ep.endpoint_id} ({ep.service_name}) has private DNS "
                f"off in {ep.vpc_id}, which is connected to other networks ({'; '.join(hub)}"
                f"{shared}): confirm it is not a hub endpoint shared through a Route 53 "
                f"private hosted zone (not read by vpcaudit), else clients using the default "
                f"service name bypass it."
            )
            remediation = "\n".join(
                [
                    note(
                        f"# Check the Route 53 private hosted zones {ep.vpc_id} uses: if one is "
                        f"for the service's name (the shared hub endpoint pattern), leave private "
                        f"DNS off and the zone as it is."
                    ),
                    cli(
                        f"aws route53 list-hosted-zones-by-vpc --vpc-id {q(ep.vpc_id)} "
                        f"--vpc-region {q(ep.region)}",
                        ep.region,
                        ep.account_id,
                    ),
                    "# Otherwise enabling it changes name resolution in this VPC only:",
                    enable,
                ]
            )
            severity = Severity.INFO if outside else Severity.LOW
        yield Violation(
            resource=endpoint_ref(ep),
            message=message,
            evidence={
                "service": ep.service_name,
                "hub_signals": hub,
                "admits_from_outside": outside,
            },
            remediation=remediation,
            severity=severity,
        )


def _hub_signals(inv: Inventory, ep: Endpoint) -> list[str]:
    """What connects the endpoint's VPC to other VPCs that could share its endpoints."""
    signals = [
        f"Transit Gateway attachment {a.attachment_id}"
        for a in inv.tgw_attachments_of(ep.vpc_id)
        if a.state in ("available", "pending", "modifying", "initiating")
    ]
    signals += [
        f"active peering {p.peering_id}" for p in inv.peerings_of(ep.vpc_id) if p.status == "active"
    ]
    signals += [f"Cloud WAN core network {arn}" for arn in _core_networks(inv, ep.vpc_id)]
    return signals


def _admits_from_outside(inv: Inventory, ep: Endpoint) -> list[str]:
    """HTTPS sources the endpoint's security groups admit from outside its VPC (ranges other
    than the whole internet, or groups of other VPCs): a sign it serves other networks."""
    vpc = inv.vpc(ep.vpc_id)
    own = vpc.cidrs if vpc is not None else ()
    out: set[str] = set()
    for gid in ep.group_ids:
        sg = inv.security_group(ep.account_id, ep.region, gid)
        for r in sg.ingress if sg is not None else ():
            https = r.protocol in ("-1", "tcp", "6") and (
                r.protocol == "-1" or r.from_port == -1 or r.from_port <= 443 <= r.to_port
            )
            if not https:
                continue
            if r.cidr is not None:
                inside = any(
                    r.cidr.version == c.version and r.cidr.subnet_of(c)  # type: ignore[arg-type]
                    for c in own
                )
                if r.cidr.prefixlen > 0 and not inside:
                    out.add(str(r.cidr))
            elif r.group_vpc_id and r.group_vpc_id != ep.vpc_id:
                out.add(f"{r.group_id} ({r.group_vpc_id})")
    return sorted(out)


@rule(
    id="endpoint-single-az",
    title="Interface endpoint in a single Availability Zone",
    severity=Severity.LOW,
    area="endpoints",
    rationale="""
        An interface endpoint has a network interface only in the subnets it was given. In a
        single Availability Zone, an outage of that zone cuts every client in the VPC off the
        service, and clients in other zones pay cross-AZ data transfer. An endpoint can only
        use the VPC's own subnets: in a VPC whose every subnet is in one zone, its clients are
        in that zone too (neither risk applies) and another zone needs a subnet first, so the
        finding is info and its fix starts by creating that subnet.
    """,
    remediation="Add a subnet in a second Availability Zone "
    "(aws ec2 modify-vpc-endpoint --add-subnet-ids); in a VPC with subnets in one zone only, "
    "create a subnet in another zone first (aws ec2 create-subnet).",
    evidence=("service", "availability_zones", "subnet_ids", "vpc_zones"),
    params=NoParams,
    legitimate=(
        """A VPC whose subnets are all in one Availability Zone: its workloads share the
        zone's fate and pay no cross-AZ transfer, so the endpoint's single zone adds nothing;
        graded info, with a fix that creates a subnet in another zone before adding it.""",
        """Endpoints in several subnets whose zones are unknown (subnets not read), gateway
        endpoints and endpoints that are gone.""",
    ),
)
def single_az(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag interface endpoints whose subnets are all in one Availability Zone."""
    del params
    for ep in inv.endpoints:
        if ep.endpoint_type.lower() != "interface" or not endpoint_live(ep) or not ep.subnet_ids:
            continue
        subnets = inv.subnets_of(ep.vpc_id)
        zones = sorted({s.availability_zone for s in subnets if s.subnet_id in ep.subnet_ids})
        if len(zones) > 1 or (not zones and len(ep.subnet_ids) > 1):
            continue
        vpc_zones = sorted({s.availability_zone for s in subnets})
        where = f" ({zones[0]})" if zones else ""
        add = cli(
            f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {q(ep.endpoint_id)} "
            "--add-subnet-ids " + ask("SUBNET_ID", "a subnet of the VPC in another zone"),
            ep.region,
            ep.account_id,
        )
        if zones and vpc_zones == zones and _subnets_known(inv, ep):
            message = (
                f"Interface endpoint {ep.endpoint_id} ({ep.service_name}) is in one "
                f"Availability Zone{where} only, as is every subnet of {ep.vpc_id}: another "
                f"zone needs a subnet first."
            )
            remediation = "\n".join(
                [
                    note(
                        f"# Every subnet of {ep.vpc_id} is in {zones[0]}, and an endpoint can "
                        f"only use the VPC's subnets: create one in another zone first, then add "
                        f"it."
                    ),
                    cli(
                        f"aws ec2 create-subnet --vpc-id {q(ep.vpc_id)} "
                        "--availability-zone "
                        + ask("ZONE", "another Availability Zone")
                        + " --cidr-block "
                        + ask("CIDR", "a free block of the VPC"),
                        ep.region,
                        ep.account_id,
                    ),
                    add.replace(
                        "a subnet of the VPC in another zone", "the SubnetId create-subnet printed"
                    ),
                ]
            )
            severity = Severity.INFO
        else:
            message = (
                f"Interface endpoint {ep.endpoint_id} ({ep.service_name}) is in one "
                f"Availability Zone{where} only."
            )
            remediation, severity = add, Severity.LOW
        yield Violation(
            resource=endpoint_ref(ep),
            message=message,
            evidence={
                "service": ep.service_name,
                "availability_zones": zones,
                "subnet_ids": list(ep.subnet_ids),
                "vpc_zones": vpc_zones,
            },
            remediation=remediation,
            severity=severity,
        )


def _subnets_known(inv: Inventory, ep: Endpoint) -> bool:
    """Whether every subnet of the endpoint's VPC was read (in its owner's account)."""
    vpc = inv.vpc(ep.vpc_id)
    owner = vpc.owner_id if vpc is not None else ep.account_id
    return inv.was_read(owner, ep.region, "subnets") and inv.was_read(
        ep.account_id, ep.region, "subnets"
    )


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
