"""The public API is what __all__ says, and the model behaves as the contract says."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import provenance
from provenance import AIGeneration, Verdict, exit_code_for

ROOT = Path(__file__).resolve().parents[1]


def test_all_is_honest() -> None:
    for name in provenance.__all__:
        assert hasattr(provenance, name), name
    public = {n for n in dir(provenance) if not n.startswith("_")}
    modules = {
        "errors",
        "labels",
        "media",
        "model",
        "trust",
        "verify",
        "keys",
        "sign",
        "xmp",
        "policy",
        "audit",
        "inspection",
        "thumbnails",
        "fingerprint",
        "repository",
        "softbinding",
        "textsafe",
        "distributed",  # provcheck audit --scheduler
        "resume",  # provcheck audit --resume
    }
    assert public - set(provenance.__all__) - modules == set()


@pytest.mark.parametrize(
    "module", ["errors", "labels", "media", "model", "trust", "verify", "keys", "sign"]
)
def test_every_public_module_has_all(module: str) -> None:
    mod = importlib.import_module(f"provenance.{module}")
    assert isinstance(mod.__all__, list)
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.{name}"


def test_only_c2pa_boundary_imports_c2pa() -> None:
    for path in [*(ROOT / "provenance").glob("*.py"), *(ROOT / "cli").rglob("*.py")]:
        tree = ast.parse(path.read_text())
        names = {
            a.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for a in node.names
        }
        names |= {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        }
        if path.name != "_c2pa.py":
            assert "c2pa" not in names, path


def test_cli_imports_only_the_public_api() -> None:
    for path in (ROOT / "cli" / "provcheck").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "provenance":
                for alias in node.names:
                    assert alias.name in provenance.__all__, (path.name, alias.name)


def test_exit_codes_worst_wins() -> None:
    assert exit_code_for([Verdict.TRUSTED, Verdict.TRUSTED]) == 0
    assert exit_code_for([Verdict.TRUSTED, Verdict.UNTRUSTED]) == 1
    assert exit_code_for([Verdict.UNTRUSTED, Verdict.UNSIGNED]) == 3
    assert exit_code_for([Verdict.UNSIGNED, Verdict.ERROR]) == 5
    assert exit_code_for([Verdict.ERROR, Verdict.TAMPERED]) == 4
    assert exit_code_for([Verdict.INVALID]) == 4
    assert exit_code_for([]) == 5
    codes = set(provenance.EXIT_CODES.values())
    assert 2 not in codes  # click's usage error


def test_ai_strength_order() -> None:
    order = [
        AIGeneration.UNKNOWN,
        AIGeneration.NO,
        AIGeneration.POSSIBLY,
        AIGeneration.PARTLY,
        AIGeneration.FULLY,
    ]
    assert [a.strength for a in order] == sorted(a.strength for a in order)


def test_reports_are_frozen() -> None:
    report = provenance.Report(path="x", verdict=Verdict.ERROR, reason="r")
    with pytest.raises(AttributeError):
        report.verdict = Verdict.TRUSTED  # type: ignore[misc]
