"""Copy-paste AWS CLI commands: the region they run in and the account whose credentials
they need."""

from __future__ import annotations


def cli(command: str, region: str, account_id: str) -> str:
    """An AWS CLI command with its region, noting which account's credentials it needs."""
    return f"{command} --region {region}  # as account {account_id}"


def destination_flag(destination: str) -> str:
    """The AWS CLI flag for a route destination (IPv4, IPv6 or prefix list)."""
    if destination.startswith("pl-"):
        return "--destination-prefix-list-id"
    return "--destination-ipv6-cidr-block" if ":" in destination else "--destination-cidr-block"
