"""The sub-commands other than `path`: scan, evaluate, merge, diff, policy, rules.

Kept apart from cli.py so that `vpcaudit path --snapshot` does not import boto3, jsonschema
and the reporters it never uses (the import alone cost half a second).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

import structlog

from vpcaudit import console, destinations
from vpcaudit.aws.targets import RoleOptions
from vpcaudit.baseline import diff_reports, load_report
from vpcaudit.defaults import ADMIN_ORG_ROLE
from vpcaudit.errors import ConfigError
from vpcaudit.evaluate import at_or_above, evaluate
from vpcaudit.exits import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK
from vpcaudit.inventory import Inventory, parse_time
from vpcaudit.model import Severity
from vpcaudit.policy import Policy, load_policy
from vpcaudit.progress import BarProgress
from vpcaudit.report import Format, ReportData, rules_doc
from vpcaudit.report.outputs import EXTENSIONS, OutputPlan, build_report, render, write_files
from vpcaudit.rules.registry import load_rules
from vpcaudit.runtime import keep_for_the_run
from vpcaudit.scan import ScanOptions, run_scan, validate
from vpcaudit.snapshot import Snapshot, drop_repeats, load_snapshot, merge_snapshots


def cmd_scan(args: argparse.Namespace) -> int:
    """`vpcaudit scan`: collect, optionally save the snapshot, evaluate, report."""
    rules = {k: v.rule for k, v in load_rules().items()}
    policy = load_policy(args.policy, rules)  # a bad policy stops us before any AWS call
    if args.demo:
        policy = _with_demo_intents(policy, rules)
    plan = output_plan(args)
    snap = live_snapshot(args)
    structlog.get_logger(__name__).info("scan_done", **snap.extra.get("stats", {}))
    if args.save_snapshot:
        destinations.write_text(args.save_snapshot, snap.dumps(), args.profile, snapshot=True)
    return _report(snap, rules, policy, args, plan)


def scan_options(args: argparse.Namespace) -> ScanOptions:
    """The scan options of a command line (scan, path), validated before any AWS call."""
    if args.org and args.org_role_name == ADMIN_ORG_ROLE and not args.demo:
        print(
            f"vpcaudit: warning: --org-role-name {ADMIN_ORG_ROLE} is full admin in every "
            f"member account; a read-only role (vpcaudit-audit, policies/iam/) is safer",
            file=sys.stderr,
        )
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
        shard=getattr(args, "shard", None),
        run_id=getattr(args, "run_id", None),
    )
    validate(opts)
    return opts


def live_snapshot(args: argparse.Namespace) -> Snapshot:
    """Scan (or scan the demo) as the command line says, with a progress bar on a terminal."""
    opts = scan_options(args)
    show_bar = sys.stderr.isatty() if args.progress is None else args.progress
    bar = BarProgress() if show_bar else None
    try:
        if args.demo:
            if args.profile or args.role_arn:
                raise ConfigError(
                    "--demo scans the embedded demo organization; drop --profile/--role-arn"
                )
            # moto is only installed with the demo extra, so it is imported only for --demo.
            from vpcaudit.demo import run_demo_scan  # noqa: PLC0415

            return run_demo_scan(opts, bar)
        return run_scan(opts, bar)
    finally:
        if bar is not None:
            bar.close()


def cmd_evaluate(args: argparse.Namespace) -> int:
    """`vpcaudit evaluate FILE`: the same report from a saved snapshot, no credentials."""
    rules = {k: v.rule for k, v in load_rules().items()}
    policy = load_policy(args.policy, rules)
    plan = output_plan(args)
    snap = load_snapshot(args.snapshot)
    if snap.extra.get("demo"):
        policy = _with_demo_intents(policy, rules)
    return _report(snap, rules, policy, args, plan)


def _with_demo_intents(policy: Policy, rules: dict[str, Any]) -> Policy:
    """The demo's reachability intents under the user's policy files, for a scan of the demo
    or a snapshot of one (imported only then: the demo module is an extra)."""
    from vpcaudit.demo.intents import with_demo_intents  # noqa: PLC0415

    return with_demo_intents(policy, rules)


def cmd_merge(args: argparse.Namespace) -> int:
    """`vpcaudit merge SNAPSHOT...`: join shard snapshots for one cross-account evaluation."""
    destinations.check_file_destination(args.output)
    snaps, warnings = drop_repeats([load_snapshot(s) for s in args.snapshots], args.snapshots)
    for w in warnings:
        print(f"vpcaudit: warning: {w}", file=sys.stderr)
    merged = merge_snapshots(snaps)
    destinations.write_text(args.output, merged.dumps(), snapshot=True)
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
        console.out(json.dumps(groups, indent=2) + "\n")
        return EXIT_OK
    for name, items in groups.items():
        console.out(f"{name.replace('_', ' ')}: {len(items)}\n")
        for f in sorted(items, key=lambda x: (x["rule_id"], x["account_id"], x["resource_id"])):
            console.out(
                f"  {f['severity']:<8} {f['rule_id']:<40} {f['account_id']} {f['region']} "
                f"{f['resource_id']}\n"
            )
    return EXIT_OK


def cmd_policy_check(args: argparse.Namespace) -> int:
    """`vpcaudit policy check FILE...`: validate policy files offline."""
    rules = {k: v.rule for k, v in load_rules().items()}
    for path in args.files:
        policy = load_policy([path], rules)
        console.out(
            f"{path}: ok ({len(policy.rules)} rule settings, {len(policy.waivers)} waivers)\n"
        )
    return EXIT_OK


def output_plan(args: argparse.Namespace) -> OutputPlan:
    """Read the output options, before any AWS call: the baseline is loaded, and every
    destination is checked, so a typo does not cost a whole scan."""
    for dest in [args.output, getattr(args, "save_snapshot", None)] + [
        getattr(args, f"output_{fmt.value}", None) for fmt in Format
    ]:
        if dest is not None:
            destinations.check_file_destination(dest)
    for report_dir in args.report_to:
        destinations.check_dir_destination(report_dir)
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
    keep_for_the_run(inv, snap)
    evaluation = evaluate(inv, rules, policy)
    data = build_report(snap, inv, evaluation, rules, plan, policy=policy)
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
        destinations.write_text(str(plan.path), text)
    else:
        console.out(text)
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


def cmd_rules(args: argparse.Namespace) -> int:
    """`vpcaudit rules [RULE_ID]`: list the rules, or document one."""
    loaded = load_rules()
    if not args.rule_id:
        console.out(rules_doc.render_list(loaded, args.format))
        return EXIT_OK
    if args.rule_id not in loaded:
        raise ConfigError(f"unknown rule {args.rule_id!r} (see `vpcaudit rules`)")
    console.out(rules_doc.render_one(loaded[args.rule_id], args.format))
    return EXIT_OK


COMMANDS = {
    "scan": cmd_scan,
    "evaluate": cmd_evaluate,
    "rules": cmd_rules,
    "policy": cmd_policy_check,
    "diff": cmd_diff,
    "merge": cmd_merge,
}
