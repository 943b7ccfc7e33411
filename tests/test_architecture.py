"""The layers hold and nothing imports in a circle: every import statement of the product and the sandbox, at the
top of a module or inside a function, is read from the source and checked.

Layers, each importing only those below it (storage and third-party code are below all of them):

    UI (app.py, console_server.py, console/, screens/)      worker (sync_engine/worker/, sync_engine/scheduler.py)
                         └──────────────► services (sync_engine/services/) ◄──┘
                                               └──► schedule (sync_engine/schedule/)
                                                      └──► sync (sync_engine/sync/) ──► intacct (sync_engine/intacct/)

The UI and the worker may also use the schedule directly (the run queue), and each layer any layer further down.

The UI and the worker never import each other; the sandbox and the product never import each other.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("app.py", "console_server.py", "launcher.py", "console", "screens", "storage", "sync_engine")
SANDBOX = ("intacct_sandbox",)

# Layer of each module prefix (longest prefix wins) and what it may import of ours.
LAYERS = {
    "storage": "storage",
    "sync_engine.intacct": "intacct",
    "sync_engine.sync": "sync",
    "sync_engine.schedule": "schedule",
    "sync_engine.services": "services",
    "sync_engine.worker": "worker",
    "sync_engine.scheduler": "worker",
    "sync_engine": "package",  # sync_engine/__init__.py
    "console": "ui",
    "screens": "ui",
    "app": "ui",
    "console_server": "ui",
    "launcher": "launcher",
    "intacct_sandbox": "sandbox",
}
MAY_IMPORT = {
    "storage": {"storage"},
    "intacct": {"intacct"},
    "sync": {"sync", "intacct", "storage"},
    "schedule": {"schedule", "sync", "storage"},
    "services": {"services", "schedule", "sync", "intacct", "storage"},
    "worker": {"worker", "services", "schedule", "sync", "intacct", "storage"},
    "ui": {"ui", "services", "schedule", "sync", "storage"},
    "package": set(),
    "launcher": {"storage"},  # it starts the other processes as commands, never imports them
    "sandbox": {"sandbox"},
}
# What the UI may take from the pipeline directly: the audit trail, the error catalogue, the pending-writes summary,
# and the write rules and Intacct's cached lists the pipeline follows (edited on the mapping and entry screens; the
# lists' refresh is one short call a person asks for, like the connection test).
UI_FROM_SYNC = {"sync_engine.sync.audit", "sync_engine.sync.error_catalogue", "sync_engine.sync.exports",
                "sync_engine.sync.intacct_lists", "sync_engine.sync.write_rules"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(roots: tuple[str, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for name in roots:
        path = ROOT / name
        files = [path] if path.is_file() else [p for p in path.rglob("*.py") if "migrations" not in p.parts]
        found |= {_module_name(p): p for p in files}
    return found


def _imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """(module of ours, line) for every import in the file, relative ones resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import submodule` imports the submodule; the package itself only for other names.
            names = [f"{base}.{alias.name}" for alias in node.names]
            targets = names if all(n in known for n in names) else [base, *names]
        for target in targets:
            # The longest known module the name starts with: "pkg.mod.attr" counts as "pkg.mod".
            parts = target.split(".")
            for end in range(len(parts), 0, -1):
                candidate = ".".join(parts[:end])
                if candidate in known:
                    if candidate != name:
                        yield candidate, node.lineno
                    break


def _layer(module: str) -> str:
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return LAYERS[prefix]
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def _graph(roots: tuple[str, ...]) -> tuple[dict[str, set[str]], list[str]]:
    known = _modules(roots)
    graph: dict[str, set[str]] = {name: set() for name in known}
    wrong: list[str] = []
    for name, path in known.items():
        for target, line in _imports(name, path, known):
            graph[name].add(target)
            mine, theirs = _layer(name), _layer(target)
            if theirs not in MAY_IMPORT[mine] and not (mine == "ui" and target in UI_FROM_SYNC):
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({mine}) imports {target} ({theirs})")
            elif mine == "ui" and theirs == "sync" and target not in UI_FROM_SYNC:
                wrong.append(f"{path.relative_to(ROOT)}:{line} (ui) imports {target}: go through a service")
    return graph, wrong


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), i.e. every import circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_product_imports_in_no_circle() -> None:
    graph, _ = _graph(PRODUCT)
    assert _cycles(graph) == []


def test_the_sandbox_imports_in_no_circle() -> None:
    graph, _ = _graph(SANDBOX)
    assert _cycles(graph) == []


def test_every_import_points_down_the_layers() -> None:
    _, wrong = _graph(PRODUCT + SANDBOX)
    assert wrong == []


def test_the_walker_sees_imports_inside_functions_and_circles(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    source = ROOT / "sync_engine" / "worker" / "loop.py"
    seen = {target for target, _ in _imports("sync_engine.worker.loop", source, _modules(PRODUCT))}
    assert "sync_engine.sync.runs" in seen  # imported inside _default_executor only


def test_architecture_md_names_every_layer_folder_and_module() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    section = text[text.index("## Packages"):text.index("## Engine API")]
    missing = []
    for folder in ("intacct", "sync", "schedule", "services", "worker"):
        heading = f"#### `sync_engine/{folder}/`"
        if heading not in section:
            missing.append(heading)
            continue
        part = section[section.index(heading):]
        part = part[:part.find("\n#", 1)] if "\n#" in part[1:] else part
        if folder == "intacct":
            continue  # the client's modules are described in sync_engine/intacct/README.md
        for path in sorted((ROOT / "sync_engine" / folder).iterdir()):
            name = f"`{path.name}`" if path.suffix == ".py" else f"`{path.name}/`"
            if path.name.startswith("_") or path.name == "__pycache__":
                continue
            if name not in part:
                missing.append(f"{folder}/{path.name}")
    assert missing == []
