"""Flow-log rules: VPCs whose traffic is not recorded."""

from __future__ import annotations

from dataclasses import dataclass

from vpcaudit.inventory import FlowLog, Inventory, Vpc
from vpcaudit.model import Severity, Unverifiable, Violation
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import ask, cidr_strs, cli, flow_log_ref, q, vpc_label, vpc_ref

# -- shared facts ---------------------------------------------------------------------------

_HALVES = frozenset({"ACCEPT", "REJECT"})
"""What an ALL flow log records: accepted and rejected traffic."""

# AWS documents exactly three DeliverLogsErrorMessage values (EC2 API reference, FlowLog):
# "Rate limited", "Access error" and "Unknown error". The rules match those and nothing else.
DELIVERY_ERRORS = {
    "rate limited": (
        "CloudWatch Logs throttled delivery for one or more network interfaces, or the "
        "account reached its quota of log groups"
    ),
    "access error": (
        "the service was not allowed to publish: the delivery role lacks permission (or, "
        "for S3 and Firehose, the destination's policy refuses it or the destination is gone)"
    ),
    "unknown error": "an internal error on AWS's side",
}

_RESOURCE_TYPES = (
    ("vpc-", "VPC"),
    ("subnet-", "Subnet"),
    ("eni-", "NetworkInterface"),
    ("tgw-attach-", "TransitGatewayAttachment"),
    ("tgw-", "TransitGateway"),
)

S3_DESTINATION_WORD = (
    f"arn:aws:s3:::{ask('LOG_BUCKET', 'the S3 bucket for flow logs')}/vpc-flow-logs/"
)
"""Where a new flow log goes when the rule cannot tell: a bucket the reader names (one
shell word: ask() quotes it)."""


def _resource_type(resource_id: str) -> str:
    """create-flow-logs' --resource-type for a resource id."""
    return next((t for prefix, t in _RESOURCE_TYPES if resource_id.startswith(prefix)), "VPC")


def _meaning(error: str) -> str:
    """What AWS documents a DeliverLogsErrorMessage to mean ("" for any other text)."""
    return DELIVERY_ERRORS.get(error.strip().rstrip(".").lower(), "")


def _active(inv: Inventory, resource_id: str) -> list[FlowLog]:
    return [f for f in inv.flow_logs_for(resource_id) if f.status == "ACTIVE"]


def _logged(inv: Inventory) -> frozenset[str]:
    """Ids of the resources (VPCs, subnets, ENIs) that carry an ACTIVE flow log: asked of
    every VPC and subnet, so a set built once instead of a lookup and a list per question."""
    memo: dict[str, frozenset[str]] = inv.memo("flowlogs.logged")
    if "" not in memo:
        memo[""] = frozenset(f.resource_id for f in inv.flow_logs if f.status == "ACTIVE")
    return memo[""]


def _logged_subnets(inv: Inventory, vpc: Vpc, logged: frozenset[str]) -> list[str]:
    """The VPC's subnets that carry an ACTIVE flow log of their own (`_logged`), sorted."""
    return sorted(s.subnet_id for s in inv.subnets_of(vpc.vpc_id) if s.subnet_id in logged)


def _interfaces_of(inv: Inventory, vpc_id: str) -> list[str]:
    """ENI ids of a VPC (empty when network interfaces were not read)."""
    memo: dict[str, list[str]] = inv.memo("flowlogs.enis_of")
    if not memo and inv.network_interfaces:
        for eni in inv.network_interfaces:
            memo.setdefault(eni.vpc_id, []).append(eni.eni_id)
        memo[""] = []  # built
    return sorted(set(memo.get(vpc_id, [])))


@dataclass(frozen=True)
class FlowLogsMissingParams:
    """Parameters of vpc-flow-logs-missing."""

    include_default_vpcs: bool = True
    """Also flag the default VPCs AWS creates in every region."""


