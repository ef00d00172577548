"""A small fidelity layer over moto, for the demo and the tests only.

moto omits some fields real EC2 returns. Rather than weaken the tool, this layer adds them back
on the client side, after moto has answered and before the scanner sees the response, through
botocore `after-call` handlers on the demo's sessions. It replays only what the seeding code
recorded, and never invents a resource. What it fixes:

- DescribeVpcPeeringConnections: moto sets no ExpirationTime on pending-acceptance requests.
  Real EC2 sets it to 7 days after the request was made; the layer does the same from the
  creation times the seeding code recorded. A request it has no creation time for keeps no
  ExpirationTime, as an old or foreign request might, so the tool's "expiry unknown" path runs.
  A request the seeding recorded as failed (EC2 fails overlapping CIDR blocks; moto leaves
  them pending) reads as failed.
- DescribeRouteTables: a route to a deleted peering reads as blackhole, as in EC2; a route to a
  Cloud WAN core network keeps its CoreNetworkArn (moto accepts the route, then drops it).
- Transit Gateways made with default route-table association and propagation off: EC2 makes no
  default route table; moto makes one anyway, names it in the TGW's options and associates
  every VPC attachment with it. DescribeTransitGateways, DescribeTransitGatewayRouteTables and
  DescribeTransitGatewayAttachments leave that table out, and an attachment's Association is
  the one the seeding made (moto always reports its default table there).
- TGW peering attachments: in the accepter's region EC2 describes the attachment from the
  accepter's side (its own TGW as TransitGatewayId, the requester's as ResourceId); moto gives
  the requester's view in both regions, names the requester's account as the owner of both
  ends (ResourceOwnerId is the other TGW's owner in EC2), and also lists peering attachments
  among DescribeTransitGatewayVpcAttachments' answer, where they are dropped.
- A deleted TGW attachment is no longer associated with a route table, as in EC2 (moto keeps
  an attachment's association with the default table it made for it).
- SearchTransitGatewayRoutes: static routes carry their TransitGatewayAttachments (moto returns
  an empty list), and a table holds the routes propagation puts in it (moto creates none): one
  per CIDR block of each VPC attachment propagating into the table, unless a static route has
  the same destination (the static route wins). The request's `type`, `state` and
  `route-search.exact-match` filters apply to them. A static route to an attachment the seeding
  deleted reads blackhole, as in EC2 (moto keeps it active).
- DescribeSecurityGroups: a group pair that names a peering (VpcPeeringConnectionId) carries
  its PeeringStatus, as in EC2 (moto drops it): "deleted" for a peering the seeding deleted,
  else "active".
- DescribeNetworkAcls: a custom ACL ends with the final "*" deny rules EC2 lists (rule 32767
  for IPv4, 32768 for IPv6 in a VPC with an IPv6 block); a default ACL of an IPv6 VPC has its
  allow-all IPv6 rules (101). moto lists neither.

moto 5.2.5 also lacks one call the collectors make, DescribeTransitGatewayConnects (in-process
it raises NotImplementedError out of the client call). `answer_unimplemented()` gives moto's
EC2 that action while the demo runs, answering an empty list: the true answer, since moto
cannot create a Connect attachment either. The call goes through the scanner's whole stack.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3

PENDING_LIFETIME = dt.timedelta(days=7)
_PARAMS = "vpcaudit_fidelity_params"
"""The request context key under which a call's parameters wait for its after-call handler."""
_ROUTE_FILTERS = {
    "type": "Type",
    "state": "State",
    "route-search.exact-match": "DestinationCidrBlock",
}


def _nacl_entry(rule: int, *, egress: bool, allow: bool, ipv6: bool) -> dict[str, Any]:
    key, cidr = ("Ipv6CidrBlock", "::/0") if ipv6 else ("CidrBlock", "0.0.0.0/0")
    return {
        key: cidr,
        "Egress": egress,
        "Protocol": "-1",
        "RuleAction": "allow" if allow else "deny",
        "RuleNumber": rule,
    }


