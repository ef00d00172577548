"""Command line: thin wiring of argparse onto functions the tests call directly.

This is the only module that writes to stdout or decides the exit code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog
from tabulate import tabulate

from vpcaudit import __version__, destinations, logs
from vpcaudit.aws.targets import RoleOptions
from vpcaudit.baseline import diff_reports, load_report
from vpcaudit.errors import ConfigError, VpcauditError
from vpcaudit.evaluate import at_or_above, evaluate
from vpcaudit.inventory import Inventory, parse_time
from vpcaudit.model import Severity
from vpcaudit.policy import Policy, load_policy
from vpcaudit.progress import BarProgress
from vpcaudit.report import Format, ReportData
from vpcaudit.report.outputs import EXTENSIONS, OutputPlan, build_report, render, write_files
from vpcaudit.rules.registry import load_rules
from vpcaudit.scan import DEFAULT_ORG_ROLE, ScanOptions, run_scan, validate
from vpcaudit.snapshot import Snapshot, merge_snapshots

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
FAIL_ON_NONE = "none"


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> Any:
        """Print one line to stderr and exit 2."""
        self.exit(EXIT_USAGE, f"vpcaudit: error: {message}\n")


def _severity_or_none(text: str) -> Severity | None:
    if text.strip().lower() == FAIL_ON_NONE:
        return None
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=[f.value for f in Format],
        default=Format.TABLE.value,
        help="report format (default: table)",
    )
    p.add_argument("--output", "-o", type=Path, help="write the report to FILE, not stdout")
    p.add_argument(
        "--fail-on",
        type=_severity_or_none,
        default=Severity.LOW,
        metavar="SEVERITY",
        help="exit 1 when a finding is at or above this severity: critical, high, "
        "medium, low, info, or none (default: low)",
    )
    p.add_argument(
        "--allow-partial", action="store_true", help="do not exit 3 when the scan has coverage gaps"
    )
    for fmt in Format:
        p.add_argument(
            f"--output-{fmt.value}",
            type=Path,
            metavar="FILE",
            help=f"also write the {fmt.value} report to FILE",
        )
    p.add_argument(
        "--report-to",
        action="append",
        default=[],
        metavar="DIR|s3://BUCKET/PREFIX/",
        help="write timestamped reports and latest.* copies there (repeatable); an s3:// "
        "destination is the only write vpcaudit makes to AWS",
    )
    p.add_argument(
        "--report-formats",
        type=_formats,
        default=[Format.JSON, Format.SARIF],
        metavar="FMT[,FMT]",
        help="formats for --report-to (default: json,sarif)",
    )
    p.add_argument(
        "--sarif-category",
        metavar="ID",
        help="SARIF automationDetails category (default: vpcaudit/<scope>)",
    )
    p.add_argument(
        "--baseline",
        type=Path,
        metavar="REPORT.json",
        help="mark findings new or unchanged against an earlier JSON report",
    )
    p.add_argument(
        "--fail-on-new",
        action="store_true",
        help="apply --fail-on to new findings only (needs --baseline)",
    )
    p.add_argument(
        "--policy",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="policy YAML (repeatable; later files override earlier ones)",
    )


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log-level", choices=logs.LEVELS, default="warning")
    p.add_argument(
        "--log-format",
        choices=("console", "json"),
        default=None,
        help="log lines on stderr: console on a TTY, json otherwise (default)",
    )


def _formats(text: str) -> list[Format]:
    try:
        return [Format(x.strip()) for x in text.split(",") if x.strip()]
    except ValueError:
        names = ", ".join(f.value for f in Format)
        raise argparse.ArgumentTypeError(f"{text!r}: formats are {names}") from None


def _shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not I/N, e.g. 0/4") from None
    if n < 1 or not 0 <= i < n:
        raise argparse.ArgumentTypeError(f"shard {text!r}: need 0 <= I < N")
    return i, n


def _account_list(text: str) -> list[str]:
    return [a.strip() for a in text.split(",") if a.strip()]


def _add_target_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("accounts (default: the account of the credentials)")
    g.add_argument(
        "--role-arn",
        action="append",
        default=[],
        metavar="ARN",
        help="assume this role and scan its account (repeatable)",
    )
    g.add_argument("--external-id", help="ExternalId for every role assumed")
    g.add_argument("--role-session-name", default="vpcaudit")
    g.add_argument(
        "--duration",
        type=int,
        metavar="SECONDS",
        help="lifetime of assumed-role credentials (they refresh during a scan)",
    )
    g.add_argument(
        "--org",
        action="store_true",
        help="scan every ACTIVE account of the Organization (needs management or "
        "delegated-admin credentials)",
    )
    g.add_argument(
        "--org-role-name",
        default=DEFAULT_ORG_ROLE,
        metavar="NAME",
        help=f"role assumed in each member account (default {DEFAULT_ORG_ROLE})",
    )
    g.add_argument(
        "--accounts",
        type=_account_list,
        action="extend",
        default=[],
        metavar="ID[,ID]",
        help="only these accounts",
    )
    g.add_argument(
        "--exclude-accounts", type=_account_list, action="extend", default=[], metavar="ID[,ID]"
    )
    g.add_argument(
        "--org-include-management",
        action="store_true",
        help="also scan the management account (skipped by default)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = _Parser(prog="vpcaudit", description=__doc__)
    parser.add_argument("--version", action="version", version=f"vpcaudit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    scan = sub.add_parser("scan", help="scan AWS accounts and report findings")
    scan.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    scan.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="REGION",
        help="scan only this region (repeatable; default: every enabled region)",
    )
    scan.add_argument("--exclude-region", action="append", default=[], metavar="REGION")
    _add_target_options(scan)
    scan.add_argument("--workers", type=int, default=16, help="parallel API tasks (default 16)")
    scan.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    scan.add_argument(
        "--save-snapshot",
        metavar="FILE",
        help="save the raw scan for `vpcaudit evaluate` later (a file or s3:// URI)",
    )
    scan.add_argument(
        "--shard",
        type=_shard,
        metavar="I/N",
        help="scan only shard I of N of the accounts (stable hash; e.g. "
        "$(JOB_COMPLETION_INDEX)/4); merge the snapshots with `vpcaudit merge`",
    )
    scan.add_argument(
        "--demo",
        action="store_true",
        help="scan the embedded demo organization (moto, in-process, no AWS)",
    )
    _add_output_options(scan)
    _add_common(scan)

    ev = sub.add_parser("evaluate", help="evaluate a saved snapshot offline")
    ev.add_argument("snapshot", metavar="SNAPSHOT", help="a snapshot file or s3:// URI")
    _add_output_options(ev)
    _add_common(ev)

    merge = sub.add_parser("merge", help="join shard snapshots (files or s3:// URIs)")
    merge.add_argument("snapshots", nargs="+", metavar="SNAPSHOT")
    merge.add_argument(
        "--output",
        "-o",
        required=True,
        metavar="FILE",
        help="the merged snapshot: a file or s3:// URI",
    )
    _add_common(merge)

    diff = sub.add_parser("diff", help="compare two JSON reports: new, resolved, unchanged")
    diff.add_argument("old", type=Path, metavar="OLD.json")
    diff.add_argument("new", type=Path, metavar="NEW.json")
    diff.add_argument("--format", choices=("table", "json"), default="table")
    _add_common(diff)

    pol = sub.add_parser("policy", help="work with policy files")
    pol_sub = pol.add_subparsers(dest="policy_command", required=True, parser_class=_Parser)
    check = pol_sub.add_parser("check", help="validate policy files (no AWS access)")
    check.add_argument("files", type=Path, nargs="+", metavar="FILE")
    _add_common(check)

    rules = sub.add_parser("rules", help="list the rules, or show one")
    rules.add_argument("rule_id", nargs="?")
    rules.add_argument("--format", choices=("table", "json"), default="table")
    _add_common(rules)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `vpcaudit` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    logs.configure(args.log_level, args.log_format)
    commands = {
        "scan": cmd_scan,
        "evaluate": cmd_evaluate,
        "rules": cmd_rules,
        "policy": cmd_policy_check,
        "diff": cmd_diff,
        "merge": cmd_merge,
    }
    try:
        return commands[args.command](args)
    except VpcauditError as exc:
        print(f"vpcaudit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours, and no traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("vpcaudit: interrupted", file=sys.stderr)
        return 130


def cmd_scan(args: argparse.Namespace) -> int:
    """`vpcaudit scan`: collect, optionally save the snapshot, evaluate, report."""
    rules = {k: v.rule for k, v in load_rules().items()}
    policy = load_policy(args.policy, rules)  # a bad policy stops us before any AWS call
    plan = output_plan(args)
    opts = ScanOptions(
        profile=args.profile,
        regions=tuple(args.region),
        exclude_regions=tuple(args.exclude_region),
        workers=args.workers,
        role_arns=tuple(args.role_arn),
        role=RoleOptions(args.external_id, args.role_session_name, args.duration),
        org=args.org,
        org_role_name=args.org_role_name,
        accounts=tuple(args.accounts),
        exclude_accounts=tuple(args.exclude_accounts),
        org_include_management=args.org_include_management,
        shard=args.shard,
    )
    validate(opts)
    show_bar = sys.stderr.isatty() if args.progress is None else args.progress
    bar = BarProgress() if show_bar else None
    try:
        if args.demo:
            if args.profile or args.role_arn:
                raise ConfigError("--demo scans the embedded demo organization; drop --profile")
            # moto is only installed with the demo extra, so it is imported only for --demo.
            from vpcaudit.demo import run_demo_scan  # noqa: PLC0415

            snap = run_demo_scan(opts, bar)
        else:
            snap = run_scan(opts, bar)
    finally:
        if bar is not None:
            bar.close()
    structlog.get_logger(__name__).info("scan_done", **snap.extra.get("stats", {}))
    if args.save_snapshot:
        destinations.write_text(args.save_snapshot, snap.dumps(), args.profile)
    return _report(snap, rules, policy, args, plan)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """`vpcaudit evaluate FILE`: the same report from a saved snapshot, no credentials."""
    rules = {k: v.rule for k, v in load_rules().items()}
    policy = load_policy(args.policy, rules)
    plan = output_plan(args)
    snap = load_snapshot(args.snapshot)
    return _report(snap, rules, policy, args, plan)


def load_snapshot(src: str) -> Snapshot:
    """A snapshot from a local path or an s3:// URI."""
    if destinations.is_s3(src):
        return Snapshot.parse(destinations.read_text(src), src)
    return Snapshot.load(Path(src))


