"""Trust anchors, allowed lists and TSA trust lists: loading, installing, updating.

A ``TrustConfig`` is a plain value passed to ``verify``; nothing here is global.
Three kinds of source:

* ``anchors``  — roots/issuing CAs that may vouch for a claim signer
  (``--trust``; the official C2PA trust list);
* ``allowed``  — specific end-entity signing certificates accepted as they are
  (``--allowed-list``);
* ``tsa``      — roots a timestamp authority must chain to (``--tsa-trust``; the
  C2PA TSA trust list).

The default configuration lives in the user's config directory
(``$PROVCHECK_CONFIG_DIR`` or the platform's, e.g. ``~/.config/provcheck``) as
one PEM file per source under ``trust/anchors``, ``trust/allowed`` and
``trust/tsa``. Nothing here touches the network except ``download`` and
``update``, which the caller asks for; they fetch over HTTPS with certificate
verification only, unless the caller opts in to plain HTTP (then an
``InsecureDownloadWarning`` is issued on every download), and can pin a SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from ._files import read_regular_file
from ._frozen import Value
from .errors import InsecureDownloadWarning, NetworkError, TrustConfigError

__all__ = [
    "TrustSource",
    "TrustConfig",
    "KINDS",
    "OFFICIAL_TRUST_LIST_URL",
    "OFFICIAL_TSA_TRUST_LIST_URL",
    "CAI_INTERIM_TRUST_LIST_URL",
    "default_config_dir",
    "load_pem_source",
    "install",
    "remove",
    "download",
    "update",
    "atomic_write_bytes",
]

KINDS = ("anchors", "allowed", "tsa")

OFFICIAL_TRUST_LIST_URL = (
    "https://raw.githubusercontent.com/c2pa-org/conformance-public/refs/heads/main/"
    "trust-list/C2PA-TRUST-LIST.pem"
)
OFFICIAL_TSA_TRUST_LIST_URL = (
    "https://raw.githubusercontent.com/c2pa-org/conformance-public/refs/heads/main/"
    "trust-list/C2PA-TSA-TRUST-LIST.pem"
)
# The older interim list of the Content Authenticity Initiative: much content signed
# in 2023-2025 chains only to it. Offered only as an explicit, labelled option.
CAI_INTERIM_TRUST_LIST_URL = "https://contentcredentials.org/trust/anchors.pem"

_MAX_DOWNLOAD = 16 * 1024 * 1024
_PEM_CERT = re.compile(
    rb"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----"
)


@dataclass(frozen=True, eq=False, repr=False)  # _frozen.Value: eq, hash, repr
class TrustSource(Value):
    """One PEM bundle of certificates with a label saying where it came from."""

    label: str
    kind: str
    pem: str
    origin: str
    certificates: tuple[x509.Certificate, ...] = field(default=(), compare=False, repr=False)

    @property
    def count(self) -> int:
        return len(self.certificates)


def _parse_pem(data: bytes, origin: str) -> tuple[str, tuple[x509.Certificate, ...]]:
    """Keep only the certificate blocks (trust lists carry comments between them)."""
    blocks = _PEM_CERT.findall(data)
    if not blocks:
        raise TrustConfigError(
            f"{origin}: no PEM certificate found (expected '-----BEGIN CERTIFICATE-----' blocks)"
        )
    certs = []
    for i, block in enumerate(blocks, 1):
        try:
            certs.append(x509.load_pem_x509_certificate(block))
        except ValueError as exc:
            raise TrustConfigError(f"{origin}: certificate #{i} cannot be parsed: {exc}") from exc
    return b"\n".join(blocks).decode("ascii") + "\n", tuple(certs)


def load_pem_source(
    path: str | os.PathLike[str], kind: str, label: str | None = None
) -> TrustSource:
    """Read one PEM bundle from disk as a trust source of the given kind."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    p = Path(path)
    data = read_regular_file(p, limit=_MAX_DOWNLOAD, error=TrustConfigError, what="trust file")
    pem, certs = _parse_pem(data, str(p))
    return TrustSource(label or p.stem, kind, pem, str(p), certs)