@dataclass
class MotoFidelity:
    """Facts moto does not keep, recorded at seeding time and replayed into responses."""

    peering_created_at: dict[str, dt.datetime] = field(default_factory=dict)
    failed_peerings: dict[str, str] = field(default_factory=dict)
    deleted_peerings: set[str] = field(default_factory=set)
    core_network_routes: dict[tuple[str, str], str] = field(default_factory=dict)
    """(route table, destination) -> Cloud WAN core network ARN."""
    ipv6_vpcs: set[str] = field(default_factory=set)
    tgw_regions: dict[str, str] = field(default_factory=dict)
    tgw_owners: dict[str, str] = field(default_factory=dict)
    moto_default_tables: set[str] = field(default_factory=set)
    """Default route tables moto made for TGWs that EC2 would have made none for."""
    tgw_tables: dict[str, str] = field(default_factory=dict)
    """TGW route table -> its TGW."""
    tgw_vpc_attachments: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    """Attachment -> (VPC, the VPC's CIDR blocks)."""
    tgw_peerings: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Peering attachment -> (requester TGW, accepter TGW)."""
    tgw_associations: dict[tuple[str, str], str] = field(default_factory=dict)
    """(attachment, TGW) -> the TGW route table it is associated with."""
    tgw_propagations: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    """TGW route table -> attachments propagating into it."""
    tgw_static_routes: dict[tuple[str, str], str] = field(default_factory=dict)
    """(TGW route table, destination) -> attachment ("" for a blackhole)."""
    deleted_tgw_attachments: set[str] = field(default_factory=set)
    """Attachments the seeding deleted: static routes to them read blackhole."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- what the seeding records ---------------------------------------------------------

    def record_peering(self, peering_id: str, created_at: dt.datetime) -> None:
        """Remember when a peering request was made (it may be back-dated for the demo)."""
        with self._lock:
            self.peering_created_at[peering_id] = created_at

    def fail_peering(self, peering_id: str, message: str) -> None:
        """Report a request as failed, as EC2 does for overlapping CIDR blocks."""
        with self._lock:
            self.failed_peerings[peering_id] = message

    def record_deleted_peering(self, peering_id: str) -> None:
        """Routes to this deleted peering will read as blackhole, as in EC2."""
        with self._lock:
            self.deleted_peerings.add(peering_id)

    def record_core_network_route(self, route_table_id: str, cidr: str, arn: str) -> None:
        """A route to a Cloud WAN core network (moto drops its target)."""
        with self._lock:
            self.core_network_routes[(route_table_id, cidr)] = arn

    def record_ipv6_vpc(self, vpc_id: str) -> None:
        """A VPC with an IPv6 block: its network ACLs have IPv6 rules."""
        with self._lock:
            self.ipv6_vpcs.add(vpc_id)

    def record_transit_gateway(
        self, tgw_id: str, region: str, moto_default_table: str, *, owner: str = ""
    ) -> None:
        """A TGW, its owner, and the default route table moto made for it although EC2 would
        have made none (default association and propagation off; "" otherwise)."""
        with self._lock:
            self.tgw_regions[tgw_id] = region
            if owner:
                self.tgw_owners[tgw_id] = owner
            if moto_default_table:
                self.moto_default_tables.add(moto_default_table)

    def record_tgw_table(self, table_id: str, tgw_id: str) -> None:
        with self._lock:
            self.tgw_tables[table_id] = tgw_id

    def record_tgw_vpc_attachment(
        self, attachment_id: str, vpc_id: str, cidrs: tuple[str, ...]
    ) -> None:
        with self._lock:
            self.tgw_vpc_attachments[attachment_id] = (vpc_id, cidrs)

    def record_tgw_peering(self, attachment_id: str, requester: str, accepter: str) -> None:
        with self._lock:
            self.tgw_peerings[attachment_id] = (requester, accepter)

    def record_tgw_association(self, table_id: str, attachment_id: str) -> None:
        with self._lock:
            self.tgw_associations[(attachment_id, self.tgw_tables[table_id])] = table_id

    def record_tgw_propagation(self, table_id: str, attachment_id: str) -> None:
        with self._lock:
            self.tgw_propagations[table_id].append(attachment_id)

    def record_tgw_route(self, table_id: str, cidr: str, attachment_id: str) -> None:
        """A static TGW route ("" as the attachment for a blackhole)."""
        with self._lock:
            self.tgw_static_routes[(table_id, cidr)] = attachment_id

    def record_deleted_tgw_attachment(self, attachment_id: str) -> None:
        """Static routes to this deleted attachment will read as blackhole, as in EC2."""
        with self._lock:
            self.deleted_tgw_attachments.add(attachment_id)

    # -- what the handlers replay ---------------------------------------------------------

    def _routes(self, parsed: dict[str, Any], **_: Any) -> None:
        for table in parsed.get("RouteTables", []):
            for route in table.get("Routes", []):
                if route.get("VpcPeeringConnectionId") in self.deleted_peerings:
                    route["State"] = "blackhole"
                key = (table.get("RouteTableId", ""), route.get("DestinationCidrBlock", ""))
                if key in self.core_network_routes:
                    route["CoreNetworkArn"] = self.core_network_routes[key]

    def _peerings(self, parsed: dict[str, Any], **_: Any) -> None:
        for pcx in parsed.get("VpcPeeringConnections", []):
            failed = self.failed_peerings.get(pcx.get("VpcPeeringConnectionId", ""))
            if failed is not None:
                pcx["Status"] = {"Code": "failed", "Message": failed}
            status = (pcx.get("Status") or {}).get("Code")
            created = self.peering_created_at.get(pcx.get("VpcPeeringConnectionId", ""))
            if status == "pending-acceptance" and created and "ExpirationTime" not in pcx:
                pcx["ExpirationTime"] = created + PENDING_LIFETIME

    def _transit_gateways(self, parsed: dict[str, Any], **_: Any) -> None:
        for tgw in parsed.get("TransitGateways", []):
            options = tgw.get("Options") or {}
            for key in ("AssociationDefaultRouteTableId", "PropagationDefaultRouteTableId"):
                if options.get(key) in self.moto_default_tables:
                    del options[key]

    def _tgw_tables(self, parsed: dict[str, Any], **_: Any) -> None:
        tables = parsed.get("TransitGatewayRouteTables", [])
        parsed["TransitGatewayRouteTables"] = [
            t for t in tables if t.get("TransitGatewayRouteTableId") not in self.moto_default_tables
        ]

    def _tgw_attachments(self, parsed: dict[str, Any], context: Any = None, **_: Any) -> None:
        region = (context or {}).get("client_region")
        for att in parsed.get("TransitGatewayAttachments", []):
            tgw_region = self.tgw_regions.get(att.get("TransitGatewayId", ""), region)
            if att.get("ResourceType") == "peering":
                for tgw, owner in (
                    ("TransitGatewayId", "TransitGatewayOwnerId"),
                    ("ResourceId", "ResourceOwnerId"),
                ):
                    att[owner] = self.tgw_owners.get(att.get(tgw, ""), att.get(owner))
            if att.get("ResourceType") == "peering" and tgw_region != region:
                # The accepter's view of the peering: its own TGW, the requester's as resource.
                for mine, theirs in (
                    ("TransitGatewayId", "ResourceId"),
                    ("TransitGatewayOwnerId", "ResourceOwnerId"),
                ):
                    att[mine], att[theirs] = att.get(theirs), att.get(mine)
            key = (att.get("TransitGatewayAttachmentId", ""), att.get("TransitGatewayId", ""))
            if key in self.tgw_associations:
                att["Association"] = {
                    "TransitGatewayRouteTableId": self.tgw_associations[key],
                    "State": "associated",
                }
            elif (att.get("Association") or {}).get(
                "TransitGatewayRouteTableId"
            ) in self.moto_default_tables:
                del att["Association"]

    def _tgw_associations(self, parsed: dict[str, Any], **_: Any) -> None:
        assocs = parsed.get("Associations", [])
        parsed["Associations"] = [
            a
            for a in assocs
            if a.get("TransitGatewayAttachmentId") not in self.deleted_tgw_attachments
        ]

    def _tgw_vpc_attachments(self, parsed: dict[str, Any], **_: Any) -> None:
        atts = parsed.get("TransitGatewayVpcAttachments", [])
        parsed["TransitGatewayVpcAttachments"] = [a for a in atts if a.get("VpcId")]

    def _keep_params(self, params: dict[str, Any], context: Any = None, **_: Any) -> None:
        if context is not None:
            context[_PARAMS] = dict(params)

    def _attachment_ref(self, attachment_id: str, tgw_id: str) -> dict[str, str]:
        """How a TGW route names an attachment, seen from the TGW `tgw_id`."""
        if attachment_id in self.tgw_peerings:
            ends = self.tgw_peerings[attachment_id]
            resource, kind = (ends[1] if ends[0] == tgw_id else ends[0]), "peering"
        else:
            resource, kind = self.tgw_vpc_attachments[attachment_id][0], "vpc"
        return {
            "ResourceId": resource,
            "TransitGatewayAttachmentId": attachment_id,
            "ResourceType": kind,
        }

    def _tgw_routes(self, parsed: dict[str, Any], context: Any = None, **_: Any) -> None:
        params = (context or {}).get(_PARAMS) or {}
        table = str(params.get("TransitGatewayRouteTableId", ""))
        tgw = self.tgw_tables.get(table)
        if tgw is None:
            return
        filters = {str(f["Name"]): set(f["Values"]) for f in params.get("Filters") or []}
        routes: list[dict[str, Any]] = parsed.setdefault("Routes", [])
        for route in list(routes):
            attachment = self.tgw_static_routes.get((table, route.get("DestinationCidrBlock", "")))
            if route.get("Type") != "static" or not attachment:
                continue
            if not route.get("TransitGatewayAttachments"):
                route["TransitGatewayAttachments"] = [self._attachment_ref(attachment, tgw)]
            if attachment in self.deleted_tgw_attachments:
                route["State"] = "blackhole"
                if "blackhole" not in filters.get("state", {"blackhole"}):
                    routes.remove(route)
        for attachment in self.tgw_propagations.get(table, []):
            for cidr in self.tgw_vpc_attachments[attachment][1]:
                if (table, cidr) in self.tgw_static_routes:
                    continue
                route = {
                    "DestinationCidrBlock": cidr,
                    "TransitGatewayAttachments": [self._attachment_ref(attachment, tgw)],
                    "Type": "propagated",
                    "State": "active",
                }
                if all(
                    route.get(_ROUTE_FILTERS[name]) in values
                    for name, values in filters.items()
                    if name in _ROUTE_FILTERS
                ):
                    routes.append(route)

    def _security_groups(self, parsed: dict[str, Any], **_: Any) -> None:
        for group in parsed.get("SecurityGroups", []):
            for perm in (*group.get("IpPermissions", []), *group.get("IpPermissionsEgress", [])):
                for pair in perm.get("UserIdGroupPairs", []):
                    pcx = pair.get("VpcPeeringConnectionId")
                    if pcx and "PeeringStatus" not in pair:
                        pair["PeeringStatus"] = (
                            "deleted" if pcx in self.deleted_peerings else "active"
                        )

    def _nacls(self, parsed: dict[str, Any], **_: Any) -> None:
        for acl in parsed.get("NetworkAcls", []):
            entries: list[dict[str, Any]] = acl.setdefault("Entries", [])
            have = {(e.get("RuleNumber"), bool(e.get("Egress"))) for e in entries}
            ipv6 = acl.get("VpcId") in self.ipv6_vpcs
            wanted: list[tuple[int, bool, bool]] = []  # (rule, allow, ipv6)
            if acl.get("IsDefault") and ipv6:
                wanted.append((101, True, True))
            if not acl.get("IsDefault"):
                wanted.append((32767, False, False))
            if ipv6:
                wanted.append((32768, False, True))
            for rule, allow, v6 in wanted:
                for egress in (True, False):
                    if (rule, egress) not in have:
                        entries.append(_nacl_entry(rule, egress=egress, allow=allow, ipv6=v6))

    def install(self, session: boto3.Session) -> None:
        """Register the layer on a boto3 session (use as ScanOptions.session_hook)."""
        handlers = (
            ("DescribeVpcPeeringConnections", self._peerings),
            ("DescribeRouteTables", self._routes),
            ("DescribeTransitGateways", self._transit_gateways),
            ("DescribeTransitGatewayRouteTables", self._tgw_tables),
            ("DescribeTransitGatewayAttachments", self._tgw_attachments),
            ("DescribeTransitGatewayVpcAttachments", self._tgw_vpc_attachments),
            ("GetTransitGatewayRouteTableAssociations", self._tgw_associations),
            ("SearchTransitGatewayRoutes", self._tgw_routes),
            ("DescribeNetworkAcls", self._nacls),
            ("DescribeSecurityGroups", self._security_groups),
        )
        for operation, handler in handlers:
            session.events.register(
                f"after-call.ec2.{operation}",
                handler,
                unique_id=f"vpcaudit-moto-fidelity-{operation}",
            )
        session.events.register(
            "before-parameter-build.ec2.SearchTransitGatewayRoutes",
            self._keep_params,
            unique_id="vpcaudit-moto-fidelity-tgw-route-params",
        )


_CONNECTS = "describe_transit_gateway_connects"


def _describe_transit_gateway_connects(self: Any) -> Any:
    from moto.core.responses import ActionResult  # noqa: PLC0415 - moto is a demo extra

    del self
    return ActionResult({"TransitGatewayConnects": []})


@contextlib.contextmanager
def answer_unimplemented() -> Iterator[None]:
    """Give moto's EC2 the actions the collectors call and it lacks, for the block's length."""
    from moto.ec2.responses import EC2Response  # noqa: PLC0415 - moto is a demo extra

    added = not hasattr(EC2Response, _CONNECTS)
    if added:
        setattr(EC2Response, _CONNECTS, _describe_transit_gateway_connects)
    try:
        yield
    finally:
        if added:
            delattr(EC2Response, _CONNECTS)
