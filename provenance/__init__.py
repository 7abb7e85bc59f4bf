"""provcheck's library: sign, embed and verify C2PA Content Credentials and AI labels.

>>> from provenance import verify, TrustConfig
>>> report = verify("clip.mp4", trust=TrustConfig.load())   # doctest: +SKIP
>>> report.verdict, report.ai_generated                     # doctest: +SKIP

Names are imported on first use (PEP 562), so `import provenance` costs almost nothing
and a command only pays for the parts it needs (the C2PA native library, cryptography).

The map (one line per module; tests/test_api.py checks every module is listed). Data
flows one way: path -> media -> _c2pa -> _decode -> _judge -> inspection -> softbinding
(recovery) -> Report, all driven by verification.Verifier (audit runs the same pipeline).

    errors       the one error root, ProvenanceError, and its few children
    model        frozen result types: Report, Verdict, AIGeneration, Signer ...
    _frozen      one __eq__/__hash__/__repr__ for the frozen dataclasses (cheaper imports)
    media        what a file is: the media-type table (family, capabilities), sniffing,
                 bounded BMFF box walks and the structural pre-check
    _files       reading caller-named files: regular files only, bounded
    _hashing     SHA-256 of regular files (sources, ingredients)
    _c2pa        the only module that imports c2pa: read, validate and sign natively
    _decode      the C2PA library's JSON read as data: manifests, claims, AI signals
    _status      C2PA status codes: which tamper, which untrust, and their words
    _certprofile the C2PA claim-signer certificate profile, enforced on every manifest
    _judge       one verdict from what was decoded (never believes a broken manifest)
    verification the evidence pipeline (Verifier, verify): one asset -> one Report with one Verdict
    labels       AI-generation signals (IPTC digitalSourceType, the C2PA rubrics)
    inspection   container facts, the XMP label and strip traces beside the credentials
    xmp          the AI label as IPTC XMP: written before signing, read for evidence
    parts        which part is AI: declaring time ranges, regions and tracks, reading
                 them back from any manifest's action regions of interest
    creators     whose work is inside: ingredients' used time ranges, CAWG identities
    _regions     C2PA regions of interest (NPT times, pixel rectangles), written and read
    signing      build, sign and embed a manifest with its AI label, atomically
    _fastsign    MP4/MOV signing through the native embeddable-manifest calls, when present
    keys         PEM signers, the C2PA certificate profile, test-only CAs
    trust        trust anchors, allowed lists, TSA lists: load, install, download (HTTPS)
    policy       package: pre-publish rules (core, inputs, prompt, output), the TOML
                 table of keys, prompt folding, bounded policy files, the gate
    audit        many files: discovery, isolated parallel verification, summary
    distributed  audits on a Dask cluster: one task per file, each in an isolated child
    resume       the JSON Lines journal that makes an audit resumable
    fingerprint  a perceptual video fingerprint for soft binding
    repository   package: the ManifestStore protocol, SQLite and PostgreSQL stores, and
                 open_repository(path or URL)
    resolution   the C2PA Soft Binding Resolution API: server app and remote client
    softbinding  register signed clips, recover stripped copies (re-validated, checked
                 against their own signed fingerprint)
    textsafe     file-derived text made safe for terminals and spreadsheets
    thumbnails   small JPEG thumbnails for HTML reports
    visible_label a visible label burned into a video before signing, and read back
"""

import importlib as _importlib
import sys as _sys
import types as _types
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

# The public API, declared once: submodule -> the names it exports ("attr as name" renames).
# `__all__` and the lazy-import table below are derived from it. The TYPE_CHECKING imports
# mirror it for type checkers, which cannot run code (tests/test_api.py keeps them equal).
_API: dict[str, tuple[str, ...]] = {
    "audit": ("AuditSummary", "Candidate", "Skipped", "discover", "run_audit", "summarize"),
    "creators": ("describe_identity", "describe_work"),
    "errors": (
        "DestinationExistsError",
        "InputError",
        "InsecureDownloadWarning",
        "NetworkError",
        "ProvenanceError",
        "SigningError",
        "TrustConfigError",
    ),
    "fingerprint": ("FingerprintError",),
    "inspection": ("container_facts", "inspect as inspect_report"),
    "keys": ("TestCA", "create_test_ca"),
    "labels": ("classify_source_type", "normalize_source_type", "source_type_uri"),
    "media": ("Family", "MediaFormat", "MediaType", "sniff", "sniff_path"),
    "model": (
        "EXIT_CODES",
        "SIGNING_ALGORITHMS",
        "AIGeneration",
        "AIPart",
        "Action",
        "ContainedWork",
        "ContainerFacts",
        "Identity",
        "Ingredient",
        "Manifest",
        "Problem",
        "Recovered",
        "Report",
        "Signer",
        "Timestamp",
        "Verdict",
        "VisibleLabelClaim",
        "exit_code_for",
    ),
    "parts": ("describe_part", "load_parts", "parse_part"),
    "policy": (
        "AllOf",
        "AnyOf",
        "Decision",
        "Policy",
        "PolicyError",
        "PolicyRefused",
        "RuleOutcome",
        "gate",
    ),
    "repository": (
        "ManifestStore",
        "RepositoryError",
        "SQLiteRepository",
        "default_repository",
        "open_repository",
    ),
    "resolution": ("RemoteRepository",),
    "signing": ("CallbackSigner", "IngredientSpec", "PemSigner", "SignResult", "sign"),
    "softbinding": ("lookup_file", "register_signed_file"),
    "trust": (
        "CAI_INTERIM_TRUST_LIST_URL",
        "OFFICIAL_TRUST_LIST_URL",
        "OFFICIAL_TSA_TRUST_LIST_URL",
        "TrustConfig",
        "TrustSource",
        "default_config_dir",
        "KINDS as TRUST_KINDS",
        "atomic_write_bytes as write_file_atomically",
        "download as download_trust_list",
        "install as install_trust_source",
        "remove as remove_trust_source",
        "update as update_trust_lists",
    ),
    "verification": ("Verifier", "describe_code", "verify", "verify_bytes"),
    "visible_label": ("VisibleLabel",),
}