@dataclass(frozen=True, eq=False, repr=False)  # _frozen.Value: eq, hash, repr
class TrustConfig(Value):
    """What verification trusts. Empty by default: then nothing is ever `trusted`."""

    anchors: tuple[TrustSource, ...] = ()
    allowed: tuple[TrustSource, ...] = ()
    tsa: tuple[TrustSource, ...] = ()

    @property
    def has_signer_trust(self) -> bool:
        """True when at least one source could make a signer trusted."""
        return bool(self.anchors or self.allowed)

    def with_files(
        self,
        *,
        anchors: Iterable[str | os.PathLike[str]] = (),
        allowed: Iterable[str | os.PathLike[str]] = (),
        tsa: Iterable[str | os.PathLike[str]] = (),
    ) -> TrustConfig:
        """A new config with the given PEM files added."""
        return TrustConfig(
            self.anchors + tuple(load_pem_source(p, "anchors") for p in anchors),
            self.allowed + tuple(load_pem_source(p, "allowed") for p in allowed),
            self.tsa + tuple(load_pem_source(p, "tsa") for p in tsa),
        )

    @classmethod
    def from_files(
        cls,
        *,
        anchors: Iterable[str | os.PathLike[str]] = (),
        allowed: Iterable[str | os.PathLike[str]] = (),
        tsa: Iterable[str | os.PathLike[str]] = (),
    ) -> TrustConfig:
        return cls().with_files(anchors=anchors, allowed=allowed, tsa=tsa)

    @classmethod
    def load(cls, config_dir: str | os.PathLike[str] | None = None) -> TrustConfig:
        """The installed default configuration (empty when nothing is installed)."""
        root = Path(config_dir) if config_dir is not None else default_config_dir()
        found: dict[str, list[TrustSource]] = {k: [] for k in KINDS}
        for kind in KINDS:
            folder = root / "trust" / kind
            if not folder.is_dir():
                continue
            for pem in sorted(folder.glob("*.pem")):
                found[kind].append(load_pem_source(pem, kind))
        return cls(tuple(found["anchors"]), tuple(found["allowed"]), tuple(found["tsa"]))

    def merged(self, other: TrustConfig) -> TrustConfig:
        return TrustConfig(
            self.anchors + other.anchors, self.allowed + other.allowed, self.tsa + other.tsa
        )

    def sources(self) -> tuple[TrustSource, ...]:
        return self.anchors + self.allowed + self.tsa


def default_config_dir() -> Path:
    """$PROVCHECK_CONFIG_DIR, else the platform's user config dir for provcheck."""
    env = os.environ.get("PROVCHECK_CONFIG_DIR")
    if env:
        return Path(env)
    if sys.platform == "linux":
        # platformdirs' XDG rule, without its 9 ms import on every verify (tested equal).
        xdg = os.environ.get("XDG_CONFIG_HOME", "").strip()
        return Path(xdg or os.path.expanduser("~/.config")) / "provcheck"
    from platformdirs import user_config_dir

    return Path(user_config_dir("provcheck"))


def atomic_write_bytes(dest: Path, data: bytes, mode: int = 0o644) -> None:
    """Write a file whole or not at all: temp file beside it, fsync, rename."""
    import tempfile  # here: verifying never writes

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _safe_label(label: str) -> str:
    """A file name from a label: letters and digits of any script, '.', '_' and '-'."""
    cleaned = re.sub(r"[^\w.-]+", "-", unicodedata.normalize("NFC", label)).strip(".-")
    if not cleaned:
        raise TrustConfigError(f"{label!r} is not usable as a trust source name")
    # File names are limited to 255 bytes: keep room for ".pem" and the temp-file affixes.
    return cleaned.encode("utf-8")[:200].decode("utf-8", errors="ignore")


def _header_value(text: str) -> str:
    # One line of the stored file's comment header: no line breaks or control characters.
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def install(
    data: bytes,
    *,
    kind: str,
    label: str,
    origin: str,
    config_dir: str | os.PathLike[str] | None = None,
) -> TrustSource:
    """Validate a PEM bundle and store it in the default trust configuration."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    pem, certs = _parse_pem(data, origin)
    root = Path(config_dir) if config_dir is not None else default_config_dir()
    dest = root / "trust" / kind / f"{_safe_label(label)}.pem"
    header = (
        f"# provcheck trust source: {_header_value(label)}\n# origin: {_header_value(origin)}\n"
    )
    atomic_write_bytes(dest, (header + pem).encode("utf-8"))
    return TrustSource(dest.stem, kind, pem, origin, certs)


def remove(
    label: str,
    *,
    kind: str | None = None,
    config_dir: str | os.PathLike[str] | None = None,
) -> list[str]:
    """Remove the installed trust source(s) named ``label`` (of ``kind``, or of every
    kind); returns the kinds removed. None found is a ``TrustConfigError``."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    root = Path(config_dir) if config_dir is not None else default_config_dir()
    removed = []
    for k in [kind] if kind else list(KINDS):
        path = root / "trust" / k / f"{_safe_label(label)}.pem"
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise TrustConfigError(f"{path}: cannot remove: {exc.strerror or exc}") from exc
        removed.append(k)
    if not removed:
        raise TrustConfigError(f"no installed trust source named {label!r}")
    return removed


