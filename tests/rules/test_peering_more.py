"""peering-external-account, peering-inactive-lingering, peering-dns-resolution-disabled."""

from __future__ import annotations

import pytest

from tests.builders import (
    ACCOUNT,
    EXTERNAL_ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    Side,
    SnapshotBuilder,
    route,
    run_rule,
)
from vpcaudit.evaluate import Evaluation
from vpcaudit.model import Finding, Severity
from vpcaudit.rules.peering import (
    DNS_RESOLUTION_DISABLED,
    INACTIVE_LINGERING,
)
from vpcaudit.rules.peering import (
    EXTERNAL_ACCOUNT as EXTERNAL_ACCOUNT_RULE,
)

ORG = (ACCOUNT, OTHER_ACCOUNT)
EXTERNAL_SIDE = Side(EXTERNAL_ACCOUNT, OTHER_REGION, "vpc-ext", ("10.99.0.0/16",))


def only(result: Evaluation) -> Finding:
    """The single finding, failing the test when there are none or several."""
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def cmd(command: str, account: str = ACCOUNT, region: str = REGION) -> str:
    """An AWS CLI line as the rules write it."""
    return f"{command} --region {region}  # as account {account}"


# -- peering-external-account ---------------------------------------------------------------


def with_external(
    status: str = "active", *, inbound: bool = False, org: tuple[str, ...] | None = ORG
) -> SnapshotBuilder:
    """vpc-a (ours) peered by pcx-ext with vpc-ext of EXTERNAL_ACCOUNT; inbound: the
    external account requested it."""
    b = SnapshotBuilder(org_account_ids=org).vpc("vpc-a", "10.0.0.0/16")
    if inbound:
        return b.peering("pcx-ext", EXTERNAL_SIDE, "vpc-a", status=status)
    return b.peering("pcx-ext", "vpc-a", EXTERNAL_SIDE, status=status)


def test_active_peering_with_external_account_is_medium() -> None:
    f = only(run_rule(EXTERNAL_ACCOUNT_RULE, with_external().build()))
    assert f.rule_id == "peering-external-account"
    assert f.severity is Severity.MEDIUM
    assert f.resource.resource_type == "vpc-peering-connection"
    assert f.resource.resource_id == "pcx-ext"
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)
    assert f.resource.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-peering-connection/pcx-ext"
    assert f.evidence["peering_id"] == "pcx-ext"
    assert f.evidence["status"] == "active"
    assert f.evidence["basis"] == "organization"
    assert f.evidence["external_side"]["account_id"] == EXTERNAL_ACCOUNT
    assert f.evidence["external_side"]["vpc_id"] == "vpc-ext"
    assert f.evidence["external_side"]["in_organization"] is False
    assert f.evidence["external_side"]["scanned"] is False
    assert f.evidence["internal_side"]["vpc_id"] == "vpc-a"
    assert f.evidence["internal_side"]["in_organization"] is True
    assert EXTERNAL_ACCOUNT in f.message
    # Deleting an active peering cuts a working link: the command comes after a confirm line.
    assert f.remediation.splitlines() == [
        f"# Confirm account {EXTERNAL_ACCOUNT} is not a wanted partner (list one in "
        "trusted_accounts); only if it is not, delete the peering:",
        cmd("aws ec2 delete-vpc-peering-connection --vpc-peering-connection-id pcx-ext"),
    ]


def test_inbound_pending_request_from_external_account_is_high() -> None:
    f = only(
        run_rule(EXTERNAL_ACCOUNT_RULE, with_external("pending-acceptance", inbound=True).build())
    )
    assert f.severity is Severity.HIGH
    assert f.evidence["status"] == "pending-acceptance"
    assert f.evidence["internal_side"]["vpc_id"] == "vpc-a"
    assert "awaits acceptance here" in f.message
    assert f.remediation == cmd(
        "aws ec2 reject-vpc-peering-connection --vpc-peering-connection-id pcx-ext"
    )


def test_outbound_pending_request_to_external_account_is_medium() -> None:
    f = only(run_rule(EXTERNAL_ACCOUNT_RULE, with_external("pending-acceptance").build()))
    assert f.severity is Severity.MEDIUM
    assert "delete-vpc-peering-connection" in f.remediation


