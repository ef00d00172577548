"""Command line: thin wiring of argparse onto functions the tests call directly.

This is the only module (with vpcaudit.commands) that writes to stdout or decides the exit
code. `path` is answered here with light imports; the other sub-commands live in
vpcaudit.commands, imported only when one of them runs (it pulls in boto3 and jsonschema).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import structlog

from vpcaudit import console, logs
from vpcaudit.args import build_parser
from vpcaudit.baseline import naming_reports
from vpcaudit.errors import ConfigError, VpcauditError
from vpcaudit.exits import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE
from vpcaudit.inventory import Inventory
from vpcaudit.network import NetworkModel, Verdict, check_query, check_snapshot_kinds
from vpcaudit.report import path_report
from vpcaudit.runtime import without_cyclic_gc
from vpcaudit.snapshot import Snapshot, load_snapshot

__all__ = ["EXIT_INCOMPLETE", "build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `vpcaudit` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    logs.configure(args.log_level, args.log_format)
    try:
        if args.command == "path":
            return cmd_path(args)
        from vpcaudit.commands import COMMANDS  # noqa: PLC0415 - heavy; not needed by path

        return COMMANDS[args.command](args)
    except VpcauditError as exc:
        console.err(f"vpcaudit: error: {exc}")  # made inert: it may quote snapshot data
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours, and no traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the last resort: a bug must not look like findings
        # Exit 1 means "findings" to a scheduler; an internal error gets its own code, one line
        # on stderr, and the traceback in the debug log.
        structlog.get_logger(__name__).debug("internal_error", exc_info=True)
        console.err(
            f"vpcaudit: internal error: {type(exc).__name__}: {exc} (a bug: rerun with "
            f"--log-level debug for the traceback, and report it)"
        )
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        print("vpcaudit: interrupted", file=sys.stderr)
        return 130


def cmd_path(args: argparse.Namespace) -> int:
    """`vpcaudit path SOURCE DESTINATION`: can one reach the other, and if not, why not."""
    protocol = args.protocol or "all"
    check_query(protocol, args.port)
    if args.output:
        from vpcaudit import destinations  # noqa: PLC0415 - boto3, for s3:// only

        destinations.check_file_destination(args.output)
    if args.snapshot:
        if args.demo:
            raise ConfigError("--snapshot answers from a saved scan; drop --demo")
        snap = _load_snapshot(args.snapshot)
    else:
        from vpcaudit.commands import live_snapshot  # noqa: PLC0415 - scanning needs boto3

        snap = live_snapshot(args)
    with without_cyclic_gc(keep=True):  # the inventory lives for the run (runtime.py)
        inv = Inventory.from_snapshot(snap)
    model = NetworkModel(inv)
    check_snapshot_kinds(model)
    family = {"ipv4": 4, "ipv6": 6}.get(args.family or "")
    answer = model.path(
        args.source, args.destination, protocol=protocol, port=args.port, family=family
    )
    if args.format == "html":
        # Jinja2 and the embedded graph library load only for an HTML answer.
        from vpcaudit.report.path_html import render as render_html  # noqa: PLC0415

        text = render_html(answer)
    else:
        text = path_report.RENDERERS[args.format](answer)
    if args.output:
        from vpcaudit import destinations  # noqa: PLC0415

        destinations.write_text(args.output, text)
    else:
        console.out(text)
    return {
        Verdict.REACHABLE: EXIT_OK,
        Verdict.NOT_REACHABLE: EXIT_FINDINGS,
        Verdict.UNKNOWN: EXIT_INCOMPLETE,
    }[answer.verdict]


def _load_snapshot(src: str) -> Snapshot:
    """--snapshot: a malformed s3: URI, or a report given instead, is said in one line."""
    if src[:3].lower() == "s3:":
        from vpcaudit import destinations  # noqa: PLC0415 - boto3, for s3:// only

        destinations.check_source(src, "--snapshot")
    with naming_reports(src):
        return load_snapshot(src)
