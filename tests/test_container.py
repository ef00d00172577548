"""The container's exact entrypoint command, run from the test venv against moto on 127.0.0.1.

No Docker engine runs on these machines, so the test reads ENTRYPOINT, CMD and ENV from the
Dockerfile and runs that very command as a subprocess: the same arguments and environment,
with /reports (a volume in the container) mapped to a temporary directory, plus a second run
that also publishes to an S3 bucket of the moto server.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import boto3
import pytest

from tests.servers import MotoServer, make_bucket, run_vpcaudit
from vpcaudit.demo.seed import Seeded

DOCKERFILE = Path(__file__).parent.parent / "Dockerfile"
BUCKET = "audit-reports"


def _instruction(name: str) -> str:
    """The last NAME instruction of the Dockerfile, continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    found = re.findall(rf"^{name}\s+(.*)$", text, flags=re.MULTILINE)
    assert found, f"Dockerfile has no {name}"
    return str(found[-1]).strip()


def image_command() -> list[str]:
    """ENTRYPOINT + CMD, as the container runs them (exec form)."""
    return [*json.loads(_instruction("ENTRYPOINT")), *json.loads(_instruction("CMD"))]


def image_env() -> dict[str, str]:
    """The ENV of the runtime stage."""
    pairs = shlex.split(_instruction("ENV"))
    return dict(p.split("=", 1) for p in pairs)


@pytest.fixture(scope="module")
def seeded(seeded_org: Seeded, moto_server: MotoServer) -> Seeded:
    """The demo organization (tests/conftest.py), with this module's bucket."""
    make_bucket(moto_server, BUCKET)
    return seeded_org


def test_the_image_runs_vpcaudit_with_a_scan_to_reports() -> None:
    cmd = image_command()
    assert cmd[0] == "vpcaudit"
    assert cmd[1] == "scan"
    assert "/reports" in cmd
    assert image_env()["VPCAUDIT_LOG_FORMAT"] == "json"


def test_entrypoint_command_writes_reports_to_a_directory(
    seeded: Seeded, moto_server: MotoServer, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    args = [str(reports) if a == "/reports" else a for a in image_command()[1:]]
    # The container scans the account of its role; the demo's member accounts are reached
    # with --org, as a nightly organization job would add to the image's default command.
    result = run_vpcaudit(
        *args,
        "--org",
        "--region",
        "us-east-1",
        "--region",
        "eu-west-1",
        cwd=tmp_path,
        endpoint=moto_server.endpoint,
        env_extra=image_env(),
    )
    assert result.returncode == 1, result.stderr  # findings at or above the default fail-on
    names = sorted(p.name for p in reports.iterdir())
    stamped = [n for n in names if n.startswith("vpcaudit-")]
    assert sorted(n.rsplit(".", 1)[1] for n in stamped) == ["json", "sarif"]
    assert {"latest.json", "latest.sarif"} <= set(names)
    assert (reports / "latest.json").read_text() == (reports / stamped[0]).read_text()
    doc = json.loads((reports / "latest.json").read_text())
    assert {(f["rule_id"], f["resource_id"]) for f in doc["findings"]} == (
        seeded.expected_without_fidelity
    )
    # JSON log lines on stderr, as the image's ENV asks, and nothing secret in them.
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert all("event" in entry for entry in lines)
    assert "test-secret-key-not-real" not in result.stderr


def test_entrypoint_command_publishes_to_s3(
    seeded: Seeded, moto_server: MotoServer, tmp_path: Path
) -> None:
    args = [str(tmp_path / "r") if a == "/reports" else a for a in image_command()[1:]]
    result = run_vpcaudit(
        *args,
        "--report-to",
        f"s3://{BUCKET}/nightly/",
        "--org",
        "--region",
        "us-east-1",
        cwd=tmp_path,
        endpoint=moto_server.endpoint,
        env_extra=image_env(),
    )
    assert result.returncode == 1, result.stderr
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_server.endpoint)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert "nightly/latest.json" in keys and "nightly/latest.sarif" in keys
    assert len([k for k in keys if k.startswith("nightly/vpcaudit-")]) == 2
    head = s3.head_object(Bucket=BUCKET, Key="nightly/latest.sarif")
    assert head["ContentType"] == "application/sarif+json"
    body = s3.get_object(Bucket=BUCKET, Key="nightly/latest.json")["Body"].read()
    assert json.loads(body)["scan"]["complete"] is True
    del seeded


def test_a_bad_s3_destination_is_one_clear_error(
    seeded: Seeded, moto_server: MotoServer, tmp_path: Path
) -> None:
    result = run_vpcaudit(
        "scan",
        "--region",
        "us-east-1",
        "--report-to",
        "s3://no-such-bucket-here/x/",
        cwd=tmp_path,
        endpoint=moto_server.endpoint,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("vpcaudit: error: cannot upload s3://no-such-bucket")
    assert "Traceback" not in result.stderr
    del seeded


def test_every_base_image_is_pinned_by_digest() -> None:
    """Issue 13: a tag can be re-pushed; a digest cannot. Every FROM resolves to name@sha256."""
    text = DOCKERFILE.read_text()
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)$", text, flags=re.MULTILINE))
    images = re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE)
    assert images
    for image in images:
        resolved = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), image)
        assert re.fullmatch(r"[\w./:-]+@sha256:[0-9a-f]{64}", resolved), image
