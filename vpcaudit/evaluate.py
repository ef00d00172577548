"""Pure evaluation: inventory x rules x policy -> sorted findings. No I/O, no clock."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vpcaudit.inventory import Inventory
from vpcaudit.model import Finding, Severity, Unverifiable, Violation
from vpcaudit.policy import Policy
from vpcaudit.rules.base import Rule
from vpcaudit.waivers import WaiverReport, apply_waivers


@dataclass(frozen=True)
class UnverifiedCheck:
    """A check a rule could not decide, with the rule that tried."""

    rule_id: str
    item: Unverifiable


@dataclass(frozen=True)
class Evaluation:
    """The outcome of running the rules over an inventory."""

    findings: tuple[Finding, ...]
    unverified: tuple[UnverifiedCheck, ...]
    rules_run: tuple[str, ...]
    waivers: WaiverReport = field(default_factory=lambda: WaiverReport((), (), ()))


def fingerprint(rule_id: str, v: Violation) -> str:
    """A stable id for a finding: the same defect gives the same value in every run."""
    r = v.resource
    key = "\x1f".join(
        (rule_id, r.account_id, r.region, r.resource_type, r.resource_id, v.discriminator)
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def evaluate(inv: Inventory, rules: Mapping[str, Rule[Any]], policy: Policy) -> Evaluation:
    """Run every enabled rule; stamp id, severity and fingerprint; sort for stable output."""
    findings: list[Finding] = []
    unverified: list[UnverifiedCheck] = []
    ran: list[str] = []
    for rule_id in sorted(rules):
        rule = rules[rule_id]
        settings = policy.settings(rule_id)
        if settings.enabled is False:
            continue
        ran.append(rule_id)
        params = policy.params_for(rule)
        seen: set[str] = set()
        for out in rule.check(inv, params):
            if isinstance(out, Unverifiable):
                unverified.append(UnverifiedCheck(rule_id, out))
                continue
            fp = fingerprint(rule_id, out)
            if fp in seen:  # a resource seen from two accounts is still one finding
                continue
            seen.add(fp)
            findings.append(
                Finding(
                    rule_id=rule_id,
                    severity=settings.severity or out.severity or rule.severity,
                    resource=out.resource,
                    message=out.message,
                    evidence=out.evidence,
                    remediation=out.remediation,
                    fingerprint=fp,
                )
            )
    findings.sort(key=Finding.sort_key)
    # Waivers are judged as of the scan, like everything else, so a re-evaluation of the same
    # snapshot gives the same report.
    waived, report = apply_waivers(findings, policy.waivers, inv.as_of.date())
    unverified.sort(key=_unverified_key)
    return Evaluation(tuple(waived), tuple(_dedupe(unverified)), tuple(ran), report)


def _unverified_key(u: UnverifiedCheck) -> tuple[str, str, str, str, str]:
    r = u.item.resource
    return (u.rule_id, r.account_id, r.region, r.resource_id, u.item.reason)


def _dedupe(items: list[UnverifiedCheck]) -> list[UnverifiedCheck]:
    """One entry per check: a resource seen from several accounts may carry other tags."""
    out: dict[tuple[str, str, str, str, str], UnverifiedCheck] = {}
    for u in items:
        out.setdefault(_unverified_key(u), u)
    return list(out.values())


def at_or_above(findings: tuple[Finding, ...], threshold: Severity) -> list[Finding]:
    """Unsuppressed findings whose severity is at or above the threshold."""
    return [f for f in findings if not f.suppressed and f.severity.rank >= threshold.rank]
