"""Route tables as address ranges: which stretch of addresses each route wins by longest
prefix, so that a question asked of thousands of subnets ("does this table send you back
there?") costs one sweep of the table and a bisect per subnet, not a lookup per pair."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from vpcaudit.inventory import Network, Route, RouteTable, TgwRoute, TgwRouteTable, parse_network
from vpcaudit.network import NetworkModel
from vpcaudit.network.addr import BITS, Addr
from vpcaudit.rules.return_routes import Member


class Ranges:
    """Sorted, disjoint, merged [lo, hi] address ranges of one family."""

    __slots__ = ("his", "los")

    def __init__(self, pairs: Sequence[tuple[int, int]]) -> None:
        self.los = [p[0] for p in pairs]
        self.his = [p[1] for p in pairs]

    @classmethod
    def merged(cls, pairs: Iterable[tuple[int, int]], *, ordered: bool = False) -> Ranges:
        """The union of possibly overlapping ranges (already sorted when ordered)."""
        out: list[tuple[int, int]] = []
        for lo, hi in pairs if ordered else sorted(pairs):
            if out and lo <= out[-1][1] + 1:
                if hi > out[-1][1]:
                    out[-1] = (out[-1][0], hi)
            else:
                out.append((lo, hi))
        return cls(out)

    def gaps(self, bits: int) -> list[tuple[int, int]]:
        """The addresses of the family (bits long) that no range holds."""
        out: list[tuple[int, int]] = []
        pos = 0
        for lo, hi in zip(self.los, self.his, strict=True):
            if lo > pos:
                out.append((pos, lo - 1))
            pos = hi + 1
        if pos <= (1 << bits) - 1:
            out.append((pos, (1 << bits) - 1))
        return out

    def holds(self, lo: int, hi: int) -> bool:
        """Whether one range of self holds [lo, hi] whole."""
        k = bisect_right(self.los, lo) - 1
        return k >= 0 and self.his[k] >= hi

    def covers(self, other: Ranges) -> bool:
        """Whether self holds every range of other (one bisect per range of self touched)."""
        i, n = 0, len(other.los)
        while i < n:
            lo, hi = other.los[i], other.his[i]
            k = bisect_right(self.los, lo) - 1
            if k < 0 or self.his[k] < hi:
                return False
            # Every later range of other that ends inside self's range k starts after lo.
            i = bisect_right(other.his, self.his[k], i)
        return True


NOWHERE = Ranges(())
"""No address at all."""


class Parts:
    """A table as (lo, hi, longest-prefix winner) stretches of one family."""

    # The first entry of a prefix wins (callers put static before propagated, as the model's
    # tables do); addresses no entry holds are left out.

    __slots__ = ("his", "los", "winners")

    def __init__(self, entries: Iterable[tuple[Network, Any]], family: int) -> None:
        bits = BITS[family]
        first_of: dict[tuple[int, int], Any] = {}
        for net, value in entries:
            if net.version == family:
                first_of.setdefault((int(net.network_address), net.prefixlen), value)
        out: list[tuple[int, int, Any]] = []
        # Prefixes nest or are disjoint: sorted by start, then outer first, a stack of the
        # enclosing prefixes tells who wins each stretch of addresses.
        stack: list[tuple[int, Any]] = []
        pos = 0
        for start, plen in sorted(first_of):
            value = first_of[(start, plen)]
            while stack and stack[-1][0] < start:
                end, held = stack.pop()
                if pos <= end:
                    out.append((pos, end, held))
                pos = end + 1
            if stack and pos < start:
                out.append((pos, start - 1, stack[-1][1]))
            pos = start
            stack.append((start + (1 << (bits - plen)) - 1, value))
        while stack:
            end, held = stack.pop()
            if pos <= end:
                out.append((pos, end, held))
            pos = end + 1
        self.los = [p[0] for p in out]
        self.his = [p[1] for p in out]
        self.winners = [p[2] for p in out]

    def at(self, value: int) -> int:
        """The index of the stretch holding the address, or -1 when no route does."""
        k = bisect_right(self.los, value) - 1
        return k if k >= 0 and self.his[k] >= value else -1

    def where(self, keep: Callable[[Any], bool]) -> Ranges:
        """The stretches whose winner is kept, merged."""
        out: list[tuple[int, int]] = []
        for lo, hi, value in zip(self.los, self.his, self.winners, strict=True):
            if keep(value):
                if out and out[-1][1] + 1 == lo:
                    out[-1] = (out[-1][0], hi)
                else:
                    out.append((lo, hi))
        return Ranges(out)


Winner = tuple[Network, Route]
TgwWinner = tuple[Network, TgwRoute]


class RouteRanges:
    """What each VPC and TGW route table of a network model answers, as ranges (cached)."""

    def __init__(self, model: NetworkModel) -> None:
        self.model = model
        self._vpc_parts: dict[tuple[str, int], Parts | None] = {}
        self._vpc_ranges: dict[tuple[str, str, int], Ranges | None] = {}
        self._tgw_parts: dict[tuple[str, int], Parts] = {}
        self._tgw_ranges: dict[tuple[str, int], dict[str, Ranges]] = {}
        self._sends: dict[tuple[str, str], frozenset[int]] = {}

    def sends(self, table: RouteTable, tgw_id: str) -> frozenset[int]:
        """The families a VPC table has an active route to the TGW for."""
        key = (table.route_table_id, tgw_id)
        hit = self._sends.get(key)
        if hit is None:
            fams: set[int] = set()
            for r in table.routes:
                if r.target_id == tgw_id and r.is_active:
                    pl = r.destination.startswith("pl-")
                    fams.update((4, 6) if pl else (6 if ":" in r.destination else 4,))
            hit = self._sends[key] = frozenset(fams)
        return hit

    def vpc_parts(self, table: RouteTable, family: int) -> Parts | None:
        """The VPC table's winners; None when a prefix list of its routes was not read."""
        key = (table.route_table_id, family)
        if key in self._vpc_parts:
            return self._vpc_parts[key]
        static: list[tuple[Network, Winner]] = []
        listed: list[tuple[Network, Winner]] = []
        propagated: list[tuple[Network, Winner]] = []
        out: Parts | None = None
        for r in table.routes:
            if r.destination.startswith("pl-"):
                pl = self.model.prefix_lists.get(r.destination)
                if pl is None or (pl.cidrs is None and pl.owner_id != "AWS"):
                    break  # entries unknown: so is what the table picks
                listed.extend((c, (c, r)) for c in pl.cidrs or ())
                continue
            net = parse_network(r.destination)
            if net is not None:
                origin = r.origin == "EnableVgwRoutePropagation"
                (propagated if origin else static).append((net, (net, r)))
        else:
            # Same priority as the model: a static CIDR, then a prefix list, then propagated.
            out = Parts([*static, *listed, *propagated], family)
        self._vpc_parts[key] = out
        return out

    def vpc_ranges(self, table: RouteTable, tgw_id: str, family: int) -> Ranges | None:
        """Where the VPC table sends to the TGW or keeps local (None: cannot be judged)."""
        key = (table.route_table_id, tgw_id, family)
        if key not in self._vpc_ranges:
            parts = self.vpc_parts(table, family)

            def back(w: Winner) -> bool:
                """Whether the winner sends the reply to the TGW or keeps it local."""
                r = w[1]
                return r.is_active and (r.target_id == tgw_id or _local(r))

            self._vpc_ranges[key] = None if parts is None else parts.where(back)
        return self._vpc_ranges[key]

    def to_tgw(self, table: RouteTable, tgw_id: str, family: int) -> Ranges:
        """Where the VPC table sends to the TGW (active routes)."""
        key = (table.route_table_id, "to:" + tgw_id, family)
        hit = self._vpc_ranges.get(key)
        if hit is None:
            parts = self.vpc_parts(table, family)
            hit = NOWHERE if parts is None else parts.where(lambda w: _to_tgw(w, tgw_id))
            self._vpc_ranges[key] = hit
        return hit

    def tgw_parts(self, table: TgwRouteTable, family: int) -> Parts:
        """The TGW table's winners (static before propagated for one prefix)."""
        key = (table.route_table_id, family)
        hit = self._tgw_parts.get(key)
        if hit is None:
            static: list[tuple[Network, TgwWinner]] = []
            propagated: list[tuple[Network, TgwWinner]] = []
            for r in table.routes:
                if r.destination.startswith("pl-"):
                    pl = self.model.prefix_lists.get(r.destination)
                    nets = list(pl.cidrs or ()) if pl is not None else []
                else:
                    net = parse_network(r.destination)
                    nets = [net] if net is not None else []
                (propagated if r.route_type == "propagated" else static).extend(
                    (n, (n, r)) for n in nets
                )
            hit = self._tgw_parts[key] = Parts([*static, *propagated], family)
        return hit

    def tgw_ranges(self, table: TgwRouteTable, attachment_id: str, family: int) -> Ranges:
        """Where the TGW table sends to the attachment (active routes)."""
        key = (table.route_table_id, family)
        by_att = self._tgw_ranges.get(key)
        if by_att is None:
            # One sweep of the table serves every attachment it routes to.
            parts = self.tgw_parts(table, family)
            spans: dict[str, list[tuple[int, int]]] = {}
            for lo, hi, (_, r) in zip(parts.los, parts.his, parts.winners, strict=True):
                if r.state == "active":
                    for a in r.attachment_ids:
                        spans.setdefault(a, []).append((lo, hi))
            by_att = self._tgw_ranges[key] = {
                a: Ranges.merged(p, ordered=True) for a, p in spans.items()
            }
        return by_att.get(attachment_id, NOWHERE)


def _local(r: Route) -> bool:
    return r.target_type == "gateway" and r.target_id == "local"


def _to_tgw(hit: Winner | None, tgw_id: str) -> bool:
    return hit is not None and hit[1].target_id == tgw_id and hit[1].is_active


def first(net: Network) -> Addr:
    """A network's first address."""
    return Addr(net.version, int(net.network_address))


def span(m: Member) -> tuple[int, int]:
    """A subnet's addresses as a range."""
    return m.value, m.value + (1 << (BITS[m.probe.version] - m.prefixlen)) - 1
