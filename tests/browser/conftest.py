"""Real-browser fixtures: one JupyterLab server and one headless Debian Chromium for all the browser tests.

Both are package-scoped: started once for ``tests/browser/`` and stopped as soon as its last test is done.
Session scope would keep Playwright's event loop marked as running in the main thread for the rest of the
run, and every later ``asyncio.run()`` (tests/test_rpc.py) would fail with "cannot be called from a running
event loop"; it would also keep Lab and its kernel busy on the CPU during the other tests.

Lab serves a temporary copy of ``notebooks/`` (or of ``$DOLAB_BROWSER_NOTEBOOKS``) with fresh config,
runtime, settings and workspace folders, so a learner's own Jupyter setup never leaks in.
The browser is the one ``dev.py`` finds (``$DOLAB_CHROMIUM``, Debian's ``/usr/bin/chromium``, or ``chromium`` or
``chromium-browser`` on PATH). Without one the browser tests skip with a loud reason that pytest's ``-ra`` summary
shows, with how to install it; when ``CI`` is set they fail instead: CI installs it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = Path(os.environ.get("DOLAB_BROWSER_NOTEBOOKS") or ROOT / "notebooks")
OUTPUT = ROOT / "test-output" / "browser"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
LAB_START_TIMEOUT = 60.0
LAB_STOP_TIMEOUT = 20.0


def _dev() -> Any:
    """dev.py as a module: where it looks for Chromium and what it tells you to install."""
    spec = importlib.util.spec_from_file_location("dolab_dev", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _unavailable(reason: str) -> None:
    """Fail under CI (which installs everything), skip with the reason elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, and CI must run the browser tests; see .ci/run)")
    pytest.skip(reason)


@dataclass(frozen=True)
class JupyterLab:
    """A running JupyterLab server: where it listens, its token, the folder it serves, its log."""

    base_url: str
    token: str
    root_dir: Path
    log: Path

    def url(self, path: str) -> str:
        """``path`` under the server, with the token (and any extra query given in ``path``)."""
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}{path.lstrip('/')}{sep}token={self.token}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _log_tail(log: Path, lines: int = 60) -> str:
    text = log.read_text(errors="replace") if log.exists() else "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (Lab shuts its kernels down), SIGKILL if it is still there after 20 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(LAB_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


@pytest.fixture(scope="package")
def chromium() -> Path:
    """The system's Chromium (Debian's by default); never the one `playwright install` would download."""
    dev = _dev()
    found: Path | None = dev.chromium(os.environ)
    if found is None:
        given = os.environ.get("DOLAB_CHROMIUM")
        where = f"DOLAB_CHROMIUM={given} is no file" if given else "/usr/bin/chromium, chromium, chromium-browser"
        _unavailable(f"BROWSER TESTS NOT RUN: no Chromium ({where}). {dev.CHROMIUM_HINT}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("BROWSER TESTS NOT RUN: the playwright package is missing (python3 dev.py test installs it)")
    assert found is not None
    return found


@pytest.fixture(scope="package")
def jupyter_lab(tmp_path_factory: pytest.TempPathFactory, chromium: Path) -> Iterator[JupyterLab]:
    """JupyterLab on 127.0.0.1, a free port and a random token, serving a copy of the notebooks."""
    base = tmp_path_factory.mktemp("jupyter-lab")
    root_dir = base / "notebooks"
    shutil.copytree(NOTEBOOKS, root_dir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = base / "user-settings"
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    # No "Jupyter news" toast and no update check: it would cover the page and reach the network.
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    ipython_dir = base / "ipython"
    (ipython_dir / "profile_default").mkdir(parents=True)
    (ipython_dir / "profile_default" / "ipython_kernel_config.py").write_text('c.InteractiveShell.colors = "nocolor"\n')
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        IPYTHONDIR=str(ipython_dir),
        # Chapter 05's sweep stops at 30,000 users, as in the notebook tests: the browser tests look at what a
        # learner sees, and the full sweep would take minutes of the 2-core CI machine for the same pictures.
        DOLAB_QUICK="1",
    )
    port, token = _free_port(), secrets.token_hex(24)
    command = [
        sys.executable, "-m", "jupyter", "lab",  # this venv's Jupyter, so the kernel imports dolab
        "--no-browser", "--allow-root",
        "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
    ]  # fmt: skip
    log = base / "jupyter-lab.log"
    with log.open("wb") as log_file:
        proc = subprocess.Popen(command, cwd=root_dir, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    lab = JupyterLab(f"http://127.0.0.1:{port}/", token, root_dir, log)
    try:
        deadline = time.monotonic() + LAB_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {proc.returncode}:\n{_log_tail(log)}")
            try:
                with urllib.request.urlopen(lab.url("api/status"), timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab not ready after {LAB_START_TIMEOUT:.0f} s:\n{_log_tail(log)}")
            time.sleep(0.2)  # polling a server that is starting, not waiting on the page
        yield lab
    finally:
        _stop(proc)
        OUTPUT.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, OUTPUT / "jupyter-lab.log")


@pytest.fixture(scope="package")
def browser(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium context (one sync_playwright() alive per process, no more)."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab; closed after the test."""
    tab = browser.new_page()
    tab.set_default_timeout(30_000)
    try:
        yield tab
    finally:
        tab.close()


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """``test-output/browser/<test name>/``, emptied first, kept after the run for a person to look at."""
    folder = OUTPUT / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
