"""Markdown report: summary, Mermaid peering topology, findings, coverage; bounded at scale."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import structlog

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    SnapshotBuilder,
    route,
    with_items,
)
from tests.hostile import HOSTILE, VALUES
from tests.report_golden import (
    CONTRACT_RULES,
    GOLDEN_DIR,
    REPO,
    SNAPSHOT,
    WAIVERS_SOURCE,
    build_golden_snapshot,
    check_golden,
    golden_policy,
    golden_report,
    installed_rules,
    only_contract_rules_policy,
    report_for,
    rules,
)
from tests.servers import apply_env, sandbox_env
from vpcaudit import cli
from vpcaudit.baseline import BaselineDiff
from vpcaudit.evaluate import UnverifiedCheck, evaluate
from vpcaudit.inventory import Inventory
from vpcaudit.model import Finding, Gap, ResourceRef, Severity, Unverifiable
from vpcaudit.policy import Waiver, parse_policy
from vpcaudit.report import ReportData, markdown, mdescape, topology
from vpcaudit.report.outputs import OutputPlan, build_report
from vpcaudit.report.topology import PeeringEdge, Topology, VpcNode
from vpcaudit.snapshot import Skipped, Snapshot
from vpcaudit.waivers import WaiverReport

SEVERITIES = {s.value for s in Severity}
ONE_WAY_STYLE = "stroke:#d73a49"
PENDING_STYLE = "stroke:#e36209"
BLACKHOLE_STYLE = "stroke:#000000"
UNVERIFIABLE_STYLE = "stroke:#6a737d"


@dataclass
class Mermaid:
    """The parts of a ```mermaid flowchart block that the report writes."""

    header: str
    subgraphs: list[str]
    nodes: dict[str, str]
    """node id -> label"""
    edges: list[tuple[str, str, str, str]]
    """(from, arrow, label, to), in drawing order"""
    styles: dict[int, str]
    """edge index -> style"""


NODE = re.compile(r'^ {4}(\w+)\["([^"]*)"\]$')
EDGE = re.compile(r'^ {2}(\w+) (---|-\.-)\|"([^"]*)"\| (\w+)$')
STYLE = re.compile(r"^ {2}linkStyle (\d+) (\S.*)$")
SUBGRAPH = re.compile(r'^ {2}subgraph (\w+)\["([^"]*)"\]$')


def mermaid_blocks(md: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)\n```", md, flags=re.S)


def parse_mermaid(md: str) -> Mermaid:
    """Parse the only Mermaid block; every line must be one the parser knows."""
    blocks = mermaid_blocks(md)
    assert len(blocks) == 1
    lines = blocks[0].splitlines()
    m = Mermaid(lines[0], [], {}, [], {})
    depth = 0
    for line in lines[1:]:
        if sg := SUBGRAPH.match(line):
            assert depth == 0
            depth += 1
            m.subgraphs.append(sg.group(2))
        elif line == "  end":
            assert depth == 1
            depth -= 1
        elif node := NODE.match(line):
            assert depth == 1
            assert node.group(1) not in m.nodes, f"node {node.group(1)} defined twice"
            m.nodes[node.group(1)] = node.group(2)
        elif edge := EDGE.match(line):
            assert depth == 0
            a, arrow, label, b = edge.groups()
            m.edges.append((a, arrow, label, b))
        elif style := STYLE.match(line):
            m.styles[int(style.group(1))] = style.group(2)
        else:
            raise AssertionError(f"unexpected Mermaid line: {line!r}")
    assert depth == 0
    return m


def section(md: str, title: str) -> str:
    """The text of a `## title` section, up to the next `## ` heading."""
    start = md.index(f"\n## {title}\n")
    nxt = md.find("\n## ", start + 1)
    return md[start : nxt if nxt != -1 else len(md)]


@pytest.fixture(scope="module")
def data() -> ReportData:
    return golden_report()


@pytest.fixture(scope="module")
def md(data: ReportData) -> str:
    return markdown.render(data)


# -- golden -------------------------------------------------------------------------------------


def test_golden(md: str) -> None:
    check_golden("report.md", md)


def test_golden_snapshot_matches_its_builder() -> None:
    """The saved input is what tests/report_golden.py builds (regenerated with the goldens)."""
    built = build_golden_snapshot().build().to_dict()
    saved = Snapshot.load(SNAPSHOT).to_dict()
    assert json.loads(json.dumps(saved)) == json.loads(json.dumps(built))


def test_rendering_is_stable_and_independent_of_item_order(data: ReportData, md: str) -> None:
    assert markdown.render(data) == md
    assert markdown.render(golden_report()) == md
    snap = Snapshot.load(SNAPSHOT)
    assert markdown.render(report_for(with_items(snap, lambda xs: list(reversed(xs))))) == md


