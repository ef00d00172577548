"""peering-dns-resolution-disabled: whether a peer resolves the other side's public DNS
names to private addresses, graded by whether anything would use it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from vpcaudit.inventory import Inventory, NetworkInterface, Peering, PeeringSide
from vpcaudit.model import Severity, Violation
from vpcaudit.network.addr import parse_ip
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import (
    cli,
    network_of,
    note,
    peering_ref,
    q,
)


@rule(
    id="peering-dns-resolution-disabled",
    title="Peering without remote private DNS resolution",
    severity=Severity.INFO,
    area="peering",
    rationale="""
        AllowDnsResolutionFromRemoteVpc, set per side, makes the public DNS hostnames of that
        side's instances (ec2-...amazonaws.com, and names that point at them, such as a
        publicly accessible RDS endpoint) resolve to their private addresses when queried from
        the peer VPC. It is off by default, and it matters only to clients in the peer that
        reach this side by those public hostnames: with it off they get the public address
        and their traffic leaves through the internet or a NAT gateway instead of the
        peering. Traffic by private address, by Route 53 private hosted zone names or to load
        balancer names is not affected. It works the same across regions and accounts, and
        it needs DNS hostnames and DNS resolution turned on in both VPCs (which this scan
        does not read). So the finding is info unless the collected data shows a sign it is
        needed: the side has instance network interfaces with public IPv4 addresses (so
        public hostnames exist), and the peer's route tables send those instances' private
        addresses through this peering (so the private answer would be reachable): then low.
    """,
    remediation="""
        Before turning it on for a side, check that the peer routes that side's CIDR through
        the peering and that the side's security groups and network ACLs admit the peer's
        CIDR: otherwise names would resolve to addresses the peer cannot reach, and a link
        that works through public addresses would break. Then each side's owner, in that
        side's region, runs aws ec2 modify-vpc-peering-connection-options with
        AllowDnsResolutionFromRemoteVpc=true for its own side.
    """,
    evidence=("peering_id", "sides_disabled", "signs", "cross_region"),
    params=NoParams,
    legitimate=(
        """Peerings used by private address or by Route 53 private hosted zone names do not need
        the option: without a sign it is needed the finding is info.""",
        """A side with no public IPv4 addresses on its instances has no public hostnames for
        the option to act on: info.""",
        """A side the peer does not route to through the peering is info, and its fix says to
        add routes first: turning the option on there would point names at addresses the peer
        cannot reach.""",
        """A cross-region peering is treated like a same-region one: the option works across
        regions, and distance is no sign it is needed.""",
    ),
)
def dns_resolution_disabled(inv: Inventory, params: NoParams) -> RuleOutput:
    """Report active peerings where a side has remote DNS resolution off, graded by need."""
    del params
    flags = {
        "requester": "--requester-peering-connection-options",
        "accepter": "--accepter-peering-connection-options",
    }
    for p in inv.peerings:
        if p.status != "active":
            continue
        off = [
            (name, s)
            for name, s in (("requester", p.requester), ("accepter", p.accepter))
            if s.allow_remote_dns is False
        ]
        if not off:
            continue
        where = next((s for _, s in off if s.owner_id in inv.scanned_accounts), off[0][1])
        sides: list[dict[str, Any]] = []
        signs: list[str] = []
        commands: list[str] = []
        for name, s in off:
            peer = p.other(s)
            public = _public_named(inv, s)
            peer_read = all(
                inv.was_read(peer.owner_id, peer.region, k) for k in ("route_tables", "subnets")
            )
            reached = (
                None if public is None or not peer_read else _routed_from(inv, p, peer, public)
            )
            sides.append(
                {
                    "side": name,
                    "vpc_id": s.vpc_id,
                    "account_id": s.owner_id,
                    "public_interfaces": None if public is None else len(public),
                    "routed_from_peer": None if reached is None else len(reached),
                }
            )
            if reached:
                signs.append(
                    f"{s.vpc_id} has {len(reached)} instance interface(s) with public IPv4 "
                    f"addresses (public hostnames) whose private addresses {peer.vpc_id} routes "
                    f"through {p.peering_id}"
                )
            command = cli(
                "aws ec2 modify-vpc-peering-connection-options --vpc-peering-connection-id "
                f"{q(p.peering_id)} {q(flags[name])} AllowDnsResolutionFromRemoteVpc=true",
                s.region,
                s.owner_id,
            )
            if not peer_read:
                commands.append(
                    note(
                        f"# {peer.vpc_id}'s route tables were not read: confirm it routes "
                        f"{s.vpc_id}'s CIDR through {p.peering_id} before turning this on"
                    )
                )
            elif not _peer_routes_to(inv, p, peer):
                commands.append(
                    note(
                        f"# {peer.vpc_id} has no active route through {p.peering_id}: turning "
                        f"this on would make {s.vpc_id}'s public hostnames resolve to private "
                        f"addresses {peer.vpc_id} cannot reach; add its routes first, or leave "
                        "it off"
                    )
                )
            commands.append(command)
        needed = bool(signs)
        yield Violation(
            resource=peering_ref(p, where),
            message=(
                f"Peering {p.peering_id}: remote DNS resolution is off for "
                + " and ".join(f"the {name} ({s.vpc_id})" for name, s in off)
                + (
                    f"; {'; '.join(signs)}: clients there that use those public hostnames "
                    "get the public addresses and go through the internet, not the peering."
                    if needed
                    else "; the scanned data shows no sign that either VPC is reached by "
                    "public hostnames across it."
                )
            ),
            evidence={
                "peering_id": p.peering_id,
                "sides_disabled": sides,
                "signs": signs,
                "cross_region": p.requester.region != p.accepter.region,
            },
            remediation="\n".join(
                [
                    "# Check first that the peer routes this side's CIDR through the peering "
                    "and this side's security groups and network ACLs admit the peer's CIDR "
                    "(both VPCs need DNS hostnames and DNS resolution on):",
                    *commands,
                ]
            ),
            severity=Severity.LOW if needed else Severity.INFO,
        )


def _public_named(inv: Inventory, side: PeeringSide) -> list[NetworkInterface] | None:
    """The side VPC's instance-like interfaces with a public IPv4 address (those have public
    DNS hostnames), or None when the VPC's interfaces were not read."""
    vpc = inv.vpc(side.vpc_id)
    owner, region = (vpc.owner_id, vpc.region) if vpc else (side.owner_id, side.region)
    if not inv.was_read(owner, region, "network_interfaces"):
        return None
    memo: dict[str, dict[str, list[NetworkInterface]]] = inv.memo("rules.peering.public_enis")
    by_vpc = memo.get("by_vpc")
    if by_vpc is None:
        by_vpc = defaultdict(list)
        seen: set[str] = set()
        for e in inv.network_interfaces:
            # NAT gateways and load balancers have public addresses but no instance hostname
            # the option could resolve (load balancer names are not affected by it).
            if (
                e.public_ips
                and e.interface_type == "interface"
                and not e.description.startswith("ELB ")
                and e.eni_id not in seen
            ):
                seen.add(e.eni_id)
                by_vpc[e.vpc_id].append(e)
        memo["by_vpc"] = by_vpc
    return list(by_vpc.get(side.vpc_id, ()))


def _routed_from(
    inv: Inventory, p: Peering, peer: PeeringSide, enis: list[NetworkInterface]
) -> list[NetworkInterface]:
    """The interfaces whose private address some table of the peer's subnets sends through
    the peering (by longest prefix, as AWS routes)."""
    if not enis:
        return []
    model = network_of(inv)
    lookups = [model.compiled(t).lpm.lookup for t in inv.serving_route_tables(peer.vpc_id)]
    out = []
    for e in enis:
        addr = parse_ip(e.private_ips[0]) if e.private_ips else None
        if addr is None:
            continue
        for lookup in lookups:
            hit = lookup(addr)
            if hit is not None and hit[1].target_id == p.peering_id and hit[1].is_active:
                out.append(e)
                break
    return out


def _peer_routes_to(inv: Inventory, p: Peering, peer: PeeringSide) -> bool:
    """Whether the peer's VPC has any active route through the peering."""
    return any(t.vpc_id == peer.vpc_id and r.is_active for t, r in inv.routes_to(p.peering_id))


DNS_RESOLUTION_DISABLED = dns_resolution_disabled
