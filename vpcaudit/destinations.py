"""Where reports and snapshots go, and come from: local paths or s3://bucket/key URIs.

Writing to S3 is the only write vpcaudit ever makes to AWS. It uses its own client, made
outside the scanner's read-only guard, and only when the user names an s3:// destination.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions

from vpcaudit.aws.session import client_config, error_parts
from vpcaudit.errors import ConfigError
from vpcaudit.files import REPORT_MODE, SNAPSHOT_MODE, file_mode, write_local

CONTENT_TYPES = {
    "json": "application/json",
    "sarif": "application/sarif+json",
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}


@dataclass(frozen=True)
class S3Uri:
    """A parsed s3://bucket/key URI."""

    bucket: str
    key: str

    @classmethod
    def parse(cls, text: str) -> S3Uri:
        """Read s3://bucket/key (key may be empty or end with /)."""
        rest = text[len("s3://") :]
        bucket, _, key = rest.partition("/")
        if not bucket:
            raise ConfigError(f"{text!r} names no bucket (expected s3://bucket/prefix/)")
        return cls(bucket, key)


def is_s3(text: str) -> bool:
    """True for an s3:// URI."""
    return text.startswith("s3://")


def check_file_destination(dest: str | Path) -> None:
    """Refuse, before any scanning, a file destination that cannot be written."""
    text = str(dest)
    if is_s3(text):
        S3Uri.parse(text)
        return
    path = Path(text)
    if path.is_symlink():
        raise ConfigError(f"refusing to write {text}: it is a symbolic link")
    if path.is_dir():
        raise ConfigError(f"cannot write {text}: it is a directory")
    parent = path.parent
    if not parent.is_dir():
        raise ConfigError(f"cannot write {text}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise ConfigError(f"cannot write {text}: directory {parent} is not writable")


def check_dir_destination(dest: str) -> None:
    """Refuse, before any scanning, a --report-to directory that cannot be created or written."""
    if is_s3(dest):
        S3Uri.parse(dest)
        return
    path = Path(dest)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--report-to {dest}: exists and is not a directory")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise ConfigError(f"--report-to {dest}: {existing} is not a writable directory")


def _s3_client(profile: str | None) -> Any:
    try:
        return boto3.Session(profile_name=profile).client("s3", config=client_config())
    except botocore.exceptions.BotoCoreError as exc:
        raise ConfigError(f"cannot open an S3 client: {exc}") from None


def write_text(dest: str, text: str, profile: str | None = None, *, snapshot: bool = False) -> None:
    """Write text to a local path (atomically, never through a symlink, mode 0640 for
    reports and 0600 for snapshots) or an s3:// URI."""
    if not is_s3(dest):
        mode = (
            file_mode("snapshot", SNAPSHOT_MODE) if snapshot else file_mode("report", REPORT_MODE)
        )
        write_local(Path(dest), text, mode)
        return
    uri = S3Uri.parse(dest)
    suffix = uri.key.rsplit(".", 1)[-1]
    try:
        _s3_client(profile).put_object(
            Bucket=uri.bucket,
            Key=uri.key,
            Body=text.encode("utf-8"),
            ContentType=CONTENT_TYPES.get(suffix, "application/octet-stream"),
        )
    except botocore.exceptions.ClientError as exc:
        code, message = error_parts(exc)
        raise ConfigError(f"cannot upload {dest} ({code}): {message}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise ConfigError(f"cannot upload {dest}: {exc}") from None


def read_text(src: str, profile: str | None = None) -> str:
    """Read text from a local path or an s3:// URI."""
    if not is_s3(src):
        try:
            return Path(src).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read {src}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{src}: not UTF-8 text") from None
    uri = S3Uri.parse(src)
    try:
        body = _s3_client(profile).get_object(Bucket=uri.bucket, Key=uri.key)["Body"].read()
    except botocore.exceptions.ClientError as exc:
        code, message = error_parts(exc)
        raise ConfigError(f"cannot read {src} ({code}): {message}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise ConfigError(f"cannot read {src}: {exc}") from None
    try:
        return str(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{src}: not UTF-8 text") from None


def publish(
    dest: str, reports: Mapping[str, str], when: dt.datetime, profile: str | None = None
) -> list[str]:
    """Write each report (extension -> text) as a timestamped file and as latest.<ext>."""
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    written = []
    for ext, text in sorted(reports.items()):
        for name in (f"vpcaudit-{stamp}.{ext}", f"latest.{ext}"):
            target = _join(dest, name)
            write_text(target, text, profile)
            written.append(target)
    return written


def _join(dest: str, name: str) -> str:
    if is_s3(dest):
        return dest.rstrip("/") + "/" + name
    path = Path(dest)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {dest}: {exc.strerror or exc}") from None
    return str(path / name)
