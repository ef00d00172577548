"""SARIF 2.1.0: valid against the OASIS schema, accepted by GitHub code scanning, golden.

The demo organization is scanned once for the whole module, by the command line, writing every
format from that one scan (`--format table --output-json ... --output-sarif ...`); the SARIF
tests read those files.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import structlog

from tests.builders import FIXTURES, with_items
from tests.report_golden import (
    CONTRACT_RULES,
    GOLDEN_DIR,
    REPO,
    SNAPSHOT,
    WAIVERS_SOURCE,
    check_golden,
    golden_report,
    installed_rules,
    only_contract_rules_policy,
    report_for,
)
from vpcaudit import cli
from vpcaudit.errors import VpcauditError
from vpcaudit.model import Severity
from vpcaudit.report import ReportData, sarif
from vpcaudit.snapshot import Snapshot

SCHEMA = json.loads((FIXTURES / "sarif" / "sarif-schema-2.1.0.json").read_text("utf-8"))
# GitHub's bands for security-severity (docs: "SARIF support for code scanning").
BANDS = {
    Severity.CRITICAL: (9.0, 10.0),
    Severity.HIGH: (7.0, 8.9),
    Severity.MEDIUM: (4.0, 6.9),
    Severity.LOW: (0.1, 3.9),
    Severity.INFO: (0.1, 3.9),  # GitHub has no band below low
}
LEVEL_OF = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
LEVELS = set(LEVEL_OF.values())
# github/codeql-action writes primaryLocationLineHash as a 64-bit hash in hex and ":<n>", the
# occurrence of that hash in the file (src/fingerprints.ts).
LINE_HASH = re.compile(r"[0-9a-f]{16}:1")


def schema_errors(doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft4Validator(SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


@dataclass(frozen=True)
class CliRun:
    code: int
    stdout: str
    stderr: str


def run_main(argv: list[str]) -> CliRun:
    """cli.main in-process with stdout and stderr captured (usable from module fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main([str(a) for a in argv])
    finally:
        structlog.reset_defaults()
    return CliRun(code, out.getvalue(), err.getvalue())


@dataclass(frozen=True)
class DemoRun:
    dir: Path
    run: CliRun
    waived: CliRun

    def text(self, name: str) -> str:
        return (self.dir / name).read_text("utf-8")

    def json(self, name: str) -> Any:
        return json.loads(self.text(name))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """One demo scan writing every format, then its snapshot re-evaluated with a waiver."""
    d = tmp_path_factory.mktemp("demo")
    run = run_main(
        [
            "scan",
            "--demo",
            "--format",
            "table",
            "--output-json",
            d / "a.json",
            "--output-sarif",
            d / "a.sarif",
            "--output-markdown",
            d / "a.md",
            "--output-csv",
            d / "a.csv",
            "--save-snapshot",
            d / "snap.json",
        ]
    )
    policy = d / "waive.yaml"
    policy.write_text(
        "version: 1\nwaivers:\n  - rule: vpc-flow-logs-missing\n"
        "    reason: Demo VPCs; flow logs are not wanted here.\n    owner: demo-team\n",
        encoding="utf-8",
    )
    waived = run_main(
        [
            "evaluate",
            d / "snap.json",
            "--policy",
            policy,
            "--format",
            "sarif",
            "--output",
            d / "waived.sarif",
        ]
    )
    yield DemoRun(d, run, waived)


@pytest.fixture(scope="module")
def demo_sarif(demo: DemoRun) -> dict[str, Any]:
    assert demo.run.code == 1, demo.run.stderr  # the demo has findings, and is complete
    return demo.json("a.sarif")


@pytest.fixture(scope="module")
def demo_json(demo: DemoRun) -> dict[str, Any]:
    return demo.json("a.json")


# -- the demo organization ---------------------------------------------------------------------


def test_schema_fixture_is_the_official_sarif_schema() -> None:
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert SCHEMA["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    # The validator is not vacuous: a result without a message is refused.
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{}]}]}
    assert schema_errors(bad)


