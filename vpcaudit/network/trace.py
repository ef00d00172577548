"""One path question end to end: source filters, routing, destination filters, the reply."""

from __future__ import annotations

from dataclasses import replace

from vpcaudit.awscli import cli, q
from vpcaudit.inventory import NetworkInterface, SgRule, Subnet, Vpc
from vpcaudit.network.addr import Addr, parse_ip
from vpcaudit.network.answer import CODES, Component, Hop, PathAnswer, Verdict
from vpcaudit.network.filters import EPHEMERAL, FINAL_RULE, Flow, Peer, nacl_decides, sg_allows
from vpcaudit.network.model import NetworkModel
from vpcaudit.network.place import Place, eni_place
from vpcaudit.network.walk import Delivery, Router, Sender, Stop, where


class Trace:
    """Answer one (source, destination, flow) question over the model."""

    def __init__(self, model: NetworkModel, src: Place, dst: Place, flow: Flow) -> None:
        self.m = model
        self.src = src
        self.dst = _service_place(model, src, dst)
        self.flow = flow
        self.router = Router(model, self._path_nacl)
        self.direction = "forward"
        self.forward: tuple[Hop, ...] = ()

    def run(self) -> tuple[str, Stop | None, list[str]]:
        """Walk both ways; return (direction, stop or None, notes)."""
        try:
            delivery = self._forward()
            self.forward = tuple(self.router.hops)
            self.router.hops = []
            self.direction = "return"
            self._return(delivery)
        except Stop as stop:
            if self.direction == "forward":
                self.forward = tuple(self.router.hops)
                self.router.hops = []
            return self.direction, stop, self.router.notes
        return "", None, self.router.notes

    # -- forward ----------------------------------------------------------------------------

    def _forward(self) -> Delivery:
        src, dst = self.src, self.dst
        if src.kind == "internet":
            return self._from_internet()
        if src.kind == "on-premises":
            return self._from_on_premises()
        if src.vpc is None or src.subnet is None:
            raise Stop("NOT_READ", where("vpc", src.label), f"{src.label} is in no scanned VPC")
        if src.eni is not None:
            self._sg(src.eni, egress=True, peer=self._peer_of_dst())
        if not self._same_subnet(src.subnet):
            self._nacl(src.subnet, egress=True, flow=self.flow, peer=dst.lookup)
        sender = Sender(
            src.addr,
            src.public,
            self._sender_component(),
            src.subnet.availability_zone,
            src.subnet.subnet_id,
        )
        table = self.m.table_of_subnet(src.subnet)
        delivery = self.router.route(src.vpc, table, dst, sender)
        self._arrive(delivery)
        return delivery

    def _arrive(self, d: Delivery) -> None:
        """Check the delivery is the destination, then its filters."""
        dst = self.dst
        if dst.kind in ("internet", "on-premises", "service"):
            if d.kind != dst.kind and not (dst.kind == "service" and d.kind == "internet"):
                self._elsewhere(d, f"to {d.kind} ({d.via}), not to {dst.label}")
            return
        if d.kind == "internet" and dst.public and dst.eni is not None:
            # A public IP of a scanned interface: out to the internet, back in through its IGW.
            self.router.hop(where("internet", "internet"), f"to {dst.lookup}")
            src_seen = d.src_seen or self.src.addr
            self._enter_from_internet(src_seen)
            self._filters_at_destination(src_seen, nat=True, entry="")
            self._inbound_seen = src_seen
            return
        if d.kind != "vpc" or d.vpc is None:
            self._elsewhere(d, f"to {d.kind} ({d.via}), not to {dst.label}")
            return
        resolved = self._resolve_in(d.vpc)
        self.dst = resolved
        self._filters_at_destination(d.src_seen or self.src.addr, nat=bool(d.nats), entry=d.via)

    def _resolve_in(self, vpc: Vpc) -> Place:
        dst = self.dst
        if dst.kind in ("eni", "host") and dst.vpc is not None and dst.vpc.vpc_id != vpc.vpc_id:
            raise Stop(
                "ROUTED_ELSEWHERE",
                where("vpc", vpc.vpc_id, vpc.owner_id, vpc.region),
                f"the routes deliver to {vpc.vpc_id}, not to {dst.vpc.vpc_id} where {dst.label} is",
            )
        if dst.kind in ("eni", "host"):
            return dst
        eni = self.m.eni_by_vpc_ip.get((vpc.vpc_id, dst.addr))
        if eni is not None:
            return replace(
                dst,
                kind="eni",
                vpc=vpc,
                eni=eni,
                subnet=self.m.subnets.get(eni.subnet_id),
                public=bool(eni.public_ips),
            )
        s = self.m.subnet_holding(vpc.vpc_id, dst.addr)
        if s is None:
            raise Stop(
                "NO_DESTINATION",
                where("vpc", vpc.vpc_id, vpc.owner_id, vpc.region),
                f"{dst.addr} is in no subnet of {vpc.vpc_id}",
            )
        self.router.note(
            f"no network interface holds {dst.addr}: judged as a host in {s.subnet_id}"
        )
        return replace(dst, kind="host", vpc=vpc, subnet=s)

    def _filters_at_destination(self, src_seen: Addr, *, nat: bool, entry: str) -> None:
        dst = self.dst
        if dst.subnet is None:
            return
        if not self._same_subnet(dst.subnet) or nat or entry not in ("local", ""):
            self._nacl(dst.subnet, egress=False, flow=self.flow, peer=src_seen)
        if dst.eni is not None:
            groups: frozenset[str] = frozenset()
            if not nat and self.src.eni is not None and self._can_reference(self.src.eni, dst.eni):
                groups = frozenset(self.src.eni.group_ids)
            self._sg(dst.eni, egress=False, peer=Peer(src_seen, groups=groups))
        self.router.hop(self._dst_component(), "delivered")

    # -- entries from outside AWS -------------------------------------------------------------

    def _from_internet(self) -> Delivery:
        if self.dst.kind not in ("eni", "host", "ip"):
            raise Stop("NO_ROUTE", where("internet", "internet"), "internet to outside AWS")
        if self.dst.vpc is None:
            vpcs = self.m.vpcs_holding(self.dst.addr)
            if len(vpcs) != 1:
                raise Stop("NO_DESTINATION", where("internet", "internet"), "no single VPC")
            self.dst = self._resolve_in(vpcs[0])
        self._enter_from_internet(self.src.addr)
        self._filters_at_destination(self.src.addr, nat=True, entry="")
        return Delivery("vpc", self.dst.vpc, "igw", self.src.addr)

    def _enter_from_internet(self, src_addr: Addr) -> None:
        dst = self.dst
        vpc = dst.vpc
        if vpc is None or dst.subnet is None:
            raise Stop("NO_DESTINATION", where("internet", "internet"), "no VPC")
        igw = self.m.igw_of_vpc.get(vpc.vpc_id)
        if igw is None:
            if dst.addr.version == 6 and vpc.vpc_id in self.m.eigw_of_vpc:
                eigw = self.m.eigw_of_vpc[vpc.vpc_id]
                raise Stop(
                    "EGRESS_ONLY_INBOUND",
                    where("egress-only-internet-gateway", eigw, vpc.owner_id, vpc.region),
                    f"{vpc.vpc_id} reaches the internet over IPv6 only through egress-only "
                    f"gateway {eigw}: connections from the internet are refused",
                )
            self.router._need(vpc.owner_id, vpc.region, "internet_gateways", "vpc", vpc.vpc_id)
            raise Stop(
                "NO_INTERNET_GATEWAY",
                where("vpc", vpc.vpc_id, vpc.owner_id, vpc.region),
                f"{vpc.vpc_id} has no internet gateway attached",
            )
        if dst.addr.version == 4 and not dst.public:
            raise Stop(
                "NO_PUBLIC_IP",
                self._dst_component(),
                f"{dst.label} has no public or Elastic IP: the internet cannot address it",
            )
        self.router.hop(
            where("internet-gateway", igw, vpc.owner_id, vpc.region), "from the internet"
        )
        edge = self.m.edge_tables.get(igw)
        if edge is not None:
            table = self.m.tables[edge]
            sender = Sender(src_addr, True, where("internet", "internet"), "")
            d = self.router.route(vpc, table, replace(dst, lookup=dst.addr), sender)
            if d.kind != "vpc" or d.vpc is None or d.vpc.vpc_id != vpc.vpc_id:
                self._elsewhere(d, f"the edge table sends {dst.addr} elsewhere")

    def _from_on_premises(self) -> Delivery:
        dst = self.dst
        if dst.vpc is None:
            vpcs = self.m.vpcs_holding(dst.addr)
            if len(vpcs) != 1:
                raise Stop("NO_DESTINATION", where("on-premises", "on-premises"), "no single VPC")
            self.dst = dst = self._resolve_in(vpcs[0])
        vpc = dst.vpc
        if vpc is None:
            raise Stop("NO_DESTINATION", where("on-premises", "on-premises"), "no VPC")
        sender = Sender(self.src.addr, False, where("on-premises", self.src.label), "")
        failures: list[Stop] = []
        for vgw in self.m.inv.vpn_gateways_of(vpc.vpc_id):
            try:
                self.router._vpn_up(vgw.gateway_id, vpc)
                self.router.hop(
                    where("vpn-gateway", vgw.gateway_id, vpc.owner_id, vpc.region), "in"
                )
                edge = self.m.edge_tables.get(vgw.gateway_id)
                if edge is not None:
                    self.router.route(
                        vpc, self.m.tables[edge], replace(dst, lookup=dst.addr), sender
                    )
                self._filters_at_destination(self.src.addr, nat=True, entry="")
                return Delivery("vpc", vpc, "vgw", self.src.addr)
            except Stop as stop:
                failures.append(stop)
        for tgw in sorted(self.m.tgws_of_vpc.get(vpc.vpc_id, ())):
            for att in self.m.tgw_attachments.get(tgw, []):
                if att.resource_type not in ("vpn", "direct-connect-gateway", "connect"):
                    continue
                mark = len(self.router.hops)
                try:
                    self.router.hop(
                        where(
                            "transit-gateway-attachment",
                            att.attachment_id,
                            att.account_id,
                            att.region,
                        ),
                        f"from on-premises ({att.resource_type})",
                    )
                    d = self.router._tgw_table(att, tgw, dst, sender, 0)
                    self._arrive(d)
                    return d
                except Stop as stop:
                    del self.router.hops[mark:]
                    failures.append(stop)
        if failures:
            raise failures[0]
        raise Stop(
            "NO_ROUTE",
            where("vpc", vpc.vpc_id, vpc.owner_id, vpc.region),
            f"no virtual private gateway or Transit Gateway VPN/Direct Connect attachment leads "
            f"into {vpc.vpc_id}",
        )

    # -- return -----------------------------------------------------------------------------

    def _return(self, d: Delivery) -> None:
        src, dst = self.src, self.dst
        reply = self.flow.reply()
        src_seen = getattr(self, "_inbound_seen", None) or d.src_seen or src.addr
        if dst.kind in ("internet", "service", "on-premises") or d.kind != "vpc":
            self._reply_from_outside(d, reply)
            return
        if dst.subnet is None or dst.vpc is None:
            return
        if not self._same_subnet(dst.subnet) or d.nats or d.via not in ("local",):
            self._nacl(dst.subnet, egress=True, flow=reply, peer=src_seen)
        back = Place(
            self.src.kind if not d.nats else "ip",
            self.src.label,
            src_seen,
            src_seen,
            vpc=None if d.nats else self.src.vpc,
            subnet=None if d.nats else self.src.subnet,
        )
        sender = Sender(dst.addr, dst.public, self._dst_component(), dst.subnet.availability_zone)
        rd = self.router.route(dst.vpc, self.m.table_of_subnet(dst.subnet), back, sender)
        self._check_reply(rd, d)
        if src.subnet is not None and (not self._same_subnet(dst.subnet) or d.nats):
            self._nacl(src.subnet, egress=False, flow=reply, peer=dst.addr)
        self.router.hop(self._src_component(), "reply delivered")

    def _reply_from_outside(self, d: Delivery, reply: Flow) -> None:
        """A reply from the internet, a service or on-premises: it comes back to the NAT
        gateway (then by the NAT subnet's routes) or into the TGW attachment the request left
        by (then by that attachment's route table); either must lead back to the source."""
        src, dst = self.src, self.dst
        outside = where(dst.kind, dst.label)
        rd: Delivery | None = None
        want = src.vpc.vpc_id if src.vpc is not None else ""
        if d.nats:
            nat = d.nats[-1]
            s = self.m.subnets.get(nat.subnet_id)
            vpc = self.m.vpc(nat.vpc_id)
            back_addr = src.addr
            if len(d.nats) > 1:
                back_addr = parse_ip(d.nats[-2].private_ip) or src.addr
                want = d.nats[-2].vpc_id
            if s is not None and vpc is not None:
                self._nacl(s, egress=False, flow=reply, peer=dst.lookup)
                nat_comp = where("nat-gateway", nat.nat_gateway_id, nat.account_id, nat.region)
                self.router.hop(nat_comp, "reply translated back")
                self._nacl(s, egress=True, flow=reply, peer=back_addr)
                back = Place("ip", src.label, back_addr, back_addr)
                sender = Sender(dst.lookup, True, outside, s.availability_zone, s.subnet_id)
                rd = self.router.route(vpc, self.m.table_of_subnet(s), back, sender)
        elif d.exit_attachment is not None:
            att, tgw = d.exit_attachment
            comp = where(
                "transit-gateway-attachment", att.attachment_id, att.account_id, att.region
            )
            self.router.hop(comp, "reply from on-premises")
            back = Place("ip", src.label, src.addr, src.addr)
            rd = self.router._tgw_table(att, tgw, back, Sender(dst.lookup, True, outside, ""), 0)
        else:
            self.router.note("the reply comes back through the gateway the request left by")
        home = rd is None or (rd.kind == "vpc" and rd.vpc is not None and rd.vpc.vpc_id == want)
        if rd is not None and want and not home:
            self._elsewhere(rd, f"the reply goes to {rd.kind} ({rd.via}), not back to {want}")
        if src.subnet is not None:
            self._nacl(src.subnet, egress=False, flow=reply, peer=dst.lookup)
        self.router.hop(self._src_component(), "reply delivered")

    def _unread(self, pl_id: str) -> bool:
        pl = self.m.prefix_lists.get(pl_id)
        return pl is None or (pl.cidrs is None and pl.owner_id != "AWS")

    def _path_nacl(self, subnet: Subnet, egress: bool, peer: Addr) -> None:
        """The ACL of a subnet the request crosses on its way (a NAT gateway's)."""
        self._nacl(subnet, egress=egress, flow=self.flow, peer=peer)

    def _check_reply(self, rd: Delivery, d: Delivery) -> None:
        src = self.src
        if src.kind == "internet":
            if rd.kind == "internet" and rd.via in ("igw", "eigw") and not rd.nats:
                return
            self._elsewhere(rd, "the reply does not go back out through the internet gateway")
        if src.kind == "on-premises":
            if rd.kind == "on-premises":
                return
            self._elsewhere(rd, "the reply does not go back to on-premises")
        want = d.nats[0].vpc_id if d.nats else (src.vpc.vpc_id if src.vpc else "")
        if rd.kind == "vpc" and rd.vpc is not None and rd.vpc.vpc_id == want:
            return
        self._elsewhere(rd, f"the reply goes to {rd.kind} ({rd.via}), not back to {want}")

    # -- filters ----------------------------------------------------------------------------

    def _sg(self, eni: NetworkInterface, *, egress: bool, peer: Peer) -> None:
        if not eni.group_ids:
            return
        self.router._need(
            eni.account_id, eni.region, "security_groups", "security-group", eni.group_ids[0]
        )
        rules: list[SgRule] = []
        for g in eni.group_ids:
            sg = self.m.groups.get(g)
            if sg is not None:
                rules.extend(sg.egress if egress else sg.ingress)
        flow = self.flow
        ok, _ = sg_allows(rules, flow, peer, self.m.prefix_lists.get)
        ids = ",".join(sorted(eni.group_ids))
        comp = where("security-group", ids, eni.account_id, eni.region)
        if ok:
            self.router.hop(comp, f"{'egress' if egress else 'ingress'} allows {flow.describe()}")
            return
        unread = sorted(
            {r.prefix_list_id for r in rules if r.prefix_list_id and self._unread(r.prefix_list_id)}
        )
        if unread:
            raise Stop(
                "NOT_READ",
                comp,
                f"the groups use prefix list(s) {', '.join(unread)} whose entries were not read",
            )
        direction = "egress" if egress else "ingress"
        code = "SG_EGRESS_DENIED" if egress else "SG_INGRESS_DENIED"
        who = peer.service or str(peer.addr)
        perm = _permission(flow, str(peer.addr))
        raise Stop(
            code,
            comp,
            f"no {direction} rule of {ids} on {eni.eni_id} allows {flow.describe()} "
            f"{'to' if egress else 'from'} {who}",
            cli(
                f"aws ec2 authorize-security-group-{q(direction)} "
                f"--group-id {q(eni.group_ids[0])} --ip-permissions {q(perm)}",
                eni.region,
                eni.owner_id or eni.account_id,
            ),
        )

    def _nacl(self, subnet: Subnet, *, egress: bool, flow: Flow, peer: Addr) -> None:
        self.router._need(
            subnet.owner_id or subnet.account_id,
            subnet.region,
            "network_acls",
            "network-acl",
            subnet.subnet_id,
        )
        acl = self.m.nacl_of(subnet)
        if acl is None:
            raise Stop(
                "NOT_READ",
                where("network-acl", subnet.subnet_id, subnet.account_id, subnet.region),
                f"no network ACL of {subnet.subnet_id} was read",
            )
        verdict = nacl_decides(acl.entries, egress=egress, flow=flow, peer=peer)
        way = "outbound" if egress else "inbound"
        comp = where(
            "network-acl", acl.nacl_id, acl.owner_id, acl.region, rule=str(verdict.rule_number)
        )
        if verdict.allowed:
            self.router.hop(comp, f"{way} rule {verdict.rule_number} allows {flow.describe()}")
            return
        rule = "*" if verdict.rule_number == FINAL_RULE else str(verdict.rule_number)
        number = max(1, min(verdict.rule_number, FINAL_RULE) - 1)
        ports = flow.ports[0] if flow.protocol in ("6", "17") else None
        port_args = f" --port-range {q(f'From={ports[0]},To={ports[1]}')}" if ports else ""
        cidr_flag = "--ipv6-cidr-block" if peer.version == 6 else "--cidr-block"
        width = 128 if peer.version == 6 else 32
        raise Stop(
            "NACL_EGRESS_DENIED" if egress else "NACL_INGRESS_DENIED",
            comp,
            f"network ACL {acl.nacl_id} of {subnet.subnet_id} denies {flow.describe()} {way} "
            f"{'to' if egress else 'from'} {peer} (rule {rule})"
            + (
                " — the reply to the client's ephemeral ports" if flow.ports == (EPHEMERAL,) else ""
            ),
            cli(
                f"aws ec2 create-network-acl-entry --network-acl-id {q(acl.nacl_id)} "
                f"--{q('egress' if egress else 'ingress')} --rule-number {q(number)} "
                f"--protocol {q(flow.protocol)}{port_args} {q(cidr_flag)} {q(f'{peer}/{width}')} "
                "--rule-action allow",
                acl.region,
                acl.owner_id or acl.account_id,
            )
            + "  # pick a free rule number below the deny",
        )

    # -- helpers ----------------------------------------------------------------------------

    def _elsewhere(self, d: Delivery, text: str) -> None:
        t = d.table
        comp = (
            where(
                "route-table",
                t.route_table_id,
                t.owner_id,
                t.region,
                rule=d.route.destination if d.route else "",
            )
            if t is not None
            else where("vpc", d.vpc.vpc_id if d.vpc else "")
        )
        raise Stop("ROUTED_ELSEWHERE", comp, f"the longest-prefix route sends the traffic {text}")

    def _same_subnet(self, subnet: Subnet) -> bool:
        other = self.dst.subnet if subnet is self.src.subnet else self.src.subnet
        return other is not None and other.subnet_id == subnet.subnet_id

    def _peer_of_dst(self) -> Peer:
        dst = self.dst
        groups: frozenset[str] = frozenset()
        target = dst.eni
        if target is None and dst.kind == "ip":
            cands = self.m.enis_by_ip.get(dst.addr, [])
            target = cands[0] if len(cands) == 1 else None
        if (
            target is not None
            and self.src.eni is not None
            and self._can_reference(self.src.eni, target)
        ):
            groups = frozenset(target.group_ids)
        return Peer(dst.lookup, dst.service, groups)

    def _can_reference(self, a: NetworkInterface, b: NetworkInterface) -> bool:
        """Whether a group rule on one side can match the other's groups (same VPC, an
        active same-region peering, or a TGW with security group referencing on)."""
        if a.vpc_id == b.vpc_id:
            return True
        for p in self.m.inv.peerings_of(a.vpc_id):
            side = p.side(a.vpc_id)
            if p.status == "active" and side is not None:
                other = p.other(side)
                if other.vpc_id == b.vpc_id and other.region == side.region:
                    return True
        for tgw in self.m.tgws_of_vpc.get(a.vpc_id, ()):
            t = self.m.tgws.get(tgw)
            if t is not None and t.sg_referencing and (b.vpc_id, tgw) in self.m.vpc_attachments:
                return True
        return False

    def _sender_component(self) -> Component:
        s = self.src
        if s.eni is not None:
            return where("network-interface", s.eni.eni_id, s.eni.account_id, s.eni.region)
        sub = s.subnet
        return where(
            "subnet",
            sub.subnet_id if sub else s.label,
            sub.account_id if sub else "",
            sub.region if sub else "",
        )

    def _src_component(self) -> Component:
        return (
            self._sender_component()
            if self.src.kind in ("eni", "host")
            else where(self.src.kind, self.src.label)
        )

    def _dst_component(self) -> Component:
        d = self.dst
        if d.eni is not None:
            return where("network-interface", d.eni.eni_id, d.eni.account_id, d.eni.region)
        if d.subnet is not None:
            return where("subnet", d.subnet.subnet_id, d.subnet.account_id, d.subnet.region)
        return where(d.kind, d.label)


