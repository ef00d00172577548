"""Issue 11, items 1, 2 and 18: the peering rules' false alarms and unsafe advice.

Each expectation was written from AWS's documentation before the rule was run:

- Organization membership is known only with --org; without it an account that was not
  scanned may be a sibling in the same Organization (item 1).
- A pending request expires 7 days after it is made (ExpirationTime); a request nobody
  accepts simply lapses, which is the safe outcome for one from an unknown party (item 2).
- AllowDnsResolutionFromRemoteVpc on a side: "the public DNS hostnames of instances in the
  specified VPC resolve to private IP addresses when queried from instances in the peer VPC"
  (EC2 API, PeeringConnectionOptions). Only a VPC with public IPv4 addresses has such hostnames,
  and the private address they resolve to is reached only if the peer routes it through the
  peering (item 18). The option works across regions like within one.
"""

from __future__ import annotations

from tests.builders import (
    ACCOUNT,
    EXTERNAL_ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    Side,
    SnapshotBuilder,
    hours_from_now,
    route,
    run_rule,
)
from vpcaudit.evaluate import Evaluation
from vpcaudit.model import Finding, Severity
from vpcaudit.rules import peering
from vpcaudit.rules.peering import (
    DNS_RESOLUTION_DISABLED,
    PENDING_EXPIRING,
)
from vpcaudit.rules.peering import (
    EXTERNAL_ACCOUNT as EXTERNAL_RULE,
)

ORG = (ACCOUNT, OTHER_ACCOUNT)
SIBLING = Side(OTHER_ACCOUNT, REGION, "vpc-sib", ("10.1.0.0/16",))
"""A VPC of a sibling account of the same Organization, not scanned."""
OUTSIDER = Side(EXTERNAL_ACCOUNT, REGION, "vpc-ext", ("10.99.0.0/16",))
"""A VPC of an account outside the Organization."""


def only(result: Evaluation) -> Finding:
    """The single finding, failing the test when there are none or several."""
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def first_line(text: str) -> str:
    return text.splitlines()[0]


def inbound(
    requester: Side, *, org: tuple[str, ...] | None, expires: float | None = 20.0
) -> SnapshotBuilder:
    """vpc-a (scanned, ACCOUNT) has a pending request from `requester` awaiting acceptance."""
    return (
        SnapshotBuilder(org_account_ids=org)
        .vpc("vpc-a", "10.0.0.0/16", name="app")
        .peering(
            "pcx-in",
            requester,
            "vpc-a",
            status="pending-acceptance",
            expires=None if expires is None else hours_from_now(expires),
        )
    )


# -- item 1: peering-external-account without Organization membership ----------------------


def test_item1_sibling_request_without_org_is_a_low_confirm_not_high() -> None:
    # The topology: no --org, a pending request from a sibling account not scanned.
    f = only(run_rule(EXTERNAL_RULE, inbound(SIBLING, org=None).build()))
    assert f.severity is Severity.LOW
    assert f.evidence["basis"] == "scanned accounts"
    assert f.evidence["peer_scope"] == "unknown"
    assert f.evidence["external_side"]["in_organization"] is None
    assert f.evidence["external_side"]["scanned"] is False
    assert "organization membership unknown: scanned accounts only" in f.message
    assert "confirm" in f.message.lower()
    assert OTHER_ACCOUNT in f.message
    # Confirming comes first; the reject command only if it is neither ours nor wanted.
    assert first_line(f.remediation).startswith("# Confirm account 222222222222")
    assert "--org" in f.remediation
    assert "trusted_accounts" in f.remediation
    assert not f.remediation.startswith("aws ")
    assert "reject-vpc-peering-connection --vpc-peering-connection-id pcx-in" in f.remediation


def test_item1_variant_active_ipv6_peering_in_another_region_without_org() -> None:
    # Another shape: active, requested by us, to an IPv6-only VPC in another region of an
    # account not scanned. Deleting it would cut a working link if that account is a sibling.
    far = Side(OTHER_ACCOUNT, OTHER_REGION, "vpc-v6", ("2600:1f18:77::/56",))
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", ipv6=["2600:1f18:a::/56"])
        .peering("pcx-v6", "vpc-a", far)
        .build()
    )
    f = only(run_rule(EXTERNAL_RULE, snap))
    assert f.severity is Severity.LOW
    assert f.evidence["peer_scope"] == "unknown"
    assert f.evidence["external_side"]["region"] == OTHER_REGION
    lines = f.remediation.splitlines()
    assert lines[0].startswith("# Confirm account 222222222222")
    delete = [i for i, line in enumerate(lines) if "delete-vpc-peering-connection" in line]
    assert delete and delete[0] > 0
    assert lines[delete[0] - 1].startswith("# Only if")


