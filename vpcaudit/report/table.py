"""The terminal report: findings grouped by severity, then coverage and unverified checks.

Two layouts: a wide table from 120 columns, and below that (or when the table would not fit)
each finding as a block of lines wrapped to the terminal. Every AWS-sourced string is made
terminal-safe (vpcaudit.termtext) as it is placed, so the line widths counted here are the
widths shown.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from itertools import groupby

from tabulate import tabulate

from vpcaudit.console import Painter, colour_wanted
from vpcaudit.formats import Format
from vpcaudit.model import Finding, Severity
from vpcaudit.report import ReportData
from vpcaudit.termtext import safe, width, wrap

WIDE = 120
"""From this many columns findings are a table; below it, one block of lines each."""
_MIN_TEXT_WIDTH = 40
"""The narrowest finding column the wide table accepts before it falls back to blocks."""
_INDENT = "  "


def terminal_width() -> int | None:
    """The terminal's width (COLUMNS wins), or None when stdout is not a terminal."""
    return shutil.get_terminal_size((0, 0)).columns or None


def render(data: ReportData, *, cols: int | None = None, verbose: bool = False) -> str:
    """The human-readable report as text, laid out for a terminal of cols columns; with no
    terminal (a file, a pipe) the wide layout of 120 columns, and whole lines outside the
    findings, for grep. verbose lists every skipped region, not a count per reason."""
    if cols is None:
        return _render(data, WIDE, verbose, prose=10**6)
    return _render(data, cols, verbose, prose=cols)


def _render(data: ReportData, cols: int, verbose: bool, prose: int) -> str:
    """The report for cols columns, lines outside the findings table wrapped to prose."""
    out: list[str] = []
    scope = (
        f"vpcaudit {data.tool_version}: {len(data.accounts)} account(s), "
        f"{len(data.regions)} region(s), scanned {safe(data.started_at)} .. "
        f"{safe(data.finished_at)}"
    )
    if data.shard:
        scope += f" (shard {safe(data.shard)} of the accounts: evaluate the merged shards)"
    out += wrap(scope, prose, "", _INDENT)
    named = [f"{safe(name)}={safe(a)}" for a, name in sorted(data.account_names.items()) if name]
    if named:
        out += wrap("accounts: " + ", ".join(named), prose, "", _INDENT)
    findings = [f for f in data.evaluation.findings if not f.suppressed]
    if not findings:
        out.append("\nNo findings.")
    wide = _wide_fits(data, findings, cols)
    for severity, group in groupby(findings, key=lambda f: f.severity):
        items = list(group)
        out.append(f"\n{severity.value.upper()} ({len(items)})")
        out += _table(data, items, cols) if wide else _blocks(data, items, cols)
    out.append("\n" + summary_line(data))
    plugins = [f"{r} ({src})" for r, src in data.third_party_run().items()]
    if plugins:
        out += wrap("Third-party rules ran: " + safe(", ".join(plugins)), prose, "", _INDENT)
    out += _wrapped(_waiver_lines(data), prose)
    out += _wrapped(_baseline_lines(data), prose)
    out.append(_coverage(data, cols, verbose, prose))
    if data.evaluation.unverified:
        out.append(f"\nUnverifiable checks ({len(data.evaluation.unverified)}):")
        for u in data.evaluation.unverified:
            text = f"- {u.rule_id} {safe(u.item.resource.resource_id)}: {safe(u.item.reason)}"
            out += wrap(text, prose, _INDENT, _INDENT * 2)
    return "\n".join(out) + "\n"


def summary_line(data: ReportData) -> str:
    """One line: how many findings of each severity (and whether coverage was incomplete)."""
    summary = data.summary()
    counts = ", ".join(f"{n} {s}" for s, n in summary["by_severity"].items() if n)
    line = f"Summary: {summary['total']} finding(s)" + (f" ({counts})" if counts else "")
    if not data.complete:
        line += f"; coverage INCOMPLETE ({len(data.gaps)} gap(s))"
    return line


def for_terminal(
    data: ReportData,
    text: str,
    fmt: Format,
    *,
    quiet: bool = False,
    verbose: bool = False,
    no_color: bool = False,
) -> tuple[str, Painter | None]:
    """What stdout shows of a report already rendered as text in fmt: the table laid out for
    this terminal, or only the summary line (--quiet); and the colours, when wanted."""
    if quiet:
        text = summary_line(data) + "\n"
    elif fmt is Format.TABLE:
        text = render(data, cols=terminal_width(), verbose=verbose)
    else:
        return text, None  # a machine format: no colour, whatever the terminal
    return text, (paint if colour_wanted(no_color) else None)


# -- colour ------------------------------------------------------------------------------------

