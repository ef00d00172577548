"""Peering rules: requests about to expire, routes that only go one way or to a peering that
ended. The scope of a peer account and peering-external-account live in peering_scope.py,
remote DNS resolution in peering_dns.py; their entry-point names are importable here too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from vpcaudit.inventory import Inventory, Peering, PeeringSide
from vpcaudit.model import Severity, Unverifiable, Violation
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import (
    cli,
    destination_flag,
    network_of,
    note,
    peering_ref,
    q,
    route_table_ref,
    side_evidence,
)
from vpcaudit.rules.peering_dns import DNS_RESOLUTION_DISABLED
from vpcaudit.rules.peering_scope import EXTERNAL_ACCOUNT, Scope, _membership, peer_scope
from vpcaudit.rules.return_routes import ReturnRoutes, one_way_finding, routed

# A pending request lapses this long after it is made (AWS fixed value).
PENDING_LIFETIME_HOURS = 7 * 24


@dataclass(frozen=True)
class PendingParams:
    """Parameters of peering-pending-expiring."""

    warn_window_hours: float = 48.0
    """A request that expires within this many hours is graded high."""
    trusted_accounts: tuple[str, ...] = ()
    """Accounts outside the Organization whose requests are expected (partners, vendors); give
    the same list as peering-external-account's trusted_accounts."""


