"""Untrusted snapshot items stay inert (issue 13, items 5 and 8).

A malformed item (an id with shell in it, a tag key that is an object, a null VpcId, a CIDR
that is not one) is quarantined when the inventory is built: left out, and recorded as a gap
that names its kind, account, region and field. Every value a remediation command takes from
the inventory is quoted as one shell word (vpcaudit.awscli.q).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.builders import ACCOUNT, FIXTURES, REGION, SnapshotBuilder, load_fixture, route
from vpcaudit import cli as vpcaudit_cli
from vpcaudit.awscli import ask, cli, dq, note, q, words
from vpcaudit.evaluate import Evaluation, evaluate
from vpcaudit.inventory import KIND_OPERATIONS, Inventory
from vpcaudit.inventory.quarantine import DEFECT_CODE, MAX_DEFECTS_PER_KIND
from vpcaudit.policy import Policy
from vpcaudit.rules.registry import load_rules
from vpcaudit.snapshot import RegionData, Snapshot

CORPUS = json.loads((FIXTURES / "hostile" / "malformed_items.json").read_text(encoding="utf-8"))
SHELL_ID = "vpc-1;curl x|sh;#"
HOSTILE_WORDS = [
    SHELL_ID,
    "$(id)",
    "`id`",
    "a b",
    "line\nrm -rf /",
    "it's",
    '"; echo "',
    "x\x1b]8;;http://e/\x1b\\",
    "-rf --dry-run",
    "",
]
PACKAGE = Path(__file__).parent.parent / "vpcaudit"


def _snapshot_with(kind: str, item: Any) -> Snapshot:
    """A scanned region holding one well-formed VPC, plus `item` under `kind`."""
    return _with_items(SnapshotBuilder().vpc("vpc-0good", "10.9.0.0/16").build(), {kind: [item]})


def _with_items(snap: Snapshot, extra: dict[str, list[Any]]) -> Snapshot:
    """The snapshot with raw items added to its first region."""
    rd = snap.regions[0]
    resources = {k: [*v, *extra.get(k, [])] for k, v in rd.resources.items()}
    return replace(snap, regions=(replace(rd, resources=resources), *snap.regions[1:]))


def _all_rules() -> dict[str, Any]:
    return {k: v.rule for k, v in load_rules().items()}


def _commands(evaluation: Evaluation) -> Iterator[str]:
    """The AWS CLI command lines of every finding's remediation (not its prose or comments)."""
    for f in evaluation.findings:
        for line in f.remediation.splitlines():
            assert line.isprintable(), line
            # A command starts a line, or follows "or, if unwanted: "; "$(" lines capture one.
            m = re.search(r"(?:^|: )(aws [a-z0-9-]+ [a-z0-9-]+ .*)$", line)
            if m is not None and "$(" not in line:
                yield m.group(1)


def _words_are_quoted(line: str) -> None:
    """Each shell word of a command line that needs quoting is quoted exactly as q() does."""
    # Values the reader supplies ("${LOG_BUCKET:?...}", from ask()) are not data.
    line = re.sub(r'"\$\{\w+:\?[^"}]*\}"', "PLACEHOLDER", line)
    for part in line.split(" && "):
        for word in shlex.split(part, comments=True):
            if q(word) != word:
                assert q(word) in part, (word, line)


# -- quarantine ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CORPUS["malformed"], ids=lambda c: c["name"])
def test_malformed_item_is_quarantined_as_a_gap(case: dict[str, Any]) -> None:
    kind, field = case["kind"], case["field"]
    inv = Inventory.from_snapshot(_snapshot_with(kind, case["item"]))
    [gap] = inv.gaps
    assert (gap.account_id, gap.region) == (ACCOUNT, REGION)
    assert (gap.operation, gap.error_code) == (KIND_OPERATIONS[kind], DEFECT_CODE)
    assert gap.message.startswith(f"snapshot defect: {kind} item ")
    assert f"left out: {field}" in gap.message
    # The offending value is shown escaped and short: no newline or ESC reaches a report.
    assert gap.message.isprintable()
    assert len(gap.message) < 300
    # The kind is not read there: rules say "unverifiable" rather than "absent".
    assert not inv.was_read(ACCOUNT, REGION, kind)
    # Only the bad item is left out.
    assert [v.vpc_id for v in inv.vpcs] == ["vpc-0good"]


