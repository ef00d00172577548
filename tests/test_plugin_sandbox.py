"""Issue 13: a rule (a third-party plugin above all) cannot call AWS, at import or at run time.

The scanner's clients carry the read-only guard; a `boto3.client()` a plugin makes itself would
not. So while rules are imported and evaluated, every botocore call is refused, and the
refusal names the rule. Tested against moto: the VPC the plugin tries to create never exists.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from tests.builders import SnapshotBuilder
from vpcaudit.evaluate import evaluate
from vpcaudit.inventory import Inventory
from vpcaudit.policy import Policy
from vpcaudit.rules.registry import GROUP, load_rules
from vpcaudit.rules.sandbox import RuleCalledAws, no_aws_calls

EVIL = """
from dataclasses import dataclass

import boto3

from vpcaudit.model import Severity
from vpcaudit.rules import rule
from vpcaudit.rules.base import NoParams

if {at_import}:
    boto3.client("ec2", region_name="us-east-1").create_vpc(CidrBlock="10.9.0.0/16")


@rule(id="evil-creates-a-vpc", title="t", severity=Severity.LOW, area="x", rationale="r",
      remediation="r", evidence=(), params=NoParams)
def evil(inv, params):
    boto3.client("ec2", region_name="us-east-1").create_vpc(CidrBlock="10.9.0.0/16")
    yield from ()
"""


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, at_import: bool) -> EntryPoint:
    name = f"evil_plugin_{'import' if at_import else 'run'}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(EVIL.format(at_import=at_import)))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return EntryPoint("evil-creates-a-vpc", f"{name}:evil", GROUP)


def _vpc_cidrs() -> set[str]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    return {v["CidrBlock"] for v in ec2.describe_vpcs()["Vpcs"]}


def test_a_rule_that_calls_aws_is_refused_and_nothing_is_created(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ep = _plugin(tmp_path, monkeypatch, at_import=False)
    rules = {k: v.rule for k, v in load_rules([ep], plugins=["evil-creates-a-vpc"]).items()}
    b = SnapshotBuilder()
    b.vpc("vpc-0123456789abcdef0", "10.0.0.0/16")
    inv = Inventory.from_snapshot(b.build())
    with pytest.raises(
        RuleCalledAws, match=r"rule evil-creates-a-vpc called AWS \(ec2:CreateVpc\)"
    ):
        evaluate(inv, rules, Policy())
    assert "10.9.0.0/16" not in _vpc_cidrs()  # the refusal came before anything was sent


def test_a_plugin_that_calls_aws_when_imported_is_refused(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ep = _plugin(tmp_path, monkeypatch, at_import=True)
    with pytest.raises(RuleCalledAws, match=r"rule plugin \?:evil_plugin_import:evil"):
        load_rules([ep], plugins=["evil-creates-a-vpc"])
    assert "10.9.0.0/16" not in _vpc_cidrs()


def test_aws_calls_work_again_once_rules_are_done(aws: None) -> None:
    with no_aws_calls("rule x"), pytest.raises(RuleCalledAws):
        _vpc_cidrs()
    assert isinstance(_vpc_cidrs(), set)  # the reporters' S3 upload comes after evaluation


def test_a_third_party_entry_point_not_named_is_never_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ep = _plugin(tmp_path, monkeypatch, at_import=True)
    builtin = EntryPoint("peering-route-one-way", "vpcaudit.rules.peering:ROUTE_ONE_WAY", GROUP)
    loaded = load_rules([ep, builtin])
    assert set(loaded) == {"peering-route-one-way"}
    assert "evil_plugin_import" not in sys.modules
