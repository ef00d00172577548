"""CSV report: header, one row per finding (waived ones marked), round-trips through csv."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.builders import with_items
from tests.report_golden import (
    GOLDEN_DIR,
    REPO,
    SNAPSHOT,
    WAIVERS_SOURCE,
    check_golden,
    golden_report,
    only_contract_rules_policy,
    report_for,
)
from vpcaudit import cli
from vpcaudit.report import ReportData, csv_report, json_report
from vpcaudit.snapshot import Snapshot

HEADER = [
    "rule_id",
    "severity",
    "account_id",
    "account_name",
    "region",
    "resource_type",
    "resource_id",
    "resource_arn",
    "message",
    "remediation",
    "evidence",
    "fingerprint",
    "suppressed",
    "waiver_reason",
    "baseline",
]


@pytest.fixture(scope="module")
def data() -> ReportData:
    return golden_report()


@pytest.fixture(scope="module")
def rows(data: ReportData) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_report.render(data))))


def test_golden(data: ReportData) -> None:
    check_golden("report.csv", csv_report.render(data))


def test_rendering_is_stable_and_independent_of_item_order(data: ReportData) -> None:
    text = csv_report.render(data)
    assert csv_report.render(data) == text
    assert csv_report.render(golden_report()) == text
    snap = Snapshot.load(SNAPSHOT)
    reversed_items = with_items(snap, lambda xs: list(reversed(xs)))
    assert csv_report.render(report_for(reversed_items)) == text


def test_cli_writes_the_golden_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    out = tmp_path / "report.csv"
    only4 = str(only_contract_rules_policy(tmp_path / "only4.yaml"))
    snap = str(SNAPSHOT.relative_to(REPO))
    argv = ["evaluate", snap, "--policy", only4, "--policy", WAIVERS_SOURCE]
    code = cli.main([*argv, "--format", "csv", "--output", str(out), "--allow-partial"])
    assert code == 1, capsys.readouterr().err
    assert out.read_bytes() == (GOLDEN_DIR / "report.csv").read_bytes()


def test_header_is_the_documented_columns(data: ReportData) -> None:
    first = csv_report.render(data).splitlines()[0]
    assert first.split(",") == HEADER
    assert list(csv_report.COLUMNS) == HEADER


def test_one_row_per_finding_in_report_order(data: ReportData, rows: list[dict[str, str]]) -> None:
    findings = data.evaluation.findings
    assert len(findings) == 5
    assert len(rows) == len(findings)
    assert [r["fingerprint"] for r in rows] == [f.fingerprint for f in findings]
    assert len({r["fingerprint"] for r in rows}) == len(rows)


def test_rows_parse_back_to_the_json_report(data: ReportData, rows: list[dict[str, str]]) -> None:
    for row, doc in zip(rows, json_report.report_dict(data)["findings"], strict=True):
        for key in (
            "rule_id",
            "severity",
            "account_id",
            "region",
            "resource_type",
            "resource_id",
            "resource_arn",
            "message",
            "remediation",
            "fingerprint",
        ):
            assert row[key] == doc[key], key
        assert json.loads(row["evidence"]) == doc["evidence"]
        assert row["suppressed"] == ("true" if doc["suppressed"] else "false")
        assert row["baseline"] == ""
    names = {r["account_id"]: r["account_name"] for r in rows}
    assert names == {"111111111111": "network", "222222222222": "app"}


def test_multiline_and_quoted_cells_survive(rows: list[dict[str, str]]) -> None:
    endpoint = next(r for r in rows if r["resource_id"] == "vpce-0s3iface")
    commands = endpoint["remediation"].splitlines()
    assert len(commands) == 2
    assert commands[0].startswith("aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway")
    assert commands[1].startswith("aws ec2 delete-vpc-endpoints --vpc-endpoint-ids vpce-0s3iface")
    assert json.loads(endpoint["evidence"])["monthly_cost_usd"] == 14.6
    one_way = next(r for r in rows if r["resource_id"] == "pcx-0oneway")
    assert ", " in one_way["message"]  # commas inside a cell stay in the cell


def test_waived_rows_are_kept_and_marked(rows: list[dict[str, str]]) -> None:
    waived = [r for r in rows if r["suppressed"] == "true"]
    assert [(r["rule_id"], r["resource_id"]) for r in waived] == [
        ("vpc-flow-logs-missing", "vpc-0app")
    ]
    assert waived[0]["waiver_reason"] == "Sandbox VPC, torn down nightly; no production traffic."
    live = [r for r in rows if r["suppressed"] == "false"]
    assert len(live) == 4
    assert all(r["waiver_reason"] == "" for r in live)


def test_evidence_is_sorted_json(rows: list[dict[str, str]]) -> None:
    for r in rows:
        evidence = json.loads(r["evidence"])
        assert isinstance(evidence, dict) and evidence
        assert r["evidence"] == json.dumps(evidence, sort_keys=True)


def test_no_findings_gives_the_header_only(data: ReportData) -> None:
    empty = replace(data, evaluation=replace(data.evaluation, findings=()))
    assert csv_report.render(empty) == ",".join(HEADER) + "\n"
