"""Longest-prefix match: one dict per prefix length, probed from the longest down.

A route table holds few distinct prefix lengths (typically under ten), so a lookup is a handful
of dict probes, and building one is linear in its routes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Generic, TypeVar

from vpcaudit.inventory import Network, parse_network
from vpcaudit.network.addr import BITS, Addr

T = TypeVar("T")


Bits = tuple[int, int, int]
"""(version, shift, first address): what a lookup needs of a prefix."""


def bits(net: Network) -> Bits:
    """A network as (version, shift, first address)."""
    return net.version, BITS[net.version] - net.prefixlen, int(net.network_address)


@functools.lru_cache(maxsize=262144)
def text_bits(text: str) -> tuple[Bits, Network] | None:
    """A CIDR text as (bits, network), cached by the text: the same CIDR strings recur in
    thousands of tables, and ipaddress's properties and hashing are slow."""
    net = parse_network(text)
    return None if net is None else (bits(net), net)


class Lpm(Generic[T]):
    """A longest-prefix-match table of (network -> value), IPv4 and IPv6 apart."""

    __slots__ = ("_levels",)

    def __init__(self, entries: Iterable[tuple[Network, T]] = ()) -> None:
        self._levels: dict[int, list[tuple[int, dict[int, tuple[Network, T]]]]] = {4: [], 6: []}
        self._fill((bits(net), net, value) for net, value in entries)

    @classmethod
    def from_bits(cls, entries: Iterable[tuple[Bits, Network, T]]) -> Lpm[T]:
        """A table from entries whose bits the caller already has (see text_bits)."""
        lpm: Lpm[T] = cls()
        lpm._fill(entries)
        return lpm

    def _fill(self, entries: Iterable[tuple[Bits, Network, T]]) -> None:
        levels: dict[tuple[int, int], dict[int, tuple[Network, T]]] = {}
        for (version, shift, base), net, value in entries:
            bucket = levels.get((version, shift))
            if bucket is None:
                bucket = levels[(version, shift)] = {}
            # The first entry for a prefix wins: callers add static routes before propagated.
            bucket.setdefault(base >> shift, (net, value))
        # Ascending shift is descending prefix length: the longest match is found first.
        for (version, shift), bucket in sorted(levels.items()):
            self._levels[version].append((shift, bucket))

    def lookup(self, addr: Addr) -> tuple[Network, T] | None:
        """The most specific entry that holds addr, or None."""
        for shift, bucket in self._levels[addr.version]:
            hit = bucket.get(addr.value >> shift)
            if hit is not None:
                return hit
        return None