def _check_pin(sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    pin = sha256.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", pin):
        raise TrustConfigError(f"{sha256!r} is not a SHA-256 digest (64 hexadecimal digits)")
    return pin


def download(
    url: str,
    *,
    timeout: float = 30.0,
    sha256: str | None = None,
    allow_insecure_http: bool = False,
    cafile: str | os.PathLike[str] | None = None,
) -> bytes:
    """Fetch a trust list. Only called when the caller asks for it.

    HTTPS with certificate verification (against the system's roots, or only those in
    ``cafile``) is the only transport, redirects included. ``allow_insecure_http``
    accepts plain ``http://`` too: anyone on the network path can then replace the
    list, so an ``InsecureDownloadWarning`` is issued every time. ``sha256`` pins the
    exact bytes expected (hex digest): anything else is refused.
    """
    import ssl
    import urllib.error  # only when a download is asked for: keeps start-up light
    import urllib.request

    pin = _check_pin(sha256)
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ("https", "http"):
        raise NetworkError(f"{url}: only https:// URLs can be downloaded")
    if scheme == "http" and not allow_insecure_http:
        raise NetworkError(
            f"{url}: refused: trust material over plain HTTP can be replaced by anyone on "
            "the network path; use an https:// URL (or opt in to insecure HTTP explicitly, "
            "ideally with a SHA-256 pin)"
        )
    try:
        context = ssl.create_default_context(cafile=os.fspath(cafile) if cafile else None)
    except (OSError, ssl.SSLError) as exc:
        where = os.fspath(cafile or "")
        raise NetworkError(f"{where}: cannot load CA certificates: {exc}") from exc

    class _Redirects(urllib.request.HTTPRedirectHandler):
        # A redirect may not downgrade to plain HTTP (nor go anywhere but http/https).
        def redirect_request(
            self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
        ) -> Any:
            new_scheme = newurl.split(":", 1)[0].lower()
            if new_scheme != "https" and not (new_scheme == "http" and allow_insecure_http):
                raise NetworkError(f"{url}: refused a redirect to {newurl} (not https)")
            if new_scheme == "http":
                _warn_insecure(newurl)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _Redirects())
    if scheme == "http":
        _warn_insecure(url)
    req = urllib.request.Request(url, headers={"User-Agent": "provcheck"})
    try:
        with opener.open(req, timeout=timeout) as resp:
            data: bytes = resp.read(_MAX_DOWNLOAD + 1)
    except urllib.error.HTTPError as exc:
        raise NetworkError(f"{url}: server answered HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NetworkError(f"{url}: download failed: {reason}") from exc
    if len(data) > _MAX_DOWNLOAD:
        raise NetworkError(f"{url}: larger than {_MAX_DOWNLOAD // (1024 * 1024)} MiB, refused")
    if pin is not None:
        got = hashlib.sha256(data).hexdigest()
        if got != pin:
            raise NetworkError(
                f"{url}: SHA-256 of the download is {got}, not the pinned {pin}; refused"
            )
    return data


def _warn_insecure(url: str) -> None:
    warnings.warn(
        InsecureDownloadWarning(
            f"{url}: downloading trust material over plain HTTP, without transport security: "
            "anyone on the network path can replace it"
        ),
        stacklevel=3,
    )


def update(
    *,
    config_dir: str | os.PathLike[str] | None = None,
    trust_list_url: str = OFFICIAL_TRUST_LIST_URL,
    tsa_list_url: str = OFFICIAL_TSA_TRUST_LIST_URL,
    include_cai_interim: bool = False,
    cai_interim_url: str = CAI_INTERIM_TRUST_LIST_URL,
    timeout: float = 30.0,
    pins: Mapping[str, str] | None = None,
    allow_insecure_http: bool = False,
    cafile: str | os.PathLike[str] | None = None,
) -> list[TrustSource]:
    """Download the official C2PA trust list and TSA trust list into the config dir.

    Every download is validated before anything is written, so a failed update
    leaves the previous lists in place. ``pins`` maps a URL to the SHA-256 its bytes
    must have; ``allow_insecure_http`` and ``cafile`` are as for ``download``.
    """
    plan = [
        ("anchors", "c2pa-trust-list", trust_list_url),
        ("tsa", "c2pa-tsa-trust-list", tsa_list_url),
    ]
    if include_cai_interim:
        plan.append(("anchors", "cai-interim-trust-list", cai_interim_url))
    fetched = []
    for kind, label, url in plan:
        data = download(
            url,
            timeout=timeout,
            sha256=(pins or {}).get(url),
            allow_insecure_http=allow_insecure_http,
            cafile=cafile,
        )
        _parse_pem(data, url)  # validate before writing anything
        fetched.append((kind, label, url, data))
    return [
        install(data, kind=kind, label=label, origin=url, config_dir=config_dir)
        for kind, label, url, data in fetched
    ]
