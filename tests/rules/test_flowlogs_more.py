"""flow-logs-delivery-failed, flow-logs-partial-traffic, flow-logs-subnet-only,
flow-logs-destination-missing."""

from __future__ import annotations

import pytest

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    SnapshotBuilder,
    load_fixture,
    run_rule,
    without_kinds,
)
from vpcaudit.awscli import ask
from vpcaudit.evaluate import Evaluation
from vpcaudit.model import Finding, Severity
from vpcaudit.rules.flowlogs import (
    DELIVERY_ERRORS,
    DELIVERY_FAILED,
    DESTINATION_MISSING,
    PARTIAL_TRAFFIC,
    SUBNET_ONLY,
)

# AWS's own DeliverLogsErrorMessage text (EC2 API reference, FlowLog): "Rate limited",
# "Access error" or "Unknown error". Tests use these strings only.
ROLE_ERROR = "Access error"
FAILED = {"deliver_status": "FAILED", "deliver_error": ROLE_ERROR}


def only(result: Evaluation) -> Finding:
    """The single finding, failing the test when there are none or several."""
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def cmd(command: str, account: str = ACCOUNT, region: str = REGION) -> str:
    """An AWS CLI line as the rules write it."""
    return f"{command} --region {region}  # as account {account}"


def assert_flow_log_ref(
    f: Finding, flow_log_id: str, account: str = ACCOUNT, region: str = REGION
) -> None:
    assert f.resource.resource_type == "vpc-flow-log"
    assert f.resource.resource_id == flow_log_id
    assert (f.resource.account_id, f.resource.region) == (account, region)
    assert f.resource.arn == f"arn:aws:ec2:{region}:{account}:vpc-flow-log/{flow_log_id}"


def vpc() -> SnapshotBuilder:
    """vpc-a with three subnets."""
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .subnet("subnet-a2", "vpc-a", "10.0.2.0/24", az="b")
        .subnet("subnet-a3", "vpc-a", "10.0.3.0/24", az="c")
    )


# -- flow-logs-delivery-failed --------------------------------------------------------------


def test_failed_delivery_is_flagged_with_the_error_message() -> None:
    snap = (
        vpc().flow_log("fl-1", "vpc-a", deliver_status="FAILED", deliver_error=ROLE_ERROR).build()
    )
    f = only(run_rule(DELIVERY_FAILED, snap))
    assert f.rule_id == "flow-logs-delivery-failed"
    assert f.severity is Severity.MEDIUM
    assert_flow_log_ref(f, "fl-1")
    assert f.evidence == {
        "resource_id": "vpc-a",
        "destination_type": "s3",
        "destination": f"arn:aws:s3:::flow-logs-{ACCOUNT}/vpc-a/",
        "error": ROLE_ERROR,
        "meaning": DELIVERY_ERRORS["access error"],
    }
    assert f.message.endswith(f": {ROLE_ERROR} ({DELIVERY_ERRORS['access error']}).")
    assert f.remediation.startswith("aws ec2 describe-flow-logs --flow-log-ids fl-1 ")
    assert f"--flow-log-ids fl-1 --region {REGION}  # as account {ACCOUNT}" in f.remediation


