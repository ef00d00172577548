"""reachability-intent: the policy's reachability intents, checked over the network model.

Each intent names sources (subnets, or the internet / on-premises) and destinations (subnets,
the internet, on-premises, S3, DynamoDB, or an address range); every source is asked against
every destination with `NetworkModel.path`. A violation is a finding on the source subnet
(on the destination subnet when the source is the internet or on-premises) with the path or
the blocking component as evidence; an `unknown` answer is an unverifiable check, never a
violation and never a pass. See docs/intents.md.

How "every source against every destination" stays affordable: subnets of one VPC that share
a route table and a network ACL are forwarded alike. The model decides a packet's way by its
destination address only (longest prefix match in each table on the way), the source
subnet's ACL is checked against the destination address, and a subnet has no security group,
so until the packet reaches something that looks at the *source* address (the destination's
or a NAT gateway subnet's inbound ACL, the reply's routes back), every subnet of the group
takes the same steps. So one subnet of the group (the first in id order) is asked, and its
answer stands for the others when it stopped on the way there (a forward block other than an
inbound ACL or security group: NO_ROUTE, a blackhole, a peering or TGW that does not carry it,
no internet gateway, ...). A member could only be stopped earlier (by an inbound ACL the
representative passed), which is still not reachable; so the verdict is exact, and the
blocking component named is the representative's (relabelled). An unknown answer is shared
only when no NAT gateway was crossed (a member could be blocked by the NAT subnet's ACL
before the unknown part). The Availability Zone matters only at a Transit Gateway attachment
(its subnets' zones) and for an interface endpoint of S3 or DynamoDB (the one in the
sender's zone), so such answers are shared within the zone only. A reachable answer, or one
decided on the way back, depends on the source address: every member is asked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from vpcaudit.errors import ConfigError
from vpcaudit.inventory import Inventory, Subnet, ec2_arn
from vpcaudit.model import ResourceRef, Severity, Unverifiable, Violation
from vpcaudit.network import NetworkModel, PathAnswer, Verdict
from vpcaudit.policy_intents import SECTION_FIELD, SERVICES, Intent, Selector
from vpcaudit.rules.base import RuleOutput, rule
from vpcaudit.rules.common import cli, network_of, q, sorted_tags
from vpcaudit.rules.intent_paths import HopKinds, cut_points, restated_for, route_text
from vpcaudit.rules.intent_select import SubnetIndex

RULE_ID = "reachability-intent"
# Forward blocks decided by the sender's address: the answer is the representative's only.
_SOURCE_ADDRESS_CODES = frozenset({"NACL_INGRESS_DENIED", "SG_INGRESS_DENIED"})
_SHOWN_UNKNOWN = 3


@dataclass(frozen=True)
class IntentParams:
    """Parameters of reachability-intent."""

    max_pairs: int = 10_000
    """The most (source, destination) pairs checked per intent; an intent with more is checked
    for the first sources (in id order) and reported as cut, as an unverifiable check."""
    intents: tuple[Intent, ...] = field(default=(), metadata={SECTION_FIELD: "intents"})
    """The policy's top-level `intents:` section (filled by the policy, not under params)."""


