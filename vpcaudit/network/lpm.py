"""Longest-prefix match: one dict per prefix length, probed from the longest down.

A route table holds few distinct prefix lengths (typically under ten), so a lookup is a handful
of dict probes, and building one is linear in its routes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

from vpcaudit.inventory import Network
from vpcaudit.network.addr import BITS, Addr

T = TypeVar("T")


class Lpm(Generic[T]):
    """A longest-prefix-match table of (network -> value), IPv4 and IPv6 apart."""

    __slots__ = ("_levels",)

    def __init__(self, entries: Iterable[tuple[Network, T]]) -> None:
        levels: dict[int, dict[int, dict[int, tuple[Network, T]]]] = {4: {}, 6: {}}
        for net, value in entries:
            shift = BITS[net.version] - net.prefixlen
            bucket = levels[net.version].setdefault(net.prefixlen, {})
            # The first entry for a prefix wins: callers add static routes before propagated.
            bucket.setdefault(int(net.network_address) >> shift, (net, value))
        self._levels: dict[int, list[tuple[int, dict[int, tuple[Network, T]]]]] = {
            v: sorted(((BITS[v] - plen, b) for plen, b in by_len.items()), key=lambda x: x[0])
            for v, by_len in levels.items()
        }

    def lookup(self, addr: Addr) -> tuple[Network, T] | None:
        """The most specific entry that holds addr, or None."""
        for shift, bucket in self._levels[addr.version]:
            hit = bucket.get(addr.value >> shift)
            if hit is not None:
                return hit
        return None
