"""The front door: what dev.py installs and starts, the git filter for notebooks, and environment.yml.

dev.py's choices are pure functions tested here directly; ``dev.py lab`` is also started for real once (as
whoever runs the tests, with no display) and asked for its status over HTTP with the token it printed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def _load_dev() -> Any:
    spec = importlib.util.spec_from_file_location("dolab_dev", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = _load_dev()


def _git(cwd: Path, *args: str) -> str:
    identity = ["-c", "user.name=dolab", "-c", "user.email=dolab@example.invalid", "-c", "init.defaultBranch=main"]
    result = subprocess.run(["git", *identity, *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


# --- environment.yml and pyproject.toml --------------------------------------------------------------------


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pyproject_requirements() -> dict[str, SpecifierSet]:
    project = _pyproject()["project"]
    requirements = [Requirement(r) for r in project["dependencies"]]
    for extra, listed in project["optional-dependencies"].items():
        for line in listed:
            requirement = Requirement(line)
            if canonicalize_name(requirement.name) == project["name"]:  # dolab[lab] inside test
                assert requirement.extras <= set(project["optional-dependencies"]), f"{extra}: {line}"
                continue
            requirements.append(requirement)
    return {canonicalize_name(r.name): r.specifier for r in requirements}


# conda-forge packages whose names differ from PyPI's
CONDA_NAMES = {"msgpack-python": "msgpack"}


def _environment() -> tuple[dict[str, SpecifierSet], list[str]]:
    """environment.yml's packages (conda and pip ones alike) and its other pip lines (``-e .``)."""
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    packages: dict[str, SpecifierSet] = {}
    local: list[str] = []
    for entry in environment["dependencies"]:
        lines = entry["pip"] if isinstance(entry, dict) else [entry]
        for line in lines:
            if line.startswith("-"):
                local.append(line)
                continue
            requirement = Requirement(line.replace("python=", "python=="))
            name = canonicalize_name(CONDA_NAMES.get(requirement.name, requirement.name))
            assert name not in packages, f"environment.yml lists {name} twice"
            packages[name] = requirement.specifier
    return packages, local


def test_environment_yml_lists_the_same_packages_as_pyproject() -> None:
    packages, local = _environment()
    python = packages.pop("python")
    packages.pop("pip")
    wanted = _pyproject_requirements()
    assert sorted(packages) == sorted(wanted), "environment.yml and pyproject.toml list different packages"
    different = {name: (str(packages[name]), str(wanted[name])) for name in wanted if packages[name] != wanted[name]}
    assert not different, f"version floors differ (environment.yml, pyproject.toml): {different}"
    assert local == ["-e ."], "environment.yml installs dolab itself from the repository (conda, Binder)"
    (pinned,) = python
    assert SpecifierSet(_pyproject()["project"]["requires-python"]).contains(pinned.version)


def test_the_lab_extra_holds_no_test_tool() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]
    lab = {canonicalize_name(Requirement(r).name) for r in extras["lab"]}
    assert "jupyterlab" in lab
    assert not lab & {"pytest", "hypothesis", "ruff", "mypy", "psutil", "simpy", "playwright"}
    assert "dolab[lab]" in extras["test"], "the test extra brings the lab's packages too"


# --- what dev.py installs -------------------------------------------------------------------------------------


def test_the_stamp_makes_reruns_instant_and_installs_each_extra_once() -> None:
    def stamp(*extras: str, pyproject: str = "h1") -> str:
        return json.dumps({"pyproject": pyproject, "extras": list(extras)})

    assert dev.installed_extras(None, "h1") == set()  # a fresh clone
    assert dev.installed_extras("h1", "h1") == set()  # the stamp of an older dev.py: install once more
    assert dev.installed_extras("not json", "h1") == set()
    assert dev.installed_extras(stamp("lab"), "h1") == {"lab"}  # lab, then lab: nothing to do
    assert "test" not in dev.installed_extras(stamp("lab"), "h1")  # lab, then test: the test tools, once
    assert dev.installed_extras(stamp("test"), "h1") == {"lab", "test"}  # test, then lab: nothing to do
    assert dev.installed_extras(stamp("test", pyproject="h0"), "h1") == set()  # pyproject.toml changed


# --- dev.py lab -----------------------------------------------------------------------------------------------

LINUX_DESKTOP = {"DISPLAY": ":0"}


