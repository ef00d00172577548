"""Issue 13, hardening: each test failed on the code before its fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.builders import FIXTURES
from tests.servers import sandbox_env


def test_a_reader_that_goes_away_keeps_the_computed_exit_code(tmp_path: Path) -> None:
    """`vpcaudit evaluate s.json | head` used to exit 0 (BrokenPipeError): it must still say
    1, findings, with no traceback."""
    env = sandbox_env(os.environ)
    # A reader that has gone before anything is written: the write fails with EPIPE.
    r, w = os.pipe()
    os.close(r)
    proc = subprocess.Popen(
        [sys.executable, "-m", "vpcaudit", "evaluate", str(FIXTURES / "endpoints.json"),
         "--format", "json"],
        stdout=w,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )  # fmt: skip
    os.close(w)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert b"Traceback" not in err and b"internal error" not in err
