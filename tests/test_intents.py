"""Reachability intents (issue 12): the policy's `intents:` section and the rule
`reachability-intent` that checks them over the network model.

Two small organizations are built here:

- `mesh()`: prod, dev (account 111) and shared (account 222) VPCs peered in a full mesh,
  every network ACL open, so every subnet reaches every other one; prod also reaches the
  internet through a NAT gateway and S3 through a gateway endpoint, dev reaches on-premises
  through a VPN gateway, shared reaches S3 through an interface endpoint. An `expect:
  unreachable` intent over it is violated exactly for the pairs its selectors name, which
  is how each selector is tested.
- `segmented()`: a Transit Gateway with one route table per segment (prod and dev each see
  only shared; shared and the VPN see everything), prod's attachment in zone a only.

The rule is called through policy + evaluate with an explicit rules dict (the entry point is
registered in pyproject.toml separately).
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    Side,
    SnapshotBuilder,
    nacl_entry,
    open_nacl_entries,
    permission,
    route,
    tgw_route,
)
from vpcaudit.cli import main
from vpcaudit.errors import ConfigError
from vpcaudit.evaluate import Evaluation, evaluate
from vpcaudit.inventory import Inventory
from vpcaudit.model import Severity
from vpcaudit.network import NetworkModel, Verdict
from vpcaudit.policy import Policy, load_policy, parse_policy
from vpcaudit.report.rules_doc import render_one
from vpcaudit.rules.base import Rule
from vpcaudit.rules.intents import REACHABILITY_INTENT, IntentParams
from vpcaudit.rules.registry import LoadedRule, load_rules
from vpcaudit.snapshot import Snapshot

RULE = REACHABILITY_INTENT.id
RULES: dict[str, Rule[Any]] = {RULE: REACHABILITY_INTENT}
REPO = Path(__file__).parent.parent

PROD = ("subnet-prod-a", "subnet-prod-b")
DEV = ("subnet-dev-a", "subnet-dev-x")
SHARED = ("subnet-shared-a",)


# -- organizations ---------------------------------------------------------------------------------


def mesh() -> SnapshotBuilder:
    """prod (10.1/16), dev (10.2/16) in 111, shared (10.3/16) in 222: a peering mesh."""
    b = SnapshotBuilder()
    b.scan(OTHER_ACCOUNT)
    b.vpc("vpc-prod", "10.1.0.0/16", extra_tags={"env": "prod", "team": "payments"})
    b.subnet("subnet-prod-a", "vpc-prod", "10.1.1.0/24", az="a", tags={"tier": "web"})
    b.subnet("subnet-prod-b", "vpc-prod", "10.1.2.0/24", az="b", tags={"tier": "db"})
    b.subnet("subnet-prod-pub", "vpc-prod", "10.1.0.0/24", tags={"tier": "public", "env": "edge"})
    b.vpc("vpc-dev", "10.2.0.0/16", extra_tags={"env": "dev", "team": "payments"})
    b.subnet("subnet-dev-a", "vpc-dev", "10.2.1.0/24", tags={"tier": "web"})
    # A subnet's own tag wins over its VPC's: this one is prod, in the dev VPC.
    b.subnet("subnet-dev-x", "vpc-dev", "10.2.9.0/24", tags={"env": "prod", "tier": "db"})
    b.vpc("vpc-shared", "10.3.0.0/16", account=OTHER_ACCOUNT, extra_tags={"env": "shared"})
    b.subnet("subnet-shared-a", "vpc-shared", "10.3.1.0/24", account=OTHER_ACCOUNT)
    b.peering("pcx-prod-dev", "vpc-prod", "vpc-dev")
    b.peering("pcx-prod-shared", "vpc-prod", "vpc-shared")
    b.peering("pcx-dev-shared", "vpc-dev", "vpc-shared")
    # prod: private subnets out through a NAT gateway in the public subnet; S3 through a
    # gateway endpoint.
    b.prefix_list("pl-s3", "com.amazonaws.us-east-1.s3")
    b.endpoint("vpce-s3", "vpc-prod", "s3", endpoint_type="Gateway", route_tables=["rtb-prod"])
    b.route_table(
        "rtb-prod",
        "vpc-prod",
        main=True,
        subnets=list(PROD),
        routes=[
            route("10.2.0.0/16", "pcx-prod-dev"),
            route("10.3.0.0/16", "pcx-prod-shared"),
            route("0.0.0.0/0", "nat-prod"),
            route("pl-s3", "vpce-s3"),
        ],
    )
    b.route_table(
        "rtb-prod-pub",
        "vpc-prod",
        subnets=["subnet-prod-pub"],
        routes=[
            route("0.0.0.0/0", "igw-prod"),
            route("10.2.0.0/16", "pcx-prod-dev"),
            route("10.3.0.0/16", "pcx-prod-shared"),
        ],
    )
    b.internet_gateway("igw-prod", "vpc-prod")
    b.nat_gateway("nat-prod", "vpc-prod", "subnet-prod-pub", private_ip="10.1.0.10")
    # dev: on-premises (192.168.0.0/16) through a VPN gateway.
    b.vpn_gateway("vgw-dev", "vpc-dev")
    b.vpn_connection("vpn-dev", vpn_gateway="vgw-dev", static_routes=["192.168.0.0/16"])
    b.route_table(
        "rtb-dev",
        "vpc-dev",
        main=True,
        routes=[
            route("10.1.0.0/16", "pcx-prod-dev"),
            route("10.3.0.0/16", "pcx-dev-shared"),
            route("192.168.0.0/16", "vgw-dev"),
        ],
    )
    # shared: S3 through an interface endpoint with private DNS (tcp 443 from the VPC).
    b.route_table(
        "rtb-shared",
        "vpc-shared",
        main=True,
        account=OTHER_ACCOUNT,
        routes=[route("10.1.0.0/16", "pcx-prod-shared"), route("10.2.0.0/16", "pcx-dev-shared")],
    )
    b.security_group(
        "sg-vpce",
        "vpc-shared",
        account=OTHER_ACCOUNT,
        ingress=[permission("tcp", 443, cidrs=["10.3.0.0/16"])],
    )
    b.endpoint(
        "vpce-s3-if",
        "vpc-shared",
        "s3",
        subnets=["subnet-shared-a"],
        groups=["sg-vpce"],
        account=OTHER_ACCOUNT,
        network_interfaces=["eni-vpce-s3"],
    )
    b.network_interface(
        "eni-vpce-s3",
        "subnet-shared-a",
        private_ip="10.3.1.50",
        groups=["sg-vpce"],
        interface_type="vpc_endpoint",
        account=OTHER_ACCOUNT,
    )
    for vpc, account in (("prod", ACCOUNT), ("dev", ACCOUNT), ("shared", OTHER_ACCOUNT)):
        b.network_acl(
            f"acl-{vpc}", f"vpc-{vpc}", entries=open_nacl_entries(), default=True, account=account
        )
    return b


def segmented() -> SnapshotBuilder:
    """A Transit Gateway with a route table per segment (see the module docstring)."""
    # prod and dev see shared (and the VPN) only, shared and the VPN see everything; prod's
    # attachment has a subnet in zone a only.
    b = SnapshotBuilder()
    b.transit_gateway("tgw-1", default_association=False, default_propagation=False)
    for name, n, zones in (("prod", 1, "ab"), ("dev", 2, "a"), ("shared", 3, "a")):
        vpc = f"vpc-{name}"
        b.vpc(vpc, f"10.{n}.0.0/16", extra_tags={"env": name})
        subnets = [f"subnet-{name}-{z}" for z in zones]
        for i, (sid, z) in enumerate(zip(subnets, zones, strict=True)):
            b.subnet(sid, vpc, f"10.{n}.{i + 1}.0/24", az=z)
        b.route_table(f"rtb-{name}", vpc, main=True, routes=[route("0.0.0.0/0", "tgw-1")])
        b.network_acl(f"acl-{name}", vpc, entries=open_nacl_entries(), default=True)
        b.tgw_attachment(f"att-{name}", vpc, transit_gateway_id="tgw-1", subnets=subnets[:1])
    b.tgw_attachment(
        "att-vpn", "", transit_gateway_id="tgw-1", resource_type="vpn", resource_id="vpn-1"
    )
    b.vpn_connection("vpn-1", transit_gateway="tgw-1", static_routes=["192.168.0.0/16"])
    to = {
        "prod": tgw_route("10.1.0.0/16", ["att-prod"], route_type="propagated"),
        "dev": tgw_route("10.2.0.0/16", ["att-dev"], route_type="propagated"),
        "shared": tgw_route("10.3.0.0/16", ["att-shared"], route_type="propagated"),
        "vpn": tgw_route("192.168.0.0/16", ["att-vpn"]),
    }
    b.tgw_route_table(
        "tgw-rtb-prod", "tgw-1", associations=["att-prod"], routes=[to["shared"], to["vpn"]]
    )
    b.tgw_route_table(
        "tgw-rtb-dev", "tgw-1", associations=["att-dev"], routes=[to["shared"], to["vpn"]]
    )
    b.tgw_route_table(
        "tgw-rtb-shared", "tgw-1", associations=["att-shared", "att-vpn"], routes=list(to.values())
    )
    return b


# -- helpers ---------------------------------------------------------------------------------------


def every_rule() -> dict[str, Rule[Any]]:
    """The installed rules and the intents rule (for the shipped default policy)."""
    return {**{k: v.rule for k, v in load_rules().items()}, **RULES}


def policy(text: str, source: str = "policy.yaml") -> Policy:
    """A policy document (dedented) read with the intents rule known."""
    return parse_policy(textwrap.dedent(text).lstrip("\n"), source, RULES)


def check(snap: Snapshot | SnapshotBuilder, text: str) -> Evaluation:
    """Evaluate the intents rule alone under a policy document."""
    if isinstance(snap, SnapshotBuilder):
        snap = snap.build()
    return evaluate(Inventory.from_snapshot(snap), RULES, policy(text))


def intent(name: str, src: str, dst: str, expect: str = "unreachable", extra: str = "") -> str:
    """A one-intent policy document."""
    more = "".join(f"\n    {line}" for line in extra.splitlines() if line)
    return (
        f"intents:\n  - name: {name}\n    from: {src}\n    to: {dst}\n    expect: {expect}{more}\n"
    )


def pairs(result: Evaluation) -> set[tuple[str, str]]:
    """(source, destination) of each finding."""
    return {(f.evidence["source"], f.evidence["destination"]) for f in result.findings}


def product(sources: tuple[str, ...], dests: tuple[str, ...]) -> set[tuple[str, str]]:
    """Every (source, destination) pair but a subnet with itself."""
    return {(s, d) for s in sources for d in dests if s != d}


def unverified(result: Evaluation) -> list[tuple[str, str]]:
    """(resource id, reason) of each unverifiable check."""
    return [(u.item.resource.resource_id, u.item.reason) for u in result.unverified]


# -- the organizations answer as documented --------------------------------------------------------


def test_the_mesh_is_open_everywhere() -> None:
    model = NetworkModel(mesh().inventory())
    subnets = (*PROD, "subnet-prod-pub", *DEV, *SHARED)
    for s in subnets:
        for d in subnets:
            if s != d:
                assert model.path(s, d).verdict is Verdict.REACHABLE, (s, d)


# -- selectors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "dst", "expected"),
    [
        # account: the subnet's owner (or an account it is shared with); one or a list.
        (
            "{account: '222222222222'}",
            "{vpc: vpc-prod}",
            product(SHARED, (*PROD, "subnet-prod-pub")),
        ),
        (
            "{account: ['111111111111']}",
            "{account: '222222222222'}",
            product((*PROD, "subnet-prod-pub", *DEV), SHARED),
        ),
        # vpc: one or a list.
        ("{vpc: vpc-dev}", "{vpc: [vpc-shared]}", product(DEV, SHARED)),
        # subnet: one or a list.
        (
            "{subnet: subnet-prod-a}",
            "{subnet: [subnet-dev-a, subnet-shared-a]}",
            {("subnet-prod-a", "subnet-dev-a"), ("subnet-prod-a", "subnet-shared-a")},
        ),
        # cidr: the subnets whose CIDR lies within the block.
        (
            "{cidr: 10.1.0.0/23}",
            "{cidr: 10.2.8.0/21}",
            {("subnet-prod-pub", "subnet-dev-x"), ("subnet-prod-a", "subnet-dev-x")},
        ),
        # tag: on the subnet, or on its VPC when the subnet lacks the key (subnet-dev-x says
        # env: prod in the dev VPC; subnet-prod-pub says env: edge in the prod VPC).
        (
            "{tag: {env: prod}}",
            "{tag: {env: dev}}",
            product((*PROD, "subnet-dev-x"), ("subnet-dev-a",)),
        ),
        # every key given must match; a tag value is a glob.
        (
            "{tag: {team: payments, tier: db}}",
            "{tag: {env: 'sha*'}}",
            product(("subnet-prod-b", "subnet-dev-x"), SHARED),
        ),
        # region (glob) with another key.
        (
            "{region: 'us-*', tag: {tier: web}}",
            "{subnet: subnet-shared-a}",
            product(("subnet-prod-a", "subnet-dev-a"), SHARED),
        ),
    ],
)
def test_subnet_selectors(src: str, dst: str, expected: set[tuple[str, str]]) -> None:
    result = check(mesh(), intent("sel", src, dst))
    assert pairs(result) == expected
    assert result.unverified == ()
    for f in result.findings:
        assert f.resource.resource_id == f.evidence["source"]  # located on the source subnet


def test_a_selector_that_matches_nothing_is_unverifiable_not_satisfied() -> None:
    result = check(mesh(), intent("typo", "{tag: {env: prdo}}", "{tag: {env: dev}}"))
    assert result.findings == ()
    assert unverified(result) == [
        (
            "typo",
            "intent 'typo': `from` (tag env=prdo) selects no scanned subnet, so the intent "
            "checks nothing",
        ),
    ]
    result = check(mesh(), intent("nowhere", "{vpc: vpc-prod}", "{region: 'eu-*'}"))
    assert [u[0] for u in unverified(result)] == ["nowhere"]


@pytest.mark.parametrize(
    ("dst", "reached_from"),
    [
        # prod reaches the internet through its NAT gateway; the public subnet directly has
        # no public IP (a subnet host has none), so it does not.
        ("internet", PROD),
        ("on-premises", DEV),
        ("s3", (*PROD, "subnet-shared-a")),
        ("dynamodb", PROD),  # through the NAT gateway, to the service's public endpoint
        ("s3@eu-west-1", PROD),  # another region's S3: not through the gateway endpoint
    ],
)
def test_keyword_destinations(dst: str, reached_from: tuple[str, ...]) -> None:
    every = "{cidr: 10.0.0.0/8}"
    extra = "protocol: tcp\nport: 443" if dst == "s3" else ""
    result = check(mesh(), intent("kw", every, dst, extra=extra))
    assert pairs(result) == {(s, dst) for s in reached_from}


def test_cidr_destination_outside_every_vpc_is_an_address_in_it() -> None:
    # 192.168.7.0/24 holds no scanned subnet: its first address, which the model places
    # on-premises (private, in no VPC); only dev routes there (VPN gateway).
    result = check(mesh(), intent("onprem-range", "{cidr: 10.0.0.0/8}", "{cidr: 192.168.7.0/24}"))
    assert pairs(result) == {(s, "192.168.7.1") for s in DEV}


def test_keyword_sources_are_located_on_the_destination_subnet() -> None:
    result = check(mesh(), intent("from-onprem", "on-premises", "{vpc: [vpc-dev, vpc-prod]}"))
    assert pairs(result) == {("on-premises", s) for s in DEV}
    assert {f.resource.resource_id for f in result.findings} == set(DEV)
    # Nothing on the internet can open a connection to a subnet host (no public address).
    result = check(mesh(), intent("from-internet", "internet", "{vpc: vpc-prod}", "reachable"))
    assert {f.resource.resource_id for f in result.findings} == {*PROD, "subnet-prod-pub"}
    assert {f.evidence["code"] for f in result.findings} == {"NO_PUBLIC_IP"}


# -- expect, via, protocol -------------------------------------------------------------------------


def test_reachable_intent_blocked_names_the_blocking_component() -> None:
    result = check(
        segmented(), intent("prod-to-dev", "{tag: {env: prod}}", "{tag: {env: dev}}", "reachable")
    )
    by_source = {f.evidence["source"]: f for f in result.findings}
    assert set(by_source) == {"subnet-prod-a", "subnet-prod-b"}
    a = by_source["subnet-prod-a"]
    assert a.severity is Severity.MEDIUM
    assert a.evidence["verdict"] == "not-reachable"
    assert a.evidence["code"] == "TGW_NO_ROUTE"
    assert a.evidence["blocking"]["kind"] == "transit-gateway-route-table"
    assert a.evidence["blocking"]["id"] == "tgw-rtb-prod"
    assert "cannot reach subnet-dev-a" in a.message
    # prod's second zone has no attachment subnet: blocked earlier, at the attachment.
    b = by_source["subnet-prod-b"]
    assert (b.evidence["code"], b.evidence["blocking"]["id"]) == (
        "TGW_NO_ATTACHMENT_IN_AZ",
        "att-prod",
    )
    assert "modify-transit-gateway-vpc-attachment" in b.remediation


def test_unreachable_intent_violated_carries_the_path() -> None:
    result = check(
        mesh(),
        intent("prod-isolated-from-dev", "{subnet: subnet-prod-a}", "{subnet: subnet-dev-a}"),
    )
    (f,) = result.findings
    assert f.rule_id == RULE
    assert f.severity is Severity.HIGH
    assert (f.resource.resource_type, f.resource.resource_id) == ("subnet", "subnet-prod-a")
    assert f.resource.arn == f"arn:aws:ec2:us-east-1:{ACCOUNT}:subnet/subnet-prod-a"
    assert f.resource.tags == (("tier", "web"),)
    kinds = [(h["kind"], h["id"]) for h in f.evidence["path"]]
    assert ("route-table", "rtb-prod") in kinds
    assert ("vpc-peering-connection", "pcx-prod-dev") in kinds
    assert f.evidence["verdict"] == "reachable"
    assert f.evidence["blocking"] is None
    assert f.evidence["defined_at"] == "policy.yaml:2"
    assert "rtb-prod (10.2.0.0/16) -> pcx-prod-dev" in f.message
    assert "route 10.2.0.0/16 in rtb-prod" in f.remediation
    assert set(f.evidence) == set(REACHABILITY_INTENT.evidence_fields)


def test_one_finding_per_destination_with_distinct_fingerprints() -> None:
    result = check(mesh(), intent("x", "{subnet: subnet-prod-a}", "{vpc: vpc-dev}"))
    assert len(result.findings) == 2
    assert len({f.fingerprint for f in result.findings}) == 2


def test_segmented_tgw_isolation_holds() -> None:
    text = intent("prod-isolated-from-dev", "{tag: {env: prod}}", "{tag: {env: dev}}")
    assert check(segmented(), text).findings == ()
    text = intent("dev-isolated-from-prod", "{tag: {env: dev}}", "{tag: {env: prod}}")
    assert check(segmented(), text).findings == ()


def test_via_transit_gateway_and_vpn() -> None:
    ok = check(
        segmented(),
        intent(
            "shared-via-tgw",
            "{subnet: subnet-prod-a}",
            "{tag: {env: shared}}",
            "reachable",
            "via: transit-gateway",
        ),
    )
    assert ok.findings == ()
    onprem = check(
        segmented(),
        intent(
            "onprem-to-shared",
            "on-premises",
            "{tag: {env: shared}}",
            "reachable",
            "via: [vpn, transit-gateway]",
        ),
    )
    assert onprem.findings == ()
    # prod's subnets do not go through a peering to reach shared: the via is missing.
    missing = check(
        segmented(),
        intent(
            "shared-via-peering",
            "{subnet: subnet-prod-a}",
            "{tag: {env: shared}}",
            "reachable",
            "via: peering",
        ),
    )
    (f,) = missing.findings
    assert f.evidence["verdict"] == "reachable"
    assert f.evidence["missing_via"] == ["peering"]
    assert "but not through a peering" in f.message


def hub_egress() -> SnapshotBuilder:
    """Spokes reach the internet through a Transit Gateway and an egress VPC's NAT gateway;
    spoke-b has its own NAT gateway and internet gateway as well (a bypass)."""
    b = SnapshotBuilder()
    b.transit_gateway("tgw-hub", default_association=False, default_propagation=False)
    b.vpc("vpc-egress", "10.0.0.0/16")
    b.subnet("subnet-egress-tgw", "vpc-egress", "10.0.1.0/24")
    b.subnet("subnet-egress-pub", "vpc-egress", "10.0.0.0/24")
    b.route_table("rtb-egress-main", "vpc-egress", main=True)
    b.route_table(
        "rtb-egress-tgw",
        "vpc-egress",
        subnets=["subnet-egress-tgw"],
        routes=[route("0.0.0.0/0", "nat-egress")],
    )
    b.route_table(
        "rtb-egress-pub",
        "vpc-egress",
        subnets=["subnet-egress-pub"],
        routes=[route("0.0.0.0/0", "igw-egress"), route("10.0.0.0/8", "tgw-hub")],
    )
    b.internet_gateway("igw-egress", "vpc-egress")
    b.nat_gateway("nat-egress", "vpc-egress", "subnet-egress-pub", private_ip="10.0.0.10")
    b.tgw_attachment(
        "att-egress", "vpc-egress", transit_gateway_id="tgw-hub", subnets=["subnet-egress-tgw"]
    )
    spokes = []
    for name, n in (("a", 1), ("b", 2)):
        vpc, sub = f"vpc-spoke-{name}", f"subnet-spoke-{name}"
        b.vpc(vpc, f"10.{n}.0.0/16", extra_tags={"role": "spoke"})
        b.subnet(sub, vpc, f"10.{n}.1.0/24")
        b.tgw_attachment(f"att-{name}", vpc, transit_gateway_id="tgw-hub", subnets=[sub])
        spokes.append(tgw_route(f"10.{n}.0.0/16", [f"att-{name}"], route_type="propagated"))
        b.network_acl(f"acl-{name}", vpc, entries=open_nacl_entries(), default=True)
    b.route_table("rtb-spoke-a", "vpc-spoke-a", main=True, routes=[route("0.0.0.0/0", "tgw-hub")])
    b.subnet("subnet-spoke-b-pub", "vpc-spoke-b", "10.2.0.0/24", tags={"role": "edge"})
    b.route_table(
        "rtb-spoke-b",
        "vpc-spoke-b",
        main=True,
        routes=[route("10.0.0.0/8", "tgw-hub"), route("0.0.0.0/0", "nat-b")],
    )
    b.route_table(
        "rtb-spoke-b-pub",
        "vpc-spoke-b",
        subnets=["subnet-spoke-b-pub"],
        routes=[route("0.0.0.0/0", "igw-b")],
    )
    b.internet_gateway("igw-b", "vpc-spoke-b")
    b.nat_gateway("nat-b", "vpc-spoke-b", "subnet-spoke-b-pub", private_ip="10.2.0.10")
    b.network_acl("acl-egress", "vpc-egress", entries=open_nacl_entries(), default=True)
    b.tgw_route_table(
        "tgw-rtb-spokes",
        "tgw-hub",
        associations=["att-a", "att-b"],
        routes=[tgw_route("0.0.0.0/0", ["att-egress"])],
    )
    b.tgw_route_table("tgw-rtb-egress", "tgw-hub", associations=["att-egress"], routes=spokes)
    return b


def test_hub_egress_through_a_central_nat() -> None:
    text = """
        intents:
          - name: spokes-egress-through-the-hub
            from: {tag: {role: spoke}}
            to: internet
            via: [transit-gateway, nat-gateway]
            expect: reachable
          - name: nothing-from-the-internet-into-spokes
            from: internet
            to: {tag: {role: spoke}}
            expect: unreachable
        """
    result = check(hub_egress(), text)
    # spoke-a goes through the hub; spoke-b's own NAT gateway takes its traffic instead.
    (f,) = result.findings
    assert (f.evidence["source"], f.evidence["missing_via"]) == (
        "subnet-spoke-b",
        ["transit-gateway"],
    )
    assert "nat-b" in f.message


def test_via_gateway_endpoint() -> None:
    text = intent(
        "s3-via-gateway",
        "{cidr: 10.0.0.0/8}",
        "s3",
        "reachable",
        "via: gateway-endpoint\nprotocol: tcp\nport: 443",
    )
    result = check(mesh(), text)
    by_source = {f.evidence["source"]: f for f in result.findings}
    # prod: through vpce-s3, as wanted. shared: through its interface endpoint instead.
    # dev and prod's public subnet: no way to S3 at all.
    assert set(by_source) == {"subnet-dev-a", "subnet-dev-x", "subnet-prod-pub", "subnet-shared-a"}
    shared = by_source["subnet-shared-a"]
    assert shared.evidence["missing_via"] == ["gateway-endpoint"]
    assert shared.remediation == (
        "aws ec2 create-vpc-endpoint --vpc-id vpc-shared --vpc-endpoint-type Gateway "
        "--service-name com.amazonaws.us-east-1.s3 --route-table-ids rtb-shared "
        f"--region us-east-1  # as account {OTHER_ACCOUNT}"
    )
    # The VPC has a gateway endpoint; the public subnet's table is not associated with it.
    assert by_source["subnet-prod-pub"].remediation.startswith(
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-s3 --add-route-table-ids rtb-prod-pub"
    )
    assert by_source["subnet-dev-a"].evidence["verdict"] == "not-reachable"


def test_via_interface_endpoint_nat_gateway_and_internet_gateway() -> None:
    text = intent(
        "s3-via-interface",
        "{subnet: subnet-shared-a}",
        "s3",
        "reachable",
        "via: interface-endpoint\nprotocol: tcp\nport: 443",
    )
    assert check(mesh(), text).findings == ()
    text = intent(
        "egress-via-nat",
        "{subnet: [subnet-prod-a, subnet-prod-b]}",
        "internet",
        "reachable",
        "via: [nat-gateway, internet-gateway]",
    )
    assert check(mesh(), text).findings == ()


def test_unreachable_with_via_forbids_only_paths_through_it() -> None:
    # prod reaches dev through a peering: forbidden through a Transit Gateway only, so fine.
    text = intent(
        "no-dev-over-tgw", "{vpc: vpc-prod}", "{vpc: vpc-dev}", extra="via: transit-gateway"
    )
    assert check(mesh(), text).findings == ()
    text = intent(
        "no-dev-over-peering",
        "{subnet: subnet-prod-a}",
        "{subnet: subnet-dev-a}",
        extra="via: peering",
    )
    assert pairs(check(mesh(), text)) == {("subnet-prod-a", "subnet-dev-a")}


def test_protocol_and_port_are_asked() -> None:
    b = mesh()
    # dev's subnets allow only tcp 443 in from prod (and everything else in order).
    b.network_acl(
        "acl-dev-web",
        "vpc-dev",
        subnets=["subnet-dev-a"],
        entries=[
            nacl_entry(100, cidr="10.1.0.0/16", protocol="6", ports=(443, 443)),
            nacl_entry(110, "deny", cidr="10.1.0.0/16"),
            nacl_entry(120),
            nacl_entry(100, egress=True),
        ],
    )
    src, dst = "{subnet: subnet-prod-a}", "{subnet: subnet-dev-a}"
    assert check(b, intent("db", src, dst, extra="protocol: tcp\nport: 5432")).findings == ()
    (f,) = check(b, intent("https", src, dst, extra="protocol: tcp\nport: 443")).findings
    assert (f.evidence["protocol"], f.evidence["port"]) == ("tcp", 443)
    assert "(tcp 443)" in f.message
    # All traffic is blocked by the deny: a reachable intent for it fails at the ACL.
    (g,) = check(b, intent("all", src, dst, "reachable")).findings
    assert (g.evidence["code"], g.evidence["blocking"]["id"]) == (
        "NACL_INGRESS_DENIED",
        "acl-dev-web",
    )


def test_intent_severity_replaces_the_grading() -> None:
    text = intent(
        "crit", "{subnet: subnet-prod-a}", "{subnet: subnet-dev-a}", extra="severity: critical"
    )
    (f,) = check(mesh(), text).findings
    assert f.severity is Severity.CRITICAL


# -- unknown is not violated -----------------------------------------------------------------------


def test_an_unscanned_part_of_the_path_is_unverifiable_not_violated() -> None:
    b = mesh()
    # The network ACLs of account 222 could not be read: paths into shared are unknown.
    b.gap("DescribeNetworkAcls", account=OTHER_ACCOUNT)
    for expect in ("unreachable", "reachable"):
        result = check(b, intent("to-shared", "{vpc: vpc-prod}", "{vpc: vpc-shared}", expect))
        assert result.findings == (), expect
        reasons = dict(unverified(result))
        assert set(reasons) == {*PROD, "subnet-prod-pub"}
        assert reasons["subnet-prod-a"].startswith(
            f"intent 'to-shared' (expect {expect}): cannot tell for 1 path(s), part of the way "
            f"was not scanned or read: subnet-prod-a -> subnet-shared-a: NOT_READ"
        )


def test_a_peer_account_not_scanned_is_unverifiable() -> None:
    # prod peers with a VPC of account 999, which was not scanned, and routes 10.9/16 there.
    b = mesh()
    b.peering("pcx-ext", "vpc-prod", Side("999999999999", "us-east-1", "vpc-ext", ("10.9.0.0/16",)))
    snap = _with_route(b.build(), "rtb-prod", route("10.9.0.0/16", "pcx-ext"))
    result = check(snap, intent("no-ext", "{subnet: subnet-prod-a}", "{cidr: 10.9.0.0/16}"))
    assert result.findings == ()
    ((where, reason),) = unverified(result)
    assert where == "subnet-prod-a"
    assert "UNSCANNED_ACCOUNT" in reason


def _with_route(snap: Snapshot, table: str, extra: dict[str, Any]) -> Snapshot:
    regions = []
    for r in snap.regions:
        res = {k: [dict(x) for x in v] for k, v in r.resources.items()}
        for t in res.get("route_tables", []):
            if t["RouteTableId"] == table:
                t["Routes"] = [*t["Routes"], extra]
        regions.append(dataclasses.replace(r, resources=res))
    return dataclasses.replace(snap, regions=tuple(regions))


# -- grouping is exact -----------------------------------------------------------------------------


@pytest.mark.parametrize("org", [mesh, segmented])
@pytest.mark.parametrize("expect", ["reachable", "unreachable"])
def test_grouped_answers_equal_asking_every_pair(org: Any, expect: str) -> None:
    """Grouped questions give the verdicts of asking every pair, one by one."""
    b = org()
    # Make members of one group differ where only the source address or zone matters: the
    # destination's ACL refuses one source subnet of a group, and prod's zone b has no
    # TGW attachment subnet (segmented).
    first_vpc = "vpc-dev" if org is mesh else "vpc-shared"
    b.network_acl(
        "acl-picky",
        first_vpc,
        subnets=["subnet-dev-a" if org is mesh else "subnet-shared-a"],
        entries=[
            nacl_entry(90, "deny", cidr="10.1.2.0/24"),
            nacl_entry(100),
            nacl_entry(100, egress=True),
        ],
    )
    snap = b.build()
    result = check(snap, intent("all", "{cidr: 10.0.0.0/8}", "{cidr: 10.0.0.0/8}", expect))
    model = NetworkModel(Inventory.from_snapshot(snap))
    subnets = sorted(s for s in model.subnets)
    want = set()
    for s in subnets:
        for d in subnets:
            if s == d:
                continue
            verdict = model.path(s, d, family=4).verdict
            if verdict is Verdict.UNKNOWN:
                continue
            if (verdict is Verdict.REACHABLE) == (expect == "unreachable"):
                want.add((s, d))
    assert pairs(result) == want
    assert want  # the case is not empty
    for f in result.findings:  # an answer shared in a group is restated for the member
        assert f.resource.resource_id == f.evidence["source"]
        blocking = f.evidence["blocking"]
        if blocking is not None and blocking["kind"] == "subnet":
            assert blocking["id"] == f.evidence["source"]


def test_a_group_is_asked_once_when_the_answer_is_decided_on_the_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    b = segmented()
    b.subnet("subnet-dev-a2", "vpc-dev", "10.2.2.0/24", az="a")  # same table, ACL and zone
    asked: list[tuple[str, str]] = []
    path = NetworkModel.path

    def counted(self: NetworkModel, source: str, destination: str, **kw: Any) -> Any:
        asked.append((source, destination))
        return path(self, source, destination, **kw)

    monkeypatch.setattr(NetworkModel, "path", counted)
    # dev's TGW table has no route to prod: decided before anything looks at the sender.
    result = check(b, intent("dev-not-prod", "{vpc: vpc-dev}", "{vpc: vpc-prod}"))
    assert result.findings == ()
    assert sorted(asked) == [("subnet-dev-a", "subnet-prod-a"), ("subnet-dev-a", "subnet-prod-b")]
    # A reachable answer depends on the sender's address: each subnet is asked.
    asked.clear()
    result = check(b, intent("dev-shared", "{vpc: vpc-dev}", "{vpc: vpc-shared}", "reachable"))
    assert result.findings == ()
    assert sorted(asked) == [
        ("subnet-dev-a", "subnet-shared-a"),
        ("subnet-dev-a2", "subnet-shared-a"),
    ]


# -- max_pairs -------------------------------------------------------------------------------------


def test_max_pairs_cuts_and_says_so() -> None:
    text = intent("big", "{cidr: 10.0.0.0/8}", "{cidr: 10.0.0.0/8}") + textwrap.dedent(
        """
        rules:
          reachability-intent:
            params:
              max_pairs: 12
        """
    )
    result = check(mesh(), text)
    # 6 subnets: 30 pairs; 12 allow the first 2 sources against all 6 destinations (10).
    assert {s for s, _ in pairs(result)} == {"subnet-dev-a", "subnet-dev-x"}
    (cut,) = [r for w, r in unverified(result) if w == "big"]
    assert cut == (
        "intent 'big': 30 (source, destination) pairs, more than max_pairs (12): only 10 "
        "checked (2 of 6 sources in id order); raise max_pairs or narrow the selectors"
    )


# -- waivers ---------------------------------------------------------------------------------------

WAIVED = intent("prod-isolated-from-dev", "{tag: {env: prod}}", "{vpc: vpc-dev}")


def _suppressed(result: Evaluation) -> dict[str, bool]:
    return {
        f"{f.evidence['source']}>{f.evidence['destination']}": f.suppressed for f in result.findings
    }


def test_waive_an_intent_by_name() -> None:
    text = WAIVED + textwrap.dedent(
        """
        waivers:
          - rule: reachability-intent
            intent: prod-isolated-*
            reason: The migration peering is removed in Q3.
            expires: 2099-12-31
        """
    )
    result = check(mesh(), text)
    assert result.findings and all(f.suppressed for f in result.findings)
    assert result.findings[0].waiver is not None
    assert result.findings[0].waiver["intent"] == "prod-isolated-*"
    assert result.waivers.stale == ()


def test_waive_one_subnet_of_an_intent_by_resource() -> None:
    text = WAIVED + textwrap.dedent(
        """
        waivers:
          - rule: reachability-intent
            intent: prod-isolated-from-dev
            resource: subnet-prod-a
            reason: The bastion subnet reaches dev on purpose.
        """
    )
    result = check(mesh(), text)
    waived = {k for k, v in _suppressed(result).items() if v}
    assert waived == {"subnet-prod-a>subnet-dev-a", "subnet-prod-a>subnet-dev-x"}
    assert len(result.findings) > len(waived)


def test_a_waiver_for_another_intent_matches_nothing_and_is_stale() -> None:
    text = WAIVED + textwrap.dedent(
        """
        waivers:
          - rule: "*"
            intent: some-other-intent
            reason: Not this one.
        """
    )
    result = check(mesh(), text)
    assert not any(f.suppressed for f in result.findings)
    assert [w.intent for w in result.waivers.stale] == ["some-other-intent"]


def test_waiver_without_intent_keeps_its_json_shape() -> None:
    w = policy("waivers:\n  - rule: reachability-intent\n    reason: x\n").waivers[0]
    assert "intent" not in w.to_dict()


# -- the policy section ----------------------------------------------------------------------------


def test_intents_are_read_with_defaults() -> None:
    p = policy(
        """
        intents:
          - name: private-subnets-reach-s3-via-gateway
            description: Private subnets use the free gateway endpoint.
            from: {tag: {tier: private}}
            to: s3
            via: gateway-endpoint
            expect: reachable
        """
    )
    (i,) = p.intents
    assert (i.protocol, i.port, i.via, i.severity) == ("all", None, ("gateway-endpoint",), None)
    assert i.source.tags == (("tier", "private"),)
    assert i.destination.keyword == "s3"
    assert i.where == "policy.yaml:2"
    assert p.params_for(REACHABILITY_INTENT) == IntentParams(intents=(i,))


def test_later_files_add_intents_and_replace_by_name(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(
        intent("a", "{vpc: vpc-prod}", "{vpc: vpc-dev}")
        + "  - {name: b, from: internet, to: {vpc: vpc-prod}, expect: unreachable}\n"
    )
    team = tmp_path / "team.yaml"
    team.write_text(
        intent("a", "{vpc: vpc-prod}", "{vpc: vpc-dev}", "reachable")
        + "  - {name: c, from: {vpc: vpc-dev}, to: s3, expect: reachable}\n"
    )
    p = load_policy([base, team], every_rule())
    assert [(i.name, i.expect, i.where) for i in p.intents] == [
        ("a", "reachable", f"{team}:2"),
        ("b", "unreachable", f"{base}:6"),
        ("c", "reachable", f"{team}:6"),
    ]


def test_default_policy_has_no_intents_and_its_example_is_valid() -> None:
    text = (REPO / "policies" / "default.yaml").read_text(encoding="utf-8")
    assert load_policy([], every_rule()).intents == ()
    block = re.search(r"^# intents:\n(?:^#   .*\n)+", text, re.MULTILINE)
    assert block is not None
    example = "".join(line[2:] + "\n" for line in block.group(0).splitlines())
    assert [i.name for i in policy(example).intents] == [
        "prod-isolated-from-dev",
        "private-subnets-reach-s3-via-gateway",
        "no-postgres-from-the-internet",
    ]


def test_every_example_in_the_docs_is_a_valid_policy() -> None:
    text = (REPO / "docs" / "intents.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert len(blocks) >= 5
    names: list[str] = []
    for block in blocks:
        names += [i.name for i in policy(block, "docs/intents.md").intents]
    assert len(names) == len(set(names)) >= 5


BAD: list[tuple[str, str, int, str]] = [
    # (what, intents section, line, message)
    (
        "a misspelled key",
        "  - name: a\n    from: {vpc: vpc-1}\n    to: s3\n    expct: reachable\n",
        5,
        "intent 'a': unknown key 'expct' (allowed: description, expect, from, name, port, "
        "protocol, severity, to, via)",
    ),
    (
        "an unknown selector key",
        "  - name: a\n    from: {tags: {env: prod}}\n    to: s3\n    expect: reachable\n",
        3,
        "intent 'a': from: unknown selector 'tags'",
    ),
    (
        "an unknown selector keyword",
        "  - name: a\n    from: {vpc: vpc-1}\n    to: s4\n    expect: reachable\n",
        4,
        "intent 'a': to: unknown selector 's4'",
    ),
    (
        "a bad expect",
        "  - name: a\n    from: {vpc: vpc-1}\n    to: s3\n    expect: unreachble\n",
        5,
        "intent 'a': expect 'unreachble' is not one of: reachable, unreachable",
    ),
    (
        "a port without tcp/udp",
        "  - name: a\n    from: {vpc: vpc-1}\n    to: s3\n    expect: reachable\n    port: 443\n",
        6,
        "intent 'a': port 443 needs protocol tcp or udp (protocol is all)",
    ),
    (
        "a bad via",
        "  - name: a\n    from: {vpc: vpc-1}\n    to: s3\n    expect: reachable\n"
        "    via: [gateway-endpoint, tgw]\n",
        6,
        "intent 'a': via 'tgw' is not a kind of hop",
    ),
    (
        "a service as source",
        "  - name: a\n    from: s3\n    to: {vpc: vpc-1}\n    expect: reachable\n",
        3,
        "intent 'a': from 's3' is an AWS service",
    ),
    (
        "keywords at both ends",
        "  - name: a\n    from: internet\n    to: on-premises\n    expect: reachable\n",
        4,
        "one end must select subnets",
    ),
    (
        "no expect",
        "  - name: a\n    from: {vpc: vpc-1}\n    to: s3\n",
        2,
        "intent 'a' has no 'expect'",
    ),
    (
        "a bad vpc id",
        "  - {name: a, from: internet, to: {vpc: v-1}, expect: reachable}\n",
        2,
        "intent 'a': to: vpc 'v-1' is not a vpc- id",
    ),
    (
        "a duplicate name",
        "  - {name: a, from: internet, to: {vpc: vpc-1}, expect: reachable}\n"
        "  - {name: a, from: internet, to: {vpc: vpc-2}, expect: reachable}\n",
        3,
        "intent 'a' is already defined at line 2 of this file",
    ),
    (
        "an unquoted account",
        "  - name: a\n    from: {account: 111122223333}\n    to: s3\n    expect: reachable\n",
        3,
        "account ids must be quoted strings",
    ),
    (
        "a bad CIDR",
        "  - name: a\n    from: {cidr: 10.0.0.5/16}\n    to: s3\n    expect: reachable\n",
        3,
        "cidr '10.0.0.5/16' has host bits set (did you mean 10.0.0.0/16?)",
    ),
    (
        "an empty selector",
        "  - name: a\n    from: {}\n    to: s3\n    expect: reachable\n",
        3,
        "an empty selector selects nothing",
    ),
]


@pytest.mark.parametrize(("what", "section", "line", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_intents_name_file_and_line(what: str, section: str, line: int, words: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_policy("intents:\n" + section, "bad.yaml", RULES)
    assert str(exc.value).startswith(f"bad.yaml:{line}: "), str(exc.value)
    assert words in str(exc.value)


def test_intents_go_in_their_section_not_under_params() -> None:
    with pytest.raises(ConfigError, match=r"p\.yaml:4: rule 'reachability-intent': intents go in"):
        parse_policy(
            "rules:\n  reachability-intent:\n    params:\n      intents: []\n", "p.yaml", RULES
        )


def test_an_intent_waiver_must_be_for_the_intent_rule() -> None:
    with pytest.raises(ConfigError, match=r"w\.yaml:3: waiver 1: `intent` matches only findings"):
        parse_policy(
            "waivers:\n  - rule: route-blackhole\n    intent: a\n    reason: x\n",
            "w.yaml",
            every_rule(),
        )


def test_policy_check_refuses_a_bad_intent_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("intents:\n  - name: a\n    from: {vpc: vpc-1}\n    to: s3\n    expect: maybe\n")
    rc = main(["policy", "check", str(bad)])
    out, err = capsys.readouterr()
    assert (rc, out) == (2, "")
    assert err == (
        f"vpcaudit: error: {bad}:5: intent 'a': expect 'maybe' is not one of: reachable, "
        "unreachable\n"
    )


def test_a_bad_intent_stops_a_scan_before_any_aws_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        pytest.fail("the scan started before the policy was validated")

    monkeypatch.setattr("vpcaudit.commands.run_scan", refuse)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "intents:\n  - name: a\n    from: {vpc: vpc-1}\n    to: s3\n    expect: reachable\n"
        "    port: 22\n"
    )
    rc = main(["scan", "--policy", str(bad), "--region", "us-east-1"])
    _, err = capsys.readouterr()
    assert rc == 2
    assert err.startswith(f"vpcaudit: error: {bad}:6: intent 'a': port 22 needs protocol tcp")


# -- the rule's documentation ----------------------------------------------------------------------


def test_vpcaudit_rules_documents_the_rule() -> None:
    assert [p["name"] for p in REACHABILITY_INTENT.params_doc()] == ["max_pairs"]
    text = render_one(LoadedRule(REACHABILITY_INTENT, "vpcaudit:reachability-intent"), "text")
    assert "max_pairs (int) = 10000" in text
    assert "intents:" in text
    assert "unverifiable" in text


def test_no_intents_no_findings() -> None:
    assert check(mesh(), "rules: {}\n").findings == ()
