"""The one error root of provcheck and its few narrow children.

Third-party errors (c2pa, OSError, cryptography, XML, HTTP) are caught at the
boundary and re-raised as one of these with ``from exc`` and a message a person
can act on.
"""

from __future__ import annotations

__all__ = [
    "ProvenanceError",
    "InputError",
    "TrustConfigError",
    "SigningError",
    "NetworkError",
]


class ProvenanceError(Exception):
    """Root of every error provcheck raises on purpose."""


class InputError(ProvenanceError):
    """A file given to provcheck cannot be used (missing, a directory, unreadable)."""


class TrustConfigError(ProvenanceError):
    """A trust list, allowed list or trust configuration is missing or malformed."""


class SigningError(ProvenanceError):
    """A manifest could not be built, signed or embedded."""


class NetworkError(ProvenanceError):
    """A download the caller asked for (trust list, remote manifest) failed."""
