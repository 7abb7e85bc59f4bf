"""provcheck's library: sign, embed and verify C2PA Content Credentials and AI labels.

>>> from provenance import verify, TrustConfig
>>> report = verify("clip.mp4", trust=TrustConfig.load())   # doctest: +SKIP
>>> report.verdict, report.ai_generated                     # doctest: +SKIP

Names are imported on first use (PEP 562), so `import provenance` costs almost nothing
and a command only pays for the parts it needs (the C2PA native library, cryptography).
"""

import importlib as _importlib
import sys as _sys
import types as _types
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from .audit import AuditSummary, Candidate, Skipped, discover, run_audit, summarize
    from .errors import InputError, NetworkError, ProvenanceError, SigningError, TrustConfigError
    from .fingerprint import FingerprintError
    from .inspection import container_facts
    from .inspection import inspect as inspect_report
    from .keys import TestCA, create_test_ca
    from .labels import classify_source_type, normalize_source_type, source_type_uri
    from .media import MediaType, sniff, sniff_path
    from .model import (
        EXIT_CODES,
        SIGNING_ALGORITHMS,
        Action,
        AIGeneration,
        ContainerFacts,
        Ingredient,
        Manifest,
        Problem,
        Recovered,
        Report,
        Signer,
        Timestamp,
        Verdict,
        exit_code_for,
    )
    from .policy import (
        AllOf,
        AnyOf,
        Decision,
        Policy,
        PolicyError,
        PolicyRefused,
        RuleOutcome,
        gate,
    )
    from .repository import RepositoryError, SQLiteRepository
    from .sign import CallbackSigner, IngredientSpec, PemSigner, SignResult, sign
    from .softbinding import lookup_file, register_signed_file
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
    from .trust import remove as remove_trust_source
    from .trust import update as update_trust_lists
    from .verify import Verifier, describe_code, verify, verify_bytes

__version__ = "0.1.0"

# public name -> (module, attribute)
_LAZY: dict[str, tuple[str, str]] = {
    "SQLiteRepository": ("repository", "SQLiteRepository"),
    "RepositoryError": ("repository", "RepositoryError"),
    "FingerprintError": ("fingerprint", "FingerprintError"),
    "register_signed_file": ("softbinding", "register_signed_file"),
    "lookup_file": ("softbinding", "lookup_file"),
    "Recovered": ("model", "Recovered"),
    "AIGeneration": ("model", "AIGeneration"),
    "Action": ("model", "Action"),
    "AllOf": ("policy", "AllOf"),
    "AnyOf": ("policy", "AnyOf"),
    "AuditSummary": ("audit", "AuditSummary"),
    "CAI_INTERIM_TRUST_LIST_URL": ("trust", "CAI_INTERIM_TRUST_LIST_URL"),
    "CallbackSigner": ("sign", "CallbackSigner"),
    "Candidate": ("audit", "Candidate"),
    "ContainerFacts": ("model", "ContainerFacts"),
    "Decision": ("policy", "Decision"),
    "EXIT_CODES": ("model", "EXIT_CODES"),
    "Ingredient": ("model", "Ingredient"),
    "IngredientSpec": ("sign", "IngredientSpec"),
    "InputError": ("errors", "InputError"),
    "Manifest": ("model", "Manifest"),
    "MediaType": ("media", "MediaType"),
    "NetworkError": ("errors", "NetworkError"),
    "OFFICIAL_TRUST_LIST_URL": ("trust", "OFFICIAL_TRUST_LIST_URL"),
    "OFFICIAL_TSA_TRUST_LIST_URL": ("trust", "OFFICIAL_TSA_TRUST_LIST_URL"),
    "PemSigner": ("sign", "PemSigner"),
    "Policy": ("policy", "Policy"),
    "PolicyError": ("policy", "PolicyError"),
    "PolicyRefused": ("policy", "PolicyRefused"),
    "Problem": ("model", "Problem"),
    "ProvenanceError": ("errors", "ProvenanceError"),
    "Report": ("model", "Report"),
    "RuleOutcome": ("policy", "RuleOutcome"),
    "SIGNING_ALGORITHMS": ("model", "SIGNING_ALGORITHMS"),
    "SignResult": ("sign", "SignResult"),
    "Signer": ("model", "Signer"),
    "SigningError": ("errors", "SigningError"),
    "Skipped": ("audit", "Skipped"),
    "TRUST_KINDS": ("trust", "KINDS"),
    "TestCA": ("keys", "TestCA"),
    "Timestamp": ("model", "Timestamp"),
    "TrustConfig": ("trust", "TrustConfig"),
    "TrustConfigError": ("errors", "TrustConfigError"),
    "TrustSource": ("trust", "TrustSource"),
    "Verdict": ("model", "Verdict"),
    "Verifier": ("verify", "Verifier"),
    "classify_source_type": ("labels", "classify_source_type"),
    "container_facts": ("inspection", "container_facts"),
    "create_test_ca": ("keys", "create_test_ca"),
    "default_config_dir": ("trust", "default_config_dir"),
    "describe_code": ("verify", "describe_code"),
    "discover": ("audit", "discover"),
    "download_trust_list": ("trust", "download"),
    "exit_code_for": ("model", "exit_code_for"),
    "gate": ("policy", "gate"),
    "inspect_report": ("inspection", "inspect"),
    "install_trust_source": ("trust", "install"),
    "remove_trust_source": ("trust", "remove"),
    "normalize_source_type": ("labels", "normalize_source_type"),
    "run_audit": ("audit", "run_audit"),
    "sign": ("sign", "sign"),
    "sniff": ("media", "sniff"),
    "sniff_path": ("media", "sniff_path"),
    "source_type_uri": ("labels", "source_type_uri"),
    "summarize": ("audit", "summarize"),
    "update_trust_lists": ("trust", "update"),
    "verify": ("verify", "verify"),
    "verify_bytes": ("verify", "verify_bytes"),
    "write_file_atomically": ("trust", "atomic_write_bytes"),
}


def __getattr__(name: str) -> _Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'provenance' has no attribute {name!r}") from None
    value = getattr(_importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


# `verify` and `sign` are both functions of the API and submodules. Importing a submodule
# makes Python set it as an attribute of the package, which would hide the function of the
# same name; this keeps the functions (the submodules stay importable via sys.modules).
_FUNCTIONS_NAMED_LIKE_MODULES = frozenset({"verify", "sign"})


class _Package(_types.ModuleType):
    def __setattr__(self, name: str, value: _Any) -> None:
        if name in _FUNCTIONS_NAMED_LIKE_MODULES and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package


__all__ = [
    "FingerprintError",
    "RepositoryError",
    "lookup_file",
    "register_signed_file",
    "Recovered",
    "SQLiteRepository",
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
    "remove_trust_source",
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
