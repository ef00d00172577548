"""Pure evaluation: inventory x rules x policy -> sorted findings. No I/O, no clock."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vpcaudit.inventory import Inventory
from vpcaudit.model import Finding, Severity, Unverifiable, Violation
from vpcaudit.policy import Policy
from vpcaudit.rules.base import Rule


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
        if not settings.enabled:
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
    unverified.sort(
        key=lambda u: (
            u.rule_id,
            u.item.resource.account_id,
            u.item.resource.region,
            u.item.resource.resource_id,
            u.item.reason,
        )
    )
    return Evaluation(tuple(findings), tuple(_dedupe(unverified)), tuple(ran))


def _dedupe(items: list[UnverifiedCheck]) -> list[UnverifiedCheck]:
    out: list[UnverifiedCheck] = []
    for u in items:
        if not out or out[-1] != u:
            out.append(u)
    return out


def at_or_above(findings: tuple[Finding, ...], threshold: Severity) -> list[Finding]:
    """Unsuppressed findings whose severity is at or above the threshold."""
    return [f for f in findings if not f.suppressed and f.severity.rank >= threshold.rank]
