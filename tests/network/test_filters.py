"""The model's building blocks: longest-prefix match and the two filters, from AWS's rules."""

from __future__ import annotations

import ipaddress

import pytest

from vpcaudit.inventory import NaclEntry, Network, PrefixList, SgRule
from vpcaudit.network.addr import Addr, parse_ip
from vpcaudit.network.filters import FINAL_RULE, Flow, Peer, nacl_decides, sg_allows
from vpcaudit.network.lpm import Lpm


def _ip(text: str) -> Addr:
    a = parse_ip(text)
    assert a is not None
    return a


def _net(text: str) -> Network:
    return ipaddress.ip_network(text)


def test_longest_prefix_wins_and_families_stay_apart() -> None:
    lpm = Lpm(
        [
            (_net("0.0.0.0/0"), "igw"),
            (_net("10.0.0.0/8"), "tgw"),
            (_net("10.1.0.0/16"), "pcx"),
            (_net("10.1.2.0/24"), "eni"),
            (_net("::/0"), "eigw"),
        ]
    )
    assert lpm.lookup(_ip("10.1.2.3")) == (_net("10.1.2.0/24"), "eni")
    assert lpm.lookup(_ip("10.1.3.3"))[1] == "pcx"
    assert lpm.lookup(_ip("10.200.0.1"))[1] == "tgw"
    assert lpm.lookup(_ip("8.8.8.8"))[1] == "igw"
    assert lpm.lookup(_ip("2600::1"))[1] == "eigw"
    assert Lpm([(_net("10.0.0.0/8"), "x")]).lookup(_ip("2600::1")) is None


def test_the_first_entry_for_a_prefix_wins() -> None:
    # Static routes are added before propagated ones for the same prefix (AWS priority).
    lpm = Lpm([(_net("10.0.0.0/16"), "static"), (_net("10.0.0.0/16"), "propagated")])
    assert lpm.lookup(_ip("10.0.0.1"))[1] == "static"


def _entry(
    n: int,
    allow: bool,
    *,
    egress: bool = False,
    proto: str = "-1",
    cidr: str = "0.0.0.0/0",
    ports: tuple[int, int] = (-1, -1),
) -> NaclEntry:
    return NaclEntry(n, egress, proto, allow, _net(cidr), ports[0], ports[1], -1, -1)


def test_nacl_rules_are_evaluated_lowest_number_first() -> None:
    entries = sorted(
        [_entry(90, False, proto="6", ports=(22, 22)), _entry(100, True)],
        key=lambda e: e.rule_number,
    )
    ssh, https = Flow.of("tcp", 22, 4), Flow.of("tcp", 443, 4)
    assert nacl_decides(entries, egress=False, flow=ssh, peer=_ip("10.0.0.1")).rule_number == 90
    assert not nacl_decides(entries, egress=False, flow=ssh, peer=_ip("10.0.0.1")).allowed
    assert nacl_decides(entries, egress=False, flow=https, peer=_ip("10.0.0.1")).allowed


def test_a_reply_needs_the_whole_ephemeral_range() -> None:
    # Allowing only 32768-65535 leaves 1024-32767 to the final "*" deny.
    reply = Flow.of("tcp", 443, 4).reply()
    partial = [_entry(100, True, egress=True, proto="6", ports=(32768, 65535))]
    full = [_entry(100, True, egress=True, proto="6", ports=(1024, 65535))]
    v = nacl_decides(partial, egress=True, flow=reply, peer=_ip("10.0.0.1"))
    assert (v.allowed, v.rule_number) == (False, FINAL_RULE)
    assert nacl_decides(full, egress=True, flow=reply, peer=_ip("10.0.0.1")).allowed
    # Two rules covering the range between them allow it too.
    split = [
        _entry(100, True, egress=True, proto="6", ports=(1024, 32767)),
        _entry(110, True, egress=True, proto="6", ports=(32768, 65535)),
    ]
    assert nacl_decides(split, egress=True, flow=reply, peer=_ip("10.0.0.1")).allowed


