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
        "verification",
        "keys",
        "signing",
        "xmp",
        "policy",
        "audit",
        "inspection",
        "thumbnails",
        "fingerprint",
        "repository",
        "softbinding",
        "textsafe",
        "resolution",
        "distributed",  # provcheck audit --scheduler
        "resume",  # provcheck audit --resume
        "parts",
        "creators",  # whose work is inside (issue 15)
        "visible_label",  # provcheck sign --visible-label
    }
    assert public - set(provenance.__all__) - modules == set()


@pytest.mark.parametrize(
    "module", ["errors", "labels", "media", "model", "trust", "verification", "keys", "signing"]
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


def _type_checking_names() -> dict[str, tuple[str, str]]:
    """public name -> (module, attribute) as the TYPE_CHECKING block of __init__ says."""
    tree = ast.parse((ROOT / "provenance" / "__init__.py").read_text())
    block = next(
        n
        for n in tree.body
        if isinstance(n, ast.If) and isinstance(n.test, ast.Name) and "TYPE_CHECKING" in n.test.id
    )
    names: dict[str, tuple[str, str]] = {}
    aliases: dict[str, str] = {}
    for node in block.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for alias in node.names:
                assert alias.asname == alias.name, f"{alias.name}: use 'x as x' or an assignment"
                names[alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            for alias in node.names:
                aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Assign):
            (target,) = node.targets
            value = node.value
            assert isinstance(target, ast.Name) and isinstance(value, ast.Attribute)
            assert isinstance(value.value, ast.Name)
            names[target.id] = (aliases[value.value.id], value.attr)
    return names


def test_all_lazy_table_and_type_checking_imports_agree() -> None:
    lazy = provenance._LAZY
    assert set(provenance.__all__) == set(lazy) | {"__version__"}
    assert len(provenance.__all__) == len(set(provenance.__all__))
    assert _type_checking_names() == lazy


def test_lazy_names_resolve_to_what_they_name() -> None:
    for name, (module, attr) in provenance._LAZY.items():
        mod = importlib.import_module(f"provenance.{module}")
        assert getattr(provenance, name) is getattr(mod, attr), name


def test_version_does_not_import_c2pa() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from provcheck.__main__ import main; sys.argv = ['provcheck', '--version']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('c2pa', 'cryptography', 'av')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


# --- the media-type table ---


def test_every_sniffed_type_has_a_table_row() -> None:
    from provenance import media

    samples = [
        b"\xff\xd8\xff\xe0",
        b"\x89PNG\r\n\x1a\n",
        b"GIF89a",
        b"RIFF\0\0\0\0WEBP",
        b"RIFF\0\0\0\0WAVE",
        b"RIFF\0\0\0\0AVI ",
        b"\0\0\0\x18ftypisom",
        b"\0\0\0\x18ftypqt  ",
        b"\0\0\0\x18ftypheic",
        b"\0\0\0\x18ftypmif1",
        b"\0\0\0\x18ftypavif",
        b"\0\0\0\x18ftypM4A ",
        b"II*\0",
        b"%PDF-1.7",
        b"fLaC",
        b"ID3\x04",
        b"FORM\0\0\0\0AIFF",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"\x1a\x45\xdf\xa3webm",
        b"\x1a\x45\xdf\xa3matroska",
        b"\0\0\0\x08moof",
    ]
    for header in samples:
        kind = media.sniff(header)
        assert kind is not None and kind.format is not None, header


def test_table_families_and_capabilities() -> None:
    from provenance.media import FORMATS, TIMED_BMFF_MIMES, Family, XmpCarrier, mimes

    bmff = mimes(family=Family.BMFF)
    assert bmff == {
        "video/mp4",
        "video/quicktime",
        "audio/mp4",
        "image/heic",
        "image/heif",
        "image/avif",
    }
    assert {"video/mp4", "video/quicktime", "audio/mp4"} == TIMED_BMFF_MIMES
    assert all(FORMATS[m].xmp is XmpCarrier.BMFF_UUID for m in bmff)
    assert mimes(xmp_writable=True) == bmff | {"image/jpeg", "image/png"}
    assert mimes(video=True) == {
        "video/mp4",
        "video/quicktime",
        "video/avi",
        "video/webm",
        "video/x-matroska",
    }
    assert not FORMATS["video/webm"].c2pa and FORMATS["image/webp"].c2pa


def test_table_agrees_with_the_c2pa_library() -> None:
    """What the table calls C2PA-signable is what the native builder accepts."""
    import c2pa

    from provenance.media import mimes

    supported = set(c2pa.Builder.get_supported_mime_types())
    assert mimes(c2pa=True) <= supported
    assert not ({"video/webm", "video/x-matroska", "audio/aiff"} & supported)


def test_no_bmff_list_outside_the_table() -> None:
    """The set of BMFF media types is written once (media.FORMATS). inspection.py keeps a
    table of MIME synonyms MediaInfo uses (application/mp4, audio/x-wav ...): not a list of
    capabilities."""
    for path in (ROOT / "provenance").glob("*.py"):
        if path.name in ("media.py", "inspection.py"):
            continue
        text = path.read_text()
        assert not ('"video/quicktime"' in text and '"audio/mp4"' in text), path.name


def test_the_package_map_lists_every_module() -> None:
    doc = provenance.__doc__ or ""
    mapped = {
        line.split()[0]
        for line in doc.split("The map", 1)[1].splitlines()
        if line.startswith("    ") and not line.startswith("     ")
    }
    modules = {
        p.stem if p.is_file() else p.name
        for p in (ROOT / "provenance").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    }
    assert modules == mapped


def test_every_package_is_in_the_wheel() -> None:
    """A non-editable install (pre-commit's, a user's) gets only the packages pyproject
    lists: every folder with an __init__.py must be there."""
    import tomllib

    from .conftest import ROOT

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = set()
    for top, base in (
        ("provenance", ROOT / "provenance"),
        ("provcheck", ROOT / "cli" / "provcheck"),
    ):
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base).parts
            found.add(".".join((top, *rel)))
    assert found == listed


def test_no_module_shares_a_name_with_a_function() -> None:
    """`import provenance.X as m` gives the module, never a function of the same name."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(provenance.__path__):
        if info.name.startswith("_"):
            continue
        importlib.import_module(f"provenance.{info.name}")
        assert info.name not in provenance.__all__, info.name
    import provenance.signing as signing
    import provenance.verification as verification

    assert signing.__name__ == "provenance.signing" and callable(signing.sign)
    assert verification.__name__ == "provenance.verification" and callable(verification.verify)