if _TYPE_CHECKING:
    # Renamed exports: type checkers re-export an assigned name, not an "import x as y".
    from . import inspection as _inspection
    from . import trust as _trust
    from .audit import AuditSummary as AuditSummary
    from .audit import Candidate as Candidate
    from .audit import Skipped as Skipped
    from .audit import discover as discover
    from .audit import run_audit as run_audit
    from .audit import summarize as summarize
    from .creators import describe_identity as describe_identity
    from .creators import describe_work as describe_work
    from .errors import DestinationExistsError as DestinationExistsError
    from .errors import InputError as InputError
    from .errors import InsecureDownloadWarning as InsecureDownloadWarning
    from .errors import NetworkError as NetworkError
    from .errors import ProvenanceError as ProvenanceError
    from .errors import SigningError as SigningError
    from .errors import TrustConfigError as TrustConfigError
    from .fingerprint import FingerprintError as FingerprintError
    from .inspection import container_facts as container_facts
    from .keys import TestCA as TestCA
    from .keys import create_test_ca as create_test_ca
    from .labels import classify_source_type as classify_source_type
    from .labels import normalize_source_type as normalize_source_type
    from .labels import source_type_uri as source_type_uri
    from .media import Family as Family
    from .media import MediaFormat as MediaFormat
    from .media import MediaType as MediaType
    from .media import sniff as sniff
    from .media import sniff_path as sniff_path
    from .model import EXIT_CODES as EXIT_CODES
    from .model import SIGNING_ALGORITHMS as SIGNING_ALGORITHMS
    from .model import Action as Action
    from .model import AIGeneration as AIGeneration
    from .model import AIPart as AIPart
    from .model import ContainedWork as ContainedWork
    from .model import ContainerFacts as ContainerFacts
    from .model import Identity as Identity
    from .model import Ingredient as Ingredient
    from .model import Manifest as Manifest
    from .model import Problem as Problem
    from .model import Recovered as Recovered
    from .model import Report as Report
    from .model import Signer as Signer
    from .model import Timestamp as Timestamp
    from .model import Verdict as Verdict
    from .model import VisibleLabelClaim as VisibleLabelClaim
    from .model import exit_code_for as exit_code_for
    from .parts import describe_part as describe_part
    from .parts import load_parts as load_parts
    from .parts import parse_part as parse_part
    from .policy import AllOf as AllOf
    from .policy import AnyOf as AnyOf
    from .policy import Decision as Decision
    from .policy import Policy as Policy
    from .policy import PolicyError as PolicyError
    from .policy import PolicyRefused as PolicyRefused
    from .policy import RuleOutcome as RuleOutcome
    from .policy import gate as gate
    from .repository import ManifestStore as ManifestStore
    from .repository import RepositoryError as RepositoryError
    from .repository import SQLiteRepository as SQLiteRepository
    from .repository import default_repository as default_repository
    from .repository import open_repository as open_repository
    from .resolution import RemoteRepository as RemoteRepository
    from .signing import CallbackSigner as CallbackSigner
    from .signing import IngredientSpec as IngredientSpec
    from .signing import PemSigner as PemSigner
    from .signing import SignResult as SignResult
    from .signing import sign as sign
    from .softbinding import lookup_file as lookup_file
    from .softbinding import register_signed_file as register_signed_file
    from .trust import CAI_INTERIM_TRUST_LIST_URL as CAI_INTERIM_TRUST_LIST_URL
    from .trust import OFFICIAL_TRUST_LIST_URL as OFFICIAL_TRUST_LIST_URL
    from .trust import OFFICIAL_TSA_TRUST_LIST_URL as OFFICIAL_TSA_TRUST_LIST_URL
    from .trust import TrustConfig as TrustConfig
    from .trust import TrustSource as TrustSource
    from .trust import default_config_dir as default_config_dir
    from .verification import Verifier as Verifier
    from .verification import describe_code as describe_code
    from .verification import verify as verify
    from .verification import verify_bytes as verify_bytes
    from .visible_label import VisibleLabel as VisibleLabel

    inspect_report = _inspection.inspect
    TRUST_KINDS = _trust.KINDS
    write_file_atomically = _trust.atomic_write_bytes
    download_trust_list = _trust.download
    install_trust_source = _trust.install
    remove_trust_source = _trust.remove
    update_trust_lists = _trust.update

__version__ = "0.1.0"


def _lazy_table(api: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for module, names in api.items():
        for entry in names:
            attr, _, public = entry.partition(" as ")
            table[public or attr] = (module, attr)
    return table


# public name -> (module, attribute)
_LAZY = _lazy_table(_API)
__all__ = ["__version__", *sorted(_LAZY)]


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