def test_nacl_matches_cidr_and_direction() -> None:
    entries = [_entry(100, True, cidr="10.0.0.0/16"), _entry(100, True, egress=True)]
    flow = Flow.of("all", None, 4)
    assert nacl_decides(entries, egress=False, flow=flow, peer=_ip("10.0.5.5")).allowed
    assert not nacl_decides(entries, egress=False, flow=flow, peer=_ip("10.1.5.5")).allowed
    assert not nacl_decides(entries, egress=False, flow=flow, peer=_ip("2600::1")).allowed


def test_all_traffic_is_denied_by_any_protocol_deny_and_allowed_only_by_all() -> None:
    flow = Flow.of("all", None, 4)
    peer = _ip("10.0.0.1")
    tcp_only = [_entry(100, True, proto="6", ports=(0, 65535))]
    assert not nacl_decides(tcp_only, egress=False, flow=flow, peer=peer).allowed
    deny_one = [_entry(50, False, proto="17", ports=(53, 53)), _entry(100, True)]
    assert nacl_decides(deny_one, egress=False, flow=flow, peer=peer).rule_number == 50


def _sg(proto: str, lo: int, hi: int, *, cidr: str = "", group: str = "", pl: str = "") -> SgRule:
    return SgRule(False, proto, lo, hi, _net(cidr) if cidr else None, pl, group, "", "", "")


def _no_pl(_: str) -> PrefixList | None:
    return None


@pytest.mark.parametrize(
    ("rules", "flow", "allowed"),
    [
        ([_sg("tcp", 443, 443, cidr="10.0.0.0/8")], Flow.of("tcp", 443, 4), True),
        ([_sg("tcp", 443, 443, cidr="10.0.0.0/8")], Flow.of("tcp", 80, 4), False),
        ([_sg("tcp", 443, 443, cidr="192.168.0.0/16")], Flow.of("tcp", 443, 4), False),
        ([_sg("-1", -1, -1, cidr="0.0.0.0/0")], Flow.of("udp", 53, 4), True),
        ([_sg("tcp", 0, 65535, cidr="0.0.0.0/0")], Flow.of("all", None, 4), False),
        (
            [_sg("tcp", 0, 1023, cidr="0.0.0.0/0"), _sg("6", 1024, 65535, cidr="0.0.0.0/0")],
            Flow.of("tcp", None, 4),
            True,
        ),
        ([_sg("icmp", 8, -1, cidr="0.0.0.0/0")], Flow.of("icmp", None, 4), True),
        ([_sg("icmp", 0, -1, cidr="0.0.0.0/0")], Flow.of("icmp", None, 4), False),
        ([_sg("icmpv6", -1, -1, cidr="::/0")], Flow.of("icmp", None, 6), False),
    ],
)
def test_security_group_rules(rules: list[SgRule], flow: Flow, allowed: bool) -> None:
    peer = Peer(_ip("10.1.1.1"))
    assert sg_allows(rules, flow, peer, _no_pl)[0] is allowed


def test_group_references_and_prefix_lists() -> None:
    flow = Flow.of("tcp", 443, 4)
    by_group = [_sg("tcp", 443, 443, group="sg-app")]
    assert sg_allows(by_group, flow, Peer(_ip("10.0.0.1"), groups=frozenset({"sg-app"})), _no_pl)[0]
    assert not sg_allows(by_group, flow, Peer(_ip("10.0.0.1")), _no_pl)[0]
    corp = PrefixList("a", "us-east-1", "pl-corp", "corp", "111111111111", (_net("10.0.0.0/8"),))
    s3 = PrefixList("a", "us-east-1", "pl-s3", "com.amazonaws.us-east-1.s3", "AWS", None)
    lists = {"pl-corp": corp, "pl-s3": s3}
    by_pl = [_sg("tcp", 443, 443, pl="pl-corp"), _sg("tcp", 443, 443, pl="pl-s3")]
    assert sg_allows(by_pl, flow, Peer(_ip("10.9.9.9")), lists.get)[0]
    assert not sg_allows(by_pl, flow, Peer(_ip("8.8.8.8")), lists.get)[0]
    s3_peer = Peer(_ip("8.8.8.8"), service="com.amazonaws.us-east-1.s3")
    assert sg_allows(by_pl, flow, s3_peer, lists.get)[0]
