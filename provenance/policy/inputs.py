"""Layer 1, the input scan: each source the output was made from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..model import Report, Verdict
from .core import RuleOutcome, SourceRule

__all__ = ["RefuseTamperedSources", "RequireSourceCredentials"]

_BROKEN = (Verdict.TAMPERED, Verdict.INVALID, Verdict.ERROR)


@dataclass(frozen=True)
class RefuseTamperedSources(SourceRule):
    """A source with broken or altered credentials (or that cannot be read) is refused."""

    NAME: ClassVar[str] = "refuse-tampered-sources"

    def check_source(self, src: Report) -> RuleOutcome:
        bad = src.verdict in _BROKEN
        reason = f"source {src.path} is {src.verdict.value}"
        return self.outcome(not bad, f"{reason}: {src.reason}" if bad else reason, src.path)


@dataclass(frozen=True)
class RequireSourceCredentials(SourceRule):
    """Every source carries Content Credentials."""

    NAME: ClassVar[str] = "require-source-credentials"

    def check_source(self, src: Report) -> RuleOutcome:
        ok = src.manifest is not None
        how = "carries credentials" if ok else "carries no credentials"
        return self.outcome(ok, f"source {src.path} {how}", src.path)
