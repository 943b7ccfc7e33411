"""Every button or widget callback a screen defines re-checks the role at click time (`@guarded(role)`): a page
drawn while the user had a higher role must not act with it after a demotion or deactivation."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SCREENS = sorted((Path(__file__).resolve().parents[2] / "screens").glob("*.py"))
UNGUARDED_BY_DESIGN = {("sign_in.py", "_sign_in"), ("sign_in.py", "_create_first_admin")}  # nobody is signed in yet


def _callbacks(tree: ast.Module) -> set[str]:
    """Names of this module's functions handed to on_click / on_change / on_retry, directly or via partial()."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in ("on_click", "on_change", "on_retry", "on_submit"):
            # The callback itself, partial(_retry, …), or either inside a conditional expression.
            names.update(n.id for n in ast.walk(node.value) if isinstance(n, ast.Name))
    return names


def _guarded(function: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Call) and getattr(d.func, "id", "") == "guarded" for d in function.decorator_list)


@pytest.mark.parametrize("path", SCREENS, ids=[p.name for p in SCREENS])
def test_every_callback_checks_the_role_when_clicked(path: Path) -> None:
    tree = ast.parse(path.read_text())
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    missing = [name for name in _callbacks(tree) if name in functions and not _guarded(functions[name])
               and (path.name, name) not in UNGUARDED_BY_DESIGN]
    assert not missing, f"{path.name}: callbacks without @guarded(role): {', '.join(sorted(missing))}"
