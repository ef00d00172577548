"""Sources and destinations: what `path` is asked about, resolved against the model."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

from vpcaudit.errors import ConfigError
from vpcaudit.inventory import NetworkInterface, Subnet, Vpc, parse_network
from vpcaudit.network.addr import INTERNET_V4, INTERNET_V6, Addr, host, is_private, parse_ip
from vpcaudit.network.model import NetworkModel

_SERVICE = re.compile(r"^(?P<service>s3|dynamodb)(?:@(?P<region>[a-z]{2}(?:-[a-z]+)+-\d))?$")
MAX_ON_PREM_RANGES = 8


@dataclass(frozen=True)
class Place:
    """A resolved end of a path."""

    kind: str
    """eni, host (a subnet address with no interface), ip (a VPC address resolved when the
    packet arrives), internet, on-premises, or service."""
    label: str
    addr: Addr
    """The address the end uses (a private one for an interface)."""
    lookup: Addr
    """The address routed toward (a public IP when one was asked; the service's stand-in)."""
    vpc: Vpc | None = None
    subnet: Subnet | None = None
    eni: NetworkInterface | None = None
    service: str = ""
    public: bool = False
    """Whether the interface has a public or Elastic IPv4."""


def eni_place(m: NetworkModel, eni: NetworkInterface, label: str, version: int) -> Place:
    """The place of an interface: its address of that IP version, VPC, subnet, groups."""
    texts = eni.ipv6_ips if version == 6 and eni.ipv6_ips else eni.private_ips
    addr = parse_ip(texts[0]) if texts else None
    if addr is None:
        raise ConfigError(f"{label}: {eni.eni_id} has no {'IPv6' if version == 6 else ''} address")
    return Place(
        "eni",
        label,
        addr,
        addr,
        m.vpc(eni.vpc_id),
        m.subnets.get(eni.subnet_id),
        eni,
        public=bool(eni.public_ips) or eni.eni_id in m.eip_enis,
    )


def _subnet_place(m: NetworkModel, s: Subnet, label: str, version: int) -> Place:
    text = s.ipv6_cidrs[0] if version == 6 and s.ipv6_cidrs else s.cidr
    net = parse_network(text)
    if net is None:
        raise ConfigError(f"{label}: subnet {s.subnet_id} has no usable CIDR")
    # AWS reserves the first four addresses of every subnet.
    addr = host(net, 4)
    return Place("host", label, addr, addr, m.vpc(s.vpc_id), s)


def resolve(m: NetworkModel, text: str, *, version: int, source: bool) -> list[Place]:
    """Resolve SOURCE or DESTINATION text to places (several only for on-premises)."""
    t = text.strip()
    role = "source" if source else "destination"
    low = t.lower()
    if low == "internet":
        a = INTERNET_V6 if version == 6 else INTERNET_V4
        return [Place("internet", "internet", a, a)]
    if low in ("on-premises", "onprem", "on-prem"):
        return on_premises(m, version)
    svc = _SERVICE.match(low)
    if svc is not None:
        if source:
            raise ConfigError(f"{role} {t!r}: an AWS service can only be a destination")
        a = INTERNET_V6 if version == 6 else INTERNET_V4
        return [Place("service", t, a, a, service=svc["service"] + "@" + (svc["region"] or ""))]
    for prefix, by_id in _BY_ID.items():
        if t.startswith(prefix):
            return [by_id(m, t, role, version)]
    addr = parse_ip(t)
    if addr is None:
        if re.match(r"^\d+(\.\d+){1,3}$|^[0-9a-f:]+$", low):
            raise ConfigError(f"{role} {t!r} is not a valid IP address")
        raise ConfigError(
            f"{role} {t!r}: expected an eni-/i-/subnet-/vpce- id, an IP address, internet, "
            f"on-premises, s3 or dynamodb (optionally @region)"
        )
    return [_ip_place(m, addr, t, source)]


def _by_eni(m: NetworkModel, t: str, role: str, version: int) -> Place:
    eni = m.enis.get(t)
    if eni is None:
        raise ConfigError(_unknown(role, t, m.enis))
    return eni_place(m, eni, t, version)


def _by_instance(m: NetworkModel, t: str, role: str, version: int) -> Place:
    enis = sorted(m.enis_by_instance.get(t, []), key=lambda e: e.eni_id)
    if not enis:
        raise ConfigError(_unknown(role, t, m.enis_by_instance))
    return eni_place(m, enis[0], t, version)


def _by_subnet(m: NetworkModel, t: str, role: str, version: int) -> Place:
    s = m.subnets.get(t)
    if s is None:
        raise ConfigError(_unknown(role, t, m.subnets))
    return _subnet_place(m, s, t, version)


def _by_endpoint(m: NetworkModel, t: str, role: str, version: int) -> Place:
    ep = m.endpoints.get(t)
    if ep is None:
        raise ConfigError(_unknown(role, t, m.endpoints))
    enis = [m.enis[e] for e in ep.network_interface_ids if e in m.enis]
    if not enis:
        raise ConfigError(f"{role} {t}: the endpoint has no network interface in the snapshot")
    return eni_place(m, enis[0], t, version)


_BY_ID = {"eni-": _by_eni, "i-": _by_instance, "subnet-": _by_subnet, "vpce-": _by_endpoint}


def _ip_place(m: NetworkModel, addr: Addr, label: str, source: bool) -> Place:
    enis = m.enis_by_ip.get(addr, [])
    if len(enis) == 1:
        return _eni_place_at(m, enis[0], label, addr)
    public_eni = m.eni_by_public_ip.get(addr)
    if public_eni is not None and not source:
        return replace(_eni_place_at(m, public_eni, label, _first(public_eni)), lookup=addr)
    vpcs = m.vpcs_holding(addr)
    if len(enis) > 1 or len(vpcs) > 1:
        if source:
            where = ", ".join(sorted({e.vpc_id for e in enis} | {v.vpc_id for v in vpcs}))
            raise ConfigError(
                f"source {label} is in several scanned VPCs ({where}): name the interface or "
                f"subnet instead"
            )
        return Place("ip", label, addr, addr)
    if len(vpcs) == 1:
        s = m.subnet_holding(vpcs[0].vpc_id, addr)
        if s is not None:
            return Place("host", label, addr, addr, vpcs[0], s)
        if source:
            raise ConfigError(f"source {label} is in {vpcs[0].vpc_id} but in none of its subnets")
        return Place("ip", label, addr, addr)
    kind = "on-premises" if is_private(addr) else "internet"
    return Place(kind, label, addr, addr)


def _first(eni: NetworkInterface) -> Addr:
    a = parse_ip(eni.private_ips[0]) if eni.private_ips else None
    if a is None:
        raise ConfigError(f"{eni.eni_id} has no private address")
    return a


def _eni_place_at(m: NetworkModel, eni: NetworkInterface, label: str, addr: Addr) -> Place:
    p = eni_place(m, eni, label, addr.version)
    return replace(p, addr=addr, lookup=addr)


def on_premises(m: NetworkModel, version: int) -> list[Place]:
    """One place per known on-premises range (VPN static routes, VGW routes, TGW routes to
    VPN and Direct Connect attachments), or an empty list when none is known."""
    cache: dict[int, list[Place]] = m.inv.memo("network_on_premises")
    if version not in cache:
        cache[version] = _on_premises(m, version)
    return cache[version]


def _on_premises(m: NetworkModel, version: int) -> list[Place]:
    nets: list[str] = []
    for v in m.inv.vpn_connections:
        nets.extend(v.static_routes)
    for t in m.inv.route_tables:
        nets.extend(r.destination for r in t.routes if r.target_id.startswith("vgw-"))
    on_prem_atts = {
        a.attachment_id
        for a in m.inv.tgw_attachments
        if a.resource_type in ("vpn", "direct-connect-gateway", "connect")
    }
    for tt in m.inv.tgw_route_tables:
        nets.extend(r.destination for r in tt.routes if set(r.attachment_ids) & on_prem_atts)
    out: list[Place] = []
    for text in dict.fromkeys(nets):
        net = parse_network(text)
        if net is None or net.version != version or net.prefixlen == 0:
            continue
        a = host(net, 1 if net.num_addresses > 2 else 0)
        out.append(Place("on-premises", f"on-premises {net}", a, a))
        if len(out) >= MAX_ON_PREM_RANGES:
            break
    return out


def _unknown(role: str, text: str, known: object) -> str:
    names = list(known) if isinstance(known, dict) else []
    close = difflib.get_close_matches(text, names, n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{role} {text} is not in the snapshot{hint}"