@rule(
    id="vpc-flow-logs-missing",
    title="VPC without an active flow log",
    severity=Severity.MEDIUM,
    area="flowlogs",
    rationale="""
        Flow logs are the only record of which addresses talked to which inside a VPC: without
        one, an incident cannot be scoped and lateral movement cannot be traced. Only an ACTIVE
        flow log on the VPC itself counts; logs on a few network interfaces leave the rest of
        the VPC dark. A VPC logged on some of its subnets instead is reported by
        flow-logs-subnet-only (the more specific rule), not here. A shared VPC is judged in its
        owner's account, the only one that can create its flow logs.
    """,
    remediation="""
        Create a flow log on the VPC for ALL traffic to S3 or CloudWatch Logs
        (aws ec2 create-flow-logs --resource-type VPC).
    """,
    evidence=("vpc_name", "cidrs", "is_default", "inactive_flow_logs", "other_flow_logs"),
    params=FlowLogsMissingParams,
    legitimate=(
        """A VPC logged on its subnets rather than on the VPC: flow-logs-subnet-only reports
        it, listing the subnets left dark.""",
        """A shared VPC seen from a participant account: only the owner can create its flow
        logs, so it is judged in the owner's account (unverifiable when the owner was not
        scanned).""",
        """A region whose flow logs could not be read: unverifiable, never a finding.""",
        """Default VPCs, when include_default_vpcs is false (accounts that keep them empty).""",
    ),
)
def flow_logs_missing(inv: Inventory, params: FlowLogsMissingParams) -> RuleOutput:
    """Flag VPCs, in their owner's account, with no ACTIVE flow log on the VPC or its subnets."""
    owned = {(v.owner_id, v.vpc_id) for v in inv.vpcs if v.account_id == v.owner_id}
    logged = _logged(inv)
    for vpc in inv.vpcs:
        if vpc.is_default and not params.include_default_vpcs:
            continue
        if vpc.account_id != vpc.owner_id:
            if (vpc.owner_id, vpc.vpc_id) not in owned:
                yield Unverifiable(
                    vpc_ref(vpc),
                    f"shared VPC {vpc.vpc_id} is owned by {vpc.owner_id}, which was not scanned; "
                    f"only the owner can create its flow logs",
                )
            continue
        if not inv.was_read(vpc.account_id, vpc.region, "flow_logs"):
            yield Unverifiable(
                vpc_ref(vpc), f"flow logs of {vpc.account_id} {vpc.region} could not be read"
            )
            continue
        if vpc.vpc_id in logged or _logged_subnets(inv, vpc, logged):
            continue  # logged; or logged on subnets only: flow-logs-subnet-only says so
        logs = inv.flow_logs_for(vpc.vpc_id)
        others = sorted(
            f"{f.flow_log_id} on {f.resource_id}"
            for eni in _interfaces_of(inv, vpc.vpc_id)
            if eni in logged
            for f in _active(inv, eni)
        )
        yield Violation(
            resource=vpc_ref(vpc),
            message=(
                f"{vpc_label(vpc)} has no active flow "
                f"log: its traffic is not recorded"
                + (f"; only {len(others)} interface-level log(s) exist" if others else "")
                + "."
            ),
            evidence={
                "vpc_name": vpc.name,
                "cidrs": cidr_strs(vpc.cidrs),
                "is_default": vpc.is_default,
                "inactive_flow_logs": sorted(f"{f.flow_log_id} ({f.status})" for f in logs),
                "other_flow_logs": others,
            },
            remediation=cli(
                f"aws ec2 create-flow-logs --resource-type VPC --resource-ids {q(vpc.vpc_id)} "
                "--traffic-type ALL --log-destination-type s3 "
                f"--log-destination {S3_DESTINATION_WORD}",
                vpc.region,
                vpc.account_id,
            ),
        )


FLOW_LOGS_MISSING = flow_logs_missing


