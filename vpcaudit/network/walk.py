"""Follow a packet through route tables and gateways, hop by hop, until it is delivered or
something stops it. Filters (security groups, network ACLs) are applied by `trace`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from vpcaudit.awscli import ask, cli, destination_flag, q
from vpcaudit.inventory import (
    NatGateway,
    Route,
    RouteTable,
    Subnet,
    TgwAttachment,
    TgwRouteTable,
    Vpc,
)
from vpcaudit.network.addr import Addr, contains, parse_ip
from vpcaudit.network.answer import Component, Hop
from vpcaudit.network.model import NetworkModel
from vpcaudit.network.place import Place

MAX_HOPS = 16
# Peering states whose routes are dead for good (the fix is to delete or repoint them).
_ENDED = frozenset({"deleted", "deleting", "rejected", "expired", "failed"})
_ON_PREM_ATTACHMENTS = frozenset({"vpn", "direct-connect-gateway", "connect"})


class Stop(Exception):
    """The packet stops here: a block (not reachable) or an unknown."""

    def __init__(self, code: str, component: Component, explanation: str, fix: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.component = component
        self.explanation = explanation
        self.fix = fix


@dataclass
class Delivery:
    """Where routing delivered the packet."""

    kind: str
    """vpc, internet, on-premises or service."""
    vpc: Vpc | None = None
    via: str = ""
    """local, peering, igw, eigw, gateway-endpoint, vgw, tgw-vpn, ..."""
    src_seen: Addr | None = None
    """The source address the destination sees (a NAT gateway's when NAT was used)."""
    nats: list[NatGateway] = field(default_factory=list)
    table: RouteTable | None = None
    """The last route table that decided (blamed when the delivery is the wrong one)."""
    route: Route | None = None
    entry_subnet: str = ""
    """The subnet the packet entered the VPC through (a TGW attachment subnet), if any."""
    exit_attachment: tuple[TgwAttachment, str] | None = None
    """The (attachment, TGW) through which it left for on-premises: replies enter there."""


@dataclass
class Sender:
    """What the packet carries as it is routed: its source and the public IP it may use."""

    addr: Addr
    public: bool
    """True when the sender has a public or Elastic IPv4 (for an internet gateway)."""
    component: Component
    az: str
    subnet_id: str = ""
    foreign: str = ""
    """How the packet entered this VPC from outside it (peering, Transit Gateway, VPN), if it
    did: a gateway endpoint or internet gateway carries only the VPC's own traffic."""


def where(kind: str, id_: str, account: str = "", region: str = "", **kw: str) -> Component:
    """A Component (shorthand)."""
    return Component(kind, id_, account, region, **kw)


NaclHook = Callable[[Subnet, bool, Addr], None]
"""(subnet, egress, the other end's address): raise Stop when the ACL denies."""


class Router:
    """Routing over a NetworkModel; collects hops and notes as it goes."""

    def __init__(self, model: NetworkModel, nacl: NaclHook | None = None) -> None:
        self.m = model
        self.hops: list[Hop] = []
        self.notes: list[str] = []
        self.nacl = nacl
        """Checks a subnet's network ACL on the path (set by the trace, which owns the flow)."""

    def hop(self, component: Component, action: str) -> None:
        """Record one step."""
        self.hops.append(Hop(component, action))

    def note(self, text: str) -> None:
        """Record a modelling caveat once."""
        if text not in self.notes:
            self.notes.append(text)

    # -- VPC routing ------------------------------------------------------------------------

    def route(
        self, vpc: Vpc, table: RouteTable | None, dst: Place, sender: Sender, depth: int = 0
    ) -> Delivery:
        """Route from a subnet whose table is `table` toward dst."""
        if depth > MAX_HOPS:
            raise Stop(
                "ROUTING_LOOP",
                where("vpc", vpc.vpc_id, vpc.owner_id, vpc.region),
                "the routes send the packet round in a loop",
            )
        if table is None:
            self._need(vpc.owner_id, vpc.region, "route_tables", "route-table", vpc.vpc_id)
            raise Stop(
                "NO_ROUTE",
                where("vpc", vpc.vpc_id, vpc.owner_id, vpc.region),
                f"no route table applies to the subnet in {vpc.vpc_id} (no association, no main)",
            )
        rt = where("route-table", table.route_table_id, table.owner_id, table.region)
        compiled = self.m.compiled(table)
        if compiled.unread:
            raise Stop(
                "NOT_READ",
                rt,
                f"route table {table.route_table_id} routes to prefix list(s) "
                f"{', '.join(compiled.unread)} whose entries were not read",
            )
        route = compiled.services.get(dst.service) if dst.service else None
        if route is not None:
            matched = route.destination
        else:
            hit = compiled.lpm.lookup(dst.lookup)
            if hit is None:
                raise Stop(
                    "NO_ROUTE",
                    rt,
                    f"route table {table.route_table_id} has no route for {dst.lookup}",
                    self._route_fix(vpc, table, dst),
                )
            matched, route = str(hit[0]), hit[1]
        rt = where("route-table", table.route_table_id, table.owner_id, table.region, rule=matched)
        target = route.target_id or route.target_type
        if route.state == "blackhole":
            # AWS marks a route blackhole while its target cannot carry traffic; a target that
            # still exists (a peering awaiting acceptance, a NAT gateway pending or failed)
            # explains it better, and its fix keeps the route.
            self._explain_blackhole(route, rt)
            raise Stop(
                "BLACKHOLE_ROUTE",
                rt,
                f"route {route.destination} -> {target} in {table.route_table_id} is a blackhole "
                f"(its target no longer exists)",
                cli(
                    f"aws ec2 delete-route --route-table-id {q(table.route_table_id)} "
                    f"{q(destination_flag(route.destination))} {q(route.destination)}",
                    table.region,
                    table.owner_id,
                )
                + "  # or point it at a live target with replace-route",
            )
        self.hop(rt, f"route {matched} -> {target}")
        out = self._target(vpc, table, route, dst, sender=sender, depth=depth)
        if out.table is None:
            out.table, out.route = table, route
        return out

    def _explain_blackhole(self, route: Route, rt: Component) -> None:
        if route.target_type == "vpc-peering-connection":
            p = self.m.inv.peering(route.target_id)
            if p is not None and p.status != "active" and p.status not in _ENDED:
                side = p.accepter  # the accepter's owner accepts, in its region
                raise Stop(
                    "PEERING_NOT_ACTIVE",
                    where("vpc-peering-connection", p.peering_id, rt.account_id, rt.region),
                    f"peering {p.peering_id} is {p.status}: its routes stay blackhole until it "
                    f"is active",
                    cli(
                        "aws ec2 accept-vpc-peering-connection --vpc-peering-connection-id "
                        f"{q(p.peering_id)}",
                        side.region,
                        side.owner_id,
                    )
                    + "  # if the request is expected"
                    if p.status == "pending-acceptance"
                    else "",
                )
        if route.target_type == "nat-gateway":
            nat = self.m.inv.nat_gateway(route.target_id)
            if nat is not None and nat.state in ("pending", "failed"):
                raise Stop(
                    "NAT_GATEWAY_NOT_AVAILABLE",
                    where("nat-gateway", nat.nat_gateway_id, nat.account_id, nat.region),
                    f"NAT gateway {nat.nat_gateway_id} is {nat.state}",
                )

    def _target(  # noqa: PLR0911 - one return per route target type: a flat dispatch
        self, vpc: Vpc, table: RouteTable, route: Route, dst: Place, *, sender: Sender, depth: int
    ) -> Delivery:
        t, tid = route.target_type, route.target_id
        if t == "gateway" and tid == "local":
            return Delivery("vpc", vpc, "local", sender.addr, table=table, route=route)
        if t == "gateway":
            return self._gateway(vpc, table, tid, dst, sender=sender, depth=depth)
        if t == "vpc-peering-connection":
            return self._peering(vpc, tid, dst, sender)
        if t == "transit-gateway":
            return self._via_tgw(vpc, tid, dst, sender, depth)
        if t == "nat-gateway":
            return self._nat(tid, dst, sender, depth)
        if t in ("network-interface", "instance"):
            return self._appliance(vpc, t, tid, dst, sender=sender, depth=depth)
        if t == "egress-only-internet-gateway":
            self.hop(where("egress-only-internet-gateway", tid, vpc.owner_id, vpc.region), "out")
            return Delivery("internet", vpc, "eigw", sender.addr)
        if t == "core-network":
            raise Stop(
                "CLOUD_WAN",
                where("core-network", tid, vpc.owner_id, vpc.region),
                "the route leads into a Cloud WAN core network, which the model does not follow",
            )
        raise Stop(
            "TARGET_NOT_MODELED",
            where("route-table", table.route_table_id, table.owner_id, table.region),
            f"route target {t} {tid} is not modeled (local or carrier gateway, Outposts)",
        )

    def _gateway(
        self, vpc: Vpc, table: RouteTable, tid: str, dst: Place, *, sender: Sender, depth: int
    ) -> Delivery:
        """Internet, virtual private and endpoint gateways (route target GatewayId)."""
        if tid.startswith("igw-"):
            return self._igw(vpc, tid, table, sender)
        if tid.startswith("vgw-"):
            self._vpn_up(tid, vpc)
            self.hop(where("vpn-gateway", tid, vpc.owner_id, vpc.region), "to on-premises")
            return Delivery("on-premises", vpc, "vgw", sender.addr)
        if tid.startswith("vpce-"):
            return self._endpoint_target(vpc, tid, dst, sender, depth)
        raise Stop(
            "TARGET_NOT_MODELED",
            where("route-table", table.route_table_id, table.owner_id, table.region),
            f"gateway {tid} is not modeled",
        )

    def _need(self, account: str, region: str, kind: str, component: str, id_: str) -> None:
        """Stop with an unknown when a kind the path needs was not read there."""
        if not self.m.scanned(account, region):
            known = {a for a, _ in self.m.inv.scanned_regions}
            if account not in known:
                raise Stop(
                    "UNSCANNED_ACCOUNT",
                    where("account", account, account, region),
                    f"the path enters account {account}, which was not scanned",
                )
            raise Stop(
                "UNSCANNED_REGION",
                where("region", region, account, region),
                f"the path enters {region} of account {account}, which was not scanned",
            )
        if not self.m.read(account, region, kind):
            raise Stop(
                "NOT_READ",
                where(component, id_, account, region),
                f"{kind.replace('_', ' ')} of account {account} in {region} could not be read",
            )

    def _own_traffic_only(self, sender: Sender, comp: Component, what: str) -> None:
        if sender.foreign:
            raise Stop(
                "EDGE_TO_EDGE",
                comp,
                f"the packet entered the VPC through a {sender.foreign}; a {what} carries only "
                f"traffic that starts in its own VPC (no edge-to-edge routing)",
                "Send it through a NAT gateway in this VPC, or give the source VPC its own "
                f"{what}.",
            )

    def _igw(self, vpc: Vpc, igw: str, table: RouteTable, sender: Sender) -> Delivery:
        comp = where("internet-gateway", igw, vpc.owner_id, vpc.region)
        self._own_traffic_only(sender, comp, "internet gateway")
        if self.m.igw_of_vpc.get(vpc.vpc_id) != igw:
            self._need(vpc.owner_id, vpc.region, "internet_gateways", "internet-gateway", igw)
            raise Stop(
                "BLACKHOLE_ROUTE",
                where("route-table", table.route_table_id, table.owner_id, table.region),
                f"internet gateway {igw} is not attached to {vpc.vpc_id}",
            )
        if sender.addr.version == 4 and not sender.public:
            raise Stop(
                "NO_PUBLIC_IP",
                sender.component,
                f"{sender.component.id} has no public or Elastic IP, so the internet gateway "
                f"cannot carry its IPv4 traffic",
                "Send it through a NAT gateway, or associate an Elastic IP "
                "(aws ec2 associate-address).",
            )
        self.hop(comp, "to the internet")
        return Delivery("internet", vpc, "igw", sender.addr)

    def _vpn_up(self, gateway: str, vpc: Vpc | None = None, vpn_id: str = "") -> None:
        vpns = [
            v
            for v in self.m.inv.vpn_connections
            if (vpn_id and v.vpn_id == vpn_id) or (gateway and v.vpn_gateway_id == gateway)
        ]
        vpns = [v for v in vpns if v.state in ("available", "pending")]
        if vpns and all(v.tunnels and not v.tunnels_up for v in vpns):
            v = vpns[0]
            raise Stop(
                "VPN_TUNNELS_DOWN",
                where("vpn-connection", v.vpn_id, v.account_id, v.region),
                f"every tunnel of VPN connection {v.vpn_id} is down",
                "Check the customer gateway device and the tunnel options "
                "(aws ec2 describe-vpn-connections).",
            )
        if not vpns and vpc is not None:
            self.note(f"{gateway} has no VPN connection read: assumed Direct Connect")

    def _endpoint_target(
        self, vpc: Vpc, tid: str, dst: Place, sender: Sender, depth: int
    ) -> Delivery:
        ep = self.m.endpoints.get(tid)
        comp = where("vpc-endpoint", tid, vpc.owner_id, vpc.region)
        if ep is not None and ep.endpoint_type.lower() == "gateway":
            self._own_traffic_only(sender, comp, "gateway endpoint")
            self.hop(comp, f"gateway endpoint to {ep.service_name}")
            return Delivery("service", vpc, "gateway-endpoint", sender.addr)
        if ep is not None and ep.network_interface_ids:
            eni = self.m.enis.get(ep.network_interface_ids[0])
            if eni is not None:
                self.note(f"{tid} is an appliance endpoint: assumed to return traffic for routing")
                self.hop(comp, "through the appliance endpoint")
                return self._from_eni(eni.eni_id, dst, sender, depth)
        self._need(vpc.owner_id, vpc.region, "endpoints", "vpc-endpoint", tid)
        raise Stop("TARGET_NOT_MODELED", comp, f"endpoint {tid} is not a known route target")

    def _appliance(
        self, vpc: Vpc, kind: str, tid: str, dst: Place, *, sender: Sender, depth: int
    ) -> Delivery:
        enis = self.m.enis_by_instance.get(tid, []) if kind == "instance" else []
        eni_id = enis[0].eni_id if enis else tid
        if dst.eni is not None and dst.eni.eni_id == eni_id:
            return Delivery("vpc", vpc, "local", sender.addr)
        if eni_id not in self.m.enis:
            self._need(vpc.owner_id, vpc.region, "network_interfaces", "network-interface", tid)
            raise Stop(
                "BLACKHOLE_ROUTE",
                where("network-interface", tid, vpc.owner_id, vpc.region),
                f"route target {tid} no longer exists",
            )
        self.note(f"{tid} is an appliance: assumed to forward traffic by its subnet's routes")
        self.hop(where("network-interface", eni_id, vpc.owner_id, vpc.region), "appliance")
        return self._from_eni(eni_id, dst, sender, depth)

    def _from_eni(self, eni_id: str, dst: Place, sender: Sender, depth: int) -> Delivery:
        eni = self.m.enis[eni_id]
        subnet = self.m.subnets.get(eni.subnet_id)
        vpc = self.m.vpc(eni.vpc_id)
        if subnet is None or vpc is None:
            raise Stop("NOT_READ", where("subnet", eni.subnet_id), "the appliance's subnet")
        return self.route(vpc, self.m.table_of_subnet(subnet), dst, sender, depth + 1)

    # -- peering ----------------------------------------------------------------------------

    def _peering(self, vpc: Vpc, pcx: str, dst: Place, sender: Sender) -> Delivery:
        p = self.m.inv.peering(pcx)
        comp = where("vpc-peering-connection", pcx, vpc.owner_id, vpc.region)
        if p is None:
            self._need(vpc.owner_id, vpc.region, "peerings", "vpc-peering-connection", pcx)
            raise Stop("PEERING_NOT_ACTIVE", comp, f"peering {pcx} no longer exists")
        if p.status != "active":
            raise Stop("PEERING_NOT_ACTIVE", comp, f"peering {pcx} is {p.status}, not active")
        side = p.side(vpc.vpc_id)
        if side is None:
            raise Stop("PEERING_NOT_ACTIVE", comp, f"peering {pcx} does not join {vpc.vpc_id}")
        peer = p.other(side)
        peer_vpc = self.m.vpc(peer.vpc_id)
        cidrs = peer_vpc.cidrs if peer_vpc is not None else peer.cidrs
        if dst.service or not any(contains(c, dst.lookup) for c in cidrs):
            raise Stop(
                "PEERING_NOT_TRANSITIVE",
                comp,
                f"{dst.lookup if not dst.service else dst.service} is outside {peer.vpc_id}'s "
                f"CIDR blocks: peering carries only traffic for the peer VPC itself",
                "Reach the destination through its own peering or a Transit Gateway.",
            )
        self.hop(comp, f"to {peer.vpc_id} ({peer.owner_id} {peer.region})")
        if peer_vpc is None:
            self._need(peer.owner_id, peer.region, "vpcs", "vpc", peer.vpc_id)
            raise Stop("NOT_READ", where("vpc", peer.vpc_id, peer.owner_id, peer.region), "vpc")
        return Delivery("vpc", peer_vpc, "peering", sender.addr)

    # -- Transit Gateway --------------------------------------------------------------------

    def _via_tgw(self, vpc: Vpc, tgw_id: str, dst: Place, sender: Sender, depth: int) -> Delivery:
        att = self.m.vpc_attachments.get((vpc.vpc_id, tgw_id))
        if att is None:
            self._need(vpc.owner_id, vpc.region, "tgw_attachments", "transit-gateway", tgw_id)
            raise Stop(
                "TGW_ATTACHMENT_MISSING",
                where("transit-gateway", tgw_id, vpc.owner_id, vpc.region),
                f"{vpc.vpc_id} has no available attachment to {tgw_id}",
            )
        comp = where("transit-gateway-attachment", att.attachment_id, att.account_id, att.region)
        zones = {self.m.subnets[s].availability_zone for s in att.subnet_ids if s in self.m.subnets}
        if zones and sender.az and sender.az not in zones:
            raise Stop(
                "TGW_NO_ATTACHMENT_IN_AZ",
                comp,
                f"{att.attachment_id} has no subnet in {sender.az}, so traffic from that zone "
                f"cannot reach {tgw_id}",
                cli(
                    "aws ec2 modify-transit-gateway-vpc-attachment "
                    f"--transit-gateway-attachment-id {q(att.attachment_id)} "
                    "--add-subnet-ids "
                    + ask("SUBNET_ID", f"a subnet of {vpc.vpc_id} in {sender.az}"),
                    att.region,
                    att.resource_owner_id or att.account_id,
                ),
            )
        self.hop(comp, f"into {tgw_id}")
        self.note("network ACLs of Transit Gateway attachment subnets are not evaluated")
        return self._tgw_table(att, tgw_id, dst, sender, depth)

    def _tgw_table(
        self, att: TgwAttachment, tgw_id: str, dst: Place, sender: Sender, depth: int
    ) -> Delivery:
        if depth > MAX_HOPS:
            raise Stop(
                "ROUTING_LOOP",
                where("transit-gateway", tgw_id, att.account_id, att.region),
                "the routes send the packet round in a loop",
            )
        tgw = self.m.tgws.get(tgw_id)
        owner = att.tgw_owner_id or (tgw.owner_id if tgw else "") or att.account_id
        for kind in ("tgw_route_tables", "tgw_associations"):
            self._need(owner, att.region, kind, "transit-gateway", tgw_id)
        comp = where("transit-gateway-attachment", att.attachment_id, owner, att.region)
        if not att.association_rt_id:
            raise Stop(
                "TGW_ATTACHMENT_NOT_ASSOCIATED",
                comp,
                f"{att.attachment_id} is associated with no route table of {tgw_id}",
                cli(
                    "aws ec2 associate-transit-gateway-route-table "
                    "--transit-gateway-route-table-id "
                    + ask("TGW_ROUTE_TABLE_ID", "the TGW route table to associate")
                    + f" --transit-gateway-attachment-id {q(att.attachment_id)}",
                    att.region,
                    owner,
                ),
            )
        table = self.m.tgw_tables.get(att.association_rt_id)
        if table is None or not table.routes_read:
            raise Stop(
                "NOT_READ",
                where("transit-gateway-route-table", att.association_rt_id, owner, att.region),
                f"the routes of {att.association_rt_id} could not be read",
            )
        rtc = where("transit-gateway-route-table", table.route_table_id, owner, att.region)
        hit = self.m.compiled_tgw(table).lpm.lookup(dst.lookup)
        if hit is None:
            raise Stop(
                "TGW_NO_ROUTE",
                rtc,
                f"{table.route_table_id} has no route for {dst.lookup}",
                self._tgw_route_fix(table, dst),
            )
        net, route = hit
        rtc = where(
            "transit-gateway-route-table", table.route_table_id, owner, att.region, rule=str(net)
        )
        if route.state == "blackhole" or not route.attachment_ids:
            raise Stop(
                "TGW_BLACKHOLE_ROUTE",
                rtc,
                f"route {route.destination} in {table.route_table_id} is a blackhole",
                cli(
                    "aws ec2 delete-transit-gateway-route --transit-gateway-route-table-id "
                    f"{q(table.route_table_id)} --destination-cidr-block {q(route.destination)}",
                    att.region,
                    owner,
                )
                + "  # or replace it with a route to a live attachment",
            )
        nxt_id = route.attachment_ids[0]
        if len(route.attachment_ids) > 1:
            self.note(f"{route.destination} is ECMP over {len(route.attachment_ids)} attachments")
        self.hop(rtc, f"route {net} -> {nxt_id}")
        nxt = self.m.attachment(nxt_id, tgw_id)
        if nxt is None:
            raise Stop(
                "NOT_READ",
                where("transit-gateway-attachment", nxt_id, owner, att.region),
                f"attachment {nxt_id} was not read",
            )
        return self._tgw_exit(nxt, tgw_id, dst, sender, depth)

    def _tgw_exit(
        self, nxt: TgwAttachment, tgw_id: str, dst: Place, sender: Sender, depth: int
    ) -> Delivery:
        comp = where("transit-gateway-attachment", nxt.attachment_id, nxt.account_id, nxt.region)
        if nxt.state not in ("available", "modifying"):
            raise Stop("TGW_BLACKHOLE_ROUTE", comp, f"{nxt.attachment_id} is {nxt.state}")
        if nxt.resource_type == "peering":
            self.hop(comp, f"to {nxt.peer_tgw_id} ({nxt.peer_account_id} {nxt.peer_region})")
            self._need(
                nxt.peer_account_id,
                nxt.peer_region,
                "tgw_attachments",
                "transit-gateway",
                nxt.peer_tgw_id,
            )
            far = self.m.attachment(nxt.attachment_id, nxt.peer_tgw_id)
            if far is None:
                raise Stop("NOT_READ", comp, f"the far side of {nxt.attachment_id} was not read")
            return self._tgw_table(far, nxt.peer_tgw_id, dst, sender, depth + 1)
        if nxt.resource_type in _ON_PREM_ATTACHMENTS:
            if nxt.resource_type == "vpn":
                self._vpn_up("", vpn_id=nxt.resource_id)
            self.hop(comp, f"to on-premises ({nxt.resource_type} {nxt.resource_id})")
            out = Delivery("on-premises", None, f"tgw-{nxt.resource_type}", sender.addr)
            out.exit_attachment = (nxt, tgw_id)
            return out
        if nxt.resource_type != "vpc":
            raise Stop("TARGET_NOT_MODELED", comp, f"attachment type {nxt.resource_type}")
        vpc = self.m.vpc(nxt.resource_id)
        owner = nxt.resource_owner_id or nxt.account_id
        if vpc is None:
            self._need(owner, nxt.region, "vpcs", "vpc", nxt.resource_id)
            raise Stop("NOT_READ", comp, f"{nxt.resource_id} was not read")
        self.hop(comp, f"into {vpc.vpc_id}")
        entry = self._entry_subnet(nxt, dst, sender.az)
        if entry is None:
            if any(contains(c, dst.lookup) for c in vpc.cidrs):
                return Delivery("vpc", vpc, "tgw", sender.addr)
            self._need(
                owner,
                nxt.region,
                "tgw_vpc_attachments",
                "transit-gateway-attachment",
                nxt.attachment_id,
            )
            raise Stop("NOT_READ", comp, f"the subnets of {nxt.attachment_id} are not known")
        table = self.m.table_of_subnet(entry)
        inside = Sender(
            sender.addr, False, sender.component, entry.availability_zone, entry.subnet_id, "tgw"
        )
        out = self.route(vpc, table, dst, inside, depth + 1)
        out.entry_subnet = out.entry_subnet or entry.subnet_id
        if out.via == "local":
            out.via = "tgw"
        return out

    def _entry_subnet(self, att: TgwAttachment, dst: Place, az: str) -> Subnet | None:
        subnets = [self.m.subnets[s] for s in att.subnet_ids if s in self.m.subnets]
        if not subnets:
            return None
        want = dst.subnet.availability_zone if dst.subnet is not None else az
        return next((s for s in subnets if s.availability_zone == want), subnets[0])

    # -- NAT --------------------------------------------------------------------------------

    def _nat(self, nat_id: str, dst: Place, sender: Sender, depth: int) -> Delivery:
        nat = self.m.inv.nat_gateway(nat_id)
        if nat is None or nat.state != "available":
            state = "gone" if nat is None else nat.state
            acct = nat.account_id if nat else sender.component.account_id
            region = nat.region if nat else sender.component.region
            raise Stop(
                "NAT_GATEWAY_NOT_AVAILABLE",
                where("nat-gateway", nat_id, acct, region),
                f"NAT gateway {nat_id} is {state}",
            )
        vpc = self.m.vpc(nat.vpc_id)
        subnet = self.m.subnets.get(nat.subnet_id)
        if vpc is None or subnet is None:
            raise Stop("NOT_READ", where("nat-gateway", nat_id, nat.account_id, nat.region), "nat")
        if self.nacl is not None and sender.subnet_id != subnet.subnet_id:
            self.nacl(subnet, False, sender.addr)
        self.hop(where("nat-gateway", nat_id, nat.account_id, nat.region), "source NAT")
        nat_addr = parse_ip(nat.private_ip) or sender.addr
        if self.nacl is not None:
            self.nacl(subnet, True, dst.lookup)
        after = Sender(
            nat_addr,
            bool(nat.public_ip) and nat.connectivity == "public",
            where("nat-gateway", nat_id, nat.account_id, nat.region),
            subnet.availability_zone,
            subnet.subnet_id,
        )
        out = self.route(vpc, self.m.table_of_subnet(subnet), dst, after, depth + 1)
        out.nats.insert(0, nat)
        out.src_seen = nat_addr
        return out

    # -- fixes ------------------------------------------------------------------------------

    def _route_fix(self, vpc: Vpc, table: RouteTable, dst: Place) -> str:
        if dst.vpc is None or dst.vpc.vpc_id == vpc.vpc_id:
            return f"Add a route for {dst.lookup} to route table {table.route_table_id}."
        block = next((c for c in dst.vpc.cidrs if contains(c, dst.lookup)), None)
        for p in self.m.inv.peerings_of(vpc.vpc_id):
            side = p.side(vpc.vpc_id)
            if p.status == "active" and side is not None and p.other(side).vpc_id == dst.vpc.vpc_id:
                return cli(
                    f"aws ec2 create-route --route-table-id {q(table.route_table_id)} "
                    f"{q(destination_flag(str(block)))} {q(block)} "
                    f"--vpc-peering-connection-id {q(p.peering_id)}",
                    table.region,
                    table.owner_id,
                )
        for tgw in self.m.tgws_of_vpc.get(vpc.vpc_id, ()):
            if (dst.vpc.vpc_id, tgw) in self.m.vpc_attachments:
                return cli(
                    f"aws ec2 create-route --route-table-id {q(table.route_table_id)} "
                    f"{q(destination_flag(str(block)))} {q(block)} --transit-gateway-id {q(tgw)}",
                    table.region,
                    table.owner_id,
                )
        return (
            f"Connect {vpc.vpc_id} and {dst.vpc.vpc_id} (a peering or a Transit Gateway), then "
            f"route {block} in {table.route_table_id}."
        )

    def _tgw_route_fix(self, table: TgwRouteTable, dst: Place) -> str:
        rt, region, account = table.route_table_id, table.region, table.account_id
        if dst.vpc is not None:
            att = self.m.vpc_attachments.get((dst.vpc.vpc_id, table.tgw_id))
            block = next((c for c in dst.vpc.cidrs if contains(c, dst.lookup)), dst.lookup)
            if att is not None:
                return (
                    cli(
                        "aws ec2 create-transit-gateway-route "
                        f"--transit-gateway-route-table-id {q(rt)} "
                        f"--destination-cidr-block {q(block)} --transit-gateway-attachment-id "
                        f"{q(att.attachment_id)}",
                        region,
                        account,
                    )
                    + "  # or propagate that attachment into the table"
                )
        return f"Add a route for {dst.lookup} to {rt}, or propagate the destination's attachment."
