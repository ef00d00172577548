"""Addresses and prefixes as integers: the model compares millions of them."""

from __future__ import annotations

import ipaddress
from typing import NamedTuple

from vpcaudit.inventory import Network

BITS = {4: 32, 6: 128}


class Addr(NamedTuple):
    """An IP address: its version and its integer value."""

    version: int
    value: int

    def __str__(self) -> str:
        return str(ipaddress.ip_address(self.value) if self.version == 6 else _v4(self.value))


def _v4(value: int) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(value)


def parse_ip(text: str) -> Addr | None:
    """An IP address from text, or None when it is not one."""
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return Addr(ip.version, int(ip))


def contains(net: Network, addr: Addr) -> bool:
    """Whether the network holds the address (integer compare: ipaddress is slow)."""
    if net.version != addr.version:
        return False
    shift = BITS[addr.version] - net.prefixlen
    return (addr.value >> shift) == (int(net.network_address) >> shift)


def host(net: Network, offset: int) -> Addr:
    """The address `offset` past the network's first address."""
    return Addr(net.version, int(net.network_address) + offset)


def is_private(addr: Addr) -> bool:
    """RFC 1918, shared (100.64/10) and IPv6 unique-local addresses: never on the internet."""
    ip = ipaddress.ip_address(addr.value) if addr.version == 6 else _v4(addr.value)
    return bool(ip.is_private) or (addr.version == 4 and (addr.value >> 22) == (0x64400000 >> 22))


INTERNET_V4 = Addr(4, int(ipaddress.IPv4Address("8.8.8.8")))
"""The address that stands for "a host on the internet" (IPv4)."""
INTERNET_V6 = Addr(6, int(ipaddress.IPv6Address("2001:4860:4860::8888")))
"""The address that stands for "a host on the internet" (IPv6)."""