def test_cli_writes_the_golden_markdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    out = tmp_path / "report.md"
    only4 = str(only_contract_rules_policy(tmp_path / "only4.yaml"))
    snap = str(SNAPSHOT.relative_to(REPO))
    argv = ["evaluate", snap, "--policy", only4, "--policy", WAIVERS_SOURCE]
    code = cli.main([*argv, "--format", "markdown", "--output", str(out), "--allow-partial"])
    assert code == 1, capsys.readouterr().err
    cli_md = out.read_text("utf-8")
    golden = (GOLDEN_DIR / "report.md").read_text("utf-8")
    # Only "What was checked" differs: the CLI loaded every installed rule and turned all but
    # the four off through a policy file it names; the golden report ran just the four.
    checked = section(cli_md, "What was checked")
    assert cli_md.replace(checked, "") == golden.replace(section(golden, "What was checked"), "")
    off = len(installed_rules()) - len(CONTRACT_RULES)
    assert f"| Rules run | 4 of {len(installed_rules())} |" in checked
    turned_off = next(x for x in checked.splitlines() if x.startswith("| Rules turned off"))
    assert turned_off.count("`") == 2 * off
    assert "&lt;built-in default.yaml&gt;" in checked and f"`{WAIVERS_SOURCE}`" in checked


def test_no_wall_clock_time_in_the_report(md: str) -> None:
    """Every timestamp in the report is the scan's own (2024-06-01 / the pending expiry)."""
    stamps = set(re.findall(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}Z)?", md))
    assert stamps == {
        "2024-06-01T11:58:00Z",
        "2024-06-01T12:00:00Z",
        "2024-06-02T08:00:00Z",
        "2024-06-02 08:00",
    }


# -- topology -----------------------------------------------------------------------------------


def test_diagram_has_one_node_per_peered_vpc_and_one_edge_per_peering(md: str) -> None:
    m = parse_mermaid(md)
    assert m.header == "flowchart LR"
    labels = {node_id: label.split("<br/>") for node_id, label in m.nodes.items()}
    vpc_of_node = {n: next(p for p in parts if p.startswith("vpc-")) for n, parts in labels.items()}
    assert sorted(vpc_of_node.values()) == [
        "vpc-0app",
        "vpc-0data",
        "vpc-0hub",
        "vpc-0ml",
        "vpc-0old",
        "vpc-0partner",
    ]
    assert "vpc-0lake" not in md.split("```mermaid")[1].split("```", maxsplit=1)[0]  # not peered
    assert "_1 VPC(s) without peerings not drawn._" in md
    by_peering = {label.split()[0]: (a, b) for a, _, label, b in m.edges}
    assert len(m.edges) == len(by_peering) == 5
    assert {p: (vpc_of_node[a], vpc_of_node[b]) for p, (a, b) in by_peering.items()} == {
        "pcx-0twoway": ("vpc-0hub", "vpc-0app"),
        "pcx-0oneway": ("vpc-0hub", "vpc-0data"),
        "pcx-0pending": ("vpc-0hub", "vpc-0ml"),
        "pcx-0gone": ("vpc-0hub", "vpc-0old"),
        "pcx-0extern": ("vpc-0hub", "vpc-0partner"),
    }
    # Nodes group by account and region; the far side of pcx-0extern was not scanned.
    assert m.subgraphs == [
        "network (111111111111) us-east-1",
        "app (222222222222) eu-west-1",
        "app (222222222222) us-east-1",
        "999999999999 us-west-2 (not scanned)",
    ]
    assert labels[next(n for n, v in vpc_of_node.items() if v == "vpc-0hub")] == [
        "hub",
        "vpc-0hub",
        "10.0.0.0/16",
    ]


def test_problem_peerings_stand_out(md: str) -> None:
    m = parse_mermaid(md)
    style_of = {label.split()[0]: m.styles.get(i) for i, (_, _, label, _) in enumerate(m.edges)}
    arrow_of = {label.split()[0]: arrow for _, arrow, label, _ in m.edges}
    state_of = {label.split()[0]: label.split()[1:] for _, _, label, _ in m.edges}
    assert state_of == {
        "pcx-0twoway": [],
        "pcx-0oneway": ["one-way"],
        "pcx-0pending": ["pending"],
        "pcx-0gone": ["blackhole"],
        "pcx-0extern": ["unverifiable"],
    }
    assert style_of["pcx-0twoway"] is None
    assert style_of["pcx-0oneway"] is not None and ONE_WAY_STYLE in style_of["pcx-0oneway"]
    assert style_of["pcx-0pending"] is not None and PENDING_STYLE in style_of["pcx-0pending"]
    assert style_of["pcx-0gone"] is not None and BLACKHOLE_STYLE in style_of["pcx-0gone"]
    assert style_of["pcx-0extern"] is not None and UNVERIFIABLE_STYLE in style_of["pcx-0extern"]
    assert len(set(m.styles.values())) == 4  # four different looks
    assert all(0 <= i < len(m.edges) for i in m.styles)
    assert arrow_of["pcx-0twoway"] == "---" and arrow_of["pcx-0pending"] == "-.-"
    # The legend explains the colours.
    assert "Red: routed one way only" in md and "Black dotted" in md


