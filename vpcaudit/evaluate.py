"""Pure evaluation: inventory x rules x policy -> sorted findings. No I/O, no clock."""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vpcaudit.errors import ConfigError
from vpcaudit.inventory import Inventory
from vpcaudit.model import Finding, Severity, Unverifiable, Violation
from vpcaudit.policy import Policy, RuleSettings
from vpcaudit.rules.base import Rule
from vpcaudit.rules.sandbox import no_aws_calls
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
        for out in _run_rule(rule_id, rule, inv, params):
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


def _run_rule(
    rule_id: str, rule: Rule[Any], inv: Inventory, params: Any
) -> list[Violation | Unverifiable]:
    """Everything one rule yields, with AWS calls refused while it runs (rules read the
    inventory only; a plugin's own boto3 client would not carry the read-only guard)."""
    with no_aws_calls(f"rule {rule_id}"):
        return list(rule.check(inv, params))


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


def rules_switched_off(
    known: Iterable[str], only: Sequence[str] = (), skip: Sequence[str] = ()
) -> frozenset[str]:
    """The rule ids --rules (run only these) and --skip-rules leave out; each pattern is an id
    or a glob, and one that matches no rule is a ConfigError naming the close ids."""
    ids = sorted(known)
    for flag, patterns in (("--rules", only), ("--skip-rules", skip)):
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(i, pattern) for i in ids):
                raise ConfigError(
                    f"{flag} {pattern!r} matches no rule{_did_you_mean(pattern, ids)}"
                )
    chosen = {i for i in ids if any(fnmatch.fnmatchcase(i, p) for p in only)} if only else set(ids)
    return frozenset(
        i for i in ids if i not in chosen or any(fnmatch.fnmatchcase(i, p) for p in skip)
    )


def _did_you_mean(pattern: str, ids: list[str]) -> str:
    # A glob is compared by its literal head, with each id cut to the same length, so
    # "peerng-*" still finds the peering-* rules.
    head = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    glob = head != pattern
    scored = sorted(
        (
            max(
                difflib.SequenceMatcher(None, pattern, i).ratio(),
                difflib.SequenceMatcher(None, head, i[: len(head)]).ratio() if glob else 0.0,
            ),
            i,
        )
        for i in ids
    )
    close = [i for score, i in reversed(scored) if score >= 0.75][:3]
    return (
        f"; did you mean {', '.join(close)}? (see `vpcaudit rules`)"
        if close
        else (" (see `vpcaudit rules`)")
    )


def with_rules_off(policy: Policy, off: Iterable[str]) -> Policy:
    """The policy with these rules disabled, as a later policy file would disable them (no
    source file is added: the command line is not a policy file)."""
    off = sorted(off)
    if not off:
        return policy
    return policy.merged(Policy({r: RuleSettings(enabled=False) for r in off}))
