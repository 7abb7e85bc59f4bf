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
    "DestinationExistsError",
    "NetworkError",
    "InsecureDownloadWarning",
]


class ProvenanceError(Exception):
    """Root of every error provcheck raises on purpose."""


class InputError(ProvenanceError):
    """A file given to provcheck cannot be used (missing, a directory, unreadable)."""


class TrustConfigError(ProvenanceError):
    """A trust list, allowed list or trust configuration is missing or malformed."""


class SigningError(ProvenanceError):
    """A manifest could not be built, signed or embedded."""


class DestinationExistsError(SigningError):
    """The output file already exists and replacing it was not asked for.

    ``path`` is the file; a front end names its own way to ask (a flag, a parameter).
    """

    def __init__(self, path: str) -> None:
        super().__init__(f"{path}: already exists (replacing it needs force)")
        self.path = path


class NetworkError(ProvenanceError):
    """A download the caller asked for (trust list, remote manifest) failed."""


class InsecureDownloadWarning(UserWarning):
    """Trust material was fetched without transport security because the caller opted in.

    Issued with ``warnings.warn`` on every such download (the library never prints); a
    front end shows it, e.g. through ``warnings.catch_warnings(record=True)``.
    """
