"""provcheck's library: sign, embed and verify C2PA Content Credentials and AI labels.

>>> from provenance import verify, TrustConfig
>>> report = verify("clip.mp4", trust=TrustConfig.load())   # doctest: +SKIP
>>> report.verdict, report.ai_generated                     # doctest: +SKIP
"""

from ._c2pa import SIGNING_ALGS as SIGNING_ALGORITHMS
from .audit import AuditSummary, Candidate, Skipped, discover, run_audit, summarize
from .errors import InputError, NetworkError, ProvenanceError, SigningError, TrustConfigError
from .inspection import inspect as inspect_report
from .keys import TestCA, create_test_ca
from .labels import classify_source_type, normalize_source_type, source_type_uri
from .media import MediaType, container_facts, sniff, sniff_path
from .model import (
    EXIT_CODES,
    Action,
    AIGeneration,
    ContainerFacts,
    Ingredient,
    Manifest,
    Problem,
    Report,
    Signer,
    Timestamp,
    Verdict,
    exit_code_for,
)
from .policy import AllOf, AnyOf, Decision, Policy, PolicyError, PolicyRefused, RuleOutcome, gate
from .sign import CallbackSigner, IngredientSpec, PemSigner, SignResult, sign
from .trust import (
    CAI_INTERIM_TRUST_LIST_URL,
    OFFICIAL_TRUST_LIST_URL,
    OFFICIAL_TSA_TRUST_LIST_URL,
    TrustConfig,
    TrustSource,
    default_config_dir,
)
from .trust import KINDS as TRUST_KINDS
from .trust import atomic_write_bytes as write_file_atomically
from .trust import download as download_trust_list
from .trust import install as install_trust_source
from .trust import update as update_trust_lists
from .verify import Verifier, describe_code, verify, verify_bytes

__version__ = "0.1.0"

__all__ = [
    "AllOf",
    "AnyOf",
    "Decision",
    "Policy",
    "PolicyError",
    "PolicyRefused",
    "RuleOutcome",
    "gate",
    "CAI_INTERIM_TRUST_LIST_URL",
    "EXIT_CODES",
    "OFFICIAL_TRUST_LIST_URL",
    "OFFICIAL_TSA_TRUST_LIST_URL",
    "TRUST_KINDS",
    "AIGeneration",
    "Action",
    "AuditSummary",
    "CallbackSigner",
    "Candidate",
    "ContainerFacts",
    "Ingredient",
    "InputError",
    "IngredientSpec",
    "Manifest",
    "MediaType",
    "NetworkError",
    "PemSigner",
    "Problem",
    "ProvenanceError",
    "Report",
    "SIGNING_ALGORITHMS",
    "Skipped",
    "SignResult",
    "Signer",
    "SigningError",
    "TestCA",
    "Timestamp",
    "TrustConfig",
    "TrustConfigError",
    "TrustSource",
    "Verdict",
    "Verifier",
    "__version__",
    "classify_source_type",
    "container_facts",
    "create_test_ca",
    "default_config_dir",
    "describe_code",
    "discover",
    "download_trust_list",
    "exit_code_for",
    "inspect_report",
    "install_trust_source",
    "normalize_source_type",
    "sniff",
    "sniff_path",
    "run_audit",
    "sign",
    "source_type_uri",
    "summarize",
    "update_trust_lists",
    "verify",
    "verify_bytes",
    "write_file_atomically",
]
