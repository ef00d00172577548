"""The HTML report and path page without a browser: structure (golden), escaping of hostile
AWS strings, the embedded library's provenance, and the CLI wiring (--format/--output-html/
--report-to, `path --format html`)."""

from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.builders import ACCOUNT, SnapshotBuilder, hours_from_now
from tests.network.test_path_cli import _topology
from tests.report_golden import SNAPSHOT, check_golden, golden_report, report_for
from vpcaudit import cli
from vpcaudit.report import html
from vpcaudit.report.html_assets import (
    LIBRARIES,
    EmbedError,
    asset,
    inline_script,
    library,
    script_json,
)

HOSTILE = (
    "</script><img src=x onerror=alert(1)></details><!-- `${alert(2)}`\n"
    "\x1b[31mred\x1b[0m \u2028 ' \" &amp; <b>bold</b>"
)
SHA256 = {
    "cytoscape.min.js": "71fa9ebec21a7ca2c40cff6aacc30d1f6464e363662ad4b2c197e1adc770cd94",
    "layout-base.js": "ec15ab5df9af3f20708f4faab994accf91cda71848cd5bb10a23432cc50b6745",
    "cose-base.js": "7cae9509bd36235a63a85e71c8d9fa2cd0bc1d0c1ecc5b5a737976f39d040ddf",
    "cytoscape-fcose.js": "4b1cab218d74996aa59cd8473f9239cc6398b8c1774d84d7e59ad9a68959cb57",
}
"""The npm files as published (see vpcaudit/report/assets/README.md)."""


