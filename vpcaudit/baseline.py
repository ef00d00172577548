"""Baselines: compare a report with an earlier one by finding fingerprint."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpcaudit.errors import ConfigError, SnapshotError

_FINDING_KEYS = ("fingerprint", "rule_id", "severity", "account_id", "region", "resource_id")


@dataclass(frozen=True)
class BaselineDiff:
    """What changed since the baseline report."""

    source: str
    new: frozenset[str]
    """Fingerprints of current findings the baseline did not have."""
    unchanged: frozenset[str]
    """Fingerprints in both reports with the same severity."""
    resolved: tuple[dict[str, Any], ...]
    """Baseline findings gone now, in places this scan did read."""
    unknown: tuple[dict[str, Any], ...]
    """Baseline findings in places this scan could not read: not claimed as resolved."""
    changed: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Fingerprints in both reports whose severity moved: (old severity, new severity)."""

    def status(self, fingerprint: str) -> str:
        """new, changed (its severity) or unchanged."""
        if fingerprint in self.new:
            return "new"
        return "changed" if fingerprint in self.changed else "unchanged"


def load_report(path: Path) -> dict[str, Any]:
    """Read a vpcaudit JSON report (the baseline or a diff operand)."""
    if str(path)[:3].lower() == "s3:":
        raise ConfigError(f"{path}: reports are read from local files; copy it first (aws s3 cp)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read report ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ConfigError(f"{path}: not a JSON report") from None
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("findings"), list)
        or (doc.get("tool") or {}).get("name") != "vpcaudit"
    ):
        raise ConfigError(f"{path}: not a vpcaudit JSON report (vpcaudit scan --format json)")
    for f in doc["findings"]:
        if not isinstance(f, dict) or not all(isinstance(f.get(k), str) for k in _FINDING_KEYS):
            raise ConfigError(
                f"{path}: a finding lacks one of {', '.join(_FINDING_KEYS)}: not a vpcaudit report"
            )
    return doc


def _was_read(doc: Mapping[str, Any]) -> Any:
    """A predicate: was (account, region) read, without a gap, by the scan behind doc?"""
    scan = doc.get("scan") or {}
    read = {(c.get("account_id"), c.get("region")) for c in scan.get("read") or []}
    if not read:  # older reports: every account x every region listed
        read = {(a, r) for a in scan.get("accounts") or [] for r in scan.get("regions") or []}
    unread = {(g.get("account_id", ""), g.get("region", "")) for g in scan.get("gaps") or []}

    def was_read(account: str, region: str) -> bool:
        return (
            (account, region) in read
            and (account, region) not in unread
            and (account, "*") not in unread
        )

    return was_read


def diff_reports(old: Mapping[str, Any], new: Mapping[str, Any], source: str) -> BaselineDiff:
    """Compare two JSON reports' findings by fingerprint."""
    old_by_fp = {f["fingerprint"]: f for f in old["findings"]}
    new_fps = {f["fingerprint"] for f in new["findings"]}
    was_read = _was_read(new)
    rules_run = (new.get("summary") or {}).get("rules_run")
    undecided = {(u.get("rule_id"), u.get("resource_id")) for u in new.get("unverified") or []}
    resolved: list[dict[str, Any]] = []
    unknown: list[dict[str, Any]] = []
    for fp, f in sorted(old_by_fp.items()):
        if fp in new_fps:
            continue
        # Resolved only if this run checked it again: the place was read, the rule ran, and
        # the rule could decide (e.g. both sides of a peering were read).
        rechecked = (
            was_read(f.get("account_id", ""), f.get("region", ""))
            and (rules_run is None or f.get("rule_id") in rules_run)
            and (f.get("rule_id"), f.get("resource_id")) not in undecided
        )
        (resolved if rechecked else unknown).append(f)
    # The fingerprint leaves severity out (a finding keeps its identity when it is re-graded),
    # so a re-graded finding is one that is in both with another severity.
    changed = {
        f["fingerprint"]: (old_by_fp[f["fingerprint"]]["severity"], f["severity"])
        for f in new["findings"]
        if f["fingerprint"] in old_by_fp
        and old_by_fp[f["fingerprint"]].get("severity") != f.get("severity")
    }
    return BaselineDiff(
        source=source,
        new=frozenset(new_fps - set(old_by_fp)),
        unchanged=frozenset((new_fps & set(old_by_fp)) - set(changed)),
        resolved=tuple(resolved),
        unknown=tuple(unknown),
        changed=dict(sorted(changed.items())),
    )


MAX_SNIFF = 1 << 20
"""Read at most this much of a file to tell which kind of report it is."""


def not_a_snapshot(src: str) -> str | None:
    """When a file given as a snapshot is a vpcaudit report instead, a line saying so and
    what to pass (None when it is not recognisably a report)."""
    if src[:3].lower() == "s3:":
        return None  # not read twice from S3 for a hint
    try:
        with Path(src).open(encoding="utf-8", errors="replace") as fh:
            text = fh.read(MAX_SNIFF)
    except OSError:
        return None
    kind = None if "vpcaudit-snapshot" in text else _report_kind(text)
    if kind is None:
        return None
    instead = "; to compare two JSON reports use `vpcaudit diff OLD NEW`" if "JSON" in kind else ""
    return (
        f"{src} is {kind}, not a snapshot: pass the file `vpcaudit scan --save-snapshot FILE` "
        f"wrote{instead}"
    )


@contextlib.contextmanager
def naming_reports(src: str) -> Iterator[None]:
    """Turn a snapshot error on a file that is a report into the line that says so."""
    try:
        yield
    except SnapshotError:
        hint = not_a_snapshot(src)
        if hint is not None:
            raise ConfigError(hint) from None
        raise


def _report_kind(text: str) -> str | None:
    head = text.lstrip()[:4096]
    kinds = (
        ("a SARIF report", head.startswith("{") and '"$schema"' in head and "sarif" in head),
        (
            "a vpcaudit JSON report",
            head.startswith("{")
            and (
                re.search(r'"tool"\s*:\s*\{\s*"name"\s*:\s*"vpcaudit"', text) is not None
                or ('"findings"' in text and '"fingerprint"' in text)
            ),
        ),
        ("an HTML report", head.lower().startswith(("<!doctype html", "<html"))),
        ("a Markdown report", head.startswith("#") and "vpcaudit" in head.lower()),
        ("a CSV report", head.startswith("rule_id,")),
    )
    return next((name for name, found in kinds if found), None)
