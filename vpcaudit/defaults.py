"""Defaults the command line and the scanner share (a light module: no AWS SDK import)."""

DEFAULT_ORG_ROLE = "vpcaudit-audit"
"""The role assumed in each member account with --org: a dedicated read-only role
(policies/iam/vpcaudit-readonly.json, trusting vpcaudit-member-trust.json)."""

ADMIN_ORG_ROLE = "OrganizationAccountAccessRole"
"""The role Organizations creates in member accounts: full admin. It still works, with a
warning: the read-only guard would then be all that stands between a bug and admin rights."""
