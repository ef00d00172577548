"""The sub-commands other than `path`: scan, evaluate, merge, diff, policy, rules.

Kept apart from cli.py so that `vpcaudit path --snapshot` does not import boto3, jsonschema
and the reporters it never uses (the import alone cost half a second).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import structlog

from vpcaudit import console, destinations
from vpcaudit.aws.regions import check_home_region
from vpcaudit.aws.targets import RoleOptions
from vpcaudit.baseline import diff_reports, load_report, naming_reports
from vpcaudit.defaults import ADMIN_ORG_ROLE
from vpcaudit.errors import ConfigError
from vpcaudit.evaluate import at_or_above, evaluate, rules_switched_off, with_rules_off
from vpcaudit.exits import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK
from vpcaudit.inventory import Inventory, parse_time
from vpcaudit.model import Severity
from vpcaudit.policy import (
    Policy,
    expired_waivers,
    load_policy,
    plugin_names,
    read_policy_file,
    settings_summary,
)
from vpcaudit.progress import BarProgress
from vpcaudit.report import Format, ReportData, rules_doc, table
from vpcaudit.report.outputs import (
    EXTENSIONS,
    OutputPlan,
    build_report,
    publishable,
    render_main,
    write_files,
    write_output,
)
from vpcaudit.rules.registry import available_plugins, load_rules, third_party
from vpcaudit.runtime import without_cyclic_gc
from vpcaudit.scan import ScanOptions, run_scan, validate
from vpcaudit.snapshot import Snapshot, drop_repeats, load_snapshot, merge_snapshots


def loaded_rules(args: argparse.Namespace, policy_files: list[Any] | None = None) -> dict[str, Any]:
    """The built-in rules and the third-party ones the command line (`--plugin`) or the policy
    files name: an installed plugin nobody named is not even imported."""
    listed, configured = plugin_names(policy_files if policy_files is not None else args.policy)
    return load_rules(plugins=[*getattr(args, "plugin", []), *listed], configured=configured)


def cmd_scan(args: argparse.Namespace) -> int:
    """`vpcaudit scan`: collect, optionally save the snapshot, evaluate, report."""
    loaded = loaded_rules(args)
    args.third_party = third_party(loaded)
    rules = {k: v.rule for k, v in loaded.items()}
    policy = load_policy(args.policy, rules)  # a bad policy stops us before any AWS call
    policy = with_rules_off(policy, rules_switched_off(rules, args.rules, args.skip_rules))
    if args.demo:
        policy = _with_demo_intents(policy, rules)
    plan = output_plan(args)
    snap = live_snapshot(args)
    structlog.get_logger(__name__).info("scan_done", **snap.extra.get("stats", {}))
    args.s3 = s3_access(args, _scanned_caller(args, snap))
    if args.save_snapshot:
        destinations.write_text(args.save_snapshot, snap.dumps(), args.s3, snapshot=True)
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
        processes=getattr(args, "processes", None),
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
    if not args.demo:  # the demo sets its own region and never leaves the process
        check_home_region(args.profile)
    return opts


def s3_access(args: argparse.Namespace, account: str | None = None) -> destinations.S3Access:
    """How this run reaches S3: --profile, --sse-kms-key-id, and the bucket owner S3 must
    check (--bucket-owner, else the scanned account when the scan already named it)."""
    return destinations.S3Access(
        getattr(args, "profile", None),
        getattr(args, "bucket_owner", None) or account,
        getattr(args, "sse_kms_key_id", None),
    )


def _scanned_caller(args: argparse.Namespace, snap: Snapshot) -> str | None:
    """The credentials' own account when the scan read only that one (no --org, --role-arn
    or demo): S3 then needs no second GetCallerIdentity to know the expected owner."""
    if args.org or args.role_arn or args.demo or len(snap.accounts) != 1:
        return None
    return next(iter(snap.accounts))


def read_snapshot(src: str, s3: destinations.S3Access | None = None) -> Snapshot:
    """A snapshot from a file or s3:// URI; a report given instead is named as such."""
    with naming_reports(src):
        if destinations.is_s3(src):
            return Snapshot.parse(destinations.read_text(src, s3), src)
        return load_snapshot(src)


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
    loaded = loaded_rules(args)
    args.third_party = third_party(loaded)
    rules = {k: v.rule for k, v in loaded.items()}
    policy = load_policy(args.policy, rules)
    policy = with_rules_off(policy, rules_switched_off(rules, args.rules, args.skip_rules))
    destinations.check_source(args.snapshot)
    plan = output_plan(args)
    args.s3 = s3_access(args)
    snap = read_snapshot(args.snapshot, args.s3)
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
    destinations.check_file_destination(args.output, "merge --output")
    for src in args.snapshots:
        destinations.check_source(src)
    s3 = s3_access(args)
    snaps, warnings = drop_repeats([read_snapshot(s, s3) for s in args.snapshots], args.snapshots)
    for w in warnings:
        console.err(f"vpcaudit: warning: {w}")  # quotes the shards' run ids: made inert
    merged = merge_snapshots(snaps)
    destinations.write_text(args.output, merged.dumps(), s3, snapshot=True)
    print(
        f"merged {len(args.snapshots)} snapshots: {len(merged.accounts)} accounts, "
        f"{len(merged.regions)} account-regions, {len(merged.gaps)} gaps -> {args.output}",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    """`vpcaudit diff OLD NEW`: which findings are new, re-graded, resolved or unchanged."""
    old, new = load_report(args.old), load_report(args.new)
    d = diff_reports(old, new, str(args.old))
    current = {f["fingerprint"]: f for f in new["findings"]}
    groups = {
        "new": [current[fp] for fp in sorted(d.new)],
        "changed": [
            {**current[fp], "previous_severity": was} for fp, (was, _) in d.changed.items()
        ],
        "resolved": list(d.resolved),
        "not_rechecked": list(d.unknown),
        "unchanged": [current[fp] for fp in sorted(d.unchanged)],
    }
    if args.format == "json":
        console.out(json.dumps(groups, indent=2) + "\n")
        return EXIT_OK
    for name, items in groups.items():
        # Unchanged findings are most of a nightly diff: counted, listed only on request.
        quiet = name == "unchanged" and not args.verbose and items
        console.out(
            f"{name.replace('_', ' ')}: {len(items)}{' (-v lists them)' if quiet else ''}\n"
        )
        if quiet:
            continue
        for f in sorted(items, key=lambda x: (x["rule_id"], x["account_id"], x["resource_id"])):
            severity = f["severity"]
            if "previous_severity" in f:
                severity = f"{f['previous_severity']} -> {severity}"
            console.out(
                f"  {severity:<8} {f['rule_id']:<40} {f['account_id']} {f['region']} "
                f"{f['resource_id']}\n"
            )
    return EXIT_OK


def cmd_policy_check(args: argparse.Namespace) -> int:
    """`vpcaudit policy check FILE...`: validate policy files offline."""
    rules = {k: v.rule for k, v in loaded_rules(args, args.files).items()}
    today = dt.datetime.now(dt.UTC).date()
    for path in args.files:
        # The file on its own: its counts are what it sets, not the built-in default's.
        policy = read_policy_file(path, rules)
        console.out(f"{path}: ok ({settings_summary(policy)})\n")
        # An expired waiver is valid, but its findings count again: say so, do not fail.
        for w in expired_waivers(policy, today):
            print(
                f"vpcaudit: warning: {w.source}: waiver for {w.rule} expired on "
                f"{w.expires}; its findings count again",
                file=sys.stderr,
            )
    return EXIT_OK


def output_plan(args: argparse.Namespace) -> OutputPlan:
    """Read the output options, before any AWS call: the baseline is loaded, and every
    destination is checked, so a typo does not cost a whole scan."""
    local_only = [("--output", args.output)] + [
        (f"--output-{fmt.value}", getattr(args, f"output_{fmt.value}", None)) for fmt in Format
    ]
    for option, dest in local_only:
        if dest is not None and destinations.is_s3(str(dest)):
            raise ConfigError(
                f"{option} writes a local file; for S3 use --report-to s3://bucket/prefix/ "
                f"(with --report-formats)"
            )
    if getattr(args, "save_snapshot", None) is not None:
        destinations.check_file_destination(args.save_snapshot, "--save-snapshot")
    for option, dest in local_only:
        if dest is not None:
            destinations.check_file_destination(dest, option)
    for report_dir in args.report_to:
        destinations.check_dir_destination(report_dir)
    if destinations.is_s3(str(args.baseline or "")):
        raise ConfigError("--baseline reads a local file; copy it from S3 first (aws s3 cp)")
    if args.report_to and any(destinations.is_s3(d) for d in args.report_to):
        check_home_region(getattr(args, "profile", None))
    extra = tuple(
        (fmt, path)
        for fmt in Format
        if (path := getattr(args, f"output_{fmt.value}", None)) is not None
    )
    if args.fail_on_new and args.baseline is None:
        raise ConfigError("--fail-on-new needs --baseline PREVIOUS.json")
    return OutputPlan(
        format=report_format(args.format, args.output),
        path=args.output,
        extra=extra,
        sarif_category=args.sarif_category,
        sarif_split=getattr(args, "sarif_split", False),
        baseline=None if args.baseline is None else load_report(args.baseline),
        baseline_source=str(args.baseline or ""),
    )


def report_format(given: str | None, output: Path | None) -> Format:
    """--format, else the format -o FILE's extension names, else table; a --format the
    extension contradicts wins, with a warning (the user said it, the name only hints)."""
    by_extension = {ext: fmt for fmt, ext in EXTENSIONS.items()}
    implied = by_extension.get(output.suffix.lower().lstrip(".")) if output else None
    if given is None:
        return implied or Format.TABLE
    fmt = Format(given)
    if implied is not None and implied != fmt:
        print(
            f"vpcaudit: warning: writing {fmt.value} to {output} as --format says, though its "
            f"extension means {implied.value}",
            file=sys.stderr,
        )
    return fmt


def _report(
    snap: Snapshot,
    rules: dict[str, Any],
    policy: Policy,
    args: argparse.Namespace,
    plan: OutputPlan,
) -> int:
    # The inventory, the findings and the reports are made by the hundred thousand, make no
    # cycles and live until the process exits: no cyclic collection while they are made, and
    # none looks at them afterwards either (runtime.py).
    with without_cyclic_gc(keep=True):
        inv = Inventory.from_snapshot(snap)
        evaluation = evaluate(inv, rules, policy)
        data = build_report(
            snap, inv, evaluation, rules, plan, policy=policy, third_party=args.third_party
        )
        # Each output is written as soon as it is rendered; SARIF over GitHub's limits is
        # split (--sarif-split) or left out with a warning, never stopping the other formats.
        write_files(data, plan, _warn)
        if plan.path is not None:
            write_output(plan.format, data, plan, str(plan.path), _warn)
    if args.report_to:
        reports = publishable(args.report_formats, data, plan, _warn)
        when = parse_time(snap.started_at) or dt.datetime.now(dt.UTC)
        s3 = getattr(args, "s3", None) or s3_access(args)
        for dest in args.report_to:
            for written in destinations.publish(dest, reports, when, s3):
                structlog.get_logger(__name__).info("report_written", to=written)
    if plan.path is None:
        text = render_main(plan.format, data, plan, _warn)
        console.out(
            *table.for_terminal(
                data, text, plan.format, quiet=args.quiet, verbose=args.verbose,
                no_color=args.no_color,
            )
        )  # fmt: skip
    return exit_code(data, args.fail_on, args.allow_partial, new_only=args.fail_on_new)


def _warn(message: str) -> None:
    print(f"vpcaudit: warning: {message}", file=sys.stderr)


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
    loaded = loaded_rules(args, [])
    idle = [s for s in available_plugins() if s not in {lr.source for lr in loaded.values()}]
    if idle and args.format == "table":
        # Named, not imported: listing them must not run their code.
        print(
            f"vpcaudit: {len(idle)} installed third-party rule(s) not loaded (enable with "
            f"--plugin NAME or a policy's plugins: list): {', '.join(idle)}",
            file=sys.stderr,
        )
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
