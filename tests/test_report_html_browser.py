"""The demo's HTML report in a real browser: Debian's chromium, headless, driven over the
Chrome DevTools Protocol on a pipe (no driver, no extra Python package, no network port).

Asserts what a reviewer would see: no console errors, the findings table and the topology
rendered after the scripts ran, severity filter and search working, no network request at all
and no alert from the XSS probes. Saves build/browser/demo-report.png (the CI artifact); with
VPCAUDIT_UPDATE_SCREENSHOT=1 it also refreshes docs/img/html-report.png for the README.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.servers import sandbox_env

REPO = Path(__file__).resolve().parent.parent
ARTIFACT = REPO / "build" / "browser" / "demo-report.png"
README_IMAGE = REPO / "docs" / "img" / "html-report.png"
UPDATE_ENV = "VPCAUDIT_UPDATE_SCREENSHOT"
FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root in a container, where the sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def chromium() -> str:
    """The browser's path; skip (fail under CI=true) when it is not installed."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is missing under CI: .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")
    return path


@dataclass
class Browser:
    """One headless chromium and one page, spoken to over --remote-debugging-pipe."""

    proc: subprocess.Popen[bytes]
    to_browser: Any
    inbox: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    events: list[dict[str, Any]] = field(default_factory=list)
    session: str = ""
    _next: int = 0

    def post(self, method: str, **params: Any) -> int:
        """Send a command (to the page once attached) without waiting; its id."""
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if self.session:
            msg["sessionId"] = self.session
        self.to_browser.write(json.dumps(msg).encode() + b"\0")
        self.to_browser.flush()
        return self._next

    def send(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        """Send a command and wait for its result."""
        wanted = self.post(method, **params)
        deadline = time.monotonic() + timeout
        while True:
            reply = self.inbox.get(timeout=max(0.1, deadline - time.monotonic()))
            if reply.get("id") == wanted:
                assert "error" not in reply, f"{method}: {reply['error']}"
                return dict(reply.get("result", {}))
            self._event(reply)

    def _event(self, msg: dict[str, Any]) -> None:
        self.events.append(msg)
        if msg.get("method") == "Page.javascriptDialogOpening":
            # An alert would block the page: note it (the test fails on it) and dismiss it.
            self.post("Page.handleJavaScriptDialog", accept=True)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        """Wait for an event of this method (or return one already seen)."""
        for e in self.events:
            if e.get("method") == method:
                return e
        deadline = time.monotonic() + timeout
        while True:
            msg = self.inbox.get(timeout=max(0.1, deadline - time.monotonic()))
            self._event(msg)
            if msg.get("method") == method:
                return msg

    def js(self, expression: str) -> Any:
        """Evaluate in the page and return the value (promises awaited)."""
        out = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        assert "exceptionDetails" not in out, out["exceptionDetails"]
        return out["result"].get("value")

    def open(self, url: str, width: int = 1440, height: int = 1000) -> None:
        """Load a page, with console, network and dialogs watched from the first byte."""
        self.events.clear()
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def drain(self, seconds: float = 0.3) -> None:
        """Collect the events that arrive in the next moment."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self._event(self.inbox.get(timeout=left))
            except queue.Empty:
                return

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and log errors seen so far."""
        self.drain()
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(json.dumps(p["exceptionDetails"])[:500])
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(json.dumps(p.get("args"))[:500])
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(p["entry"].get("text", ""))
        return out

    def requests(self) -> list[str]:
        """Every URL the page asked for, per the Network domain."""
        self.drain()
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def dialogs(self) -> list[str]:
        """alert/confirm/prompt dialogs that opened."""
        self.drain()
        return [
            str(e["params"].get("message"))
            for e in self.events
            if e.get("method") == "Page.javascriptDialogOpening"
        ]

    def screenshot(self, path: Path) -> None:
        """A PNG of the viewport."""
        shot = self.send("Page.captureScreenshot", format="png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))


def _reader(pipe: Any, inbox: queue.Queue[dict[str, Any]]) -> None:
    buf = b""
    while chunk := pipe.read1(65536):
        buf += chunk
        *messages, buf = buf.split(b"\0")
        for m in messages:
            inbox.put(json.loads(m))


def launch() -> Iterator[Browser]:
    """Start chromium with a fresh profile and attach to a new page."""
    exe = chromium()
    profile = tempfile.mkdtemp(prefix="vpcaudit-chromium-")
    cmd_r, cmd_w = os.pipe()  # we write commands; chromium reads them on fd 3
    out_r, out_w = os.pipe()  # chromium writes replies on fd 4
    # --remote-debugging-pipe talks on fds 3 and 4 exactly: bash puts our pipes there (dash
    # cannot name a descriptor above 9, and ours may be).
    shell = f'exec "$0" "$@" 3<&{cmd_r} 4>&{out_w}'
    proc = subprocess.Popen(
        [
            shutil.which("bash") or "/bin/bash",
            "-c",
            shell,
            exe,
            *FLAGS,
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        pass_fds=(cmd_r, out_w),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(cmd_r)
    os.close(out_w)
    browser = Browser(proc, os.fdopen(cmd_w, "wb"))
    reader = os.fdopen(out_r, "rb")
    thread = threading.Thread(target=_reader, args=(reader, browser.inbox), daemon=True)
    thread.start()
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        browser.session = browser.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        yield browser
    finally:
        browser.session = ""
        with contextlib.suppress(queue.Empty, OSError, AssertionError):
            browser.send("Browser.close", timeout=5)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(OSError):  # a browser that died early broke the pipe
            browser.to_browser.close()
        thread.join(timeout=10)  # the browser is gone: the reader sees EOF and ends
        reader.close()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium for the module."""
    yield from launch()


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """`vpcaudit scan --demo --format html`, as a user runs it (a subprocess, ~7 s)."""
    out = tmp_path_factory.mktemp("html") / "demo-report.html"
    env = sandbox_env(os.environ)
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "vpcaudit", "scan", "--demo", "--format", "html", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # the demo has findings on purpose
    return out, time.monotonic() - start


def test_demo_report_renders_filters_and_stays_offline(
    browser: Browser, demo_report: tuple[Path, float]
) -> None:
    path, _ = demo_report
    start = time.monotonic()
    browser.open(path.as_uri())
    rows = browser.js("document.querySelectorAll('tbody.finding').length")
    visible = "document.querySelectorAll('tbody.finding:not([hidden])').length"
    shown = browser.js(visible)
    nodes = browser.js("window.vpcauditGraph.nodes().length")
    load_seconds = time.monotonic() - start
    assert browser.errors() == []
    assert rows > 20 and shown > 20  # the demo has about 45 findings, none waived
    assert nodes > 20
    assert browser.js("window.vpcauditGraph.edges().length") > 5
    assert browser.js("document.querySelectorAll('#graph canvas').length") >= 1
    # The layout placed the nodes: their bounding box has a real size.
    assert browser.js("window.vpcauditGraph.elements().boundingBox().w") > 200

    # Severity chips: unticking everything but "high" leaves the high findings alone.
    browser.js(
        "document.querySelectorAll('input[name=severity]').forEach(c => {"
        " if (c.value !== 'high' && c.checked) c.click(); })"
    )
    high = browser.js(visible)
    assert 0 < high < shown
    assert browser.js(
        "[...document.querySelectorAll('tbody.finding:not([hidden])')]"
        ".every(b => b.dataset.severity === 'high')"
    )
    browser.js(
        "document.querySelectorAll('input[name=severity]').forEach(c => c.checked || c.click())"
    )
    assert browser.js(visible) == shown

    # Search: a resource id narrows the table to its findings.
    target = browser.js("document.querySelector('tbody.finding').dataset.resource")
    browser.js(
        "const s = document.getElementById('filter-search');"
        f"s.value = {json.dumps(target)}; s.dispatchEvent(new Event('input'))"
    )
    found = browser.js(visible)
    assert 0 < found < shown
    browser.js(
        "const t = document.getElementById('filter-search');"
        "t.value = 'no-such-thing-anywhere'; t.dispatchEvent(new Event('input'))"
    )
    assert browser.js(visible) == 0
    assert browser.js("document.getElementById('findings-empty').hidden") is False
    browser.js(
        "const u = document.getElementById('filter-search');"
        "u.value = ''; u.dispatchEvent(new Event('input'))"
    )

    # A click on a drawn element lists its findings; a click on one opens its row.
    clicked = browser.js(
        "(() => { const n = window.vpcauditGraph.nodes('[severity]')[0];"
        " n.emit('tap'); return n.data('findings').length; })()"
    )
    assert clicked >= 1
    assert browser.js("document.querySelectorAll('#graph-info li').length") == clicked
    browser.js("document.querySelector('#graph-info li a').click()")
    assert browser.js("document.querySelectorAll('tr.detail:not([hidden])').length") == 1

    # Offline: every request the page made was for the file itself (or data:/blob:).
    urls = browser.requests()
    assert urls and all(u.startswith(LOCAL_SCHEMES) for u in urls), urls
    entries = browser.js("performance.getEntries().map(e => e.name)")
    assert all(u.startswith(LOCAL_SCHEMES) or "://" not in u for u in entries), entries
    assert browser.dialogs() == []
    assert browser.errors() == []
    # The figures, beside the screenshot in the CI artifacts.
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.with_suffix(".txt").write_text(
        f"demo report: {path.stat().st_size / 1e6:.2f} MB, {rows} findings, {nodes} graph "
        f"nodes, loaded and laid out in {load_seconds:.2f} s\n",
        encoding="utf-8",
    )


def test_demo_report_screenshot(browser: Browser, demo_report: tuple[Path, float]) -> None:
    path, _ = demo_report
    browser.open(path.as_uri(), width=1440, height=1500)
    browser.js("document.querySelector('tbody.finding tr.row').click()")
    browser.screenshot(ARTIFACT)
    png = ARTIFACT.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 50_000
    if os.environ.get(UPDATE_ENV, "") not in ("", "0"):
        README_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        README_IMAGE.write_bytes(png)


def test_hostile_names_fire_nothing_in_the_browser(browser: Browser, tmp_path: Path) -> None:
    from tests.test_report_html import _hostile_report  # noqa: PLC0415 - one builder for both

    page = tmp_path / "hostile.html"
    page.write_text(_hostile_report(), encoding="utf-8")
    browser.open(page.as_uri())
    assert browser.js("document.querySelectorAll('img, b').length") == 0
    assert browser.js("window.vpcauditGraph.nodes().length") > 2
    browser.js("window.vpcauditGraph.nodes('[kind = \"vpc\"]')[0].emit('tap'); 1")
    assert browser.dialogs() == []
    assert browser.errors() == []


def test_path_answer_renders_hop_by_hop(browser: Browser, tmp_path: Path) -> None:
    """`vpcaudit path --format html` in the browser: the verdict, the drawn path (one node a
    hop, the blocking hop marked), the fix with its copy button, and no request."""
    from tests.test_report_html import _topology  # noqa: PLC0415 - one builder for both

    snap = tmp_path / "snap.json"
    snap.write_text(_topology().build().dumps(), encoding="utf-8")
    page = tmp_path / "path.html"
    argv = ["path", "eni-web", "eni-db", "--protocol", "tcp", "--port", "22"]
    proc = subprocess.run(
        [sys.executable, "-m", "vpcaudit", *argv, "--snapshot", str(snap), "--format", "html"],
        env=sandbox_env(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # not reachable: the database's group says no
    page.write_text(proc.stdout, encoding="utf-8")
    browser.open(page.as_uri(), width=1200, height=900)
    assert browser.errors() == []
    assert "NOT-REACHABLE" in browser.js("document.getElementById('verdict').innerText")
    nodes = browser.js("window.vpcauditGraph.nodes().length")
    assert nodes >= 3
    assert browser.js("window.vpcauditGraph.edges().length") == nodes - 1
    # Drawn, not only present: a node cytoscape never sized is not drawn at all.
    assert browser.js("window.vpcauditGraph.nodes().every(n => n.visible())")
    # Readable: the labels are drawn at no less than their size (no fit that shrinks them).
    assert browser.js("window.vpcauditGraph.zoom()") >= 0.75
    assert browser.js("window.vpcauditGraph.nodes('[severity = \"high\"]').length") >= 1
    assert browser.js("window.vpcauditGraph.elements().boundingBox().w") > 100
    assert browser.js("document.querySelectorAll('#fix button.copy, #fix').length") >= 1
    urls = browser.requests()
    assert urls and all(u.startswith(LOCAL_SCHEMES) for u in urls), urls
    browser.screenshot(ARTIFACT.with_name("path-answer.png"))
    assert browser.dialogs() == []
