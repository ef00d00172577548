"""Rules: one module per area; loaded through the `vpcaudit.rules` entry-point group."""

from vpcaudit.rules.base import NoParams, Rule, RuleOutput, rule

__all__ = ["NoParams", "Rule", "RuleOutput", "rule"]