def test_no_diagram_without_peerings() -> None:
    snap = SnapshotBuilder().vpc("vpc-a").vpc("vpc-b", "10.1.0.0/16").build()
    md = markdown.render(report_for(snap))
    assert mermaid_blocks(md) == []
    assert "## Peering topology" not in md


# -- summary ------------------------------------------------------------------------------------


def test_summary_counts_by_severity_rule_and_account(data: ReportData, md: str) -> None:
    summary = section(md, "Summary")
    s = data.summary()
    assert s["total"] == 4 and s["suppressed"] == 1
    sev_header = "| " + " | ".join(x.value for x in Severity) + " | total |"
    assert sev_header in summary
    counts = " | ".join(str(s["by_severity"][x.value]) for x in Severity)
    assert f"| {counts} | **4** |" in summary
    assert "| 0 | 1 | 3 | 0 | 0 | **4** |" in summary
    for rule_id, n in s["by_rule"].items():
        assert re.search(rf"\(`{rule_id}`\) \| {n} \| \w+ \|", summary), rule_id
    assert "(`peering-pending-expiring`) | 1 | high |" in summary
    # The waived finding of 222 does not count.
    assert "| network (111111111111) | 2 | 0 | 0 | 2 | 0 | 0 |" in summary
    assert "| app (222222222222) | 2 | 0 | 1 | 1 | 0 | 0 |" in summary
    checked = section(md, "What was checked")
    assert "| Waivers | 1 active (1 finding(s) suppressed), 0 expired, 0 matched nothing" in checked
    header = md.split("## Summary", maxsplit=1)[0]
    assert "| Accounts | network (111111111111), app (222222222222) |" in header
    assert "| Regions | 2: eu-west-1, us-east-1 |" in header
    assert "| Scanned | 2024-06-01T11:58:00Z to 2024-06-01T12:00:00Z |" in header
    assert "INCOMPLETE: 1 gap(s)" in header


def test_estimated_waste_appears_with_endpoint_findings(md: str) -> None:
    assert "**Estimated waste: $14.60 per month**" in section(md, "Summary")


def test_no_waste_line_without_endpoint_findings(data: ReportData) -> None:
    no_endpoints = tuple(
        f for f in data.evaluation.findings if f.rule_id != "endpoint-interface-for-gateway-service"
    )
    md = markdown.render(replace(data, evaluation=replace(data.evaluation, findings=no_endpoints)))
    assert "Estimated waste" not in md


def test_waived_endpoint_finding_wastes_nothing() -> None:
    rule_map = rules()
    waiver = parse_policy(
        "version: 1\nwaivers:\n  - rule: endpoint-interface-for-gateway-service\n"
        "    reason: needed from on-premises\n",
        "w.yaml",
        rule_map,
    )
    snap = Snapshot.load(SNAPSHOT)
    inv = Inventory.from_snapshot(snap)
    ev = evaluate(inv, rule_map, golden_policy().merged(waiver))
    md = markdown.render(build_report(snap, inv, ev, rule_map, OutputPlan()))
    assert "Estimated waste" not in md
    assert "| `endpoint-interface-for-gateway-service` | `vpce-0s3iface` |" in md


# -- findings and coverage ------------------------------------------------------------------------


def test_each_finding_has_evidence_and_remediation(data: ReportData, md: str) -> None:
    findings = section(md, "Findings")
    for f in data.evaluation.findings:
        if f.suppressed:
            assert f"`{f.resource.resource_id}`" not in findings
            continue
        summary = f"<summary><code>{f.resource.resource_id}</code> ({f.severity},"
        assert summary in findings
        details = findings.split(summary, 1)[1].split("</details>", 1)[0]
        assert f"ARN: `{f.resource.arn}`" in details
        assert "```json\n{" in details
        blocks = markdown.remediation_blocks(f.remediation)
        for block in blocks:
            assert "```sh\n" + "\n".join(block) + "\n```" in details
        # Every command of the rule's remediation is in one of the blocks, as it was given.
        commands = [x for x in f.remediation.splitlines() if x.startswith("aws ")]
        assert all(any(c in b for b in blocks) for c in commands)