def test_item1_with_org_membership_known_keeps_todays_grading() -> None:
    # With --org the outsider is known to be outside: inbound pending stays high.
    f = only(run_rule(EXTERNAL_RULE, inbound(OUTSIDER, org=ORG).build()))
    assert f.severity is Severity.HIGH
    assert f.evidence["basis"] == "organization"
    assert f.evidence["peer_scope"] == "external"
    # And the sibling, now a known member, is not flagged at all.
    assert run_rule(EXTERNAL_RULE, inbound(SIBLING, org=ORG).build()).findings == ()


def test_item1_trusted_account_is_exempt_without_org_too() -> None:
    snap = inbound(SIBLING, org=None).build()
    assert run_rule(EXTERNAL_RULE, snap, trusted_accounts=(OTHER_ACCOUNT,)).findings == ()


def test_item1_unknown_never_high_whatever_the_status() -> None:
    for status in ("active", "pending-acceptance"):
        snap = (
            SnapshotBuilder()
            .vpc("vpc-a", "10.0.0.0/16")
            .peering("pcx-x", SIBLING, "vpc-a", status=status)
            .build()
        )
        assert only(run_rule(EXTERNAL_RULE, snap)).severity is Severity.LOW, status


# -- item 2: peering-pending-expiring for a request from outside --------------------------


def test_item2_external_request_expiring_in_20h_is_low_and_not_accept_first() -> None:
    # The topology: --org known, a request from outside that expires in 20 h.
    snap = inbound(OUTSIDER, org=ORG, expires=20).build()
    f = only(run_rule(PENDING_EXPIRING, snap))
    assert f.severity is Severity.LOW
    assert f.evidence["requester_scope"] == "external"
    assert f.evidence["hours_left"] == 20.0
    lines = f.remediation.splitlines()
    assert lines[0].startswith("# Confirm with the owner of account 999999999999")
    assert "accept" not in lines[0].split(";")[0]
    accept = next(i for i, x in enumerate(lines) if "accept-vpc-peering-connection" in x)
    reject = next(i for i, x in enumerate(lines) if "reject-vpc-peering-connection" in x)
    assert lines[accept - 1].startswith("# Only if it is wanted")
    assert "lapse" in lines[reject - 1]
    assert "outside the Organization" in f.message
    # peering-external-account grades the same request, and agrees: reject, never accept.
    other = only(run_rule(EXTERNAL_RULE, snap))
    assert other.severity is Severity.HIGH
    assert "accept-vpc-peering-connection" not in other.remediation
    assert "reject-vpc-peering-connection" in other.remediation


def test_item2_variant_external_request_from_another_region_already_expired() -> None:
    # Another shape: the outsider's VPC is in another region and the request has passed its
    # expiry: still low, still not "accept".
    far = Side(EXTERNAL_ACCOUNT, OTHER_REGION, "vpc-ext-eu", ("172.20.0.0/16",))
    f = only(run_rule(PENDING_EXPIRING, inbound(far, org=ORG, expires=-2).build()))
    assert f.severity is Severity.LOW
    assert not f.remediation.startswith("aws ec2 accept")
    assert "passed its expiry time" in f.message


def test_item2_trusted_partner_request_keeps_the_internal_behaviour() -> None:
    snap = inbound(OUTSIDER, org=ORG, expires=20).build()
    f = only(run_rule(PENDING_EXPIRING, snap, trusted_accounts=(EXTERNAL_ACCOUNT,)))
    assert f.severity is Severity.HIGH
    assert f.evidence["requester_scope"] == "trusted"
    assert f.remediation.startswith("aws ec2 accept-vpc-peering-connection")


def test_item2_unknown_requester_without_org_confirms_first_and_is_not_high() -> None:
    # No --org and the requester was not scanned: it may be a sibling or an outsider.
    f = only(run_rule(PENDING_EXPIRING, inbound(SIBLING, org=None, expires=10).build()))
    assert f.severity is Severity.MEDIUM
    assert f.evidence["requester_scope"] == "unknown"
    assert first_line(f.remediation).startswith(
        "# Confirm the requester account 222222222222 first"
    )
    assert "accept-vpc-peering-connection" in f.remediation
    assert not f.remediation.startswith("aws ec2 accept")


def test_item2_unknown_requester_outside_the_window_stays_low() -> None:
    f = only(run_rule(PENDING_EXPIRING, inbound(SIBLING, org=None, expires=100).build()))
    assert f.severity is Severity.LOW


