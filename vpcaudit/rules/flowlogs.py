"""Flow-log rules: VPCs whose traffic is not recorded."""

from __future__ import annotations

from dataclasses import dataclass

from vpcaudit.inventory import Inventory
from vpcaudit.model import Severity, Unverifiable, Violation
from vpcaudit.rules.base import RuleOutput, rule
from vpcaudit.rules.common import cidr_strs, cli, vpc_ref


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
