"""Gateway endpoint rules: endpoints that serve no subnet or only some, and S3/DynamoDB
traffic that pays NAT (and Transit Gateway) processing where a gateway endpoint would serve."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from vpcaudit.errors import ConfigError
from vpcaudit.inventory import Endpoint, Inventory, RouteTable
from vpcaudit.model import Severity, Unverifiable, Violation
from vpcaudit.network import Component, NetworkModel, PathAnswer, Verdict
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import (
    ask,
    cli,
    endpoint_live,
    endpoint_ref,
    network_of,
    note,
    q,
    route_table_ref,
    words,
)


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
    legitimate=(
        """A VPC with no subnet yet: the subnets it gets will use the main table, so a gateway
        endpoint waiting there is not unused.""",
        """A gateway endpoint on at least one table a subnet uses, explicitly or as the main
        table by default: it is in use (endpoint-gateway-partial judges the tables it
        lacks).""",
        """VPCs whose route tables or subnets could not be read: which tables serve a subnet
        is unknown there, so nothing is judged.""",
    ),
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
            # A placeholder for the reader to fill in when no table is known.
            remediation=cli(
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {q(ep.endpoint_id)} "
                "--add-route-table-ids "
                + (words(tables) or ask("ROUTE_TABLE_ID", "the route table to add")),
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
    legitimate=(
        """Route tables no subnet uses (spare tables, or the main table once every subnet
        has its own association): nothing bypasses the endpoint through them.""",
        """Tables covered by a second gateway endpoint for the same service in the VPC.""",
        """A table whose subnets pay NAT processing for the service (a default route to a
        NAT gateway, directly or through a Transit Gateway): nat-traffic-for-gateway-service
        reports that table, with the cost and the same modify-vpc-endpoint fix, and this rule
        stays silent for it (one problem, one finding).""",
        """A gateway endpoint with no route table at all: endpoint-gateway-unused reports
        it.""",
    ),
)
def gateway_partial(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag gateway endpoints that some serving route tables of their VPC lack."""
    del params
    for ep in inv.endpoints:
        if ep.endpoint_type.lower() != "gateway" or not endpoint_live(ep) or not ep.route_table_ids:
            continue
        # The tables nat-traffic-for-gateway-service reports for this service are its own.
        service = ep.service_name.rsplit(".", 1)[-1]
        to_nat_rule = {
            table
            for table, s in _nat_reported(inv)
            if s == service and ep.service_name.endswith(f"com.amazonaws.{ep.region}.{s}")
        }
        covered = {
            t
            for e in inv.endpoints_of(ep.vpc_id)
            if e.endpoint_type.lower() == "gateway"
            and e.service_name == ep.service_name
            and endpoint_live(e)
            for t in e.route_table_ids
        }
        missing = [
            t
            for t in inv.serving_route_tables(ep.vpc_id)
            if t.route_table_id not in covered and t.route_table_id not in to_nat_rule
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
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {q(ep.endpoint_id)} "
                f"--add-route-table-ids {words(ids)}",
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
        other. When the VPC already has a gateway endpoint for the service that lacks this
        table, the fix is to add the table to it (aws ec2 modify-vpc-endpoint
        --add-route-table-ids), not a second endpoint; this rule reports that table, being
        the more specific (it knows the table pays NAT processing), and
        endpoint-gateway-partial stays silent for it.
    """,
    remediation="Add the route tables to the VPC's existing S3 or DynamoDB gateway endpoint "
    "(aws ec2 modify-vpc-endpoint --add-route-table-ids), or create one on them "
    "(aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway).",
    evidence=(
        "route_table_id",
        "nat_gateway_id",
        "missing_services",
        "existing_gateway_endpoints",
        "subnet_ids",
        "nat_price_per_gb",
        "transit_gateway_id",
        "nat_vpc_id",
        "path",
    ),
    params=NatTrafficParams,
    legitimate=(
        """An S3 or DynamoDB interface endpoint with private DNS for all resolvers in the
        table's VPC: the service's name resolves to the endpoint, so its traffic does not
        reach the NAT gateway (endpoint-interface-for-gateway-service weighs that endpoint).
        With private DNS only for inbound Resolver endpoints, in-VPC traffic is not taken off
        the NAT path, so it is still judged.""",
        """A default route to a Transit Gateway that leads on-premises or to an appliance,
        not to a NAT gateway: only a path the network model follows into a NAT gateway is
        flagged; a path that leaves what was scanned is reported as unverifiable.""",
        """Route tables no subnet uses, blackholed NAT routes, default routes to an internet
        gateway (no NAT processing) and IPv6 default routes (egress-only internet gateways
        do not NAT).""",
        """A table a prefix-list route already sends to the service's gateway endpoint.""",
    ),
)
def nat_traffic(inv: Inventory, params: NatTrafficParams) -> RuleOutput:
    """Flag tables whose S3/DynamoDB traffic reaches a NAT gateway (directly or via a TGW)."""
    for case in _nat_cases(inv):
        if case.unverifiable:
            yield Unverifiable(route_table_ref(case.table), case.unverifiable)
            continue
        t = case.table
        existing = {
            s: e.endpoint_id
            for s in case.services
            if (e := _existing_gateway(inv, t.vpc_id, t.region, s)) is not None
        }
        wanting = _services_text(case.services, existing)
        evidence: dict[str, Any] = {
            "route_table_id": t.route_table_id,
            "nat_gateway_id": case.nat_id,
            "missing_services": list(case.services),
            "existing_gateway_endpoints": existing,
            "subnet_ids": list(t.subnet_ids),
            "nat_price_per_gb": params.nat_price_per_gb,
        }
        if case.tgw_id:
            message = (
                f"Route table {t.route_table_id} ({t.vpc_id}) sends internet traffic to "
                f"Transit Gateway {case.tgw_id}, which hands it to NAT gateway {case.nat_id} "
                f"({case.nat_account} {case.nat_region}), and {wanting}: that traffic pays "
                f"Transit Gateway processing plus ${params.nat_price_per_gb}/GB NAT "
                f"processing for nothing."
            )
            evidence |= {
                "transit_gateway_id": case.tgw_id,
                "nat_vpc_id": case.nat_vpc_id,
                "path": list(case.path),
            }
        else:
            message = (
                f"Route table {t.route_table_id} ({t.vpc_id}) sends internet traffic through "
                f"NAT gateway {case.nat_id} and {wanting}: that traffic pays "
                f"${params.nat_price_per_gb}/GB NAT processing for nothing."
            )
        yield Violation(
            resource=route_table_ref(t),
            message=message,
            evidence=evidence,
            remediation="\n".join(_gateway_fix(inv, t, case.services)),
        )