def test_failed_delivery_without_a_message_and_to_cloudwatch() -> None:
    snap = (
        vpc()
        .flow_log(
            "fl-1",
            "subnet-a1",
            deliver_status="FAILED",
            destination_type="cloud-watch-logs",
            account=OTHER_ACCOUNT,
            region=OTHER_REGION,
        )
        # The group exists: a missing one would make this flow-logs-destination-missing's.
        .log_group("/vpc/subnet-a1", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .build()
    )
    f = only(run_rule(DELIVERY_FAILED, snap))
    assert_flow_log_ref(f, "fl-1", OTHER_ACCOUNT, OTHER_REGION)
    assert f.evidence["error"] == ""
    assert f.evidence["meaning"] == ""
    assert f.evidence["destination_type"] == "cloud-watch-logs"
    assert f.evidence["destination"] == (
        f"arn:aws:logs:{OTHER_REGION}:{OTHER_ACCOUNT}:log-group:/vpc/subnet-a1"
    )
    assert f.message.endswith("fails to deliver to cloud-watch-logs.")


def test_successful_delivery_is_fine() -> None:
    snap = vpc().flow_log("fl-1", "vpc-a").flow_log("fl-2", "subnet-a1", deliver_status="SUCCESS")
    assert run_rule(DELIVERY_FAILED, snap.build()).findings == ()


# -- flow-logs-partial-traffic --------------------------------------------------------------


@pytest.mark.parametrize("traffic", ["REJECT", "ACCEPT"])
def test_partial_traffic_is_flagged(traffic: str) -> None:
    snap = vpc().flow_log("fl-1", "vpc-a", traffic_type=traffic).build()
    f = only(run_rule(PARTIAL_TRAFFIC, snap))
    assert f.rule_id == "flow-logs-partial-traffic"
    assert f.severity is Severity.LOW
    assert_flow_log_ref(f, "fl-1")
    missing = "ACCEPT" if traffic == "REJECT" else "REJECT"
    assert f.evidence == {
        "resource_id": "vpc-a",
        "traffic_type": traffic,
        "missing_traffic": missing,
        "flow_logs": ["fl-1"],
    }
    assert f"records {traffic} traffic only: its {missing} traffic is not recorded" in f.message
    # The missing half, to the same destination; the partial log is kept (it may feed alerts).
    assert f.remediation == cmd(
        f"aws ec2 create-flow-logs --resource-type VPC --resource-ids vpc-a --traffic-type "
        f"{missing} --log-destination-type s3 --log-destination "
        f"arn:aws:s3:::flow-logs-{ACCOUNT}/vpc-a/"
    )
    assert "delete-flow-logs" not in f.remediation


def test_all_traffic_is_fine() -> None:
    snap = vpc().flow_log("fl-1", "vpc-a", traffic_type="ALL").build()
    assert run_rule(PARTIAL_TRAFFIC, snap).findings == ()


def test_partial_traffic_on_an_inactive_flow_log_is_not_judged() -> None:
    snap = vpc().flow_log("fl-1", "vpc-a", traffic_type="REJECT", status="INACTIVE").build()
    assert run_rule(PARTIAL_TRAFFIC, snap).findings == ()


# -- flow-logs-subnet-only ------------------------------------------------------------------


def test_some_subnets_logged_lists_the_dark_ones() -> None:
    snap = vpc().flow_log("fl-1", "subnet-a2").build()
    f = only(run_rule(SUBNET_ONLY, snap))
    assert f.rule_id == "flow-logs-subnet-only"
    # Dark subnets are as unrecorded as a VPC without a log (vpc-flow-logs-missing's medium),
    # and this is the one finding for them.
    assert f.severity is Severity.MEDIUM
    assert (f.resource.resource_type, f.resource.resource_id) == ("vpc", "vpc-a")
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)
    assert f.evidence == {
        "vpc_name": "",
        "logged_subnets": ["subnet-a2"],
        "unlogged_subnets": ["subnet-a1", "subnet-a3"],
    }
    assert "logged only on 1 of 3 subnet(s)" in f.message
    assert "subnet-a1, subnet-a3 are not recorded" in f.message
    assert f.remediation.startswith(
        "aws ec2 create-flow-logs --resource-type VPC --resource-ids vpc-a --traffic-type ALL"
    )


def test_every_subnet_logged_still_leaves_new_subnets_dark() -> None:
    snap = (
        vpc()
        .flow_log("fl-1", "subnet-a1")
        .flow_log("fl-2", "subnet-a2")
        .flow_log("fl-3", "subnet-a3")
        .build()
    )
    f = only(run_rule(SUBNET_ONLY, snap))
    assert f.severity is Severity.LOW  # everything today is recorded
    assert f.evidence["unlogged_subnets"] == []
    assert "new subnets will not be" in f.message


def test_inactive_subnet_log_does_not_count_as_logged() -> None:
    snap = (
        vpc().flow_log("fl-1", "subnet-a1").flow_log("fl-2", "subnet-a2", status="INACTIVE").build()
    )
    f = only(run_rule(SUBNET_ONLY, snap))
    assert f.evidence["logged_subnets"] == ["subnet-a1"]
    assert f.evidence["unlogged_subnets"] == ["subnet-a2", "subnet-a3"]


