"""Render one scan in every format asked for: the main output and any extra files."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vpcaudit import destinations
from vpcaudit.baseline import diff_reports
from vpcaudit.evaluate import Evaluation
from vpcaudit.files import REPORT_MODE, file_mode, write_local
from vpcaudit.inventory import Inventory
from vpcaudit.policy import Policy
from vpcaudit.report import Format, ReportData, csv_report, json_report, markdown, sarif, table
from vpcaudit.report.topology import build_topology
from vpcaudit.rules.base import Rule
from vpcaudit.snapshot import Snapshot

EXTENSIONS = {
    Format.TABLE: "txt",
    Format.JSON: "json",
    Format.SARIF: "sarif",
    Format.MARKDOWN: "md",
    Format.CSV: "csv",
    Format.HTML: "html",
}


@dataclass(frozen=True)
class OutputPlan:
    """Where each format goes: the main one (stdout when path is None) and extra files."""

    format: Format = Format.TABLE
    path: Path | None = None
    extra: tuple[tuple[Format, Path], ...] = ()
    sarif_category: str | None = None
    sarif_split: bool = False
    """Split a SARIF over GitHub's limits into several files instead of leaving it out."""
    baseline: dict[str, Any] | None = field(default=None, compare=False)
    baseline_source: str = ""


def render(fmt: Format, data: ReportData, plan: OutputPlan) -> str:
    """One format of the report as text."""
    renderers: dict[Format, Callable[[], str]] = {
        Format.TABLE: lambda: table.render(data),
        Format.JSON: lambda: json_report.render(data),
        Format.SARIF: lambda: sarif.render(data, plan.sarif_category),
        Format.MARKDOWN: lambda: markdown.render(data),
        Format.CSV: lambda: csv_report.render(data),
        Format.HTML: lambda: _html(data),
    }
    return renderers[fmt]()


def _html(data: ReportData) -> str:
    # Imported only when asked for: Jinja2 and the embedded graph library are not small.
    from vpcaudit.report.html import render as render_html  # noqa: PLC0415

    return render_html(data)


def build_report(
    snap: Snapshot,
    inv: Inventory,
    evaluation: Evaluation,
    rules: dict[str, Rule[Any]],
    plan: OutputPlan,
    *,
    policy: Policy | None = None,
    third_party: dict[str, str] | None = None,
) -> ReportData:
    """The report data, with the baseline comparison when one was given."""
    data = ReportData.build(snap, evaluation, rules, build_topology(inv, evaluation))
    if third_party:
        data = replace(data, third_party_rules=dict(third_party))
    if policy is not None:
        overrides = {r: s.severity for r, s in policy.rules.items() if s.severity is not None}
        data = replace(data, severity_overrides=overrides)
        data = replace(data, policy_sources=policy.sources)
    # The inventory's gaps are the snapshot's plus the items it quarantined as malformed: a
    # snapshot with a defect is not a complete scan.
    data = replace(data, inventory=inv, gaps=tuple(sorted(inv.gaps)))
    if plan.baseline is not None:
        current = json_report.report_dict(data)
        data = replace(data, baseline=diff_reports(plan.baseline, current, plan.baseline_source))
    return data


Warn = Callable[[str], None]
"""Where a warning line goes (the CLI prints it on stderr)."""


def _ignore(_: str) -> None:
    pass


def write_files(data: ReportData, plan: OutputPlan, warn: Warn = _ignore) -> None:
    """Write every extra output file, each as soon as it is rendered."""
    for fmt, path in plan.extra:
        write_output(fmt, data, plan, str(path), warn)


def write_output(fmt: Format, data: ReportData, plan: OutputPlan, dest: str, warn: Warn) -> None:
    """Render one format to its destination: JSON streamed a finding at a time, SARIF split
    (--sarif-split) or, over GitHub's limits without it, left out with a warning."""
    if fmt is Format.JSON:
        write_chunks(dest, json_report.iter_render(data))
    elif fmt is Format.SARIF:
        for path, text in sarif_files(data, plan, dest, warn):
            destinations.write_text(path, text)
    else:
        destinations.write_text(dest, render(fmt, data, plan))


def sarif_files(data: ReportData, plan: OutputPlan, dest: str, warn: Warn) -> list[tuple[str, str]]:
    """(path, text) of the SARIF file(s) for dest: one, several parts (report.1.sarif, ...)
    with --sarif-split, or none (and a warning) when it is over GitHub's limits without it."""
    try:
        return [(dest, sarif.render(data, plan.sarif_category))]
    except sarif.SarifLimitError as exc:
        if not plan.sarif_split:
            warn(f"SARIF not written to {dest}: {exc}")
            return []
    parts = sarif.render_parts(data, plan.sarif_category)
    if len(parts) == 1:
        return [(dest, parts[0])]
    return [(sarif.part_path(dest, i), text) for i, text in enumerate(parts, 1)]


def render_main(fmt: Format, data: ReportData, plan: OutputPlan, warn: Warn) -> str:
    """The main format's text for stdout: SARIF over GitHub's limits is left out with a
    warning (parts need files: --output FILE)."""
    if fmt is not Format.SARIF:
        return render(fmt, data, plan)
    try:
        return sarif.render(data, plan.sarif_category)
    except sarif.SarifLimitError as exc:
        hint = " (--sarif-split needs --output FILE)" if plan.sarif_split else ""
        warn(f"SARIF not written: {exc}{hint}")
        return ""


def publishable(
    formats: Iterable[Format], data: ReportData, plan: OutputPlan, warn: Warn
) -> dict[str, str]:
    """Extension -> text of the reports for --report-to (SARIF parts as 1.sarif, 2.sarif, ...)."""
    out: dict[str, str] = {}
    for fmt in formats:
        ext = EXTENSIONS[fmt]
        if fmt is Format.SARIF:
            for path, text in sarif_files(data, plan, ext, warn):
                out[path] = text
        else:
            out[ext] = render(fmt, data, plan)
    return out


def write_chunks(dest: str, chunks: Iterable[str]) -> None:
    """Write text made a piece at a time: to a local file streamed (atomically, never through
    a symlink, with the report mode), to S3 joined."""
    if destinations.is_s3(dest):
        destinations.write_text(dest, "".join(chunks))
        return
    write_local(Path(dest), chunks, file_mode("report", REPORT_MODE))