@rule(
    id="flow-logs-delivery-failed",
    title="Flow log that fails to deliver",
    severity=Severity.MEDIUM,
    area="flowlogs",
    rationale="""
        A flow log whose delivery status is FAILED exists on paper and records nothing, or
        only part: AWS reports one of three causes, "Rate limited" (CloudWatch Logs throttling,
        or the log-group quota reached), "Access error" (the delivery role, or an S3 or
        Firehose destination's policy, does not let the service publish; a deleted bucket
        shows the same way) or "Unknown error" (internal). Teams believe they have the
        records until an incident shows they do not. A flow log whose CloudWatch Logs group
        is known to be missing is reported by flow-logs-destination-missing instead, which
        names that cause.
    """,
    remediation="Fix the cause the error names (the delivery role's permissions, the "
    "destination's policy or existence, the CloudWatch Logs quota), then watch the status "
    "return to SUCCESS.",
    evidence=("resource_id", "destination_type", "destination", "error", "meaning"),
    params=NoParams,
    legitimate=(
        """A FAILED flow log whose CloudWatch Logs group does not exist: one problem, reported
        once, by flow-logs-destination-missing.""",
    ),
)
def delivery_failed(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag flow logs whose DeliverLogsStatus is FAILED (unless the destination is gone)."""
    del params
    for f in inv.flow_logs:
        if f.deliver_status.upper() != "FAILED" or _destination_gone(inv, f) is not None:
            continue
        meaning = _meaning(f.deliver_error)
        yield Violation(
            resource=flow_log_ref(f),
            message=(
                f"Flow log {f.flow_log_id} on {f.resource_id} fails to deliver to "
                f"{f.destination_type or 'its destination'}"
                + (f": {f.deliver_error}" if f.deliver_error else "")
                + (f" ({meaning})" if meaning else "")
                + "."
            ),
            evidence={
                "resource_id": f.resource_id,
                "destination_type": f.destination_type,
                "destination": f.destination,
                "error": f.deliver_error,
                "meaning": meaning,
            },
            remediation=cli(
                f"aws ec2 describe-flow-logs --flow-log-ids {q(f.flow_log_id)}  # then fix the "
                "delivery role, the destination's policy or the quota the error names",
                f.region,
                f.account_id,
            ),
        )


@rule(
    id="flow-logs-partial-traffic",
    title="Resource whose flow logs record only accepted or only rejected traffic",
    severity=Severity.LOW,
    area="flowlogs",
    rationale="""
        A flow log with traffic type ACCEPT or REJECT records half the story: rejected-only
        logs miss the connections that succeeded (exfiltration, lateral movement), and
        accepted-only logs miss the scanning and probing that precede them. What counts is
        what a resource's flow logs record together, with those of the VPC (and subnet) it
        sits in: an ACCEPT log and a REJECT log record all traffic between them, whether they
        deliver to one destination or two (both sets of records exist; where they are kept is
        a choice, not a gap). A partial log under a VPC or subnet that is itself logged is
        judged there, once.
    """,
    remediation="Add a flow log for the missing half (or ALL) on the same resource; keep the "
    "partial one if something (an alert, a SIEM feed) reads it.",
    evidence=("resource_id", "traffic_type", "missing_traffic", "flow_logs"),
    params=NoParams,
    legitimate=(
        """An ACCEPT log and a REJECT log on the same resource, to one destination or two:
        together they record all traffic.""",
        """A REJECT-only (or ACCEPT-only) log beside an ALL log, for example one feeding
        security alerting: the ALL log records everything.""",
        """A partial log on a subnet or network interface whose subnet or VPC log records the
        other half.""",
    ),
)
def partial_traffic(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag each resource whose active flow logs, with its parents', miss a traffic half."""
    del params
    parents = _parents(inv)
    logged = _logged(inv)
    resources = sorted(logged)
    for resource_id in resources:
        logs = sorted(_active(inv, resource_id), key=lambda f: f.flow_log_id)
        recorded = _recorded(logs)
        if recorded is None or not (_HALVES - recorded):
            continue  # no traffic type to judge (e.g. Transit Gateway logs), or all of it
        if any(p in logged for p in parents.get(resource_id, ())):
            continue  # the enclosing subnet or VPC is logged: judged (or covered) there
        partial = [f for f in logs if f.traffic_type.upper() in _HALVES]
        first = partial[0]
        kind = sorted(recorded)[0]
        missing = sorted(_HALVES - recorded)[0]
        ids = ", ".join(f.flow_log_id for f in partial)
        many = len(partial) > 1
        yield Violation(
            resource=flow_log_ref(first),
            message=(
                f"Flow log{'s' if many else ''} {ids} on {resource_id} "
                f"record{'' if many else 's'} {kind} traffic only: its {missing} traffic is "
                f"not recorded."
            ),
            evidence={
                "resource_id": resource_id,
                "traffic_type": kind,
                "missing_traffic": missing,
                "flow_logs": [f.flow_log_id for f in partial],
            },
            remediation=cli(
                f"aws ec2 create-flow-logs --resource-type {q(_resource_type(resource_id))} "
                f"--resource-ids {q(resource_id)} --traffic-type {q(missing)} "
                f"{_destination_args(first)}",
                first.region,
                first.account_id,
            ),
        )


def _recorded(logs: list[FlowLog]) -> frozenset[str] | None:
    """The traffic halves the logs record together (None when none has a traffic type)."""
    kinds = {f.traffic_type.upper() for f in logs if f.traffic_type}
    if not kinds:
        return None
    return _HALVES if "ALL" in kinds else frozenset(kinds & _HALVES)


def _parents(inv: Inventory) -> dict[str, tuple[str, ...]]:
    """Resource id -> the enclosing subnet and VPC ids whose flow logs also cover it."""
    memo: dict[str, tuple[str, ...]] = inv.memo("flowlogs.parents")
    if not memo:
        subnet_vpc = {s.subnet_id: s.vpc_id for s in inv.subnets}
        for s, v in subnet_vpc.items():
            memo[s] = (v,)
        for eni in inv.network_interfaces:
            memo[eni.eni_id] = tuple(
                x for x in (eni.subnet_id, eni.vpc_id or subnet_vpc.get(eni.subnet_id, "")) if x
            )
        memo[""] = ()  # built
    return memo


def _destination_args(f: FlowLog) -> str:
    """create-flow-logs arguments that deliver where f delivers."""
    dest = f.destination
    if f.destination_type == "cloud-watch-logs":
        where = (
            f"--log-destination {q(dest)}"
            if dest.startswith("arn:")
            else f"--log-group-name {q(dest)}"
        )
        return (
            "--log-destination-type cloud-watch-logs "
            + where
            + " --deliver-logs-permission-arn "
            + ask("DELIVERY_ROLE_ARN", "a role flow logs may assume to publish")
        )
    if f.destination_type in ("s3", "kinesis-data-firehose") and dest:
        return f"--log-destination-type {q(f.destination_type)} --log-destination {q(dest)}"
    return f"--log-destination-type s3 --log-destination {S3_DESTINATION_WORD}"


@rule(
    id="flow-logs-subnet-only",
    title="VPC logged only on some subnets",
    severity=Severity.LOW,
    area="flowlogs",
    rationale="""
        Flow logs on individual subnets, with none on the VPC, leave every other subnet, and
        every subnet created later, unrecorded. The finding lists which subnets are dark; a
        VPC-level flow log covers them all. It is the one finding for such a VPC
        (vpc-flow-logs-missing stays silent): medium while some subnets are dark, low when
        every subnet is logged and only subnets created later would be missed.
    """,
    remediation="Create one flow log on the VPC (aws ec2 create-flow-logs --resource-type VPC).",
    evidence=("vpc_name", "logged_subnets", "unlogged_subnets"),
    params=NoParams,
    legitimate=(
        """A VPC with an active VPC-level flow log and extra subnet logs (for example a second
        destination for one subnet): it is covered.""",
        """A shared VPC seen from a participant account: only the owner can create its flow
        logs, so it is judged in the owner's account.""",
    ),
)
def subnet_only(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag owned VPCs with subnet flow logs but no active VPC-level flow log."""
    del params
    logged_ids = _logged(inv)
    for vpc in inv.vpcs:
        if vpc.account_id != vpc.owner_id:
            continue
        if vpc.vpc_id in logged_ids:
            continue
        logged = _logged_subnets(inv, vpc, logged_ids)
        if not logged:
            continue  # no log at all: vpc-flow-logs-missing
        subnets = inv.subnets_of(vpc.vpc_id)
        dark = sorted(s.subnet_id for s in subnets if s.subnet_id not in logged)
        name = f" ({vpc.name})" if vpc.name else ""
        yield Violation(
            resource=vpc_ref(vpc),
            message=(
                f"VPC {vpc.vpc_id}{name} is logged only on {len(logged)} of {len(subnets)} "
                f"subnet(s), with no flow log on the VPC"
                + (
                    f"; {', '.join(dark)} are not recorded."
                    if dark
                    else "; new subnets will not be."
                )
            ),
            evidence={"vpc_name": vpc.name, "logged_subnets": logged, "unlogged_subnets": dark},
            remediation=cli(
                f"aws ec2 create-flow-logs --resource-type VPC --resource-ids {q(vpc.vpc_id)} "
                "--traffic-type ALL --log-destination-type s3 "
                f"--log-destination {S3_DESTINATION_WORD}",
                vpc.region,
                vpc.account_id,
            ),
            severity=Severity.MEDIUM if dark else Severity.LOW,
        )


def _log_group(f: FlowLog) -> tuple[str, str, str]:
    """(account, region, name) of a flow log's CloudWatch Logs group, from its ARN or name.

    The ARN may name another account or region (cross-account delivery): the group is looked
    for there, and only judged where that account and region's log groups were read.
    """
    dest = f.destination
    if ":log-group:" in dest:
        head, rest = dest.split(":log-group:", 1)
        parts = head.split(":")  # arn, partition, logs, region, account
        region = parts[3] if len(parts) > 4 and parts[3] else f.region
        account = parts[4] if len(parts) > 4 and parts[4] else f.account_id
        return account, region, rest.split(":", 1)[0]
    return f.account_id, f.region, dest


def _destination_gone(inv: Inventory, f: FlowLog) -> str | None:
    """How we know an ACTIVE flow log's destination is gone, or None.

    CloudWatch Logs creates a flow log's group only when the first record is delivered, so a
    group that is not listed is only evidence when delivery has FAILED (a deleted group the
    role cannot recreate, or a group it never could create). A listed-or-not S3 bucket or
    Firehose stream is not read by the scan: their failures are flow-logs-delivery-failed's.
    """
    if f.status != "ACTIVE":
        return None
    if not f.destination:
        return "the flow log names no destination"
    if f.destination_type != "cloud-watch-logs" or f.deliver_status.upper() != "FAILED":
        return None
    account, region, group = _log_group(f)
    if not group or not inv.was_read(account, region, "log_groups"):
        return None
    if (account, region, group) in inv.log_groups:
        return None
    return (
        f"log group {group!r} is not among {account}'s log groups in {region}, and delivery "
        f"fails" + (f" ({f.deliver_error})" if f.deliver_error else "")
    )


@rule(
    id="flow-logs-destination-missing",
    title="Flow log whose destination does not exist",
    severity=Severity.MEDIUM,
    area="flowlogs",
    rationale="""
        A flow log keeps its destination by name. When its CloudWatch Logs group does not
        exist and delivery FAILS, the flow log records nothing: the group was deleted and the
        delivery role may not recreate it (logs:CreateLogGroup), or it never could create
        it. A group that is not there while delivery has not failed is not evidence: AWS
        creates the group only when it delivers the first record, so a new or idle VPC has
        none yet. The group is looked for in the account and region its ARN names, and only
        where those log groups were read. S3 buckets and Firehose streams are not listed by
        the scan; a gone bucket shows as a delivery failure (flow-logs-delivery-failed). This
        rule reports a FAILED flow log with a missing group once, instead of
        flow-logs-delivery-failed.
    """,
    remediation="Recreate the log group under the same name (delivery resumes once it exists "
    "and the role may write to it), or recreate the flow log to an existing destination.",
    evidence=("resource_id", "destination_type", "destination", "error", "how_known"),
    params=NoParams,
    legitimate=(
        """An ACTIVE CloudWatch Logs flow log whose group does not exist yet while delivery
        has not failed: AWS creates the group with the first record, so an idle or new VPC,
        subnet or interface has none.""",
        """A group in an account or region whose log groups were not read (cross-account
        delivery to an unscanned account): not judged.""",
        """S3 and Firehose destinations: not listed by the scan, so never claimed gone; their
        delivery failures are flow-logs-delivery-failed's.""",
    ),
)
def destination_missing(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag flow logs whose CloudWatch Logs group is absent while delivery fails."""
    del params
    for f in inv.flow_logs:
        how = _destination_gone(inv, f)
        if how is None:
            continue
        if f.destination:
            account, region, group = _log_group(f)
            fix = cli(f"aws logs create-log-group --log-group-name {q(group)}", region, account)
        else:
            fix = cli(
                f"aws ec2 create-flow-logs --resource-type {q(_resource_type(f.resource_id))} "
                f"--resource-ids {q(f.resource_id)} --traffic-type {q(f.traffic_type or 'ALL')} "
                f"{_destination_args(f)} && aws ec2 delete-flow-logs --flow-log-ids "
                f"{q(f.flow_log_id)}",
                f.region,
                f.account_id,
            )
        meaning = _meaning(f.deliver_error)
        yield Violation(
            resource=flow_log_ref(f),
            message=(
                f"Flow log {f.flow_log_id} on {f.resource_id} has no destination: {how}"
                + (f"; {meaning}" if meaning else "")
                + "."
            ),
            evidence={
                "resource_id": f.resource_id,
                "destination_type": f.destination_type,
                "destination": f.destination,
                "error": f.deliver_error,
                "how_known": how,
            },
            remediation=fix,
        )


DELIVERY_FAILED = delivery_failed
PARTIAL_TRAFFIC = partial_traffic
SUBNET_ONLY = subnet_only
DESTINATION_MISSING = destination_missing
