"""The three-layer gate: verify the sources, evaluate the prompt, verify the output."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .._hashing import sha256_file
from ..errors import InputError
from ..trust import TrustConfig
from .config import Policy
from .core import PROMPT, AllOf, Decision, GateContext, Rule, RuleOutcome
from .prompt import PromptEvaluatorRule

__all__ = ["gate"]


def gate(
    output: str | os.PathLike[str] | None,
    *,
    policy: Policy,
    trust: TrustConfig | None = None,
    sources: Sequence[str | os.PathLike[str]] = (),
    prompt: str | None = None,
    ai_made: bool = False,
    evaluators: Iterable[Callable[[str], Any]] = (),
    now: dt.datetime | None = None,
) -> Decision:
    """Run the three layers: (1) verify and check each source, (2) evaluate the prompt with
    the policy's rules and any extra ``evaluators``, (3) verify and check the output."""
    from ..verification import Verifier

    trust = trust if trust is not None else TrustConfig()
    with Verifier(trust) as verifier:
        source_reports = tuple(verifier.verify(s) for s in sources)
        output_report = verifier.verify(output) if output is not None else None
    fingerprint_check = None
    if output is not None and output_report is not None and output_report.manifest is not None:
        fingerprint_check = _fingerprint_check(os.fspath(output))
    ctx = GateContext(
        output=output_report,
        sources=source_reports,
        source_hashes=tuple(_sha256_or_empty(s) for s in sources),
        prompt=prompt,
        ai_made=ai_made or policy.ai_made,
        now=now or dt.datetime.now(dt.UTC),
        signer_fingerprint_in=fingerprint_check,
    )
    extra = [
        PromptEvaluatorRule(fn, name=getattr(fn, "__name__", "evaluator")) for fn in evaluators
    ]
    rules: list[Rule] = [*policy.input, *policy.prompt, *extra, *policy.output]
    outcomes = AllOf(*rules).evaluate(ctx)
    if prompt is None and (policy.prompt or extra):
        why = "no prompt given: the prompt rules were not evaluated"
        outcomes.append(RuleOutcome("prompt", PROMPT, True, why))
    passed = all(o.passed for o in outcomes)
    return Decision(passed, tuple(outcomes), output_report, source_reports)


def _sha256_or_empty(path: str | os.PathLike[str]) -> str:
    # An unreadable source is already refused by the input scan; it links to nothing.
    try:
        return sha256_file(path)
    except InputError:
        return ""


def _fingerprint_check(output: str) -> Callable[[Sequence[str]], bool]:
    """Ask the C2PA library itself whether the output's signing certificate has one of these
    SHA-256 fingerprints (its allowed list takes base64 SHA-256 lines); once per list."""
    from .. import _c2pa

    @functools.cache
    def check(fingerprints: tuple[str, ...]) -> bool:
        lines = "\n".join(base64.b64encode(bytes.fromhex(f)).decode("ascii") for f in fingerprints)
        return _c2pa.check_allowed_hashes(output, lines + "\n")

    return lambda fps: check(tuple(fps))
