"""Pre-publish policies and the three-layer gate: input scan, prompt evaluation, output check.

A policy is a tree of small rule objects combined with ``AllOf`` / ``AnyOf``. Each rule
looks at a ``GateContext`` (the verified sources, the prompt, the verified output) and
returns ``RuleOutcome``s with a reason a person can read. ``gate`` runs the three layers
and returns a ``Decision``; ``Decision.raise_if_refused()`` raises ``PolicyRefused`` for
callers that prefer exceptions.

Where things live:

- ``core``      outcomes, decision, the context, the rule bases (one place decides when a
                layer's rule applies), ``AllOf`` / ``AnyOf`` (never empty)
- ``inputs``    layer 1 rules: the sources
- ``prompt``    layer 2 rules: block list, patterns (time-limited), length, evaluators
- ``textfold``  the fold that prompt and block list go through before matching
  (``_confusables``: the Latin look-alike table from Unicode TS #39)
- ``output``    layer 3 rules: credentials, trust, signers, AI label, ingredients, time
- ``config``    ``Policy`` and ``SECTIONS``, the one table from TOML keys to rule factories
- ``files``     bounded reads of a policy or prompt file (regular files, UTF-8)
- ``gating``    ``gate``: verify, build the context, evaluate

The same rules load from TOML (``Policy.from_toml``)::

    [input]
    refuse_tampered = true          # a source with broken or altered credentials is refused
    require_credentials = false

    [prompt]
    blocked_terms = ["forbidden-term"]
    blocked_patterns = ["real\\\\s+person"]
    max_length = 4000
    evaluators = ["my-classifier"]  # entry points in group "provcheck.prompt_evaluators"

    [output]
    require_credentials = true
    require_trusted = true
    require_ai_label = true              # the output must carry an AI label
    require_ai_label_if_ai_made = false  # ... only when the content is AI-made
    require_source_ingredients = true
    require_trusted_timestamp = false
    max_signature_age = "30d"
    allowed_signer_fingerprints = ["<sha256 hex of the signing certificate>"]
    allowed_signer_subjects = ["CN=Example Video Model Signer"]
    allowed_signer_issuers = ["Example Issuing CA"]
    allowed_ai_actions = ["c2pa.placed"]  # AI avatars placed: yes; whole-clip generation: no
    max_ai_share = 0.5                    # at most half of the timeline AI-made
    require_declared_ai_parts = true      # AI content must say which parts are AI
    ai_made = false                  # declare the content AI-made regardless of sources

    [[output.any_of]]                # one of these alternatives must hold
    require_trusted = true
    [[output.any_of]]
    allowed_signer_fingerprints = ["<sha256 hex>"]
"""

from __future__ import annotations

from .config import EVALUATOR_GROUP, Policy, parse_age
from .core import (
    INPUT,
    OUTPUT,
    PROMPT,
    AllOf,
    AnyOf,
    Decision,
    GateContext,
    OutputRule,
    PolicyError,
    PolicyRefused,
    PromptRule,
    Rule,
    RuleBase,
    RuleOutcome,
    SourceRule,
)
from .files import read_prompt_file
from .gating import gate
from .inputs import RefuseTamperedSources, RequireSourceCredentials
from .output import (
    AI_LABELS,
    AllowedAIActions,
    AllowedSigners,
    MaxAIShare,
    MaxSignatureAge,
    RefuseTamperedOrInvalid,
    RequireAILabel,
    RequireAILabelIfAIMade,
    RequireCredentials,
    RequireDeclaredAIParts,
    RequireSourceIngredients,
    RequireTrusted,
    RequireTrustedTimestamp,
)
from .prompt import (
    BlockedPatterns,
    BlockedTerms,
    PromptEvaluator,
    PromptEvaluatorRule,
    PromptLength,
)
from .textfold import fold as fold_prompt

__all__ = [
    "RuleOutcome",
    "Decision",
    "GateContext",
    "Rule",
    "RuleBase",
    "SourceRule",
    "PromptRule",
    "OutputRule",
    "AllOf",
    "AnyOf",
    "Policy",
    "PolicyError",
    "PolicyRefused",
    "PromptEvaluator",
    "EVALUATOR_GROUP",
    "INPUT",
    "PROMPT",
    "OUTPUT",
    "AI_LABELS",
    "gate",
    "parse_age",
    "read_prompt_file",
    "fold_prompt",
    # rules
    "RefuseTamperedSources",
    "RequireSourceCredentials",
    "BlockedTerms",
    "BlockedPatterns",
    "PromptLength",
    "PromptEvaluatorRule",
    "RequireCredentials",
    "RequireTrusted",
    "RefuseTamperedOrInvalid",
    "AllowedSigners",
    "RequireAILabel",
    "RequireAILabelIfAIMade",
    "RequireSourceIngredients",
    "RequireTrustedTimestamp",
    "MaxSignatureAge",
    "AllowedAIActions",
    "MaxAIShare",
    "RequireDeclaredAIParts",
]