def test_trusted_accounts_parameter_suppresses() -> None:
    snap = with_external().build()
    assert (
        run_rule(EXTERNAL_ACCOUNT_RULE, snap, trusted_accounts=(EXTERNAL_ACCOUNT,)).findings == ()
    )
    # Trusting someone else changes nothing.
    other = run_rule(EXTERNAL_ACCOUNT_RULE, snap, trusted_accounts=("888888888888",))
    assert len(other.findings) == 1


def test_peering_inside_the_organization_is_fine_even_if_not_scanned() -> None:
    snap = (
        SnapshotBuilder(org_account_ids=(*ORG, "333333333333"))
        .vpc("vpc-a", "10.0.0.0/16")
        .peering("pcx-1", "vpc-a", Side("333333333333", REGION, "vpc-c", ("10.3.0.0/16",)))
        .build()
    )
    assert run_rule(EXTERNAL_ACCOUNT_RULE, snap).findings == ()


@pytest.mark.parametrize("status", ["deleted", "rejected", "expired", "failed"])
def test_ended_peerings_with_external_accounts_are_not_flagged(status: str) -> None:
    assert run_rule(EXTERNAL_ACCOUNT_RULE, with_external(status).build()).findings == ()


def test_org_unknown_uses_scanned_accounts_as_basis() -> None:
    # Without --org an account that was not scanned is not known to be outside (issue 11,
    # item 1): a low "confirm" finding that says its basis, never a high one.
    f = only(run_rule(EXTERNAL_ACCOUNT_RULE, with_external(org=None).build()))
    assert f.severity is Severity.LOW
    assert f.evidence["basis"] == "scanned accounts"
    assert f.evidence["peer_scope"] == "unknown"
    assert f.evidence["external_side"]["in_organization"] is None
    assert "organization membership unknown: scanned accounts only" in f.message
    assert "Confirm this account" in f.message


def test_org_unknown_peering_between_scanned_accounts_is_fine() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .vpc("vpc-b", "10.1.0.0/16", account=OTHER_ACCOUNT)
        .peering("pcx-1", "vpc-a", "vpc-b")
        .build()
    )
    assert run_rule(EXTERNAL_ACCOUNT_RULE, snap).findings == ()


def test_peering_seen_only_from_the_external_side_is_not_ours_to_flag() -> None:
    # Neither side is in the Organization: nothing of ours is exposed.
    snap = (
        SnapshotBuilder(org_account_ids=ORG)
        .scan()
        .peering(
            "pcx-x",
            Side("888888888888", REGION, "vpc-p", ("10.7.0.0/16",)),
            EXTERNAL_SIDE,
            seen_from=[(ACCOUNT, REGION)],
        )
        .build()
    )
    assert run_rule(EXTERNAL_ACCOUNT_RULE, snap).findings == ()


# -- peering-inactive-lingering -------------------------------------------------------------


def lingering(status: str, *, route_state: str = "blackhole") -> SnapshotBuilder:
    """vpc-a's serving table rtb-a still routes to vpc-b through pcx-1, in `status`."""
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .vpc("vpc-b", "10.1.0.0/16", secondary=("10.2.0.0/16",), account=OTHER_ACCOUNT)
        .subnet("subnet-a1", "vpc-a")
        .peering("pcx-1", "vpc-a", "vpc-b", status=status)
        .route_table(
            "rtb-a",
            "vpc-a",
            subnets=["subnet-a1"],
            routes=[
                route("10.1.0.0/16", "pcx-1", state=route_state),
                route("10.2.0.0/16", "pcx-1", state=route_state),
                route("0.0.0.0/0", "nat-0a"),
            ],
        )
    )


@pytest.mark.parametrize("status", ["deleted", "rejected", "expired", "failed", "deleting"])
def test_routes_to_an_ended_peering_are_flagged(status: str) -> None:
    f = only(run_rule(INACTIVE_LINGERING, lingering(status).build()))
    assert f.rule_id == "peering-inactive-lingering"
    assert f.severity is Severity.MEDIUM
    assert (f.resource.resource_type, f.resource.resource_id) == ("route-table", "rtb-a")
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)
    assert f.evidence == {
        "peering_id": "pcx-1",
        "peering_status": status,
        "route_table_id": "rtb-a",
        "destinations": ["10.1.0.0/16", "10.2.0.0/16"],
        "table_in_use": True,
    }
    assert f"which is {status}" in f.message
    assert f.remediation.splitlines() == [
        cmd("aws ec2 delete-route --route-table-id rtb-a --destination-cidr-block 10.1.0.0/16"),
        cmd("aws ec2 delete-route --route-table-id rtb-a --destination-cidr-block 10.2.0.0/16"),
    ]


