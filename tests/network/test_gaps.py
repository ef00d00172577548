"""What was not read makes an answer unknown, never blocked: a per-table read that failed for
some tables leaves the kind present but incomplete, and the gap is what says so."""

from __future__ import annotations

import dataclasses

import pytest

from tests.builders import SnapshotBuilder, open_nacl_entries, permission, route, tgw_route
from vpcaudit.inventory import Inventory
from vpcaudit.model import Gap
from vpcaudit.network import NetworkModel
from vpcaudit.snapshot import Snapshot

ACCT, REGION = "111111111111", "us-east-1"


def _hub() -> SnapshotBuilder:
    """app (10.1/16) -> TGW -> db (10.2/16), both ways, every filter open."""
    b = SnapshotBuilder()
    b.transit_gateway("tgw-1", default_association=False, default_propagation=False)
    for name, n in (("app", 1), ("db", 2)):
        vpc, sub = f"vpc-{name}", f"subnet-{name}"
        b.vpc(vpc, f"10.{n}.0.0/16").subnet(sub, vpc, f"10.{n}.1.0/24")
        other = "10.2.0.0/16" if n == 1 else "10.1.0.0/16"
        b.route_table(f"rtb-{name}", vpc, main=True, subnets=[sub], routes=[route(other, "tgw-1")])
        b.tgw_attachment(f"tgw-attach-{name}", vpc, transit_gateway_id="tgw-1", subnets=[sub])
        b.network_acl(f"acl-{name}", vpc, subnets=[sub], entries=open_nacl_entries(), default=True)
        b.security_group(f"sg-{name}", vpc, ingress=[permission("-1", cidrs=["10.0.0.0/8"])])
        b.network_interface(f"eni-{name}", sub, private_ip=f"10.{n}.1.10", groups=[f"sg-{name}"])
    b.tgw_route_table(
        "tgw-rtb-1",
        "tgw-1",
        associations=["tgw-attach-app", "tgw-attach-db"],
        routes=[
            tgw_route("10.1.0.0/16", ["tgw-attach-app"], route_type="propagated"),
            tgw_route("10.2.0.0/16", ["tgw-attach-db"], route_type="propagated"),
        ],
    )
    return b


def _with_gap(snap: Snapshot, operation: str) -> Snapshot:
    gap = Gap(ACCT, REGION, operation, "AccessDenied", "denied for 1 of 1 tables")
    return dataclasses.replace(snap, gaps=(*snap.gaps, gap))


def _ask(snap: Snapshot, src: str = "eni-app", dst: str = "eni-db") -> tuple[str, str]:
    a = NetworkModel(Inventory.from_snapshot(snap)).path(src, dst, protocol="tcp", port=443)
    return a.verdict.value, a.code


def test_the_control_is_reachable() -> None:
    assert _ask(_hub().build()) == ("reachable", "")


@pytest.mark.parametrize(
    "operation",
    ["ec2:SearchTransitGatewayRoutes", "ec2:GetTransitGatewayRouteTableAssociations"],
)
def test_a_partly_failed_per_table_read_is_unknown_not_a_missing_route(operation: str) -> None:
    # The items of the tables that answered are kept; the gap marks the read incomplete.
    assert _ask(_with_gap(_hub().build(), operation)) == ("unknown", "NOT_READ")


def test_an_unread_customer_prefix_list_in_a_route_is_unknown() -> None:
    b2 = _hub()
    b2.prefix_list("pl-corp", "corp", owner=ACCT, entries=["10.2.0.0/16"])
    snap = b2.build()
    # Make app's table route through the list, then lose the entries read.
    snap = _route_via_prefix_list(snap)
    assert _ask(snap) == ("reachable", "")
    assert _ask(_with_gap(snap, "ec2:GetManagedPrefixListEntries")) == ("unknown", "NOT_READ")


def _route_via_prefix_list(snap: Snapshot) -> Snapshot:
    regions = []
    for r in snap.regions:
        res = {k: list(v) for k, v in r.resources.items()}
        for t in res.get("route_tables", []):
            if t["RouteTableId"] == "rtb-app":
                t["Routes"] = [
                    x for x in t["Routes"] if x.get("DestinationCidrBlock") != "10.2.0.0/16"
                ] + [route("pl-corp", "tgw-1")]
        regions.append(dataclasses.replace(r, resources=res))
    return dataclasses.replace(snap, regions=tuple(regions))


def test_a_security_group_rule_on_an_unread_prefix_list_is_unknown_not_denied() -> None:
    b = _hub()
    b.prefix_list("pl-corp", "corp", owner=ACCT, entries=["10.1.0.0/16"])
    b.security_group("sg-pl", "vpc-db", ingress=[permission("tcp", 443, prefix_lists=["pl-corp"])])
    b.network_interface("eni-pl", "subnet-db", private_ip="10.2.1.20", groups=["sg-pl"])
    snap = b.build()
    assert _ask(snap, dst="eni-pl") == ("reachable", "")
    lost = _with_gap(snap, "ec2:GetManagedPrefixListEntries")
    assert _ask(lost, dst="eni-pl") == ("unknown", "NOT_READ")
