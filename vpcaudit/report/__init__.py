"""Reporters: one module per output format, all reading the same ReportData."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vpcaudit import __version__
from vpcaudit.aws.specs import not_collected
from vpcaudit.baseline import BaselineDiff
from vpcaudit.evaluate import Evaluation
from vpcaudit.formats import Format as Format
from vpcaudit.inventory import Inventory
from vpcaudit.model import Gap, Severity
from vpcaudit.report.topology import Topology
from vpcaudit.rules.base import Rule
from vpcaudit.snapshot import Skipped, Snapshot

REPORT_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ReportData:
    """Everything a reporter needs: the scan's scope and coverage, and the evaluation."""

    started_at: str
    finished_at: str
    accounts: tuple[str, ...]
    account_names: dict[str, str]
    regions: tuple[str, ...]
    gaps: tuple[Gap, ...]
    skipped: tuple[Skipped, ...]
    evaluation: Evaluation
    tool_version: str = __version__
    rules: Mapping[str, Rule[Any]] = field(default_factory=dict)
    """The rules that could run, for their titles and documentation."""
    topology: Topology = field(default_factory=Topology)
    baseline: BaselineDiff | None = None
    read: tuple[tuple[str, str], ...] = ()
    """Every (account, region) the scan read."""
    shard: str | None = None
    """I/N when the snapshot is one shard of a split scan."""
    severity_overrides: Mapping[str, Severity] = field(default_factory=dict)
    """Severities the policy sets per rule (for rule metadata such as SARIF's)."""
    not_collected: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    """(account, region, kinds) the snapshot lacks: taken by an older vpcaudit."""
    third_party_rules: Mapping[str, str] = field(default_factory=dict)
    """Rule id -> package:entry point of every third-party (plugin) rule that was loaded."""
    policy_sources: tuple[str, ...] = ()
    """The policy files applied, in order (the built-in default first)."""
    inventory: Inventory | None = field(default=None, compare=False, repr=False)
    """The typed inventory, for a reporter that draws more than peerings (HTML)."""

    @property
    def complete(self) -> bool:
        """True when every targeted account and region was read without a gap (and something
        was read at all: a scan of nothing is not a clean scan)."""
        return not self.gaps and bool(self.read or not self.accounts)

    @property
    def disabled_rules(self) -> tuple[str, ...]:
        """Rules that could have run but were switched off, by the policy or by
        --rules/--skip-rules (for "what was checked")."""
        return tuple(sorted(set(self.rules) - set(self.evaluation.rules_run)))

    @classmethod
    def build(
        cls,
        snap: Snapshot,
        evaluation: Evaluation,
        rules: Mapping[str, Rule[Any]] | None = None,
        topology: Topology | None = None,
    ) -> ReportData:
        """Combine a snapshot's scope with the findings evaluated from it."""
        accounts = sorted({*snap.accounts, *(r.account_id for r in snap.regions)})
        return cls(
            started_at=snap.started_at,
            finished_at=snap.finished_at,
            accounts=tuple(accounts),
            account_names={a: snap.accounts.get(a, "") for a in accounts},
            regions=tuple(snap.region_names),
            gaps=tuple(sorted(snap.gaps)),
            skipped=tuple(snap.skipped),
            evaluation=evaluation,
            rules=dict(rules or {}),
            read=tuple(sorted({(r.account_id, r.region) for r in snap.regions})),
            shard=str(snap.extra["shard"]) if snap.extra.get("shard") else None,
            not_collected=tuple(not_collected(snap)),
            topology=topology or Topology(),
        )

    def third_party_run(self) -> dict[str, str]:
        """Rule id -> package:entry point of each third-party rule that ran, by id."""
        ran = set(self.evaluation.rules_run)
        return {r: src for r, src in sorted(self.third_party_rules.items()) if r in ran}

    def cost_usd_per_month(self) -> float:
        """What the unsuppressed endpoint findings estimate is wasted each month."""
        total = 0.0
        for f in self.evaluation.findings:
            if "monthly_cost_usd" not in f.evidence:
                continue  # most findings, by the hundred thousand: asked once, cheaply
            cost = f.evidence["monthly_cost_usd"]
            # An endpoint the VPC may need (VPN, peering, ...) is not counted as waste; a
            # rule's evidence that is not one number (a comparison) is not a waste figure.
            if f.suppressed or f.evidence.get("legitimate_uses"):
                continue
            if isinstance(cost, int | float) and not isinstance(cost, bool):
                total += float(cost)
        return round(total, 2)

    def summary(self) -> dict[str, Any]:
        """Counts by severity and by rule (suppressed findings counted apart)."""
        live = [f for f in self.evaluation.findings if not f.suppressed]
        by_sev = Counter(f.severity for f in live)
        by_rule = Counter(f.rule_id for f in live)
        by_account = Counter(f.resource.account_id for f in live)
        return {
            "total": len(live),
            "by_account": {a: by_account[a] for a in sorted(by_account)},
            "estimated_monthly_waste_usd": self.cost_usd_per_month(),
            "by_severity": {s.value: by_sev.get(s, 0) for s in Severity},
            "by_rule": {r: by_rule[r] for r in sorted(by_rule)},
            "suppressed": len(self.evaluation.findings) - len(live),
            "unverified": len(self.evaluation.unverified),
            "rules_run": list(self.evaluation.rules_run),
            "third_party_rules_run": self.third_party_run(),
        }
