"""Peering rules: requests about to expire, and routes that only go one way."""

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
    peering_ref,
    route_table_ref,
    side_evidence,
)
from vpcaudit.rules.return_routes import ReturnRoutes, one_way_finding, routed

# A pending request lapses this long after it is made (AWS fixed value).
PENDING_LIFETIME_HOURS = 7 * 24


@dataclass(frozen=True)
class PendingParams:
    """Parameters of peering-pending-expiring."""

    warn_window_hours: float = 48.0
    """A request that expires within this many hours is graded high."""


@rule(
    id="peering-pending-expiring",
    title="Peering request awaiting acceptance",
    severity=Severity.LOW,
    area="peering",
    rationale="""
        A VPC peering request stays in pending-acceptance until the accepter account accepts
        it, and AWS deletes it 7 days after it was made. A request that lapses silently breaks
        the connectivity a team is waiting for and has to be requested again, with new route
        and security-group changes on both sides. Severity rises to high inside the warning
        window; a request whose expiry AWS did not report is flagged medium as unknown.
    """,
    remediation="""
        The accepter account accepts the request (aws ec2 accept-vpc-peering-connection) and
        adds routes on both sides, or rejects it if it is not wanted.
    """,
    evidence=(
        "status",
        "expiration_time",
        "hours_left",
        "expiry_known",
        "requester",
        "accepter",
        "must_accept_account",
        "must_accept_region",
    ),
    params=PendingParams,
)
def pending_expiring(inv: Inventory, params: PendingParams) -> RuleOutput:
    """Flag pending-acceptance requests, graded by the time left before they lapse."""
    for p in inv.peerings:
        if p.status != "pending-acceptance":
            continue
        hours_left: float | None = None
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
        acc = p.accepter
        yield Violation(
            resource=peering_ref(p, _seen_side(inv, p)),
            message=(
                f"Peering {p.peering_id} from {p.requester.vpc_id} ({p.requester.owner_id}) "
                f"awaits acceptance by account {acc.owner_id} in {acc.region}; {when}."
            ),
            evidence={
                "status": p.status,
                "expiration_time": None
                if p.expiration_time is None
                else p.expiration_time.isoformat().replace("+00:00", "Z"),
                "hours_left": None if hours_left is None else round(hours_left, 1),
                "expiry_known": p.expiration_time is not None,
                "requester": side_evidence(inv, p.requester),
                "accepter": side_evidence(inv, acc),
                "must_accept_account": acc.owner_id,
                "must_accept_region": acc.region,
            },
            remediation=cli(
                f"aws ec2 accept-vpc-peering-connection --vpc-peering-connection-id {p.peering_id}",
                acc.region,
                acc.owner_id,
            )
            + "\nor, if unwanted: "
            + cli(
                f"aws ec2 reject-vpc-peering-connection --vpc-peering-connection-id {p.peering_id}",
                acc.region,
                acc.owner_id,
            ),
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
        through the same peering. Left alone: a peering no subnet routes to (unused, not
        one-way), and a subnet whose table has no route through the peering while other tables
        of its VPC do (isolated by design). Both sides are judged, across accounts, when both
        were scanned; when one was not, the check is reported as unverifiable instead of
        guessed.
    """,
    remediation="""
        Add the missing route back through the peering connection, to the sending VPC's CIDR
        block (or the sending subnet's CIDR where a more specific route would shadow the
        block), in each route table the finding names, for the family it names
        (aws ec2 create-route).
    """,
    evidence=("routed_side", "missing_side", "families"),
    params=NoParams,
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
        member = inv.is_org_member(s.owner_id)
        if s.owner_id not in inv.scanned_accounts and member is False:
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


@dataclass(frozen=True)
class ExternalParams:
    """Parameters of peering-external-account."""

    trusted_accounts: tuple[str, ...] = ()
    """Accounts outside the Organization that may peer (partners, vendors)."""


@rule(
    id="peering-external-account",
    title="Peering with an account outside the Organization",
    severity=Severity.MEDIUM,
    area="peering",
    rationale="""
        A peering with an account outside the Organization opens routes into a network the
        organization does not govern. A pending request from such an account is how peer
        phishing works: a look-alike request waits for someone to accept it. Accounts a team
        trusts (partners, vendors) go in the trusted_accounts parameter. When the
        Organization's membership is unknown (a scan without --org), the scanned accounts
        stand in for it and the evidence says so.
    """,
    remediation="Confirm the peer account is known and wanted; reject or delete the peering "
    "if not (aws ec2 reject-vpc-peering-connection / delete-vpc-peering-connection).",
    evidence=("peering_id", "status", "external_side", "internal_side", "basis"),
    params=ExternalParams,
)
def external_account(inv: Inventory, params: ExternalParams) -> RuleOutput:
    """Flag active or pending peerings with an account that is neither a member nor trusted."""
    known = inv.org_account_ids if inv.org_account_ids is not None else inv.scanned_accounts
    basis = "organization" if inv.org_account_ids is not None else "scanned accounts"
    for p in inv.peerings:
        if p.status not in ("active", "pending-acceptance"):
            continue
        for ours, theirs in ((p.requester, p.accepter), (p.accepter, p.requester)):
            if ours.owner_id not in known or theirs.owner_id in known:
                continue
            if theirs.owner_id in params.trusted_accounts:
                continue
            inbound = p.status == "pending-acceptance" and theirs is p.requester
            yield Violation(
                resource=peering_ref(p, ours),
                message=(
                    f"Peering {p.peering_id} ({p.status}) connects {ours.vpc_id} with "
                    f"{theirs.vpc_id} in account {theirs.owner_id}, outside the "
                    f"{basis}"
                    + (": a request from outside awaits acceptance here." if inbound else ".")
                ),
                evidence={
                    "peering_id": p.peering_id,
                    "status": p.status,
                    "external_side": side_evidence(inv, theirs),
                    "internal_side": side_evidence(inv, ours),
                    "basis": basis,
                },
                remediation=cli(
                    f"aws ec2 {'reject' if inbound else 'delete'}-vpc-peering-connection "
                    f"--vpc-peering-connection-id {p.peering_id}",
                    ours.region,
                    ours.owner_id,
                ),
                severity=Severity.HIGH if inbound else None,
                discriminator=ours.vpc_id,
            )


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
    """,
    remediation="Delete the routes (aws ec2 delete-route), or point them at the connection "
    "that replaced the peering.",
    evidence=("peering_id", "peering_status", "route_table_id", "destinations"),
    params=NoParams,
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
        yield Violation(
            resource=route_table_ref(t),
            message=(
                f"Route table {rtb} ({t.vpc_id}) still routes {', '.join(destinations)} to "
                f"peering {pcx}, which is {status}: that traffic is dropped."
            ),
            evidence={
                "peering_id": pcx,
                "peering_status": status,
                "route_table_id": rtb,
                "destinations": destinations,
            },
            remediation="\n".join(
                cli(
                    f"aws ec2 delete-route --route-table-id {rtb} {destination_flag(d)} {d}",
                    t.region,
                    t.owner_id,
                )
                for d in destinations
            ),
            discriminator=pcx,
        )


@rule(
    id="peering-dns-resolution-disabled",
    title="Peering without remote private DNS resolution",
    severity=Severity.LOW,
    area="peering",
    rationale="""
        Without DNS resolution support on a peering, a VPC's instances resolve the peer's
        public DNS names (of instances, RDS, load balancers) to public addresses, so traffic
        meant to stay on the peering leaves through the internet or NAT, or fails, and costs
        more. Each side's owner enables it for its own VPC.
    """,
    remediation="aws ec2 modify-vpc-peering-connection-options with "
    "AllowDnsResolutionFromRemoteVpc=true for each side.",
    evidence=("peering_id", "sides_disabled"),
    params=NoParams,
)
def dns_resolution_disabled(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag active peerings where a side has remote DNS resolution turned off."""
    del params
    for p in inv.peerings:
        if p.status != "active":
            continue
        off = [
            (name, s)
            for name, s in (("requester", p.requester), ("accepter", p.accepter))
            if s.allow_remote_dns is False
        ]
        if not off:
            continue
        where = next((s for _, s in off if s.owner_id in inv.scanned_accounts), off[0][1])
        flags = {
            "requester": "--requester-peering-connection-options",
            "accepter": "--accepter-peering-connection-options",
        }
        yield Violation(
            resource=peering_ref(p, where),
            message=(
                f"Peering {p.peering_id}: remote DNS resolution is off for "
                + " and ".join(f"the {name} ({s.vpc_id})" for name, s in off)
                + "."
            ),
            evidence={
                "peering_id": p.peering_id,
                "sides_disabled": [
                    {"side": name, "vpc_id": s.vpc_id, "account_id": s.owner_id} for name, s in off
                ],
            },
            remediation="\n".join(
                cli(
                    f"aws ec2 modify-vpc-peering-connection-options --vpc-peering-connection-id "
                    f"{p.peering_id} {flags[name]} AllowDnsResolutionFromRemoteVpc=true",
                    s.region,
                    s.owner_id,
                )
                for name, s in off
            ),
        )


EXTERNAL_ACCOUNT = external_account
INACTIVE_LINGERING = inactive_lingering
DNS_RESOLUTION_DISABLED = dns_resolution_disabled
