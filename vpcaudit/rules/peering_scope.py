"""Whose account a peer is (ours, trusted, outside, unknown) and the rule for peerings with
accounts outside the Organization."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from vpcaudit.inventory import Inventory
from vpcaudit.model import Severity, Violation
from vpcaudit.rules.base import RuleOutput, rule
from vpcaudit.rules.common import (
    cli,
    note,
    peering_ref,
    q,
    side_evidence,
)

Scope = Literal["internal", "trusted", "external", "unknown"]


def peer_scope(inv: Inventory, account_id: str, trusted: Collection[str] = ()) -> Scope:
    """Whose account this is, as far as the scan can tell.

    internal: a member of the Organization (membership known, --org), or, when membership is
    unknown, a scanned account. trusted: listed in trusted_accounts. external: known to be
    outside the Organization. unknown: membership unknown and not scanned, so possibly a
    sibling account of the same Organization.
    """
    member = inv.is_org_member(account_id)
    if member:
        return "internal"
    if account_id in trusted:
        return "trusted"
    if member is False:
        return "external"
    return "internal" if account_id in inv.scanned_accounts else "unknown"


def _membership(inv: Inventory) -> str:
    """What the scan knows of the Organization's membership, for messages and evidence."""
    if inv.org_account_ids is not None:
        return "organization membership known (--org)"
    return "organization membership unknown: scanned accounts only"


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
        phishing works: a look-alike request waits for someone to accept it, so it is graded
        high. Accounts a team trusts (partners, vendors) go in the trusted_accounts parameter.
        The Organization's membership is known only in a scan with --org. Without it, an
        account that was not scanned is not known to be outside: it may be a sibling account
        of the same Organization, so the peering gets a low finding asking to confirm that
        account, never a high one, and the evidence says the basis.
    """,
    remediation="""
        Confirm the peer account is known and wanted: scan with --org to know the
        Organization's members, and list a wanted partner in trusted_accounts. Only if it is
        neither, reject the request or delete the peering (aws ec2
        reject-vpc-peering-connection / delete-vpc-peering-connection); a pending request may
        also simply be left to lapse.
    """,
    evidence=("peering_id", "status", "external_side", "internal_side", "basis", "peer_scope"),
    params=ExternalParams,
    legitimate=(
        """Peerings between accounts of the Organization are left alone, whether or not the
        other account was scanned (with --org); without --org, peerings between scanned
        accounts are.""",
        """Partner and vendor accounts listed in trusted_accounts are left alone.""",
        """Without --org, an account that was not scanned may be a sibling of the same
        Organization: it gets a low "confirm this account" finding, never a high one.""",
        """A peering between two accounts that are not yours, merely listed where a scanned
        account could see it, is not reported: nothing of yours is exposed.""",
        """Ended peerings (rejected, expired, failed, deleted) are left alone.""",
    ),
)
def external_account(inv: Inventory, params: ExternalParams) -> RuleOutput:
    """Flag active or pending peerings with an account that is neither ours nor trusted."""
    basis = "organization" if inv.org_account_ids is not None else "scanned accounts"
    for p in inv.peerings:
        if p.status not in ("active", "pending-acceptance"):
            continue
        for ours, theirs in ((p.requester, p.accepter), (p.accepter, p.requester)):
            if peer_scope(inv, ours.owner_id) != "internal":
                continue
            scope = peer_scope(inv, theirs.owner_id, params.trusted_accounts)
            if scope in ("internal", "trusted"):
                continue
            inbound = p.status == "pending-acceptance" and theirs is p.requester
            action = cli(
                f"aws ec2 {q('reject' if inbound else 'delete')}-vpc-peering-connection "
                f"--vpc-peering-connection-id {q(p.peering_id)}",
                ours.region,
                ours.owner_id,
            )
            if scope == "external":
                where = "outside the organization"
                severity = Severity.HIGH if inbound else None
                ask = ""
                remediation = action
                if p.status == "active":
                    # Deleting an active peering cuts a working link: confirm it first.
                    remediation = (
                        note(
                            f"# Confirm account {theirs.owner_id} is not a wanted partner (list "
                            "one in trusted_accounts); only if it is not, delete the peering:"
                        )
                        + "\n"
                        + action
                    )
            else:
                where = f"which was not scanned ({_membership(inv)})"
                # Unknown is not guilty: a sibling account looks exactly like this.
                severity = Severity.LOW
                ask = " Confirm this account: it may belong to the same Organization."
                remediation = (
                    note(
                        f"# Confirm account {theirs.owner_id}: scan with --org to know the "
                        "Organization's members, or list it in trusted_accounts if it is a wanted "
                        "partner."
                    )
                    + "\n"
                    "# Only if it is neither, "
                    + ("reject the request (or let it lapse):\n" if inbound else "delete it:\n")
                    + action
                )
            yield Violation(
                resource=peering_ref(p, ours),
                message=(
                    f"Peering {p.peering_id} ({p.status}) connects {ours.vpc_id} with "
                    f"{theirs.vpc_id} in account {theirs.owner_id}, {where}"
                    + (": a request from it awaits acceptance here." if inbound else ".")
                    + ask
                ),
                evidence={
                    "peering_id": p.peering_id,
                    "status": p.status,
                    "external_side": side_evidence(inv, theirs),
                    "internal_side": side_evidence(inv, ours),
                    "basis": basis,
                    "peer_scope": scope,
                },
                remediation=remediation,
                severity=severity,
                discriminator=ours.vpc_id,
            )


EXTERNAL_ACCOUNT = external_account
