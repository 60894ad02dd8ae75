"""Only app.py and explorer/ui/ may import Streamlit: the core stays a plain library."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "explorer"
CORE = sorted(path for path in PACKAGE.rglob("*.py") if "ui" not in path.relative_to(PACKAGE).parts)


def imported_modules(path):
    """Top-level names of every module a file imports, at any depth of the syntax tree."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module.split(".")[0]


def test_the_scan_sees_the_engine():
    names = {path.name for path in CORE}
    assert {"losses.py", "activations.py", "network.py", "training.py"} <= names


@pytest.mark.parametrize("path", CORE, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_core_module_does_not_import_streamlit(path):
    assert "streamlit" not in set(imported_modules(path))


def test_the_scan_would_catch_it(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from streamlit import session_state\n"
                      "import streamlit.components.v1 as components\n")
    assert list(imported_modules(sneaky)) == ["streamlit", "streamlit"]