@rule(
    id=RULE_ID,
    title="A reachability intent of the policy does not hold",
    severity=Severity.HIGH,
    area="reachability",
    rationale="""
        The policy's top-level `intents:` section states what must and must not be reachable:
        prod isolated from dev, private subnets reaching S3 only through a gateway endpoint,
        on-premises reaching the shared-services VPC. Each intent is checked over the network
        model, every source subnet against every destination, so a route, peering, Transit
        Gateway association or network ACL change that breaks the design is a finding the day
        it appears, with the path (or the component that blocks it) as evidence. A path an
        `expect: unreachable` intent forbids is high; a path an `expect: reachable` intent
        needs, blocked or not through its `via`, is medium; an intent's own `severity:`
        replaces that grading. Intents are written in the policy (docs/intents.md), not under
        this rule's params.
    """,
    remediation="""
        Cut the path an isolation intent forbids (the route, peering, Transit Gateway route
        or association that carries it, or a network ACL deny), after checking nothing
        legitimate depends on it; open the path a reachability intent needs (the finding
        names the blocking component and, where certain, the command). If the design changed,
        change the intent, or waive the finding (rule reachability-intent, `intent: NAME`,
        resource: the subnet).
    """,
    evidence=(
        "intent",
        "description",
        "defined_at",
        "expect",
        "source",
        "destination",
        "protocol",
        "port",
        "via",
        "missing_via",
        "verdict",
        "code",
        "explanation",
        "blocking",
        "path",
    ),
    params=IntentParams,
    legitimate=(
        """An answer the model cannot give (an account or region not scanned, a resource not
        read, Cloud WAN, an on-premises range it does not know) is an unverifiable check,
        never a violation and never a pass.""",
        """A path blocked only on the way back is unreachable, as `vpcaudit path` says: no
        connection can be set up over it.""",
        """A subnet stands for a host with no security group: routes and network ACLs decide;
        security groups of real instances may block more.""",
        """Intents are checked over IPv4.""",
    ),
)
def reachability_intent(inv: Inventory, params: IntentParams) -> RuleOutput:
    if not params.intents:
        return
    model = network_of(inv)
    memo: dict[str, Any] = inv.memo("rules.intents")
    if "index" not in memo:
        memo["index"] = SubnetIndex(inv, model)
        memo["hops"] = HopKinds(model)
    for intent in params.intents:
        yield from _Check(model, memo["index"], memo["hops"], intent, params.max_pairs).run()


REACHABILITY_INTENT = reachability_intent


