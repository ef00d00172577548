"""Transit Gateway attachment rules: attachments that route nothing but bill, and peerings
waiting for acceptance."""

from __future__ import annotations

from dataclasses import dataclass

from vpcaudit.inventory import Inventory, TgwAttachment, TgwRouteTable, ec2_arn
from vpcaudit.model import ResourceRef, Severity, Unverifiable, Violation
from vpcaudit.network import NetworkModel
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import ask, cli, network_of, note, q
from vpcaudit.rules.tgw import attachment_ref, owner_of, routed_to, tables_of, tables_read

# -- tgw-attachment-unassociated ------------------------------------------------------------


@dataclass(frozen=True)
class UnassociatedParams:
    """Parameters of tgw-attachment-unassociated."""

    hourly_price: float = 0.05
    """USD per attachment-hour (us-east-1 list price; check your region's price)."""
    hours_per_month: float = 730.0
    """Hours in a month, for the monthly estimate."""


# How to delete an attachment nothing uses, by resource type (and whose credentials it needs).
_DELETE = {
    "vpc": "aws ec2 delete-transit-gateway-vpc-attachment --transit-gateway-attachment-id {id}",
    "peering": "aws ec2 delete-transit-gateway-peering-attachment "
    "--transit-gateway-attachment-id {id}",
    "connect": "aws ec2 delete-transit-gateway-connect --transit-gateway-attachment-id {id}",
    "vpn": "aws ec2 delete-vpn-connection --vpn-connection-id {resource}",
}


@rule(
    id="tgw-attachment-unassociated",
    title="Transit Gateway attachment associated with no route table",
    severity=Severity.LOW,
    area="transit-gateway",
    rationale="""
        The route table an attachment is associated with decides where the traffic that
        enters the Transit Gateway through it goes. An attachment associated with none has
        every packet it sends dropped at the Transit Gateway, so no conversation through it
        works, yet it still bills attachment-hours (about $0.05 an hour, $36.50 a month, in
        us-east-1). When other route tables still send traffic to it, the traffic arrives but
        its replies are dropped, so the finding is graded medium; otherwise it is low (only
        the cost). Judged only where the TGW owner's route tables and their associations were
        read (only the owner sees them); elsewhere the check is unverifiable. Other rules stay
        silent on the same cause: tgw-route-one-way does not judge replies through an
        unassociated attachment.
    """,
    remediation="""
        Associate the attachment with the route table of its segment
        (aws ec2 associate-transit-gateway-route-table), or delete it if nothing uses it.
    """,
    evidence=(
        "transit_gateway_id",
        "resource_type",
        "resource_id",
        "resource_owner_id",
        "route_tables",
        "routed_from",
        "propagates_into",
        "hourly_price",
        "monthly_cost_usd",
    ),
    params=UnassociatedParams,
    legitimate=(
        """Attachments that are not available (pending acceptance, being created, modified or
        deleted) are left alone: a move between route tables passes through modifying.""",
        """A Transit Gateway whose route tables or associations could not be read in its
        owner's account: unverifiable, never a finding.""",
    ),
)
def attachment_unassociated(inv: Inventory, params: UnassociatedParams) -> RuleOutput:
    """Flag available attachments associated with no route table of their TGW."""
    model = network_of(inv)
    monthly = round(params.hourly_price * params.hours_per_month, 2)
    for (att_id, tgw_id), att in sorted(model.attachments.items()):
        if att.state != "available" or att.association_rt_id:
            continue
        owner = owner_of(model, tgw_id, att.account_id)
        if not tables_read(inv, owner, att.region):
            yield Unverifiable(
                attachment_ref(att, owner),
                f"the route-table associations of {tgw_id} ({owner} {att.region}) could not be "
                f"read, so whether {att_id} is associated with one is unknown",
            )
            continue
        tables = tables_of(inv, tgw_id)
        routed = routed_to(inv, tgw_id, att_id)
        propagates = [t.route_table_id for t in tables if att_id in t.propagations]
        what = f"{att.resource_type} {att.resource_id}".strip()
        message = (
            f"Transit Gateway attachment {att_id} ({what}) on {tgw_id} is associated with no "
            f"route table: everything it sends is dropped at the Transit Gateway, yet it bills "
            f"about ${monthly:,.2f} a month"
        )
        if routed:
            message += (
                f"; route table(s) {', '.join(routed)} still send traffic to it, whose replies "
                f"are dropped"
            )
        yield Violation(
            resource=attachment_ref(att, owner),
            message=message + ".",
            evidence={
                "transit_gateway_id": tgw_id,
                "resource_type": att.resource_type,
                "resource_id": att.resource_id,
                "resource_owner_id": att.resource_owner_id,
                "route_tables": [t.route_table_id for t in tables],
                "routed_from": routed,
                "propagates_into": propagates,
                "hourly_price": params.hourly_price,
                "monthly_cost_usd": monthly,
            },
            remediation=_associate(
                model, att, tgw_id=tgw_id, owner=owner, tables=tables, routed=bool(routed)
            ),
            severity=Severity.MEDIUM if routed else Severity.LOW,
        )