@rule(
    id="peering-pending-expiring",
    title="Peering request awaiting acceptance",
    severity=Severity.LOW,
    area="peering",
    rationale="""
        A VPC peering request stays in pending-acceptance until the accepter account accepts
        it, and AWS deletes it 7 days after it was made. A wanted request that lapses silently
        breaks the connectivity a team is waiting for and has to be requested again, with new
        route and security-group changes on both sides. A request between accounts of the
        Organization (or scanned accounts, when membership is unknown) rises to high inside
        the warning window; one whose expiry AWS did not report is flagged medium as unknown.
        A request from an account outside the Organization is graded low whatever its expiry:
        letting it lapse is the safe outcome, and peering-external-account reports the account
        itself. Without --org, a request from an account that was not scanned may come from a
        sibling or from an outsider, so it is never graded above medium and the advice is to
        confirm the requester first.
    """,
    remediation="""
        For a request between your own accounts, the accepter account accepts it
        (aws ec2 accept-vpc-peering-connection) and adds routes on both sides, or rejects it if
        it is not wanted. For a request from outside the Organization, or from an account whose
        membership is unknown, confirm with the requester's owner first; only if it is wanted,
        accept it; otherwise reject it (aws ec2 reject-vpc-peering-connection) or let it lapse.
    """,
    evidence=(
        "status",
        "expiration_time",
        "hours_left",
        "expiry_known",
        "requester",
        "accepter",
        "requester_scope",
        "must_accept_account",
        "must_accept_region",
    ),
    params=PendingParams,
    legitimate=(
        """A request from an account outside the Organization is graded low and never told to
        be accepted first: letting it lapse is the safe outcome unless its owner confirms it is
        wanted.""",
        """A request from a partner listed in trusted_accounts is treated like one between your
        own accounts.""",
        """Without --org, a request from an account that was not scanned (possibly a sibling of
        the same Organization) is capped at medium and the advice is to confirm the requester
        first.""",
        """A request left pending on purpose between your own accounts is low until it enters
        the warning window: only a request about to lapse is graded high.""",
    ),
)
def pending_expiring(inv: Inventory, params: PendingParams) -> RuleOutput:
    """Flag pending-acceptance requests, graded by the time left and by who requested them."""
    for p in inv.peerings:
        if p.status != "pending-acceptance":
            continue
        hours_left: float | None = None
        stamp: str | None = None
        if p.expiration_time is None:
            severity = Severity.MEDIUM
            when = "its expiry time was not reported (it lapses 7 days after it was made)"
        else:
            hours_left = (p.expiration_time - inv.as_of).total_seconds() / 3600
            stamp = p.expiration_time.strftime("%Y-%m-%d %H:%M UTC")
            if hours_left <= 0:
                severity = Severity.HIGH
                when = f"it passed its expiry time at {stamp}"
            elif hours_left <= params.warn_window_hours:
                severity = Severity.HIGH
                when = f"it expires in {hours_left:.1f} h, at {stamp}"
            else:
                severity = Severity.LOW
                when = f"it expires in {hours_left / 24:.1f} days, at {stamp}"
        req, acc = p.requester, p.accepter
        scope = peer_scope(inv, req.owner_id, params.trusted_accounts)
        accept = cli(
            f"aws ec2 accept-vpc-peering-connection --vpc-peering-connection-id {q(p.peering_id)}",
            acc.region,
            acc.owner_id,
        )
        reject = cli(
            f"aws ec2 reject-vpc-peering-connection --vpc-peering-connection-id {q(p.peering_id)}",
            acc.region,
            acc.owner_id,
        )
        lapse = "let it lapse" + (f" (at {stamp})" if stamp and (hours_left or 0) > 0 else "")
        aside = ""
        if scope == "external":
            # Not ours to hurry: the safe outcome is that it lapses (one problem, one finding:
            # peering-external-account grades the outsider).
            severity = Severity.LOW
            aside = (
                f" The requester, account {req.owner_id}, is outside the Organization: letting "
                "the request lapse is the safe outcome unless its owner confirms it is wanted "
                "(peering-external-account reports the account)."
            )
            remediation = "\n".join(
                [
                    note(
                        f"# Confirm with the owner of account {req.owner_id} (outside the "
                        "Organization) that this request is expected."
                    ),
                    "# Only if it is wanted, accept it:",
                    accept,
                    note(f"# Otherwise reject it, or {lapse}:"),
                    reject,
                ]
            )
        elif scope == "unknown":
            if severity is Severity.HIGH:
                severity = Severity.MEDIUM
            aside = (
                f" The requester, account {req.owner_id}, was not scanned and the "
                f"{_membership(inv)}: it may be a sibling account or an outsider."
            )
            remediation = "\n".join(
                [
                    note(
                        f"# Confirm the requester account {req.owner_id} first (scan with --org "
                        "to know the Organization's members, or ask its owner)."
                    ),
                    "# If it is one of yours or a wanted partner, accept it:",
                    accept,
                    note(f"# Otherwise reject it, or {lapse}:"),
                    reject,
                ]
            )
        else:
            remediation = f"{accept}\nor, if unwanted: {reject}"
        yield Violation(
            resource=peering_ref(p, _seen_side(inv, p)),
            message=(
                f"Peering {p.peering_id} from {req.vpc_id} ({req.owner_id}) "
                f"awaits acceptance by account {acc.owner_id} in {acc.region}; {when}." + aside
            ),
            evidence={
                "status": p.status,
                "expiration_time": None
                if p.expiration_time is None
                else p.expiration_time.isoformat().replace("+00:00", "Z"),
                "hours_left": None if hours_left is None else round(hours_left, 1),
                "expiry_known": p.expiration_time is not None,
                "requester": side_evidence(inv, req),
                "accepter": side_evidence(inv, acc),
                "requester_scope": scope,
                "must_accept_account": acc.owner_id,
                "must_accept_region": acc.region,
            },
            remediation=remediation,
            severity=severity,
        )


def _seen_side(inv: Inventory, p: Peering) -> PeeringSide:
    """Locate a finding where someone can act: the accepter if scanned, else the requester."""
    if p.accepter.owner_id in inv.scanned_accounts or p.requester.owner_id not in (
        inv.scanned_accounts
    ):
        return p.accepter
    return p.requester


