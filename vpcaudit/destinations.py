"""Where reports and snapshots go, and come from: local paths or s3://bucket/key URIs.

Writing to S3 is the only write vpcaudit ever makes to AWS. It uses its own client, made
outside the scanner's read-only guard, and only when the user names an s3:// destination.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import botocore.exceptions

from vpcaudit.aws.regions import check_home_region
from vpcaudit.aws.session import DEFAULT_REGION, client_config, error_parts, make_session
from vpcaudit.errors import ConfigError
from vpcaudit.files import REPORT_MODE, SNAPSHOT_MODE, file_mode, write_local

CONTENT_TYPES = {
    "json": "application/json",
    "sarif": "application/sarif+json",
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "html": "text/html; charset=utf-8",
}

EXPECTED_FORM = "s3://bucket/prefix/"
# S3's naming rules for new buckets: 3-63 characters, lower-case letters, digits, dots and
# hyphens, starting and ending with a letter or digit.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class S3Uri:
    """A parsed s3://bucket/key URI."""

    bucket: str
    key: str

    @classmethod
    def parse(cls, text: str, what: str = "") -> S3Uri:
        """Read s3://bucket/key (key may be empty or end with /); anything else meant as S3
        (S3://, s3:/bucket, s3:bucket, a bad bucket name) is refused, never taken as a path."""
        where = f"{what} {text!r}" if what else repr(text)
        if not text.startswith("s3://"):
            hint = " (lower-case s3://)" if text.lower().startswith("s3://") else ""
            raise ConfigError(f"{where} is not an S3 URI: expected {EXPECTED_FORM}{hint}")
        bucket, _, key = text[len("s3://") :].partition("/")
        if not bucket:
            raise ConfigError(f"{where} names no bucket (expected {EXPECTED_FORM})")
        if not _BUCKET.match(bucket) or ".." in bucket:
            raise ConfigError(
                f"{where}: {bucket!r} is not an S3 bucket name (3-63 characters: lower-case "
                f"letters, digits, dots and hyphens)"
            )
        return cls(bucket, key)

    def require_object(self, text: str, what: str = "") -> S3Uri:
        """This URI, refused when it names a prefix rather than an object."""
        if not self.key or self.key.endswith("/"):
            where = f"{what} {text!r}" if what else repr(text)
            raise ConfigError(f"{where} names a prefix, not a file: add a file name")
        return self


def is_s3(text: str) -> bool:
    """True for anything meant as S3: `s3:` in any case, so that a malformed URI is refused
    by S3Uri.parse instead of being written as a local path named `s3:`."""
    return text[:3].lower() == "s3:"


def check_account_id(text: str, what: str = "--bucket-owner") -> str:
    """A 12-digit AWS account id, or a ConfigError naming the option."""
    if not _ACCOUNT.match(text):
        raise ConfigError(f"{what} {text!r} is not a 12-digit AWS account id")
    return text


@dataclass(frozen=True)
class S3Access:
    """How vpcaudit reads and writes S3: whose credentials, which account must own the
    bucket (S3 refuses the request otherwise), and which KMS key encrypts what it writes."""

    profile: str | None = None
    bucket_owner: str | None = None
    """The account that must own every bucket used (default: the credentials' account)."""
    kms_key_id: str | None = None
    """Encrypt every object written with SSE-KMS under this key id, ARN or alias."""

    def _client(self, service: Literal["s3", "sts"]) -> Any:
        """A client of the S3 session (tests replace this to stub the calls)."""
        # A mistyped home region would send the first call to a host that does not exist:
        # refused now, in one line, rather than after a minute of retries.
        check_home_region(self.profile)
        session = make_session(self.profile)
        region = session.region_name or DEFAULT_REGION
        return session.client(service, region_name=region, config=client_config())

    @functools.cached_property
    def s3(self) -> Any:
        """The S3 client, made once per run."""
        return self._client("s3")

    @functools.cached_property
    def owner(self) -> str:
        """The expected bucket owner: --bucket-owner, else the account of the credentials
        (one sts:GetCallerIdentity, only when no scan already said whose they are)."""
        if self.bucket_owner:
            return self.bucket_owner
        try:
            return str(self._client("sts").get_caller_identity()["Account"])
        except botocore.exceptions.ClientError as exc:
            code, message = error_parts(exc)
            detail = f"({code}): {message}"
        except (botocore.exceptions.BotoCoreError, KeyError) as exc:
            detail = f"({type(exc).__name__})"
        raise ConfigError(
            f"cannot tell which account the S3 credentials belong to {detail}; pass "
            f"--bucket-owner ACCOUNT"
        )

    def refused(self, action: str, uri: str, exc: botocore.exceptions.ClientError) -> ConfigError:
        """One line for an S3 refusal; AccessDenied is also what a wrong owner gets."""
        code, message = error_parts(exc)
        hint = ""
        if code in ("AccessDenied", "403"):
            hint = (
                f" (the bucket must belong to account {self.owner}; if it belongs to another, "
                f"pass --bucket-owner ACCOUNT)"
            )
        return ConfigError(f"cannot {action} {uri} ({code}): {message}{hint}")