@pytest.mark.parametrize("case", CORPUS["legitimate"], ids=lambda c: c["name"])
def test_legitimate_aws_shapes_are_kept(case: dict[str, Any]) -> None:
    inv = Inventory.from_snapshot(_snapshot_with(case["kind"], case["item"]))
    assert inv.gaps == ()
    assert inv.was_read(ACCOUNT, REGION, case["kind"])


def test_the_issue_examples_are_defects_not_crashes_and_not_silent() -> None:
    snap = SnapshotBuilder().vpc("vpc-0good").subnet("subnet-0good", "vpc-0good").build()
    extra = {
        "vpcs": [{"VpcId": "vpc-0tags", "Tags": [{"Key": {"x": 1}, "Value": "v"}]}],
        "subnets": [
            {"SubnetId": "subnet-0null", "VpcId": None, "CidrBlock": "10.0.1.0/24"},
            {"SubnetId": "subnet-0cidr", "VpcId": "vpc-0good", "CidrBlock": "x"},
        ],
    }
    inv = Inventory.from_snapshot(_with_items(snap, extra))
    assert [v.vpc_id for v in inv.vpcs] == ["vpc-0good"]
    assert [s.subnet_id for s in inv.subnets] == ["subnet-0good"]
    messages = sorted(g.message for g in inv.gaps)
    assert messages == [
        "snapshot defect: subnets item subnet-0cidr left out: CidrBlock 'x' is not a CIDR block",
        "snapshot defect: subnets item subnet-0null left out: VpcId None is not a vpc id (vpc-...)",
        "snapshot defect: vpcs item vpc-0tags left out: Tags[0].Key {'x': 1} is not a string",
    ]


def test_many_defects_of_one_kind_are_counted_not_listed() -> None:
    bad = [{"VpcId": f"vpc-{i};x"} for i in range(MAX_DEFECTS_PER_KIND + 5)]
    inv = Inventory.from_snapshot(_with_items(SnapshotBuilder().scan().build(), {"vpcs": bad}))
    assert len(inv.gaps) == MAX_DEFECTS_PER_KIND + 1
    assert any(
        g.message == "snapshot defect: 5 more malformed vpcs items left out" for g in inv.gaps
    )


def test_a_malformed_region_name_leaves_the_region_out() -> None:
    snap = SnapshotBuilder().vpc("vpc-0good").build()
    bad = RegionData(ACCOUNT, "us-east-1;id", snap.regions[0].resources)
    inv = Inventory.from_snapshot(replace(snap, regions=(bad,)))
    assert inv.vpcs == ()
    [gap] = inv.gaps
    assert (gap.account_id, gap.region, gap.operation) == (ACCOUNT, "?", "*")
    assert "region 'us-east-1;id' is not a region name" in gap.message


def _hostile_snapshot() -> Snapshot:
    """A VPC without flow logs beside items whose ids carry shell, in every rule's reach."""
    b = SnapshotBuilder().vpc("vpc-0good", name="`id` $(reboot) ; rm -rf / #")
    b.route_table("rtb-0good", "vpc-0good", main=True, routes=[route("10.8.0.0/16", "pcx-0gone")])
    bad_route = {"DestinationCidrBlock": "10.2.0.0/16", "VpcPeeringConnectionId": SHELL_ID}
    extra = {
        "vpcs": [{"VpcId": SHELL_ID, "CidrBlock": "10.1.0.0/16"}],
        "route_tables": [{"RouteTableId": "rtb-0bad", "VpcId": "vpc-0good", "Routes": [bad_route]}],
        "flow_logs": [{"FlowLogId": "fl-0bad", "ResourceId": SHELL_ID}],
    }
    return _with_items(b.build(), extra)


def test_a_shell_id_never_reaches_a_command() -> None:
    snap = _hostile_snapshot()
    inv = Inventory.from_snapshot(snap)
    evaluation = evaluate(inv, _all_rules(), Policy())
    text = json.dumps(
        [
            (f.message, f.evidence, f.remediation, f.resource.resource_id)
            for f in evaluation.findings
        ]
    )
    assert "curl" not in text
    assert evaluation.findings, "the well-formed VPC is still audited"
    for line in _commands(evaluation):
        _words_are_quoted(line)
    defects = [g for g in inv.gaps if g.error_code == DEFECT_CODE]
    assert {(g.operation, g.region, g.account_id) for g in defects} == {
        ("ec2:DescribeVpcs", REGION, ACCOUNT),
        ("ec2:DescribeRouteTables", REGION, ACCOUNT),
        ("ec2:DescribeFlowLogs", REGION, ACCOUNT),
    }
    assert all("'vpc-1;curl x|sh;#'" in g.message for g in defects)


