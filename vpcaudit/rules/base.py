"""What a rule is: metadata beside a small function over the typed inventory."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from vpcaudit.inventory import Inventory
from vpcaudit.model import Severity, Unverifiable, Violation

P = TypeVar("P")

SECTION_FIELD = "policy_section"
"""Metadata key of a rule-parameter field filled from a top-level policy section (not from
`rules.RULE.params`), e.g. `field(default=(), metadata={SECTION_FIELD: "intents"})`: such a
field is not listed as a parameter."""

RuleOutput = Iterable[Violation | Unverifiable]


@dataclass(frozen=True)
class NoParams:
    """Parameters of a rule that has none."""


@dataclass(frozen=True)
class Rule(Generic[P]):
    """A check with a stable id, its documentation, and its typed parameters."""

    id: str
    """Stable kebab-case slug; other tools key on it."""
    title: str
    severity: Severity
    """Default severity; a violation may grade itself, a policy may override."""
    area: str
    """peering, routing, endpoints or flowlogs."""
    rationale: str
    """One paragraph: why this matters."""
    remediation: str
    """How to fix it in general; each finding carries its own concrete command."""
    evidence_fields: tuple[str, ...]
    """The keys a finding's evidence carries, documented for `vpcaudit rules RULE_ID`."""
    params_type: type[P]
    """A frozen dataclass whose fields (with defaults) are the rule's tunable parameters."""
    check: Callable[[Inventory, P], RuleOutput]
    legitimate: tuple[str, ...] = ()
    """Legitimate designs that look like the problem and that the rule deliberately does not
    flag (or grades down), one sentence each: shown by `vpcaudit rules RULE`."""

    def default_params(self) -> P:
        """The parameters with every default."""
        return self.params_type()

    def params_doc(self) -> list[dict[str, Any]]:
        """Name, type and default of each parameter, for `vpcaudit rules`."""
        if not dataclasses.is_dataclass(self.params_type):
            return []
        default = self.default_params()
        return [
            {
                "name": f.name,
                "type": f.type if isinstance(f.type, str) else getattr(f.type, "__name__", ""),
                "default": getattr(default, f.name),
            }
            for f in dataclasses.fields(self.params_type)
            if SECTION_FIELD not in f.metadata
        ]


def rule(
    *,
    id: str,
    title: str,
    severity: Severity,
    area: str,
    rationale: str,
    remediation: str,
    evidence: tuple[str, ...],
    params: type[P],
    legitimate: tuple[str, ...] = (),
) -> Callable[[Callable[[Inventory, P], RuleOutput]], Rule[P]]:
    """Turn a check function into a Rule; no registry is touched."""

    def wrap(fn: Callable[[Inventory, P], RuleOutput]) -> Rule[P]:
        return Rule(
            id=id,
            title=title,
            severity=severity,
            area=area,
            rationale=" ".join(rationale.split()),
            remediation=" ".join(remediation.split()),
            evidence_fields=evidence,
            params_type=params,
            check=fn,
            legitimate=tuple(" ".join(x.split()) for x in legitimate),
        )

    return wrap