_RESET = "\x1b[0m"
_SGR = {
    Severity.CRITICAL: "\x1b[1;31m",
    Severity.HIGH: "\x1b[31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[2m",
    Severity.INFO: "\x1b[2m",
}
_SEVERITY_WORDS = "|".join(s.value.upper() for s in Severity)
# A group heading ("HIGH (3)") or a block's first line ("HIGH  rule-id ..."): always at the
# start of a line, where no wrapped AWS text ever starts (it is indented).
_HEADING = re.compile(rf"^({_SEVERITY_WORDS})(?= \(\d+\)$|  )")
_ALERT = re.compile(r"^(Coverage: INCOMPLETE|Coverage: NOTHING|EXPIRED waiver)")


def paint(line: str) -> str:
    """Colour a severity heading or block by severity, and incomplete coverage red."""
    if m := _HEADING.match(line):
        sgr = _SGR[Severity(m.group(1).lower())]
        return f"{sgr}{m.group(1)}{_RESET}{line[m.end() :]}"
    if m := _ALERT.match(line):
        return f"\x1b[1;31m{m.group(1)}{_RESET}{line[m.end() :]}"
    return line


# -- findings ----------------------------------------------------------------------------------


def _message(data: ReportData, f: Finding) -> str:
    status = f"[{data.baseline.status(f.fingerprint)}] " if data.baseline else ""
    return status + safe(f.message)


def _rows(data: ReportData, findings: list[Finding]) -> list[list[str]]:
    return [
        [
            safe(f.rule_id),
            safe(f.resource.account_id),
            safe(f.resource.region),
            safe(f.resource.resource_id),
            _message(data, f),
        ]
        for f in findings
    ]


def _fixed(rows: list[list[str]]) -> int:
    """Columns taken by every column but the last, with tabulate's two-space gaps."""
    return sum(max(width(r[i]) for r in rows) + 2 for i in range(len(rows[0]) - 1))


def _wide_fits(data: ReportData, findings: list[Finding], cols: int) -> bool:
    """The table, when the terminal is wide and leaves the findings a readable column."""
    if cols < WIDE or not findings:
        return cols >= WIDE
    return cols - _fixed(_rows(data, findings)) - 1 >= _MIN_TEXT_WIDTH


def _fit(rows: list[list[str]], cols: int) -> list[list[str]]:
    """Wrap each row's last column so the table fits cols (ids stay whole when they can)."""
    if not rows:
        return rows
    text_width = max(_MIN_TEXT_WIDTH, cols - _fixed(rows) - 1)
    return [[*r[:-1], "\n".join(wrap(r[-1], text_width))] for r in rows]


def _table(data: ReportData, findings: list[Finding], cols: int) -> list[str]:
    return [
        tabulate(
            _fit(_rows(data, findings), cols),
            headers=["rule", "account", "region", "resource", "finding"],
            tablefmt="simple",
            disable_numparse=True,
        )
    ]


def _blocks(data: ReportData, findings: list[Finding], cols: int) -> list[str]:
    """Each finding as a block: severity, rule and resource; where; the message wrapped."""
    out: list[str] = []
    for f in findings:
        r = f.resource
        head = f"{f.severity.value.upper()}  {safe(f.rule_id)}"
        rid = safe(r.resource_id)
        where = f"{safe(r.account_id)}{_name(data, r.account_id)} {safe(r.region)}"
        if width(head) + 2 + width(rid) <= cols:
            head += f"  {rid}"
            where = f"{safe(r.resource_type)} in {where}"
        else:
            where = f"{safe(r.resource_type)} {rid} in {where}"
        out.append("")
        # Not re-wrapped: the two spaces after the severity are what the colouring looks for.
        out += [head] if width(head) <= cols else wrap(head, cols, "", _INDENT * 2)
        out += wrap(where, cols, _INDENT, _INDENT * 2)
        out += wrap(_message(data, f), cols, _INDENT)
    return out


def _name(data: ReportData, account_id: str) -> str:
    name = data.account_names.get(account_id)
    return f" ({safe(name)})" if name else ""


# -- the lines after the findings --------------------------------------------------------------


def _wrapped(lines: Iterable[str], cols: int) -> list[str]:
    """Each line wrapped, keeping its indent; continuation lines indented one step more."""
    out: list[str] = []
    for line in lines:
        indent = line[: len(line) - len(line.lstrip(" "))]
        out += wrap(line.strip(), cols, indent, indent + _INDENT)
    return out


def _baseline_lines(data: ReportData) -> list[str]:
    b = data.baseline
    if b is None:
        return []
    lines = [
        f"Since the baseline ({safe(b.source)}): {len(b.new)} new, {len(b.unchanged)} "
        f"unchanged, {len(b.resolved)} resolved, {len(b.unknown)} not rechecked"
    ]
    lines.extend(
        "  resolved: "
        + " ".join(safe(str(f.get(k))) for k in ("rule_id", "account_id", "region", "resource_id"))
        for f in b.resolved
    )
    return lines