def test_route_state_does_not_matter_once_the_peering_ended() -> None:
    f = only(run_rule(INACTIVE_LINGERING, lingering("deleted", route_state="active").build()))
    assert f.evidence["peering_status"] == "deleted"


def test_peering_entirely_gone_while_peerings_were_read() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .route_table(
            "rtb-a",
            "vpc-a",
            main=True,
            routes=[route("fd00:1::/64", "pcx-0vanished", state="blackhole")],
        )
        .build()
    )
    f = only(run_rule(INACTIVE_LINGERING, snap))
    assert f.evidence["peering_status"] == "gone"
    assert f.evidence["peering_id"] == "pcx-0vanished"
    assert f.remediation == cmd(
        "aws ec2 delete-route --route-table-id rtb-a --destination-ipv6-cidr-block fd00:1::/64"
    )


def test_peering_gone_but_peerings_not_read_is_not_judged() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .route_table(
            "rtb-a",
            "vpc-a",
            main=True,
            routes=[route("10.1.0.0/16", "pcx-0unknown", state="blackhole")],
        )
        .gap("DescribeVpcPeeringConnections")
        .build()
    )
    assert run_rule(INACTIVE_LINGERING, snap).findings == ()


@pytest.mark.parametrize("status", ["active", "pending-acceptance", "provisioning"])
def test_routes_to_a_live_peering_are_fine(status: str) -> None:
    assert (
        run_rule(INACTIVE_LINGERING, lingering(status, route_state="active").build()).findings == ()
    )


def test_lingering_route_in_a_table_nothing_uses_is_low() -> None:
    # rtb-a serves subnet-a1 explicitly; rtb-idle is neither main nor associated.
    snap = (
        lingering("deleted")
        .route_table("rtb-idle", "vpc-a", routes=[route("10.1.0.0/16", "pcx-1", state="blackhole")])
        .build()
    )
    by_table = {f.resource.resource_id: f for f in run_rule(INACTIVE_LINGERING, snap).findings}
    assert by_table["rtb-a"].severity is Severity.MEDIUM
    assert by_table["rtb-idle"].severity is Severity.LOW
    assert by_table["rtb-idle"].evidence["table_in_use"] is False
    assert "drops nothing yet" in by_table["rtb-idle"].message


def test_lingering_route_in_a_gateway_edge_table_is_in_use() -> None:
    snap = (
        lingering("deleted")
        .route_table(
            "rtb-edge",
            "vpc-a",
            gateways=["igw-a"],
            routes=[route("10.1.0.0/16", "pcx-1", state="blackhole")],
        )
        .build()
    )
    by_table = {f.resource.resource_id: f for f in run_rule(INACTIVE_LINGERING, snap).findings}
    assert by_table["rtb-edge"].severity is Severity.MEDIUM


def test_one_finding_per_table_and_peering() -> None:
    snap = (
        lingering("deleted")
        .vpc("vpc-c", "10.3.0.0/16")
        .peering("pcx-2", "vpc-a", "vpc-c", status="rejected")
        .route_table(
            "rtb-a2", "vpc-a", main=True, routes=[route("10.3.0.0/16", "pcx-2", state="blackhole")]
        )
        .build()
    )
    result = run_rule(INACTIVE_LINGERING, snap)
    assert sorted(
        (f.resource.resource_id, f.evidence["peering_id"], f.evidence["peering_status"])
        for f in result.findings
    ) == [("rtb-a", "pcx-1", "deleted"), ("rtb-a2", "pcx-2", "rejected")]


# -- peering-dns-resolution-disabled --------------------------------------------------------


def dns(requester: bool | None, accepter: bool | None, status: str = "active") -> SnapshotBuilder:
    """vpc-a (requester, ours) and vpc-b (accepter, OTHER_ACCOUNT) with the DNS options."""
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .vpc("vpc-b", "10.1.0.0/16", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .peering(
            "pcx-1", "vpc-a", "vpc-b", status=status, requester_dns=requester, accepter_dns=accepter
        )
    )


CHECK_FIRST = (
    "# Check first that the peer routes this side's CIDR through the peering and this side's "
    "security groups and network ACLs admit the peer's CIDR (both VPCs need DNS hostnames and "
    "DNS resolution on):"
)


