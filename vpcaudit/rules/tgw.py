"""Transit Gateway rules on the gateway itself (defaults that defeat segmentation, auto-accepted
shared attachments, missing flow logs), and the helpers every Transit Gateway rule shares.

Attachment rules are in rules/tgw_attachments.py; route rules (blackholes, one-way routing) in
rules/tgw_routes.py, over the per-subnet return-route judgement of rules/tgw_return.py.
"""

from __future__ import annotations

from vpcaudit.inventory import (
    Inventory,
    TgwAttachment,
    TgwRouteTable,
    TransitGateway,
    ec2_arn,
    partition_of,
)
from vpcaudit.model import ResourceRef, Severity, Unverifiable, Violation
from vpcaudit.network import NetworkModel
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import ask, cli, network_of, q

# -- shared by the Transit Gateway rules ----------------------------------------------------

LIVE_TABLE = frozenset({"pending", "available"})
"""TGW route table states in which the table exists (not deleting or deleted)."""
LIVE_ATTACHMENT = frozenset({"available", "modifying"})
"""Attachment states in which an attachment forwards (modifying keeps forwarding)."""


def tgw_ref(tgw: TransitGateway) -> ResourceRef:
    """A Transit Gateway located in its owner's account (where it is configured)."""
    arn = ec2_arn(tgw.region, tgw.owner_id, "transit-gateway", tgw.tgw_id)
    return ResourceRef(tgw.owner_id, tgw.region, "transit-gateway", tgw.tgw_id, arn, tgw.tags)


def attachment_ref(att: TgwAttachment, account_id: str) -> ResourceRef:
    """A Transit Gateway attachment located in the account that must act on it."""
    arn = ec2_arn(att.region, account_id, "transit-gateway-attachment", att.attachment_id)
    return ResourceRef(
        account_id, att.region, "transit-gateway-attachment", att.attachment_id, arn, att.tags
    )


def table_ref(table: TgwRouteTable, owner: str) -> ResourceRef:
    """A Transit Gateway route table located in the TGW owner's account."""
    arn = ec2_arn(table.region, owner, "transit-gateway-route-table", table.route_table_id)
    return ResourceRef(
        owner, table.region, "transit-gateway-route-table", table.route_table_id, arn
    )


def owner_of(model: NetworkModel, tgw_id: str, seen_in: str = "") -> str:
    """The TGW's owner: from the TGW itself, else an attachment's TransitGatewayOwnerId."""
    tgw = model.tgws.get(tgw_id)
    if tgw is not None:
        return tgw.owner_id
    return next(
        (a.tgw_owner_id for a in model.tgw_attachments.get(tgw_id, ()) if a.tgw_owner_id),
        seen_in,
    )


def tables_of(inv: Inventory, tgw_id: str) -> list[TgwRouteTable]:
    """The TGW's route tables that exist, by id."""
    memo: dict[str, list[TgwRouteTable]] = inv.memo("rules.tgw.tables_of")
    if not memo:
        memo[""] = []  # built, even when there is no table at all
        for t in sorted(network_of(inv).tgw_tables.values(), key=lambda t: t.route_table_id):
            if t.state in LIVE_TABLE:
                memo.setdefault(t.tgw_id, []).append(t)
    return memo.get(tgw_id, [])


def tables_read(inv: Inventory, owner: str, region: str) -> bool:
    """Whether the TGW route tables and their associations were read in the owner's region."""
    return all(inv.was_read(owner, region, k) for k in ("tgw_route_tables", "tgw_associations"))


def routed_to(inv: Inventory, tgw_id: str, attachment_id: str) -> list[str]:
    """The TGW's route tables with an active route that sends to the attachment."""
    memo: dict[str, dict[str, list[str]]] = inv.memo("rules.tgw.routed_to")
    if tgw_id not in memo:
        index: dict[str, list[str]] = {}
        for t in tables_of(inv, tgw_id):
            for a in sorted({a for r in t.routes if r.state == "active" for a in r.attachment_ids}):
                index.setdefault(a, []).append(t.route_table_id)
        memo[tgw_id] = index
    return memo[tgw_id].get(attachment_id, [])