def cmd_merge(args: argparse.Namespace) -> int:
    """`vpcaudit merge SNAPSHOT...`: join shard snapshots for one cross-account evaluation."""
    merged = merge_snapshots([load_snapshot(s) for s in args.snapshots])
    destinations.write_text(args.output, merged.dumps())
    print(
        f"merged {len(args.snapshots)} snapshots: {len(merged.accounts)} accounts, "
        f"{len(merged.regions)} account-regions, {len(merged.gaps)} gaps -> {args.output}",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    """`vpcaudit diff OLD NEW`: which findings are new, resolved or unchanged."""
    old, new = load_report(args.old), load_report(args.new)
    d = diff_reports(old, new, str(args.old))
    current = {f["fingerprint"]: f for f in new["findings"]}
    groups = {
        "new": [current[fp] for fp in sorted(d.new)],
        "resolved": list(d.resolved),
        "not_rechecked": list(d.unknown),
        "unchanged": [current[fp] for fp in sorted(d.unchanged)],
    }
    if args.format == "json":
        sys.stdout.write(json.dumps(groups, indent=2) + "\n")
        return EXIT_OK
    for name, items in groups.items():
        print(f"{name.replace('_', ' ')}: {len(items)}")
        for f in sorted(items, key=lambda x: (x["rule_id"], x["account_id"], x["resource_id"])):
            print(
                f"  {f['severity']:<8} {f['rule_id']:<40} {f['account_id']} {f['region']} "
                f"{f['resource_id']}"
            )
    return EXIT_OK


def cmd_policy_check(args: argparse.Namespace) -> int:
    """`vpcaudit policy check FILE...`: validate policy files offline."""
    rules = {k: v.rule for k, v in load_rules().items()}
    for path in args.files:
        policy = load_policy([path], rules)
        print(f"{path}: ok ({len(policy.rules)} rule settings, {len(policy.waivers)} waivers)")
    return EXIT_OK


def output_plan(args: argparse.Namespace) -> OutputPlan:
    """Read the output options; the baseline is loaded now, before any AWS call."""
    extra = tuple(
        (fmt, path)
        for fmt in Format
        if (path := getattr(args, f"output_{fmt.value}", None)) is not None
    )
    if args.fail_on_new and args.baseline is None:
        raise ConfigError("--fail-on-new needs --baseline PREVIOUS.json")
    return OutputPlan(
        format=Format(args.format),
        path=args.output,
        extra=extra,
        sarif_category=args.sarif_category,
        baseline=None if args.baseline is None else load_report(args.baseline),
        baseline_source=str(args.baseline or ""),
    )


def _report(
    snap: Snapshot,
    rules: dict[str, Any],
    policy: Policy,
    args: argparse.Namespace,
    plan: OutputPlan,
) -> int:
    inv = Inventory.from_snapshot(snap)
    evaluation = evaluate(inv, rules, policy)
    data = build_report(snap, inv, evaluation, rules, plan)
    text = render(plan.format, data, plan)
    write_files(data, plan)
    if args.report_to:
        reports = {EXTENSIONS[f]: render(f, data, plan) for f in args.report_formats}
        when = parse_time(snap.started_at) or dt.datetime.now(dt.UTC)
        profile = getattr(args, "profile", None)
        for dest in args.report_to:
            for written in destinations.publish(dest, reports, when, profile):
                structlog.get_logger(__name__).info("report_written", to=written)
    if plan.path is not None:
        _write_file(plan.path, lambda p: p.write_text(text, encoding="utf-8"))
    else:
        sys.stdout.write(text)
    return exit_code(data, args.fail_on, args.allow_partial, new_only=args.fail_on_new)


def exit_code(
    data: ReportData, fail_on: Severity | None, allow_partial: bool, *, new_only: bool = False
) -> int:
    """3 when incomplete (unless allowed), else 1 when a finding reaches fail_on, else 0."""
    if not data.complete and not allow_partial:
        return EXIT_INCOMPLETE
    if fail_on is None:
        return EXIT_OK
    hits = at_or_above(data.evaluation.findings, fail_on)
    if new_only and data.baseline is not None:
        hits = [f for f in hits if f.fingerprint in data.baseline.new]
    return EXIT_FINDINGS if hits else EXIT_OK


def _write_file(path: Path, write: Any) -> None:
    try:
        write(path)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None


def cmd_rules(args: argparse.Namespace) -> int:
    """`vpcaudit rules [RULE_ID]`: list the rules, or document one."""
    loaded = load_rules()
    if args.rule_id:
        if args.rule_id not in loaded:
            raise ConfigError(f"unknown rule {args.rule_id!r} (see `vpcaudit rules`)")
        sys.stdout.write(
            _rule_detail(loaded[args.rule_id].rule, args.format, loaded[args.rule_id].source)
        )
        return EXIT_OK
    docs = [_rule_doc(v.rule, v.source) for v in loaded.values()]
    if args.format == "json":
        sys.stdout.write(json.dumps(docs, indent=2, default=str) + "\n")
        return EXIT_OK
    rows = [
        [
            d["id"],
            d["severity"],
            d["title"],
            ", ".join(f"{p['name']}={p['default']}" for p in d["params"]) or "-",
        ]
        for d in docs
    ]
    sys.stdout.write(tabulate(rows, headers=["id", "severity", "title", "params"]) + "\n")
    return EXIT_OK


def _rule_doc(rule: Any, source: str) -> dict[str, Any]:
    return {
        "id": rule.id,
        "severity": rule.severity.value,
        "title": rule.title,
        "area": rule.area,
        "params": rule.params_doc(),
        "rationale": rule.rationale,
        "evidence": list(rule.evidence_fields),
        "remediation": rule.remediation,
        "source": source,
    }


def _rule_detail(rule: Any, fmt: str, source: str) -> str:
    doc = _rule_doc(rule, source)
    if fmt == "json":
        return json.dumps(doc, indent=2, default=str) + "\n"
    params = (
        "\n".join(f"  {p['name']} ({p['type']}) = {p['default']}" for p in doc["params"])
        or "  (none)"
    )
    return (
        f"{doc['id']}  [{doc['severity']}]  {doc['title']}\n\n"
        f"Why it matters:\n  {doc['rationale']}\n\n"
        f"Evidence fields: {', '.join(doc['evidence'])}\n\n"
        f"Parameters:\n{params}\n\n"
        f"Remediation:\n  {doc['remediation']}\n\nSource: {doc['source']}\n"
    )