def test_coverage_lists_every_gap() -> None:
    b = SnapshotBuilder(org_account_ids=[ACCOUNT, OTHER_ACCOUNT]).vpc("vpc-a")
    b.gap("DescribeFlowLogs")
    b.gap("DescribeRouteTables", region=OTHER_REGION, code="RequestLimitExceeded", message="slow")
    b.gap("*", account=OTHER_ACCOUNT, region="*", code="AccessDenied", message="no | role")
    data = report_for(b.build())
    md = markdown.render(data)
    assert "**INCOMPLETE: 3 gap(s)**, see [Coverage](#coverage)" in md
    coverage = section(md, "Coverage")
    assert "**3 gap(s): what is listed here was NOT read" in coverage
    rows = [line for line in coverage.splitlines() if line.startswith("| ") and "`" in line]
    assert rows == [
        f"| {ACCOUNT} | {OTHER_REGION} | `ec2:DescribeRouteTables` | RequestLimitExceeded | slow |",
        f"| {ACCOUNT} | {REGION} | `ec2:DescribeFlowLogs` | UnauthorizedOperation | You are not "
        "authorized to perform this operation. |",
        f"| {OTHER_ACCOUNT} | \\* | `*` | AccessDenied | no \\| role |",
    ]
    assert len(rows) == len(data.gaps)
    # What could not be decided because of the gaps is listed too.
    assert f"`vpc-flow-logs-missing` on `vpc-a` ({ACCOUNT} {REGION})" in coverage


def test_complete_scan_says_so() -> None:
    snap = SnapshotBuilder().vpc("vpc-a").flow_log("fl-a", "vpc-a").build()
    md = markdown.render(report_for(snap))
    assert "| Coverage | **complete** |" in md
    assert "Every targeted account and enabled region was read." in section(md, "Coverage")
    assert "gap(s)" not in md
    assert "## Findings\n\nNo findings.\n" in md


# -- at scale -----------------------------------------------------------------------------------

MANY_VPCS = 1000
PEERED_PAIRS = 60


@pytest.fixture(scope="module")
def big() -> tuple[ReportData, str]:
    """1,000 VPCs without flow logs, 60 healthy peerings and one blackholed one."""
    b = SnapshotBuilder()
    for i in range(MANY_VPCS):
        b.vpc(f"vpc-{i:04d}", f"10.{i // 256}.{i % 256}.0/24", name=f"app-{i:04d}")
    for p in range(PEERED_PAIRS):
        b.peering(f"pcx-{p:04d}", f"vpc-{2 * p:04d}", f"vpc-{2 * p + 1:04d}")
    b.route_table(
        "rtb-0998",
        "vpc-0998",
        main=True,
        routes=[route("10.3.231.0/24", "pcx-9999", state="blackhole")],
    )
    b.peering("pcx-9999", "vpc-0998", "vpc-0999", status="deleted")
    data = report_for(b.build())
    return data, markdown.render(data)


def test_thousand_findings_every_one_in_the_table(big: tuple[ReportData, str]) -> None:
    data, md = big
    assert len(data.evaluation.findings) == MANY_VPCS
    assert {f.rule_id for f in data.evaluation.findings} == {"vpc-flow-logs-missing"}
    rows = re.findall(r"^\| medium \| 111111111111 \| us-east-1 \| `(vpc-\d{4})` \|", md, re.M)
    assert sorted(rows) == [f"vpc-{i:04d}" for i in range(MANY_VPCS)]
    assert "### VPC without an active flow log (`vpc-flow-logs-missing`): 1000" in md


def test_thousand_findings_details_are_capped_with_a_note(big: tuple[ReportData, str]) -> None:
    _, md = big
    assert md.count("<details>") == markdown.MAX_DETAILS_PER_RULE
    more = MANY_VPCS - markdown.MAX_DETAILS_PER_RULE
    assert (
        f"_{more} more of this rule: their evidence and remediation are in the JSON report._" in md
    )
    assert len(md.encode()) < 600_000  # readable, not 1,000 evidence blocks


def test_big_diagram_is_capped_with_a_note_and_problems_first(big: tuple[ReportData, str]) -> None:
    _, md = big
    m = parse_mermaid(md)
    assert len(m.nodes) <= markdown.MAX_DIAGRAM_NODES
    assert len(m.nodes) == markdown.MAX_DIAGRAM_NODES
    drawn = [label.split()[0] for _, _, label, _ in m.edges]
    # Every drawn edge has both its ends drawn.
    assert all(a in m.nodes and b in m.nodes for a, _, _, b in m.edges)
    # The blackholed peering comes first even though its id sorts last.
    assert drawn[0] == "pcx-9999"
    assert m.styles == {0: topology.EDGE_STYLE["blackhole"]}
    left_out = PEERED_PAIRS + 1 - len(drawn)
    assert left_out > 0
    peered = 2 * PEERED_PAIRS + 2
    assert (
        f"_{left_out} peering(s) not drawn to keep the diagram readable (at most "
        f"{markdown.MAX_DIAGRAM_NODES} VPCs; problem peerings drawn first); "
        f"{MANY_VPCS - peered} VPC(s) without peerings not drawn._"
    ) in md