def copies_of(inv: Inventory, tgw_id: str) -> list[TgwAttachment]:
    """Every copy of the TGW's attachments, as each scanned account listed them."""
    memo: dict[str, list[TgwAttachment]] = inv.memo("rules.tgw.copies_of")
    if not memo:
        memo[""] = []  # built
        for a in inv.tgw_attachments:
            memo.setdefault(a.transit_gateway_id, []).append(a)
    return memo.get(tgw_id, [])


# -- tgw-default-route-table-open -----------------------------------------------------------


@rule(
    id="tgw-default-route-table-open",
    title="Transit Gateway with several route tables that auto-associates and propagates",
    severity=Severity.MEDIUM,
    area="transit-gateway",
    rationale="""
        A Transit Gateway with more than one route table is segmented on purpose (prod apart
        from dev, spokes apart from shared services). With default route table association
        and propagation both left on (AWS's defaults), every new attachment joins the default
        table and advertises its routes into it, so it can reach, and be reached from,
        everything that table routes: the segmentation holds only until the next attachment.
        Turning both options off affects new attachments only; existing associations and
        propagations stay as they are.
    """,
    remediation="""
        Turn off default association and propagation and wire each new attachment to its
        segment explicitly (aws ec2 modify-transit-gateway --options
        DefaultRouteTableAssociation=disable,DefaultRouteTablePropagation=disable).
    """,
    evidence=(
        "route_tables",
        "default_association_route_table",
        "default_propagation_route_table",
        "default_table_associations",
        "default_table_propagations",
    ),
    params=NoParams,
    legitimate=(
        """A Transit Gateway with a single route table: a flat network by design.""",
        """Defaults that point at two different tables (new attachments associate with one
        segment and propagate into another): a deliberate wiring, left alone.""",
        """Only one of the two defaults on: new attachments are then wired only halfway by
        default, a choice this rule does not second-guess.""",
    ),
)
def default_route_table_open(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag segmented TGWs whose defaults wire every new attachment into one table."""
    del params
    model = network_of(inv)
    for tgw in sorted(model.tgws.values(), key=lambda t: t.tgw_id):
        if tgw.state != "available" or not (tgw.default_association and tgw.default_propagation):
            continue
        assoc, prop = tgw.association_default_rt, tgw.propagation_default_rt
        if assoc and prop and assoc != prop:
            continue
        if not inv.was_read(tgw.owner_id, tgw.region, "tgw_route_tables"):
            yield Unverifiable(
                tgw_ref(tgw),
                f"the route tables of {tgw.tgw_id} ({tgw.owner_id} {tgw.region}) could not be "
                f"read, so whether it is segmented is unknown",
            )
            continue
        tables = tables_of(inv, tgw.tgw_id)
        if len(tables) < 2:
            continue
        default = next((t for t in tables if t.route_table_id == (assoc or prop)), None)
        if default is None:
            default = next((t for t in tables if t.is_default_association), None)
        ids = [t.route_table_id for t in tables]
        yield Violation(
            resource=tgw_ref(tgw),
            message=(
                f"Transit Gateway {tgw.tgw_id} has {len(tables)} route tables but associates "
                f"and propagates every new attachment into its default table"
                + (f" {default.route_table_id}" if default else "")
                + ": a new attachment reaches, and is reached from, everything that table "
                "routes, whatever segment it belongs to."
            ),
            evidence={
                "route_tables": ids,
                "default_association_route_table": assoc,
                "default_propagation_route_table": prop,
                "default_table_associations": list(default.associations) if default else [],
                "default_table_propagations": list(default.propagations) if default else [],
            },
            remediation=cli(
                f"aws ec2 modify-transit-gateway --transit-gateway-id {q(tgw.tgw_id)} --options "
                "DefaultRouteTableAssociation=disable,DefaultRouteTablePropagation=disable",
                tgw.region,
                tgw.owner_id,
            )
            + "\n# existing associations and propagations are kept; associate and propagate each "
            "new attachment explicitly (aws ec2 associate-transit-gateway-route-table, "
            "enable-transit-gateway-route-table-propagation)",
        )


DEFAULT_ROUTE_TABLE_OPEN = default_route_table_open


# -- tgw-auto-accept-shared-attachments -----------------------------------------------------


@rule(
    id="tgw-auto-accept-shared-attachments",
    title="Transit Gateway that auto-accepts shared attachments",
    severity=Severity.MEDIUM,
    area="transit-gateway",
    rationale="""
        A Transit Gateway shared through AWS RAM with auto-accept on lets any account it is
        shared with attach a VPC without the owner's approval; with default association and
        propagation on as well, that VPC is routed into the network at once. vpcaudit does not
        read RAM shares, so it calls a Transit Gateway shared when it sees it: attachments of
        VPCs owned by other accounts, or the Transit Gateway listed in an account that does
        not own it. Shared: high when new attachments are also wired in by default or a
        sharing account is outside the Organization, else medium. Not visibly shared: a low
        finding that asks to confirm, since the option matters only if it is shared (a share
        with no attachment yet cannot be seen).
    """,
    remediation="""
        Turn auto-accept off so the owner accepts each attachment
        (aws ec2 modify-transit-gateway --options AutoAcceptSharedAttachments=disable);
        existing attachments are not affected.
    """,
    evidence=(
        "shared_seen",
        "foreign_accounts",
        "outside_organization",
        "default_association",
        "default_propagation",
    ),
    params=NoParams,
    legitimate=(
        """A Transit Gateway that is not shared: auto-accept then does nothing. With no sign of
        sharing the finding is low and asks to confirm (aws ram list-resources).""",
        """Auto-accept off: the owner accepts each attachment.""",
    ),
)
def auto_accept_shared(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag TGWs with auto-accept on, graded by how visibly they are shared."""
    del params
    model = network_of(inv)
    for tgw in sorted(model.tgws.values(), key=lambda t: t.tgw_id):
        if tgw.state != "available" or not tgw.auto_accept_shared:
            continue
        copies = copies_of(inv, tgw.tgw_id)
        foreign = sorted(
            {
                a.resource_owner_id
                for a in copies
                if a.resource_type == "vpc" and a.resource_owner_id not in ("", tgw.owner_id)
            }
        )
        seen = sorted(
            {a.account_id for a in copies if a.account_id != tgw.owner_id}
            | ({tgw.account_id} if tgw.account_id != tgw.owner_id else set())
        )
        outside = [a for a in sorted(set(foreign) | set(seen)) if inv.is_org_member(a) is False]
        wired = tgw.default_association and tgw.default_propagation
        evidence = {
            "shared_seen": bool(foreign or seen),
            "foreign_accounts": sorted(set(foreign) | set(seen)),
            "outside_organization": outside,
            "default_association": tgw.default_association,
            "default_propagation": tgw.default_propagation,
        }
        fix = cli(
            f"aws ec2 modify-transit-gateway --transit-gateway-id {q(tgw.tgw_id)} "
            "--options AutoAcceptSharedAttachments=disable",
            tgw.region,
            tgw.owner_id,
        )
        if foreign or seen:
            accounts = ", ".join(sorted(set(foreign) | set(seen)))
            yield Violation(
                resource=tgw_ref(tgw),
                message=(
                    f"Transit Gateway {tgw.tgw_id} is shared (used by account(s) {accounts}) "
                    f"and accepts their attachments automatically"
                    + (", and wires each new one into its default route table" if wired else "")
                    + ": any account it is shared with can connect a VPC without approval."
                ),
                evidence=evidence,
                remediation=fix,
                severity=Severity.HIGH if wired or outside else Severity.MEDIUM,
            )
            continue
        yield Violation(
            resource=tgw_ref(tgw),
            message=(
                f"Transit Gateway {tgw.tgw_id} accepts shared attachments automatically; no "
                f"attachment from another account is seen, so confirm whether it is shared "
                f"through AWS RAM (vpcaudit does not read RAM shares)."
            ),
            evidence=evidence,
            remediation=cli(
                "aws ram list-resources --resource-owner SELF --resource-type ec2:TransitGateway",
                tgw.region,
                tgw.owner_id,
            )
            + "\n# if it lists the Transit Gateway (it is shared):\n"
            + fix,
            severity=Severity.LOW,
        )


AUTO_ACCEPT_SHARED = auto_accept_shared


# -- tgw-flow-logs-missing ------------------------------------------------------------------


@rule(
    id="tgw-flow-logs-missing",
    title="Transit Gateway without an active flow log",
    severity=Severity.MEDIUM,
    area="transit-gateway",
    rationale="""
        Transit Gateway flow logs record the traffic between attachments as the Transit
        Gateway sees it, including what it drops (no route, blackhole) and the traffic of VPN,
        Direct Connect and peering attachments that no VPC flow log sees. Only an ACTIVE flow
        log on the Transit Gateway counts, or ACTIVE flow logs on every one of its live
        attachments. Judged in the owner's account, the only one that can create them, and
        only where its flow logs were read. Graded low when every attachment is a VPC whose
        own VPC flow log is active (the traffic is then recorded at both ends, drops at the
        Transit Gateway excepted).
    """,
    remediation="""
        Create a flow log on the Transit Gateway to S3 or CloudWatch Logs
        (aws ec2 create-flow-logs --resource-type TransitGateway; no --traffic-type, which
        Transit Gateway flow logs refuse).
    """,
    evidence=("attachments", "attachment_flow_logs", "inactive_flow_logs", "vpcs_logged"),
    params=NoParams,
    legitimate=(
        """Flow logs on every live attachment instead of the Transit Gateway: everything is
        recorded.""",
        """A Transit Gateway shared into a scanned account by an owner that was not scanned:
        only the owner can create its flow logs, so the check is unverifiable.""",
        """A region whose flow logs could not be read: unverifiable, never a finding.""",
    ),
)
def flow_logs_missing(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag available TGWs, in their owner's account, with no ACTIVE TGW flow log."""
    del params
    model = network_of(inv)
    for tgw in sorted(model.tgws.values(), key=lambda t: t.tgw_id):
        if tgw.state != "available":
            continue
        if tgw.account_id != tgw.owner_id:
            yield Unverifiable(
                tgw_ref(tgw),
                f"Transit Gateway {tgw.tgw_id} is owned by {tgw.owner_id}, which was not "
                f"scanned; only the owner can create its flow logs",
            )
            continue
        if not inv.was_read(tgw.owner_id, tgw.region, "flow_logs"):
            yield Unverifiable(
                tgw_ref(tgw),
                f"flow logs of {tgw.owner_id} {tgw.region} could not be read",
            )
            continue
        logs = inv.flow_logs_for(tgw.tgw_id)
        if any(f.status == "ACTIVE" for f in logs):
            continue
        live = [a for a in model.tgw_attachments.get(tgw.tgw_id, ()) if a.state in LIVE_ATTACHMENT]
        logged = {
            a.attachment_id: f.flow_log_id
            for a in live
            for f in inv.flow_logs_for(a.attachment_id)
            if f.status == "ACTIVE"
        }
        if live and len(logged) == len(live):
            continue
        vpcs_logged = bool(live) and all(
            a.resource_type == "vpc"
            and any(f.status == "ACTIVE" for f in inv.flow_logs_for(a.resource_id))
            for a in live
        )
        yield Violation(
            resource=tgw_ref(tgw),
            message=(
                f"Transit Gateway {tgw.tgw_id} has no active flow log: the traffic between its "
                f"{len(live)} attachment(s), and what it drops, is not recorded"
                + (f" ({len(logged)} attachment(s) have a flow log of their own)" if logged else "")
                + "."
            ),
            evidence={
                "attachments": [a.attachment_id for a in live],
                "attachment_flow_logs": [f"{f} on {a}" for a, f in sorted(logged.items())],
                "inactive_flow_logs": sorted(f"{f.flow_log_id} ({f.status})" for f in logs),
                "vpcs_logged": vpcs_logged,
            },
            remediation=cli(
                "aws ec2 create-flow-logs --resource-type TransitGateway --resource-ids "
                f"{q(tgw.tgw_id)} --log-destination-type s3 --log-destination "
                f"arn:{q(partition_of(tgw.region))}:s3:::"
                + ask("LOG_BUCKET", "the S3 bucket for flow logs")
                + "/tgw-flow-logs/",
                tgw.region,
                tgw.owner_id,
            ),
            severity=Severity.LOW if vpcs_logged else Severity.MEDIUM,
        )


FLOW_LOGS_MISSING = flow_logs_missing