class _Check:
    """One intent over the model: pairs, answers, findings and unverifiable checks."""

    def __init__(
        self,
        model: NetworkModel,
        index: SubnetIndex,
        hops: HopKinds,
        intent: Intent,
        max_pairs: int,
    ) -> None:
        self.model = model
        self.index = index
        self.hops = hops
        self.intent = intent
        self.max_pairs = max(1, max_pairs)
        self.unknown: dict[str, list[tuple[str, str, PathAnswer]]] = defaultdict(list)
        self.found: list[Violation] = []

    def run(self) -> Iterator[Violation | Unverifiable]:
        """Check every pair (within max_pairs); yield violations, then what is unknown."""
        i = self.intent
        sources = self._ends(i.source, source=True)
        dests = self._ends(i.destination, source=False, subnets_only=bool(i.source.keyword))
        if not sources or not dests:
            side, sel = ("from", i.source) if not sources else ("to", i.destination)
            yield Unverifiable(
                _intent_ref(i),
                f"intent {i.name!r}: `{side}` ({sel.describe()}) selects no scanned subnet, so "
                f"the intent checks nothing",
            )
            return
        sources, dests, cut = self._bound(sources, dests)
        if cut:
            yield Unverifiable(_intent_ref(i), cut)
        if i.source.keyword:
            for d in dests:
                self._judge(i.source.keyword, d, self._ask(i.source.keyword, d))
        else:
            self._grouped(sources, dests)
        yield from self.found
        yield from self._unknowns()

    # -- pairs --------------------------------------------------------------------------------

    def _ends(self, sel: Selector, *, source: bool, subnets_only: bool = False) -> list[str]:
        if sel.keyword:
            return [sel.keyword]
        ids = self.index.select(sel)
        if source or subnets_only:
            return ids
        return ids + self.index.addresses(sel, ids)

    def _bound(self, sources: list[str], dests: list[str]) -> tuple[list[str], list[str], str]:
        both = len(set(sources) & set(dests))
        total = len(sources) * len(dests) - both  # a subnet is not asked about itself
        if total <= self.max_pairs:
            return sources, dests, ""
        keep_dests = dests[: self.max_pairs]
        keep = sources[: max(1, self.max_pairs // len(keep_dests))]
        checked = len(keep) * len(keep_dests) - len(set(keep) & set(keep_dests))
        return (
            keep,
            keep_dests,
            f"intent {self.intent.name!r}: {total:,} (source, destination) pairs, more than "
            f"max_pairs ({self.max_pairs:,}): only {checked:,} checked ({len(keep)} of "
            f"{len(sources)} sources in id order); raise max_pairs or narrow the selectors",
        )

    def _grouped(self, sources: list[str], dests: list[str]) -> None:
        """Ask once per group of alike subnets where the answer allows (module docstring)."""
        groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for sid in sources:
            groups[self.index.group(sid)].append(sid)
        for key in sorted(groups):
            members = groups[key]
            for d in dests:
                pending = [m for m in members if m != d]
                while pending:
                    rep = pending[0]
                    answer = self._ask(rep, d)
                    shared = self._shared(answer, rep, pending, d)
                    for m in shared:
                        self._judge(m, d, answer, rep)
                    done = set(shared)
                    pending = [m for m in pending if m not in done]

    def _shared(self, answer: PathAnswer, rep: str, pending: list[str], dest: str) -> list[str]:
        """The pending subnets the representative's answer holds for."""
        if (
            answer.verdict is Verdict.REACHABLE
            or answer.direction != "forward"
            or answer.code in _SOURCE_ADDRESS_CODES
        ):
            return [rep]
        kinds = {h.component.kind for h in answer.forward}
        if answer.blocking is not None:
            kinds.add(answer.blocking.kind)
        if answer.verdict is Verdict.UNKNOWN and "nat-gateway" in kinds:
            return [rep]
        zonal = dest.partition("@")[0] in SERVICES or any(
            k.startswith("transit-gateway") for k in kinds
        )
        if zonal:
            zone = self.index.subnets[rep].availability_zone
            return [m for m in pending if self.index.subnets[m].availability_zone == zone]
        return pending

    def _ask(self, source: str, dest: str) -> PathAnswer:
        i = self.intent
        # Intents are IPv4; saying so spares the model guessing the family from the texts.
        family = 6 if ":" in dest else 4
        try:
            return self.model.path(source, dest, protocol=i.protocol, port=i.port, family=family)
        except ConfigError as exc:  # e.g. an IPv6-only subnet: no IPv4 address to ask from
            return PathAnswer(
                source,
                dest,
                i.protocol,
                i.port,
                Verdict.UNKNOWN,
                code="UNRESOLVED",
                direction="forward",
                explanation=str(exc),
            )

    # -- judging ------------------------------------------------------------------------------

    def _judge(self, source: str, dest: str, answer: PathAnswer, rep: str = "") -> None:
        """Record a violation or an unknown for the pair (the answer may be the group's)."""
        i = self.intent
        reached = answer.verdict is Verdict.REACHABLE
        missing = [v for v in i.via if not self.hops.passes(answer, v)] if reached else []
        if answer.verdict is not Verdict.UNKNOWN:
            if i.expect == "unreachable" and (not reached or missing):
                return  # blocked, or reachable only another way than the `via` it forbids
            if i.expect == "reachable" and reached and not missing:
                return
        if rep and rep != source:
            answer = restated_for(answer, rep, source)
        if answer.verdict is Verdict.UNKNOWN:
            self.unknown[self._where(source, dest)].append((source, dest, answer))
            return
        self.found.append(self._violation(source, dest, answer, missing))

    def _where(self, source: str, dest: str) -> str:
        """The subnet a finding about the pair is located on."""
        return dest if self.intent.source.keyword else source

    def _violation(
        self, source: str, dest: str, answer: PathAnswer, missing: list[str]
    ) -> Violation:
        i = self.intent
        flow = _flow(i)
        if i.expect == "unreachable":
            message = (
                f"Intent {i.name!r}: {source} reaches {dest} ({flow}), which the intent "
                f"forbids; the path: {route_text(answer)}."
            )
            remediation = (
                f"Cut the path where it should not exist ({cut_points(answer)}): remove the "
                f"route or association that carries it, or deny the traffic in a network ACL, "
                f"after checking nothing legitimate depends on it. If the path is intended, "
                f"change the intent or waive the finding."
            )
            severity = i.severity
        elif missing:
            message = (
                f"Intent {i.name!r}: {source} reaches {dest} ({flow}), but not through a "
                f"{' and a '.join(missing)}; the path: {route_text(answer)}."
            )
            remediation = self._via_fix(source, dest, missing)
            severity = i.severity or Severity.MEDIUM
        else:
            b = answer.blocking
            at = f" at {b.kind} {b.id}" if b is not None else ""
            message = (
                f"Intent {i.name!r}: {source} cannot reach {dest} ({flow}): "
                f"{answer.explanation} ({answer.code}{at})."
            )
            remediation = answer.fix or f"Open the path{at}: {answer.explanation}."
            routing = not answer.code.startswith(("NACL_", "SG_"))
            if routing and "gateway-endpoint" in i.via and dest.partition("@")[0] in SERVICES:
                remediation = self._via_fix(source, dest, ["gateway-endpoint"])
            severity = i.severity or Severity.MEDIUM
        where = self._where(source, dest)
        other = f"from {source}" if where == dest else dest
        return Violation(
            resource=_subnet_ref(self.index.subnets[where]),
            message=message,
            evidence=self._evidence(source, dest, answer, missing),
            remediation=remediation,
            severity=severity,
            discriminator=f"{i.name}\x1f{other}",
        )

    def _evidence(
        self, source: str, dest: str, answer: PathAnswer, missing: list[str]
    ) -> dict[str, Any]:
        i = self.intent
        return {
            "intent": i.name,
            "description": i.description,
            "defined_at": i.where,
            "expect": i.expect,
            "source": source,
            "destination": dest,
            "protocol": i.protocol,
            "port": i.port,
            "via": list(i.via),
            "missing_via": missing,
            "verdict": answer.verdict.value,
            "code": answer.code,
            "explanation": answer.explanation,
            "blocking": None if answer.blocking is None else answer.blocking.to_dict(),
            "path": [h.to_dict() for h in answer.forward],
        }

    def _via_fix(self, source: str, dest: str, missing: list[str]) -> str:
        """The command that gives the source's route table a gateway endpoint, else advice."""
        # Only for S3/DynamoDB in the source's own region (a gateway endpoint serves no
        # other): create one, or add the table to the one the VPC already has.
        service, _, region = dest.partition("@")
        s = self.index.subnets.get(source)
        table = self.model.table_of_subnet(s) if s is not None else None
        if (
            "gateway-endpoint" not in missing
            or service not in SERVICES
            or s is None
            or table is None
            or region not in ("", s.region)
        ):
            return (
                f"Route the traffic through a {' and a '.join(missing)} as the intent says, or "
                f"change the intent if the design changed."
            )
        name = f"com.amazonaws.{s.region}.{service}"
        account = s.owner_id or s.account_id
        existing = sorted(
            ep.endpoint_id
            for ep in self.model.inv.endpoints_of(s.vpc_id)
            if ep.service_name == name and ep.endpoint_type.lower() == "gateway"
            if ep.state == "available"
        )
        if existing:
            return cli(
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {q(existing[0])} "
                f"--add-route-table-ids {q(table.route_table_id)}",
                s.region,
                account,
            )
        return cli(
            f"aws ec2 create-vpc-endpoint --vpc-id {q(s.vpc_id)} --vpc-endpoint-type Gateway "
            f"--service-name {q(name)} --route-table-ids {q(table.route_table_id)}",
            s.region,
            account,
        )

    def _unknowns(self) -> Iterator[Unverifiable]:
        i = self.intent
        for where in sorted(self.unknown):
            items = self.unknown[where]
            shown = "; ".join(
                f"{s} -> {d}: {a.code} ({a.explanation})" for s, d, a in items[:_SHOWN_UNKNOWN]
            )
            more = (
                f"; and {len(items) - _SHOWN_UNKNOWN} more" if len(items) > _SHOWN_UNKNOWN else ""
            )
            yield Unverifiable(
                _subnet_ref(self.index.subnets[where]),
                f"intent {i.name!r} (expect {i.expect}): cannot tell for {len(items)} path(s), "
                f"part of the way was not scanned or read: {shown}{more}",
            )


# -- helpers ------------------------------------------------------------------------------------


def _subnet_ref(s: Subnet) -> ResourceRef:
    owner = s.owner_id or s.account_id
    return ResourceRef(
        owner,
        s.region,
        "subnet",
        s.subnet_id,
        ec2_arn(s.region, owner, "subnet", s.subnet_id),
        sorted_tags(s.tags),
    )


def _intent_ref(i: Intent) -> ResourceRef:
    """Where an intent-wide unverifiable check is listed: the intent itself."""
    return ResourceRef("", "", "reachability-intent", i.name, "")


def _flow(i: Intent) -> str:
    if i.protocol == "all":
        return "all traffic"
    return i.protocol if i.port is None else f"{i.protocol} {i.port}"
