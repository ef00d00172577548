"""`path` questions: validate, resolve both ends, trace, and pick the answer."""

from __future__ import annotations

from vpcaudit.errors import ConfigError
from vpcaudit.network.addr import parse_ip
from vpcaudit.network.answer import PathAnswer, Verdict
from vpcaudit.network.filters import Flow
from vpcaudit.network.model import REQUIRED_KINDS, NetworkModel
from vpcaudit.network.place import Place, resolve
from vpcaudit.network.trace import Trace, answer_of

PROTOCOLS = ("tcp", "udp", "icmp", "all")


def check_query(protocol: str, port: int | None) -> None:
    """Refuse a protocol or port combination before anything is resolved."""
    if protocol not in PROTOCOLS:
        raise ConfigError(f"--protocol must be one of {', '.join(PROTOCOLS)}, not {protocol!r}")
    if port is not None and protocol not in ("tcp", "udp"):
        raise ConfigError("--port needs --protocol tcp or udp")
    if port is not None and not 0 <= port <= 65535:
        raise ConfigError(f"--port {port} is not a port number (0-65535)")


def check_snapshot_kinds(model: NetworkModel) -> None:
    """A snapshot taken before the network collectors existed cannot answer `path`."""
    present = {kind for kinds in model.inv._kinds.values() for kind in kinds}
    missing = [k for k in REQUIRED_KINDS if k not in present]
    if missing and model.inv.scanned_regions:
        raise ConfigError(
            f"the snapshot lacks {', '.join(missing)} (taken by an older vpcaudit?): "
            f"rescan to answer path questions"
        )


def ask(
    model: NetworkModel,
    source: str,
    destination: str,
    *,
    protocol: str = "all",
    port: int | None = None,
    family: int | None = None,
) -> PathAnswer:
    """Can source reach destination with this protocol and port, and if not, why not."""
    protocol = protocol.lower()
    check_query(protocol, port)
    version = family or _family(source, destination)
    sources = _resolved(model, source, version, source=True)
    dests = _resolved(model, destination, version, source=False)
    if not sources or not dests:
        return PathAnswer(
            source,
            destination,
            protocol,
            port,
            Verdict.UNKNOWN,
            code="NO_ON_PREMISES_RANGE",
            direction="forward",
            explanation="no on-premises address range is known in the snapshot (VPN static "
            "routes, VGW routes, TGW routes to VPN or Direct Connect): name an on-premises IP",
        )
    answers = [
        _one(model, (source, destination, protocol, port), s, d) for s in sources for d in dests
    ]
    return next((a for a in answers if a.verdict is Verdict.REACHABLE), answers[0])


def _resolved(model: NetworkModel, text: str, version: int, *, source: bool) -> list[Place]:
    """resolve(), memoised per model: rules and intents ask about the same ends many times."""
    cache: dict[tuple[str, int, bool], list[Place]] = model.inv.memo("network_places")
    key = (text, version, source)
    if key not in cache:
        cache[key] = resolve(model, text, version=version, source=source)
    return cache[key]


def _one(
    model: NetworkModel, query: tuple[str, str, str, int | None], src: Place, dst: Place
) -> PathAnswer:
    flow = Flow.of(query[2], query[3], dst.lookup.version)
    trace = Trace(model, src, dst, flow)
    direction, stop, notes = trace.run()
    return answer_of(
        query, src=src, dst=trace.dst, trace=trace, direction=direction, stop=stop, notes=notes
    )


def _family(source: str, destination: str) -> int:
    for text in (source, destination):
        a = parse_ip(text)
        if a is not None:
            return a.version
    return 4