def check_source(src: str, what: str = "SNAPSHOT") -> None:
    """Refuse, before any work, a snapshot source meant as S3 that is not a valid object URI."""
    if is_s3(src):
        S3Uri.parse(src, what).require_object(src, what)


def check_file_destination(dest: str | Path, what: str = "--output") -> None:
    """Refuse, before any scanning, a file destination that cannot be written."""
    text = str(dest)
    if is_s3(text):
        S3Uri.parse(text, what).require_object(text, what)
        return
    path = Path(text)
    if path.is_symlink():
        raise ConfigError(f"refusing to write {text}: it is a symbolic link")
    if path.is_dir():
        raise ConfigError(f"cannot write {text}: it is a directory")
    parent = path.parent
    if not parent.is_dir():
        existing = _nearest_existing(parent)
        if existing == parent or not existing.is_dir():
            raise ConfigError(f"cannot write {text}: {existing} is not a directory")
        raise ConfigError(f"cannot write {text}: directory {parent} does not exist")
    _prove_writable(parent, text)


def check_dir_destination(dest: str, what: str = "--report-to") -> None:
    """Refuse, before any scanning, a --report-to directory that cannot be created or written."""
    if is_s3(dest):
        S3Uri.parse(dest, what)
        return
    path = Path(dest)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{what} {dest}: exists and is not a directory")
    existing = _nearest_existing(path)
    if not existing.is_dir():
        raise ConfigError(f"{what} {dest}: {existing} is not a directory")
    _prove_writable(existing, f"{what} {dest}")


def _nearest_existing(path: Path) -> Path:
    return next((p for p in (path, *path.parents) if p.exists()), Path.cwd())


def _prove_writable(directory: Path, shown: str) -> None:
    """Create and remove a file in the directory: os.access says yes to root on a read-only
    mount, and a scan that cannot write its report at the end has wasted its whole run."""
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".vpcaudit-probe-", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(
            f"cannot write {shown}: {directory} is not writable ({exc.strerror or exc})"
        ) from None
    os.close(fd)
    Path(tmp).unlink(missing_ok=True)


def write_text(dest: str, text: str, s3: S3Access | None = None, *, snapshot: bool = False) -> None:
    """Write text to a local path (atomically, never through a symlink, mode 0640 for
    reports and 0600 for snapshots) or an s3:// URI (owner-checked, optionally SSE-KMS)."""
    if not is_s3(dest):
        mode = (
            file_mode("snapshot", SNAPSHOT_MODE) if snapshot else file_mode("report", REPORT_MODE)
        )
        write_local(Path(dest), text, mode)
        return
    uri = S3Uri.parse(dest).require_object(dest)
    access = s3 or S3Access()
    suffix = uri.key.rsplit(".", 1)[-1]
    params: dict[str, Any] = {
        "Bucket": uri.bucket,
        "Key": uri.key,
        "Body": text.encode("utf-8"),
        "ContentType": CONTENT_TYPES.get(suffix, "application/octet-stream"),
        "ExpectedBucketOwner": access.owner,
    }
    if access.kms_key_id:
        params |= {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": access.kms_key_id}
    try:
        access.s3.put_object(**params)
    except botocore.exceptions.ClientError as exc:
        raise access.refused("upload", dest, exc) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise ConfigError(f"cannot upload {dest}: {exc}") from None


def read_text(src: str, s3: S3Access | None = None) -> str:
    """Read text from a local path or an s3:// URI (owner-checked)."""
    if not is_s3(src):
        try:
            return Path(src).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read {src}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{src}: not UTF-8 text") from None
    uri = S3Uri.parse(src).require_object(src)
    access = s3 or S3Access()
    try:
        resp = access.s3.get_object(
            Bucket=uri.bucket, Key=uri.key, ExpectedBucketOwner=access.owner
        )
        body = resp["Body"].read()
    except botocore.exceptions.ClientError as exc:
        raise access.refused("read", src, exc) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise ConfigError(f"cannot read {src}: {exc}") from None
    try:
        return str(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{src}: not UTF-8 text") from None


def publish(
    dest: str, reports: Mapping[str, str], when: dt.datetime, s3: S3Access | None = None
) -> list[str]:
    """Write each report (extension -> text) as a timestamped file and as latest.<ext>."""
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    written = []
    for ext, text in sorted(reports.items()):
        for name in (f"vpcaudit-{stamp}.{ext}", f"latest.{ext}"):
            target = _join(dest, name)
            write_text(target, text, s3)
            written.append(target)
    return written


def _join(dest: str, name: str) -> str:
    if is_s3(dest):
        S3Uri.parse(dest, "--report-to")
        return dest.rstrip("/") + "/" + name
    path = Path(dest)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {dest}: {exc.strerror or exc}") from None
    return str(path / name)
