"""Policy: which rules run, at what severity, with which parameters."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vpcaudit.model import Severity
from vpcaudit.rules.base import Rule


@dataclass(frozen=True)
class RuleSettings:
    """A policy's settings for one rule."""

    enabled: bool = True
    severity: Severity | None = None
    """Replaces whatever severity the rule gives."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """Overrides of the rule's parameter defaults, already validated."""


@dataclass(frozen=True)
class Policy:
    """Rule switches, severities and parameters; the default policy runs every rule as shipped."""

    rules: Mapping[str, RuleSettings] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    """The files the policy was read from, in order."""

    def settings(self, rule_id: str) -> RuleSettings:
        """The settings for a rule (defaults when the policy does not name it)."""
        return self.rules.get(rule_id, RuleSettings())

    def params_for(self, rule: Rule[Any]) -> Any:
        """The rule's parameter object: its defaults with this policy's overrides applied."""
        overrides = self.settings(rule.id).params
        default = rule.default_params()
        if not overrides:
            return default
        return dataclasses.replace(default, **dict(overrides))
