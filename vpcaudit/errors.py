"""The exception roots: the CLI catches these, and only these, and turns them into one line."""


class VpcauditError(Exception):
    """Root of every error the tool raises on purpose."""


class ConfigError(VpcauditError):
    """Bad input from the user: arguments, profile, region, policy, snapshot (exit 2)."""


class CredentialsError(ConfigError):
    """Credentials are missing, expired or refused before any resource could be read."""


class SnapshotError(ConfigError):
    """A snapshot file is not JSON, not a vpcaudit snapshot, or of another schema version."""


class MutatingCallRefused(VpcauditError):
    """The read-only guard stopped an API call that could change an AWS resource."""