def test_a_quarantined_item_makes_the_scan_incomplete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.json"
    _hostile_snapshot().save(path)
    code = vpcaudit_cli.main(["evaluate", str(path), "--format", "json"])
    scan = json.loads(capsys.readouterr().out)["scan"]
    assert code == 3
    assert scan["complete"] is False
    assert any(g["error_code"] == DEFECT_CODE for g in scan["gaps"])


# -- quoting -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE_WORDS, ids=repr)
def test_the_builder_keeps_a_hostile_value_one_word(value: str) -> None:
    line = cli(f"aws ec2 delete-vpc --vpc-id {q(value)} --tags {words([value, 'b'])}", value, value)
    assert "\n" not in line.split("#", 1)[1]  # the account note stays one comment line
    argv = shlex.split(line, comments=True)
    expected = ["aws", "ec2", "delete-vpc", "--vpc-id", value, "--tags", value, "b"]
    assert argv == [*expected, "--region", value]


@pytest.mark.parametrize("value", ["vpc-0abc", "10.0.0.0/16", "2600:1f18::/56", "pl-63a5400a"])
def test_ordinary_values_are_left_as_they_are(value: str) -> None:
    assert q(value) == value
    assert cli(f"aws ec2 x --id {q(value)}", "us-east-1", ACCOUNT) == (
        f"aws ec2 x --id {value} --region us-east-1  # as account {ACCOUNT}"
    )


def test_json_and_queries_are_one_word() -> None:
    policy = json.dumps([{"IpProtocol": "tcp'; id; '", "FromPort": 22}])
    assert shlex.split(f"aws ec2 x --ip-permissions {q(policy)}")[-1] == policy
    query = "RouteTables[0].Associations[?SubnetId=='subnet-1'].RouteTableAssociationId"
    assert dq(query) == f'"{query}"'
    for hostile in ("a$(id)", "a`id`", 'a"b', "a\nb"):
        assert shlex.split(f"x {dq(hostile)}") == ["x", hostile]
    assert note("a\nb\x1b") == "a?b?"


def test_demo_commands_quote_every_word(demo_evaluation: Evaluation) -> None:
    lines = list(_commands(demo_evaluation))
    assert len(lines) > 40
    for line in lines:
        _words_are_quoted(line)


@pytest.fixture(scope="module")
def demo_evaluation() -> Evaluation:
    from vpcaudit.demo import demo_options, seeded_demo  # noqa: PLC0415 - moto, only here
    from vpcaudit.scan import ScanOptions, run_scan  # noqa: PLC0415

    with seeded_demo() as (_seeded, fidelity):
        snap = run_scan(demo_options(ScanOptions(), fidelity))
    inv = Inventory.from_snapshot(snap)
    assert inv.gaps == (), "the demo's moto ids and shapes all pass validation"
    return evaluate(inv, _all_rules(), Policy())


# -- no command is built from an unquoted value ---------------------------------------------

_QUOTING = {"q", "words", "dq", "note", "ask"}
# Not commands: error messages that name CLI options.
_NOT_COMMANDS = {"network/query.py"}