@pytest.mark.parametrize(
    ("uid", "env", "platform", "expected"),
    [
        (0, {}, "linux", ["--allow-root", "--no-browser"]),  # a container: root, no display
        (1000, {}, "linux", ["--no-browser"]),  # a headless server
        (1000, LINUX_DESKTOP, "linux", []),  # a desktop: Jupyter opens the browser
        (1000, {"WAYLAND_DISPLAY": "wayland-0"}, "linux", []),
        (1000, {"DISPLAY": ""}, "linux", ["--no-browser"]),
        (0, LINUX_DESKTOP, "linux", ["--allow-root"]),
        (1000, {**LINUX_DESKTOP, "SSH_CONNECTION": "10.0.0.2 50000 10.0.0.1 22"}, "linux", ["--no-browser"]),
        (501, {}, "darwin", []),  # macOS has no $DISPLAY and a browser all the same
        (501, {"SSH_CONNECTION": "10.0.0.2 50000 10.0.0.1 22"}, "darwin", ["--no-browser"]),
        (None, {}, "win32", []),  # no uid on Windows
    ],
)
def test_lab_arguments(uid: int | None, env: dict[str, str], platform: str, expected: list[str]) -> None:
    assert dev.lab_arguments(uid, env, platform) == expected


def test_lab_arguments_leave_the_browser_to_the_learner_who_asks() -> None:
    # Jupyter applies --no-browser after --ServerApp.open_browser=True whatever their order, so lab must not add it
    for asked in (["--ServerApp.open_browser=True"], ["--browser=firefox"], ["--no-browser"]):
        assert dev.lab_arguments(0, {}, "linux", asked) == ["--allow-root"]
    assert dev.lab_arguments(0, {}, "linux", ["--ip=0.0.0.0", "--port=9999"]) == ["--allow-root", "--no-browser"]


JUPYTER_START = """\
[I 2026-01-01 10:00:00.000 ServerApp] Jupyter Server 2.17.0 is running at:
[I 2026-01-01 10:00:00.000 ServerApp] http://localhost:8888/lab?token=abc123
[I 2026-01-01 10:00:00.000 ServerApp]     http://127.0.0.1:8888/lab?token=abc123
[I 2026-01-01 10:00:00.000 ServerApp] Use Control-C to stop this server and shut down all kernels.
[C 2026-01-01 10:00:00.000 ServerApp]

    To access the server, open this file in a browser:
        file:///home/learner/.local/share/jupyter/runtime/jpserver-1-open.html
    Or copy and paste one of these URLs:
        http://localhost:8888/lab?token=abc123
        http://127.0.0.1:8888/lab?token=abc123""".splitlines()


def test_lab_finds_the_address_jupyter_prints() -> None:
    assert dev.lab_url(JUPYTER_START[:2]) == "http://localhost:8888/lab?token=abc123"
    assert dev.lab_url(JUPYTER_START) == "http://127.0.0.1:8888/lab?token=abc123"
    assert not dev.lab_started(JUPYTER_START[:3]), "wait for the copy-and-paste list, Jupyter's last word"
    assert dev.lab_started(JUPYTER_START)
    anywhere = [line.replace("localhost", "lab-host") for line in JUPYTER_START]  # --ip=0.0.0.0
    assert dev.lab_url(anywhere) == "http://127.0.0.1:8888/lab?token=abc123"
    assert dev.lab_url(["[I ServerApp] http://10.1.2.3:9999/lab?token=x1"]) == "http://10.1.2.3:9999/lab?token=x1"
    assert dev.lab_url(["[I ServerApp] Serving notebooks from local directory: /srv/notebooks"]) is None


