"""Which subnets send to which VPC through a Transit Gateway (by longest prefix: their own route
table, then the TGW route table of their attachment), and which replies find no route back
(the replying subnet's table, then the TGW route table of the replier's attachment), per
subnet and address family: the judgement behind tgw-route-one-way (rules/tgw_one_way.py).

A healthy hub is checked in ranges, not pairs (rules/tgw_ranges.py): each route table's answer
is computed once as the address ranges it sends back, and only the senders those ranges do
not hold are followed subnet by subnet, so a broken VPC costs its own misses, not the hub's."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from vpcaudit.inventory import (
    Inventory,
    Network,
    RouteTable,
    TgwAttachment,
    TgwRoute,
    TgwRouteTable,
)
from vpcaudit.model import Unverifiable
from vpcaudit.network import NetworkModel
from vpcaudit.network.addr import BITS, contains
from vpcaudit.rules.return_routes import Member, ReturnRoutes
from vpcaudit.rules.tgw import attachment_ref, owner_of, tables_of, tables_read, tgw_ref
from vpcaudit.rules.tgw_ranges import Parts, Ranges, RouteRanges, span


@dataclass(frozen=True)
class Spoke:
    """A VPC attached to the Transit Gateway, and the TGW route table its traffic uses."""

    # An attachment associated with no table is tgw-attachment-unassociated's: not a spoke.

    vpc_id: str
    att: TgwAttachment
    table: TgwRouteTable


SAMPLE = 10
"""How many misses of one table a finding shows (the count says the rest)."""
LIMIT = 500
"""How many lost sender subnets are looked for in one VPC and family: a VPC that loses the
replies of more is plainly broken, and counting every one would cost the hub's pairs."""


@dataclass(frozen=True)
class Miss:
    """A sending subnet whose replies a table does not send back."""

    sender: Member
    sender_vpc: str
    sender_attachment: str
    chosen: str
    """What the return lookup picks instead."""


@dataclass
class Lost:
    """The replies one table does not send back: the first misses, a count, and the fixes."""

    table_id: str
    """The replying subnets' VPC route table, or the replier's TGW route table."""
    sample: list[Miss] = field(default_factory=list)
    count: int = 0
    fixes: dict[tuple[str, str], str] = field(default_factory=dict)
    """(destination, sender attachment) -> the sender subnet's CIDR, in order: the sending
    VPC's block where nothing more specific in the table catches the subnet, else the
    subnet's CIDR (VPC side); the sending VPC's block (TGW side)."""
    repliers: set[str] = field(default_factory=set)
    """VPC side: the replying subnets that use the table."""

    def add(self, s: Member, x: Spoke, chosen: str, destination: str) -> None:
        """Count a miss; keep it when the sample is not full."""
        self.count += 1
        att = x.att.attachment_id
        if len(self.sample) < SAMPLE:
            self.sample.append(Miss(s, x.vpc_id, att, chosen))
        self.fixes.setdefault((destination, att), s.cidr)


@dataclass
class OneWay:
    """One family's traffic into a spoke whose replies are lost on the way back."""

    spoke: Spoke
    family: int
    senders: dict[str, set[str]] = field(default_factory=dict)
    """Sending VPC -> its subnets whose replies are lost."""
    vpc: dict[str, Lost] = field(default_factory=dict)
    """Replying VPC route table -> the replies it does not send back to the TGW."""
    tgw: Lost | None = None
    """The replies the spoke's TGW route table does not send back to their attachments."""
    complete: bool = True
    """False when the search stopped at LIMIT lost subnets (the counts are then a floor)."""
    found: int = 0
    """How many lost sender subnets were found."""

    def full(self) -> bool:
        """Count one lost sender subnet; True (and incomplete) once LIMIT are found."""
        self.found += 1
        if self.found >= LIMIT:
            self.complete = False
        return not self.complete