def test_labels_with_quotes_and_pipes_stay_valid() -> None:
    b = SnapshotBuilder()
    b.vpc("vpc-a", "10.0.0.0/16", name='the "prod" | hub')
    b.vpc("vpc-b", "10.1.0.0/16", account=OTHER_ACCOUNT, name="b")
    b.peering("pcx-ab", "vpc-a", "vpc-b", status="pending-acceptance")
    md = markdown.render(report_for(b.build()))
    m = parse_mermaid(md)  # no stray quote breaks a line
    assert any("the #quot;prod#quot; #124; hub" in label for label in m.nodes.values())
    # In tables the pipe is escaped.
    assert 'the "prod" \\| hub' in section(md, "Findings")


def test_a_peering_group_the_mesh_advisor_speaks_about_is_drawn() -> None:
    """Issue 12: the Markdown report shows the group as a picture."""
    from vpcaudit.evaluate import evaluate  # noqa: PLC0415
    from vpcaudit.inventory import Inventory  # noqa: PLC0415
    from vpcaudit.policy import Policy  # noqa: PLC0415
    from vpcaudit.report.outputs import OutputPlan, build_report  # noqa: PLC0415

    b = SnapshotBuilder()
    vpcs = [f"vpc-m{i}" for i in range(7)]
    for i, v in enumerate(vpcs):
        b.vpc(v, f"10.{i}.0.0/16", name=f"mesh-{i}")
    for i in range(1, 7):  # a hub and six spokes: a group of 7, far from a full mesh
        b.peering(f"pcx-m{i}", vpcs[0], vpcs[i])
    snap = b.build()
    inv = Inventory.from_snapshot(snap)
    mesh = {"peering-mesh-consider-tgw": installed_rules()["peering-mesh-consider-tgw"]}
    evaluation = evaluate(inv, mesh, Policy())
    md = markdown.render(build_report(snap, inv, evaluation, mesh, OutputPlan()))
    assert "## Peering groups that could use a Transit Gateway" in md
    section = md.split("## Peering groups that could use a Transit Gateway", 1)[1]
    diagram = section.split("```mermaid", 1)[1].split("```", 1)[0]
    assert diagram.count(" --- ") == 6
    assert all(f"v_vpc_m{i}" in diagram for i in range(7))
    assert "mesh-0" in diagram


# -- issue 14: a review reads worst first, says what was checked, pastes into a shell -------------


def test_top_findings_come_first_most_severe_first(data: ReportData, md: str) -> None:
    """The one high finding is in the first screen, before the summary, with its rule linked."""
    lines = md.splitlines()
    first_high = next(i for i, x in enumerate(lines) if x.startswith("| high |"))
    assert first_high < lines.index("## Summary")
    top = section(md, "Top findings")
    rows = [x for x in top.splitlines() if x.startswith("| ") and x[2:].split(" ")[0] in SEVERITIES]
    severe = [f for f in data.evaluation.findings if not f.suppressed and f.severity.rank >= 3]
    assert len(rows) == len(severe) == 1
    assert rows[0].startswith(
        "| high | [`peering-pending-expiring`](#rule-peering-pending-expiring) | "
        "app (222222222222) | eu-west-1 | `pcx-0pending` |"
    )
    assert "_3 more below, by rule, most severe rule first._" in top


def test_rules_are_ordered_by_their_most_severe_finding(md: str) -> None:
    findings = section(md, "Findings")
    order = re.findall(r"^### .* \(`([a-z0-9-]+)`\): \d+$", findings, flags=re.M)
    assert order == [
        "peering-pending-expiring",  # high
        "endpoint-interface-for-gateway-service",  # medium, then by id
        "peering-route-one-way",
        "vpc-flow-logs-missing",
    ]
    summary_order = re.findall(r"^\| \[.*\]\(#rule-[a-z-]+\) \(`([a-z0-9-]+)`\)", md, flags=re.M)
    assert summary_order == order


def test_top_findings_without_critical_or_high_lists_the_most_severe() -> None:
    b = SnapshotBuilder()
    for i in range(12):
        b.vpc(f"vpc-{i:02d}", f"10.{i}.0.0/16")
    md = markdown.render(report_for(b.build()))
    top = section(md, "Top findings")
    assert "No critical or high findings. The 10 most severe:" in top
    assert len(re.findall(r"^\| medium \|", top, flags=re.M)) == markdown.TOP_WHEN_NONE_SEVERE
    assert "_2 more below" in top


