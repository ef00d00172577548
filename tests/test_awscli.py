"""Copy-paste commands: the region flag is part of the command, never of its comment."""

from __future__ import annotations

import shlex

from tests.builders import SnapshotBuilder
from vpcaudit.awscli import cli
from vpcaudit.evaluate import evaluate
from vpcaudit.inventory import Inventory
from vpcaudit.policy import Policy
from vpcaudit.rules.registry import load_rules


def _argv(line: str) -> list[str]:
    """The words the shell runs (a `#` word and what follows is a comment)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    return list(lexer)


def test_region_goes_before_a_comment_the_command_carries() -> None:
    line = cli("aws ec2 describe-flow-logs --flow-log-ids fl-1  # then fix it", "eu-west-1", "1")
    assert _argv(line)[-2:] == ["--region", "eu-west-1"]
    assert line.endswith("# as account 1; then fix it")


def test_a_hash_inside_a_quoted_word_is_not_a_comment() -> None:
    line = cli("aws ec2 create-tags --tags 'Key=a,Value=x # y'", "us-east-1", "1")
    assert _argv(line)[-2:] == ["--region", "us-east-1"]
    assert "Key=a,Value=x # y" in _argv(line)


def test_every_rule_command_runs_in_the_finding_region() -> None:
    """The flow-log delivery fix once put --region after its own comment: the shell dropped it
    and the command ran in the profile's default region."""
    b = SnapshotBuilder()
    b.vpc("vpc-00000000000000001", "10.0.0.0/16")
    b.log_group("/vpc/flow")
    b.flow_log(
        "fl-00000000000000001",
        "vpc-00000000000000001",
        deliver_status="FAILED",
        destination_type="cloud-watch-logs",
        deliver_error="Access error",
        log_group="/vpc/flow",
    )
    rules = {k: v.rule for k, v in load_rules().items()}
    ev = evaluate(Inventory.from_snapshot(b.build()), rules, Policy())
    lines = [
        line
        for f in ev.findings
        for line in f.remediation.splitlines()
        if line.lstrip().startswith("aws ")
    ]
    assert any("describe-flow-logs" in x for x in lines)
    for line in lines:
        argv = _argv(line)
        assert "--region" in argv, line
        assert argv[argv.index("--region") + 1] == "us-east-1", line
