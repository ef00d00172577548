"""Gateway endpoint rules: endpoints that serve no subnet or only some, and S3/DynamoDB
traffic that pays NAT (and Transit Gateway) processing where a gateway endpoint would serve."""

from __future__ import annotations

from dataclasses import dataclass

from vpcaudit.errors import ConfigError
from vpcaudit.inventory import Inventory, RouteTable
from vpcaudit.model import Severity, Unverifiable, Violation
from vpcaudit.network import Component, NetworkModel, PathAnswer, Verdict
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import cli, endpoint_live, endpoint_ref, network_of, route_table_ref


@rule(
    id="endpoint-gateway-unused",
    title="Gateway endpoint that serves no subnet",
    severity=Severity.LOW,
    area="endpoints",
    rationale="""
        A gateway endpoint only carries traffic for the subnets whose route tables it is
        associated with. One associated with no route table, or only with tables no subnet
        uses (typically the main table of a VPC whose every subnet has an explicit
        association), does nothing: S3 or DynamoDB traffic still leaves through a NAT gateway
        or the internet, while the endpoint suggests it does not. A VPC with no subnet yet is
        left alone: its future subnets will use the main table.
    """,
    remediation="Associate the endpoint with the route tables of the subnets that use the "
    "service (aws ec2 modify-vpc-endpoint --add-route-table-ids), or delete it.",
    evidence=("service", "vpc_id", "serving_route_tables", "associated_route_tables"),
    params=NoParams,
)
def gateway_unused(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag gateway endpoints whose route tables (if any) serve no subnet."""
    del params
    for ep in inv.endpoints:
        if ep.endpoint_type.lower() != "gateway" or not endpoint_live(ep):
            continue
        if ep.route_table_ids:
            # Which tables serve a subnet is only known when both were read.
            if not all(
                inv.was_read(ep.account_id, ep.region, k) for k in ("route_tables", "subnets")
            ):
                continue
            serving = inv.serving_route_tables(ep.vpc_id)
            if not inv.subnets_of(ep.vpc_id) or {t.route_table_id for t in serving} & set(
                ep.route_table_ids
            ):
                continue
        tables = [t.route_table_id for t in inv.serving_route_tables(ep.vpc_id)]
        associated = sorted(ep.route_table_ids)
        main = any(
            t.is_main and t.route_table_id in associated for t in inv.route_tables_of(ep.vpc_id)
        )
        # The usual cause: the main table, which no subnet uses once each has its own table.
        because = " (every subnet has its own association, so none uses the main table)"
        why = (
            f"associated only with route table(s) {', '.join(associated)}, which no subnet "
            f"uses{because if main else ''}"
            if associated
            else "associated with no route table"
        )
        yield Violation(
            resource=endpoint_ref(ep),
            message=(
                f"Gateway endpoint {ep.endpoint_id} ({ep.service_name}) in {ep.vpc_id} is "
                f"{why}, so it carries no traffic."
            ),
            evidence={
                "service": ep.service_name,
                "vpc_id": ep.vpc_id,
                "serving_route_tables": tables,
                "associated_route_tables": associated,
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
        if ep.endpoint_type.lower() != "gateway" or not endpoint_live(ep) or not ep.route_table_ids:
            continue
        covered = {
            t
            for e in inv.endpoints_of(ep.vpc_id)
            if e.endpoint_type.lower() == "gateway"
            and e.service_name == ep.service_name
            and endpoint_live(e)
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
        endpoint would carry, often the largest line of a VPC bill. The same holds for
        subnets whose default route goes to a Transit Gateway that hands it to a central
        egress VPC's NAT gateway: that traffic pays Transit Gateway processing as well, and a
        gateway endpoint in the subnets' own VPC keeps it off both (gateway endpoints serve
        only their own VPC, so the egress VPC's cannot). The path is followed with the
        network model; when a part of it was not scanned or could not be read, the check is
        reported as unverifiable. The egress VPC's own NAT-routed tables are judged as any
        other; an S3 or DynamoDB interface endpoint with private DNS in the source VPC takes
        that traffic off the NAT path and is left alone.
    """,
    remediation="Create S3 and DynamoDB gateway endpoints on these route tables "
    "(aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway).",
    evidence=(
        "route_table_id",
        "nat_gateway_id",
        "missing_services",
        "subnet_ids",
        "nat_price_per_gb",
        "transit_gateway_id",
        "nat_vpc_id",
        "path",
    ),
    params=NatTrafficParams,
)
def nat_traffic(inv: Inventory, params: NatTrafficParams) -> RuleOutput:
    """Flag tables whose S3/DynamoDB traffic reaches a NAT gateway (directly or via a TGW)."""
    for t in inv.route_tables:
        default = next(
            (r for r in t.routes if r.destination == "0.0.0.0/0" and r.is_active),
            None,
        )
        if default is None or default.target_type not in ("nat-gateway", "transit-gateway"):
            continue
        if t.route_table_id not in {x.route_table_id for x in inv.serving_route_tables(t.vpc_id)}:
            continue
        if not inv.was_read(t.owner_id, t.region, "endpoints"):
            continue
        missing = [s for s in ("s3", "dynamodb") if not _has_gateway(inv, t, s)]
        if not missing:
            continue
        if default.target_type == "transit-gateway":
            yield from _nat_through_tgw(inv, t, default.target_id, missing, params)
            continue
        yield Violation(
            resource=route_table_ref(t),
            message=(
                f"Route table {t.route_table_id} ({t.vpc_id}) sends internet traffic through "
                f"NAT gateway {default.target_id} and has no gateway endpoint for "
                f"{' or '.join(missing)}: that traffic pays ${params.nat_price_per_gb}/GB NAT "
                f"processing for nothing."
            ),
            evidence={
                "route_table_id": t.route_table_id,
                "nat_gateway_id": default.target_id,
                "missing_services": missing,
                "subnet_ids": list(t.subnet_ids),
                "nat_price_per_gb": params.nat_price_per_gb,
            },
            remediation=_gateway_commands(t, missing),
        )