@dataclass(frozen=True)
class _NatCase:
    """A NAT-routed table and the services it pays NAT processing for, or why that is
    unknown (unverifiable)."""

    table: RouteTable
    services: tuple[str, ...] = ()
    nat_id: str = ""
    tgw_id: str = ""
    nat_account: str = ""
    nat_region: str = ""
    nat_vpc_id: str = ""
    path: tuple[str, ...] = ()
    unverifiable: str = ""


def _nat_cases(inv: Inventory) -> tuple[_NatCase, ...]:
    """Every NAT-routed table's case, judged once per inventory: nat-traffic reports them and
    endpoint-gateway-partial leaves the (table, service) pairs they name to it."""
    memo: dict[str, tuple[_NatCase, ...]] = inv.memo("gateway_endpoints.nat_cases")
    if "cases" not in memo:
        memo["cases"] = tuple(_judge_all(inv))
    return memo["cases"]


def _nat_reported(inv: Inventory) -> frozenset[tuple[str, str]]:
    """(route table id, service) pairs nat-traffic-for-gateway-service reports as NAT paid."""
    return frozenset(
        (c.table.route_table_id, s)
        for c in _nat_cases(inv)
        if not c.unverifiable
        for s in c.services
    )


def _judge_all(inv: Inventory) -> list[_NatCase]:
    out: list[_NatCase] = []
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
        missing = [
            s
            for s in ("s3", "dynamodb")
            if not _has_gateway(inv, t, s) and not _interface_takes(inv, t, s)
        ]
        if not missing:
            continue
        if default.target_type == "transit-gateway":
            case = _nat_through_tgw(inv, t, default.target_id, missing)
            if case is not None:
                out.append(case)
            continue
        out.append(_NatCase(t, tuple(missing), default.target_id))
    return out