def test_vpc_level_log_is_fine() -> None:
    snap = vpc().flow_log("fl-vpc", "vpc-a").flow_log("fl-1", "subnet-a1").build()
    assert run_rule(SUBNET_ONLY, snap).findings == ()


def test_no_flow_log_at_all_is_left_to_vpc_flow_logs_missing() -> None:
    assert run_rule(SUBNET_ONLY, vpc().build()).findings == ()


def test_shared_vpc_is_judged_only_in_its_owner_account() -> None:
    snap = (
        vpc()
        .vpc("vpc-a", "10.0.0.0/16", account=OTHER_ACCOUNT, owner=ACCOUNT)
        .flow_log("fl-1", "subnet-a1")
        .build()
    )
    f = only(run_rule(SUBNET_ONLY, snap))
    assert f.resource.account_id == ACCOUNT


# -- flow-logs-destination-missing ----------------------------------------------------------


def cwl(group: str = "/vpc/flow", **kw: str) -> SnapshotBuilder:
    """vpc() with an ACTIVE flow log on vpc-a to the CloudWatch Logs group `group`."""
    return vpc().flow_log(
        "fl-cw", "vpc-a", destination_type="cloud-watch-logs", log_group=group, **kw
    )


def test_cloudwatch_group_missing_while_delivery_fails() -> None:
    snap = cwl(**FAILED).log_group("/vpc/other").build()
    f = only(run_rule(DESTINATION_MISSING, snap))
    assert f.rule_id == "flow-logs-destination-missing"
    assert f.severity is Severity.MEDIUM
    assert_flow_log_ref(f, "fl-cw")
    assert f.evidence == {
        "resource_id": "vpc-a",
        "destination_type": "cloud-watch-logs",
        "destination": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/vpc/flow",
        "error": ROLE_ERROR,
        "how_known": f"log group '/vpc/flow' is not among {ACCOUNT}'s log groups in {REGION}, "
        f"and delivery fails ({ROLE_ERROR})",
    }
    # Recreating the group under its name lets delivery resume; nothing is deleted.
    assert f.remediation == cmd("aws logs create-log-group --log-group-name /vpc/flow")


def test_cloudwatch_group_not_created_yet_while_delivery_succeeds_is_fine() -> None:
    # CloudWatch Logs creates a flow log's group with the first delivered record: an idle VPC
    # has none yet, and nothing has failed.
    snap = cwl().log_group("/vpc/other").build()
    assert run_rule(DESTINATION_MISSING, snap).findings == ()


def test_cloudwatch_group_present_is_fine() -> None:
    snap = cwl(**FAILED).log_group("/vpc/flow").log_group("/vpc/other").build()
    assert run_rule(DESTINATION_MISSING, snap).findings == ()


@pytest.mark.parametrize(
    "destination",
    [
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/vpc/flow:*",
        "",  # older flow logs name the group only (LogGroupName)
    ],
    ids=["arn-with-suffix", "name-only"],
)
def test_group_name_is_read_from_every_destination_form(destination: str) -> None:
    present = cwl(destination=destination, **FAILED).log_group("/vpc/flow").build()
    assert run_rule(DESTINATION_MISSING, present).findings == ()
    missing = cwl(destination=destination, **FAILED).log_group("/vpc/other").build()
    f = only(run_rule(DESTINATION_MISSING, missing))
    assert "'/vpc/flow'" in f.evidence["how_known"]


def test_group_of_the_same_name_in_another_region_does_not_count() -> None:
    snap = cwl(**FAILED).log_group("/vpc/flow", region=OTHER_REGION).build()
    assert len(run_rule(DESTINATION_MISSING, snap).findings) == 1


def test_log_groups_not_read_is_not_judged() -> None:
    snap = cwl(**FAILED).gap("logs:DescribeLogGroups", code="AccessDeniedException").build()
    assert run_rule(DESTINATION_MISSING, snap).findings == ()
    # The failure itself is still reported, by the rule that owns it.
    assert only(run_rule(DELIVERY_FAILED, snap)).resource.resource_id == "fl-cw"