def test_what_was_checked_names_policy_switches_waivers_and_coverage() -> None:
    """Rules turned off, severities changed, policy files, waivers of each kind, skipped regions."""
    rule_map = rules()
    text = (
        "version: 1\nrules:\n  peering-route-one-way:\n    enabled: false\n"
        "  vpc-flow-logs-missing:\n    severity: low\n"
        "waivers:\n"
        "  - rule: endpoint-interface-for-gateway-service\n    reason: old\n"
        "    expires: 2024-01-01\n"
        "  - rule: vpc-flow-logs-missing\n    resource: vpc-gone\n    reason: nothing\n"
    )
    policy = golden_policy().merged(parse_policy(text, "team.yaml", rule_map))
    snap = build_golden_snapshot().build()
    inv = Inventory.from_snapshot(snap)
    ev = evaluate(inv, rule_map, policy)
    data = build_report(snap, inv, ev, rule_map, OutputPlan(), policy=policy)
    data = replace(data, skipped=(*data.skipped, Skipped(ACCOUNT, "eu-north-1", "not enabled")))
    checked = section(markdown.render(data), "What was checked")
    assert "| Rules run | 3 of 4 |" in checked
    assert "| Rules turned off by policy | `peering-route-one-way` |" in checked
    assert "| Severities changed by policy | `vpc-flow-logs-missing` medium → low |" in checked
    assert (
        "| Policy files | &lt;built-in default.yaml&gt;, `tests/fixtures/golden/waivers.yaml`, "
        "`team.yaml` |"
    ) in checked
    assert "| Waivers | 1 active (1 finding(s) suppressed), 1 expired, 1 matched nothing" in checked
    assert "| Regions skipped | 1 (not enabled) |" in checked
    assert "| Coverage | 3 account-region(s) read, **1 gap(s)**" in checked


def test_remediation_alternatives_are_separate_blocks_with_a_comment() -> None:
    blocks = markdown.remediation_blocks(
        "aws ec2 accept-vpc-peering-connection --vpc-peering-connection-id pcx-1\n"
        "or, if unwanted: aws ec2 reject-vpc-peering-connection --vpc-peering-connection-id pcx-1"
    )
    assert blocks == [
        ["aws ec2 accept-vpc-peering-connection --vpc-peering-connection-id pcx-1"],
        [
            "# or, if unwanted:",
            "aws ec2 reject-vpc-peering-connection --vpc-peering-connection-id pcx-1",
        ],
    ]
    # A "# or ..." comment after a command starts the next alternative; one before does not.
    assert markdown.remediation_blocks("# Otherwise:\naws a\n# or point it at x:\naws b") == [
        ["# Otherwise:", "aws a"],
        ["# or point it at x:", "aws b"],
    ]
    # Prose is a comment inside a block, never a line the shell would run.
    assert markdown.remediation_blocks("aws a\nThen wait.") == [["aws a", "# Then wait."]]


def test_remediation_with_no_command_is_prose_not_a_code_block(data: ReportData) -> None:
    f = data.evaluation.findings[0]
    advice = replace(f, remediation="Re-address before these VPCs ever need to connect.")
    md = markdown._finding_details(advice)
    assert "Remediation:\n\nRe-address before these VPCs ever need to connect.\n" in md
    assert "```sh" not in md


def _sh_blocks(md: str) -> list[list[str]]:
    return [f.body for f in fences(md)[0] if f.info == "sh"]


