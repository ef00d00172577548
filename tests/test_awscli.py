"""Copy-paste commands: the region flag is part of the command, never of its comment."""

from __future__ import annotations

import random
import shlex

from tests.builders import SnapshotBuilder
from vpcaudit.awscli import _split_comment, cli
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


def _split_char_by_char(command: str) -> tuple[str, str]:
    """The shell's rule, one character at a time: the reference for the fast split."""
    quote = ""
    for i, c in enumerate(command):
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or command[i - 1].isspace()):
            return command[:i].rstrip(), command[i + 1 :].strip()
    return command, ""


def test_the_comment_split_agrees_with_the_shell_rule_on_every_short_string() -> None:
    """Quotes left open, a `#` after a tab or a no-break space, at the start, in a word."""
    rng = random.Random(15)  # noqa: S311 - reproducible test input, not a secret
    alphabet = "ab #'\"\t\n\u00a0"
    for _ in range(50_000):
        command = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert _split_comment(command) == _split_char_by_char(command), repr(command)


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
