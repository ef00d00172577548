"""The command line's arguments: every sub-command and option, and their parsing."""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from collections.abc import Sequence
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

    _words: tuple[str, ...] = ()

    def parse_known_args(  # type: ignore[override]  # typeshed overloads; same behaviour
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """Parse as argparse does, keeping the words so error() can find the sub-command."""
        self._words = tuple(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> Any:
        """Print one line to stderr and exit 2; with no sub-command at all, the help."""
        sub = _subcommands(self)
        bare = sub is not None and not any(w in sub.choices for w in self._words)
        if bare and message.startswith("the following arguments are required"):
            self.print_help(sys.stderr)
            self.exit(EXIT_USAGE)
        self.exit(EXIT_USAGE, f"vpcaudit: error: {message}{self._suggestion(message)}\n")

    def _suggestion(self, message: str) -> str:
        """A "did you mean" for a mistyped option or choice (Python 3.11's argparse has no
        suggest_on_error)."""
        choice = re.search(r"invalid choice: '?([^' ]*)'? \(choose from (.*)\)$", message)
        if choice:
            options = [c.strip(" '") for c in choice.group(2).split(",")]
            close = difflib.get_close_matches(choice.group(1), options, n=1)
            return f"; did you mean {close[0]}?" if close else ""
        if not message.startswith("unrecognized arguments: "):
            return ""
        known = _option_strings(self, self._words)
        for word in message.removeprefix("unrecognized arguments: ").split():
            if word.startswith("--"):
                close = difflib.get_close_matches(word.split("=")[0], known, n=1)
                if close:
                    return f"; did you mean {close[0]}?"
        return ""


def _subcommands(parser: argparse.ArgumentParser) -> Any:
    """The parser's sub-command action, or None."""
    # argparse keeps its actions private; _SubParsersAction is the documented return type of
    # add_subparsers, so this is the one stable way to find the sub-commands again.
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _option_strings(parser: argparse.ArgumentParser, words: Sequence[str]) -> list[str]:
    """The long options of the (sub-)command the words name, and of the parsers above it."""
    found = [o for o in parser._option_string_actions if o.startswith("--")]
    sub = _subcommands(parser)
    if sub is not None:
        for i, word in enumerate(words):
            if word in sub.choices:
                return found + _option_strings(sub.choices[word], words[i + 1 :])
    return found


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
        default=None,
        help="report format (default: from the extension of -o FILE, else table)",
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
    _add_s3_options(p)
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
        "--sarif-split",
        action="store_true",
        help="over GitHub's limits (25,000 results, 10 MB gzipped), write the SARIF as "
        "FILE.1.sarif, FILE.2.sarif, ... (category <ID>/part-N) instead of leaving it out",
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
    _add_plugin_option(p)


def _add_plugin_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="NAME",
        help="load this installed third-party rule plugin (its rule id or package name; "
        "repeatable): plugins are code, so none loads unless named here or in a policy",
    )


def _add_terminal_options(p: argparse.ArgumentParser) -> None:
    """Which rules run, and what the terminal shows (scan and evaluate)."""
    p.add_argument(
        "--rules",
        type=_account_list,
        action="extend",
        default=[],
        metavar="ID|GLOB[,...]",
        help="run only these rules: ids or globs such as 'peering-*' (comma-separated, "
        "repeatable); rules the policy disables stay off",
    )
    p.add_argument(
        "--skip-rules",
        type=_account_list,
        action="extend",
        default=[],
        metavar="ID|GLOB[,...]",
        help="do not run these rules (ids or globs, comma-separated, repeatable)",
    )
    p.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="print only the summary line on stdout (files given with -o/--output-* and "
        "--report-to still get the whole report)",
    )
    p.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="list every skipped region in the table, not a count per reason",
    )
    p.add_argument(
        "--no-color",
        action="store_true",
        help="no colour, even on a terminal (so does a non-empty NO_COLOR variable)",
    )


def _account_id(text: str) -> str:
    if not re.fullmatch(r"\d{12}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a 12-digit AWS account id")
    return text


def _add_s3_options(p: argparse.ArgumentParser) -> None:
    """How s3:// destinations and sources are read and written (scan, evaluate, merge)."""
    p.add_argument(
        "--bucket-owner",
        type=_account_id,
        metavar="ACCOUNT",
        help="the account that must own s3:// buckets read or written; S3 refuses the request "
        "otherwise (default: the account of the credentials)",
    )
    p.add_argument(
        "--sse-kms-key-id",
        metavar="KEY",
        help="encrypt objects written to S3 with SSE-KMS under this key id, ARN or alias "
        "(needs kms:GenerateDataKey on it; default: the bucket's default encryption)",
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
        "--processes",
        type=int,
        default=None,
        metavar="N",
        help="worker processes, accounts split across them (default: the CPUs available, at "
        "most one per account; 1 scans in this process; --workers is shared among them)",
    )
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
        choices=("table", "json", "mermaid", "html"),
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
    _add_terminal_options(scan)
    _add_common(scan)

    ev = sub.add_parser("evaluate", help="evaluate a saved snapshot offline")
    ev.add_argument("snapshot", metavar="SNAPSHOT", help="a snapshot file or s3:// URI")
    _add_output_options(ev)
    _add_terminal_options(ev)
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
    _add_s3_options(merge)
    _add_common(merge)

    diff = sub.add_parser(
        "diff", help="compare two JSON reports: new, changed severity, resolved, unchanged"
    )
    diff.add_argument("old", type=Path, metavar="OLD.json")
    diff.add_argument("new", type=Path, metavar="NEW.json")
    diff.add_argument(
        "--verbose", "-v", action="store_true", help="also list the unchanged findings"
    )
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
    _add_plugin_option(check)
    _add_common(check)

    _add_path(sub)

    rules = sub.add_parser("rules", help="list the rules, or show one")
    rules.add_argument("rule_id", nargs="?", metavar="RULE_ID", help="document this rule")
    _add_plugin_option(rules)
    rules.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format (default: table)",
    )
    _add_common(rules)
    return parser