class Page(HTMLParser):
    """Every element, attribute and text of a page, and the contents of each <script>."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ends: list[str] = []
        self.texts: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append((self._in_script, ""))

    def handle_endtag(self, tag: str) -> None:
        self.ends.append(tag)
        self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        else:
            self.texts.append(data)

    def payload(self) -> Any:
        """The JSON the page hands its scripts."""
        [text] = [t for a, t in self.scripts if a.get("id") == "vpcaudit-data"]
        return json.loads(text)


def skeleton(text: str) -> str:
    """What the golden file pins: sections, headings, table headers, each finding's data
    attributes, then the JSON payload (not the bytes of the embedded library or the CSS)."""
    page = Page(text)
    lines: list[str] = []
    for tag, attrs in page.tags:
        if "id" in attrs and tag != "script":
            lines.append(f"{tag}#{attrs['id']}")
        if tag == "tbody" and "finding" in (attrs.get("class") or ""):
            data = {k: v for k, v in attrs.items() if k.startswith("data-")}
            lines.append(f"  finding {json.dumps(data, sort_keys=True)}")
    parser = _Headings(text)
    lines += [f"{t}: {s}" for t, s in parser.items]
    return "\n".join(lines) + "\n--- payload ---\n" + json.dumps(page.payload(), indent=1) + "\n"


class _Headings(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, str]] = []
        self._open: str | None = None
        self._buf = ""
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h1", "h2", "h3", "h4", "th"):
            self._open, self._buf = tag, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            self.items.append((tag, " ".join(self._buf.split())))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self._buf += data


def test_golden_report_structure() -> None:
    text = html.render(golden_report())
    check_golden("report.html.skeleton.txt", skeleton(text))


def test_report_sections_and_content() -> None:
    data = golden_report()
    page = Page(html.render(data))
    ids = {a.get("id") for _, a in page.tags}
    assert {"summary", "topology", "findings", "checked", "coverage", "graph"} <= ids
    findings = [
        a for t, a in page.tags if t == "tbody" and a.get("class", "").startswith("finding")
    ]
    assert len(findings) == len(data.evaluation.findings)
    # Most severe first; the waived one last.
    ranks = ["critical", "high", "medium", "low", "info"]
    live = [a["data-severity"] for a in findings if a["data-waived"] == "false"]
    assert live == sorted(live, key=ranks.index)
    assert findings[-1]["data-waived"] == "true"
    text = " ".join(page.texts)
    assert "Sandbox VPC, torn down nightly" in text  # the waiver, shown with its finding
    assert "tests/fixtures/golden/waivers.yaml" in text  # a policy file applied
    assert "DescribeFlowLogs" in text  # the coverage gap
    assert f"${data.cost_usd_per_month():,.2f}" in text
    # Each remediation command has its own copy button.
    commands = sum(f.remediation.count("aws ") for f in data.evaluation.findings)
    assert sum(1 for t, a in page.tags if t == "button" and a.get("class") == "copy") == commands
    # Findings are drawn: the one-way peering carries its finding and its state.
    edges = {e["id"]: e for e in page.payload()["graph"]["edges"]}
    assert edges["pcx-0oneway"]["state"] == "one-way"
    assert edges["pcx-0oneway"]["findings"]
    assert edges["pcx-0gone"]["state"] == "blackhole"


def test_no_external_url_or_network_hook() -> None:
    text = html.render(golden_report())
    assert not re.search(r"https?://", text)
    page = Page(text)
    for _, attrs in page.tags:
        for name in ("src", "href", "action", "srcset", "poster"):
            value = attrs.get(name) or ""
            assert not value or value.startswith("#"), (name, value)
    ours = "\n".join(asset(n) for n in ("common.js", "report.js", "path.js"))
    for hook in ("fetch(", "XMLHttpRequest", "WebSocket", "EventSource", "sendBeacon", "import("):
        assert hook not in ours


def _hostile_report() -> str:
    b = SnapshotBuilder(org_account_ids=[ACCOUNT])
    b.account(ACCOUNT, HOSTILE)
    b.vpc("vpc-0evil", "10.0.0.0/16", name=HOSTILE)
    b.vpc("vpc-0peer", "10.1.0.0/16", name="peer" + HOSTILE)
    b.peering(
        "pcx-0evil",
        "vpc-0evil",
        "vpc-0peer",
        status="pending-acceptance",
        expires=hours_from_now(5),
    )
    return html.render(report_for(b.build()))


def test_hostile_names_stay_text() -> None:
    text = _hostile_report()
    page = Page(text)
    assert not [t for t, _ in page.tags if t in ("img", "b")]
    assert not [(t, k) for t, a in page.tags for k in a if k.startswith("on")]
    assert [t for t, _ in page.tags].count("script") == 3
    assert page.ends.count("script") == 3
    assert [t for t, _ in page.tags].count("details") == page.ends.count("details")
    # Escaped, not dropped: the name reads back whole as text and as JSON data.
    assert any(HOSTILE.replace("\u2028", "") in t.replace("\u2028", "") for t in page.texts)
    labels = [n.get("label", "") for n in page.payload()["graph"]["nodes"]]
    assert any(HOSTILE in label for label in labels)
    raw = next(t for a, t in page.scripts if a.get("id") == "vpcaudit-data")
    assert not re.search("[<>&\u2028\u2029]", raw)


def test_script_json_and_inline_guards() -> None:
    assert str(script_json({"a": "</script>&\u2028"})) == (
        '{"a":"\\u003c/script\\u003e\\u0026\\u2028"}'
    )
    with pytest.raises(EmbedError):
        inline_script("var s = '</SCRIPT>';")
    with pytest.raises(EmbedError):
        inline_script("<!-- x")


def test_embedded_libraries_are_the_published_files() -> None:
    folder = Path(html.__file__).parent / "assets"
    for name in LIBRARIES:
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == SHA256[name], name
        licence = (folder / f"{name.split('.')[0]}.LICENSE").read_text("utf-8")
        assert "Permission is hereby granted, free of charge" in licence, name


def test_urls_dropped_from_the_libraries_were_all_in_comments() -> None:
    for name in LIBRARIES:
        code = asset(name)
        for m in re.finditer(r"https?://", code):
            line = code[code.rfind("\n", 0, m.start()) + 1 : m.start()]
            opened = code.rfind("/*", 0, m.start())
            in_block = opened != -1 and code.find("*/", opened) > m.start()
            assert "//" in line.replace("://", "") or in_block, (name, line)
    assert "://" not in str(library())


def test_cli_writes_html_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    reports = tmp_path / "reports"
    rc = cli.main(
        [
            "evaluate",
            str(SNAPSHOT),
            "--format",
            "json",
            "--output-html",
            str(out),
            "--report-to",
            str(reports),
            "--report-formats",
            "html,json",
            "--fail-on",
            "none",
            "--allow-partial",
        ]
    )
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["findings"]
    assert out.read_text("utf-8").startswith("<!DOCTYPE html>")
    written = sorted(p.name for p in reports.rglob("*.html"))
    assert "latest.html" in written and len(written) == 2


def test_path_answer_as_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snap = tmp_path / "snap.json"
    snap.write_text(_topology().build().dumps())
    out = tmp_path / "path.html"
    argv = ["path", "eni-web", "eni-db", "--protocol", "tcp", "--port", "22"]
    rc = cli.main([*argv, "--snapshot", str(snap), "--format", "html", "-o", str(out)])
    assert rc == 1
    page = Page(out.read_text("utf-8"))
    text = " ".join(page.texts)
    assert "NOT-REACHABLE" in text and "SG_INGRESS_DENIED" in text
    graph = page.payload()["graph"]
    assert graph["nodes"][0]["id"] == "source"
    assert any(n.get("severity") == "high" for n in graph["nodes"])  # the block, drawn red
    assert len(graph["edges"]) == len(graph["nodes"]) - 1
    assert not re.search(r"https?://", out.read_text("utf-8"))
