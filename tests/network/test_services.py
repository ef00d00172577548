"""AWS services as destinations: gateway endpoint, interface endpoint (by private DNS), or
the internet, as DNS and the route table decide."""

from __future__ import annotations

import pytest

from tests.builders import SnapshotBuilder, open_nacl_entries, permission, route
from vpcaudit.network import NetworkModel

INBOUND_ONLY = {"DnsRecordIpType": "ipv4", "PrivateDnsOnlyForInboundResolverEndpoint": True}


def _vpc(interface_dns: dict[str, object] | None, private_dns: bool) -> NetworkModel:
    b = SnapshotBuilder()
    b.prefix_list("pl-s3", "com.amazonaws.us-east-1.s3")
    b.vpc("vpc-a", "10.0.0.0/16").subnet("subnet-a", "vpc-a", "10.0.1.0/24")
    b.route_table(
        "rtb-a", "vpc-a", main=True, subnets=["subnet-a"], routes=[route("pl-s3", "vpce-gw")]
    )
    b.network_acl("acl-a", "vpc-a", subnets=["subnet-a"], entries=open_nacl_entries(), default=True)
    b.security_group("sg-ep", "vpc-a", ingress=[permission("tcp", 443, cidrs=["10.0.0.0/16"])])
    b.endpoint("vpce-gw", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-a"])
    b.endpoint(
        "vpce-if",
        "vpc-a",
        "s3",
        subnets=["subnet-a"],
        private_dns=private_dns,
        groups=["sg-ep"],
        network_interfaces=["eni-ep"],
        dns_options=interface_dns,
    )
    b.network_interface("eni-ep", "subnet-a", private_ip="10.0.1.50", groups=["sg-ep"],
                        interface_type="vpc_endpoint")  # fmt: skip
    return NetworkModel(b.inventory())


@pytest.mark.parametrize(
    ("dns", "private_dns", "via"),
    [
        # Private DNS for every resolver: in-VPC clients resolve S3 to the interface endpoint.
        (None, True, "eni-ep"),
        # AWS's hybrid pattern: private DNS only for inbound resolver queries (on-premises);
        # in-VPC clients keep the public name and the gateway endpoint's route.
        (INBOUND_ONLY, True, "vpce-gw"),
        # Private DNS off: only clients configured with the endpoint's own name use it.
        (None, False, "vpce-gw"),
    ],
)  # fmt: skip
def test_dns_decides_which_endpoint_s3_traffic_uses(
    dns: dict[str, object] | None, private_dns: bool, via: str
) -> None:
    a = _vpc(dns, private_dns).path("subnet-a", "s3", protocol="tcp", port=443)
    assert a.verdict.value == "reachable", a.explanation
    assert via in [h.component.id for h in a.forward]
