"""What reaches a terminal: hostile data stays inert (issue 13.6), and the table, colour,
--quiet, -v, rule selection and skipped regions of issue 14 ("The terminal")."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import structlog

from vpcaudit import __version__, cli, commands, logs
from vpcaudit.aws.collect import SPECS
from vpcaudit.errors import ConfigError
from vpcaudit.model import Gap
from vpcaudit.rules.registry import LoadedRule, load_rules
from vpcaudit.snapshot import Skipped, Snapshot
from vpcaudit.termtext import safe, safe_block, width, wrap

ACCOUNT = "111111111111"
OTHER = "222222222222"
# Clear screen, an OSC-8 hyperlink, a carriage return that overwrites the line, a C1 CSI
# (a one-byte ESC [) and a right-to-left override.
CLEAR = "\x1b[2J"
LINK = "\x1b]8;;http://x\x07link\x1b]8;;\x07"
HOSTILE = f"a{CLEAR}b {LINK} c\rd e\x9b31m f\u202eg"
# Every C0 control but newline, DEL, every C1 control, and the bidi overrides and isolates.
FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SGR = re.compile("\x1b\\[[0-9;]*m")


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """cli.main in-process: (exit code, stdout, stderr)."""
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_inert(text: str) -> None:
    """No control character a terminal would obey, and the hostile parts shown, escaped."""
    assert not FORBIDDEN.search(text), repr(FORBIDDEN.search(text))


def hostile_snapshot(tmp_path: Path, *, skipped: int = 0, accounts: int = 1) -> Path:
    """One VPC with no flow log whose Name tag (and the account's name, and a gap's message)
    carries terminal escapes; optionally regions skipped as not enabled."""
    regions = [f"xx-region-{i}" for i in range(skipped)]
    doc = Snapshot(
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:05Z",
        tool_version=__version__,
        accounts={ACCOUNT: HOSTILE},
        regions=(),
        gaps=(Gap(ACCOUNT, "eu-west-1", "ec2:DescribeVpcs", "AccessDenied", HOSTILE),),
        skipped=tuple(
            Skipped(a, r, "not enabled for the account (not-opted-in)")
            for a in [ACCOUNT, OTHER][:accounts]
            for r in regions
        ),
    ).to_dict()
    doc["regions"] = [
        {
            "account_id": ACCOUNT,
            "region": "us-west-2",
            "resources": {
                **{spec.kind: [] for spec in SPECS},
                "vpcs": [
                    {
                        "VpcId": "vpc-1",
                        "CidrBlock": "10.0.0.0/16",
                        "OwnerId": ACCOUNT,
                        "Tags": [{"Key": "Name", "Value": HOSTILE}],
                    }
                ],
            },
        }
    ]
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


# -- termtext ----------------------------------------------------------------------------------


def test_safe_shows_every_control_character_instead_of_obeying_it() -> None:
    text = safe(HOSTILE + "\n\t\x7f\x00\u2066")
    assert_inert(text)
    assert "\n" not in text  # a cell or a message line: a newline could forge a line
    for shown in ("\\x1b[2J", "\\x1b]8;;http://x\\x07", "\\x0d", "\\x9b31m", "\\u202e"):
        assert shown in text
    assert safe("vpc-1 (café, 東京)") == "vpc-1 (café, 東京)"


def test_safe_block_keeps_line_breaks_but_not_a_lone_carriage_return() -> None:
    assert safe_block("a\nb\tc\r\n") == "a\nb\tc\r\n"
    assert safe_block("a\rb") == "a\\x0db"
    assert_inert(safe_block(HOSTILE).replace("\n", ""))


def test_width_and_wrap_count_display_columns() -> None:
    assert width("東京ab") == 6
    lines = wrap("東京東京東京 " * 6, 20, "  ")
    assert all(width(line) <= 20 for line in lines)
    # A word wider than the line is cut rather than left to overflow.
    assert all(width(line) <= 10 for line in wrap("x" * 35, 10))


# -- hostile data stays inert on stdout and stderr ----------------------------------------------


@pytest.mark.parametrize("cols", ["80", "140"])
def test_table_report_shows_hostile_tags_escaped(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    cols: str,
) -> None:
    monkeypatch.setenv("COLUMNS", cols)
    code, out, err = run_main(["evaluate", str(hostile_snapshot(tmp_path, skipped=3))], capsys)
    assert code == 3  # the gap: incomplete
    assert_inert(out)
    assert_inert(err)
    # The reader sees that something was there: the Name tag, the account name, the gap.
    assert out.count("\\x1b[2J") >= 3
    assert "\\u202e" in out


def test_rules_listing_and_detail_show_a_plugins_hostile_docs_escaped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = load_rules()
    base = real["vpc-flow-logs-missing"]
    evil = replace(base.rule, title=HOSTILE, rationale=HOSTILE, remediation=HOSTILE)

    def rules(*_: Any, **__: Any) -> dict[str, LoadedRule]:
        return {**real, "vpc-flow-logs-missing": LoadedRule(evil, HOSTILE)}

    monkeypatch.setattr(commands, "loaded_rules", rules)
    for argv in (["rules"], ["rules", "vpc-flow-logs-missing"]):
        code, out, err = run_main(argv, capsys)
        assert code == 0
        assert_inert(out + err)
        assert "\\x1b[2J" in out


def _report_file(tmp_path: Path, name: str, resource_id: str) -> Path:
    finding = {
        "rule_id": "vpc-flow-logs-missing",
        "severity": "medium",
        "account_id": ACCOUNT,
        "region": "us-west-2",
        "resource_type": "vpc",
        "resource_id": resource_id,
        "resource_arn": "arn",
        "message": HOSTILE,
        "fingerprint": resource_id,
    }
    doc = {"tool": {"name": "vpcaudit"}, "scan": {"accounts": [ACCOUNT]}, "findings": [finding]}
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_diff_table_shows_hostile_report_fields_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _report_file(tmp_path, "old.json", "vpc-old")
    new = _report_file(tmp_path, "new.json", f"vpc-{CLEAR}{LINK}\x9b2J\u202e")
    code, out, err = run_main(["diff", str(old), str(new)], capsys)
    assert code == 0
    assert_inert(out + err)
    assert "vpc-\\x1b[2J" in out


def test_error_lines_quote_hostile_text_escaped_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real error that quotes a name it did not choose: a report file named with escapes.
    named = tmp_path / f"r{CLEAR}\u202e.json"
    named.write_text("not json", encoding="utf-8")
    code, out, err = run_main(["diff", str(named), str(named)], capsys)
    assert (code, out) == (2, "")
    assert_inert(err)
    assert "\\x1b[2J" in err and err.count("\n") == 1

    # A configuration error or a bug whose text embeds snapshot content, newline included.
    def fail(exc: Exception) -> Callable[[Any], int]:
        def command(_: Any) -> int:
            raise exc

        return command

    for exc in (ConfigError(f"bad {HOSTILE}\nvpcaudit: forged"), RuntimeError(HOSTILE)):
        monkeypatch.setitem(commands.COMMANDS, "rules", fail(exc))
        code, out, err = run_main(["rules"], capsys)
        assert code in (2, 4)
        assert_inert(err)
        assert err.count("\n") == 1, err  # the embedded newline cannot forge a second line


def test_console_log_lines_are_inert_and_json_log_lines_escape() -> None:
    for fmt in ("console", "json"):
        stream = io.StringIO()
        logs.configure("debug", fmt, stream)
        log = structlog.get_logger("test")
        log.warning(HOSTILE, tag=HOSTILE, tags=[HOSTILE])
        try:
            raise ValueError(HOSTILE)
        except ValueError:
            log.error("failed", exc_info=True)
        text = stream.getvalue()
        assert_inert(text)
        if fmt == "json":
            # JSON escapes the controls yet keeps the data exact for a log pipeline.
            warning, error = (json.loads(line) for line in text.splitlines())
            assert warning["event"] == warning["tag"] == warning["tags"][0] == HOSTILE
            assert error["exception"][0]["exc_value"] == HOSTILE
        else:
            assert text.count("\\x1b[2J") >= 2 and "Traceback" in text
    structlog.reset_defaults()


# -- colour, --quiet ---------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _evaluate_on_tty(snapshot: Path, *flags: str) -> tuple[int, str]:
    tty = _Tty()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sys.stdout", tty)
        code = cli.main(["evaluate", str(snapshot), "--allow-partial", *flags])
    return code, tty.getvalue()


def test_colour_by_severity_on_a_terminal_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    snap = hostile_snapshot(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    _, out = _evaluate_on_tty(snap)
    assert "\x1b[33mMEDIUM\x1b[0m (1)" in out
    assert "\x1b[33mMEDIUM\x1b[0m  vpc-flow-logs-missing" in out
    # The only escape sequences are our colours: the hostile ones are still shown escaped.
    assert_inert(SGR.sub("", out))
    assert "\\x1b[2J" in out

    monkeypatch.setenv("NO_COLOR", "")  # empty: not set, per no-color.org
    assert SGR.search(_evaluate_on_tty(snap)[1])
    for env, flags in (("1", ()), ("", ("--no-color",))):
        monkeypatch.setenv("NO_COLOR", env)
        assert not SGR.search(_evaluate_on_tty(snap, *flags)[1])

    monkeypatch.delenv("NO_COLOR", raising=False)
    _, out, _ = run_main(["evaluate", str(snap)], capsys)  # not a terminal
    assert "MEDIUM (1)" in out and "\x1b" not in out


def test_quiet_prints_only_the_summary_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = hostile_snapshot(tmp_path)
    report = tmp_path / "r.json"
    for fmt in ("table", "json"):
        code, out, err = run_main(
            ["evaluate", str(snap), "-q", "--format", fmt, "--output-json", str(report)], capsys
        )
        assert code == 3
        assert out == "Summary: 1 finding(s) (1 medium); coverage INCOMPLETE (1 gap(s))\n"
        assert err == ""
        assert json.loads(report.read_text())["summary"]["total"] == 1  # files stay whole


# -- --rules / --skip-rules --------------------------------------------------------------------


def _rule_ids(out: str) -> set[str]:
    return {f["rule_id"] for f in json.loads(out)["findings"]}


def test_rules_and_skip_rules_take_ids_and_globs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = str(hostile_snapshot(tmp_path))
    base = ["evaluate", snap, "--format", "json", "--allow-partial"]
    _, out, _ = run_main(base, capsys)
    assert "vpc-flow-logs-missing" in _rule_ids(out)
    everything = json.loads(out)["summary"]["rules_run"]

    _, out, _ = run_main([*base, "--rules", "peering-*,vpc-flow-*"], capsys)
    ran = json.loads(out)["summary"]["rules_run"]
    assert ran and all(r.startswith(("peering-", "vpc-flow-")) for r in ran)
    assert _rule_ids(out) == {"vpc-flow-logs-missing"}

    _, out, _ = run_main(
        [*base, "--skip-rules", "vpc-flow-logs-*", "--skip-rules", "nat-*"], capsys
    )
    ran = json.loads(out)["summary"]["rules_run"]
    assert set(everything) - set(ran) == {
        r for r in everything if r.startswith(("vpc-flow-logs-", "nat-"))
    }
    assert _rule_ids(out) == set()


def test_rules_switched_off_by_flag_are_listed_as_disabled() -> None:
    from vpcaudit.evaluate import rules_switched_off  # noqa: PLC0415

    ids = ["peering-route-one-way", "peering-pending-expiring", "vpc-flow-logs-missing"]
    assert rules_switched_off(ids, ["peering-*"], ["peering-pending-*"]) == {
        "peering-pending-expiring",
        "vpc-flow-logs-missing",
    }


def test_report_data_lists_rules_the_flags_switched_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[tuple[str, ...]] = []
    real = commands.exit_code

    def spy(data: Any, *args: Any, **kwargs: Any) -> int:
        seen.append(data.disabled_rules)
        return real(data, *args, **kwargs)

    monkeypatch.setattr(commands, "exit_code", spy)
    run_main(["evaluate", str(hostile_snapshot(tmp_path)), "--skip-rules", "nat-*"], capsys)
    assert seen and {r for r in seen[0] if r.startswith("nat-")} == {
        r for r in load_rules() if r.startswith("nat-")
    }


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["evaluate", "s.json", "--rules", "vpc-flowlogs-missing"], "vpc-flow-logs-missing"),
        (["evaluate", "s.json", "--skip-rules", "peerng-route-*"], "peering-route-one-way"),
        # scan: refused before any AWS call (the sandbox has no endpoint to call).
        (["scan", "--rules", "vpc-flow-logs-missing,endpiont-sg-open"], "endpoint-sg-open"),
    ],
)
def test_a_rule_pattern_that_matches_nothing_is_one_line_naming_close_ids(
    capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    code, out, err = run_main(argv, capsys)
    assert (code, out) == (2, "")
    assert err.startswith("vpcaudit: error: ") and err.count("\n") == 1
    assert "matches no rule" in err and named in err


# -- skipped regions ---------------------------------------------------------------------------


def test_skipped_regions_are_one_line_per_reason_and_listed_with_v(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    snap = str(hostile_snapshot(tmp_path, skipped=14, accounts=2))
    _, out, _ = run_main(["evaluate", snap], capsys)
    skipped = [line for line in out.splitlines() if "skipped" in line]
    assert skipped == [
        "  skipped 14 regions in 2 accounts: not enabled for the account (not-opted-in)"
    ]
    assert "xx-region-3" not in out
    _, out, _ = run_main(["evaluate", snap, "-v"], capsys)
    assert all(f"xx-region-{i}" in out for i in range(14))
    assert max(width(line) for line in out.splitlines()) <= 80
    _, out, _ = run_main(["evaluate", snap, "--format", "json"], capsys)
    assert len(json.loads(out)["scan"]["skipped"]) == 28
