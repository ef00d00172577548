"""Bad input: exit 2, exactly one `vpcaudit: error:` line on stderr, never a traceback."""

from __future__ import annotations

import http.server
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import (
    FAKE_ACCESS_KEY,
    FAKE_SECRET_KEY,
    LOOPBACK,
    CliResult,
    MotoServer,
    sandbox_env,
)
from vpcaudit import cli
from vpcaudit.aws.collect import SPECS
from vpcaudit.model import Gap
from vpcaudit.snapshot import SCHEMA_VERSION, RegionData, Snapshot

Runner = Callable[..., CliResult]
ACCOUNT = "111111111111"


def assert_usage_error(code: int, stdout: str, stderr: str, *, mentions: str = "") -> str:
    """The contract for bad input; returns the error line."""
    assert code == 2, (code, stderr)
    assert "Traceback" not in stdout + stderr
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("vpcaudit: error: ")
    assert mentions in lines[0]
    return lines[0]


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """cli.main in-process: (exit code, stdout, stderr); argparse errors exit via SystemExit."""
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str], mentions: str = "") -> str:
    """Run cli.main and check the bad-input contract."""
    return assert_usage_error(*run_main(argv, capsys), mentions=mentions)


# -- arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "mentions"),
    [
        (["scan", "--region", "not-a-region"], "not-a-region"),
        (["scan", "--region", "us-east-1", "--exclude-region", "EU_WEST_1"], "EU_WEST_1"),
        (["scan", "--fail-on", "bogus"], "bogus"),
        (["evaluate", "snap.json", "--fail-on", "bogus"], "bogus"),
        (["scan", "--workers", "0"], "--workers"),
        (["scan", "--workers", "-3"], "--workers"),
        (["scan", "--workers", "many"], "--workers"),
        (["scan", "--format", "xml"], "--format"),
        (["scan", "--role-arn", "not-an-arn"], "not-an-arn"),
        (["scan", "--org", "--accounts", "12345"], "12345"),
        (["rules", "no-such-rule"], "no-such-rule"),
        (["frobnicate"], "frobnicate"),
        # Bare `vpcaudit` prints its help instead: tests/test_first_user.py.
    ],
)
def test_bad_arguments(argv: list[str], mentions: str, capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(argv, capsys, mentions)


def test_bad_arguments_are_refused_before_any_credentials_are_looked_for(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # With no credentials at all, a bad region is still reported as the bad region.
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    usage_error(["scan", "--region", "not-a-region"], capsys, "not-a-region")


# -- credentials and profiles -------------------------------------------------------------


def test_profile_that_does_not_exist(capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(["scan", "--profile", "no-such-profile"], capsys, "no-such-profile")


def test_profile_that_does_not_exist_in_a_subprocess(run_cli: Runner) -> None:
    r = run_cli("scan", "--profile", "no-such-profile")
    assert_usage_error(r.returncode, r.stdout, r.stderr, mentions="no-such-profile")


def test_aws_profile_variable_that_does_not_exist(run_cli: Runner) -> None:
    r = run_cli("scan", env_extra={"AWS_PROFILE": "no-such-profile"})
    assert_usage_error(r.returncode, r.stdout, r.stderr, mentions="no-such-profile")


def test_missing_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    usage_error(["scan", "--region", "us-east-1"], capsys, "credentials")


def test_missing_credentials_in_a_subprocess(run_cli: Runner) -> None:
    r = run_cli("scan", "--format", "json", credentials=False)
    assert_usage_error(r.returncode, r.stdout, r.stderr, mentions="credentials")


class _ExpiredTokenHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request as STS does for an expired session token."""

    BODY = (
        b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        b"<Error><Type>Sender</Type><Code>ExpiredToken</Code>"
        b"<Message>The security token included in the request is expired</Message></Error>"
        b"<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    )
    requests: list[str]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        self.requests.append(body)
        self.send_response(400)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(self.BODY)))
        self.end_headers()
        self.wfile.write(self.BODY)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        del format, args  # keep the test output quiet


@pytest.fixture
def expired_token_endpoint() -> Iterator[tuple[str, list[str]]]:
    """An endpoint on 127.0.0.1 that refuses every request with ExpiredToken."""
    seen: list[str] = []
    handler = type("Handler", (_ExpiredTokenHandler,), {"requests": seen})
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_expired_credentials(
    expired_token_endpoint: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    endpoint, seen = expired_token_endpoint
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "expired-session-token")
    usage_error(["scan"], capsys, "ExpiredToken")
    # The credentials were checked once (GetCallerIdentity) and nothing else was tried.
    assert len(seen) == 1
    assert "Action=GetCallerIdentity" in seen[0]


def test_expired_credentials_in_a_subprocess(
    expired_token_endpoint: tuple[str, list[str]], run_cli: Runner
) -> None:
    endpoint, seen = expired_token_endpoint
    r = run_cli(
        "scan",
        "--format",
        "json",
        endpoint=endpoint,
        env_extra={"AWS_SESSION_TOKEN": "expired-session-token"},
    )
    assert_usage_error(r.returncode, r.stdout, r.stderr, mentions="ExpiredToken")
    assert len(seen) == 1


# -- regions ------------------------------------------------------------------------------


def test_region_that_aws_does_not_list(moto_server: MotoServer, run_cli: Runner) -> None:
    r = run_cli("scan", "--region", "xx-nowhere-9", endpoint=moto_server.endpoint)
    assert_usage_error(r.returncode, r.stdout, r.stderr, mentions="xx-nowhere-9")


def test_one_unknown_region_among_known_ones(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    usage_error(
        ["scan", "--region", "us-east-1", "--region", "xx-nowhere-9"], capsys, "xx-nowhere-9"
    )


# -- snapshots ----------------------------------------------------------------------------


def _snapshot_doc() -> dict[str, Any]:
    snap = Snapshot(
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:05Z",
        tool_version="0.1.0",
        accounts={ACCOUNT: "prod"},
        regions=(
            RegionData(
                ACCOUNT,
                "us-east-1",
                {
                    **{spec.kind: [] for spec in SPECS},
                    "vpcs": [{"VpcId": "vpc-1", "OwnerId": ACCOUNT, "CidrBlock": "10.0.0.0/16"}],
                },
            ),
        ),
    )
    return snap.to_dict()


def _write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_the_base_snapshot_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The bad snapshots below are each one edit away from this one, which evaluates fine.
    snap = _write(tmp_path / "ok.json", _snapshot_doc())
    code, out, err = run_main(["evaluate", str(snap), "--format", "json"], capsys)
    assert code == 1, err
    assert json.loads(out)["findings"][0]["resource_id"] == "vpc-1"


def _other_version(doc: dict[str, Any]) -> None:
    doc["schema_version"] = SCHEMA_VERSION + 1


def _no_kind(doc: dict[str, Any]) -> None:
    del doc["kind"]


def _no_schema_version(doc: dict[str, Any]) -> None:
    del doc["schema_version"]


def _region_without_resources(doc: dict[str, Any]) -> None:
    del doc["regions"][0]["resources"]


def _region_without_account(doc: dict[str, Any]) -> None:
    del doc["regions"][0]["account_id"]


def _region_not_an_object(doc: dict[str, Any]) -> None:
    doc["regions"][0] = "us-east-1"


def _resources_not_a_list(doc: dict[str, Any]) -> None:
    doc["regions"][0]["resources"]["vpcs"] = {"VpcId": "vpc-1"}


def _item_without_id(doc: dict[str, Any]) -> None:
    del doc["regions"][0]["resources"]["vpcs"][0]["VpcId"]


def _item_of_wrong_shape(doc: dict[str, Any]) -> None:
    doc["regions"][0]["resources"]["peerings"] = [
        {"VpcPeeringConnectionId": "pcx-1", "Status": "active"}
    ]


def _bad_timestamp(doc: dict[str, Any]) -> None:
    doc["finished_at"] = "yesterday"


def _gap_missing_fields(doc: dict[str, Any]) -> None:
    doc["gaps"] = [{"account_id": ACCOUNT}]


def _no_regions(doc: dict[str, Any]) -> None:
    del doc["regions"]


@pytest.mark.parametrize(
    ("edit", "mentions"),
    [
        (_other_version, f"schema_version {SCHEMA_VERSION + 1}"),
        (_no_kind, "not a vpcaudit snapshot"),
        (_no_schema_version, "schema_version"),
        (_no_regions, "regions"),
        (_region_without_resources, "resources"),
        (_region_without_account, "account_id"),
        (_region_not_an_object, "snapshot"),
        (_resources_not_a_list, "vpcs"),
        (_bad_timestamp, "yesterday"),
        (_gap_missing_fields, "snapshot"),
    ],
)
def test_malformed_snapshot(
    edit: Callable[[dict[str, Any]], None],
    mentions: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = _snapshot_doc()
    edit(doc)
    snap = _write(tmp_path / "bad.json", doc)
    usage_error(["evaluate", str(snap)], capsys, mentions)


@pytest.mark.parametrize(
    ("edit", "mentions"),
    [(_item_without_id, "VpcId is missing"), (_item_of_wrong_shape, "peerings item pcx-1")],
)
def test_malformed_item_is_a_defect_not_an_error(
    edit: Callable[[dict[str, Any]], None],
    mentions: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 13: one malformed item leaves out that item, as a coverage gap naming it; the rest
    of the snapshot is still evaluated, and the scan reads as incomplete (exit 3)."""
    doc = _snapshot_doc()
    edit(doc)
    snap = _write(tmp_path / "bad.json", doc)
    assert cli.main(["evaluate", str(snap), "--format", "json"]) == 3
    out = json.loads(capsys.readouterr().out)
    assert out["scan"]["complete"] is False
    defects = [g for g in out["scan"]["gaps"] if g["error_code"] == "MalformedSnapshotItem"]
    assert len(defects) == 1 and mentions in defects[0]["message"], defects


@pytest.mark.parametrize(
    ("content", "mentions"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2, 3]", "not a vpcaudit snapshot"),
        (b'"vpcaudit-snapshot"', "not a vpcaudit snapshot"),
        (b"\xff\xfe\x00garbage", "UTF-8"),
    ],
)
def test_snapshot_that_is_not_a_snapshot(
    content: bytes, mentions: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = tmp_path / "bad.json"
    snap.write_bytes(content)
    usage_error(["evaluate", str(snap)], capsys, mentions)


def test_snapshot_not_json_in_a_subprocess(tmp_path: Path, run_cli: Runner) -> None:
    snap = tmp_path / "bad.json"
    snap.write_text("this is not json\n", encoding="utf-8")
    r = run_cli("evaluate", str(snap), credentials=False)
    assert_usage_error(r.returncode, r.stdout, r.stderr, mentions="not valid JSON")


def test_nonexistent_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.json"
    usage_error(["evaluate", str(missing)], capsys, str(missing))


def test_snapshot_path_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(["evaluate", str(tmp_path)], capsys, str(tmp_path))


# -- output -------------------------------------------------------------------------------


def test_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snap = _write(tmp_path / "ok.json", _snapshot_doc())
    out = tmp_path / "no-such-dir" / "report.json"
    usage_error(["evaluate", str(snap), "--output", str(out)], capsys, str(out))
    assert not out.exists()


def test_usage_error_wins_over_an_incomplete_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Exit codes: 2 > 3 > 1. The snapshot has a gap (3) and a finding (1); the output
    # cannot be written (2).
    doc = _snapshot_doc()
    doc["gaps"] = [
        Gap(ACCOUNT, "us-east-1", "ec2:DescribeFlowLogs", "AccessDenied", "denied").to_dict()
    ]
    snap = _write(tmp_path / "gappy.json", doc)
    code, _, _ = run_main(["evaluate", str(snap)], capsys)
    assert code == 3
    out = tmp_path / "no-such-dir" / "report.txt"
    usage_error(["evaluate", str(snap), "--output", str(out)], capsys, "cannot write")


# -- the sandbox these tests rely on ------------------------------------------------------


def test_sandbox_drops_inherited_aws_settings() -> None:
    inherited = {
        "PATH": "/usr/bin",
        "AWS_PROFILE": "prod",
        "AWS_ENDPOINT_URL": "https://ec2.us-east-1.amazonaws.com",
        "AWS_ENDPOINT_URL_STS": "https://sts.amazonaws.com",
        "AWS_ROLE_ARN": "arn:aws:iam::111111111111:role/x",
        "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials",
        "AWS_SESSION_TOKEN": "real-token",
        "HTTPS_PROXY": "http://proxy.example:3128",
    }
    env = sandbox_env(inherited, credentials=False)
    assert env == {
        "PATH": "/usr/bin",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
        "NO_PROXY": "*",
        "COLUMNS": "200",
    }
    with pytest.raises(AssertionError):
        sandbox_env(inherited, endpoint="https://ec2.us-east-1.amazonaws.com")


def test_every_test_runs_with_fake_credentials_only() -> None:
    aws = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    assert aws == {
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
