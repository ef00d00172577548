"""tgw-route-blackhole: blackhole routes in Transit Gateway route tables, graded by what they
drop (one-way routing through a Transit Gateway is rules/tgw_one_way.py)."""

from __future__ import annotations

from vpcaudit.inventory import Inventory, Network, TgwRoute, TgwRouteTable, parse_network
from vpcaudit.model import Severity, Violation
from vpcaudit.network import NetworkModel
from vpcaudit.network.addr import contains
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import ask, cli, network_of, q, words
from vpcaudit.rules.tgw import LIVE_ATTACHMENT, LIVE_TABLE, owner_of, table_ref
from vpcaudit.rules.tgw_ranges import Parts, first


@rule(
    id="tgw-route-blackhole",
    title="Blackhole route in a Transit Gateway route table",
    severity=Severity.MEDIUM,
    area="transit-gateway",
    rationale="""
        A Transit Gateway route in state blackhole drops what it matches. A static route to an
        attachment that was deleted or does not forward (a VPN attachment whose tunnels are
        down) turns blackhole and silently drops that traffic for every attachment associated
        with its table: medium when the table has live associations, low when it has none or
        more specific routes cover the whole range (then it drops nothing). A blackhole that
        names no attachment is one created on purpose (create-transit-gateway-route
        --blackhole) to keep a range off the table (a carve-out under a broader route, a
        catch-all under specific ones, a guard against a future propagation) and is left
        alone. A blackhole that is the longest match for a reply is reported here only, not by
        tgw-route-one-way.
    """,
    remediation="""
        Point the route at a live attachment (aws ec2 replace-transit-gateway-route) or
        delete it (aws ec2 delete-transit-gateway-route), in the Transit Gateway owner's
        account; for a VPN attachment whose tunnels are down, bring the tunnels up instead.
    """,
    evidence=(
        "transit_gateway_id",
        "destination",
        "route_type",
        "target_attachments",
        "associated_attachments",
        "broader_route",
    ),
    params=NoParams,
    legitimate=(
        """A blackhole created on purpose: it names no attachment (e.g. 10.0.0.0/8 under
        0.0.0.0/0 to an egress VPC, or a segment's range kept off another segment's table).
        Left alone.""",
        """A blackhole in a table no attachment is associated with, or under more specific
        routes that cover it: it drops nothing, so it is low.""",
        """Tables whose routes could not be read: their routes are unknown, not flagged.""",
    ),
)
def route_blackhole(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag blackhole routes to attachments in TGW route tables, graded by what they drop."""
    del params
    model = network_of(inv)
    for table in sorted(model.tgw_tables.values(), key=lambda t: t.route_table_id):
        if table.state not in LIVE_TABLE or not table.routes_read:
            continue
        # A blackhole naming no attachment was created as one (--blackhole): deliberate.
        holes = [r for r in table.routes if r.state == "blackhole" and _dead(r)]
        if not holes:
            continue
        owner = owner_of(model, table.tgw_id, table.account_id)
        associated = [
            a
            for a in table.associations
            if (att := model.attachment(a, table.tgw_id)) is None or att.state in LIVE_ATTACHMENT
        ]
        for r in holes:
            yield _blackhole(model, table, r, owner=owner, associated=associated)


def _dead(r: TgwRoute) -> bool:
    """Whether a blackhole route lost its target: it names one."""
    return bool(r.attachment_ids)


def _blackhole(
    model: NetworkModel,
    table: TgwRouteTable,
    r: TgwRoute,
    *,
    owner: str,
    associated: list[str],
) -> Violation:
    """The finding of one blackhole route whose target is gone or does not forward."""
    nets = _nets(model, r.destination)
    active = [
        (n, x) for x in table.routes if x.state == "active" for n in _nets(model, x.destination)
    ]
    # The route that takes the traffic over once the blackhole is deleted.
    broader = max(
        ((n, x) for n, x in active for h in nets if _inside(h, n)),
        key=lambda p: p[0].prefixlen,
        default=None,
    )
    inner = [n for n, _ in active for h in nets if _inside(n, h)]
    shadowed = bool(nets) and all(
        Parts([(h, False), *((n, True) for n in inner)], h.version)
        .where(bool)
        .holds(int(h.network_address), int(h.broadcast_address))
        for h in nets
    )
    targets = [_target(model, table.tgw_id, a) for a in r.attachment_ids]
    live_target = any(t["state"] in LIVE_ATTACHMENT for t in targets)
    drops = [_describe(model, table.tgw_id, a) for a in associated]
    if not associated:
        effect = "no attachment is associated with the table, so it drops nothing now"
    elif shadowed:
        effect = "more specific routes cover its whole range, so it drops nothing now"
    else:
        effect = f"it drops that traffic from {', '.join(drops)}"
    if live_target:
        cause = f"its target {', '.join(r.attachment_ids)} exists but is not forwarding"
    else:
        gone = [
            f"{t['attachment_id']} "
            + ("no longer exists" if t["state"] == "gone" else f"is {t['state']}")
            for t in targets
        ]
        cause = f"its target {', '.join(gone)}"
    fix = _blackhole_fix(model, table, r, owner=owner, live_target=live_target)
    if broader is not None and not live_target:
        fix += (
            f"\n# once it is deleted, {broader[1].destination} "
            f"({', '.join(broader[1].attachment_ids)}) carries that traffic: check it should"
        )
    return Violation(
        resource=table_ref(table, owner),
        message=(
            f"Route {r.destination} in Transit Gateway route table {table.route_table_id} "
            f"({table.tgw_id}) is a blackhole: {cause}; {effect}."
        ),
        evidence={
            "transit_gateway_id": table.tgw_id,
            "destination": r.destination,
            "route_type": r.route_type,
            "target_attachments": targets,
            "associated_attachments": drops,
            "broader_route": ""
            if broader is None
            else f"{broader[1].destination} -> {', '.join(broader[1].attachment_ids)}",
        },
        remediation=fix,
        # What it drops decides: nothing (no association, or shadowed), or live traffic.
        severity=Severity.LOW if not associated or shadowed else Severity.MEDIUM,
        discriminator=r.destination,
    )


def _nets(model: NetworkModel, destination: str) -> list[Network]:
    """A route destination's networks: a CIDR, or a prefix list's entries when read."""
    if destination.startswith("pl-"):
        pl = model.prefix_lists.get(destination)
        return list(pl.cidrs or ()) if pl is not None else []
    net = parse_network(destination)
    return [net] if net is not None else []


def _inside(inner: Network, outer: Network) -> bool:
    """Whether inner is a strictly more specific part of outer."""
    return inner.prefixlen > outer.prefixlen and contains(outer, first(inner))


def _target(model: NetworkModel, tgw_id: str, attachment_id: str) -> dict[str, str]:
    att = model.attachment(attachment_id, tgw_id)
    return {
        "attachment_id": attachment_id,
        "resource_type": att.resource_type if att else "",
        "resource_id": att.resource_id if att else "",
        "state": att.state if att else "gone",
    }


def _describe(model: NetworkModel, tgw_id: str, attachment_id: str) -> str:
    att = model.attachment(attachment_id, tgw_id)
    if att is None:
        return attachment_id
    return f"{attachment_id} ({att.resource_type} {att.resource_id})"


def _blackhole_fix(
    model: NetworkModel,
    table: TgwRouteTable,
    r: TgwRoute,
    *,
    owner: str,
    live_target: bool,
) -> str:
    """Delete or repoint the route; keep it when its target exists but does not forward."""
    rt_word, dest_word = q(table.route_table_id), q(r.destination)
    if r.destination.startswith("pl-"):
        delete = (
            "aws ec2 delete-transit-gateway-prefix-list-reference "
            f"--transit-gateway-route-table-id {rt_word} --prefix-list-id {dest_word}"
        )
        replace = (
            "aws ec2 modify-transit-gateway-prefix-list-reference "
            f"--transit-gateway-route-table-id {rt_word} --prefix-list-id {dest_word} "
            "--transit-gateway-attachment-id "
            + ask("ATTACHMENT_ID", "a live attachment toward the destination")
        )
    else:
        delete = (
            "aws ec2 delete-transit-gateway-route "
            f"--transit-gateway-route-table-id {rt_word} --destination-cidr-block {dest_word}"
        )
        replace = (
            "aws ec2 replace-transit-gateway-route "
            f"--transit-gateway-route-table-id {rt_word} --destination-cidr-block {dest_word} "
            "--transit-gateway-attachment-id "
            + ask("ATTACHMENT_ID", "a live attachment toward the destination")
        )
    if live_target:
        # The route comes back by itself once its attachment forwards again (a VPN whose
        # tunnels come up): removing it would lose the route, not fix the link.
        att = next(
            (a for x in r.attachment_ids if (a := model.attachment(x, table.tgw_id)) is not None),
            None,
        )
        if att is not None and att.resource_type == "vpn":
            check = f"aws ec2 describe-vpn-connections --vpn-connection-ids {q(att.resource_id)}"
            return cli(check, table.region, owner) + "  # bring its tunnels up"
        check = (
            "aws ec2 describe-transit-gateway-attachments --transit-gateway-attachment-ids "
            + words(r.attachment_ids)
        )
        return cli(check, table.region, owner) + "  # find why it does not forward"
    if r.route_type == "propagated":
        # A propagated route is not deleted but stopped at its source.
        return "\n".join(
            cli(
                "aws ec2 disable-transit-gateway-route-table-propagation "
                f"--transit-gateway-route-table-id {q(table.route_table_id)} "
                f"--transit-gateway-attachment-id {q(a)}",
                table.region,
                owner,
            )
            for a in r.attachment_ids
        )
    lines = [
        cli(delete, table.region, owner),
        "# or point it at a live attachment:",
        cli(replace, table.region, owner),
    ]
    return "\n".join(lines)


ROUTE_BLACKHOLE = route_blackhole