def test_item2_internal_request_keeps_high_and_accept_first() -> None:
    # Both sides in the Organization (the requester not scanned): today's behaviour.
    f = only(run_rule(PENDING_EXPIRING, inbound(SIBLING, org=ORG, expires=20).build()))
    assert f.severity is Severity.HIGH
    assert f.evidence["requester_scope"] == "internal"
    assert f.remediation.startswith("aws ec2 accept-vpc-peering-connection")


def test_item2_internal_without_org_when_both_were_scanned() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .vpc("vpc-b", "10.1.0.0/16", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .peering("pcx-1", "vpc-b", "vpc-a", status="pending-acceptance", expires=hours_from_now(5))
        .build()
    )
    f = only(run_rule(PENDING_EXPIRING, snap))
    assert f.severity is Severity.HIGH
    assert f.remediation.startswith("aws ec2 accept-vpc-peering-connection")


# -- item 18: peering-dns-resolution-disabled ---------------------------------------------


def routed_pair(*, region_b: str = REGION) -> SnapshotBuilder:
    """vpc-a (ACCOUNT) and vpc-b (OTHER_ACCOUNT) peered by pcx-1 at AWS's defaults (remote DNS
    resolution off on both sides), each routing the other's CIDR through it."""
    return (
        SnapshotBuilder(org_account_ids=ORG)
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .route_table(
            "rtb-a", "vpc-a", subnets=["subnet-a1"], routes=[route("10.1.0.0/16", "pcx-1")]
        )
        .vpc("vpc-b", "10.1.0.0/16", account=OTHER_ACCOUNT, region=region_b)
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24", account=OTHER_ACCOUNT, region=region_b)
        .route_table(
            "rtb-b",
            "vpc-b",
            subnets=["subnet-b1"],
            routes=[route("10.0.0.0/16", "pcx-1")],
            account=OTHER_ACCOUNT,
            region=region_b,
        )
        .peering("pcx-1", "vpc-a", "vpc-b")
    )


def test_item18_defaults_without_a_sign_are_info() -> None:
    # The topology: a peering left at AWS defaults, used by private addresses.
    f = only(run_rule(DNS_RESOLUTION_DISABLED, routed_pair().build()))
    assert f.severity is Severity.INFO
    assert f.evidence["signs"] == []
    assert [s["side"] for s in f.evidence["sides_disabled"]] == ["requester", "accepter"]
    assert all(s["public_interfaces"] == 0 for s in f.evidence["sides_disabled"])


def test_item18_variant_cross_region_alone_is_no_sign() -> None:
    f = only(run_rule(DNS_RESOLUTION_DISABLED, routed_pair(region_b=OTHER_REGION).build()))
    assert f.severity is Severity.INFO
    assert f.evidence["cross_region"] is True


def test_item18_public_instance_routed_from_the_peer_is_low() -> None:
    # vpc-b has an instance with a public IPv4 address (so a public hostname), and vpc-a routes
    # its private address through the peering: vpc-a resolving that name gets the public
    # address and leaves through the internet instead of the peering.
    snap = (
        routed_pair()
        .network_interface(
            "eni-b1",
            "subnet-b1",
            private_ip="10.1.1.10",
            public_ip="54.0.0.10",
            instance_id="i-b1",
            account=OTHER_ACCOUNT,
        )
        .build()
    )
    f = only(run_rule(DNS_RESOLUTION_DISABLED, snap))
    assert f.severity is Severity.LOW
    by_side = {s["side"]: s for s in f.evidence["sides_disabled"]}
    assert by_side["accepter"]["public_interfaces"] == 1
    assert by_side["accepter"]["routed_from_peer"] == 1
    assert by_side["requester"]["public_interfaces"] == 0
    assert len(f.evidence["signs"]) == 1
    assert "vpc-b" in f.evidence["signs"][0]
    assert "--accepter-peering-connection-options AllowDnsResolutionFromRemoteVpc=true" in (
        f.remediation
    )