def test_demo_sarif_validates_against_the_official_schema(demo_sarif: dict[str, Any]) -> None:
    assert schema_errors(demo_sarif) == []
    assert demo_sarif["version"] == "2.1.0"


def test_demo_sarif_has_every_finding_and_nothing_else(
    demo_sarif: dict[str, Any], demo_json: dict[str, Any]
) -> None:
    results = demo_sarif["runs"][0]["results"]
    assert 0 < len(results) <= sarif.MAX_RESULTS_PER_RUN
    assert len(results) == len(demo_json["findings"])
    rule_ids = {r["ruleId"] for r in results}
    assert rule_ids == {f["rule_id"] for f in demo_json["findings"]}
    assert set(CONTRACT_RULES) <= rule_ids  # the demo shows the four contract rules


def test_demo_sarif_has_one_run_with_automation_details(
    demo_sarif: dict[str, Any], demo_json: dict[str, Any]
) -> None:
    assert len(demo_sarif["runs"]) == 1
    run = demo_sarif["runs"][0]
    auto = run["automationDetails"]["id"]
    assert auto
    category, _, run_id = auto.rpartition("/")
    assert category.startswith("vpcaudit/")
    assert run_id == demo_json["scan"]["started_at"]
    assert run["tool"]["driver"]["name"] == "vpcaudit"


def test_demo_results_pass_github_upload_rules(
    demo_sarif: dict[str, Any], demo_json: dict[str, Any]
) -> None:
    run = demo_sarif["runs"][0]
    descriptors = run["tool"]["driver"]["rules"]
    rule_ids = [r["id"] for r in descriptors]
    findings = {f["fingerprint"]: f for f in demo_json["findings"]}
    line_hashes: list[str] = []
    for result in run["results"]:
        assert result["ruleId"] in rule_ids
        if "ruleIndex" in result:
            assert descriptors[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in LEVELS
        assert result["message"]["text"].strip()
        assert len(result["locations"]) == 1
        loc = result["locations"][0]
        uri = loc["physicalLocation"]["artifactLocation"]["uri"]
        assert not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri), uri  # no scheme, no arn:
        assert not uri.startswith("/") and "arn:" not in uri and ".." not in uri.split("/")
        assert loc["physicalLocation"]["region"]["startLine"] == 1
        fps = result["partialFingerprints"]
        assert fps and all(isinstance(v, str) and v for v in fps.values())
        assert set(fps) == {"primaryLocationLineHash", "vpcauditFindingHash/v1"}
        f = findings[fps["vpcauditFindingHash/v1"]]
        # GitHub matches alerts across uploads by primaryLocationLineHash alone, and its upload
        # action cannot compute it for a file that is not in the checkout: we must send it.
        assert not (REPO / uri).exists()
        assert LINE_HASH.fullmatch(fps["primaryLocationLineHash"]), fps
        assert fps["primaryLocationLineHash"] == sarif.line_hash(f["fingerprint"])
        line_hashes.append(fps["primaryLocationLineHash"])
        assert uri == (
            f"aws/{f['account_id']}/{f['region']}/{f['resource_type']}/{f['resource_id']}"
        )
        logical = loc["logicalLocations"]
        assert [x["fullyQualifiedName"] for x in logical] == [f["resource_arn"]]
        assert f["resource_arn"].startswith("arn:aws:ec2:")
        assert result["ruleId"] == f["rule_id"]
        assert result["properties"]["evidence"] == f["evidence"]
        assert "suppressions" not in result  # nothing is waived in the plain demo
    assert len(set(line_hashes)) == len(line_hashes) > 0  # one alert per finding


def test_demo_levels_follow_finding_severity(
    demo_sarif: dict[str, Any], demo_json: dict[str, Any]
) -> None:
    severity = {f["fingerprint"]: f["severity"] for f in demo_json["findings"]}
    expected = {
        "critical": "error",
        "high": "error",
        "medium": "warning",
        "low": "note",
        "info": "note",
    }
    for result in demo_sarif["runs"][0]["results"]:
        fp = result["partialFingerprints"]["vpcauditFindingHash/v1"]
        assert result["level"] == expected[severity[fp]]


