"""CSV for spreadsheets: one row per finding, suppressed ones included and marked."""

from __future__ import annotations

import csv
import io
import json

from vpcaudit.report import ReportData

COLUMNS = (
    "rule_id",
    "severity",
    "account_id",
    "account_name",
    "region",
    "resource_type",
    "resource_id",
    "resource_arn",
    "message",
    "remediation",
    "evidence",
    "fingerprint",
    "suppressed",
    "waiver_reason",
    "baseline",
)


def _safe(value: str) -> str:
    """Defuse spreadsheet formulas: a cell starting with = + - @ tab or CR is kept as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def render(data: ReportData) -> str:
    """The findings as CSV text with a header row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for f in data.evaluation.findings:
        r = f.resource
        w.writerow(
            _safe(str(cell))
            for cell in (
                f.rule_id,
                f.severity.value,
                r.account_id,
                data.account_names.get(r.account_id, ""),
                r.region,
                r.resource_type,
                r.resource_id,
                r.arn,
                f.message,
                f.remediation,
                json.dumps(f.evidence, sort_keys=True),
                f.fingerprint,
                "true" if f.suppressed else "false",
                (f.waiver or {}).get("reason", ""),
                data.baseline.status(f.fingerprint) if data.baseline else "",
            )
        )
    return buf.getvalue()
