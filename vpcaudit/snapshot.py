"""Snapshot: the raw API items of a scan plus its coverage gaps, saved as versioned JSON.

A snapshot keeps what AWS returned, untouched, so that a saved scan can be evaluated again
after the models or the rules change (`vpcaudit evaluate FILE`, no credentials needed).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpcaudit.errors import SnapshotError
from vpcaudit.files import SNAPSHOT_MODE, write_local
from vpcaudit.model import Gap

# 2: the network model's kinds (NACLs, ENIs, Transit Gateway tables and routes, VPNs, ...),
# items read per parent stamped with the parent's id, secrets stripped from VPN connections.
SCHEMA_VERSION = 2
# Version 1 lacks those kinds and has nothing else different: it loads as is, and the kinds it
# lacks are named by vpcaudit.aws.collect.not_collected.
READABLE_VERSIONS = frozenset({1, SCHEMA_VERSION})
KIND = "vpcaudit-snapshot"

RawItem = dict[str, Any]


def json_safe(value: Any) -> Any:
    """Turn a boto3 response value into plain JSON types (datetimes become ISO 8601 UTC)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


@dataclass(frozen=True)
class RegionData:
    """What was read in one account and region: resource kind -> raw API items."""

    account_id: str
    region: str
    resources: Mapping[str, list[RawItem]]


@dataclass(frozen=True)
class Skipped:
    """A region deliberately not scanned (not enabled for the account, or filtered out)."""

    account_id: str
    region: str
    reason: str


@dataclass(frozen=True)
class Snapshot:
    """One scan: its scope, raw items per (account, region), skipped regions and gaps."""

    started_at: str
    finished_at: str
    tool_version: str
    accounts: Mapping[str, str]
    """Scanned account id -> name (or "" when unknown)."""
    regions: tuple[RegionData, ...]
    gaps: tuple[Gap, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    org_account_ids: frozenset[str] | None = None
    """Every Organization member, when known: tells an external peer from an unscanned one."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Free-form metadata (e.g. how the scan was invoked); never read by rules."""

    @property
    def region_names(self) -> list[str]:
        """The sorted distinct regions read."""
        return sorted({r.region for r in self.regions})

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document form."""
        return {
            "kind": KIND,
            "schema_version": SCHEMA_VERSION,
            "tool_version": self.tool_version,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "accounts": dict(sorted(self.accounts.items())),
            "org_account_ids": None
            if self.org_account_ids is None
            else sorted(self.org_account_ids),
            "regions": [
                {
                    "account_id": r.account_id,
                    "region": r.region,
                    "resources": {k: r.resources[k] for k in sorted(r.resources)},
                }
                for r in sorted(self.regions, key=lambda r: (r.account_id, r.region))
            ],
            "skipped": [
                {"account_id": s.account_id, "region": s.region, "reason": s.reason}
                for s in sorted(self.skipped, key=lambda s: (s.account_id, s.region))
            ],
            "gaps": [g.to_dict() for g in sorted(self.gaps)],
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, doc: Any, source: str = "snapshot") -> Snapshot:
        """Read a snapshot document, raising SnapshotError on anything malformed."""
        if not isinstance(doc, dict) or doc.get("kind") != KIND:
            raise SnapshotError(f"{source}: not a vpcaudit snapshot")
        version = doc.get("schema_version")
        # bool is an int, and 1.0 == 1: only the integers themselves are versions.
        if type(version) is not int or version not in READABLE_VERSIONS:
            readable = " and ".join(str(v) for v in sorted(READABLE_VERSIONS))
            raise SnapshotError(
                f"{source}: snapshot schema_version {version!r} is not supported "
                f"(this vpcaudit reads versions {readable})"
            )
        try:
            org = doc.get("org_account_ids")
            return cls(
                started_at=str(doc["started_at"]),
                finished_at=str(doc["finished_at"]),
                tool_version=str(doc.get("tool_version", "")),
                accounts={str(k): str(v) for k, v in dict(doc["accounts"]).items()},
                org_account_ids=None if org is None else frozenset(str(a) for a in org),
                regions=tuple(_region_from_dict(r) for r in doc["regions"]),
                skipped=tuple(
                    Skipped(str(s["account_id"]), str(s["region"]), str(s["reason"]))
                    for s in doc.get("skipped", [])
                ),
                gaps=tuple(Gap.from_dict(g) for g in doc.get("gaps", [])),
                extra=dict(doc.get("extra", {})),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SnapshotError(
                f"{source}: malformed snapshot ({type(exc).__name__}: {exc})"
            ) from None

    def save(self, path: Path) -> None:
        """Write the snapshot as JSON (sorted keys, so equal scans give equal files), owner-only
        and atomically."""
        write_local(path, self.dumps(), SNAPSHOT_MODE)

    @classmethod
    def load(cls, path: Path) -> Snapshot:
        """Read a snapshot file, raising SnapshotError when it is unreadable or malformed."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SnapshotError(f"{path}: cannot read snapshot ({exc.strerror or exc})") from None
        except UnicodeDecodeError:
            raise SnapshotError(f"{path}: snapshot is not UTF-8 text") from None
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, source: str) -> Snapshot:
        """Read a snapshot from JSON text (source names it in errors)."""
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SnapshotError(
                f"{source}: snapshot is not valid JSON (line {exc.lineno}, column {exc.colno})"
            ) from None
        return cls.from_dict(doc, source=source)

    def dumps(self) -> str:
        """The snapshot as JSON text (sorted keys, so equal scans give equal files)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")) + "\n"


def load_snapshot(src: str) -> Snapshot:
    """A snapshot from a local path or an s3:// URI."""
    if src.startswith("s3://"):
        # boto3 is imported only when a snapshot is read from S3 (`path` stays quick offline).
        from vpcaudit import destinations  # noqa: PLC0415

        return Snapshot.parse(destinations.read_text(src), src)
    return Snapshot.load(Path(src))