def test_demo_rules_pass_github_upload_rules(
    demo_sarif: dict[str, Any], demo_json: dict[str, Any]
) -> None:
    descriptors = demo_sarif["runs"][0]["tool"]["driver"]["rules"]
    loaded = installed_rules()
    # GitHub reads security-severity from the rule only, so each rule carries the most severe
    # severity among its results (graded or overridden by policy), or its default if none.
    top: dict[str, Severity] = {}
    for f in demo_json["findings"]:
        sev = Severity(f["severity"])
        if f["rule_id"] not in top or sev.rank > top[f["rule_id"]].rank:
            top[f["rule_id"]] = sev
    assert set(top) <= {r["id"] for r in descriptors}
    assert len({r["id"] for r in descriptors}) == len(descriptors)
    for rule in descriptors:
        for key in ("shortDescription", "fullDescription"):
            assert rule[key]["text"].strip(), (rule["id"], key)
        assert rule["name"]
        assert rule["help"]["text"].strip()
        assert rule["help"]["markdown"].strip()
        assert loaded[rule["id"]].remediation in rule["help"]["text"]
        tags = rule["properties"]["tags"]
        assert "security" in tags
        assert len(tags) <= sarif.MAX_TAGS_PER_RULE
        assert len(set(tags)) == len(tags)
        severity = top.get(rule["id"], loaded[rule["id"]].severity)
        score = float(rule["properties"]["security-severity"])
        low, high = BANDS[severity]
        assert low <= score <= high, (rule["id"], severity, score)
        if severity is Severity.CRITICAL:
            assert score > 9.0
        assert rule["defaultConfiguration"]["level"] in LEVELS
        assert rule["defaultConfiguration"]["level"] == LEVEL_OF[severity], rule["id"]
        assert rule["properties"]["problem.severity"] == LEVEL_OF[severity], rule["id"]


