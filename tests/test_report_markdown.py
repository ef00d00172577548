"""Markdown report: summary, Mermaid peering topology, findings, coverage; bounded at scale."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    SnapshotBuilder,
    route,
    with_items,
)
from tests.report_golden import (
    GOLDEN_DIR,
    REPO,
    SNAPSHOT,
    WAIVERS_SOURCE,
    build_golden_snapshot,
    check_golden,
    golden_policy,
    golden_report,
    only_contract_rules_policy,
    report_for,
    rules,
)
from vpcaudit import cli
from vpcaudit.evaluate import evaluate
from vpcaudit.inventory import Inventory
from vpcaudit.model import Severity
from vpcaudit.policy import parse_policy
from vpcaudit.report import ReportData, markdown
from vpcaudit.report.outputs import OutputPlan, build_report
from vpcaudit.snapshot import Snapshot

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
    assert out.read_bytes() == (GOLDEN_DIR / "report.md").read_bytes()


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
    assert "Waivers: 1 finding(s) suppressed" in summary
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
        assert f"```sh\n{f.remediation}\n```" in details


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
        f"| {OTHER_ACCOUNT} | * | `*` | AccessDenied | no \\| role |",
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
    assert m.styles == {0: markdown._EDGE_STYLE["blackhole"]}
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
    assert any("the #quot;prod#quot; | hub" in label for label in m.nodes.values())
    # In tables the pipe is escaped.
    assert 'the "prod" \\| hub' in section(md, "Findings")


def test_a_peering_group_the_mesh_advisor_speaks_about_is_drawn() -> None:
    """Issue 12: the Markdown report shows the group as a picture."""
    from tests.builders import SnapshotBuilder  # noqa: PLC0415
    from tests.report_golden import installed_rules  # noqa: PLC0415
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
