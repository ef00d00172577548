"""Render one scan in every format asked for: the main output and any extra files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vpcaudit import destinations
from vpcaudit.baseline import diff_reports
from vpcaudit.evaluate import Evaluation
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
}


@dataclass(frozen=True)
class OutputPlan:
    """Where each format goes: the main one (stdout when path is None) and extra files."""

    format: Format = Format.TABLE
    path: Path | None = None
    extra: tuple[tuple[Format, Path], ...] = ()
    sarif_category: str | None = None
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
    }
    return renderers[fmt]()


def build_report(
    snap: Snapshot,
    inv: Inventory,
    evaluation: Evaluation,
    rules: dict[str, Rule[Any]],
    plan: OutputPlan,
    *,
    policy: Policy | None = None,
) -> ReportData:
    """The report data, with the baseline comparison when one was given."""
    data = ReportData.build(snap, evaluation, rules, build_topology(inv, evaluation))
    if policy is not None:
        overrides = {r: s.severity for r, s in policy.rules.items() if s.severity is not None}
        data = replace(data, severity_overrides=overrides)
    if plan.baseline is not None:
        current = json_report.report_dict(data)
        data = replace(data, baseline=diff_reports(plan.baseline, current, plan.baseline_source))
    return data


def write_files(data: ReportData, plan: OutputPlan) -> None:
    """Write every extra output file."""
    # Render everything first: a format that refuses (e.g. SARIF over GitHub's limits) must
    # not leave the other files half-updated.
    texts = [(render(fmt, data, plan), path) for fmt, path in plan.extra]
    for text, path in texts:
        destinations.write_text(str(path), text)