def test_demo_waived_findings_carry_accepted_suppressions(demo: DemoRun) -> None:
    assert demo.waived.code == 1, demo.waived.stderr  # other findings still count
    doc = demo.json("waived.sarif")
    assert schema_errors(doc) == []
    results = doc["runs"][0]["results"]
    waived = [r for r in results if r["ruleId"] == "vpc-flow-logs-missing"]
    assert waived
    for r in waived:
        (s,) = r["suppressions"]
        assert s["status"] == "accepted"
        assert s["kind"] == "external"
        assert "Demo VPCs; flow logs are not wanted here." in s["justification"]
        assert "waive.yaml:3" in s["justification"]
    assert all("suppressions" not in r for r in results if r["ruleId"] != "vpc-flow-logs-missing")
    # Waived findings are still reported with the same identity.
    plain = demo.json("a.sarif")["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in results] == [r["partialFingerprints"] for r in plain]


# -- several outputs from one scan ---------------------------------------------------------------


def test_one_scan_writes_every_requested_file(demo: DemoRun) -> None:
    for name in ("a.json", "a.sarif", "a.md", "a.csv", "snap.json"):
        assert (demo.dir / name).stat().st_size > 0, name
    assert demo.run.stderr == ""
    # The main format went to stdout: the terminal table, not one of the files.
    assert demo.run.stdout
    assert not demo.run.stdout.lstrip().startswith(("{", "#", "rule_id"))
    assert "vpc-flow-logs-missing" in demo.run.stdout


def test_every_file_comes_from_the_same_scan(demo: DemoRun) -> None:
    doc = demo.json("a.json")
    started = doc["scan"]["started_at"]
    fingerprints = [f["fingerprint"] for f in doc["findings"]]
    assert len(set(fingerprints)) == len(fingerprints) > 0

    run = demo.json("a.sarif")["runs"][0]
    assert [r["partialFingerprints"]["vpcauditFindingHash/v1"] for r in run["results"]] == (
        fingerprints
    )
    assert run["invocations"][0]["startTimeUtc"] == started
    assert run["automationDetails"]["id"].endswith(f"/{started}")

    rows = list(csv.DictReader(io.StringIO(demo.text("a.csv"))))
    assert [r["fingerprint"] for r in rows] == fingerprints

    md = demo.text("a.md")
    assert f"| Scanned | {started} to {doc['scan']['finished_at']} |" in md
    for f in doc["findings"]:
        assert f"`{f['resource_id']}`" in md

    snap = json.loads(demo.text("snap.json"))
    assert snap["started_at"] == started


def test_demo_markdown_renders_its_diagram(demo: DemoRun) -> None:
    md = demo.text("a.md")
    block = re.findall(r"```mermaid\n(.*?)\n```", md, flags=re.S)
    # The peering topology, and the peering group the mesh advisor speaks about.
    assert len(block) == 2
    assert all(b.startswith("flowchart LR\n") for b in block)
    assert "linkStyle" in block[0]  # the demo has a one-way and a pending peering
    assert "## Peering groups that could use a Transit Gateway" in md


# -- GitHub's limits ------------------------------------------------------------------------------


def _with_findings(data: ReportData, n: int) -> ReportData:
    base = data.evaluation.findings[0]
    many = tuple(replace(base, fingerprint=f"{i:032x}") for i in range(n))
    return replace(data, evaluation=replace(data.evaluation, findings=many))


@pytest.fixture(scope="module")
def data() -> ReportData:
    return golden_report()


def test_more_results_than_github_accepts_is_refused_not_truncated(data: ReportData) -> None:
    too_many = _with_findings(data, sarif.MAX_RESULTS_PER_RUN + 1)
    with pytest.raises(sarif.SarifLimitError) as info:
        sarif.sarif_dict(too_many)
    assert isinstance(info.value, VpcauditError)
    message = str(info.value)
    assert "25001 findings" in message and "25000 results per SARIF run" in message
    assert "\n" not in message
    # Exactly at the limit is fine, and nothing is dropped.
    at_limit = sarif.sarif_dict(_with_findings(data, sarif.MAX_RESULTS_PER_RUN))
    assert len(at_limit["runs"][0]["results"]) == sarif.MAX_RESULTS_PER_RUN == 25_000


def test_gzip_size_over_the_limit_is_refused(
    data: ReportData, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sarif, "MAX_GZIP_BYTES", 200)
    with pytest.raises(sarif.SarifLimitError, match=r"MB gzipped, over GitHub's 10 MB"):
        sarif.render(data)


def test_over_the_limit_sarif_warns_once_and_the_other_formats_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sarif, "MAX_RESULTS_PER_RUN", 2)  # the golden snapshot has more
    out, js, md = tmp_path / "out.sarif", tmp_path / "out.json", tmp_path / "out.md"
    argv = ["evaluate", str(SNAPSHOT), "--allow-partial", "--fail-on", "none"]
    code = cli.main([*argv, "--format", "sarif", "-o", str(out), "--output-json", str(js)])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out == ""
    assert re.fullmatch(
        r"vpcaudit: warning: SARIF not written to \S+out\.sarif: (\d+) findings exceed GitHub's 2 "
        r"results per SARIF run; .* or use --sarif-split\n",
        captured.err,
    )
    assert not out.exists()
    assert json.loads(js.read_text("utf-8"))["findings"]
    # As an extra output, or on stdout: the same one line, and the other files are written.
    code = cli.main([*argv, "--output-sarif", str(out), "--output-markdown", str(md)])
    captured = capsys.readouterr()
    assert (code, captured.err.count("\n"), out.exists(), md.exists()) == (0, 1, False, True)
    assert "Traceback" not in captured.err
    code = cli.main([*argv, "--format", "sarif"])
    captured = capsys.readouterr()
    assert (code, captured.out, captured.err.count("\n")) == (0, "", 1)


