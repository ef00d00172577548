"""Central egress: a spoke's traffic may leave through the egress VPC's NAT gateway, never
straight through that VPC's internet gateway or gateway endpoint (no edge-to-edge routing)."""

from __future__ import annotations

import pytest

from tests.builders import SnapshotBuilder, open_nacl_entries, permission, route, tgw_route
from vpcaudit.network import NetworkModel


def _central_egress(egress_target: str) -> NetworkModel:
    """spoke (10.1/16) 0/0 -> TGW -> egress VPC (10.0/16), whose TGW subnet sends 0/0 and the
    S3 prefix list to `egress_target` (a NAT gateway, the IGW, or the gateway endpoint)."""
    b = SnapshotBuilder()
    b.transit_gateway("tgw-1", default_association=False, default_propagation=False)
    b.prefix_list("pl-s3", "com.amazonaws.us-east-1.s3")
    b.vpc("vpc-spoke", "10.1.0.0/16").subnet("subnet-spoke", "vpc-spoke", "10.1.1.0/24")
    b.vpc("vpc-egress", "10.0.0.0/16").subnet("subnet-tgw", "vpc-egress", "10.0.1.0/24")
    b.subnet("subnet-public", "vpc-egress", "10.0.2.0/24")
    b.internet_gateway("igw-1", "vpc-egress")
    b.nat_gateway("nat-1", "vpc-egress", "subnet-public", private_ip="10.0.2.5")
    b.endpoint("vpce-s3", "vpc-egress", "s3", endpoint_type="Gateway", route_tables=["rtb-tgw"])
    b.route_table(
        "rtb-spoke",
        "vpc-spoke",
        main=True,
        subnets=["subnet-spoke"],
        routes=[route("0.0.0.0/0", "tgw-1")],
    )
    b.route_table(
        "rtb-tgw",
        "vpc-egress",
        subnets=["subnet-tgw"],
        routes=[
            route("0.0.0.0/0", egress_target),
            route("10.1.0.0/16", "tgw-1"),
            *([route("pl-s3", egress_target)] if egress_target.startswith("vpce") else []),
        ],
    )
    b.route_table(
        "rtb-public",
        "vpc-egress",
        main=True,
        subnets=["subnet-public"],
        routes=[route("0.0.0.0/0", "igw-1"), route("10.1.0.0/16", "tgw-1")],
    )
    for vpc, subs in (
        ("vpc-spoke", ["subnet-spoke"]),
        ("vpc-egress", ["subnet-tgw", "subnet-public"]),
    ):
        b.network_acl(f"acl-{vpc}", vpc, subnets=subs, entries=open_nacl_entries(), default=True)
    b.security_group("sg-app", "vpc-spoke", ingress=[permission("-1", cidrs=["10.0.0.0/8"])])
    b.network_interface(
        "eni-app",
        "subnet-spoke",
        private_ip="10.1.1.10",
        groups=["sg-app"],
        public_ip="198.51.100.7",
    )
    b.tgw_attachment("att-spoke", "vpc-spoke", transit_gateway_id="tgw-1", subnets=["subnet-spoke"])
    b.tgw_attachment("att-egress", "vpc-egress", transit_gateway_id="tgw-1", subnets=["subnet-tgw"])
    b.tgw_route_table(
        "tgw-rtb",
        "tgw-1",
        associations=["att-spoke", "att-egress"],
        routes=[
            tgw_route("0.0.0.0/0", ["att-egress"]),
            tgw_route("10.1.0.0/16", ["att-spoke"], route_type="propagated"),
        ],
    )
    return NetworkModel(b.inventory())


def test_through_the_egress_nat_gateway_the_internet_is_reachable() -> None:
    a = _central_egress("nat-1").path("eni-app", "internet", protocol="tcp", port=443)
    assert (a.verdict.value, a.code) == ("reachable", "")
    assert [h.component.id for h in a.forward if h.component.kind == "nat-gateway"] == ["nat-1"]


@pytest.mark.parametrize(
    ("target", "dst", "blocked_at"),
    [
        ("igw-1", "internet", "igw-1"),
        ("vpce-s3", "s3", "vpce-s3"),
    ],
)
def test_no_edge_to_edge_through_another_vpcs_gateway(
    target: str, dst: str, blocked_at: str
) -> None:
    # Even with a public IP on the spoke's interface: the egress VPC's IGW does not know it.
    a = _central_egress(target).path("eni-app", dst, protocol="tcp", port=443)
    assert (a.verdict.value, a.code) == ("not-reachable", "EDGE_TO_EDGE")
    assert a.blocking is not None and a.blocking.id == blocked_at
