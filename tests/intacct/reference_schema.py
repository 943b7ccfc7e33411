"""Intacct's published v3.0 request schema, found beside the repository (never copied into it).

``INTACCT_REFERENCE_DIR`` overrides where it is looked for; the default is ``../shared/reference/`` from the
repository root. Tests that need it skip with the reason when it is absent.
"""

from __future__ import annotations

import functools
import os
import pathlib

import pytest
from lxml import etree

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA_FILE = "intacct-api-v3.0.xsd"


def reference_dir() -> pathlib.Path:
    override = os.environ.get("INTACCT_REFERENCE_DIR")
    if override:
        return pathlib.Path(override)
    # A git worktree may sit deeper than the main checkout; try the repo's parent and the main checkout's.
    candidates = [REPO_ROOT.parent / "shared" / "reference", REPO_ROOT.parent.parent / "shared" / "reference"]
    return next((c for c in candidates if (c / SCHEMA_FILE).is_file()), candidates[0])


@functools.lru_cache(maxsize=1)
def _schema(path: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path, etree.XMLParser(resolve_entities=False, no_network=True)))


def request_schema() -> etree.XMLSchema:
    """The compiled schema, or a pytest skip saying where it was looked for."""
    path = reference_dir() / SCHEMA_FILE
    if not path.is_file():
        pytest.skip(f"Intacct's reference schema is not at {path} (set INTACCT_REFERENCE_DIR to its folder)")
    return _schema(str(path))


def schema_errors(document: bytes) -> list[str]:
    """Every validation error of a request document against the reference schema (empty = valid)."""
    schema = request_schema()
    root = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    if schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
