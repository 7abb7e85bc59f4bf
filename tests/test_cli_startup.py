"""The command line's start-up settings (issue 19): the console entry makes the cyclic GC
collect less often; the library never touches the GC of the process that imports it."""

from __future__ import annotations

import subprocess
import sys

from provcheck.__main__ import GC_THRESHOLD

from .conftest import TEST_ROOT, media


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    return out.strip().splitlines()[-1]


def test_console_entry_raises_the_gc_threshold() -> None:
    code = (
        "import gc, sys\nfrom provcheck.__main__ import main\n"
        "sys.argv = ['provcheck', '--version']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(gc.get_threshold()[0])"
    )
    assert int(_run(code)) == GC_THRESHOLD


def test_the_library_leaves_the_gc_alone() -> None:
    code = (
        "import gc; before = gc.get_threshold()\n"
        "import provenance\n"
        f"t = provenance.TrustConfig.from_files(anchors=[{str(TEST_ROOT)!r}])\n"
        f"r = provenance.verify({str(media('captured.mp4'))!r}, trust=t)\n"
        "print(r.verdict.value, gc.get_threshold() == before, gc.isenabled())"
    )
    assert _run(code) == "trusted True True"
