"""tgw-route-one-way: traffic routed through a Transit Gateway whose replies have no way back
(the finding and its fixes; the per-subnet judgement is in rules/tgw_return.py)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from vpcaudit.awscli import destination_flag
from vpcaudit.inventory import Inventory, RouteTable, TgwRouteTable
from vpcaudit.model import Severity, Violation
from vpcaudit.network import NetworkModel
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import cli, network_of, note, q
from vpcaudit.rules.tgw import attachment_ref, owner_of
from vpcaudit.rules.tgw_return import (
    SAMPLE,
    Lost,
    Miss,
    OneWay,
    TgwReturns,
    vpc_attachments_by_tgw,
)

# -- tgw-route-one-way ----------------------------------------------------------------------


@rule(
    id="tgw-route-one-way",
    title="Transit Gateway traffic whose replies cannot return",
    severity=Severity.MEDIUM,
    area="transit-gateway",
    rationale="""
        The Transit Gateway twin of peering-route-one-way. Traffic from a subnet goes to the
        Transit Gateway by its own route table (longest prefix), then by the TGW route table
        its attachment is associated with to the destination VPC's attachment. The reply
        goes back by the replying subnet's own route table, which must send the sender's
        whole CIDR to the same Transit Gateway, then by the TGW route table associated with
        the replier's attachment, which must send it to the sender's attachment. Either
        missing (a forgotten VPC route, a table without the sender's propagation), and
        connections open but replies never return. Judged per subnet and address family for
        every pair that the routes actually connect. Left alone: a replying subnet whose table
        has no route to the Transit Gateway while other tables of its VPC do (isolated by
        design, like the attachment's own subnets); a reply sent on to another attachment,
        a peering, another Transit Gateway or an appliance (an inspection or egress VPC may
        carry it back: ask vpcaudit path); blackholes (tgw-route-blackhole and route-blackhole
        report them); attachments associated with no table (tgw-attachment-unassociated).
        Where the Transit Gateway's route tables or a VPC's routes were not read, the check
        is unverifiable. A VPC that loses the replies of more than 500 sending subnets is
        reported with the first 500 (evidence complete: false).
    """,
    remediation="""
        Add the missing return routes: in the replying VPC's route tables, a route for the
        sending VPC's CIDR to the Transit Gateway (aws ec2 create-route
        --transit-gateway-id); in the TGW route table of the replier's attachment, the
        sender's attachment propagated (aws ec2 enable-transit-gateway-route-table-propagation)
        or a static route to it (aws ec2 create-transit-gateway-route).
    """,
    evidence=(
        "transit_gateway_id",
        "vpc_id",
        "tgw_route_table_id",
        "families",
        "senders",
        "sender_count",
        "complete",
        "vpc_side",
        "tgw_side",
    ),
    params=NoParams,
    legitimate=(
        """A subnet whose route table has no route to the Transit Gateway while other tables
        of its VPC do: isolated on purpose (e.g. the attachment's own subnets), not judged.""",
        """Replies sent on to another attachment, a peering, another Transit Gateway or an
        appliance: central inspection and egress designs return traffic that way; not
        judged here.""",
        """A Transit Gateway no VPC route sends traffic to: unused, not one-way.""",
    ),
)
def route_one_way(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag VPCs attached to a TGW whose replies to its senders have no route back."""
    del params
    if not inv.tgw_attachments:
        return
    model = network_of(inv)
    judge = TgwReturns(model)
    for tgw_id, atts in sorted(vpc_attachments_by_tgw(model).items()):
        found: dict[str, list[OneWay]] = defaultdict(list)
        for item in judge.judge(tgw_id, atts):
            if isinstance(item, OneWay):
                found[item.spoke.vpc_id].append(item)
            else:
                yield item
        owner = owner_of(model, tgw_id, atts[0].account_id)
        for ways in found.values():
            yield _one_way(model, owner, ways)


_COMMANDS = 20
"""How many commands a finding lists (a last line says how many more)."""
_FAMILY = {4: "IPv4", 6: "IPv6"}


def _one_way(model: NetworkModel, owner: str, ways: list[OneWay]) -> Violation:
    y = ways[0].spoke
    tgw_id = y.att.transit_gateway_id
    vpc = model.vpc(y.vpc_id)
    account = y.att.resource_owner_id or (vpc.owner_id if vpc else y.att.account_id)
    senders: dict[str, set[str]] = defaultdict(set)
    vpc_side: list[dict[str, Any]] = []
    tgw_side: list[dict[str, Any]] = []
    commands: list[str] = []
    for w in ways:
        for v, subnets in w.senders.items():
            senders[v] |= subnets
        for tid, lost in sorted(w.vpc.items()):
            vpc_side.append(
                {
                    "family": _FAMILY[w.family],
                    "route_table_id": tid,
                    "subnet_ids": sorted(lost.repliers),
                    "unanswered": [_unanswered(m) for m in lost.sample],
                    "unanswered_count": lost.count,
                }
            )
            commands.extend(_vpc_fixes(model.tables[tid], tgw_id, lost))
        if w.tgw is not None:
            tgw_side.append(
                {
                    "family": _FAMILY[w.family],
                    "tgw_route_table_id": w.tgw.table_id,
                    "unanswered": [_unanswered(m) for m in w.tgw.sample],
                    "unanswered_count": w.tgw.count,
                }
            )
            commands.extend(_tgw_fixes(y.table, owner, w.tgw))
    clauses: list[str] = []
    tables = sorted({g["route_table_id"] for g in vpc_side})
    if tables:
        clauses.append(
            f"route table(s) {', '.join(tables)} of {y.vpc_id} do not send the replies back to "
            f"{tgw_id}"
        )
    lost_to = sorted({m.sender_vpc for w in ways if w.tgw for m in w.tgw.sample})
    if lost_to:
        count = len({a for w in ways if w.tgw for _, a in w.tgw.fixes})
        more = f" and {count - len(lost_to)} more" if count > len(lost_to) else ""
        clauses.append(
            f"TGW route table {y.table.route_table_id} (associated with {y.att.attachment_id}) "
            f"has no route back to {', '.join(lost_to[:3])}{more}"
        )
    families = [_FAMILY[w.family] for w in ways]
    names = sorted(senders)
    commands = list(dict.fromkeys(commands))
    if len(commands) > _COMMANDS:
        rest = len(commands) - _COMMANDS
        commands = [*commands[:_COMMANDS], note(f"# ... and {rest} more like these")]
    verb = "sends" if len(names) == 1 else "send"
    complete = all(w.complete for w in ways)
    found = sum(w.found for w in ways)
    return Violation(
        resource=attachment_ref(y.att, account),
        message=(
            f"{_some(names)} {verb} {' and '.join(families)} traffic to {y.vpc_id} through "
            f"Transit Gateway {tgw_id}, but replies cannot return: {'; '.join(clauses)}"
            + ("" if complete else f" (the search stopped at {found} lost subnets)")
            + "."
        ),
        evidence={
            "transit_gateway_id": tgw_id,
            "vpc_id": y.vpc_id,
            "tgw_route_table_id": y.table.route_table_id,
            "families": families,
            "senders": [
                {
                    "vpc_id": v,
                    "attachment_id": _attachment_of(model, v, tgw_id),
                    "subnet_ids": sorted(senders[v])[:SAMPLE],
                    "subnet_count": len(senders[v]),
                }
                for v in names[:SAMPLE]
            ],
            "sender_count": len(names),
            "complete": complete,
            "vpc_side": vpc_side,
            "tgw_side": tgw_side,
        },
        remediation="\n".join(commands),
    )


def _some(ids: list[str]) -> str:
    """A few ids, and how many more."""
    shown = ", ".join(ids[:3])
    return shown + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")


def _attachment_of(model: NetworkModel, vpc_id: str, tgw_id: str) -> str:
    att = model.vpc_attachments.get((vpc_id, tgw_id))
    return att.attachment_id if att is not None else ""


def _unanswered(m: Miss) -> dict[str, str]:
    return {
        "vpc_id": m.sender_vpc,
        "attachment_id": m.sender_attachment,
        "subnet_id": m.sender.subnet.subnet_id,
        "cidr": m.sender.cidr,
        "return_route": m.chosen,
    }


def _vpc_fixes(table: RouteTable, tgw_id: str, lost: Lost) -> list[str]:
    """create-route commands for one replying table (one per destination)."""
    existing = {r.destination: r for r in table.routes}
    out: list[str] = []
    for cidr in dict.fromkeys(d for d, _ in lost.fixes):
        current = existing.get(cidr)
        if current is None:
            command = (
                f"aws ec2 create-route --route-table-id {q(table.route_table_id)} "
                f"{q(destination_flag(cidr))} {q(cidr)} --transit-gateway-id {q(tgw_id)}"
            )
            out.append(cli(command, table.region, table.owner_id))
        else:
            target = current.target_id or current.target_type
            out.append(
                note(
                    f"# {table.route_table_id} sends {cidr} to {target}: replace that route "
                    f"(aws ec2 replace-route) only if its replies should use {tgw_id}"
                )
            )
    return out


def _tgw_fixes(table: TgwRouteTable, owner: str, lost: Lost) -> list[str]:
    """Propagate each sender's attachment into the table, else add a static route to it."""
    # Already propagating yet no route: a static one for the sending VPC's block (or, when
    # the table has that prefix already, the subnet's CIDR) is what AWS accepts.
    out: list[str] = []
    existing = {r.destination for r in table.routes}
    for (block, att), subnet in lost.fixes.items():
        if att not in table.propagations:
            command = (
                "aws ec2 enable-transit-gateway-route-table-propagation "
                f"--transit-gateway-route-table-id {q(table.route_table_id)} "
                f"--transit-gateway-attachment-id {q(att)}"
            )
        else:
            cidr = block if block not in existing else subnet
            command = (
                "aws ec2 create-transit-gateway-route "
                f"--transit-gateway-route-table-id {q(table.route_table_id)} "
                f"--destination-cidr-block {q(cidr)} --transit-gateway-attachment-id {q(att)}"
            )
        out.append(cli(command, table.region, owner))
    return out


ROUTE_ONE_WAY = route_one_way
