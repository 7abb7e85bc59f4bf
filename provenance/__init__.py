"""provcheck's library: sign, embed and verify C2PA Content Credentials and AI labels.

>>> from provenance import verify, TrustConfig
>>> report = verify("clip.mp4", trust=TrustConfig.load())   # doctest: +SKIP
>>> report.verdict, report.ai_generated                     # doctest: +SKIP
"""

from .errors import InputError, NetworkError, ProvenanceError, SigningError, TrustConfigError
from .labels import classify_source_type, normalize_source_type, source_type_uri
from .media import MediaType, container_facts, sniff, sniff_path
from .model import (
    EXIT_CODES,
    Action,
    AIGeneration,
    Ingredient,
    Manifest,
    Problem,
    Report,
    Signer,
    Timestamp,
    Verdict,
    exit_code_for,
)
from .trust import (
    CAI_INTERIM_TRUST_LIST_URL,
    OFFICIAL_TRUST_LIST_URL,
    OFFICIAL_TSA_TRUST_LIST_URL,
    TrustConfig,
    TrustSource,
    default_config_dir,
)
from .trust import KINDS as TRUST_KINDS
from .trust import download as download_trust_list
from .trust import install as install_trust_source
from .trust import update as update_trust_lists
from .verify import Verifier, describe_code, verify, verify_bytes

__version__ = "0.1.0"

__all__ = [
    "CAI_INTERIM_TRUST_LIST_URL",
    "EXIT_CODES",
    "OFFICIAL_TRUST_LIST_URL",
    "OFFICIAL_TSA_TRUST_LIST_URL",
    "TRUST_KINDS",
    "AIGeneration",
    "Action",
    "Ingredient",
    "InputError",
    "Manifest",
    "MediaType",
    "NetworkError",
    "Problem",
    "ProvenanceError",
    "Report",
    "Signer",
    "SigningError",
    "Timestamp",
    "TrustConfig",
    "TrustConfigError",
    "TrustSource",
    "Verdict",
    "Verifier",
    "__version__",
    "classify_source_type",
    "container_facts",
    "default_config_dir",
    "describe_code",
    "download_trust_list",
    "exit_code_for",
    "install_trust_source",
    "normalize_source_type",
    "sniff",
    "sniff_path",
    "source_type_uri",
    "update_trust_lists",
    "verify",
    "verify_bytes",
]