def test_item18_public_instance_the_peer_does_not_route_to_stays_info_and_warns() -> None:
    # vpc-a has no route to vpc-b through the peering: turning the option on would make vpc-b's
    # public hostnames resolve to private addresses vpc-a cannot reach.
    snap = (
        SnapshotBuilder(org_account_ids=ORG)
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .route_table("rtb-a", "vpc-a", subnets=["subnet-a1"], routes=[route("0.0.0.0/0", "igw-a")])
        .vpc("vpc-b", "10.1.0.0/16", account=OTHER_ACCOUNT)
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24", account=OTHER_ACCOUNT)
        .route_table(
            "rtb-b",
            "vpc-b",
            subnets=["subnet-b1"],
            routes=[route("0.0.0.0/0", "igw-b")],
            account=OTHER_ACCOUNT,
        )
        .network_interface(
            "eni-b1",
            "subnet-b1",
            private_ip="10.1.1.10",
            public_ip="54.0.0.10",
            instance_id="i-b1",
            account=OTHER_ACCOUNT,
        )
        .peering("pcx-1", "vpc-a", "vpc-b")
        .build()
    )
    f = only(run_rule(DNS_RESOLUTION_DISABLED, snap))
    assert f.severity is Severity.INFO
    accepter = next(s for s in f.evidence["sides_disabled"] if s["side"] == "accepter")
    assert accepter["public_interfaces"] == 1
    assert accepter["routed_from_peer"] == 0
    assert "cannot reach" in f.remediation


def test_item18_nat_gateway_public_address_is_no_sign() -> None:
    snap = (
        routed_pair()
        .network_interface(
            "eni-nat",
            "subnet-b1",
            private_ip="10.1.1.20",
            public_ip="54.0.0.20",
            interface_type="nat_gateway",
            requester_managed=True,
            account=OTHER_ACCOUNT,
        )
        .build()
    )
    assert only(run_rule(DNS_RESOLUTION_DISABLED, snap)).severity is Severity.INFO


def test_item18_interfaces_not_read_are_unknown_not_a_sign() -> None:
    snap = (
        routed_pair()
        .network_interface(
            "eni-b1",
            "subnet-b1",
            private_ip="10.1.1.10",
            public_ip="54.0.0.10",
            instance_id="i-b1",
            account=OTHER_ACCOUNT,
        )
        .gap("DescribeNetworkInterfaces", account=OTHER_ACCOUNT)
        .build()
    )
    f = only(run_rule(DNS_RESOLUTION_DISABLED, snap))
    assert f.severity is Severity.INFO
    accepter = next(s for s in f.evidence["sides_disabled"] if s["side"] == "accepter")
    assert accepter["public_interfaces"] is None


def test_item18_rationale_no_longer_blames_load_balancers() -> None:
    text = DNS_RESOLUTION_DISABLED.rationale.lower()
    # It once listed load balancers among the names it fixes: their names are not affected.
    assert "rds, load balancers" not in text
    assert "load balancer names is not affected" in text
    assert "public dns hostnames" in text
    assert DNS_RESOLUTION_DISABLED.severity is Severity.INFO


# -- legitimate= on every peering rule -----------------------------------------------------


def test_every_peering_rule_documents_what_it_leaves_alone() -> None:
    rules = [
        peering.PENDING_EXPIRING,
        peering.ROUTE_ONE_WAY,
        peering.EXTERNAL_ACCOUNT,
        peering.INACTIVE_LINGERING,
        peering.DNS_RESOLUTION_DISABLED,
    ]
    for r in rules:
        assert r.legitimate, r.id
        for sentence in r.legitimate:
            assert sentence.endswith("."), (r.id, sentence)


def test_item18_variant_partner_side_not_scanned_is_unknown_not_unrouted() -> None:
    # A hub peered with a partner account that was not scanned: the partner's routes are
    # unknown, so the fix asks to confirm them instead of claiming there are none.
    partner = Side(EXTERNAL_ACCOUNT, REGION, "vpc-partner", ("192.168.0.0/16",))
    snap = (
        SnapshotBuilder(org_account_ids=ORG)
        .vpc("vpc-hub", "10.0.0.0/16")
        .subnet("subnet-hub", "vpc-hub", "10.0.1.0/24")
        .route_table(
            "rtb-hub", "vpc-hub", subnets=["subnet-hub"], routes=[route("192.168.0.0/16", "pcx-p")]
        )
        .network_interface(
            "eni-bastion",
            "subnet-hub",
            private_ip="10.0.1.10",
            public_ip="3.0.0.1",
            instance_id="i-b",
        )
        .peering("pcx-p", "vpc-hub", partner)
        .build()
    )
    f = only(run_rule(DNS_RESOLUTION_DISABLED, snap))
    assert f.severity is Severity.INFO
    hub = next(s for s in f.evidence["sides_disabled"] if s["side"] == "requester")
    partner_side = next(s for s in f.evidence["sides_disabled"] if s["side"] == "accepter")
    assert hub["public_interfaces"] == 1
    assert hub["routed_from_peer"] is None
    assert partner_side["public_interfaces"] is None
    assert "vpc-partner's route tables were not read" in f.remediation
    assert "has no active route" not in f.remediation
