"""Folding a prompt (and a block list) to one form before matching.

``fold`` undoes the cheap disguises: compatibility forms (full-width, mathematical
alphanumerics, ligatures, superscripts: NFKC), accents and other combining marks, format
and invisible characters (zero-width space / joiner, soft hyphen, word joiner, bidi
controls, variation selectors, Hangul fillers: Unicode's Default_Ignorable_Code_Point),
letters from other scripts that look like Latin ones (Cyrillic, Greek, Cherokee, ...:
``_confusables``, from Unicode TS #39), dotless i, and case (full case folding).

Block-list terms are then matched on *tokens* (runs of letters and digits; each Han, kana,
Thai, Lao, Khmer or Myanmar character is a token of its own, as those scripts write no
spaces): a term matches a run of whole consecutive tokens whose letters, separators
dropped, spell the term. So ``taylor_swift``, ``taylorswift``, ``taylor\\nswift``,
``t.a.y.l.o.r swift`` all match ``taylor swift``, while ``menu delivered`` does not match
``nude``. Simple English inflections of a term's last word match too (``nudes``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import regex  # type: ignore[import-untyped]

from ._confusables import LATIN_LOOKALIKES

__all__ = ["fold", "fold_for_patterns", "TermMatcher"]

# Combining marks (accents, the dot of İ) and everything a renderer shows as nothing.
_INVISIBLE = regex.compile(r"[\p{Mn}\p{Me}\p{Cf}\p{Default_Ignorable_Code_Point}]+")
_SPACES = regex.compile(r"[\s\p{Z}]+")
_NO_SPACE_SCRIPTS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_TOKEN = regex.compile(rf"[{_NO_SPACE_SCRIPTS}]|(?:(?![{_NO_SPACE_SCRIPTS}])[\p{{L}}\p{{N}}])+")


def fold(text: str) -> str:
    """NFKC, marks and invisible characters removed, Latin look-alikes mapped to Latin,
    case folded."""
    t = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text))
    t = _INVISIBLE.sub("", t)
    t = t.translate(LATIN_LOOKALIKES).casefold()
    return unicodedata.normalize("NFC", t)


def fold_for_patterns(text: str) -> str:
    """``fold`` with every run of white space (any Unicode space, newlines) made one space:
    the form ``blocked_patterns`` see besides the prompt as written."""
    folded: str = _SPACES.sub(" ", fold(text))
    return folded.strip()


def _tokens(folded: str) -> list[str]:
    return [m.group() for m in _TOKEN.finditer(folded)]


def _inflections(word: str) -> set[str]:
    """Simple English plural and verb forms of a term's last word."""
    out = {word}
    if not word or not ("a" <= word[-1] <= "z"):
        return out
    out |= {word + "s", word + "es", word + "ed", word + "ing"}
    if word.endswith("e"):
        out |= {word + "d", word[:-1] + "ing"}
    if len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou":
        out |= {word[:-1] + "ies", word[:-1] + "ied"}
    return out


class TermMatcher:
    """Which of a list of terms occur in a text, after folding both."""

    def __init__(self, terms: Iterable[str]) -> None:
        self._variants: list[tuple[str, frozenset[str]]] = []
        for term in terms:
            toks = _tokens(fold(term))
            if not toks:
                raise ValueError(f"blocked term {term!r} has no letters or digits to match")
            self._variants.append((term, frozenset(_inflections("".join(toks)))))

    def find(self, text: str) -> list[str]:
        toks = _tokens(fold(text))
        squashed = "".join(toks)
        bounds = {0}
        pos = 0
        for t in toks:
            pos += len(t)
            bounds.add(pos)
        return [
            term
            for term, variants in self._variants
            if any(_aligned(squashed, v, bounds) for v in variants)
        ]


def _aligned(squashed: str, word: str, bounds: set[int]) -> bool:
    """Whether ``word`` occurs in ``squashed`` starting and ending on token boundaries."""
    i = squashed.find(word)
    while i >= 0:
        if i in bounds and i + len(word) in bounds:
            return True
        i = squashed.find(word, i + 1)
    return False