def _unquoted(path: Path) -> list[str]:
    """Interpolations in command-like f-strings that are not wrapped in a quoting helper."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    quoted: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _quoting(node):
            quoted.update(id(sub) for sub in ast.walk(node) if sub is not node)
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr) or id(node) in quoted:
            continue
        text = "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
        if not ("aws " in text or " --" in text or text.startswith(("--", "# "))):
            continue
        for v in node.values:
            if not isinstance(v, ast.FormattedValue):
                continue
            if isinstance(v.value, ast.Call) and _quoting(v.value):
                continue
            # A name ending in _word(s)/_args holds shell words already quoted where made.
            name = v.value.id.lower() if isinstance(v.value, ast.Name) else ""
            if name.endswith(("_word", "_words", "_args")):
                continue
            out.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {ast.unparse(v.value)}")
    return out


def _quoting(call: ast.Call) -> bool:
    name = call.func.id if isinstance(call.func, ast.Name) else ""
    return name in _QUOTING or name.endswith("_args")


def test_no_command_interpolates_an_unquoted_value() -> None:
    files = [*sorted((PACKAGE / "rules").glob("*.py")), *sorted((PACKAGE / "network").glob("*.py"))]
    found = [
        hit
        for f in files
        if str(f.relative_to(PACKAGE)) not in _NOT_COMMANDS
        for hit in _unquoted(f)
    ]
    assert found == []


_PLACEHOLDER = re.compile(r"<[A-Za-z][\w-]*>")


def test_demo_commands_hold_no_angle_bracket_placeholder(demo_evaluation: Evaluation) -> None:
    """A `<log-bucket>` pasted into a shell is a redirection: the command fails on a file that
    does not exist. A value the reader supplies is a shell variable that stops the command,
    naming what to set, until it is set."""
    lines = list(_commands(demo_evaluation))
    assert not [x for x in lines if _PLACEHOLDER.search(x.split("  #", 1)[0])]
    asking = [x for x in lines if "${" in x]
    assert asking, "the demo has a flow-log fix that asks for a bucket"
    for line in asking:
        refused = _bash(line, {})
        assert refused.returncode != 0 and refused.stdout == "", line  # nothing ran
        assert ": set " in refused.stderr and " to " in refused.stderr, refused.stderr
        named = dict.fromkeys(re.findall(r"\$\{(\w+):\?", line), "x")
        ok = _bash(line, named)
        assert ok.returncode == 0 and ok.stdout.startswith("aws "), ok.stderr


def _bash(line: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The command as a shell runs it, with `aws` replaced by echo (nothing is called)."""
    bash = shutil.which("bash")
    assert bash is not None
    return subprocess.run(
        [bash, "-c", line.replace("aws ", "echo aws ", 1)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ["PATH"], **env},
    )


def test_ask_is_one_word_and_says_what_to_set() -> None:
    word = ask("LOG_BUCKET", "the S3 bucket for flow logs")
    assert word == '"${LOG_BUCKET:?set LOG_BUCKET to the S3 bucket for flow logs}"'


# -- a snapshot file: built from once when well formed, the careful way when not ------------


# A kind that is not a list of objects is refused when a file is read (exit 2), before any item
# is judged: that one case is the file's shape, not an item's.
_ITEM_CASES = [c for c in CORPUS["malformed"] if c["name"] != "item-not-an-object"]


@pytest.mark.parametrize("case", _ITEM_CASES, ids=lambda c: c["name"])
def test_a_file_snapshot_quarantines_exactly_as_one_in_memory(
    case: dict[str, Any], tmp_path: Path
) -> None:
    """A file's kinds are checked as the build decodes them; a malformed item sends it down
    the careful path, so the inventory and its gaps are those of the same snapshot in memory."""
    snap = _snapshot_with(case["kind"], case["item"])
    path = tmp_path / "s.json"
    snap.save(path)
    from_file = Inventory.from_snapshot(Snapshot.load(path))
    in_memory = Inventory.from_snapshot(snap)
    assert from_file.gaps == in_memory.gaps != ()
    assert from_file == in_memory


def test_a_well_formed_file_is_decoded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No separate checking pass: each kind is decoded by the build that reads it (issue 15:
    checking every item first decoded a 100,000-VPC snapshot twice)."""
    from vpcaudit import snapshot_file  # noqa: PLC0415
    from vpcaudit.inventory.build import _build_fields  # noqa: PLC0415

    path = tmp_path / "s.json"
    load_fixture("cross_account_peering.json").save(path)
    decodes: list[str] = []
    original = snapshot_file.StoredItems.load

    def counting(self: Any, *, intern: bool = True) -> list[Any]:
        decodes.append(self.kind)
        return original(self, intern=intern)

    monkeypatch.setattr(snapshot_file.StoredItems, "load", counting)
    snap = Snapshot.load(path)
    inv = Inventory.from_snapshot(snap)
    by_build = len(decodes)
    decodes.clear()
    _build_fields(snap)
    assert inv.gaps == () and by_build == len(decodes)
