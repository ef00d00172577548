"""The golden-file fixture shared by the report tests (SARIF, Markdown, CSV).

The input is tests/fixtures/golden/report_snapshot.json, a snapshot built by
`build_golden_snapshot()` below and evaluated with the shipped default policy plus
tests/fixtures/golden/waivers.yaml, by the four rules whose ids design.md fixes (so adding a
rule does not rewrite the golden reports). The expected reports sit next to it:

    tests/fixtures/golden/report.sarif
    tests/fixtures/golden/report.md
    tests/fixtures/golden/report.csv

They are compared byte for byte. After an intended change to a reporter (or to the builder
below), regenerate them all and review the diff before committing:

    VPCAUDIT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest \
        tests/test_report_sarif.py tests/test_report_markdown.py tests/test_report_csv.py

The same reports come from the command line, run from the repository root, with a policy
that turns every other installed rule off (`only_contract_rules_policy()` writes one):

    vpcaudit evaluate tests/fixtures/golden/report_snapshot.json --policy ONLY4.yaml \
        --policy tests/fixtures/golden/waivers.yaml --format markdown
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.builders import (
    ACCOUNT,
    EXTERNAL_ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    Side,
    SnapshotBuilder,
    hours_from_now,
    route,
    write_fixture,
)
from vpcaudit.evaluate import evaluate
from vpcaudit.inventory import Inventory
from vpcaudit.policy import Policy, default_policy_text, parse_policy
from vpcaudit.report import Format, ReportData
from vpcaudit.report.outputs import OutputPlan, build_report
from vpcaudit.rules.base import Rule
from vpcaudit.rules.registry import load_rules
from vpcaudit.snapshot import Snapshot

REPO = Path(__file__).resolve().parent.parent
GOLDEN_DIR = REPO / "tests" / "fixtures" / "golden"
SNAPSHOT = GOLDEN_DIR / "report_snapshot.json"
WAIVERS = GOLDEN_DIR / "waivers.yaml"
WAIVERS_SOURCE = "tests/fixtures/golden/waivers.yaml"
"""How the CLI names the waiver file when run from the repository root."""
UPDATE_ENV = "VPCAUDIT_UPDATE_GOLDEN"

GOLDEN_NAMES = {
    Format.SARIF: "report.sarif",
    Format.MARKDOWN: "report.md",
    Format.CSV: "report.csv",
}


def updating() -> bool:
    """True when the golden files are to be rewritten instead of compared."""
    return os.environ.get(UPDATE_ENV, "") not in ("", "0")


def build_golden_snapshot() -> SnapshotBuilder:
    """Two accounts, two regions, one coverage gap, and a peering of every kind a report draws.

    - pcx-0twoway: hub <-> app, routed on both sides (ok)
    - pcx-0oneway: hub -> data, no route back (peering-route-one-way)
    - pcx-0pending: hub -> ml, awaiting acceptance, expires in 20 h (peering-pending-expiring)
    - pcx-0gone: deleted; hub still routes to it, the route is a blackhole
    - pcx-0extern: hub <-> a VPC of an external account that was not scanned (unverifiable)
    - vpce-0s3iface: an S3 interface endpoint in a VPC with nothing that needs it (waste)
    - vpc-0app has no flow log (waived in waivers.yaml); vpc-0lake has none either
    - 222222222222 eu-west-1: DescribeFlowLogs was denied (a gap; the scan is incomplete)
    """
    b = SnapshotBuilder(org_account_ids=[ACCOUNT, OTHER_ACCOUNT])
    b.account(ACCOUNT, "network").account(OTHER_ACCOUNT, "app")
    # 111111111111 us-east-1: the hub, and a data-lake VPC with an S3 interface endpoint.
    b.vpc("vpc-0hub", "10.0.0.0/16", name="hub")
    b.subnet("subnet-0hub", "vpc-0hub", "10.0.1.0/24")
    b.route_table(
        "rtb-0hub",
        "vpc-0hub",
        main=True,
        subnets=["subnet-0hub"],
        routes=[
            route("10.1.0.0/16", "pcx-0twoway"),
            route("10.2.0.0/16", "pcx-0oneway"),
            route("10.4.0.0/16", "pcx-0gone", state="blackhole"),
            route("172.16.0.0/16", "pcx-0extern"),
        ],
    )
    b.flow_log("fl-0hub", "vpc-0hub")
    b.vpc("vpc-0lake", "10.9.0.0/16", name="lake")
    b.subnet("subnet-0lakea", "vpc-0lake", "10.9.1.0/24", az="a")
    b.subnet("subnet-0lakeb", "vpc-0lake", "10.9.2.0/24", az="b")
    b.route_table("rtb-0lake", "vpc-0lake", main=True)
    b.endpoint("vpce-0s3iface", "vpc-0lake", "s3", subnets=["subnet-0lakea", "subnet-0lakeb"])
    # 222222222222 us-east-1: the app VPC, routed back to the hub.
    b.vpc("vpc-0app", "10.1.0.0/16", account=OTHER_ACCOUNT, name="app")
    b.subnet("subnet-0app", "vpc-0app", "10.1.1.0/24", account=OTHER_ACCOUNT)
    b.route_table(
        "rtb-0app",
        "vpc-0app",
        main=True,
        subnets=["subnet-0app"],
        routes=[route("10.0.0.0/16", "pcx-0twoway")],
        account=OTHER_ACCOUNT,
    )
    # 222222222222 eu-west-1: data (no route back), ml (pending), old (peering deleted).
    where = {"account": OTHER_ACCOUNT, "region": OTHER_REGION}
    b.vpc("vpc-0data", "10.2.0.0/16", name="data", **where)
    b.subnet("subnet-0data", "vpc-0data", "10.2.1.0/24", **where)
    b.route_table("rtb-0data", "vpc-0data", main=True, subnets=["subnet-0data"], **where)
    b.vpc("vpc-0ml", "10.3.0.0/16", name="ml", **where)
    b.vpc("vpc-0old", "10.4.0.0/16", name="old", **where)
    b.gap("DescribeFlowLogs", **where)
    b.peering("pcx-0twoway", "vpc-0hub", "vpc-0app")
    b.peering("pcx-0oneway", "vpc-0hub", "vpc-0data")
    b.peering(
        "pcx-0pending",
        "vpc-0hub",
        "vpc-0ml",
        status="pending-acceptance",
        expires=hours_from_now(20),
    )
    b.peering("pcx-0gone", "vpc-0hub", "vpc-0old", status="deleted")
    b.peering(
        "pcx-0extern",
        "vpc-0hub",
        Side(EXTERNAL_ACCOUNT, "us-west-2", "vpc-0partner", ("172.16.0.0/16",)),
    )
    return b


def write_golden_snapshot() -> None:
    """Rewrite the snapshot fixture from the builder."""
    write_fixture(build_golden_snapshot().build(), SNAPSHOT)


CONTRACT_RULES = (
    "endpoint-interface-for-gateway-service",
    "peering-pending-expiring",
    "peering-route-one-way",
    "vpc-flow-logs-missing",
)
"""The rule ids design.md fixes: the golden reports are made by these alone."""


def installed_rules() -> dict[str, Rule[Any]]:
    """Every installed rule, as the CLI loads them."""
    return {k: v.rule for k, v in load_rules().items()}


def rules() -> dict[str, Rule[Any]]:
    """The four contract rules, as installed."""
    installed = installed_rules()
    return {k: installed[k] for k in CONTRACT_RULES}


def only_contract_rules_policy(path: Path) -> Path:
    """Write a policy that turns off every installed rule but the contract ones."""
    others = sorted(set(installed_rules()) - set(CONTRACT_RULES))
    lines = ["version: 1", "rules:" if others else "rules: {}"]
    lines += [f"  {rule_id}:\n    enabled: false" for rule_id in others]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def golden_policy() -> Policy:
    """The shipped default policy overridden by waivers.yaml, named as the CLI names it."""
    installed = installed_rules()  # the default policy names every installed rule
    default = parse_policy(default_policy_text(), "<built-in default.yaml>", installed)
    return default.merged(parse_policy(WAIVERS.read_text("utf-8"), WAIVERS_SOURCE, installed))


def report_for(snap: Snapshot, plan: OutputPlan | None = None) -> ReportData:
    """Evaluate a snapshot with the golden policy, as `vpcaudit evaluate` does."""
    rule_map = rules()
    inv = Inventory.from_snapshot(snap)
    evaluation = evaluate(inv, rule_map, golden_policy())
    return build_report(snap, inv, evaluation, rule_map, plan or OutputPlan())


def golden_report() -> ReportData:
    """The report of the saved golden snapshot (rewritten first when updating)."""
    if updating():
        write_golden_snapshot()
    return report_for(Snapshot.load(SNAPSHOT))


def check_golden(name: str, text: str) -> None:
    """Compare text with tests/fixtures/golden/<name> byte for byte (or rewrite it)."""
    path = GOLDEN_DIR / name
    data = text.encode("utf-8")
    if updating():
        path.write_bytes(data)
        return
    assert path.exists(), f"{path} is missing; create it with {UPDATE_ENV}=1 (see {__name__})"
    expected = path.read_bytes()
    assert data == expected, (
        f"{name} differs from the golden file; if the change is intended, regenerate with "
        f"{UPDATE_ENV}=1 and review the diff (see tests/report_golden.py)"
    )
