"""What the collectors read: each resource kind declared as data (`ResourceSpec`).

A kind is read with one paginated call per (account, region), or, for the few calls AWS offers
no bulk form of (a Transit Gateway route table's routes, associations and propagations, a
customer-managed prefix list's entries), one call per item of an earlier kind (`PerParent`).
The number of those grows with TGW route tables and customer prefix lists, never with VPCs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from vpcaudit.snapshot import RawItem, RegionData, Snapshot

Resources = dict[str, list[RawItem]]


@dataclass(frozen=True)
class PerParent:
    """Read the kind with one call per item of an earlier kind, AWS having no bulk call."""

    kind: str
    """The parent kind; it comes earlier in SPECS, so it has been read by then."""
    param: str
    """The request parameter, set from the parent item's field of the same name. The raw items
    answered do not say which parent they belong to, so each is stamped with this key too."""
    where: Callable[[RawItem], bool] | None = None
    """Which parent items to read for (None: every one)."""

    def parents(self, resources: Resources) -> list[RawItem]:
        """The parent items there is one call for."""
        items = resources.get(self.kind, [])
        return [p for p in items if self.where is None or self.where(p)]


class Scope(StrEnum):
    """Where a kind can exist, which decides whether a region with no VPC is asked for it."""

    REGION = "region"
    """It can exist in a region that holds no VPC: always read."""
    VPC = "vpc"
    """It lives in a VPC (the account's own, or one shared with it, which DescribeVpcs lists
    too): where DescribeVpcs answers none, there is none, and it is not asked for."""
    TGW = "tgw"
    """Without a VPC it can exist only on a Transit Gateway this account owns (which
    DescribeTransitGateways lists): asked for where there is a VPC or such a gateway."""


NO_VPC = "no VPC in this region (DescribeVpcs answered none): cannot exist here, not asked"
NO_VPC_NO_TGW = (
    "no VPC and no Transit Gateway in this region (DescribeVpcs and DescribeTransitGateways "
    "answered none): cannot exist here, not asked"
)


@dataclass(frozen=True)
class ResourceSpec:
    """How to enumerate one resource kind: the operation, its result key, its page size."""

    kind: str
    operation: str
    """The API operation name, e.g. DescribeVpcs."""
    result_key: str
    page_size: int | None
    """MaxResults to ask for (the API's maximum); None sends none, either because the operation
    is not paginated or because the API's default page is already its maximum. Pages are
    followed whenever botocore has a paginator for the operation."""
    service: str = "ec2"
    needed: Callable[[Resources], bool] | None = None
    """Read only when this holds for what was read before it (None: always). A PerParent kind
    is needed only when its parent kind was read."""
    per: PerParent | None = None
    """Set when the kind is read with one call per parent item instead of one per region."""
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    """Fixed request parameters of every call."""
    more_results: str | None = None
    """A response flag saying AWS holds more items than it answered with no token to fetch
    them by (an older, unpaginated form of the API): the read is then a "Truncated" gap."""
    redact: tuple[tuple[str, ...], ...] = ()
    """Key paths of secrets removed from every item before it is kept (a list on the way is
    walked element by element): a snapshot is a file that gets shared."""
    scope: Scope = Scope.REGION
    """Where the kind can exist: a region with no VPC is not asked for VPC-bound kinds (see
    `skip_reason`). A per-parent kind follows its parent; a conditional one its condition."""

    def __post_init__(self) -> None:
        if self.per is not None and self.needed is None:
            parent = self.per.kind
            object.__setattr__(self, "needed", lambda res: parent in res)

    @property
    def method(self) -> str:
        """The boto3 method name (describe_vpcs)."""
        out = []
        for i, ch in enumerate(self.operation):
            if ch.isupper() and i:
                out.append("_")
            out.append(ch.lower())
        return "".join(out)

    @property
    def op(self) -> str:
        """service:Operation, as gaps and call counts name it."""
        return f"{self.service}:{self.operation}"

    @property
    def every_region(self) -> bool:
        """True when the kind is read with exactly one call (plus pages) in every region that
        holds a VPC."""
        return self.needed is None and self.per is None

    def skip_reason(self, resources: Resources) -> str | None:
        """Why the kind cannot exist in the region, judged from the kinds read before it (the
        VPCs first), or None when it must be read. Unknown (a failed read) is never a reason."""
        if self.scope is Scope.REGION or not _read_none(resources, "vpcs"):
            return None
        if self.scope is Scope.VPC:
            return NO_VPC
        return NO_VPC_NO_TGW if _read_none(resources, "transit_gateways") else None


def _read_none(resources: Resources, kind: str) -> bool:
    """The kind was read (no failure) and AWS answered none."""
    return kind in resources and not resources[kind]


def strip_secrets(item: Any, path: tuple[str, ...]) -> None:
    """Remove the value at a key path from a JSON value in place (lists walked elementwise)."""
    if isinstance(item, list):
        for element in item:
            strip_secrets(element, path)
    elif isinstance(item, dict) and path:
        if len(path) == 1:
            item.pop(path[0], None)
        elif path[0] in item:
            strip_secrets(item[path[0]], path[1:])


def _live_tgw_table(table: RawItem) -> bool:
    # A deleted table stays listed for a while; asking for its routes would only fail.
    return table.get("State") not in ("deleting", "deleted")


def _customer_prefix_list(pl: RawItem) -> bool:
    # AWS-managed lists (S3, DynamoDB, CloudFront, ...) are not expanded: there are dozens per
    # region, their entries change without notice, and routes name them by id anyway.
    return pl.get("OwnerId") != "AWS" and pl.get("State") not in (
        "delete-in-progress",
        "delete-complete",
    )


_PER_TGW_TABLE = PerParent("tgw_route_tables", "TransitGatewayRouteTableId", _live_tgw_table)

# Where each kind can exist (`scope`), so a region with no VPC -- most regions of a well-run
# organization, default VPCs deleted -- is read with DescribeVpcs, DescribeTransitGateways and
# the five kinds that exist outside VPCs, instead of every kind:
# - VPC-bound: subnets, route tables, endpoints, NAT gateways, security groups (EC2-Classic is
#   gone), network ACLs, ENIs (every one is in a subnet), egress-only IGWs (made for a VPC, never
#   detached). VPCs shared with the account through RAM are listed by DescribeVpcs too.
# - Peerings: a peering joins two VPCs, and a region lists those where a VPC of this account in
#   this region is the requester or the accepter; with another account's VPC on the far side
#   the near side is still ours and here. Deleting a VPC deletes its peerings (they stay listed
#   as "deleted" a few hours, carrying no route): none can exist here without a VPC.
# - Transit Gateway kinds and flow logs: a TGW needs no VPC (a hub account may own one with
#   other accounts' VPC attachments, VPNs and peerings), so its attachments, route tables and
#   flow logs (a flow log is on a VPC, subnet, ENI, TGW or TGW attachment) are read where there
#   is a VPC or a TGW. A participant's attachment to a shared TGW needs its own VPC.
# - Always read: Transit Gateways; customer-managed prefix lists (they exist alone and are
#   shared through RAM); VPN gateways (they can be detached, a VPN can end on one); VPN
#   connections (they can be unattached); Elastic IPs (allocated to the account, in no VPC);
#   internet gateways (they can be detached).
# Log groups are read only for CloudWatch Logs flow logs, and the per-parent kinds only for
# their parents, so both follow the kinds above.
_VPC = Scope.VPC
_TGW = Scope.TGW

SPECS: tuple[ResourceSpec, ...] = (
    # First: whether the region holds a VPC decides which kinds below are asked for.
    ResourceSpec("vpcs", "DescribeVpcs", "Vpcs", 1000),
    # Second: whether it holds a Transit Gateway decides the TGW-bound kinds.
    ResourceSpec("transit_gateways", "DescribeTransitGateways", "TransitGateways", 1000),
    ResourceSpec("subnets", "DescribeSubnets", "Subnets", 1000, scope=_VPC),
    ResourceSpec("route_tables", "DescribeRouteTables", "RouteTables", 100, scope=_VPC),
    ResourceSpec(
        "peerings", "DescribeVpcPeeringConnections", "VpcPeeringConnections", 1000, scope=_VPC
    ),
    ResourceSpec("endpoints", "DescribeVpcEndpoints", "VpcEndpoints", 1000, scope=_VPC),
    ResourceSpec("flow_logs", "DescribeFlowLogs", "FlowLogs", 1000, scope=_TGW),
    ResourceSpec("prefix_lists", "DescribeManagedPrefixLists", "PrefixLists", 100),
    ResourceSpec("vpn_gateways", "DescribeVpnGateways", "VpnGateways", None),
    ResourceSpec(
        "tgw_attachments",
        "DescribeTransitGatewayAttachments",
        "TransitGatewayAttachments",
        1000,
        scope=_TGW,
    ),
    ResourceSpec("nat_gateways", "DescribeNatGateways", "NatGateways", 1000, scope=_VPC),
    ResourceSpec("internet_gateways", "DescribeInternetGateways", "InternetGateways", 1000),
    ResourceSpec("security_groups", "DescribeSecurityGroups", "SecurityGroups", 1000, scope=_VPC),
    # The network model (vpcaudit/network): filters, interfaces, Transit Gateways, VPNs.
    ResourceSpec("network_acls", "DescribeNetworkAcls", "NetworkAcls", 1000, scope=_VPC),
    ResourceSpec(
        "network_interfaces",
        "DescribeNetworkInterfaces",
        "NetworkInterfaces",
        1000,
        scope=_VPC,
    ),
    ResourceSpec(
        "tgw_vpc_attachments",
        "DescribeTransitGatewayVpcAttachments",
        "TransitGatewayVpcAttachments",
        1000,
        scope=_TGW,
    ),
    ResourceSpec(
        "tgw_peering_attachments",
        "DescribeTransitGatewayPeeringAttachments",
        "TransitGatewayPeeringAttachments",
        1000,
        scope=_TGW,
    ),
    ResourceSpec(
        "tgw_connects",
        "DescribeTransitGatewayConnects",
        "TransitGatewayConnects",
        1000,
        scope=_TGW,
    ),
    ResourceSpec(
        "tgw_route_tables",
        "DescribeTransitGatewayRouteTables",
        "TransitGatewayRouteTables",
        1000,
        scope=_TGW,
    ),
    ResourceSpec(
        "tgw_routes",
        "SearchTransitGatewayRoutes",
        "Routes",
        # No MaxResults: the documented default (1000) is the maximum, and moto 5.2.5 fails
        # the call when MaxResults is given.
        None,
        per=_PER_TGW_TABLE,
        # Filters is required; these two types are every route, active and blackhole alike.
        params={"Filters": [{"Name": "type", "Values": ["static", "propagated"]}]},
        more_results="AdditionalRoutesAvailable",
    ),
    ResourceSpec(
        "tgw_associations",
        "GetTransitGatewayRouteTableAssociations",
        "Associations",
        1000,
        per=_PER_TGW_TABLE,
    ),
    ResourceSpec(
        "tgw_propagations",
        "GetTransitGatewayRouteTablePropagations",
        "TransitGatewayRouteTablePropagations",
        1000,
        per=_PER_TGW_TABLE,
    ),
    ResourceSpec(
        "egress_only_igws",
        "DescribeEgressOnlyInternetGateways",
        "EgressOnlyInternetGateways",
        255,
        scope=_VPC,
    ),
    ResourceSpec(
        "vpn_connections",
        "DescribeVpnConnections",
        "VpnConnections",
        None,
        # The tunnels' pre-shared keys, in the options and in the device configuration text.
        redact=(("CustomerGatewayConfiguration",), ("Options", "TunnelOptions", "PreSharedKey")),
    ),
    ResourceSpec("addresses", "DescribeAddresses", "Addresses", None),
    ResourceSpec(
        "prefix_list_entries",
        "GetManagedPrefixListEntries",
        "Entries",
        100,
        per=PerParent("prefix_lists", "PrefixListId", _customer_prefix_list),
    ),
    # Log groups tell whether a CloudWatch Logs flow-log destination still exists; a region
    # with no such flow log is not asked (a region can hold thousands of log groups).
    ResourceSpec(
        "log_groups",
        "DescribeLogGroups",
        "logGroups",
        50,
        service="logs",
        needed=lambda res: any(
            f.get("LogDestinationType") == "cloud-watch-logs" for f in res.get("flow_logs", [])
        ),
    ),
)


def not_collected(snap: Snapshot) -> list[tuple[str, str, tuple[str, ...]]]:
    """Per (account, region): kinds this version collects that the snapshot lacks, with no gap
    to explain it (a snapshot taken by an older vpcaudit): rules cannot see those."""
    by_kind = {s.kind: s for s in SPECS}
    failed = {(g.account_id, g.region, g.operation) for g in snap.gaps}
    dead = {(g.account_id, g.region) for g in snap.gaps if g.operation == "*"}
    dead |= {(g.account_id, r.region) for g in snap.gaps if g.region == "*" for r in snap.regions}
    out = []
    for r in sorted(snap.regions, key=lambda r: (r.account_id, r.region)):
        if (r.account_id, r.region) in dead:
            continue

        def lacks(spec: ResourceSpec, r: RegionData = r) -> bool:
            if spec.kind in r.resources or (r.account_id, r.region, spec.op) in failed:
                return False
            if spec.per is not None:
                # Read once its parent was read: a parent that failed explains the absence, a
                # parent that is there (or is itself missing from an old snapshot) does not.
                parent = by_kind[spec.per.kind]
                return parent.kind in r.resources or lacks(parent)
            # A kind read only when an earlier one calls for it may rightly be absent.
            return spec.needed is None

        missing = tuple(s.kind for s in SPECS if lacks(s))
        if missing:
            out.append((r.account_id, r.region, missing))
    return out