def test_sarif_split_writes_valid_parts_each_under_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sarif, "MAX_RESULTS_PER_RUN", 2)
    out, js = tmp_path / "report.sarif", tmp_path / "report.json"
    argv = ["evaluate", str(SNAPSHOT), "--allow-partial", "--fail-on", "none", "--sarif-split"]
    code = cli.main(
        [*argv, "--output-sarif", str(out), "--sarif-category", "org/nightly", "-o", str(js)]
    )
    findings = json.loads(js.read_text("utf-8"))["findings"]
    assert (code, capsys.readouterr().err) == (0, "")
    assert not out.exists()
    parts = sorted(tmp_path.glob("report.*.sarif"), key=lambda p: int(p.name.split(".")[1]))
    n = len(parts)
    assert n >= -(-len(findings) // 2) and n > 1
    assert [p.name for p in parts] == [f"report.{i}.sarif" for i in range(1, n + 1)]
    fingerprints, categories = [], set()
    for part in parts:
        doc = json.loads(part.read_text("utf-8"))
        assert schema_errors(doc) == []
        (run,) = doc["runs"]
        assert 1 <= len(run["results"]) <= 2
        categories.add(run["automationDetails"]["id"].rsplit("/", 1)[0])
        fingerprints += [r["partialFingerprints"]["vpcauditFindingHash/v1"] for r in run["results"]]
    assert categories == {f"org/nightly/part-{i}" for i in range(1, n + 1)}
    # Nothing lost, nothing twice.
    assert sorted(fingerprints) == sorted(f["fingerprint"] for f in findings)


def test_sarif_split_parts_stay_under_the_gzip_limit(
    data: ReportData, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = len(gzip.compress(sarif.render(_with_findings(data, 3)).encode(), mtime=0))
    monkeypatch.setattr(sarif, "MAX_GZIP_BYTES", one)  # a few results per part, by size alone
    parts = sarif.render_parts(_with_findings(data, 40))
    assert len(parts) > 1
    assert sum(len(json.loads(p)["runs"][0]["results"]) for p in parts) == 40
    for p in parts:
        assert len(gzip.compress(p.encode(), mtime=0)) <= one
    # Under the limits, a split is the one ordinary log.
    monkeypatch.undo()
    assert sarif.render_parts(data) == [sarif.render(data)]


# -- golden ---------------------------------------------------------------------------------------


def test_golden(data: ReportData) -> None:
    check_golden("report.sarif", sarif.render(data))


def test_golden_sarif_is_valid_and_complete(data: ReportData) -> None:
    doc = json.loads((GOLDEN_DIR / "report.sarif").read_text("utf-8"))
    assert schema_errors(doc) == []
    run = doc["runs"][0]
    assert run["automationDetails"]["id"] == "vpcaudit/2-accounts-04481e2a/2024-06-01T11:58:00Z"
    assert run["properties"]["complete"] is False
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert (
        "222222222222 eu-west-1 ec2:DescribeFlowLogs: UnauthorizedOperation"
        in (note["message"]["text"])
    )
    for r in run["results"]:  # GitHub's alert key, from each finding's identity (item 20)
        fps = r["partialFingerprints"]
        assert fps["primaryLocationLineHash"] == sarif.line_hash(fps["vpcauditFindingHash/v1"])
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert [r["locations"][0]["logicalLocations"][0]["name"] for r in suppressed] == ["vpc-0app"]
    assert suppressed[0]["suppressions"][0]["justification"] == (
        "Sandbox VPC, torn down nightly; no production traffic. "
        "(waiver tests/fixtures/golden/waivers.yaml:4)"
    )


def test_rendering_is_stable_and_independent_of_item_order(data: ReportData) -> None:
    text = sarif.render(data)
    assert sarif.render(data) == text
    assert sarif.render(golden_report()) == text
    snap = Snapshot.load(SNAPSHOT)
    assert sarif.render(report_for(with_items(snap, lambda xs: list(reversed(xs))))) == text


def test_sarif_category_option(data: ReportData) -> None:
    doc = sarif.sarif_dict(data, "nightly/prod/")
    assert doc["runs"][0]["automationDetails"]["id"] == "nightly/prod/2024-06-01T11:58:00Z"
    one_account = replace(data, accounts=("111111111111",))
    assert sarif.default_category(one_account) == "vpcaudit/111111111111"


def test_cli_writes_the_golden_sarif(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    out = tmp_path / "report.sarif"
    only4 = str(only_contract_rules_policy(tmp_path / "only4.yaml"))
    snap = str(SNAPSHOT.relative_to(REPO))
    argv = ["evaluate", snap, "--policy", only4, "--policy", WAIVERS_SOURCE]
    code = cli.main([*argv, "--format", "sarif", "--output", str(out), "--allow-partial"])
    assert code == 1, capsys.readouterr().err
    assert out.read_bytes() == (GOLDEN_DIR / "report.sarif").read_bytes()


# -- primaryLocationLineHash (issue 11, item 20) ----------------------------------------------


def test_every_golden_result_carries_a_line_hash_from_its_identity(data: ReportData) -> None:
    # The golden snapshot: two accounts, two regions, a waived finding.
    results = sarif.sarif_dict(data)["runs"][0]["results"]
    assert results
    by_fp = {f.fingerprint: f for f in data.evaluation.findings}
    hashes = []
    for r in results:
        fps = r["partialFingerprints"]
        assert LINE_HASH.fullmatch(fps["primaryLocationLineHash"])
        assert fps["primaryLocationLineHash"] == sarif.line_hash(fps["vpcauditFindingHash/v1"])
        assert fps["vpcauditFindingHash/v1"] in by_fp
        hashes.append(fps["primaryLocationLineHash"])
    assert len(set(hashes)) == len(hashes)
    # A waived result is matched to the same alert: its hash does not depend on the waiver.
    waived = [r for r in results if "suppressions" in r]
    assert waived
    assert all(
        LINE_HASH.fullmatch(r["partialFingerprints"]["primaryLocationLineHash"]) for r in waived
    )


def test_line_hash_depends_on_identity_only(data: ReportData) -> None:
    base = data.evaluation.findings[0]
    same = replace(
        base,
        message=base.message + " (reworded)",
        severity=Severity.CRITICAL,
        evidence={"changed": True},
        remediation="something else",
    )
    other_resource = replace(base, fingerprint=f"{int(base.fingerprint, 16) ^ 1:032x}")

    def line_hash_of(f: Any) -> str:
        evaluation = replace(data.evaluation, findings=(f,))
        doc = sarif.sarif_dict(replace(data, evaluation=evaluation))
        value: str = doc["runs"][0]["results"][0]["partialFingerprints"]["primaryLocationLineHash"]
        return value

    # Message, severity, evidence and fix may change between runs; the alert stays the same.
    assert line_hash_of(same) == line_hash_of(base) == sarif.line_hash(base.fingerprint)
    # Another finding (another rule, resource, account, region or discriminator) is another.
    assert line_hash_of(other_resource) != line_hash_of(base)


def test_line_hash_is_the_same_in_every_run_and_for_every_item_order(data: ReportData) -> None:
    first = [r["partialFingerprints"] for r in sarif.sarif_dict(data)["runs"][0]["results"]]
    snap = Snapshot.load(SNAPSHOT)
    again = report_for(with_items(snap, lambda xs: list(reversed(xs))))
    second = [r["partialFingerprints"] for r in sarif.sarif_dict(again)["runs"][0]["results"]]
    assert first == second
    # A fixed value: it must never change between releases, or GitHub re-opens every alert.
    assert sarif.line_hash("0" * 32) == "324ec2fbca399b50:1"
    assert sarif.line_hash("0" * 31 + "1") != "324ec2fbca399b50:1"