def _associate(
    model: NetworkModel,
    att: TgwAttachment,
    *,
    tgw_id: str,
    owner: str,
    tables: list[TgwRouteTable],
    routed: bool,
) -> str:
    """Associate with the only table, else the TGW's default association table, else ask."""
    tgw = model.tgws.get(tgw_id)
    ids = [t.route_table_id for t in tables]
    default = tgw.association_default_rt if tgw is not None else ""
    target = ids[0] if len(ids) == 1 else default if default in ids else ""
    lines = []
    if not target and ids:
        lines.append(note(f"# choose the route table of its segment among {', '.join(ids)}"))
    # A placeholder for the reader to fill in when the table cannot be chosen.
    target_word = q(target) if target else ask("TGW_ROUTE_TABLE_ID", "the TGW route table")
    lines.append(
        cli(
            "aws ec2 associate-transit-gateway-route-table --transit-gateway-route-table-id "
            f"{target_word} --transit-gateway-attachment-id {q(att.attachment_id)}",
            att.region,
            owner,
        )
    )
    delete = _DELETE.get(att.resource_type)
    # Deleting is offered only when no table sends to it: then no flow, even one-way, uses it.
    if delete is not None and not routed:
        by = att.resource_owner_id or att.account_id
        if att.resource_type == "peering":
            by = owner
        command = delete.format(id=q(att.attachment_id), resource=q(att.resource_id))
        lines.append("# or, if nothing uses it, delete it (this stops the charge):")
        lines.append(cli(command, att.region, by))
    return "\n".join(lines)


ATTACHMENT_UNASSOCIATED = attachment_unassociated


# -- tgw-peering-pending --------------------------------------------------------------------