def _gateway_commands(t: RouteTable, services: list[str]) -> str:
    return "\n".join(
        cli(
            f"aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id {t.vpc_id} "
            f"--service-name com.amazonaws.{t.region}.{s} --route-table-ids {t.route_table_id}",
            t.region,
            t.owner_id,
        )
        for s in services
    )


def _nat_through_tgw(
    inv: Inventory, t: RouteTable, tgw_id: str, missing: list[str], params: NatTrafficParams
) -> RuleOutput:
    """Flag the table when its service traffic crosses the TGW into a NAT gateway."""
    # Where the model cannot follow the path (not scanned, not read): unverifiable.
    model = network_of(inv)
    subnets = _one_per_zone(inv, t)
    answers: dict[str, PathAnswer] = {}
    for service in missing:
        # One path stands for both services unless something on it tells them apart: about
        # 0.3 ms a path, so a thousand spoke tables cost a third of a second, not two thirds.
        first = next(iter(answers.values()), None)
        if first is not None and _same_for_all(inv, model, t, first, missing):
            answers[service] = first
        else:
            found = _follow(model, subnets, service)
            if found is not None:
                answers[service] = found
    via: dict[str, tuple[PathAnswer, Component]] = {}
    for service, answer in answers.items():
        nat = _nat_of(answer) if answer.verdict is Verdict.REACHABLE else None
        if nat is not None:
            via[service] = (answer, nat)
    if not via:
        unknown = [a for a in answers.values() if a.verdict is Verdict.UNKNOWN]
        if unknown:
            u = unknown[0]
            yield Unverifiable(
                route_table_ref(t),
                f"S3/DynamoDB traffic of {t.route_table_id} goes to {tgw_id} and cannot be "
                f"followed further ({u.code}): {u.explanation}",
            )
        return
    services = [s for s in missing if s in via]
    answer, nat = via[services[0]]
    gateway = inv.nat_gateway(nat.id)
    yield Violation(
        resource=route_table_ref(t),
        message=(
            f"Route table {t.route_table_id} ({t.vpc_id}) sends internet traffic to Transit "
            f"Gateway {tgw_id}, which hands it to NAT gateway {nat.id} ({nat.account_id} "
            f"{nat.region}), and has no gateway endpoint for {' or '.join(services)}: that "
            f"traffic pays Transit Gateway processing plus ${params.nat_price_per_gb}/GB NAT "
            f"processing for nothing."
        ),
        evidence={
            "route_table_id": t.route_table_id,
            "nat_gateway_id": nat.id,
            "missing_services": services,
            "subnet_ids": list(t.subnet_ids),
            "nat_price_per_gb": params.nat_price_per_gb,
            "transit_gateway_id": tgw_id,
            "nat_vpc_id": gateway.vpc_id if gateway is not None else "",
            "path": [f"{h.component.kind} {h.component.id}: {h.action}" for h in answer.forward],
        },
        remediation=_gateway_commands(t, services),
    )