@rule(
    id="peering-route-one-way",
    title="Peering routed on one side only",
    severity=Severity.MEDIUM,
    area="peering",
    rationale="""
        A peering connection carries a conversation only when the replies have a route back.
        AWS routes a reply by the replying subnet's own route table (its explicit association,
        else the VPC's main table), by longest prefix, IPv4 and IPv6 apart. Routes are added by
        hand on each side, so a side, a table or an address family is often forgotten, or the
        route back covers a range that holds none of the sending subnets: connections open but
        replies never return, which shows up as time-outs that are hard to trace. Each subnet
        that sends to the peer through the peering (by longest prefix) is checked from every
        peer subnet it reaches: that subnet's table must send the sender's whole CIDR back
        through the same peering. Both sides are judged, across accounts, when both were
        scanned; when one was not, the check is reported as unverifiable instead of guessed.
    """,
    remediation="""
        Add the missing route back through the peering connection, to the sending VPC's CIDR
        block (or the sending subnet's CIDR where a more specific route would shadow the
        block), in each route table the finding names, for the family it names
        (aws ec2 create-route). Where that table already sends the range to another target,
        replace that route only if the replies should use the peering instead.
    """,
    evidence=("routed_side", "missing_side", "families"),
    params=NoParams,
    legitimate=(
        """A peering no subnet routes to is unused, not one-way, and is left alone.""",
        """A subnet whose route table has no route through the peering, while other tables of
        its VPC do, is an isolated tier kept off the peering on purpose and is not judged.""",
        """An address family that the sending side does not route through the peering is not
        judged for it (an IPv4-only peering is not missing IPv6 routes).""",
        """A route back broader than the sender (the VPC's whole block, a supernet, a prefix
        list that holds it) is a route back.""",
        """A peering whose other side was not scanned, or whose route tables or subnets could
        not be read, is reported as unverifiable, not guessed.""",
    ),
)
def route_one_way(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag active peerings whose replies have no route back from some subnets of a side."""
    del params
    readable: dict[tuple[str, str], bool] = {}
    judge: ReturnRoutes | None = None
    for p in inv.peerings:
        if p.status != "active":
            continue
        sides = (p.requester, p.accepter)
        for s in sides:
            if (s.owner_id, s.region) not in readable:
                readable[(s.owner_id, s.region)] = _routes_readable(inv, s)
        unread = [s for s in sides if not readable[(s.owner_id, s.region)]]
        if unread:
            yield from _unverifiable(inv, p, unread)
            continue
        where = routed(inv, p.peering_id)
        if not where.vpcs:
            continue  # no route through it anywhere: unused, not one-way
        judge = judge or ReturnRoutes.of(network_of(inv))
        for have, lack in ((p.requester, p.accepter), (p.accepter, p.requester)):
            found = [
                d
                for family in (4, 6)
                if (d := judge.direction(p.peering_id, where, have.vpc_id, lack.vpc_id, family))
            ]
            if found:
                yield one_way_finding(inv, judge.model, p, (have, lack), found)


def _routes_readable(inv: Inventory, side: PeeringSide) -> bool:
    return all(
        inv.was_read(side.owner_id, side.region, kind) for kind in ("route_tables", "subnets")
    )


def _unverifiable(inv: Inventory, p: Peering, unread: list[PeeringSide]) -> Iterator[Unverifiable]:
    read = [s for s in (p.requester, p.accepter) if s not in unread]
    where = read[0] if read else unread[0]
    reasons = []
    for s in unread:
        scope = peer_scope(inv, s.owner_id)
        if s.owner_id not in inv.scanned_accounts and scope == "external":
            why = "an external account outside the Organization"
        elif s.owner_id not in inv.scanned_accounts:
            why = "an account that was not scanned"
        elif (s.owner_id, s.region) not in inv.scanned_regions:
            why = "a region that was not scanned"
        else:
            why = "a region whose route tables or subnets could not be read"
        reasons.append(f"{s.vpc_id} is in {s.owner_id} {s.region}, {why}")
    yield Unverifiable(
        resource=peering_ref(p, where),
        reason=f"routes of {p.peering_id} cannot be checked on both sides: " + "; ".join(reasons),
    )


PENDING_EXPIRING = pending_expiring
ROUTE_ONE_WAY = route_one_way


_ENDED = frozenset({"rejected", "failed", "expired", "deleted", "deleting"})


@rule(
    id="peering-inactive-lingering",
    title="Routes to a peering that has ended",
    severity=Severity.MEDIUM,
    area="peering",
    rationale="""
        When a peering is deleted, rejected, expires or fails, the routes that pointed at it
        stay behind as blackholes. They drop the traffic they match, hide the fact that the
        connection is gone, and get in the way when the same range is later routed elsewhere.
        A table that subnets use (or that a gateway uses as its edge table) drops real
        traffic: medium. A table nothing uses drops nothing yet: low. route-blackhole leaves
        routes to ended peerings to this rule, which tells the peering's story.
    """,
    remediation="""
        Delete the routes (aws ec2 delete-route), or point them at the connection that
        replaced the peering (aws ec2 replace-route). They carry nothing now, so removing them
        cuts no working link; what they matched then follows the next most specific route, so
        check where that goes.
    """,
    evidence=("peering_id", "peering_status", "route_table_id", "destinations", "table_in_use"),
    params=NoParams,
    legitimate=(
        """Routes to a peering still pending-acceptance or provisioning are left alone: routes
        staged before acceptance carry traffic once it is active.""",
        """A route to a peering the scan did not find is judged only where the peering list was
        read: a failed DescribeVpcPeeringConnections is no proof that the peering ended.""",
        """A lingering route in a route table no subnet or gateway uses drops nothing today and
        is graded low.""",
    ),
)
def inactive_lingering(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag route tables still routing to ended or vanished peerings."""
    del params
    by_table: dict[tuple[str, str], list[str]] = {}
    tables = {}
    for t in inv.route_tables:
        for r in t.routes:
            if r.target_type != "vpc-peering-connection":
                continue
            p = inv.peering(r.target_id)
            if p is not None and p.status not in _ENDED:
                continue
            if p is None and not inv.was_read(t.owner_id, t.region, "peerings"):
                continue
            by_table.setdefault((t.route_table_id, r.target_id), []).append(r.destination)
            tables[t.route_table_id] = t
    for (rtb, pcx), destinations in sorted(by_table.items()):
        t = tables[rtb]
        p = inv.peering(pcx)
        status = p.status if p is not None else "gone"
        in_use = bool(t.gateway_ids) or any(
            s.route_table_id == rtb for s in inv.serving_route_tables(t.vpc_id)
        )
        yield Violation(
            resource=route_table_ref(t),
            message=(
                f"Route table {rtb} ({t.vpc_id}) still routes {', '.join(destinations)} to "
                f"peering {pcx}, which is {status}: "
                + (
                    "that traffic is dropped."
                    if in_use
                    else "no subnet or gateway uses the table, so it drops nothing yet."
                )
            ),
            evidence={
                "peering_id": pcx,
                "peering_status": status,
                "route_table_id": rtb,
                "destinations": destinations,
                "table_in_use": in_use,
            },
            remediation="\n".join(
                cli(
                    f"aws ec2 delete-route --route-table-id {q(rtb)} "
                    f"{q(destination_flag(d))} {q(d)}",
                    t.region,
                    t.owner_id,
                )
                for d in destinations
            ),
            severity=None if in_use else Severity.LOW,
            discriminator=pcx,
        )


INACTIVE_LINGERING = inactive_lingering

__all__ = [
    "DNS_RESOLUTION_DISABLED",
    "EXTERNAL_ACCOUNT",
    "INACTIVE_LINGERING",
    "PENDING_EXPIRING",
    "ROUTE_ONE_WAY",
    "Scope",
    "peer_scope",
]