def test_snapshot_without_log_groups_kind_does_not_claim_the_group_is_gone() -> None:
    # A schema-1 snapshot written before the log-group collector existed (such as
    # tests/fixtures/cross_account_peering.json) has no log_groups and no gap for them.
    snap = without_kinds(cwl(**FAILED).log_group("/vpc/flow").build(), "log_groups")
    assert run_rule(DESTINATION_MISSING, snap).findings == ()


def test_cross_account_fixture_cloudwatch_flow_log_is_not_flagged() -> None:
    # fl-0data delivers to a CloudWatch Logs group; the fixture predates log-group collection.
    assert run_rule(DESTINATION_MISSING, load_fixture("cross_account_peering.json")).findings == ()


@pytest.mark.parametrize("error", ["Rate limited", "Access error", "Unknown error"])
@pytest.mark.parametrize("destination_type", ["s3", "kinesis-data-firehose"])
def test_s3_and_firehose_failures_are_delivery_failures_not_a_missing_destination(
    error: str, destination_type: str
) -> None:
    # The scan does not list buckets or streams, and AWS's error text never says "gone".
    snap = (
        vpc()
        .flow_log(
            "fl-x",
            "vpc-a",
            destination_type=destination_type,
            deliver_status="FAILED",
            deliver_error=error,
            destination=f"arn:aws:s3:::flow-logs-{ACCOUNT}/vpc-a/"
            if destination_type == "s3"
            else f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/flow-logs",
        )
        .build()
    )
    assert run_rule(DESTINATION_MISSING, snap).findings == ()
    f = only(run_rule(DELIVERY_FAILED, snap))
    assert f.evidence["error"] == error
    assert f.evidence["meaning"] == DELIVERY_ERRORS[error.lower()]


def test_flow_log_naming_no_destination() -> None:
    snap = vpc().flow_log("fl-s3", "vpc-a", destination="").build()
    f = only(run_rule(DESTINATION_MISSING, snap))
    assert f.evidence["how_known"] == "the flow log names no destination"
    # A replacement first, then the deletion: the resource is never left unlogged.
    assert f.remediation == cmd(
        "aws ec2 create-flow-logs --resource-type VPC --resource-ids vpc-a --traffic-type ALL "
        "--log-destination-type s3 --log-destination arn:aws:s3:::"
        + ask("LOG_BUCKET", "the S3 bucket for flow logs")
        + "/vpc-flow-logs/ "
        "&& aws ec2 delete-flow-logs --flow-log-ids fl-s3"
    )


def test_s3_destination_is_not_checked_against_log_groups() -> None:
    snap = vpc().flow_log("fl-s3", "vpc-a", **FAILED).log_group("/vpc/other").build()
    assert run_rule(DESTINATION_MISSING, snap).findings == ()


def test_inactive_flow_log_is_not_judged() -> None:
    snap = cwl(status="INACTIVE", **FAILED).log_group("/vpc/other").build()
    assert run_rule(DESTINATION_MISSING, snap).findings == ()


def test_cloudwatch_group_in_another_account_is_looked_for_there() -> None:
    """Cross-account delivery: the group lives in the ARN's account, not the flow log's."""
    foreign = f"arn:aws:logs:{REGION}:{OTHER_ACCOUNT}:log-group:/central/flow"
    # The other account was not scanned: its log groups are unknown, so nothing is claimed.
    snap = cwl(destination=foreign, **FAILED).log_group("/vpc/other").build()
    assert run_rule(DESTINATION_MISSING, snap).findings == ()
    # Scanned, with the group present there: fine; absent there: a finding naming it.
    there = {"account": OTHER_ACCOUNT}
    present = cwl(destination=foreign, **FAILED).log_group("/central/flow", **there).build()
    assert run_rule(DESTINATION_MISSING, present).findings == ()
    absent = cwl(destination=foreign, **FAILED).log_group("/elsewhere", **there).build()
    f = only(run_rule(DESTINATION_MISSING, absent))
    assert f.evidence["how_known"] == (
        f"log group '/central/flow' is not among {OTHER_ACCOUNT}'s log groups in {REGION}, "
        f"and delivery fails ({ROLE_ERROR})"
    )
    # The group is recreated where it lives: the other account and its region.
    assert f.remediation == cmd(
        "aws logs create-log-group --log-group-name /central/flow", OTHER_ACCOUNT
    )
