"""Third-party rules load through the `vpcaudit.rules` entry-point group, like built-in ones."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from tests.builders import SnapshotBuilder
from vpcaudit.errors import ConfigError
from vpcaudit.rules.registry import GROUP, load_rules

FIXTURE = Path(__file__).parent / "fixtures" / "plugin_example"
PLUGIN_RULE = "example-vpc-owner-tag-missing"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Install the example plugin package with pip into a private directory."""
    work = tmp_path_factory.mktemp("plugin")
    src = work / "src"
    shutil.copytree(FIXTURE, src)  # pip builds in place: keep the fixture tree clean
    target = work / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--target",
            str(target),
            str(src),
        ],
        check=True,
        capture_output=True,
    )
    return target


def _run(plugin_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), str(Path.cwd())])}
    return subprocess.run(
        [sys.executable, "-m", "vpcaudit", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _snapshot(tmp_path: Path) -> Path:
    b = SnapshotBuilder()
    b.vpc("vpc-untagged", "10.0.0.0/16")
    b.vpc("vpc-owned", "10.1.0.0/16", extra_tags={"owner": "net-team", "team": "net"})
    path = tmp_path / "snap.json"
    b.build().save(path)
    return path


def test_plugin_rule_is_listed_with_its_params(plugin_path: Path) -> None:
    out = _run(plugin_path, "rules", "--format", "json", "--plugin", PLUGIN_RULE)
    assert out.returncode == 0, out.stderr
    docs = {d["id"]: d for d in json.loads(out.stdout)}
    assert PLUGIN_RULE in docs
    assert docs[PLUGIN_RULE]["params"] == [{"name": "tag_key", "type": "str", "default": "owner"}]
    assert docs[PLUGIN_RULE]["source"].startswith("vpcaudit-example-rules:")
    # The built-in rules come through the same entry-point group.
    assert docs["peering-route-one-way"]["source"].startswith("vpcaudit:")


def test_plugin_rule_runs_on_a_snapshot(plugin_path: Path, tmp_path: Path) -> None:
    out = _run(
        plugin_path,
        "evaluate",
        str(_snapshot(tmp_path)),
        "--format",
        "json",
        "--plugin",
        "vpcaudit-example-rules",  # by its package name
    )
    doc = json.loads(out.stdout)
    findings = [f for f in doc["findings"] if f["rule_id"] == PLUGIN_RULE]
    assert [f["resource_id"] for f in findings] == ["vpc-untagged"]
    assert findings[0]["severity"] == "low"
    # Issue 13: the report names every third-party rule that ran, and where it came from.
    assert doc["summary"]["third_party_rules_run"] == {
        PLUGIN_RULE: "vpcaudit-example-rules:vpcaudit_example_rules:OWNER_TAG_MISSING"
    }


def test_plugin_rule_is_configurable_from_a_policy(plugin_path: Path, tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        f"rules:\n  {PLUGIN_RULE}:\n    severity: high\n    params:\n      tag_key: team\n"
    )
    snap = _snapshot(tmp_path)
    out = _run(plugin_path, "evaluate", str(snap), "--format", "json", "--policy", str(policy))
    findings = [f for f in json.loads(out.stdout)["findings"] if f["rule_id"] == PLUGIN_RULE]
    assert [(f["resource_id"], f["severity"]) for f in findings] == [("vpc-untagged", "high")]
    assert findings[0]["evidence"]["tag_key"] == "team"

    policy.write_text(f"rules:\n  {PLUGIN_RULE}:\n    params:\n      tag_keyy: team\n")
    bad = _run(plugin_path, "evaluate", str(snap), "--policy", str(policy))
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        f"vpcaudit: error: {policy}:4: rule '{PLUGIN_RULE}' has no parameter 'tag_keyy' "
        "(parameters: tag_key)"
    )


def test_an_installed_plugin_nobody_named_is_not_imported(
    plugin_path: Path, tmp_path: Path
) -> None:
    """Issue 13: a third-party rule runs with the scanner's credentials in memory, so it loads
    only when --plugin or a policy names it; otherwise its module is not even imported."""
    probe = (
        "import sys; from vpcaudit.rules.registry import load_rules; rules = load_rules(); "
        "print('vpcaudit_example_rules' in sys.modules, 'example-vpc-owner-tag-missing' in rules)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), str(Path.cwd())])}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]

    snap = _snapshot(tmp_path)
    plain = _run(plugin_path, "evaluate", str(snap), "--format", "json")
    doc = json.loads(plain.stdout)
    assert PLUGIN_RULE not in {f["rule_id"] for f in doc["findings"]}
    assert doc["summary"]["third_party_rules_run"] == {}
    listing = _run(plugin_path, "rules")
    assert PLUGIN_RULE not in listing.stdout
    assert "1 installed third-party rule(s) not loaded" in listing.stderr
    assert "vpcaudit-example-rules:vpcaudit_example_rules:OWNER_TAG_MISSING" in listing.stderr


def test_a_policy_names_a_plugin_by_its_plugins_list(plugin_path: Path, tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("plugins:\n  - vpcaudit-example-rules\n")
    out = _run(
        plugin_path,
        "evaluate",
        str(_snapshot(tmp_path)),
        "--format",
        "json",
        "--policy",
        str(policy),
    )
    assert PLUGIN_RULE in {f["rule_id"] for f in json.loads(out.stdout)["findings"]}


def test_an_unknown_plugin_name_is_one_line_and_exit_2(plugin_path: Path, tmp_path: Path) -> None:
    out = _run(plugin_path, "evaluate", str(_snapshot(tmp_path)), "--plugin", "example-vpc-owner")
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "vpcaudit: error: no installed rule plugin is named 'example-vpc-owner' (installed: "
        "example-vpc-owner-tag-missing, vpcaudit-example-rules); did you mean "
        "'example-vpc-owner-tag-missing'?"
    )


def test_without_the_plugin_its_policy_key_is_unknown(tmp_path: Path) -> None:
    """The plugin's id only validates when the plugin is installed."""
    assert PLUGIN_RULE not in load_rules()


def test_duplicate_rule_ids_name_both_sources() -> None:
    # Two entry points, from two places, that both define the id peering-route-one-way.
    eps = [
        EntryPoint("peering-route-one-way", "vpcaudit.rules.peering:ROUTE_ONE_WAY", GROUP),
        EntryPoint("copy-of-one-way", "vpcaudit.rules.peering:route_one_way", GROUP),
    ]
    with pytest.raises(ConfigError, match="duplicate rule id 'peering-route-one-way'") as exc:
        load_rules(eps)
    assert "vpcaudit.rules.peering:ROUTE_ONE_WAY" in str(exc.value)
    assert "vpcaudit.rules.peering:route_one_way" in str(exc.value)


def test_an_entry_point_that_is_not_a_rule_is_refused() -> None:
    eps = [EntryPoint("bogus", "vpcaudit.rules.peering:PENDING_LIFETIME_HOURS", GROUP)]
    with pytest.raises(ConfigError, match="is not a vpcaudit Rule"):
        load_rules(eps)


def test_every_built_in_rule_says_which_legitimate_designs_it_leaves_alone() -> None:
    """Issue 11: `vpcaudit rules RULE` states, for each rule, what it deliberately does not
    flag (hub endpoints, hybrid DNS, central egress, shared VPCs, ...)."""
    from vpcaudit.report import rules_doc  # noqa: PLC0415
    from vpcaudit.rules.registry import load_rules  # noqa: PLC0415

    for rule_id, loaded in load_rules().items():
        if not loaded.source.startswith("vpcaudit:vpcaudit.rules."):
            continue
        assert loaded.rule.legitimate, rule_id
        text = rules_doc.render_one(loaded, "table")
        assert "Deliberately not flagged" in text and loaded.rule.legitimate[0][:40] in text


def test_every_human_format_names_the_third_party_rules_that_ran(
    plugin_path: Path, tmp_path: Path
) -> None:
    """Issue 13: a reader of any report can tell that code from outside vpcaudit ran."""
    snap = str(_snapshot(tmp_path))
    source = "vpcaudit-example-rules:vpcaudit_example_rules:OWNER_TAG_MISSING"
    table = _run(plugin_path, "evaluate", snap, "--plugin", PLUGIN_RULE, "--no-color")
    assert f"Third-party rules ran: {PLUGIN_RULE} ({source})" in " ".join(table.stdout.split())
    md = _run(plugin_path, "evaluate", snap, "--plugin", PLUGIN_RULE, "--format", "markdown")
    assert f"| Third-party rules run | `{PLUGIN_RULE}` (`{source}`) |" in md.stdout
    page = _run(plugin_path, "evaluate", snap, "--plugin", PLUGIN_RULE, "--format", "html")
    assert 'id="checked-third-party"' in page.stdout and source in page.stdout
    plain = _run(plugin_path, "evaluate", snap, "--format", "markdown")
    assert "| Third-party rules run | none |" in plain.stdout


def test_sarif_names_the_plugin_package_as_a_tool_extension(
    plugin_path: Path, tmp_path: Path
) -> None:
    from tests.test_report_sarif import schema_errors  # noqa: PLC0415

    out = _run(
        plugin_path,
        "evaluate",
        str(_snapshot(tmp_path)),
        "--plugin",
        PLUGIN_RULE,
        "--format",
        "sarif",
    )
    doc = json.loads(out.stdout)
    assert schema_errors(doc) == []
    (ext,) = doc["runs"][0]["tool"]["extensions"]
    assert ext["name"] == "vpcaudit-example-rules"
    assert ext["properties"]["rules"] == [PLUGIN_RULE]
    plain = json.loads(
        _run(plugin_path, "evaluate", str(_snapshot(tmp_path)), "--format", "sarif").stdout
    )
    assert "extensions" not in plain["runs"][0]["tool"]
