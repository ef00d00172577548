"""The command line's arguments: every sub-command and option, and their parsing."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from vpcaudit import __version__, logs
from vpcaudit.defaults import DEFAULT_ORG_ROLE
from vpcaudit.exits import EXIT_USAGE
from vpcaudit.formats import Format
from vpcaudit.model import Severity

__all__ = ["EXIT_USAGE", "build_parser"]

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
        raise argparse.ArgumentTypeError(f"{exc}, or none") from None


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=[f.value for f in Format],
        default=Format.TABLE.value,
        help="report format (default: table)",
    )
    p.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write the report to FILE, not stdout"
    )
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
    p.add_argument(
        "--log-level",
        choices=logs.LEVELS,
        default="warning",
        help="log detail on stderr (default: warning)",
    )
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
    g.add_argument(
        "--external-id",
        default=os.environ.get("VPCAUDIT_EXTERNAL_ID") or None,
        help="ExternalId for every role assumed (default $VPCAUDIT_EXTERNAL_ID: an environment "
        "variable keeps it out of the process list, where command lines are visible)",
    )
    g.add_argument(
        "--role-session-name",
        default="vpcaudit",
        metavar="NAME",
        help="session name of assumed roles, seen in CloudTrail (default: vpcaudit)",
    )
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


def _add_live_options(p: argparse.ArgumentParser) -> None:
    """What to scan live: profile, regions, accounts, workers, progress, or the demo."""
    p.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    p.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="REGION",
        help="scan only this region (repeatable; default: every enabled region)",
    )
    p.add_argument(
        "--exclude-region",
        action="append",
        default=[],
        metavar="REGION",
        help="do not scan this region (repeatable)",
    )
    _add_target_options(p)
    p.add_argument("--workers", type=int, default=16, help="parallel API tasks (default 16)")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="scan the embedded demo organization (moto, in-process, no AWS)",
    )


def _add_path(sub: Any) -> None:
    path = sub.add_parser(
        "path",
        help="can SOURCE reach DESTINATION, and if not, what blocks it (live or offline)",
        description="Answer offline from --snapshot FILE, or scan first (the same options as "
        "scan). SOURCE and DESTINATION: an eni-/i-/subnet-/vpce- id, an IP address, internet, "
        "on-premises, s3, dynamodb or s3@REGION. Exit 0 reachable, 1 not reachable, 3 unknown, "
        "2 bad input.",
    )
    path.add_argument("source", metavar="SOURCE")
    path.add_argument("destination", metavar="DESTINATION")
    path.add_argument(
        "--protocol",
        choices=("tcp", "udp", "icmp", "all"),
        default=None,
        help="the traffic (default: all, every protocol; icmp is an echo request)",
    )
    path.add_argument("--port", type=int, metavar="N", help="destination port (tcp or udp)")
    path.add_argument(
        "--family",
        choices=("ipv4", "ipv6"),
        default=None,
        help="address family for ids and keywords (default: that of an IP given, else ipv4)",
    )
    path.add_argument("--snapshot", metavar="FILE", help="answer from a saved snapshot (no AWS)")
    _add_live_options(path)
    path.add_argument(
        "--format",
        choices=("table", "json", "mermaid"),
        default="table",
        help="output format (default: table)",
    )
    path.add_argument("--output", "-o", metavar="FILE", help="write the answer to FILE")
    _add_common(path)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = _Parser(
        prog="vpcaudit",
        description="Audit the VPC networking of AWS accounts and organizations (read-only).",
    )
    parser.add_argument("--version", action="version", version=f"vpcaudit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    scan = sub.add_parser("scan", help="scan AWS accounts and report findings")
    _add_live_options(scan)
    scan.add_argument(
        "--save-snapshot",
        metavar="FILE",
        help="save the raw scan for `vpcaudit evaluate` later (a file or s3:// URI)",
    )
    scan.add_argument(
        "--run-id",
        default=os.environ.get("VPCAUDIT_RUN_ID") or None,
        metavar="ID",
        help="the run this scan belongs to, stamped in its snapshot (needed with --shard, the "
        "same for every shard of a run; default $VPCAUDIT_RUN_ID): merge refuses a mix",
    )
    scan.add_argument(
        "--shard",
        type=_shard,
        metavar="I/N",
        help="scan only shard I of N of the accounts (stable hash; e.g. "
        "$(JOB_COMPLETION_INDEX)/4); merge the snapshots with `vpcaudit merge`",
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
    diff.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format (default: table)",
    )
    _add_common(diff)

    pol = sub.add_parser("policy", help="work with policy files")
    pol_sub = pol.add_subparsers(
        dest="policy_command", metavar="check", required=True, parser_class=_Parser
    )
    check = pol_sub.add_parser("check", help="validate policy files (no AWS access)")
    check.add_argument("files", type=Path, nargs="+", metavar="FILE", help="policy YAML files")
    _add_common(check)

    _add_path(sub)

    rules = sub.add_parser("rules", help="list the rules, or show one")
    rules.add_argument("rule_id", nargs="?", metavar="RULE_ID", help="document this rule")
    rules.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format (default: table)",
    )
    _add_common(rules)
    return parser