def _region_from_dict(data: Any) -> RegionData:
    resources = data["resources"]
    if not isinstance(resources, dict):
        raise TypeError("resources must be an object")
    checked: dict[str, list[RawItem]] = {}
    for kind, items in resources.items():
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise TypeError(f"resources.{kind} must be a list of objects")
        checked[str(kind)] = items
    return RegionData(str(data["account_id"]), str(data["region"]), checked)


def merge_gaps(*groups: Iterable[Gap]) -> tuple[Gap, ...]:
    """Join gap lists, dropping exact duplicates, in a stable order."""
    return tuple(sorted({g for group in groups for g in group}))


def merge_snapshots(snaps: list[Snapshot]) -> Snapshot:
    """Join the snapshots of several shards into one, refusing overlaps that disagree."""
    if not snaps:
        raise SnapshotError("nothing to merge")
    shards = _check_shards(snaps)
    regions: dict[tuple[str, str], RegionData] = {}
    for snap in snaps:
        for r in snap.regions:
            key = (r.account_id, r.region)
            if key in regions and regions[key].resources != r.resources:
                raise SnapshotError(
                    f"account {r.account_id} region {r.region} is in two snapshots with "
                    f"different contents: were the shards run with the same --shard N?"
                )
            regions[key] = r
    orgs = [s.org_account_ids for s in snaps if s.org_account_ids is not None]
    if len({frozenset(o) for o in orgs}) > 1:
        raise SnapshotError(
            "the snapshots come from different Organizations (their member lists differ): "
            "merge the shards of one scan"
        )
    stats: dict[str, Any] = {}
    for s in snaps:
        for k, v in (s.extra.get("stats") or {}).items():
            if isinstance(v, int):
                stats[k] = stats.get(k, 0) + v
    accounts: dict[str, str] = {}
    for s in snaps:
        accounts.update(s.accounts)
    return Snapshot(
        started_at=min(s.started_at for s in snaps),
        finished_at=max(s.finished_at for s in snaps),
        tool_version=snaps[0].tool_version,
        accounts=dict(sorted(accounts.items())),
        regions=tuple(regions[k] for k in sorted(regions)),
        gaps=merge_gaps(*(s.gaps for s in snaps)),
        skipped=tuple(
            sorted({k for s in snaps for k in s.skipped}, key=lambda k: (k.account_id, k.region))
        ),
        org_account_ids=frozenset().union(*orgs) if orgs else None,
        extra={
            "merged_from": len(snaps),
            "stats": stats,
            **({"shards": shards} if shards else {}),
            **({"run_id": snaps[0].extra["run_id"]} if snaps[0].extra.get("run_id") else {}),
        },
    )


def drop_repeats(snaps: list[Snapshot], names: list[str]) -> tuple[list[Snapshot], list[str]]:
    """The same shard given twice (the same file, or an identical copy) is used once, with a
    warning; two different snapshots claiming one shard are left for merge to refuse."""
    kept: list[Snapshot] = []
    seen: dict[str, str] = {}
    warnings: list[str] = []
    for snap, name in zip(snaps, names, strict=True):
        key = snap.dumps()
        if key in seen:
            warnings.append(f"{name} is the same snapshot as {seen[key]}: used once")
            continue
        seen[key] = name
        kept.append(snap)
    return kept, warnings


def _check_shards(snaps: list[Snapshot]) -> list[str]:
    """Shard snapshots must be every shard of one split, each once: a missing shard would
    otherwise vanish from the merged scan without a gap."""
    runs = sorted({str(s.extra.get("run_id") or "(none)") for s in snaps})
    if len(runs) > 1:
        raise SnapshotError(
            f"the snapshots come from different runs (run ids {', '.join(runs)}): merge the "
            f"shards of one run"
        )
    marks = [s.extra.get("shard") for s in snaps]
    if not any(marks):
        return []
    if not all(marks):
        raise SnapshotError("some snapshots are shards (--shard) and some are not: merge one split")
    parsed = sorted((int(i), int(n)) for i, n in (str(m).split("/") for m in marks))
    total = {n for _, n in parsed}
    if len(total) != 1:
        raise SnapshotError(f"the snapshots come from different splits: shards {marks}")
    n = total.pop()
    got = [i for i, _ in parsed]
    if got != list(range(n)):
        missing = sorted(set(range(n)) - set(got))
        twice = sorted({i for i in got if got.count(i) > 1})
        what = []
        if missing:
            what.append("missing " + ", ".join(f"{i}/{n}" for i in missing))
        if twice:
            what.append("given twice " + ", ".join(f"{i}/{n}" for i in twice))
        raise SnapshotError(f"incomplete set of shards: {'; '.join(what)}")
    return [f"{i}/{n}" for i, _ in parsed]