def no_route(peer: str, side: str) -> str:
    """The warning written before a side's command when its peer routes nothing through pcx-1."""
    return (
        f"# {peer} has no active route through pcx-1: turning this on would make {side}'s "
        f"public hostnames resolve to private addresses {peer} cannot reach; add its routes "
        "first, or leave it off"
    )


def test_dns_off_on_the_accepter_side_only() -> None:
    # Issue 11, item 18: no sign the option is needed (no public addresses, no routes): info.
    f = only(run_rule(DNS_RESOLUTION_DISABLED, dns(True, False).build()))
    assert f.rule_id == "peering-dns-resolution-disabled"
    assert f.severity is Severity.INFO
    assert f.resource.resource_type == "vpc-peering-connection"
    assert f.resource.resource_id == "pcx-1"
    assert (f.resource.account_id, f.resource.region) == (OTHER_ACCOUNT, OTHER_REGION)
    assert f.evidence == {
        "peering_id": "pcx-1",
        "sides_disabled": [
            {
                "side": "accepter",
                "vpc_id": "vpc-b",
                "account_id": OTHER_ACCOUNT,
                "public_interfaces": 0,
                "routed_from_peer": 0,
            }
        ],
        "signs": [],
        "cross_region": True,
    }
    assert "the accepter (vpc-b)" in f.message
    assert f.remediation.splitlines() == [
        CHECK_FIRST,
        no_route("vpc-a", "vpc-b"),
        cmd(
            "aws ec2 modify-vpc-peering-connection-options --vpc-peering-connection-id pcx-1 "
            "--accepter-peering-connection-options AllowDnsResolutionFromRemoteVpc=true",
            OTHER_ACCOUNT,
            OTHER_REGION,
        ),
    ]


def test_dns_off_on_the_requester_side_only() -> None:
    f = only(run_rule(DNS_RESOLUTION_DISABLED, dns(False, True).build()))
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)
    assert f.evidence["sides_disabled"] == [
        {
            "side": "requester",
            "vpc_id": "vpc-a",
            "account_id": ACCOUNT,
            "public_interfaces": 0,
            "routed_from_peer": 0,
        }
    ]
    assert "--requester-peering-connection-options" in f.remediation


def test_dns_off_on_both_sides_names_both_with_a_command_each() -> None:
    f = only(run_rule(DNS_RESOLUTION_DISABLED, dns(False, False).build()))
    assert [s["side"] for s in f.evidence["sides_disabled"]] == ["requester", "accepter"]
    assert "the requester (vpc-a) and the accepter (vpc-b)" in f.message
    assert f.remediation.splitlines() == [
        CHECK_FIRST,
        no_route("vpc-b", "vpc-a"),
        cmd(
            "aws ec2 modify-vpc-peering-connection-options --vpc-peering-connection-id pcx-1 "
            "--requester-peering-connection-options AllowDnsResolutionFromRemoteVpc=true"
        ),
        no_route("vpc-a", "vpc-b"),
        cmd(
            "aws ec2 modify-vpc-peering-connection-options --vpc-peering-connection-id pcx-1 "
            "--accepter-peering-connection-options AllowDnsResolutionFromRemoteVpc=true",
            OTHER_ACCOUNT,
            OTHER_REGION,
        ),
    ]


def test_finding_is_located_on_a_scanned_side() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .peering(
            "pcx-1",
            Side(EXTERNAL_ACCOUNT, OTHER_REGION, "vpc-ext", ("10.99.0.0/16",)),
            "vpc-a",
            requester_dns=False,
            accepter_dns=False,
        )
        .build()
    )
    f = only(run_rule(DNS_RESOLUTION_DISABLED, snap))
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)


def test_dns_on_both_sides_is_fine() -> None:
    assert run_rule(DNS_RESOLUTION_DISABLED, dns(True, True).build()).findings == ()


def test_options_not_reported_are_not_judged() -> None:
    assert run_rule(DNS_RESOLUTION_DISABLED, dns(None, None).build()).findings == ()


@pytest.mark.parametrize("status", ["pending-acceptance", "deleted", "failed"])
def test_inactive_peerings_are_not_judged(status: str) -> None:
    assert run_rule(DNS_RESOLUTION_DISABLED, dns(False, False, status).build()).findings == ()
