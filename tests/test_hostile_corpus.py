"""Issue 13: hostile data stays inert in every output format.

The corpus (tests/hostile.py, strings; tests/fixtures/hostile/, a snapshot carrying them in
names, tags, an account name, an AWS error message and a flow-log delivery error, plus
malformed snapshots and items) goes through the real CLI in every format a person or a tool
reads, and each output is checked the way its reader would take it: a terminal (no control
character), a Markdown renderer (no raw HTML, fences closed), a browser (no element or
attribute that the template did not write), a spreadsheet (no formula), a shell (every
command is the argv it claims), a JSON or SARIF parser.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shlex
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from tests.builders import ACCOUNT, OTHER_ACCOUNT, REGION, Side, SnapshotBuilder, hours_from_now
from tests.hostile import HOSTILE, MARKERS

FIXTURE = Path(__file__).parent / "fixtures" / "hostile" / "tagged_snapshot.json"
TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def build_corpus() -> dict[str, object]:
    """The hostile snapshot: one VPC per hostile string (its Name tag, and a tag value), all
    without flow logs so each is a finding; a pending peering and an account with hostile
    names; a gap whose AWS message is hostile; a failing flow log with a hostile error."""
    b = SnapshotBuilder()
    b.account(ACCOUNT, HOSTILE[0].value)
    for i, h in enumerate(HOSTILE):
        vpc = f"vpc-{i:017x}"
        b.vpc(vpc, f"10.{i}.0.0/16", name=h.value, extra_tags={"team": h.value, h.value: "x"})
        b.subnet(f"subnet-{i:017x}", vpc, f"10.{i}.1.0/24")
    b.peering(
        "pcx-00000000000000001",
        Side(OTHER_ACCOUNT, REGION, "vpc-10000000000000001", ("10.200.0.0/16",)),
        Side(ACCOUNT, REGION, "vpc-00000000000000000", ("10.0.0.0/16",)),
        status="pending-acceptance",
        expires=hours_from_now(20),
        name="\x1b]8;;http://x\x07peer\x1b]8;;\x07 </details> `x` $(id)",
    )
    b.flow_log(
        "fl-00000000000000001",
        "vpc-00000000000000001",
        deliver_status="FAILED",
        destination_type="cloud-watch-logs",
        deliver_error="Access error\x1b[2J <img src=x onerror=alert(1)>",
    )
    b.gap("DescribeVpcEndpoints", message="denied\x1b]0;pwned\x07 <script>alert(1)</script>\n# x")
    doc: dict[str, object] = json.loads(b.build().dumps())
    return doc


def test_the_fixture_is_the_corpus() -> None:
    """The committed fixture is what build_corpus makes (regenerate: VPCAUDIT_UPDATE_GOLDEN=1)."""
    doc = build_corpus()
    if os.environ.get("VPCAUDIT_UPDATE_GOLDEN"):
        FIXTURE.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    assert json.loads(FIXTURE.read_text()) == json.loads(json.dumps(doc))


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A policy whose waiver reason and owner are hostile (a policy file may be shared too)."""
    path = tmp_path_factory.mktemp("hostile") / "policy.yaml"
    waiver = {
        "rule": "vpc-flow-logs-missing",
        "resource": "vpc-00000000000000002",
        "reason": "ok </details><img src=x onerror=alert(1)> \x1b[2J `x` | y",
        "owner": "\u202eevil",
    }
    path.write_text(yaml.safe_dump({"waivers": [waiver]}, allow_unicode=True))
    return path


def _run(*args: str, cols: int = 140) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(cols), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "vpcaudit", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def _evaluate(fmt: str, policy: Path, cols: int = 140) -> subprocess.CompletedProcess[str]:
    out = _run("evaluate", str(FIXTURE), "--format", fmt, "--policy", str(policy), cols=cols)
    # 3: the corpus has a gap on purpose (its message is hostile); never 2 or 4.
    assert out.returncode == 3, out.stderr
    return out