def _permission(flow: Flow, peer: str) -> str:
    proto = {"-1": "-1", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}.get(
        flow.protocol, flow.protocol
    )
    key = "Ipv6Ranges=[{CidrIpv6=%s/128}]" if ":" in peer else "IpRanges=[{CidrIp=%s/32}]"
    ranges = key % peer
    if flow.protocol in ("6", "17"):
        lo, hi = flow.ports[0]
        return f"IpProtocol={proto},FromPort={lo},ToPort={hi},{ranges}"
    if flow.protocol in ("1", "58"):
        t = flow.ports[0][0]
        return f"IpProtocol={proto},FromPort={t},ToPort=-1,{ranges}"
    return f"IpProtocol=-1,{ranges}"


def _service_place(m: NetworkModel, src: Place, dst: Place) -> Place:
    """An AWS service as destination, named for the source's region; an interface endpoint
    for it in the source's VPC with private DNS on takes its traffic (DNS resolves to it)."""
    if dst.kind != "service":
        return dst
    svc, _, region = dst.service.partition("@")
    region = region or (src.vpc.region if src.vpc else "us-east-1")
    name = f"com.amazonaws.{region}.{svc}"
    if src.vpc is not None:
        for ep in m.inv.endpoints_of(src.vpc.vpc_id):
            if (
                ep.service_name == name
                and ep.endpoint_type.lower() == "interface"
                and ep.private_dns_enabled
                # Inbound-only private DNS (AWS's hybrid pattern beside a gateway endpoint):
                # in-VPC clients still resolve the public names and use the gateway.
                and not ep.private_dns_only_for_inbound_resolver
                and ep.state == "available"
            ):
                enis = [m.enis[e] for e in ep.network_interface_ids if e in m.enis]
                same_az = [
                    e
                    for e in enis
                    if src.subnet and e.availability_zone == src.subnet.availability_zone
                ]
                if same_az or enis:
                    eni = (same_az or enis)[0]
                    return replace(eni_place(m, eni, dst.label, dst.addr.version), kind="eni")
    return replace(dst, service=name)


def answer_of(
    query: tuple[str, str, str, int | None],
    *,
    src: Place,
    dst: Place,
    trace: Trace,
    direction: str,
    stop: Stop | None,
    notes: list[str],
) -> PathAnswer:
    """Assemble the PathAnswer of a finished trace."""
    source, destination, protocol, port = query
    common = {
        "source": source,
        "destination": destination,
        "protocol": protocol,
        "port": port,
        "forward": trace.forward,
        "return_path": tuple(trace.router.hops),
        "notes": tuple(notes),
        "source_address": str(src.addr),
        "destination_address": str(dst.lookup),
    }
    if stop is None:
        return PathAnswer(verdict=Verdict.REACHABLE, explanation="reachable both ways", **common)  # type: ignore[arg-type]
    verdict = CODES.get(stop.code, (Verdict.UNKNOWN, ""))[0]
    return PathAnswer(
        verdict=verdict,
        code=stop.code,
        direction=direction,
        blocking=stop.component,
        explanation=stop.explanation,
        fix=stop.fix,
        **common,  # type: ignore[arg-type]
    )


__all__ = ["EPHEMERAL", "Trace", "answer_of"]
