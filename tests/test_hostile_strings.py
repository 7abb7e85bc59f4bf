"""Strings a stranger writes are data in every output (issue 13), checked on real files.

Real MP4s are signed through the C2PA library with terminal controls (ESC, CR, CSI, OSC 8,
C1 controls), bidi overrides, invisible characters, line separators, rich markup, HTML and
spreadsheet formulas in every string field a stranger controls: the title, the claim
generator, an action's softwareAgent, an ingredient's title, an assertion's data, the
signer's and its issuer's names (a certificate chain made here), and the file name. The
real CLI then renders them as text, an audit table, CSV, JSON, JSON Lines and HTML
(``mutations.render_violations`` says what each must never do). ``bench/fuzz.py`` runs
the same check over hundreds of random combinations.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest

from provenance.textsafe import for_csv

from .conftest import media
from .mutations import (
    CSV_FORMULA_STARTS,
    PAYLOADS,
    STRING_FIELDS,
    hostile_file_name,
    hostile_text,
    render_violations,
    sign_hostile,
)


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[Path, dict[str, str]], Path]:
    """Four signed files: every payload at once in every field (trusted), and three random
    mixes under hostile names (signed by other hostile chains: untrusted)."""
    top = tmp_path_factory.mktemp("hostile")
    folder = top / "in"
    folder.mkdir()
    rng = random.Random(13)
    everything = "".join(PAYLOADS)
    cases = [dict.fromkeys(STRING_FIELDS, everything)]
    cases += [{k: hostile_text(rng) for k in STRING_FIELDS} for _ in range(3)]
    out: dict[Path, dict[str, str]] = {}
    anchor = None
    for i, strings in enumerate(cases):
        keys = top / f"keys{i}"
        keys.mkdir()
        path, root = sign_hostile(
            media("unsigned.mp4"), folder / hostile_file_name(rng), strings, keys
        )
        anchor = anchor or root
        out[path] = strings
    assert anchor is not None
    return out, anchor


def test_every_renderer_keeps_every_field_data(
    signed: tuple[dict[Path, dict[str, str]], Path],
) -> None:
    files, anchor = signed
    folder = next(iter(files)).parent
    assert render_violations(files, folder, anchor) == []


# ---------------------------------------------------------------------------
# what the harness found, each pinned on its own


@pytest.mark.parametrize(
    "value",
    [
        "x\r=cmd|' /C calc'!A0",  # a bare CR ends the row in a spreadsheet: "=cmd" starts one
        '\x1b[0m=HYPERLINK("https://evil.example")',  # a pipe strips the ESC sequence
        "\x1b]8;;x\x07@SUM(1)",
        "a\x0b+1",
    ],
)
def test_a_csv_cell_cannot_start_a_formula_after_a_control(value: str) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([for_csv(value), "next"])
    import click

    # what a spreadsheet sees, also after click removed ANSI sequences on the way to a pipe
    for text in (buf.getvalue(), click.unstyle(buf.getvalue())):
        for row in csv.reader(io.StringIO(text.replace("\r", "\n"), newline="")):
            for cell in row:
                assert not cell.startswith(CSV_FORMULA_STARTS), (value, cell)
        assert "\x1b" not in text and "\r" not in text


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_output_holds_no_raw_control_or_bidi_character(fmt: str) -> None:
    from provcheck import audit_render
    from provenance import Report, Verdict, summarize

    hostile = "a\x9b31m\x9d8;;x\x9c\u202e\u2028\u2029\x85\x7f\u200b\udcff b"
    report = Report(path=hostile, verdict=Verdict.ERROR, reason=hostile)
    text = audit_render.render(fmt, [report], summarize([report], [], 0.0), 4)
    assert text.splitlines() == text.rstrip("\n").split("\n")  # no line break but \n
    raw = [c for c in text if not (c.isprintable() or c == "\n")]
    assert raw == []
    doc = json.loads(text.splitlines()[0] if fmt == "jsonl" else text)
    got = doc if fmt == "jsonl" else doc["results"][0]
    assert got["path"] == hostile and got["reason"] == hostile  # exact, once parsed
