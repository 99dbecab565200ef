"""dolab export: the project it writes is one wrangler and pywrangler accept, and it runs.

- ``wrangler.jsonc`` validates against the JSON schema of the wrangler pinned in
  tools/wrangler-schema/ (``npm ci`` there; .ci/run does it). Without it the schema tests skip,
  except under CI, where they fail.
- ``src/entry.py`` parses and imports only names of the Python Workers SDK (data/workers_sdk_names.txt,
  derived from workers-runtime-sdk 1.9.5), the JS globals dolab mirrors, and the standard library.
- The exported classes and the generated ``Default`` router run: dolab follows the SDK's names, so
  the file runs in a lab with ``workers`` and ``js`` standing for dolab.
- Each check is shown failing on a wrong input.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import dolab
from dolab import Lab
from dolab.tools.cli import main
from dolab.tools.export import COMPATIBILITY_DATE, ExportError, render, worker_name, write
from dolab.tools.portability import check, errors
from dolab.tools.program import NoClassesError, ProgramError, build
from dolab.tools.sdk import JS_GLOBALS, SDK_NAMES
from dolab.tools.source import load

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "port"
WRANGLER = ROOT / "tools" / "wrangler-schema" / "node_modules"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _unavailable(reason: str) -> None:
    """Fail under CI (which installs the schema), skip with the reason elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, and .ci/run runs npm ci in tools/wrangler-schema/)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def validator() -> Any:
    """A jsonschema validator for wrangler's config-schema.json (draft 7, as the file declares)."""
    try:
        import jsonschema
    except ImportError:
        _unavailable("the jsonschema package is missing (pip install -e '.[dev]')")
    path = WRANGLER / "wrangler" / "config-schema.json"
    if not path.exists():
        _unavailable(f"{path.relative_to(ROOT)} is missing (cd tools/wrangler-schema && npm ci)")
    schema = json.loads(path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def read_jsonc(text: str) -> Any:
    """JSON with // and /* */ comments (wrangler.jsonc), comments stripped outside strings."""
    out, i, in_string = [], 0, False
    while i < len(text):
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
            continue
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
            continue
        else:
            in_string = c == '"'
            out.append(c)
        i += 1
    return json.loads("".join(out))


def schema_errors(validator: Any, config: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(config)]


def sdk_names_from_data() -> set[str]:
    lines = (ROOT / "data" / "workers_sdk_names.txt").read_text().splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def import_problems(entry: str) -> list[str]:
    """Imports of ``entry`` that are not SDK names, mirrored JS globals or the standard library."""
    sdk, problems = sdk_names_from_data(), []
    for node in ast.walk(ast.parse(entry)):
        if isinstance(node, ast.ImportFrom) and node.module == "workers":
            problems += [f"workers.{a.name}" for a in node.names if a.name not in sdk]
        elif isinstance(node, ast.ImportFrom) and node.module == "js":
            problems += [f"js.{a.name}" for a in node.names if a.name not in JS_GLOBALS]
        elif isinstance(node, ast.ImportFrom | ast.Import):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            problems += [m for m in modules if m.split(".")[0] not in sys.stdlib_module_names]
    return problems


def export(source: Path | str, tmp_path: Path, **options: Any) -> tuple[dict[str, str], Any]:
    build_options = {k: options.pop(k) for k in ("classes", "bindings", "vars") if k in options}
    project = render(build(load(str(source)), **build_options), **options)
    write(project, tmp_path / "out")
    files = {rel: (tmp_path / "out" / rel).read_text() for rel in project.files}
    return files, read_jsonc(files["wrangler.jsonc"])


def test_sdk_names_are_the_ones_derived_from_the_wheel() -> None:
    header = (ROOT / "data" / "workers_sdk_names.txt").read_text().splitlines()[0]
    assert "workers_runtime_sdk-1.9.5" in header
    assert sdk_names_from_data() == SDK_NAMES
    assert {"DurableObject", "WorkerEntrypoint", "Response", "Request"} <= SDK_NAMES
    assert not SDK_NAMES & {"Lab", "WebSocketPair", "DurableObjectError"}


def test_the_import_check_catches_what_does_not_exist_on_cloudflare() -> None:
    entry = "from workers import DurableObject, Lab\nfrom js import fetchy\nfrom dolab import Response\nimport numpy\n"
    assert import_problems(entry) == ["workers.Lab", "js.fetchy", "dolab", "numpy"]
    assert import_problems("from workers import Response\nfrom js import WebSocketPair\nimport json\n") == []


def test_jsonc_reader_keeps_slashes_inside_strings() -> None:
    assert read_jsonc('// head\n{"a": "http://x", /* b */ "c": "\\"//\\""}') == {"a": "http://x", "c": '"//"'}


def test_portable_source_exports_a_valid_project(tmp_path: Path, validator: Any) -> None:
    files, config = export(FIXTURES / "portable.py", tmp_path)
    assert schema_errors(validator, config) == []
    assert config["main"] == "src/entry.py" and config["name"] == "portable"
    assert config["compatibility_flags"] == ["python_workers"]
    assert config["compatibility_date"] == COMPATIBILITY_DATE
    assert config["durable_objects"]["bindings"] == [{"name": "CART", "class_name": "Cart"},
                                                     {"name": "PRICES", "class_name": "PriceList"}]
    assert config["migrations"] == [{"tag": "v1", "new_sqlite_classes": ["Cart", "PriceList"]}]
    entry = files["src/entry.py"]
    assert import_problems(entry) == []
    names = {n.name for n in ast.parse(entry).body if isinstance(n, ast.ClassDef | ast.FunctionDef)}
    assert names == {"clamp", "Cart", "PriceList", "Hello", "Default"}
    assert "LIMIT = 100" in entry and "UNUSED_CONSTANT" not in entry and "lab.run" not in entry
    pyproject = tomllib.loads(files["pyproject.toml"])
    assert pyproject["project"]["dependencies"] == []
    assert any(d.startswith("workers-py") for d in pyproject["dependency-groups"]["dev"])
    assert "uv run pywrangler dev" in files["README.md"] and "uv run pywrangler deploy" in files["README.md"]
    assert "/<binding>/<name>/" in files["README.md"]


def test_the_schema_rejects_wrong_configs(tmp_path: Path, validator: Any) -> None:
    _, good = export(FIXTURES / "portable.py", tmp_path)
    wrong = [copy.deepcopy(good) for _ in range(4)]
    del wrong[0]["durable_objects"]["bindings"][0]["class_name"]
    wrong[1]["durable_object"] = wrong[1].pop("durable_objects")  # a misspelt key
    wrong[2]["migrations"][0]["new_sqlite_classes"] = "Cart"
    wrong[3]["compatibility_flags"] = "python_workers"
    for config in wrong:
        assert schema_errors(validator, config), config


def test_the_compatibility_date_is_one_the_pinned_wrangler_runs(validator: Any) -> None:
    """Not after the workerd that wrangler bundles (it would fall back), and not in the future."""
    version = json.loads((WRANGLER / "workerd" / "package.json").read_text())["version"]  # 1.YYYYMMDD.n
    supported = dt.datetime.strptime(version.split(".")[1], "%Y%m%d").date()
    assert dt.date.fromisoformat(COMPATIBILITY_DATE) <= min(supported, dt.date.today())


@pytest.fixture
def as_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """``workers`` and ``js`` resolve to dolab, whose names follow the SDK's."""
    monkeypatch.setitem(sys.modules, "workers", dolab)
    monkeypatch.setitem(sys.modules, "js", dolab)


def run_entry(entry: str, config: dict[str, Any]) -> tuple[Lab, Any]:
    namespace: dict[str, Any] = {"__name__": "entry"}
    exec(compile(entry, "src/entry.py", "exec"), namespace)
    bindings = {b["name"]: namespace[b["class_name"]] for b in config["durable_objects"]["bindings"]}
    lab = Lab(durable_objects=bindings, seed=0)
    return lab, lab.worker(namespace["Default"])


def call(lab: Lab, worker: Any, path: str, body: Any = None) -> tuple[int, str]:
    init = {"method": "POST", "body": json.dumps(body)} if body is not None else {}
    response = lab.run(worker.fetch(f"https://example.test{path}", **init))
    return response.status, lab.run(response.text())


def test_the_exported_worker_routes_to_the_objects(tmp_path: Path, as_workers: None) -> None:
    files, config = export(FIXTURES / "portable.py", tmp_path)
    lab, worker = run_entry(files["src/entry.py"], config)
    assert call(lab, worker, "/cart/alice/add") == (200, '{"count": 1, "price": 5, "raw": "[1]"}')
    assert call(lab, worker, "/CART/alice/add")[1].startswith('{"count": 2')
    assert call(lab, worker, "/prices/list/price", [["a", "b", "c"]]) == (200, "7.5")
    assert call(lab, worker, "/prices/list/_pair", [])[0] == 404  # private: not routed
    assert call(lab, worker, "/nothing/alice/add")[0] == 404
    assert call(lab, worker, "/cart")[0] == 404
    lab.close()


def test_a_chapter_exports_and_runs(tmp_path: Path, as_workers: None) -> None:
    files, config = export(ROOT / "notebooks" / "02_concurrency_and_consistency.ipynb", tmp_path,
                           classes=["Cart", "Catalog", "ReorderedCart"])
    lab, worker = run_entry(files["src/entry.py"], config)
    assert call(lab, worker, "/cart/alice/add", []) == (200, "1")
    assert call(lab, worker, "/cart/alice/add", []) == (200, "2")
    assert call(lab, worker, "/reordered_cart/alice/add", []) == (200, "1")  # another class, another object
    assert call(lab, worker, "/catalog/catalog/price", ["sku-1"]) == (200, "9.99")
    lab.close()


def test_chapter_notebooks_export_when_portable(tmp_path: Path, validator: Any) -> None:
    """Every chapter whose classes check clean exports to a valid project; the others are refused.
    A project imports only SDK names, JS globals and the standard library, or a package check-port
    warned about (chapter 11's ``pycrdt``: the learner adds it to dependencies if Python Workers can
    install it)."""
    exported = []
    for path in NOTEBOOKS:
        try:
            program = build(load(str(path)))
        except NoClassesError:
            continue
        findings = check(program)
        warned = {f.message.split("`")[1] for f in findings if f.rule == "package-import"}
        if errors(findings):
            with pytest.raises(ExportError) as refused:
                render(program)
            assert refused.value.findings and f"{path}#cell" in str(refused.value)
            continue
        files, config = export(path, tmp_path / path.stem)
        assert schema_errors(validator, config) == [], path.name
        unwarned = [m for m in import_problems(files["src/entry.py"]) if m.split(".")[0] not in warned]
        assert unwarned == [], path.name
        exported.append(path.name)
    print("exported:", exported)
    assert "00_welcome.ipynb" in exported  # a chapter that ports today, so this loop is not empty


def test_export_refuses_dolab_only_code_naming_file_and_line(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "env_undeclared.py"
    assert main(["export", str(path), "-o", str(tmp_path / "out")]) == 1
    assert f"{path}:14: `env.clock_ms`" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert main(["export", str(path), "-o", str(tmp_path / "out"), "--force"]) == 0
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "exported with --force" in readme and f"{path}:14:" in readme
    assert "self.env.clock_ms()" in (tmp_path / "out" / "src" / "entry.py").read_text()


def test_export_with_force_leaves_out_dolab_names(tmp_path: Path) -> None:
    files, _ = export(FIXTURES / "lab_helper.py", tmp_path, force=True)
    entry = files["src/entry.py"]
    assert "left out these dolab names" in entry and "Lab" in entry
    assert import_problems(entry) == []


def test_export_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    project = render(build(load(str(FIXTURES / "portable.py"))))
    write(project, tmp_path / "out")
    write(project, tmp_path / "out")  # its own files: rewritten
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="notes.txt"):
        write(project, tmp_path / "out")


def test_bindings_from_the_source_from_the_class_name_and_from_options(tmp_path: Path) -> None:
    chat = str(ROOT / "notebooks" / "07_websockets_chat.ipynb")
    pairs = {b.class_name: (b.name, b.origin) for b in build(load(chat)).bindings}
    # ChatRoom and QuietRoom are both Lab(durable_objects={"ROOM": ...}): the first keeps ROOM.
    assert pairs == {"ChatRoom": ("ROOM", "source"), "StandardRoom": ("STANDARD_ROOM", "derived"),
                     "PresenceRoom": ("PRESENCE_ROOM", "derived"), "QuietRoom": ("QUIET_ROOM", "derived"),
                     "FixedRoom": ("FIXED_ROOM", "derived")}
    moved = {b.class_name: b.name for b in build(load(chat), bindings={"CHAT": "ChatRoom"}).bindings}
    assert moved == {"ChatRoom": "CHAT", "StandardRoom": "STANDARD_ROOM", "PresenceRoom": "PRESENCE_ROOM",
                     "QuietRoom": "ROOM", "FixedRoom": "FIXED_ROOM"}
    with pytest.raises(ProgramError, match="already ChatRoom's"):
        build(load(chat), bindings={"STANDARD_ROOM": "ChatRoom"})
    with pytest.raises(ProgramError, match="not an exported Durable Object"):
        build(load(chat), bindings={"X": "Nope"})


def test_a_js_class_call_gains_new(tmp_path: Path) -> None:
    files, _ = export(FIXTURES / "js_constructor.py", tmp_path)
    entry = files["src/entry.py"]
    assert 'WebSocketRequestResponsePair.new("ping", "pong")' in entry
    assert "WebSocketPair.new()" in entry and ".new.new" not in entry
    assert "from js import WebSocketPair, WebSocketRequestResponsePair" in entry


def test_default_from_the_source_or_the_option(tmp_path: Path) -> None:
    source = tmp_path / "own_default.py"
    source.write_text("from dolab import DurableObject, Response, WorkerEntrypoint\n\n\n"
                      "class Box(DurableObject):\n    pass\n\n\n"
                      "class Default(WorkerEntrypoint):\n    async def fetch(self, request):\n"
                      "        return Response('mine')\n")
    own = render(build(load(str(source))))
    assert own.default == "source" and "_DOLAB_ROUTES" not in own.files["src/entry.py"]
    chosen = render(build(load(str(FIXTURES / "portable.py"))), default="Hello")
    assert chosen.files["src/entry.py"].rstrip().splitlines()[-2] == "class Default(Hello):"
    with pytest.raises(ExportError, match="--default Cart"):
        render(build(load(str(FIXTURES / "portable.py"))), default="Cart")


def test_worker_names() -> None:
    assert worker_name("06_alarms") == "06-alarms"
    assert worker_name("My Cart!") == "my-cart"
    assert worker_name("__") == "dolab-export"