def test_lab_banner_shows_the_address_and_over_ssh_the_tunnel() -> None:
    url = "http://127.0.0.1:8890/lab?token=abc123"
    banner = dev.lab_banner(url, {})
    assert f"\n    {url}\n" in banner and "ssh" not in banner
    over_ssh = dev.lab_banner(url, {"SSH_CONNECTION": "10.0.0.2 50000 10.0.0.1 22"})
    assert "ssh -L 8890:127.0.0.1:8890" in over_ssh


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(os.name != "posix", reason="signals and process groups as on Linux and macOS")
def test_dev_lab_starts_jupyterlab_without_a_display(tmp_path: Path) -> None:
    """``python3 dev.py lab`` as CI runs it (root, no display): it starts, prints a working address, stops."""
    if Path(sys.prefix).resolve() != dev.VENV.resolve():
        pytest.skip("starts dev.py, which would set up .venv first: run it through `python3 dev.py test`")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION")}
    env |= {"JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    port = _free_port()
    command = [sys.executable, str(ROOT / "dev.py"), "lab", f"--port={port}", "--port-retries=0"]
    output: list[str] = []
    started = time.monotonic()
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, start_new_session=True) as proc:  # fmt: skip
        assert proc.stdout is not None
        reader = threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True)
        reader.start()
        try:
            while not any("JupyterLab is running" in line for line in output):
                assert proc.poll() is None, "dev.py lab exited:\n" + "".join(output)
                assert time.monotonic() - started < 60, "no address after 60 s:\n" + "".join(output)
                time.sleep(0.1)  # polling a server that is starting
            startup = time.monotonic() - started
            text = "".join(output)
            jupyter = next(line for line in output if line.startswith("+ ") and " lab " in line).split()
            assert ("--allow-root" in jupyter) == (os.getuid() == 0)
            assert ("--no-browser" in jupyter) == sys.platform.startswith("linux")
            assert jupyter[-2:] == [f"--port={port}", "--port-retries=0"], "extra arguments go to Jupyter, last"
            banner = text.split("JupyterLab is running", 1)[1]
            url = next(word for word in banner.split() if word.startswith("http"))
            assert url.startswith(f"http://127.0.0.1:{port}/lab?token=")
            token = url.split("token=", 1)[1]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=10) as r:
                assert r.status == 200 and "started" in json.load(r)
            notification = f"http://127.0.0.1:{port}/lab/api/settings/@jupyterlab/apputils-extension:notification"
            with urllib.request.urlopen(f"{notification}?token={token}", timeout=10) as r:
                defaults = json.load(r)["schema"]["properties"]  # overrides.json sets the defaults
            assert defaults["fetchNews"]["default"] == "false", "no Jupyter news toast over the chapters"
            assert defaults["checkForUpdates"]["default"] is False
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token=wrong{token}", timeout=10)
            assert refused.value.code == 403
            refused.value.close()
            proc.send_signal(signal.SIGTERM)  # to dev.py alone: it passes it on to Jupyter
            assert proc.wait(20) == 0
            reader.join(5)
            assert "received signal 15, stopping" in "".join(output)
            assert startup < 20, f"dev.py lab took {startup:.1f} s to print its address"
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_lab_overrides_add_dolab_defaults_and_keep_the_learners(tmp_path: Path) -> None:
    plugin = "@jupyterlab/apputils-extension:notification"
    assert dev.lab_overrides({})[plugin] == {"fetchNews": "false", "checkForUpdates": False}
    mine = {plugin: {"fetchNews": "true"}, "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}
    merged = dev.lab_overrides(mine)
    assert merged[plugin] == {"fetchNews": "true", "checkForUpdates": False}, "a setting already there is kept"
    assert merged["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    path = dev.write_lab_overrides(tmp_path)
    assert path == tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.write_text("{not json")
    assert json.loads(dev.write_lab_overrides(tmp_path).read_text())[plugin]["fetchNews"] == "false"


# --- the git filter and resetting a chapter ---------------------------------------------------------------


def _notebook_with_outputs() -> dict[str, Any]:
    return {
        "cells": [
            {"cell_type": "markdown", "id": "nav-top", "metadata": {"tags": ["nav"]}, "source": ["# Title"]},
            {
                "cell_type": "code",
                "execution_count": 3,
                "id": "a1b2c3d4",
                "metadata": {"execution": {"iopub.status.idle": "2026-01-01T00:00:00Z"}, "tags": ["check"]},
                "outputs": [{"name": "stdout", "output_type": "stream", "text": ["42\n"]}],
                "source": ["print(42)"],
            },
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "pygments_lexer": "ipython3", "version": "3.11.2"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_git_filter_keeps_outputs_in_the_working_copy_and_out_of_commits(tmp_path: Path) -> None:
    """The filter dev.py registers, in a scratch repository: git stores the notebook stripped, ids kept."""
    _git(tmp_path, "init", "-q")
    shutil.copyfile(ROOT / ".gitattributes", tmp_path / ".gitattributes")
    for key, value in dev.git_filter_config(Path(sys.executable).as_posix()).items():
        _git(tmp_path, "config", "--local", key, value)
    notebook = tmp_path / "notebooks" / "01_x.ipynb"
    notebook.parent.mkdir()
    notebook.write_text(json.dumps(_notebook_with_outputs(), indent=1))
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "a chapter, run")
    stored = json.loads(_git(tmp_path, "show", "HEAD:notebooks/01_x.ipynb"))
    code = stored["cells"][1]
    assert code["outputs"] == [] and code["execution_count"] is None
    assert [c["id"] for c in stored["cells"]] == ["nav-top", "a1b2c3d4"], "cell ids are kept"
    assert code["metadata"] == {"tags": ["check"]} and code["source"] == ["print(42)"]
    assert stored["metadata"]["language_info"] == {"name": "python"}, "not which Python ran it last"
    assert stored["metadata"]["kernelspec"]["name"] == "python3"
    assert json.loads(notebook.read_text())["cells"][1]["outputs"], "the learner's outputs stay on disk"
    assert _git(tmp_path, "diff", "--", "notebooks") == "", "outputs alone are no change to git"


def test_git_filter_is_registered_here_when_this_is_a_git_checkout() -> None:
    if Path(sys.prefix).resolve() != dev.VENV.resolve():
        pytest.skip("dev.py registers the filter for its own .venv: run it through `python3 dev.py test`")
    if subprocess.run(["git", "rev-parse"], cwd=ROOT, capture_output=True).returncode:
        pytest.skip("not a git checkout: dev.py registers no filter")
    top = Path(_git(ROOT, "rev-parse", "--show-toplevel").strip())
    python = Path(os.path.relpath(dev.PY, top)).as_posix()
    for key, value in dev.git_filter_config(python).items():
        assert _git(ROOT, "config", "--get", key).strip() == value, f"{key}: run python3 dev.py test once"
    attributes = _git(ROOT, "check-attr", "filter", "diff", "--", "notebooks/00_welcome.ipynb")
    assert "filter: nbstripout" in attributes and "diff: ipynb" in attributes


def _scratch_checkout(tmp_path: Path, git: bool = True) -> Path:
    """dev.py and two chapters in a folder of their own, committed when ``git``."""
    copy = tmp_path / "dolab"
    (copy / "notebooks").mkdir(parents=True)
    shutil.copyfile(ROOT / "dev.py", copy / "dev.py")
    for name in ("00_welcome.ipynb", "01_first.ipynb"):
        (copy / "notebooks" / name).write_text(json.dumps(_notebook_with_outputs(), indent=1))
    if git:
        _git(copy, "init", "-q")
        _git(copy, "add", ".")
        _git(copy, "commit", "-q", "-m", "chapters")
    return copy


def _dev_py(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "dev.py", *args], cwd=copy, capture_output=True, text=True)


def test_reset_puts_a_chapter_back_and_keeps_the_learners_version(tmp_path: Path) -> None:
    copy = _scratch_checkout(tmp_path)
    chapter = copy / "notebooks" / "01_first.ipynb"
    committed = chapter.read_text()
    chapter.write_text(committed.replace("print(42)", "print('my answer')"))
    result = _dev_py(copy, "reset", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert chapter.read_text() == committed
    (kept,) = (copy / "notebooks" / "backup").glob("01_first-*.ipynb")
    assert "my answer" in kept.read_text()
    assert "backup/01_first-" in result.stdout
    assert sorted(p.name for p in (copy / "notebooks").glob("*.ipynb")) == ["00_welcome.ipynb", "01_first.ipynb"]
    unknown = _dev_py(copy, "reset", "7")
    assert unknown.returncode != 0 and "00_welcome, 01_first" in unknown.stderr


def test_reset_outside_git_says_why_and_changes_nothing(tmp_path: Path) -> None:
    copy = _scratch_checkout(tmp_path, git=False)
    chapter = copy / "notebooks" / "01_first.ipynb"
    chapter.write_text("mine")
    result = _dev_py(copy, "reset", "01")
    assert result.returncode == 1 and "needs a git checkout" in result.stdout
    assert chapter.read_text() == "mine"


# --- Chromium -------------------------------------------------------------------------------------------------


def test_chromium_is_found_where_dev_py_says(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    fake = tmp_path / "bin" / "chromium-browser"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert dev.chromium({"PATH": str(fake.parent)}, debian=missing) == fake
    assert dev.chromium({"PATH": str(tmp_path)}, debian=missing) is None
    assert dev.chromium({"DOLAB_CHROMIUM": str(fake)}, debian=missing) == fake
    assert dev.chromium({"DOLAB_CHROMIUM": str(missing), "PATH": str(fake.parent)}) is None, "as told, or none"
    assert "sudo apt-get install chromium" in dev.CHROMIUM_HINT


def _browser_tests(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "tests/browser", "-p", "no:cacheprovider", "-q"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_browser_tests_without_chromium_say_so_in_the_summary_and_fail_under_ci() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"DOLAB_CHROMIUM": "/nonexistent/chromium"}
    skipped = _browser_tests(env)
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    summary = skipped.stdout.split("short test summary info", 1)[-1]
    assert "SKIPPED" in summary and "BROWSER TESTS NOT RUN" in summary
    assert "sudo apt-get install chromium" in summary
    failed = _browser_tests(env | {"CI": "true"})
    assert failed.returncode != 0 and "CI must run the browser tests" in failed.stdout