def _waiver_lines(data: ReportData) -> list[str]:
    w = data.evaluation.waivers
    lines = [
        f"Suppressed: {safe(f.rule_id)} {safe(f.resource.account_id)} {safe(f.resource.region)} "
        f"{safe(f.resource.resource_id)} [{f.severity.value}] waived by "
        f"{safe(str((f.waiver or {}).get('source', '?')))}"
        for f in data.evaluation.findings
        if f.suppressed
    ]
    for waiver, n in w.applied:
        lines.append(f"Waived: {n} finding(s) by {safe(waiver.source)} ({safe(waiver.reason)})")
    for waiver, n in w.expired:
        lines.append(
            f"EXPIRED waiver {safe(waiver.source)} (ended {waiver.expires}): no longer "
            f"suppresses {n} finding(s)"
        )
    lines.extend(f"Stale waiver {safe(x.source)}: matched no finding" for x in w.stale)
    return lines


def _coverage(data: ReportData, cols: int, verbose: bool, prose: int) -> str:
    if not data.read and data.accounts and not data.gaps:
        lines = ["Coverage: NOTHING was read: no enabled region matched --region/--exclude-region."]
        return "\n" + "\n".join(_wrapped(lines, prose) + _skipped_lines(data, prose, verbose))
    if data.complete and not data.skipped and not data.not_collected:
        return "Coverage: complete."
    lines = []
    if data.complete:
        lines.append("Coverage: complete for every enabled region.")
    else:
        lines += wrap(
            f"Coverage: INCOMPLETE, {len(data.gaps)} gap(s); what is below was NOT read and is "
            f"not known to be clean:",
            prose,
            "",
            _INDENT,
        )
        lines += _gap_lines(data, cols)
    lines.extend(_skipped_lines(data, prose, verbose))
    lines.extend(_wrapped(_not_collected_lines(data), prose))
    return "\n" + "\n".join(lines)


def _gap_lines(data: ReportData, cols: int) -> list[str]:
    rows = [
        [safe(g.account_id), safe(g.region), safe(g.operation), safe(g.error_code), safe(g.message)]
        for g in data.gaps
    ]
    if cols >= WIDE and rows and cols - _fixed(rows) - 1 >= _MIN_TEXT_WIDTH:
        table = tabulate(
            _fit(rows, cols),
            headers=["account", "region", "operation", "error", "message"],
            tablefmt="simple",
            disable_numparse=True,
        )
        return [table]
    out: list[str] = []
    for account, region, operation, code, message in rows:
        out += wrap(f"{account} {region} {operation} {code}", cols, _INDENT, _INDENT * 2)
        out += wrap(message, cols, _INDENT * 2)
    return out


def _not_collected_lines(data: ReportData) -> list[str]:
    if not data.not_collected:
        return []
    kinds = sorted({k for _, _, ks in data.not_collected for k in ks})
    return [
        f"  not in this snapshot (taken by an older vpcaudit?): {', '.join(kinds)} in "
        f"{len(data.not_collected)} account-region(s); checks that need them could not run"
    ]


def _skipped_lines(data: ReportData, cols: int, verbose: bool) -> list[str]:
    """One line per reason, with how many regions and accounts (a single account scan skips
    a dozen regions not enabled, an organization hundreds); verbose lists them per account."""
    by_reason: dict[str, dict[str, list[str]]] = {}
    for s in data.skipped:
        accounts = by_reason.setdefault(s.reason, {})
        accounts.setdefault(s.account_id, []).append(s.region)
    lines: list[str] = []
    hidden = False
    for reason, accounts in sorted(by_reason.items()):
        regions = sorted({r for rs in accounts.values() for r in rs})
        if regions == ["*"]:
            what = "every region of"
        elif len(regions) == 1:
            what = f"{safe(regions[0])} in"
        else:
            what = f"{len(regions)} regions in"
        who = safe(next(iter(accounts))) if len(accounts) == 1 else f"{len(accounts)} accounts"
        lines += wrap(f"skipped {what} {who}: {safe(reason)}", cols, _INDENT, _INDENT * 2)
        counted = len(accounts) > 1 or len(regions) > 1
        hidden = hidden or (counted and not verbose)
        if counted and verbose:
            # Accounts of an organization mostly skip the same regions: one line per set.
            by_set: dict[tuple[str, ...], list[str]] = {}
            for account, rs in sorted(accounts.items()):
                by_set.setdefault(tuple(sorted(rs)), []).append(account)
            for names, who_skips in by_set.items():
                listed = (
                    f"{', '.join(safe(a) for a in who_skips)}: {', '.join(safe(r) for r in names)}"
                )
                lines += wrap(listed, cols, _INDENT * 2, _INDENT * 3)
    if hidden:
        lines.append(f"{_INDENT}(-v lists them; the JSON report always does)")
    return lines