@rule(
    id="tgw-peering-pending",
    title="Transit Gateway peering waiting for acceptance",
    severity=Severity.LOW,
    area="transit-gateway",
    rationale="""
        A Transit Gateway peering attachment is created in pendingAcceptance and stays there
        indefinitely (unlike a VPC peering request, it does not expire): it carries nothing,
        and routes to it cannot be added, until the owner of the accepter Transit Gateway
        accepts it in the accepter's region, even when both Transit Gateways are in the same
        account. The finding names both ends and which of them must accept. Where the other
        end is outside the Organization, or the Organization's members are not known, it asks
        to confirm the request is expected before accepting it.
    """,
    remediation="""
        In the accepter's account and region, accept it if it is expected
        (aws ec2 accept-transit-gateway-peering-attachment) or reject it
        (aws ec2 reject-transit-gateway-peering-attachment).
    """,
    evidence=("ends", "accepter", "state"),
    params=NoParams,
    legitimate=(
        """A peering being set up right now: the finding is low, and disappears once it is
        accepted.""",
    ),
)
def peering_pending(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag TGW peering attachments in pendingAcceptance, naming where they must be accepted."""
    del params
    copies: dict[str, list[TgwAttachment]] = {}
    for a in inv.tgw_attachments:
        if a.resource_type == "peering" and a.state == "pendingAcceptance":
            copies.setdefault(a.attachment_id, []).append(a)
    for att_id, seen in sorted(copies.items()):
        ends = _ends(seen)
        accepter = _accepter(seen, ends)
        place = accepter[1:] if accepter is not None else _accept_place(ends)
        described = [_end_evidence(inv, e) for e in ends]
        # Ask to confirm when an end is outside the Organization, or membership is unknown.
        doubtful = any(e["in_organization"] is not True for e in described)
        # Located where the attachment was actually read: an end may be in an account or
        # region the scan could not see, where no finding can be acted on or matched. (Not
        # moved to the accepter's copy: a finding that moved would read as new in a diff.)
        account, region = _accept_place(ends) or min((a.account_id, a.region) for a in seen)
        names = " and ".join(f"{t} ({acct} {reg})" for t, acct, reg in ends)
        if accepter is not None:
            who = (
                f"its accepter, {accepter[0]}, must accept it in account {accepter[1]}, "
                f"{accepter[2]}"
            )
        elif place is not None:
            who = f"it must be accepted in account {place[0]}, {place[1]}, where both ends are"
        else:
            who = (
                "the owner of the accepter Transit Gateway (the end that did not request it) "
                "must accept it, in that Transit Gateway's region"
            )
        yield Violation(
            resource=ResourceRef(
                account,
                region,
                "transit-gateway-attachment",
                att_id,
                ec2_arn(region, account, "transit-gateway-attachment", att_id),
                seen[0].tags,
            ),
            message=(
                f"Transit Gateway peering {att_id} between {names} is waiting for acceptance "
                f"and carries nothing until accepted: {who}"
                + (
                    "; confirm the request is expected first (an end is outside the "
                    "Organization or not known to be in it)"
                    if doubtful
                    else ""
                )
                + "."
            ),
            evidence={
                "ends": described,
                "accepter": {} if place is None else {"account_id": place[0], "region": place[1]},
                "state": seen[0].state,
            },
            remediation=_accept(att_id, ends, place, doubtful),
        )


End = tuple[str, str, str]
"""(TGW id, owner account, region) of one end of a TGW peering."""


def _ends(seen: list[TgwAttachment]) -> list[End]:
    """Both ends of a peering from the copies seen (each names its own TGW and the far one)."""
    ends: set[End] = set()
    for a in seen:
        ends.add((a.transit_gateway_id, a.tgw_owner_id or a.account_id, a.region))
        if a.peer_tgw_id and a.peer_account_id:
            ends.add((a.peer_tgw_id, a.peer_account_id, a.peer_region))
    return sorted(ends)


def _accepter(seen: list[TgwAttachment], ends: list[End]) -> End | None:
    """The accepter's end, as the peering attachment names it (AccepterTgwInfo); None when
    the peering attachments were not read."""
    named = {a.accepter_tgw_id for a in seen if a.accepter_tgw_id}
    matches = [e for e in ends if e[0] in named]
    return matches[0] if len(named) == 1 and len(matches) == 1 else None


def _accept_place(ends: list[End]) -> tuple[str, str] | None:
    """Without the accepter's name: the (account, region) of the ends, when they share one."""
    # Only ends in one account and region leave no doubt about where to accept; otherwise
    # both are named, each with the command for the case it is the accepter.
    places = sorted({(account, region) for _, account, region in ends})
    return places[0] if len(places) == 1 else None


def _end_evidence(inv: Inventory, end: End) -> dict[str, object]:
    tgw_id, account, region = end
    return {
        "transit_gateway_id": tgw_id,
        "account_id": account,
        "account_name": inv.account_names.get(account, ""),
        "region": region,
        "scanned": (account, region) in inv.scanned_regions,
        "in_organization": inv.is_org_member(account),
    }


def _accept(att_id: str, ends: list[End], place: tuple[str, str] | None, doubtful: bool) -> str:
    """The accept command where the accepter is (for each end, when that is not known)."""
    command = (
        "aws ec2 accept-transit-gateway-peering-attachment "
        f"--transit-gateway-attachment-id {q(att_id)}"
    )
    aside = "  # once the request is confirmed as expected" if doubtful else ""
    if place is not None:
        return cli(command, place[1], place[0]) + aside
    lines = []
    for tgw_id, account, region in ends:
        lines.append(note(f"# if {tgw_id} ({account} {region}) is the accepter:"))
        lines.append(cli(command, region, account) + aside)
    return "\n".join(lines)


PEERING_PENDING = peering_pending
