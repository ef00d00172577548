"""Waivers: mark matching findings suppressed, and say which waivers expired or matched nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from vpcaudit.model import Finding
from vpcaudit.policy import INTENT_RULE, Waiver


@dataclass(frozen=True)
class WaiverReport:
    """What the waivers did: how many findings each suppressed, which expired, which are stale."""

    applied: tuple[tuple[Waiver, int], ...]
    expired: tuple[tuple[Waiver, int], ...]
    """Past their date, with the number of findings they would still match."""
    stale: tuple[Waiver, ...]
    """In force but matched no finding: the exception may be gone, or the waiver mistyped."""


def matches(w: Waiver, f: Finding) -> bool:
    """True when the waiver's every matcher holds for the finding."""
    r = f.resource
    tags = dict(r.tags)
    return (
        (w.rule in ("*", f.rule_id))
        and (
            w.resource is None
            or fnmatchcase(r.resource_id, w.resource)
            or fnmatchcase(r.arn, w.resource)
        )
        and (w.account is None or w.account == r.account_id)
        and (w.region is None or fnmatchcase(r.region, w.region))
        and all(tags.get(k) == v for k, v in w.tags.items())
        and (w.intent is None or _intent_matches(w.intent, f))
    )


def _intent_matches(pattern: str, f: Finding) -> bool:
    """Whether a reachability-intent finding is about an intent whose name matches the glob."""
    return f.rule_id == INTENT_RULE and fnmatchcase(str(f.evidence.get("intent", "")), pattern)


def apply_waivers(
    findings: Sequence[Finding], waivers: Sequence[Waiver], today: dt.date
) -> tuple[list[Finding], WaiverReport]:
    """Suppress findings matched by a waiver in force on `today` (the first one that matches)."""
    live = [w for w in waivers if w.expires is None or today <= w.expires]
    expired = [w for w in waivers if w.expires is not None and today > w.expires]
    used = dict.fromkeys(range(len(live)), 0)
    out: list[Finding] = []
    for f in findings:
        hit = next((i for i, w in enumerate(live) if matches(w, f)), None)
        if hit is None:
            out.append(f)
            continue
        used[hit] += 1
        out.append(dataclasses.replace(f, suppressed=True, waiver=live[hit].to_dict()))
    report = WaiverReport(
        applied=tuple((live[i], n) for i, n in used.items() if n),
        expired=tuple((w, sum(matches(w, f) for f in findings)) for w in expired),
        # Stale: matches nothing at all (one shadowed by an earlier waiver is not stale).
        stale=tuple(w for w in live if not any(matches(w, f) for f in findings)),
    )
    return out, report
