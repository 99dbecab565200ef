#!/usr/bin/env python3
"""The project's commands, with nothing but Python 3.11+ needed to start.

    python3 dev.py lab [JUPYTER ARGS]   set up .venv with what the notebooks need (first time, or when
                                        pyproject.toml changes), then start JupyterLab on notebooks/
    python3 dev.py test [PYTEST ARGS]   set up .venv with the test tools too, then run ruff, mypy and every test

lab chooses Jupyter's flags for you: --allow-root when run as root, --no-browser when there is no display
(Linux without $DISPLAY or $WAYLAND_DISPLAY) or over SSH ($SSH_CONNECTION). It prints the address to open,
with its token. Any other argument goes to Jupyter as it is, after those:
    python3 dev.py lab --port=9999                 another port
    python3 dev.py lab --ip=0.0.0.0                in a container (docker run -p 8888:8888 ...): listen on every
                                                   interface so the port-forward reaches it; open the 127.0.0.1
                                                   address it prints on the host
    python3 dev.py lab --ServerApp.open_browser=True   open a browser even where lab would not (any browser
                                                   option given here drops lab's --no-browser)
Stop it with Ctrl-C (Jupyter asks to confirm; Ctrl-C twice stops at once).

Other verbs:
    reset NN [NN ...]   put chapter NN (00, 04, ...; or "all") back as committed; the version you had is kept
                        in notebooks/backup/ (needs a git checkout)
    check               ruff + mypy only
    bench [ARGS]        the benchmarks in bench/
    nav [--check]       regenerate the Prev | Index | Next cells of every notebook (--check only checks)

Set-up details: lab installs the package with its "lab" extra (JupyterLab, ipykernel, nbstripout, and the "serve"
extra: Starlette, uvicorn, websockets); test, check and bench install the "test" extra (pytest, ruff, mypy,
playwright, httpx, ...) once on top. Inside a git
checkout, nbstripout is registered as the git filter named in .gitattributes: outputs stay in your working
copy and never reach a commit. The browser tests use Debian's Chromium (sudo apt-get install chromium), or
the binary that $DOLAB_CHROMIUM names.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import venv
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".dolab-installed"
NOTEBOOKS = ROOT / "notebooks"
BACKUP = NOTEBOOKS / "backup"
LINTED = ("dolab", "tests", "bench", "data", "conformance", "dev.py")
CHROMIUM_HINT = (
    "Install Chromium to run them: sudo apt-get install chromium (Debian/Ubuntu; older Ubuntu names it "
    "chromium-browser), or set DOLAB_CHROMIUM to a Chromium or Chrome binary."
)


def sh(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT)
    if result.returncode:
        sys.exit(result.returncode)


# --- set-up ---------------------------------------------------------------------------------------------------


def read_stamp(text: str | None) -> dict[str, object]:
    """What the stamp in .venv says was installed: {"pyproject": sha256, "extras": [...]}, or {}."""
    try:
        stamp = json.loads(text) if text else {}
    except json.JSONDecodeError:  # an older stamp: the bare hash
        return {}
    return stamp if isinstance(stamp, dict) else {}


def installed_extras(stamp: str | None, pyproject_hash: str) -> set[str]:
    """The extras .venv holds for this pyproject.toml ("test" includes "lab"); none if it changed since."""
    recorded = read_stamp(stamp)
    extras = recorded.get("extras")
    if recorded.get("pyproject") != pyproject_hash or not isinstance(extras, list):
        return set()
    return set(extras) | ({"lab"} if "test" in extras else set())


def setup(extra: str) -> None:
    """Make .venv hold dolab (editable) with ``extra``; instant when the stamp says it is already there."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py itself may be run by an old Python
        sys.exit(f"dolab needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PY.exists():
        print(f"creating virtual environment in {VENV.name}/", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    have = installed_extras(STAMP.read_text() if STAMP.exists() else None, wanted)
    if extra not in have:
        started = time.monotonic()
        sh(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        sh(PY, "-m", "pip", "install", "--quiet", "-e", f".[{extra}]")
        STAMP.write_text(json.dumps({"pyproject": wanted, "extras": sorted(have | {extra})}))
        print(f"installed dolab[{extra}] into {VENV.name}/ in {time.monotonic() - started:.0f} s", flush=True)
    git_filter()


def git(*args: str) -> subprocess.CompletedProcess[str] | None:
    """``git args`` in ROOT, or None when git is not installed."""
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    except FileNotFoundError:
        return None


def in_git_checkout() -> bool:
    result = git("rev-parse", "--is-inside-work-tree")
    return result is not None and result.returncode == 0 and result.stdout.strip() == "true"


def git_filter_config(python: str) -> dict[str, str]:
    """What ``nbstripout --install`` writes to git's config, with --keep-id (navigation cells are named by id),
    --unix-newlines (the same bytes from every OS), and the kernel's language details stripped as well, all
    but its name (they name the Python that last ran the notebook). git runs the filter when it reads a
    notebook from the work tree: add, commit -a, diff, status."""
    strip = f'"{python}" -m nbstripout --keep-id --unix-newlines'
    volatile = ("version", "codemirror_mode", "file_extension", "mimetype", "nbconvert_exporter", "pygments_lexer")
    return {
        "filter.nbstripout.clean": strip,
        "filter.nbstripout.smudge": "cat",
        "filter.nbstripout.required": "true",
        "filter.nbstripout.extrakeys": " ".join(f"metadata.language_info.{key}" for key in volatile),
        "diff.ipynb.textconv": f"{strip} -t",
    }


def git_filter() -> None:
    """Register nbstripout as the git filter that .gitattributes names, once per checkout.

    The command names this checkout's .venv Python relative to the top of the work tree (git runs filters
    there), so it survives moving the folder, and each work tree of a repository uses its own .venv.
    Outside a git checkout (a downloaded archive) there is nothing to register.
    """
    top = git("rev-parse", "--show-toplevel")
    if top is None or top.returncode:
        return
    try:
        python = Path(os.path.relpath(PY, top.stdout.strip())).as_posix()
    except ValueError:  # another drive (Windows)
        python = PY.as_posix()
    wanted = git_filter_config(python)
    current = git("config", "--local", "--get-regexp", r"^(filter\.nbstripout|diff\.ipynb)\.")
    have = dict(line.partition(" ")[::2] for line in current.stdout.splitlines()) if current else {}
    if any(have.get(key) != value for key, value in wanted.items()):
        print("registering nbstripout as the git filter for notebooks (see .gitattributes)", flush=True)
        for key, value in wanted.items():
            sh("git", "config", "--local", key, value)


# --- lab --------------------------------------------------------------------------------------------------------

LAB_URL = re.compile(r"https?://[^\s/]+:\d+/lab\S*")


def lab_arguments(
    uid: int | None, env: Mapping[str, str], platform: str = sys.platform, asked: Sequence[str] = ()
) -> list[str]:
    """The flags ``lab`` gives Jupyter here: who runs it (``uid``, None on Windows), where, and what the
    learner ``asked`` for on the command line (which goes to Jupyter after these flags)."""
    args = []
    if uid == 0:
        args.append("--allow-root")  # a container, a VM: Jupyter refuses root without it
    no_display = platform.startswith("linux") and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY")
    browser_asked = any(re.match(r"--(\w+\.)?(open_)?browser\b|--no-browser\b", arg) for arg in asked)
    if (no_display or env.get("SSH_CONNECTION")) and not browser_asked:
        args.append("--no-browser")  # there is no browser to open here; the address is printed instead
    return args


def lab_url(lines: list[str]) -> str | None:
    """The address to show from Jupyter's output lines: the latest 127.0.0.1 one, else the latest one."""
    urls = [match.group() for line in lines if (match := LAB_URL.search(line))]
    local = [url for url in urls if "//127.0.0.1:" in url]
    return local[-1] if local else urls[-1] if urls else None


def lab_started(lines: list[str]) -> bool:
    """Whether the last line ends Jupyter's "copy and paste one of these URLs" list (its 127.0.0.1 line)."""
    return bool(lines) and "//127.0.0.1:" in lines[-1] and any("copy and paste" in line for line in lines)


def lab_banner(url: str, env: Mapping[str, str]) -> str:
    port = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
    lines = ["", "=" * 78, "  JupyterLab is running. Open this address in your browser:", "", f"    {url}", ""]
    if env.get("SSH_CONNECTION"):
        lines.append(f"  Over SSH, forward the port first, on your own machine: ssh -L {port}:127.0.0.1:{port} HOST")
    lines += ["  Stop it with Ctrl-C here.", "=" * 78, ""]
    return "\n".join(lines)


# JupyterLab's "Jupyter news" toast sits over the bottom-right corner of every chapter, and its update
# check reaches the network: both off by default, through the lab's overrides file (a learner can turn
# them on again in Settings). https://jupyterlab.readthedocs.io/en/stable/user/directories.html#overrides-json
LAB_DEFAULTS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def lab_overrides(existing: Mapping[str, object]) -> dict[str, object]:
    """``existing`` overrides with dolab's defaults added; a setting already there is kept."""
    merged: dict[str, object] = dict(existing)
    for plugin, values in LAB_DEFAULTS.items():
        kept = merged.get(plugin)
        merged[plugin] = values | (dict(kept) if isinstance(kept, Mapping) else {})
    return merged


def write_lab_overrides(prefix: Path) -> Path:
    """Write ``prefix``/share/jupyter/lab/settings/overrides.json (JupyterLab reads it from its app dir)."""
    path = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        existing = json.loads(path.read_text()) if path.exists() else {}
    except json.JSONDecodeError:
        existing = {}  # a damaged file: JupyterLab would ignore it too
    path.write_text(json.dumps(lab_overrides(existing if isinstance(existing, dict) else {}), indent=2) + "\n")
    return path


def lab(extra_args: list[str]) -> int:
    """JupyterLab on notebooks/; its output passes through, with the address repeated in a banner."""
    setup("lab")
    write_lab_overrides(VENV)
    uid = os.getuid() if hasattr(os, "getuid") else None
    command = [str(BIN / "jupyter"), "lab", f"--ServerApp.root_dir={NOTEBOOKS}"]
    command += lab_arguments(uid, os.environ, asked=extra_args) + extra_args
    print("+", " ".join(command), flush=True)
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
    # Ctrl-C reaches Jupyter directly (same process group): it asks to confirm, then stops, and we go on
    # passing its output through until it is done. A SIGTERM for us (docker stop, a test) is passed on.
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    signal.signal(signal.SIGTERM, lambda signum, frame: proc.send_signal(signal.SIGTERM))
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    chunks: queue.Queue[bytes] = queue.Queue()

    def read() -> None:
        while chunk := os.read(fd, 65536):
            chunks.put(chunk)
        chunks.put(b"")

    threading.Thread(target=read, daemon=True).start()
    shown, pending, lines = False, b"", list[str]()
    while True:
        try:
            chunk: bytes | None = chunks.get(timeout=1.0)
        except queue.Empty:
            chunk = None  # a quiet second: Jupyter has said what it had to say at start
        if chunk == b"":
            break
        if chunk:
            try:
                sys.stdout.buffer.write(chunk)
                sys.stdout.buffer.flush()
            except OSError:  # nobody reads our output any more; keep draining Jupyter's
                pass
            if not shown:
                *complete, pending = (pending + chunk).split(b"\n")
                lines = (lines + [line.decode(errors="replace") for line in complete])[-50:]
        url = None if shown else lab_url(lines)
        if url and (chunk is None or lab_started(lines)):
            shown = True
            try:
                print(lab_banner(url, os.environ), flush=True)
            except OSError:
                pass
    return proc.wait()


# --- chapters -------------------------------------------------------------------------------------------------


def chapters(names: list[str]) -> list[Path]:
    """The notebooks that ``names`` ("04", "4", "04_latency...", or "all") point to; exits on a bad name."""
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if names == ["all"]:
        return paths
    found = []
    for name in names:
        number = name.split("_", 1)[0]
        match = [p for p in paths if number.isdigit() and p.name[:2] == f"{int(number):02d}"]
        if not match:
            sys.exit(f"no chapter {name!r}; the chapters are: " + ", ".join(p.stem for p in paths))
        found += match
    return found


def reset(names: list[str]) -> int:
    """Put chapters back as committed, keeping the version you had in notebooks/backup/."""
    if not names:
        print("usage: python3 dev.py reset NN [NN ...]   (or: reset all)")
        return 2
    paths = chapters(names)
    if not in_git_checkout():
        print("reset needs a git checkout (git clone ...): this copy has no committed version to go back to.")
        return 1
    when = time.strftime("%Y%m%d-%H%M%S")
    for path in paths:
        relative = path.relative_to(ROOT).as_posix()
        committed = git("show", f"HEAD:./{relative}")  # ./: relative to ROOT, wherever the repository's top is
        if committed is None or committed.returncode:
            print(f"{relative}: not committed, left as it is")
            continue
        if path.read_text() != committed.stdout:
            BACKUP.mkdir(exist_ok=True)
            kept = BACKUP / f"{path.stem}-{when}.ipynb"
            shutil.copyfile(path, kept)
            print(f"{relative}: your version is kept as {kept.relative_to(ROOT).as_posix()}")
        result = git("checkout", "HEAD", "--", relative)
        if result is None or result.returncode:
            print(result.stderr if result else "git is missing")
            return 1
        print(f"{relative}: back as committed (in JupyterLab: File > Reload Notebook from Disk)")
    return 0


def chromium(env: Mapping[str, str], debian: Path = Path("/usr/bin/chromium")) -> Path | None:
    """The browser the browser tests drive: $DOLAB_CHROMIUM, Debian's /usr/bin/chromium, or one on PATH."""
    if env.get("DOLAB_CHROMIUM"):
        given = Path(env["DOLAB_CHROMIUM"])
        return given if given.is_file() else None
    if debian.is_file():
        return debian
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name, path=env.get("PATH"))
        if found:
            return Path(found)
    return None


def notebook_title(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    first = "".join(cells[0]["source"]).splitlines()[0]
    return first.lstrip("# ").strip()


def nav_source(paths: list[Path], i: int) -> str:
    def link(j: int, arrow_left: bool) -> str:
        title = notebook_title(paths[j])
        return f"[← {title}]({paths[j].name})" if arrow_left else f"[{title} →]({paths[j].name})"

    parts = [link(i - 1, True) if i > 0 else "", f"[Index]({paths[0].name})",
             link(i + 1, False) if i + 1 < len(paths) else ""]
    return " | ".join(p for p in parts if p)


def nav(check: bool) -> int:
    """Put a generated navigation cell after the title and at the end of every notebook."""
    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    stale = []
    for i, path in enumerate(paths):
        nb = json.loads(path.read_text())
        cells = [c for c in nb["cells"] if "nav" not in c.get("metadata", {}).get("tags", [])]
        source = nav_source(paths, i)

        def cell(where: str, source: str = source) -> dict[str, object]:
            return {"cell_type": "markdown", "id": f"nav-{where}", "metadata": {"tags": ["nav"]},
                    "source": [source]}

        nb["cells"] = cells[:1] + [cell("top")] + cells[1:] + [cell("bottom")]
        for c in nb["cells"]:
            if "chapters" in c.get("metadata", {}).get("tags", []):
                c["source"] = [f"{j:d}. [{notebook_title(p)}]({p.name})\n" for j, p in enumerate(paths) if j]
        text = json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
        if path.read_text() != text:
            stale.append(path.name)
            if not check:
                path.write_text(text)
    if stale:
        print(("stale navigation in: " if check else "updated navigation in: ") + ", ".join(stale))
    return 1 if stale and check else 0


def main(argv: list[str]) -> None:
    verb = argv[0] if argv else "help"
    if verb == "lab":
        sys.exit(lab(argv[1:]))
    elif verb == "check":
        setup("test")
        sh(PY, "-m", "ruff", "check", *LINTED)
        sh(PY, "-m", "mypy")
    elif verb == "test":
        setup("test")
        if chromium(os.environ) is None:
            print(f"\nNo Chromium found: the browser tests will be skipped. {CHROMIUM_HINT}\n", flush=True)
        sh(PY, "-m", "ruff", "check", *LINTED)
        sh(PY, "-m", "mypy")
        sh(PY, "-m", "pytest", *argv[1:])
    elif verb == "reset":
        sys.exit(reset(argv[1:]))
    elif verb == "nav":
        sys.exit(nav(check="--check" in argv))
    elif verb == "bench":
        setup("test")
        for script in sorted((ROOT / "bench").glob("bench_*.py")):
            sh(PY, script, *argv[1:])
    else:
        print(__doc__)
        sys.exit(0 if verb in ("help", "-h", "--help") else 2)


if __name__ == "__main__":
    main(sys.argv[1:])
