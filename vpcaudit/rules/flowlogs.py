"""Flow-log rules: VPCs whose traffic is not recorded."""

from __future__ import annotations

from dataclasses import dataclass

from vpcaudit.inventory import FlowLog, Inventory
from vpcaudit.model import Severity, Unverifiable, Violation
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import cidr_strs, cli, flow_log_ref, vpc_ref


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
        one, an incident cannot be scoped and lateral movement cannot be traced. Logs on a few
        subnets or interfaces leave the rest of the VPC dark, so only an ACTIVE flow log on the
        VPC itself counts. A shared VPC is judged in its owner's account, the only one that
        can create its flow logs.
    """,
    remediation="""
        Create a flow log on the VPC for ALL traffic to S3 or CloudWatch Logs
        (aws ec2 create-flow-logs --resource-type VPC).
    """,
    evidence=("vpc_name", "cidrs", "is_default", "inactive_flow_logs", "other_flow_logs"),
    params=FlowLogsMissingParams,
)
def flow_logs_missing(inv: Inventory, params: FlowLogsMissingParams) -> RuleOutput:
    """Flag VPCs, in their owner's account, with no ACTIVE flow log on the VPC."""
    owned = {(v.owner_id, v.vpc_id) for v in inv.vpcs if v.account_id == v.owner_id}
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
        logs = inv.flow_logs_for(vpc.vpc_id)
        if any(f.status == "ACTIVE" for f in logs):
            continue
        others = sorted(
            f"{f.flow_log_id} on {f.resource_id}"
            for s in inv.subnets_of(vpc.vpc_id)
            for f in inv.flow_logs_for(s.subnet_id)
            if f.status == "ACTIVE"
        )
        yield Violation(
            resource=vpc_ref(vpc),
            message=(
                f"VPC {vpc.vpc_id}{f' ({vpc.name})' if vpc.name else ''} has no active flow "
                f"log: its traffic is not recorded"
                + (f"; only {len(others)} subnet-level log(s) exist" if others else "")
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
                f"aws ec2 create-flow-logs --resource-type VPC --resource-ids {vpc.vpc_id} "
                f"--traffic-type ALL --log-destination-type s3 "
                f"--log-destination arn:aws:s3:::<log-bucket>/vpc-flow-logs/",
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
        A flow log whose delivery status is FAILED exists on paper and records nothing: the
        usual causes are a delivery role without permission, a deleted or foreign-owned
        bucket, or throttling. Teams believe they have the records until an incident shows
        they do not.
    """,
    remediation="Fix the cause the error message names (the delivery role's permissions, the "
    "destination's policy or existence), or recreate the flow log.",
    evidence=("resource_id", "destination_type", "destination", "error"),
    params=NoParams,
)
def delivery_failed(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag flow logs whose DeliverLogsStatus is FAILED."""
    del params
    for f in inv.flow_logs:
        if f.deliver_status.upper() != "FAILED":
            continue
        yield Violation(
            resource=flow_log_ref(f),
            message=(
                f"Flow log {f.flow_log_id} on {f.resource_id} fails to deliver to "
                f"{f.destination_type or 'its destination'}"
                + (f": {f.deliver_error}" if f.deliver_error else "")
                + "."
            ),
            evidence={
                "resource_id": f.resource_id,
                "destination_type": f.destination_type,
                "destination": f.destination,
                "error": f.deliver_error,
            },
            remediation=cli(
                f"aws ec2 describe-flow-logs --flow-log-ids {f.flow_log_id}  # then fix the "
                f"destination or role it names",
                f.region,
                f.account_id,
            ),
        )


@rule(
    id="flow-logs-partial-traffic",
    title="Flow log that records only accepted or only rejected traffic",
    severity=Severity.LOW,
    area="flowlogs",
    rationale="""
        A flow log with traffic type ACCEPT or REJECT records half the story: rejected-only
        logs miss the connections that succeeded (exfiltration, lateral movement), and
        accepted-only logs miss the scanning and probing that precede them.
    """,
    remediation="Create a flow log with --traffic-type ALL and delete the partial one.",
    evidence=("resource_id", "traffic_type"),
    params=NoParams,
)
def partial_traffic(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag active flow logs whose traffic type is not ALL."""
    del params
    for f in inv.flow_logs:
        if f.status != "ACTIVE" or not f.traffic_type or f.traffic_type.upper() == "ALL":
            continue
        yield Violation(
            resource=flow_log_ref(f),
            message=(
                f"Flow log {f.flow_log_id} on {f.resource_id} records {f.traffic_type} traffic "
                f"only."
            ),
            evidence={"resource_id": f.resource_id, "traffic_type": f.traffic_type},
            remediation=cli(
                f"aws ec2 create-flow-logs --resource-ids {f.resource_id} --traffic-type ALL "
                f"... && aws ec2 delete-flow-logs --flow-log-ids {f.flow_log_id}",
                f.region,
                f.account_id,
            ),
        )


@rule(
    id="flow-logs-subnet-only",
    title="VPC logged only on some subnets",
    severity=Severity.LOW,
    area="flowlogs",
    rationale="""
        Flow logs on individual subnets, with none on the VPC, leave every other subnet, and
        every subnet created later, unrecorded. The finding lists which subnets are dark; a
        VPC-level flow log covers them all.
    """,
    remediation="Create one flow log on the VPC (aws ec2 create-flow-logs --resource-type VPC).",
    evidence=("logged_subnets", "unlogged_subnets"),
    params=NoParams,
)
def subnet_only(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag owned VPCs with subnet flow logs but no active VPC-level flow log."""
    del params
    for vpc in inv.vpcs:
        if vpc.account_id != vpc.owner_id:
            continue
        if any(f.status == "ACTIVE" for f in inv.flow_logs_for(vpc.vpc_id)):
            continue
        subnets = inv.subnets_of(vpc.vpc_id)
        logged = sorted(
            s.subnet_id
            for s in subnets
            if any(f.status == "ACTIVE" for f in inv.flow_logs_for(s.subnet_id))
        )
        if not logged:
            continue
        dark = sorted(s.subnet_id for s in subnets if s.subnet_id not in logged)
        yield Violation(
            resource=vpc_ref(vpc),
            message=(
                f"VPC {vpc.vpc_id} is logged only on {len(logged)} of {len(subnets)} subnet(s)"
                + (
                    f"; {', '.join(dark)} are not recorded."
                    if dark
                    else "; new subnets will not be."
                )
            ),
            evidence={"logged_subnets": logged, "unlogged_subnets": dark},
            remediation=cli(
                f"aws ec2 create-flow-logs --resource-type VPC --resource-ids {vpc.vpc_id} "
                f"--traffic-type ALL --log-destination-type s3 "
                f"--log-destination arn:aws:s3:::<log-bucket>/vpc-flow-logs/",
                vpc.region,
                vpc.account_id,
            ),
        )


_MISSING_WORDS = ("does not exist", "not found", "notfound", "no such")


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


@rule(
    id="flow-logs-destination-missing",
    title="Flow log whose destination no longer exists",
    severity=Severity.MEDIUM,
    area="flowlogs",
    rationale="""
        A flow log keeps its destination by name. When the CloudWatch Logs group is deleted,
        or the delivery error says the destination is gone, the flow log records nothing.
        Where the API can tell (CloudWatch Logs groups in the same account and region are
        listed; other destinations only through the delivery error), the rule says so.
    """,
    remediation="Recreate the destination, or recreate the flow log to an existing one.",
    evidence=("resource_id", "destination_type", "destination", "how_known"),
    params=NoParams,
)
def destination_missing(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag flow logs whose log group is not listed, or whose error says it is gone."""
    del params
    for f in inv.flow_logs:
        if f.status != "ACTIVE":
            continue
        how = None
        if f.destination_type == "cloud-watch-logs":
            account, region, group = _log_group(f)
            if (
                group
                and inv.was_read(account, region, "log_groups")
                and (account, region, group) not in inv.log_groups
            ):
                how = f"log group {group!r} is not among {account}'s log groups in {region}"
        if how is None and any(w in f.deliver_error.lower() for w in _MISSING_WORDS):
            how = f"delivery error: {f.deliver_error}"
        if how is None and not f.destination:
            how = "the flow log names no destination"
        if how is None:
            continue
        yield Violation(
            resource=flow_log_ref(f),
            message=f"Flow log {f.flow_log_id} on {f.resource_id} has no destination: {how}.",
            evidence={
                "resource_id": f.resource_id,
                "destination_type": f.destination_type,
                "destination": f.destination,
                "how_known": how,
            },
            remediation=cli(
                f"aws ec2 delete-flow-logs --flow-log-ids {f.flow_log_id} && aws ec2 "
                f"create-flow-logs --resource-ids {f.resource_id} --traffic-type ALL ...",
                f.region,
                f.account_id,
            ),
        )


DELIVERY_FAILED = delivery_failed
PARTIAL_TRAFFIC = partial_traffic
SUBNET_ONLY = subnet_only
DESTINATION_MISSING = destination_missing