class _Senders:
    """The sending subnets of one TGW route table, by address (to find those outside ranges)."""

    def __init__(self, items: list[tuple[Spoke, Member]], bits: int) -> None:
        spans = sorted((span(m), m.subnet.subnet_id, sp, m) for sp, m in items)
        self.bits = bits
        self.los = [x[0][0] for x in spans]
        self.his = [x[0][1] for x in spans]
        self.items = [(x[2], x[3]) for x in spans]

    def outside(self, ranges: Ranges) -> Iterator[tuple[Spoke, Member]]:
        """The senders some address of which the ranges do not hold."""
        # Subnets of VPCs attached to one Transit Gateway do not overlap (it cannot route
        # overlapping VPCs): only the span starting before a gap can reach into it.
        seen: set[int] = set()
        for a, b in ranges.gaps(self.bits):
            k = max(bisect_right(self.los, a) - 1, 0)
            while k < len(self.los) and self.los[k] <= b:
                if self.his[k] >= a and k not in seen:
                    seen.add(k)
                    yield self.items[k]
                k += 1


@dataclass
class _Hub:
    """One Transit Gateway and address family: who may send, grouped by TGW route table."""

    tgw_id: str
    family: int
    senders: dict[str, list[Member]]
    """Spoke VPC -> its subnets whose table routes this family to the TGW."""
    by_rt: dict[str, list[Spoke]] = field(default_factory=dict)
    """TGW route table -> the sending spokes associated with it."""
    reach: dict[str, list[str]] = field(default_factory=dict)
    """Attachment -> the sending spokes' TGW route tables with an active route to it."""
    pool: dict[str, Ranges] = field(default_factory=dict)
    """TGW route table -> the address ranges of every subnet that may send through it."""
    index: dict[str, _Senders] = field(default_factory=dict)
    """TGW route table -> its sending subnets, by address."""


class _Reach:
    """Which judged replying subnets a sender's route table sends to the TGW (cached)."""

    def __init__(self, judge: TgwReturns, hub: _Hub, into: list[Member]) -> None:
        self.judge, self.hub, self.into = judge, hub, into
        self._of: dict[str, dict[str, list[str]]] = {}

    def of(self, table: RouteTable) -> dict[str, list[str]]:
        """Replying route table -> the subnets using it that the sender's table reaches."""
        hit = self._of.get(table.route_table_id)
        if hit is None:
            sent = self.judge.ranges.to_tgw(table, self.hub.tgw_id, self.hub.family)
            hit = self._of[table.route_table_id] = {}
            for d in self.into:
                if sent.holds(d.probe.value, d.probe.value):
                    hit.setdefault(d.table.route_table_id, []).append(d.subnet.subnet_id)
        return hit