@pytest.fixture(scope="module")
def demo_md(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The Markdown report of `vpcaudit scan --demo` (one run for the module)."""
    out = tmp_path_factory.mktemp("demo") / "demo.md"
    with pytest.MonkeyPatch.context() as mp:
        apply_env(mp, sandbox_env(os.environ))
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = cli.main(["scan", "--demo", "--format", "markdown", "-o", str(out)])
    structlog.reset_defaults()
    assert code == 1
    return out.read_text("utf-8")


def test_demo_remediation_blocks_parse_as_shell_and_hold_no_prose(demo_md: str) -> None:
    blocks = _sh_blocks(demo_md)
    assert len(blocks) > 20
    bash = shutil.which("bash")
    assert bash is not None
    for body in blocks:
        script = "\n".join(body)
        done = subprocess.run(
            [bash, "-n"], input=script, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{done.stderr}\n{script}"
        prose = [x for x in body if not x.startswith(("aws ", "# "))]
        assert prose == [], script
        assert any(x.startswith("aws ") for x in body), script
        # An alternative opens its own block, announced by its comment.
        assert not any(x.startswith(("# or ", "# or,")) for x in body[1:]), script


def test_demo_most_severe_finding_is_on_the_first_screen(demo_md: str) -> None:
    lines = demo_md.splitlines()
    first = next(i for i, x in enumerate(lines) if re.match(r"\| (critical|high) \|", x))
    assert first < 20, first


# -- issue 13.4: hostile data stays inert ---------------------------------------------------------

FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})([^`]*)$")


@dataclass
class Fence:
    """A fenced code block found by the CommonMark rules."""

    info: str
    start: int
    body: list[str]


def fences(md: str) -> tuple[list[Fence], list[str]]:
    """The fenced blocks of a Markdown text, by CommonMark's rules (a closing fence is the same
    character, at least as long, with nothing after it), and the lines outside them."""
    lines = md.split("\n")
    found: list[Fence] = []
    outside: list[str] = []
    i = 0
    while i < len(lines):
        m = FENCE_OPEN.match(lines[i])
        if not m:
            outside.append(lines[i])
            i += 1
            continue
        marker = m.group(1)
        close = re.compile(rf"^ {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        assert j < len(lines), f"the fence opened at line {i + 1} never closes"
        found.append(Fence(m.group(2).strip(), i, lines[i + 1 : j]))
        i = j + 1
    return found, outside


def _cells(row: str) -> int:
    """How many cells a GFM table row has (a backslash escapes the next character)."""
    pipes, i = 0, 0
    while i < len(row):
        if row[i] == "\\":
            i += 2
            continue
        pipes += row[i] == "|"
        i += 1
    return pipes - 1


HOSTILE_ACCOUNT = "111111111111"


def hostile_report() -> ReportData:
    """The golden report with every hostile value as a name, id, message, evidence value,
    remediation line, waiver field, gap, skipped region, baseline entry and policy path."""
    base = golden_report()
    findings, nodes, edges = [], [], []
    for i, h in enumerate(HOSTILE):
        v = h.value
        ref = ResourceRef(
            HOSTILE_ACCOUNT, "us-east-1", "vpc", v, f"arn:aws:ec2:us-east-1:1:vpc/{v}", (("N", v),)
        )
        findings.append(
            Finding(
                rule_id="vpc-flow-logs-missing",
                severity=Severity.HIGH if i % 2 else Severity.MEDIUM,
                resource=ref,
                message=f"VPC {v} ({v}) has no active flow log",
                evidence={"vpc_name": v, v: [v]},
                remediation=f"aws ec2 create-flow-logs --resource-ids {v}\n{v}\nor, if {v}: aws x",
                fingerprint=f"{i:032x}",
                suppressed=i % 7 == 0,
                waiver={"reason": v, "owner": v, "expires": v, "source": v} if i % 7 == 0 else None,
            )
        )
        nodes.append(VpcNode(HOSTILE_ACCOUNT, "us-east-1", v, v, (v,), True))
        if i:
            edges.append(PeeringEdge(v, HOSTILE[i - 1].value, v, "active", "one-way"))
    waiver = Waiver("vpc-flow-logs-missing", VALUES[0], source=VALUES[1], owner=VALUES[2])
    ev = replace(
        base.evaluation,
        findings=tuple(findings),
        unverified=tuple(
            UnverifiedCheck(v, Unverifiable(f.resource, v))
            for v, f in zip(VALUES, findings, strict=True)
        ),
        waivers=WaiverReport(((waiver, 1),), ((waiver, 2),), (waiver,)),
    )
    entry = {"rule_id": VALUES[5], "resource_id": VALUES[6], "account_id": VALUES[7]}
    return replace(
        base,
        started_at=VALUES[0],
        finished_at=VALUES[8],
        account_names={HOSTILE_ACCOUNT: VALUES[1]},
        accounts=(HOSTILE_ACCOUNT,),
        regions=VALUES,
        gaps=tuple(Gap(HOSTILE_ACCOUNT, v, v, v, v) for v in VALUES),
        skipped=tuple(Skipped(HOSTILE_ACCOUNT, v, v) for v in VALUES),
        evaluation=ev,
        topology=Topology(tuple(nodes), tuple(edges)),
        baseline=BaselineDiff(VALUES[3], frozenset(), frozenset(), (entry,), (entry,)),
        policy_sources=VALUES,
        third_party_rules={"vpc-flow-logs-missing": VALUES[4]},
    )


@pytest.fixture(scope="module")
def hostile_md() -> str:
    return markdown.render(hostile_report())


def test_hostile_values_keep_every_fence_closed_and_in_place(hostile_md: str) -> None:
    """Triple backticks and newlines in data neither close a fence nor open one."""
    found, _ = fences(hostile_md)
    infos = [f.info for f in found]
    detailed = min(len([v for i, v in enumerate(VALUES) if i % 7]), markdown.MAX_DETAILS_PER_RULE)
    assert set(infos) == {"mermaid", "json", "sh"}
    assert infos.count("mermaid") == 1
    assert infos.count("json") == detailed
    # Each finding's remediation: its command block, and the "or" alternative's block.
    assert infos.count("sh") == 2 * detailed
    for f in found:
        if f.info == "sh":
            assert all(x.startswith(("aws ", "# ")) for x in f.body), f.body


def test_hostile_values_leave_no_raw_html_outside_code(hostile_md: str) -> None:
    """No `<img>`, `</details>`, `<script>` or comment from data reaches Markdown or HTML."""
    _, outside = fences(hostile_md)
    text = "\n".join(outside).lower()
    for marker in ("<img", "</details></summary>", "<script", "<!--"):
        assert marker not in text, marker
    # The report's own links all point inside it (#anchor); any other is from data.
    assert not re.search(r"(?<!\\)\]\((?!#)", text), "a link or image from data"
    # The report's own <details> blocks stay balanced: one per finding shown.
    assert text.count("<details>") == text.count("</details>") == text.count("<summary>")
    # Inside <summary> (raw HTML) the id is entity-escaped, not a code span.
    assert "<summary><code>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</code>" in hostile_md


def test_hostile_values_open_no_heading_list_or_quote(hostile_md: str) -> None:
    """A newline followed by `# heading` in a Name tag stays inside its line."""
    _, outside = fences(hostile_md)
    headings = [x for x in outside if x.startswith("#")]
    allowed = re.compile(
        r"^(# VPC network audit|## (Top findings|Summary|What was checked|Peering topology|"
        r"Findings|Waivers|Coverage|Since the baseline)|### VPC without an active flow log "
        r"\(`vpc-flow-logs-missing`\): \d+)$"
    )
    assert [h for h in headings if not allowed.match(h)] == []
    assert not any(x.lstrip().startswith((">", "~~~", "```")) for x in outside)
    assert "Injected heading" in hostile_md  # still shown, as text


def test_hostile_values_keep_table_columns(hostile_md: str) -> None:
    """Pipes in names, ids, messages and waiver reasons do not add a column to any table."""
    _, outside = fences(hostile_md)
    tables: list[list[str]] = []
    for prev, line in zip(["", *outside], outside, strict=False):
        if line.startswith("|"):
            if not prev.startswith("|"):
                tables.append([])
            tables[-1].append(line)
    assert len(tables) >= 8
    for table in tables:
        assert {_cells(row) for row in table} == {_cells(table[0])}, table[0]
    waived = section(hostile_md, "Waivers")
    for f in hostile_report().evaluation.findings:
        if f.suppressed:  # the waiver's reason, escaped, in its own cell
            assert f"| {mdescape.text(f.resource.resource_id)} |" in waived


def test_hostile_values_draw_one_node_per_vpc_with_one_line_labels(hostile_md: str) -> None:
    """Mermaid: quotes, brackets, `%%` directives, `click` and newlines stay in their label."""
    m = parse_mermaid(hostile_md)  # every line is a node, edge, style or subgraph line
    assert len(m.nodes) == len(HOSTILE)
    assert len(m.edges) == len(HOSTILE) - 1
    assert all(re.fullmatch(r"v_[A-Za-z0-9_]+", n) for n in m.nodes)
    block = mermaid_blocks(hostile_md)[0]
    assert "%%" not in block
    assert not re.search(r"^\s*(click|%%|style|classDef)\b", block, flags=re.M)
    for label in [*m.nodes.values(), *(e[2] for e in m.edges), *m.subgraphs]:
        assert "<" not in label.replace("<br/>", "") and ">" not in label.replace("<br/>", "")
        assert not set(label) & set('"`[]{}|%\n\r\x1b')


def test_mermaid_ids_never_merge_two_vpcs() -> None:
    ids = ["vpc-a", "vpc_a", "VPC-A", "vpc-a ", "vpc.a", "end", "vpc-_a", "vpc_-a"]
    nodes = tuple(VpcNode(ACCOUNT, REGION, v, "", (), True) for v in ids)
    edges = tuple(PeeringEdge(f"pcx-{i}", ids[0], v, "active", "ok") for i, v in enumerate(ids))
    m = parse_mermaid(topology.draw_peerings(Topology(nodes, edges[1:]), {}).mermaid)
    assert len(m.nodes) == len(ids)


def test_hostile_values_control_characters_are_shown_not_obeyed(hostile_md: str) -> None:
    """ESC, BEL, NUL, C1 and the right-to-left override appear as visible escapes."""
    for c in "\x1b\x07\x00\x9b\x85\u202e\u2028\r":
        assert c not in hostile_md, repr(c)
    assert "\\x1b[2J" in hostile_md and "\\u202e" in hostile_md


def test_hostile_evidence_stays_valid_json_without_raw_html(hostile_md: str) -> None:
    found, _ = fences(hostile_md)
    for f in found:
        if f.info == "json":
            body = "\n".join(f.body)
            assert "<" not in body and ">" not in body
            doc = json.loads(body)
            assert doc["vpc_name"] in VALUES