def _services_text(services: tuple[str, ...], existing: dict[str, str]) -> str:
    """'has no gateway endpoint for s3 or dynamodb', naming an existing one that lacks it."""
    parts = [
        f"{s} (the VPC's gateway endpoint {existing[s]} is not associated with it)"
        if s in existing
        else s
        for s in services
    ]
    return f"has no gateway endpoint for {' or '.join(parts)}"


def _existing_gateway(inv: Inventory, vpc_id: str, region: str, service: str) -> Endpoint | None:
    """The VPC's live gateway endpoint for the service (s3, dynamodb) in its own region, if
    any: the first by id when there are several."""
    name = f"com.amazonaws.{region}.{service}"
    found = sorted(
        (
            e
            for e in inv.endpoints_of(vpc_id)
            if e.endpoint_type.lower() == "gateway"
            and endpoint_live(e)
            and e.service_name.endswith(name)
        ),
        key=lambda e: e.endpoint_id,
    )
    return found[0] if found else None


def _gateway_fix(inv: Inventory, t: RouteTable, services: tuple[str, ...] | list[str]) -> list[str]:
    """Put the table on each service's gateway endpoint: the VPC's existing one when it has
    one (a second endpoint for the same service is not needed), else a new one."""
    lines: list[str] = []
    for s in services:
        ep = _existing_gateway(inv, t.vpc_id, t.region, s)
        if ep is None:
            lines.append(
                cli(
                    f"aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway "
                    f"--vpc-id {q(t.vpc_id)} --service-name {q(f'com.amazonaws.{t.region}.{s}')} "
                    f"--route-table-ids {q(t.route_table_id)}",
                    t.region,
                    t.owner_id,
                )
            )
            continue
        if not _allows_everything(ep.policy_document):
            lines.append(
                note(
                    f"# {ep.endpoint_id}'s endpoint policy is not full access: check that it "
                    f"allows what {t.route_table_id}'s subnets reach in {s} today (through the "
                    f"NAT gateway), or they lose it once their traffic goes through the endpoint"
                )
            )
        lines.append(
            cli(
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {q(ep.endpoint_id)} "
                f"--add-route-table-ids {q(t.route_table_id)}",
                ep.region,
                ep.account_id,
            )
        )
    return lines


def _allows_everything(document: str) -> bool:
    """Whether an endpoint policy is absent or AWS's default (allow * to * on *, no deny)."""
    if not document:
        return True
    try:
        doc = json.loads(document)
    except json.JSONDecodeError:
        return False
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    statements = statements if isinstance(statements, list) else [statements]
    if any(not isinstance(st, dict) or st.get("Effect") != "Allow" for st in statements):
        return False
    return any(
        all(st.get(k) in ("*", ["*"], {"AWS": "*"}) for k in ("Principal", "Action", "Resource"))
        and not st.get("Condition")
        for st in statements
    )


def _interface_takes(inv: Inventory, t: RouteTable, service: str) -> bool:
    """Whether an interface endpoint in the table's VPC takes the service's traffic: private
    DNS (for all resolvers) makes the service's name resolve to it, as the network model has
    it; with private DNS only for inbound Resolver endpoints, in-VPC names stay public."""
    name = f"com.amazonaws.{t.region}.{service}"
    return any(
        e.endpoint_type.lower() == "interface"
        and e.state == "available"
        and e.private_dns_enabled
        and not e.private_dns_only_for_inbound_resolver
        and e.service_name.endswith(name)
        for e in inv.endpoints_of(t.vpc_id)
    )


def _nat_through_tgw(
    inv: Inventory, t: RouteTable, tgw_id: str, missing: list[str]
) -> _NatCase | None:
    """The table's case when its service traffic crosses the TGW into a NAT gateway."""
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
            return _NatCase(
                t,
                unverifiable=(
                    f"S3/DynamoDB traffic of {t.route_table_id} goes to {tgw_id} and cannot "
                    f"be followed further ({u.code}): {u.explanation}"
                ),
            )
        return None
    services = [s for s in missing if s in via]
    answer, nat = via[services[0]]
    gateway = inv.nat_gateway(nat.id)
    return _NatCase(
        t,
        tuple(services),
        nat.id,
        tgw_id=tgw_id,
        nat_account=nat.account_id,
        nat_region=nat.region,
        nat_vpc_id=gateway.vpc_id if gateway is not None else "",
        path=tuple(f"{h.component.kind} {h.component.id}: {h.action}" for h in answer.forward),
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