class TgwReturns:
    """The per-subnet return-route judgement of every Transit Gateway of one network model."""

    def __init__(self, model: NetworkModel) -> None:
        self.model = model
        self.inv: Inventory = model.inv
        self.members = ReturnRoutes.of(model).members
        self.ranges = RouteRanges(model)
        self._unanswered: dict[tuple[str, int], set[str]] = {}
        self._verdicts: dict[tuple[str, int, int, str], tuple[str, str, int]] = {}
        self._blocks: dict[str, tuple[str, int]] = {}
        self._bad_in: dict[tuple[str, str, int], set[str]] = {}

    # -- one Transit Gateway --------------------------------------------------------------

    def judge(self, tgw_id: str, atts: list[TgwAttachment]) -> Iterator[OneWay | Unverifiable]:
        """The one-way spokes of a TGW, and the checks it cannot decide."""
        model, inv = self.model, self.inv
        if not any(r.is_active for _, r in inv.routes_to(tgw_id)):
            return  # no VPC route sends anything to it
        region = atts[0].region
        owner = owner_of(model, tgw_id, atts[0].tgw_owner_id or atts[0].account_id)
        if not (tables_read(inv, owner, region) and inv.was_read(owner, region, "tgw_routes")):
            tgw = model.tgws.get(tgw_id)
            yield Unverifiable(
                tgw_ref(tgw) if tgw else attachment_ref(atts[0], atts[0].account_id),
                f"the route tables of {tgw_id} ({owner} {region}) could not be read: replies "
                f"through it cannot be checked",
            )
            return
        routed = {a for t in tables_of(inv, tgw_id) for r in t.routes for a in r.attachment_ids}
        spokes: list[Spoke] = []
        for att in sorted(atts, key=lambda a: a.resource_id):
            table = model.tgw_tables.get(att.association_rt_id) if att.association_rt_id else None
            vpc = model.vpc(att.resource_id)
            readable = vpc is not None and all(
                inv.was_read(vpc.owner_id, vpc.region, k) for k in ("route_tables", "subnets")
            )
            known = not att.association_rt_id or (table is not None and table.routes_read)
            if readable and known:
                if table is not None:
                    spokes.append(Spoke(att.resource_id, att, table))
                continue
            if att.attachment_id in routed or (table is not None and table.routes):
                why = (
                    f"its TGW route table {att.association_rt_id} could not be read"
                    if readable
                    else f"the route tables or subnets of {att.resource_id} could not be read"
                )
                yield Unverifiable(
                    attachment_ref(att, att.resource_owner_id or att.account_id),
                    f"replies between {att.resource_id} and the other VPCs of {tgw_id} cannot "
                    f"be checked: {why}",
                )
        for family in (4, 6):
            yield from self._family(tgw_id, spokes, family)

    def _family(self, tgw_id: str, spokes: list[Spoke], family: int) -> Iterator[OneWay]:
        senders: dict[str, list[Member]] = {}
        for sp in spokes:
            members = self.members(sp.vpc_id, family)
            sending = [m for m in members if family in self.ranges.sends(m.table, tgw_id)]
            if sending:
                senders[sp.vpc_id] = sending
        if not senders:
            return
        hub = _Hub(tgw_id, family, senders)
        for sp in spokes:
            if sp.vpc_id in senders:
                hub.by_rt.setdefault(sp.table.route_table_id, []).append(sp)
        for rt_id, group in hub.by_rt.items():
            routes = self.model.tgw_tables[rt_id].routes
            for a in sorted({a for r in routes if r.state == "active" for a in r.attachment_ids}):
                hub.reach.setdefault(a, []).append(rt_id)
            items = [(sp, m) for sp in group for m in senders[sp.vpc_id]]
            hub.pool[rt_id] = Ranges.merged(span(m) for _, m in items)
            hub.index[rt_id] = _Senders(items, BITS[family])
        for y in spokes:
            repliers = self.members(y.vpc_id, family)
            rts = hub.reach.get(y.att.attachment_id, [])
            if not repliers or not rts:
                continue
            judged = self._judged(tgw_id, y, repliers, family)
            if self._all_answered(hub, y, judged, rts):
                continue
            found = self._exact(hub, y, repliers, judged, rts)
            if found.vpc or found.tgw:
                yield found

    def _judged(
        self, tgw_id: str, y: Spoke, repliers: Sequence[Member], family: int
    ) -> list[Member]:
        """The replying subnets whose replies are judged."""
        # A subnet whose table has no route to the TGW while others of its VPC do is kept
        # off it on purpose (isolated, or the attachment's own subnets): not judged.
        engaged = [d for d in repliers if family in self.ranges.sends(d.table, tgw_id)]
        if engaged:
            return engaged
        # No table routes to it: every subnet is judged, but the attachment's own subnets
        # only when they are all there is (they hold no hosts in AWS's recommended design,
        # and a route back to the TGW there would hairpin traffic between spokes).
        own = set(y.att.subnet_ids)
        return [d for d in repliers if d.subnet.subnet_id not in own] or list(repliers)

    def _all_answered(self, hub: _Hub, y: Spoke, judged: list[Member], rts: list[str]) -> bool:
        """Whether every subnet that may send to y is answered (a superset: exact if so)."""
        for table in {d.table.route_table_id: d.table for d in judged}.values():
            ranges = self.ranges.vpc_ranges(table, hub.tgw_id, hub.family)
            if ranges is None:
                continue  # a prefix list not read: the table cannot be judged
            if not all(ranges.covers(hub.pool[rt]) for rt in rts):
                return False
        bad = self._unanswered_by(hub, y.table)
        for rt in rts:
            key = (y.table.route_table_id, rt, hub.family)
            lost = self._bad_in.get(key)
            if lost is None:
                group = hub.by_rt[rt]
                lost = self._bad_in[key] = {sp.vpc_id for sp in group if sp.vpc_id in bad}
            if lost - {y.vpc_id}:
                return False
        return True

    def _unanswered_by(self, hub: _Hub, table: TgwRouteTable) -> set[str]:
        """The sending VPCs some of whose subnets the TGW table does not route back whole."""
        key = (table.route_table_id, hub.family)
        hit = self._unanswered.get(key)
        if hit is None:
            hit = set()
            for group in hub.by_rt.values():
                for sp in group:
                    ranges = self.ranges.tgw_ranges(table, sp.att.attachment_id, hub.family)
                    if not all(ranges.holds(*span(m)) for m in hub.senders[sp.vpc_id]):
                        hit.add(sp.vpc_id)
            self._unanswered[key] = hit
        return hit

    def _exact(
        self, hub: _Hub, y: Spoke, repliers: Sequence[Member], judged: list[Member], rts: list[str]
    ) -> OneWay:
        """The senders that in fact reach y (by their own routes) and lose replies."""
        # Only the senders a return table's ranges do not hold are visited: a VPC with one gap
        # costs that gap, and one with no route back stops at LIMIT lost subnets, never
        # costing the hub's pairs.
        out = OneWay(y, hub.family)
        judged_ids = {d.subnet.subnet_id for d in judged}
        tables = sorted({d.table.route_table_id: d.table for d in judged}.items())
        bad = self._unanswered_by(hub, y.table)
        for rt in rts:
            lookup = self.model.compiled_tgw(self.model.tgw_tables[rt]).lpm.lookup
            att = y.att.attachment_id
            into = [
                d
                for d in repliers
                if d.subnet.subnet_id in judged_ids and _to(lookup(d.probe), att)
            ]
            if not into:
                continue
            reach = _Reach(self, hub, into)
            for tid, table in tables:
                ranges = self.ranges.vpc_ranges(table, hub.tgw_id, hub.family)
                for x, s in hub.index[rt].outside(ranges) if ranges is not None else ():
                    rids = reach.of(s.table).get(tid) if x.vpc_id != y.vpc_id else None
                    if rids and self._vpc_lost(out, hub.tgw_id, table, x, s):
                        out.vpc[tid].repliers.update(rids)
                        out.senders.setdefault(x.vpc_id, set()).add(s.subnet.subnet_id)
                        if out.full():
                            return out
            for x in hub.by_rt[rt]:
                if x.vpc_id not in bad or x.vpc_id == y.vpc_id:
                    continue
                ranges = self.ranges.tgw_ranges(y.table, x.att.attachment_id, hub.family)
                for s in hub.senders[x.vpc_id]:
                    if (
                        not ranges.holds(*span(s))
                        and reach.of(s.table)
                        and self._tgw_lost(out, y.table, x, s)
                    ):
                        out.senders.setdefault(x.vpc_id, set()).add(s.subnet.subnet_id)
                        if out.full():
                            return out
        return out

    def block(self, vpc_id: str, s: Member) -> tuple[str, int]:
        """The sending VPC's CIDR block holding the subnet (else the subnet's CIDR)."""
        hit = self._blocks.get(s.subnet.subnet_id)
        if hit is None:
            vpc = self.model.vpc(vpc_id)
            hit = (s.cidr, s.prefixlen)
            for b in vpc.cidrs if vpc is not None else ():
                if b.prefixlen <= s.prefixlen and contains(b, s.probe):
                    hit = (str(b), b.prefixlen)
                    break
            self._blocks[s.subnet.subnet_id] = hit
        return hit

    def _tgw_lost(self, out: OneWay, table: TgwRouteTable, x: Spoke, s: Member) -> bool:
        """The TGW side: the replier's table must send the sender's whole subnet to x."""
        att = x.att.attachment_id
        parts = self.ranges.tgw_parts(table, out.family)
        k = parts.at(s.probe.value)
        chosen = "no route"
        if k >= 0:
            net, r = parts.winners[k]
            if r.state != "active" or not r.attachment_ids:
                return False  # a blackhole: tgw-route-blackhole's finding
            if att not in r.attachment_ids:
                return False  # sent on elsewhere (an inspection or egress VPC may return it)
            chosen = f"{net} -> {att} (covers only part of {s.cidr})"
        if out.tgw is None:
            out.tgw = Lost(table.route_table_id)
        out.tgw.add(s, x, chosen, self.block(x.vpc_id, s)[0])
        return True

    def _vpc_lost(self, out: OneWay, tgw_id: str, table: RouteTable, x: Spoke, s: Member) -> bool:
        """The VPC side: the replying table must send the sender's whole subnet to the TGW."""
        parts = self.ranges.vpc_parts(table, out.family)
        if parts is None:
            return False  # a prefix list not read: the table cannot be judged
        tid = table.route_table_id
        k = parts.at(s.probe.value)
        key = (tid, out.family, k, tgw_id)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts[key] = _verdict(parts, k, tgw_id)
        kind, shown, plen = verdict
        if kind == "other":
            return False
        if kind == "part":
            shown = f"{shown} (covers only part of {s.cidr})"
        block, block_len = self.block(x.vpc_id, s)
        # The block's route helps only where nothing more specific catches the subnet.
        cidr = block if plen <= block_len else s.cidr
        lost = out.vpc.get(tid)
        if lost is None:
            lost = out.vpc[tid] = Lost(tid)
        lost.add(s, x, shown, cidr)
        return True


