"""Inventory: raw snapshot items become typed models; Snapshot files round-trip or fail clearly."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest

from tests.builders import (
    ACCOUNT,
    FIXTURES,
    NOW,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    SnapshotBuilder,
    hours_from_now,
    load_fixture,
    route,
    with_items,
)
from vpcaudit.errors import SnapshotError
from vpcaudit.inventory import Inventory
from vpcaudit.snapshot import SCHEMA_VERSION, Snapshot

# -- VPCs and CIDR associations ---------------------------------------------------------------


def test_vpc_cidrs_include_secondary_and_ipv6_and_drop_disassociated() -> None:
    inv = (
        SnapshotBuilder()
        .vpc(
            "vpc-a",
            "10.0.0.0/16",
            secondary=["100.64.0.0/16"],
            ipv6=["2600:1f18:abcd:1200::/56"],
            disassociated=["10.99.0.0/16"],
            name="app",
        )
        .inventory()
    )
    vpc = inv.vpc("vpc-a")
    assert vpc is not None
    assert [str(c) for c in vpc.cidrs] == [
        "10.0.0.0/16",
        "100.64.0.0/16",
        "2600:1f18:abcd:1200::/56",
    ]
    assert vpc.name == "app"
    assert vpc.owner_id == ACCOUNT
    assert vpc.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-a"


def test_vpc_without_association_set_falls_back_to_cidr_block() -> None:
    snap = SnapshotBuilder().vpc("vpc-a", "10.0.0.0/16").build()
    raw = snap.regions[0].resources["vpcs"][0]
    del raw["CidrBlockAssociationSet"]
    vpc = Inventory.from_snapshot(snap).vpc("vpc-a")
    assert vpc is not None
    assert vpc.cidrs == (ipaddress.ip_network("10.0.0.0/16"),)


def test_shared_vpc_index_prefers_the_owner_copy() -> None:
    inv = (
        SnapshotBuilder()
        .vpc("vpc-s", "10.7.0.0/16", owner=OTHER_ACCOUNT)
        .vpc("vpc-s", "10.7.0.0/16", account=OTHER_ACCOUNT, name="owner-copy")
        .inventory()
    )
    vpc = inv.vpc("vpc-s")
    assert vpc is not None
    assert (vpc.account_id, vpc.owner_id, vpc.name) == (OTHER_ACCOUNT, OTHER_ACCOUNT, "owner-copy")
    assert len(inv.vpcs) == 2


def test_arn_partition_follows_the_region() -> None:
    inv = (
        SnapshotBuilder()
        .vpc("vpc-cn", region="cn-north-1")
        .vpc("vpc-gov", "10.1.0.0/16", region="us-gov-west-1")
        .inventory()
    )
    cn, gov = inv.vpc("vpc-cn"), inv.vpc("vpc-gov")
    assert cn is not None
    assert gov is not None
    assert cn.arn.startswith("arn:aws-cn:ec2:cn-north-1:")
    assert gov.arn.startswith("arn:aws-us-gov:ec2:us-gov-west-1:")


# -- route tables -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "target", "target_type"),
    [
        ("10.1.0.0/16", "pcx-1", "vpc-peering-connection"),
        ("0.0.0.0/0", "igw-1", "gateway"),
        ("0.0.0.0/0", "nat-1", "nat-gateway"),
        ("10.8.0.0/13", "tgw-1", "transit-gateway"),
        ("10.2.0.0/16", "eni-1", "network-interface"),
        ("10.3.0.0/16", "i-1", "instance"),
        ("::/0", "eigw-1", "egress-only-internet-gateway"),
        ("0.0.0.0/0", "cagw-1", "carrier-gateway"),
        ("10.4.0.0/16", "lgw-1", "local-gateway"),
        ("10.5.0.0/16", "arn:aws:networkmanager::1:core-network/cn-1", "core-network"),
        ("pl-63a5400a", "vpce-1", "gateway"),
        ("192.168.0.0/16", "vgw-1", "gateway"),
        ("10.0.0.0/16", "local", "gateway"),
    ],
)
def test_route_target_types(destination: str, target: str, target_type: str) -> None:
    inv = (
        SnapshotBuilder()
        .route_table("rtb-1", "vpc-unknown", routes=[route(destination, target)])
        .inventory()
    )
    [table] = inv.route_tables
    [r] = table.routes
    assert (r.destination, r.target_type, r.target_id) == (destination, target_type, target)
    assert r.is_active


def test_route_with_no_known_target_is_unknown() -> None:
    snap = SnapshotBuilder().route_table("rtb-1", "vpc-x").build()
    raw = snap.regions[0].resources["route_tables"][0]
    raw["Routes"] = [{"DestinationCidrBlock": "10.0.0.0/8", "State": "active"}]
    [r] = Inventory.from_snapshot(snap).route_tables[0].routes
    assert (r.target_type, r.target_id) == ("unknown", "")


def test_blackhole_route_is_not_active_and_routes_to_indexes_it() -> None:
    inv = (
        SnapshotBuilder()
        .route_table("rtb-1", "vpc-a", routes=[route("10.1.0.0/16", "pcx-1", state="blackhole")])
        .route_table("rtb-2", "vpc-a", routes=[route("10.1.0.0/16", "pcx-1")])
        .inventory()
    )
    found = {(t.route_table_id, r.state, r.is_active) for t, r in inv.routes_to("pcx-1")}
    assert found == {("rtb-1", "blackhole", False), ("rtb-2", "active", True)}
    assert inv.routes_to("pcx-none") == ()


def test_route_table_associations_main_and_disassociated() -> None:
    inv = (
        SnapshotBuilder()
        .vpc("vpc-a")
        .route_table("rtb-main", "vpc-a", main=True)
        .route_table(
            "rtb-x", "vpc-a", subnets=["subnet-2", "subnet-1"], disassociated_subnets=["s"]
        )
        .inventory()
    )
    tables = {t.route_table_id: t for t in inv.route_tables_of("vpc-a")}
    assert tables["rtb-main"].is_main
    assert tables["rtb-main"].subnet_ids == ()
    assert not tables["rtb-x"].is_main
    assert tables["rtb-x"].subnet_ids == ("subnet-1", "subnet-2")
    # The builder adds the VPC's local route first, as AWS does.
    assert tables["rtb-x"].routes[0].target_id == "local"


def serving(b: SnapshotBuilder) -> list[str]:
    return sorted(t.route_table_id for t in b.inventory().serving_route_tables("vpc-a"))


def test_serving_route_tables_explicit_and_main_for_unassociated() -> None:
    b = (
        SnapshotBuilder()
        .vpc("vpc-a")
        .subnet("subnet-1", "vpc-a")
        .subnet("subnet-2", "vpc-a", "10.0.2.0/24")
        .route_table("rtb-main", "vpc-a", main=True)
        .route_table("rtb-1", "vpc-a", subnets=["subnet-1"])
        .route_table("rtb-idle", "vpc-a")
    )
    assert serving(b) == ["rtb-1", "rtb-main"]


def test_serving_route_tables_main_not_serving_when_every_subnet_is_associated() -> None:
    b = (
        SnapshotBuilder()
        .vpc("vpc-a")
        .subnet("subnet-1", "vpc-a")
        .route_table("rtb-main", "vpc-a", main=True)
        .route_table("rtb-1", "vpc-a", subnets=["subnet-1"])
    )
    assert serving(b) == ["rtb-1"]


def test_serving_route_tables_none_without_subnets() -> None:
    b = SnapshotBuilder().vpc("vpc-a").route_table("rtb-main", "vpc-a", main=True)
    assert serving(b) == []


def test_serving_route_tables_disassociated_subnet_falls_back_to_main() -> None:
    b = (
        SnapshotBuilder()
        .vpc("vpc-a")
        .subnet("subnet-1", "vpc-a")
        .route_table("rtb-main", "vpc-a", main=True)
        .route_table("rtb-old", "vpc-a", disassociated_subnets=["subnet-1"])
    )
    assert serving(b) == ["rtb-main"]


# -- peerings, endpoints, flow logs, gateways -------------------------------------------------


def test_peering_seen_from_both_sides_is_one_model() -> None:
    inv = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", ipv6=["2600:1f18:1::/56"])
        .vpc("vpc-b", "10.1.0.0/16", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .peering("pcx-1", "vpc-a", "vpc-b", status="pending-acceptance", expires=hours_from_now(5))
        .inventory()
    )
    [p] = inv.peerings
    assert p.status == "pending-acceptance"
    assert p.expiration_time == NOW + dt.timedelta(hours=5)
    assert [(s.account_id, s.region) for s in p.seen_in] == [
        (ACCOUNT, REGION),
        (OTHER_ACCOUNT, OTHER_REGION),
    ]
    assert (p.requester.owner_id, p.requester.region, p.requester.vpc_id) == (
        ACCOUNT,
        REGION,
        "vpc-a",
    )
    assert [str(c) for c in p.requester.cidrs] == ["10.0.0.0/16", "2600:1f18:1::/56"]
    assert p.requester.allow_remote_dns is False
    # While pending, AWS reports no CIDRs or options for the accepter.
    assert p.accepter.cidrs == ()
    assert p.accepter.allow_remote_dns is None
    assert p.side("vpc-b") is p.accepter
    assert p.other(p.accepter) is p.requester
    assert p.side("vpc-z") is None
    assert [x.peering_id for x in inv.peerings_of("vpc-a")] == ["pcx-1"]
    assert [x.peering_id for x in inv.peerings_of("vpc-b")] == ["pcx-1"]


def test_endpoint_flow_log_gateway_and_prefix_list_models() -> None:
    inv = (
        SnapshotBuilder()
        .endpoint("vpce-1", "vpc-a", "s3", state="Available", subnets=["subnet-1"])
        .flow_log("fl-1", "vpc-a", status="ACTIVE", destination_type="cloud-watch-logs")
        .vpn_gateway("vgw-1", "vpc-a")
        .vpn_gateway("vgw-2", "vpc-a", attachment_state="detached")
        .tgw_attachment("tgw-attach-1", "vpc-a")
        .prefix_list("pl-63a5400a", "com.amazonaws.us-east-1.s3")
        .inventory()
    )
    [ep] = inv.endpoints_of("vpc-a")
    assert (ep.endpoint_type, ep.service_name, ep.state) == (
        "Interface",
        "com.amazonaws.us-east-1.s3",
        "available",
    )
    assert ep.subnet_ids == ("subnet-1",)
    assert ep.group_ids == ("sg-0default",)
    [fl] = inv.flow_logs_for("vpc-a")
    assert (fl.status, fl.deliver_status, fl.traffic_type, fl.destination_type) == (
        "ACTIVE",
        "SUCCESS",
        "ALL",
        "cloud-watch-logs",
    )
    assert fl.destination == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/vpc/vpc-a"
    assert [g.gateway_id for g in inv.vpn_gateways_of("vpc-a")] == ["vgw-1"]
    assert [a.attachment_id for a in inv.tgw_attachments_of("vpc-a")] == ["tgw-attach-1"]
    assert inv.prefix_list_names == {(REGION, "pl-63a5400a"): "com.amazonaws.us-east-1.s3"}


# -- coverage ---------------------------------------------------------------------------------


def test_was_read_follows_scanned_regions_and_gaps() -> None:
    inv = (
        SnapshotBuilder()
        .scan()
        .scan(OTHER_ACCOUNT, REGION)
        .gap("DescribeFlowLogs")
        .gap("*", account=OTHER_ACCOUNT, region=REGION, code="AuthFailure")
        .inventory()
    )
    assert inv.was_read(ACCOUNT, REGION, "route_tables")
    assert not inv.was_read(ACCOUNT, REGION, "flow_logs")
    assert not inv.was_read(ACCOUNT, OTHER_REGION, "route_tables")  # never scanned
    assert not inv.was_read(OTHER_ACCOUNT, REGION, "vpcs")  # region-wide failure
    assert inv.scanned_accounts == {ACCOUNT, OTHER_ACCOUNT}
    assert inv.as_of == NOW


def test_org_membership_known_or_unknown() -> None:
    assert SnapshotBuilder().scan().inventory().is_org_member(ACCOUNT) is None
    inv = SnapshotBuilder(org_account_ids=[ACCOUNT]).scan().inventory()
    assert inv.is_org_member(ACCOUNT) is True
    assert inv.is_org_member(OTHER_ACCOUNT) is False


def test_bad_item_timestamp_quarantines_the_item() -> None:
    snap = SnapshotBuilder().vpc("vpc-a").vpc("vpc-b", "10.1.0.0/16").build()
    bad = SnapshotBuilder().vpc("vpc-a").vpc("vpc-b", "10.1.0.0/16")
    bad.peering("pcx-1", "vpc-a", "vpc-b", status="pending-acceptance", expires="next tuesday")
    assert len(Inventory.from_snapshot(snap).vpcs) == 2
    inv = Inventory.from_snapshot(bad.build())
    assert inv.peerings == ()
    [gap] = inv.gaps
    assert "ExpirationTime 'next tuesday' is not a timestamp" in gap.message


def test_item_missing_its_id_is_quarantined() -> None:
    snap = SnapshotBuilder().vpc("vpc-a").build()
    del snap.regions[0].resources["vpcs"][0]["VpcId"]
    inv = Inventory.from_snapshot(snap)
    assert inv.vpcs == ()
    [gap] = inv.gaps
    assert (gap.operation, gap.error_code) == ("ec2:DescribeVpcs", "MalformedSnapshotItem")
    assert "VpcId is missing" in gap.message


# -- snapshot files ---------------------------------------------------------------------------


def test_snapshot_save_load_round_trip(tmp_path: Path) -> None:
    snap = load_fixture("cross_account_peering.json")
    path = tmp_path / "s.json"
    snap.save(path)
    again = Snapshot.load(path)
    assert again == snap
    assert again.to_dict() == snap.to_dict()
    # Saving is canonical: the same snapshot writes the same bytes.
    path2 = tmp_path / "s2.json"
    again.save(path2)
    assert path2.read_bytes() == path.read_bytes()
    assert Inventory.from_snapshot(again) == Inventory.from_snapshot(snap)


def test_built_snapshot_round_trips_with_gaps_and_org(tmp_path: Path) -> None:
    snap = (
        SnapshotBuilder(org_account_ids=[ACCOUNT, OTHER_ACCOUNT])
        .vpc("vpc-a")
        .gap("DescribeFlowLogs")
        .build()
    )
    path = tmp_path / "s.json"
    snap.save(path)
    again = Snapshot.load(path)
    assert again == snap
    assert again.gaps[0].operation == "ec2:DescribeFlowLogs"
    assert again.org_account_ids == frozenset({ACCOUNT, OTHER_ACCOUNT})
    assert "flow_logs" not in again.regions[0].resources


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "snapshot.json"
    path.write_text(text, encoding="utf-8")
    return path


def fixture_doc() -> dict[str, Any]:
    return load_fixture("endpoints.json").to_dict()


@pytest.mark.parametrize("version", [0, 3, "1", "2", None])
def test_wrong_schema_version_is_refused(tmp_path: Path, version: object) -> None:
    doc = fixture_doc()
    doc["schema_version"] = version
    with pytest.raises(SnapshotError, match=f"schema_version {version!r} is not supported"):
        Snapshot.load(write(tmp_path, json.dumps(doc)))


def test_current_schema_version_is_two_and_the_v1_fixtures_still_load() -> None:
    # Version 2 added the network kinds; a version 1 snapshot loads and lacks them.
    assert SCHEMA_VERSION == 2
    assert fixture_doc()["schema_version"] == 2
    raw = json.loads((FIXTURES / "endpoints.json").read_text())
    assert raw["schema_version"] == 1


def test_not_json_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match=r"not valid JSON \(line 1, column 1\)"):
        Snapshot.load(write(tmp_path, "this is not json"))


def test_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    path.write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(SnapshotError, match="not UTF-8"):
        Snapshot.load(path)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="cannot read snapshot"):
        Snapshot.load(tmp_path / "absent.json")


@pytest.mark.parametrize("doc", [[], {"kind": "other"}, {"schema_version": 1}])
def test_not_a_snapshot_is_refused(tmp_path: Path, doc: object) -> None:
    with pytest.raises(SnapshotError, match="not a vpcaudit snapshot"):
        Snapshot.load(write(tmp_path, json.dumps(doc)))


@pytest.mark.parametrize("field", ["started_at", "finished_at", "accounts", "regions"])
def test_missing_top_level_field_is_refused(tmp_path: Path, field: str) -> None:
    doc = fixture_doc()
    del doc[field]
    with pytest.raises(SnapshotError, match=f"malformed snapshot: {field} is missing"):
        Snapshot.load(write(tmp_path, json.dumps(doc)))


def test_region_missing_resources_is_refused(tmp_path: Path) -> None:
    doc = fixture_doc()
    del doc["regions"][0]["resources"]
    with pytest.raises(SnapshotError, match=r"regions\[0\]\.resources must be an object"):
        Snapshot.load(write(tmp_path, json.dumps(doc)))


def test_resources_not_a_list_of_objects_is_refused(tmp_path: Path) -> None:
    doc = fixture_doc()
    doc["regions"][0]["resources"]["vpcs"] = ["vpc-1"]
    with pytest.raises(SnapshotError, match=r"resources\.'vpcs' must be a list of objects"):
        Snapshot.load(write(tmp_path, json.dumps(doc)))


def test_gap_missing_a_field_is_refused(tmp_path: Path) -> None:
    doc = fixture_doc()
    doc["gaps"] = [{"account_id": ACCOUNT, "region": REGION}]
    with pytest.raises(SnapshotError, match=r"gaps\[0\] lacks operation, error_code, message"):
        Snapshot.load(write(tmp_path, json.dumps(doc)))


def test_models_do_not_depend_on_snapshot_order() -> None:
    snap = load_fixture("cross_account_peering.json")
    backwards = with_items(snap, lambda items: list(reversed(items)))
    assert backwards.regions[0].account_id == OTHER_ACCOUNT
    assert Inventory.from_snapshot(backwards) == Inventory.from_snapshot(snap)
    inv = Inventory.from_snapshot(backwards)
    assert [t.route_table_id for t in inv.route_tables_of("vpc-0data")] == [
        "rtb-0datamain",
        "rtb-0dataspare",
        "rtb-0dataused",
    ]
