"""Strings from files made safe to show: on a terminal, in a table, in a spreadsheet.

Everything read from a file or a file name (titles, signer names, paths, reasons
that quote them) is data. On a terminal, control characters can move the cursor,
clear the screen, rewrite a line after ``\\r``, open an OSC 8 hyperlink or reorder
text (bidi overrides); zero-width characters hide text. ``for_terminal`` replaces
each such character by a visible escape (``\\x1b``, ``\\r``, ``\\u202e``), so a
hostile name is shown, never obeyed, whatever the output is (a TTY or a pipe).

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula (CSV injection). ``for_csv`` prefixes such a cell
with a single quote, as OWASP's CSV-injection guidance recommends; the csv module
then quotes separators and double quotes.
"""

from __future__ import annotations

import unicodedata

__all__ = ["for_terminal", "for_csv", "CSV_FORMULA_PREFIXES"]

# OWASP "CSV Injection": cells starting with these are taken as formulas.
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Characters that are not controls by category but still reorder or hide text.
_INVISIBLE = frozenset(
    "\u034f"  # combining grapheme joiner
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers (render as blank)
    "\u180e"  # Mongolian vowel separator
    "\u2800"  # braille blank
)

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}


def _escape(ch: str) -> str:
    named = _NAMED.get(ch)
    if named is not None:
        return named
    cp = ord(ch)
    if 0xDC80 <= cp <= 0xDCFF:  # a byte of a non-UTF-8 file name (surrogateescape)
        return f"\\x{cp - 0xDC00:02x}"
    if cp <= 0xFF:
        return f"\\x{cp:02x}"
    if cp <= 0xFFFF:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def _unsafe(ch: str) -> bool:
    if ch.isprintable() and ch not in _INVISIBLE:
        # isprintable() is False for Cc, Cf, Cs, Co, Cn, Zl, Zp and separators other
        # than the plain space: C0/C1 controls, ESC, DEL, bidi overrides and isolates,
        # zero-width characters, soft hyphen, line/paragraph separators, surrogates.
        return False
    category = unicodedata.category(ch)
    if category == "Zs":  # a space of another width (no-break, ideographic): harmless
        return False
    # Private-use and unassigned code points render as a box at worst: keep them.
    return category not in ("Co", "Cn") or ch in _INVISIBLE


def for_terminal(value: object) -> str:
    """``value`` as one line of plain text that a terminal shows and never obeys."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and not any(ch in _INVISIBLE for ch in text):
        return text  # the common case, fast
    return "".join(_escape(ch) if _unsafe(ch) else ch for ch in text)


def for_csv(value: object) -> str:
    """``value`` as a CSV cell no spreadsheet runs as a formula (OWASP), escaped like
    ``for_terminal``: a bare CR inside a cell ends the row in a spreadsheet (the rest then
    starts a cell of its own: ``x\r=cmd...``), and a pipe strips ANSI sequences on the way
    (``\x1b[0m=...`` becomes ``=...``), so no control character stays raw."""
    text = value if isinstance(value, str) else str(value)
    formula = text.startswith(CSV_FORMULA_PREFIXES)
    text = for_terminal(text)
    if formula or text.startswith(CSV_FORMULA_PREFIXES):
        return "'" + text
    return text