def _verdict(parts: Parts, k: int, tgw_id: str) -> tuple[str, str, int]:
    """What a VPC table's stretch does with a reply it does not send to the TGW whole."""
    # lost; part (the route to the TGW covers only part of the sender); other (judged by
    # another rule, or possibly carried back another way).
    if k < 0:
        return "lost", "no route", -1
    net, r = parts.winners[k]
    # A prefix list's route is shown by the entry that matched.
    dest = net if r.destination.startswith("pl-") else r.destination
    shown = f"{dest} -> {r.target_id or r.target_type}"
    if not r.is_active:
        return "other", shown, net.prefixlen  # a blackhole: route-blackhole's finding
    if r.target_id == tgw_id:
        return "part", shown, net.prefixlen
    if r.target_type in _LOST_AT or r.target_id.startswith(("igw-", "vgw-")):
        return "lost", shown, net.prefixlen
    # A peering, another Transit Gateway, an appliance or an endpoint may carry the reply
    # back (asymmetric but working), and a local route means overlapping address space:
    # other rules and `vpcaudit path` judge those.
    return "other", shown, net.prefixlen


# Targets at which a reply to another VPC's private address dies.
_LOST_AT = frozenset({"nat-gateway", "egress-only-internet-gateway"})


def _to(hit: tuple[Network, TgwRoute] | None, attachment_id: str) -> bool:
    return hit is not None and hit[1].state == "active" and attachment_id in hit[1].attachment_ids


def vpc_attachments_by_tgw(model: NetworkModel) -> dict[str, list[TgwAttachment]]:
    """Live VPC attachments per Transit Gateway (one per VPC), in a stable order."""
    out: dict[str, list[TgwAttachment]] = {}
    for (_, tgw_id), att in sorted(model.vpc_attachments.items(), key=lambda kv: kv[0]):
        out.setdefault(tgw_id, []).append(att)
    return out