def _no_terminal_controls(text: str, where: str) -> None:
    bad = sorted({f"U+{ord(c):04X}" for c in TERMINAL_UNSAFE.findall(text)})
    assert not bad, f"{where}: raw control characters {bad}"


@pytest.mark.parametrize("cols", [80, 140])
def test_table_is_inert_on_a_terminal(policy: Path, cols: int) -> None:
    out = _evaluate("table", policy, cols)
    _no_terminal_controls(out.stdout, "stdout")
    _no_terminal_controls(out.stderr, "stderr")
    assert "\\x1b" in out.stdout  # shown escaped, so a reader sees something was there


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_json_and_sarif_parse_and_carry_no_raw_controls(policy: Path, fmt: str) -> None:
    out = _evaluate(fmt, policy)
    json.loads(out.stdout)
    _no_terminal_controls(out.stdout, fmt)  # `cat report.json` on a terminal stays safe


def test_json_keeps_the_values_exactly(policy: Path) -> None:
    """Escaping is for a context: the machine-readable report keeps the data as it was."""
    doc = json.loads(_evaluate("json", policy).stdout)
    messages = " ".join(f["message"] for f in doc["findings"])
    assert "<img src=x onerror=alert(1)>" in messages or "</details>" in messages


def test_markdown_has_no_raw_markup_from_data(policy: Path) -> None:
    text = _evaluate("markdown", policy).stdout
    outside_code = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    outside_code = re.sub(r"`[^`\n]*`", "", outside_code)
    for marker in MARKERS:
        if marker == "</details":  # the report folds long lists itself: balanced, not absent
            assert outside_code.count("<details>") == outside_code.count("</details>")
            continue
        assert marker not in outside_code, marker
    assert text.count("```") % 2 == 0
    # Data never starts a line of its own (a heading, a list, a quote): newlines are gone.
    for line in outside_code.splitlines():
        assert not line.lstrip().startswith(("# Injected", "# x", "- item", "> quote")), line


def test_csv_has_no_formula_cells(policy: Path) -> None:
    rows = list(csv.reader(io.StringIO(_evaluate("csv", policy).stdout)))
    for row in rows:
        for c in row:
            assert c[:1] not in ("=", "+", "-", "@"), c


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers += [k for k, _ in attrs if k.startswith("on")]


def test_html_has_only_the_templates_elements(policy: Path) -> None:
    page = _evaluate("html", policy).stdout
    found = _Elements()
    found.feed(page)
    assert "img" not in found.tags
    assert found.handlers == []
    # Data travels to scripts as JSON inside <script type="application/json">: it may hold
    # no "</" that would close the element early.
    for m in re.finditer(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S):
        assert "</" not in m.group(1) and "<!--" not in m.group(1)


def test_every_remediation_command_is_the_argv_it_shows(policy: Path) -> None:
    doc = json.loads(_evaluate("json", policy).stdout)
    for f in doc["findings"]:
        for line in str(f.get("remediation", "")).splitlines():
            if not line.lstrip().startswith("aws "):
                continue
            command = line.split("  #", 1)[0]
            words = shlex.split(command)
            assert words[0] == "aws"
            for w in words:
                # An operator the shell would act on is inside one quoted word, never bare.
                assert w not in (";", "|", "&&", "||", "&"), line


def test_path_answers_are_inert_in_every_format(tmp_path: Path) -> None:
    src, dst = "subnet-00000000000000001", "subnet-00000000000000002"
    for fmt in ("table", "json", "mermaid", "html"):
        out = _run("path", src, dst, "--snapshot", str(FIXTURE), "--format", fmt)
        assert out.returncode in (0, 1, 3), (fmt, out.stderr)
        if fmt in ("table", "json"):
            _no_terminal_controls(out.stdout, f"path {fmt}")
        _no_terminal_controls(out.stderr, f"path {fmt} stderr")
        if fmt == "mermaid":
            assert "<img" not in out.stdout and "click " not in out.stdout
