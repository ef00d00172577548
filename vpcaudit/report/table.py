"""The terminal report: findings grouped by severity, then coverage and unverified checks."""

from __future__ import annotations

import shutil
import textwrap
from itertools import groupby

from tabulate import tabulate

from vpcaudit.report import ReportData

_MIN_TEXT_WIDTH = 40


def _fit(rows: list[list[str]]) -> list[list[str]]:
    """Wrap each row's last column so the table fits the terminal (120 columns when piped).

    Hyphens are not break points: ids such as com.amazonaws.us-east-1.s3 stay whole.
    """
    if not rows:
        return rows
    columns = shutil.get_terminal_size((120, 24)).columns
    fixed = sum(max(len(r[i]) for r in rows) + 2 for i in range(len(rows[0]) - 1))
    width = max(_MIN_TEXT_WIDTH, columns - fixed - 1)
    return [
        [*r[:-1], textwrap.fill(r[-1], width, break_on_hyphens=False, break_long_words=False)]
        for r in rows
    ]


def render(data: ReportData) -> str:
    """The human-readable report as text."""
    out: list[str] = []
    scope = (
        f"vpcaudit {data.tool_version}: {len(data.accounts)} account(s), "
        f"{len(data.regions)} region(s), scanned {data.started_at} .. {data.finished_at}"
    )
    if data.shard:
        scope += f" (shard {data.shard} of the accounts: evaluate the merged shards)"
    out.append(scope)
    named = [f"{name}={a}" for a, name in sorted(data.account_names.items()) if name]
    if named:
        out.append("accounts: " + ", ".join(named))
    findings = [f for f in data.evaluation.findings if not f.suppressed]
    if not findings:
        out.append("\nNo findings.")
    for severity, group in groupby(findings, key=lambda f: f.severity):
        rows = [
            [
                f.rule_id,
                f.resource.account_id,
                f.resource.region,
                f.resource.resource_id,
                (f"[{data.baseline.status(f.fingerprint)}] " if data.baseline else "") + f.message,
            ]
            for f in group
        ]
        out.append(f"\n{severity.value.upper()} ({len(rows)})")
        out.append(
            tabulate(
                _fit(rows),
                headers=["rule", "account", "region", "resource", "finding"],
                tablefmt="simple",
                disable_numparse=True,
            )
        )
    summary = data.summary()
    counts = ", ".join(f"{n} {s}" for s, n in summary["by_severity"].items() if n)
    out.append(f"\nSummary: {summary['total']} finding(s)" + (f" ({counts})" if counts else ""))
    out.extend(_waiver_lines(data))
    out.extend(_baseline_lines(data))
    out.append(_coverage(data))
    if data.evaluation.unverified:
        out.append(f"\nUnverifiable checks ({len(data.evaluation.unverified)}):")
        out.extend(
            f"  - {u.rule_id} {u.item.resource.resource_id}: {u.item.reason}"
            for u in data.evaluation.unverified
        )
    return "\n".join(out) + "\n"


def _baseline_lines(data: ReportData) -> list[str]:
    b = data.baseline
    if b is None:
        return []
    lines = [
        f"Since the baseline ({b.source}): {len(b.new)} new, {len(b.unchanged)} unchanged, "
        f"{len(b.resolved)} resolved, {len(b.unknown)} not rechecked"
    ]
    lines.extend(
        f"  resolved: {f.get('rule_id')} {f.get('account_id')} {f.get('region')} "
        f"{f.get('resource_id')}"
        for f in b.resolved
    )
    return lines


def _waiver_lines(data: ReportData) -> list[str]:
    w = data.evaluation.waivers
    lines = [
        f"Suppressed: {f.rule_id} {f.resource.account_id} {f.resource.region} "
        f"{f.resource.resource_id} [{f.severity.value}] waived by "
        f"{(f.waiver or {}).get('source', '?')}"
        for f in data.evaluation.findings
        if f.suppressed
    ]
    for waiver, n in w.applied:
        lines.append(f"Waived: {n} finding(s) by {waiver.source} ({waiver.reason})")
    for waiver, n in w.expired:
        lines.append(
            f"EXPIRED waiver {waiver.source} (ended {waiver.expires}): no longer suppresses "
            f"{n} finding(s)"
        )
    lines.extend(f"Stale waiver {x.source}: matched no finding" for x in w.stale)
    return lines


def _coverage(data: ReportData) -> str:
    if not data.read and data.accounts and not data.gaps:
        return (
            "\nCoverage: NOTHING was read: no enabled region matched --region/--exclude-region."
            + "".join(f"\n  skipped {s.account_id} {s.region}: {s.reason}" for s in data.skipped)
        )
    if data.complete and not data.skipped and not data.not_collected:
        return "Coverage: complete."
    lines = []
    if data.complete:
        lines.append("Coverage: complete for every enabled region.")
    else:
        lines.append(
            f"Coverage: INCOMPLETE, {len(data.gaps)} gap(s); what is below was NOT read and is "
            f"not known to be clean:"
        )
        rows = [[g.account_id, g.region, g.operation, g.error_code, g.message] for g in data.gaps]
        lines.append(
            tabulate(
                _fit(rows),
                headers=["account", "region", "operation", "error", "message"],
                tablefmt="simple",
                disable_numparse=True,
            )
        )
    lines.extend(_skipped_lines(data))
    lines.extend(_not_collected_lines(data))
    return "\n" + "\n".join(lines)


def _not_collected_lines(data: ReportData) -> list[str]:
    if not data.not_collected:
        return []
    kinds = sorted({k for _, _, ks in data.not_collected for k in ks})
    return [
        f"  not in this snapshot (taken by an older vpcaudit?): {', '.join(kinds)} in "
        f"{len(data.not_collected)} account-region(s); checks that need them could not run"
    ]


def _skipped_lines(data: ReportData) -> list[str]:
    """One line per skipped region and reason, with how many accounts it applies to."""
    by_region: dict[tuple[str, str], list[str]] = {}
    for s in data.skipped:
        by_region.setdefault((s.region, s.reason), []).append(s.account_id)
    lines = []
    for (region, reason), accounts in sorted(by_region.items()):
        who = accounts[0] if len(accounts) == 1 else f"{len(accounts)} accounts"
        lines.append(f"  skipped {region} in {who}: {reason}")
    return lines