def _follow(model: NetworkModel, subnets: list[str], service: str) -> PathAnswer | None:
    """The path from the first zone that reaches the service, else an unknown, else a block."""
    best: PathAnswer | None = None
    for subnet in subnets:
        try:
            answer = model.path(subnet, service, protocol="tcp", port=443)
        except ConfigError:
            continue  # a subnet without a usable CIDR: another zone may answer
        if answer.verdict is Verdict.REACHABLE:
            return answer
        # A TGW attachment may lack a zone: another zone's subnets may still get through.
        if best is None or (
            answer.verdict is Verdict.UNKNOWN and best.verdict is not answer.verdict
        ):
            best = answer
    return best


def _same_for_all(
    inv: Inventory, model: NetworkModel, t: RouteTable, answer: PathAnswer, services: list[str]
) -> bool:
    """Whether no endpoint or service route on the path singles out one of the services."""
    names = {f"com.amazonaws.{t.region}.{s}" for s in services}
    # An interface endpoint (with private DNS) takes its service's traffic off the path.
    if any(
        e.service_name in names and e.endpoint_type.lower() == "interface" and endpoint_live(e)
        for e in inv.endpoints_of(t.vpc_id)
    ):
        return False
    for hop in answer.forward:
        if hop.component.kind != "route-table":
            continue
        table = model.tables.get(hop.component.id)
        if table is None or names & model.compiled(table).services.keys():
            return False
    return True


def _one_per_zone(inv: Inventory, t: RouteTable) -> list[str]:
    """A subnet using the table in each of its zones: a TGW attachment may miss a zone."""
    by_id = {s.subnet_id: s for s in inv.subnets_of(t.vpc_id)}
    zones: dict[str, str] = {}
    for sid in _subnets_using(inv, t.vpc_id, [t]):
        s = by_id.get(sid)
        if s is not None:
            zones.setdefault(s.availability_zone, sid)
    return [zones[z] for z in sorted(zones)]


def _nat_of(answer: PathAnswer) -> Component | None:
    """The NAT gateway a path crosses after a Transit Gateway, if it does."""
    crossed_tgw = False
    for h in answer.forward:
        if h.component.kind.startswith("transit-gateway"):
            crossed_tgw = True
        elif h.component.kind == "nat-gateway" and crossed_tgw:
            return h.component
    return None


def _has_gateway(inv: Inventory, t: RouteTable, service: str) -> bool:
    name = f"com.amazonaws.{t.region}.{service}"
    if any(
        e.endpoint_type.lower() == "gateway"
        and endpoint_live(e)
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


GATEWAY_UNUSED = gateway_unused
GATEWAY_PARTIAL = gateway_partial
NAT_TRAFFIC = nat_traffic
