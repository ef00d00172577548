"""Which subnets a reachability intent's selectors name, and how subnets group for its questions.

Built once per inventory (memoised) and shared by every intent of a run: selecting by tag,
account or VPC goes through an index, so 50 intents over 20,000 subnets do not each scan
them all.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from fnmatch import fnmatchcase

from vpcaudit.inventory import Inventory, Subnet, parse_network
from vpcaudit.network import NetworkModel
from vpcaudit.network.addr import Addr, contains
from vpcaudit.policy_intents import Selector

_GLOB = frozenset("*?[")


class SubnetIndex:
    """The scanned subnets (one per id) with their accounts, effective tags and routing group."""

    def __init__(self, inv: Inventory, model: NetworkModel) -> None:
        self.model = model
        self.subnets: dict[str, Subnet] = {}
        self.accounts: dict[str, set[str]] = defaultdict(set)
        own_tags: dict[str, dict[str, str]] = defaultdict(dict)
        for s in sorted(inv.subnets, key=lambda s: s.account_id != (s.owner_id or s.account_id)):
            # The owner's copy first: its tags win over those a sharing account sees.
            self.subnets.setdefault(s.subnet_id, s)
            self.accounts[s.subnet_id].update({s.account_id, s.owner_id or s.account_id})
            for k, v in s.tags.items():
                own_tags[s.subnet_id].setdefault(k, v)
        self.tags: dict[str, dict[str, str]] = {}
        self.by_tag: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.by_vpc: dict[str, list[str]] = defaultdict(list)
        self.by_account: dict[str, list[str]] = defaultdict(list)
        for sid in sorted(self.subnets):
            s = self.subnets[sid]
            vpc = inv.vpc(s.vpc_id)
            # A subnet's own tag wins over its VPC's (tag: {env: prod} on the VPC covers every
            # subnet that does not say otherwise).
            tags = {**(vpc.tags if vpc is not None else {}), **own_tags.get(sid, {})}
            self.tags[sid] = tags
            for kv in tags.items():
                self.by_tag[kv].append(sid)
            self.by_vpc[s.vpc_id].append(sid)
            for a in self.accounts[sid]:
                self.by_account[a].append(sid)
        self._selected: dict[Selector, list[str]] = {}
        self._group: dict[str, tuple[str, str, str]] = {}

    # -- selection --------------------------------------------------------------------------

    def select(self, sel: Selector) -> list[str]:
        """The ids (sorted) of the subnets that match every key of a subnet selector."""
        hit = self._selected.get(sel)
        if hit is None:
            hit = self._selected[sel] = sorted(
                sid for sid in self._candidates(sel) if self._matches(sid, sel)
            )
        return hit

    def _candidates(self, sel: Selector) -> Iterable[str]:
        """A superset of the matches, from the narrowest index the selector allows."""
        pools: list[set[str]] = []
        if sel.subnets:
            pools.append({s for s in sel.subnets if s in self.subnets})
        if sel.vpcs:
            pools.append({s for v in sel.vpcs for s in self.by_vpc.get(v, ())})
        if sel.accounts:
            pools.append({s for a in sel.accounts for s in self.by_account.get(a, ())})
        for k, v in sel.tags:
            if not _GLOB & set(v):
                pools.append(set(self.by_tag.get((k, v), ())))
        if not pools:
            return self.subnets
        return min(pools, key=len)

    def _matches(self, sid: str, sel: Selector) -> bool:
        s = self.subnets[sid]
        tags = self.tags[sid]
        return (
            (not sel.subnets or sid in sel.subnets)
            and (not sel.vpcs or s.vpc_id in sel.vpcs)
            and (not sel.accounts or bool(self.accounts[sid] & set(sel.accounts)))
            and (not sel.regions or any(fnmatchcase(s.region, r) for r in sel.regions))
            and all(k in tags and fnmatchcase(tags[k], v) for k, v in sel.tags)
            and (not sel.cidrs or _within(s, sel.cidrs))
        )

    def addresses(self, sel: Selector, chosen: list[str]) -> list[str]:
        """For a `cidr`-only destination, an address in each block holding no scanned subnet."""
        # An on-premises or internet range: the model places the address.
        only_cidr = sel.cidrs and not (
            sel.accounts or sel.regions or sel.vpcs or sel.subnets or sel.tags
        )
        if not only_cidr:
            return []
        out = []
        for c in sel.cidrs:
            net = ipaddress.ip_network(c)
            if any(_within(self.subnets[sid], (c,)) for sid in chosen):
                continue
            out.append(str(net.network_address + (1 if net.num_addresses > 2 else 0)))
        return out

    # -- grouping ---------------------------------------------------------------------------

    def group(self, sid: str) -> tuple[str, str, str]:
        """(VPC, route table, network ACL): subnets forwarded alike (see rules/intents.py)."""
        key = self._group.get(sid)
        if key is None:
            s = self.subnets[sid]
            table = self.model.table_of_subnet(s)
            acl = self.model.nacl_of(s)
            key = self._group[sid] = (
                s.vpc_id,
                table.route_table_id if table is not None else "",
                acl.nacl_id if acl is not None else "",
            )
        return key


def _within(s: Subnet, blocks: tuple[str, ...]) -> bool:
    """Whether one of the subnet's CIDRs (IPv4 or IPv6) lies within one of the blocks."""
    for text in (s.cidr, *s.ipv6_cidrs):
        mine = parse_network(text)
        if mine is None:
            continue
        first = Addr(mine.version, int(mine.network_address))
        for b in blocks:
            net = parse_network(b)
            if net is not None and net.prefixlen <= mine.prefixlen and contains(net, first):
                return True
    return False
