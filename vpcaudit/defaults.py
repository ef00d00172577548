"""Defaults the command line and the scanner share (a light module: no AWS SDK import)."""

DEFAULT_ORG_ROLE = "OrganizationAccountAccessRole"
"""The role assumed in each member account with --org."""
