"""The only module that imports c2pa. No c2pa type leaks out of it.

Every call builds its own ``c2pa.Context`` from explicit settings: the c2pa
library's thread-local/global settings are never used. Errors from the native
library are translated into ``_ReadFailure`` (internal, consumed by ``verify``)
or ``SigningError``.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, BinaryIO, NoReturn

import c2pa
from c2pa import c2pa as _native

from ._frozen import Value
from .errors import SigningError
from .model import SIGNING_ALGORITHMS
from .trust import TrustConfig

__all__: list[str] = []  # private module: used by verify and sign only

# Signer certificates must carry one of these EKUs (the C2PA trust list's own
# set, without timeStamping so a TSA's chain can never vouch for a claim signer).
_SIGNER_EKUS = (
    "\n".join(
        [
            "1.3.6.1.5.5.7.3.4",  # id-kp-emailProtection
            "1.3.6.1.5.5.7.3.36",  # id-kp-documentSigning
            "1.3.6.1.4.1.311.76.59.1.9",  # Microsoft C2PA signing
            "1.3.6.1.4.1.62558.2.1",  # c2pa-kp-claimSigning
        ]
    )
    + "\n"
)


@dataclass(frozen=True, eq=False, repr=False)  # _frozen.Value: eq, hash, repr
class ReadOptions(Value):
    remote_manifests: bool = False
    ocsp: bool = False


@dataclass
class RawRead:
    """What the native reader returned, as plain JSON values."""

    store: dict[str, Any] | None  # Reader.json(); None when no manifest
    crjson: dict[str, Any] | None
    remote_url: str | None = None
    embedded: bool = True
    store_bytes: bytes | None = None  # the manifest store (JUMBF), for the certificate checks


@dataclass
class ReadFailure(Exception):
    """The native reader refused the asset. kind: unsupported | asset | manifest | remote | io."""

    kind: str
    message: str
    detail: str = field(default="")

    def __str__(self) -> str:
        return self.message


SOURCE_URI_PREFIX = "provcheck:"


def source_uri(kind: str, label: str) -> str:
    """The trust_uri a source is registered under; c2pa-rs echoes it in
    ``signingCredential.trusted`` ("found in [<uri>] trust anchors")."""
    safe = label.replace("[", "(").replace("]", ")")
    return f"{SOURCE_URI_PREFIX}{kind}/{safe}"


def settings_for(trust: TrustConfig, options: ReadOptions) -> dict[str, Any]:
    """c2pa settings for verification.

    Each source is its own entry of c2pa-rs's ``trust.anchors`` list, with a
    ``trust_uri`` naming it, so the library reports which list vouched. c2pa-rs does
    not keep kinds apart when it judges a claim signer (a ``tsa`` root can make a
    signer "Trusted"), so ``verify`` accepts a signer only when the list named in
    the result is a claim-signer list of ours.
    """
    anchors: list[dict[str, Any]] = []
    for src in trust.anchors:
        anchors.append(
            {
                "trust_anchors": src.pem,
                "trust_kind": "manifest",
                "trust_uri": source_uri("anchors", src.label),
            }
        )
    for src in trust.allowed:
        anchors.append(
            {
                "trust_anchors": "",
                "trust_kind": "manifest",
                "allowed_list": src.pem,
                "trust_uri": source_uri("allowed", src.label),
            }
        )
    for src in trust.tsa:
        anchors.append(
            {
                "trust_anchors": src.pem,
                "trust_kind": "tsa",
                "trust_uri": source_uri("tsa", src.label),
            }
        )
    trust_settings: dict[str, Any] = {"trust_config": _SIGNER_EKUS}
    if anchors:
        trust_settings["anchors"] = anchors
    return {
        "version": 1,
        "trust": trust_settings,
        "verify": {
            "verify_after_reading": True,
            "verify_trust": True,
            "verify_timestamp_trust": True,
            "ocsp_fetch": options.ocsp,
            "remote_manifest_fetch": options.remote_manifests,
        },
        "core": {"decode_identity_assertions": False},
    }


def identity_settings(trust: TrustConfig, options: ReadOptions) -> dict[str, Any]:
    """c2pa settings for reading CAWG identity assertions: decoded and validated by the
    library, no content hashing (the verdict read does that), the configured claim-signer
    anchors offered as CAWG X.509 trust anchors (``cawg_trust``)."""
    settings = settings_for(trust, options)
    settings["verify"] = {
        **settings["verify"],
        "verify_after_reading": False,
        "verify_timestamp_trust": False,
    }
    settings["core"] = {"decode_identity_assertions": True}
    pems = "".join(src.pem for src in trust.anchors)
    if pems:
        settings["cawg_trust"] = {
            "verify_trust_list": True,
            "trust_anchors": pems,
            "trust_config": _CAWG_EKUS,
        }
    return settings


# The EKUs the CAWG X.509 credential profile accepts (emailProtection, documentSigning).
_CAWG_EKUS = "1.3.6.1.5.5.7.3.4\n1.3.6.1.5.5.7.3.36\n"


class ReadContext:
    """A reusable native context for many reads with the same trust and options."""

    def __init__(self, trust: TrustConfig, options: ReadOptions) -> None:
        self._options = options
        self._identity_settings = identity_settings(trust, options)
        self._identity_ctx: Any = None  # made on the first file that has identities
        try:
            self._ctx = c2pa.Context.from_dict(settings_for(trust, options))
        except c2pa.C2paError as exc:
            raise ReadFailure(
                "manifest", f"the C2PA library rejected the trust settings: {exc}"
            ) from exc

    def read(
        self, mime: str | None, stream: BinaryIO, fragments: Sequence[BinaryIO] = ()
    ) -> RawRead:
        try:
            if fragments:
                reader = c2pa.Reader(mime, stream, None, context=self._ctx)
                for frag in fragments:
                    stream.seek(0)
                    reader.with_fragment(mime, stream, frag)
            else:
                reader = _try_reader(mime, stream, self._ctx)
                if reader is None:
                    return RawRead(None, None)
            with reader:
                store = json.loads(reader.json())
                cr = json.loads(reader.crjson())
                remote = reader.get_remote_url()
                embedded = bool(reader.is_embedded())
                jumbf = _store_bytes(reader, store)
            if not fragments:
                self._add_identities(mime, stream, store)
            return RawRead(store, cr, remote, embedded, jumbf)
        except c2pa.C2paError.ManifestNotFound:
            return RawRead(None, None)
        except c2pa.C2paError as exc:
            raise _translate(exc) from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ReadFailure(
                "manifest", f"the manifest store could not be decoded: {exc}"
            ) from exc

    def read_with_manifest(self, mime: str | None, stream: BinaryIO, manifest: bytes) -> RawRead:
        """Validate a detached manifest store (e.g. from a repository) against an asset."""
        try:
            with c2pa.Reader(mime, stream, manifest, context=self._ctx) as reader:
                return RawRead(
                    json.loads(reader.json()), json.loads(reader.crjson()), store_bytes=manifest
                )
        except c2pa.C2paError as exc:
            raise _translate(exc) from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ReadFailure(
                "manifest", f"the manifest store could not be decoded: {exc}"
            ) from exc

    def _add_identities(self, mime: str | None, stream: BinaryIO, store: Any) -> None:
        """CAWG identity assertions validated by the C2PA library, in a second read.

        The verdict read keeps ``decode_identity_assertions`` off: its identity codes
        (``cawg.*``) would otherwise mix into the claim's own validation state. The second
        read decodes and validates the identity assertions only (no content hashing). An
        identity claims aggregation credential is validated only when the caller allowed
        network fetches (``remote_manifests``): its issuer's DID document may be fetched
        over HTTPS (did:web), which the library does whatever its network settings say.
        Each manifest with identities gets ``IDENTITY_KEY``: a list of
        ``{"label", "data", "codes": [{"code", "explanation", "bucket"}], "validated"}``.
        """
        found = _identity_assertions(store)
        if not found:
            return
        # anything but an X.509 credential (or unreadable) may make the library fetch
        network = any(identity_sig_type(a.get("data")) != X509_SIG_TYPE for a in _flat(found))
        decoded: dict[str, Any] = {}
        codes: dict[str, list[dict[str, Any]]] = {}
        validated = not network or self._options.remote_manifests
        if validated:
            try:
                stream.seek(0)
                if self._identity_ctx is None:
                    self._identity_ctx = c2pa.Context.from_dict(self._identity_settings)
                reader = _try_reader(mime, stream, self._identity_ctx)
                if reader is None:
                    validated = False
                else:
                    with reader:
                        second = json.loads(reader.json())
                    decoded = second.get("manifests") or {}
                    codes = _identity_codes(second.get("validation_results"))
            except (c2pa.C2paError, json.JSONDecodeError, UnicodeDecodeError, OSError):
                validated = False
        for label, items in found.items():
            out = []
            again = decoded.get(label) if isinstance(decoded, dict) else None
            again_by_label = {
                a.get("label"): a.get("data")
                for a in ((again or {}).get("assertions") or [])
                if isinstance(a, dict)
            }
            for a in items:
                alabel = a["label"]
                data = again_by_label.get(alabel, a.get("data")) if validated else a.get("data")
                out.append(
                    {
                        "label": alabel,
                        "data": data,
                        "codes": codes.get(f"{label}/c2pa.assertions/{alabel}", []),
                        "validated": validated and alabel in again_by_label,
                    }
                )
            store["manifests"][label][IDENTITY_KEY] = out

    def close(self) -> None:
        self._ctx.close()
        if self._identity_ctx is not None:
            self._identity_ctx.close()


# Where ReadContext.read puts the library-validated CAWG identity assertions of a manifest
# (a key of that manifest in the store JSON; the native reader's keys never start with "_").
IDENTITY_KEY = "_provcheck_cawg_identity"
X509_SIG_TYPE = "cawg.x509.cose"
_MAX_IDENTITIES = 20


def identity_sig_type(data: Any) -> str | None:
    """The ``signer_payload.sig_type`` of an identity assertion's data, or None."""
    payload = data.get("signer_payload") if isinstance(data, dict) else None
    sig_type = payload.get("sig_type") if isinstance(payload, dict) else None
    return sig_type if isinstance(sig_type, str) else None


def _flat(found: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [a for items in found.values() for a in items]


def _is_identity_label(label: object) -> bool:
    return isinstance(label, str) and (
        label == "cawg.identity" or label.startswith("cawg.identity__")
    )


def _identity_assertions(store: Any) -> dict[str, list[dict[str, Any]]]:
    """The cawg.identity assertions of each manifest of the store (label -> assertions)."""
    found: dict[str, list[dict[str, Any]]] = {}
    manifests = store.get("manifests") if isinstance(store, dict) else None
    if not isinstance(manifests, dict):
        return found
    for label, m in manifests.items():
        assertions = m.get("assertions") if isinstance(m, dict) else None
        items = [
            a
            for a in (assertions if isinstance(assertions, list) else [])
            if isinstance(a, dict) and _is_identity_label(a.get("label"))
        ]
        if items:
            found[label] = items[:_MAX_IDENTITIES]
    return found


def _identity_codes(results: Any) -> dict[str, list[dict[str, Any]]]:
    """The cawg.* status codes of a read, keyed by '<manifest label>/c2pa.assertions/<label>'."""
    out: dict[str, list[dict[str, Any]]] = {}
    if not isinstance(results, dict):
        return out
    groups = [results.get("activeManifest")]
    groups += [
        d.get("validationDeltas")
        for d in results.get("ingredientDeltas") or []
        if isinstance(d, dict)
    ]
    for group in groups:
        if not isinstance(group, dict):
            continue
        for bucket in ("success", "informational", "failure"):
            for c in group.get(bucket) or []:
                if not isinstance(c, dict) or not str(c.get("code", "")).startswith("cawg."):
                    continue
                url = str(c.get("url", ""))
                key = url.split("/c2pa/", 1)[1] if "/c2pa/" in url else url
                entry = {
                    "code": str(c["code"]),
                    "explanation": str(c.get("explanation") or ""),
                    "bucket": bucket,
                }
                if entry not in out.setdefault(key, []):
                    out[key].append(entry)
    return out


# ---------------------------------------------------------------------------
# reading a file with no Python in the native library's I/O loop (issue 19)
#
# c2pa-python hands the native reader a stream whose read and seek callbacks are Python
# functions: a short clip takes ~1,200 of them, about a sixth of the whole read. On
# 64-bit Linux the stream callbacks of c2pa.h, ``(context, buffer, length) -> isize`` and
# ``(context, offset, C2paSeekMode) -> isize``, have the calling convention of libc's
# read(2), write(2) and lseek(2) with the context standing for the file descriptor (an
# int argument is the low half of the register that carries the pointer, C2paSeekMode's
# values are SEEK_SET/CUR/END, and a negative return makes the library take errno). So
# for a file the native library is given libc's own functions and reads with no Python
# at all. The descriptor is a fresh open of the caller's open file (/proc/self/fd/N):
# the same file even if its path was replaced since, with its own offset, so the
# caller's stream and its buffer are untouched. Anything else (an in-memory or wrapped
# stream, another system, /proc unavailable) is read through c2pa-python as before;
# PROVCHECK_NATIVE_READ=0 forces that path.


def _native_read_available() -> bool:
    return (
        sys.platform.startswith("linux")
        and ctypes.sizeof(ctypes.c_void_p) == 8
        and os.uname().machine in ("x86_64", "aarch64")
        and os.environ.get("PROVCHECK_NATIVE_READ", "1") != "0"
    )


_NATIVE_READ: bool | None = None  # decided on first use
_fd_callbacks: tuple[Any, ...] = ()  # (read, seek, write, flush), made on first use


def _callbacks() -> tuple[Any, ...]:
    global _fd_callbacks
    if not _fd_callbacks:
        libc = ctypes.CDLL(None, use_errno=True)

        def address(fn: Any) -> int:
            return int(ctypes.cast(fn, ctypes.c_void_p).value or 0)

        _fd_callbacks = (
            _native.ReadCallback(address(libc.read)),
            _native.SeekCallback(address(libc.lseek)),
            _native.WriteCallback(address(libc.write)),
            _native.FlushCallback(lambda _ctx: 0),  # a file needs no flush; never called by reads
        )
    return _fd_callbacks


def _file_fd(stream: Any) -> int | None:
    """The descriptor of ``stream`` when it is a file opened with ``open(path, "rb")``
    and the native stream may be used, else None."""
    global _NATIVE_READ
    if _NATIVE_READ is None:
        _NATIVE_READ = _native_read_available()
    if not _NATIVE_READ or type(stream) is not io.BufferedReader:
        return None
    if type(stream.raw) is not io.FileIO:  # e.g. a socket's file: its fd is no file
        return None
    try:
        return int(stream.fileno())
    except (OSError, ValueError):
        return None


def _reopen(fd: int) -> int | None:
    """A new read-only descriptor of the regular file open as ``fd``, or None."""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None  # opening a FIFO or a device again could block or read other bytes
        return os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


def _fresh_fd(stream: Any) -> int | None:
    """A new read-only descriptor of the file behind ``stream`` (a file opened with
    ``open(path, "rb")``), or None where the native stream cannot be used."""
    fd = _file_fd(stream)
    return None if fd is None else _reopen(fd)


@contextmanager
def libc_stream(fd: int) -> Iterator[Any]:
    """A native c2pa stream reading a fresh read-only descriptor of the regular file
    open as ``fd`` through libc (see above), or None where that cannot be used; the
    stream and its descriptor are released on exit."""
    global _NATIVE_READ
    if _NATIVE_READ is None:
        _NATIVE_READ = _native_read_available()
    mine = _reopen(fd) if _NATIVE_READ else None
    if mine is None:
        yield None
        return
    context = ctypes.cast(ctypes.c_void_p(mine), ctypes.POINTER(_native.StreamContext))
    stream = _native._lib.c2pa_create_stream(context, *_callbacks())
    try:
        yield stream or None
    finally:
        if stream:
            _native._lib.c2pa_release_stream(stream)
        os.close(mine)


def _try_reader(mime: str | None, stream: BinaryIO, ctx: Any) -> Any:
    """A native reader of ``stream`` with the settings of ``ctx``, or None when the asset
    holds no manifest; C2PA errors are raised as c2pa.C2paError (typed)."""
    fd = _fresh_fd(stream)
    if fd is None:
        return c2pa.Reader.try_create(mime, stream, None, ctx)
    return _FdReader.open(mime, fd, ctx)


class _FdReader:
    """The calls ``ReadContext`` makes of a c2pa.Reader, on a native reader that reads a
    file descriptor through libc (see above). Owns the descriptor."""

    def __init__(self, handle: Any, stream: Any, fd: int) -> None:
        self._handle, self._stream, self._fd = handle, stream, fd

    @classmethod
    def open(cls, mime: str | None, fd: int, ctx: Any) -> _FdReader | None:
        lib = _native._lib
        context = ctypes.cast(ctypes.c_void_p(fd), ctypes.POINTER(_native.StreamContext))
        stream = lib.c2pa_create_stream(context, *_callbacks())
        if not stream:
            os.close(fd)
            _raise_native("the native stream could not be made")
        handle = lib.c2pa_reader_from_context(ctx.execution_context)
        if handle:  # consumed by with_stream, success or not
            handle = lib.c2pa_reader_with_stream(handle, (mime or "").encode(), stream)
        if handle:
            return cls(handle, stream, fd)
        message = native_error() or "Other: the C2PA library could not read the file"
        lib.c2pa_release_stream(stream)
        os.close(fd)
        if message.startswith("ManifestNotFound"):
            return None
        _raise_typed(message)

    def _string(self, ptr: int) -> str:
        try:
            return ctypes.string_at(ptr).decode("utf-8")
        finally:
            _native._lib.c2pa_free(ptr)

    def json(self) -> str:
        ptr = _native._lib.c2pa_reader_json(self._handle)
        return self._string(ptr) if ptr else _raise_native("no manifest JSON")

    def crjson(self) -> str:
        ptr = _native._lib.c2pa_reader_crjson(self._handle)
        return self._string(ptr) if ptr else _raise_native("no crJSON")

    def get_remote_url(self) -> str | None:
        ptr = _native._lib.c2pa_reader_remote_url(self._handle)
        return self._string(ptr) if ptr else None

    def is_embedded(self) -> bool:
        return bool(_native._lib.c2pa_reader_is_embedded(self._handle))

    def resource_to_stream(self, uri: str, out: BinaryIO) -> int:
        with c2pa.Stream(out) as target:
            n = _native._lib.c2pa_reader_resource_to_stream(
                self._handle, uri.encode(), target._stream
            )
        return int(n) if n >= 0 else _raise_native(f"no resource {uri}")

    def close(self) -> None:
        if self._handle:
            _native._lib.c2pa_free(self._handle)
            _native._lib.c2pa_release_stream(self._stream)
            os.close(self._fd)
            self._handle = None

    def __enter__(self) -> _FdReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _raise_native(fallback: str) -> NoReturn:
    """Raise the native library's last error (or ``fallback``) as a typed C2paError."""
    _raise_typed(native_error() or f"Other: {fallback}")


def _raise_typed(message: str) -> NoReturn:
    """Raise ``message`` ("Kind: detail") as c2pa-python's typed C2paError."""
    _native._raise_typed_c2pa_error(message)
    raise c2pa.C2paError(message)  # not reached: the call above always raises


def _store_bytes(reader: Any, store: Any) -> bytes | None:
    """The manifest store's JUMBF bytes: the reader hands the whole store out for a
    ``self#jumbf`` reference to a manifest's signature (its certificate chain is there)."""
    label = store.get("active_manifest") if isinstance(store, dict) else None
    if not isinstance(label, str):
        return None
    buf = io.BytesIO()
    try:
        reader.resource_to_stream(f"self#jumbf=/c2pa/{label}/c2pa.signature", buf)
    except c2pa.C2paError:
        return None
    return buf.getvalue() or None


def _translate(exc: Exception) -> ReadFailure:
    text = str(exc)
    # Strip the "Kind: " prefix the native library puts on its messages.
    detail = text.split(": ", 1)[1] if ": " in text else text
    if isinstance(exc, c2pa.C2paError.NotSupported):
        return ReadFailure("unsupported", "the C2PA library does not support this format", detail)
    if isinstance(exc, c2pa.C2paError.RemoteManifest) or text.startswith("Remote:"):
        if " from url " in detail:  # fetching is off: the library names the URL
            return ReadFailure(
                "remote",
                "the manifest is stored remotely",
                detail.rsplit(" from url ", 1)[1].strip(),
            )
        return ReadFailure("remote-failed", "the remote manifest could not be fetched", detail)
    if isinstance(exc, c2pa.C2paError.Io | c2pa.C2paError.FileNotFound):
        return ReadFailure("io", "the file could not be read", detail)
    if "asset could not be parsed" in text or "Box size" in text or "invalid BMFF" in text:
        return ReadFailure("asset", "the file's structure could not be parsed", detail)
    return ReadFailure("manifest", "the manifest store is broken and cannot be read", detail)


# ---------------------------------------------------------------------------
# signing


SIGNING_ALGS = SIGNING_ALGORITHMS
from .media import TIMED_BMFF_MIMES as _BMFF_MIMES  # noqa: E402  (the media-type table)


@dataclass(frozen=True, eq=False, repr=False)  # _frozen.Value: eq, hash, repr
class NativeSignerSpec(Value):
    """Either a PEM key (local) or a callback; the certificate chain is always PEM."""

    alg: str
    cert_chain_pem: str
    private_key_pem: str | None = None
    callback: Callable[[bytes], bytes] | None = None
    tsa_url: str | None = None


def _make_signer(spec: NativeSignerSpec) -> Any:
    alg = spec.alg.lower()
    if alg not in SIGNING_ALGS:
        raise SigningError(
            f"unsupported signing algorithm {spec.alg!r}; use one of " + ", ".join(SIGNING_ALGS)
        )
    try:
        if spec.callback is not None:
            enum_alg = getattr(c2pa.C2paSigningAlg, alg.upper())
            return c2pa.Signer.from_callback(
                spec.callback, enum_alg, spec.cert_chain_pem, spec.tsa_url
            )
        if spec.private_key_pem is None:
            raise SigningError("a signer needs a private key or a signing callback")
        info = c2pa.C2paSignerInfo(
            alg.encode(),
            spec.cert_chain_pem.encode(),
            spec.private_key_pem.encode(),
            spec.tsa_url.encode() if spec.tsa_url else None,
        )
        return c2pa.Signer.from_info(info)
    except c2pa.C2paError as exc:
        raise SigningError(f"the signing key or certificate was refused: {_detail(exc)}") from exc


def _detail(exc: Exception) -> str:
    text = str(exc)
    return text.split(": ", 1)[1] if ": " in text else text


@dataclass(frozen=True, eq=False, repr=False)  # _frozen.Value: eq, hash, repr
class NativeIngredient(Value):
    json: dict[str, Any]
    mime: str
    stream: BinaryIO
    # A ready-made JPEG thumbnail (see add_ingredients)
    thumbnail: bytes | None = None


def signing_settings(mime: str) -> dict[str, Any]:
    """The c2pa settings every signing path uses (the normal one and ``_fastsign``)."""
    settings: dict[str, Any] = {
        "version": 1,
        "verify": {"verify_after_sign": False, "remote_manifest_fetch": False, "ocsp_fetch": False},
        "builder": {
            "thumbnail": {"enabled": True, "ignore_errors": True},
            "actions": {
                "auto_created_action": {"enabled": False},
                "auto_opened_action": {"enabled": False},
                "auto_placed_action": {"enabled": False},
            },
        },
    }
    if mime in _BMFF_MIMES:
        # Hash the media as a Merkle tree of 1 MiB leaves (no per-leaf proof boxes): peak
        # memory of signing, and of verifying the result, drops from ~550 MB to ~40 MB
        # whatever the file size (measured in bench/LEVERS-draft.md).
        settings["core"] = {
            "merkle_tree_chunk_size_in_kb": 1024,
            "merkle_tree_max_proofs": 0,
            "backing_store_memory_threshold_in_mb": 64,
        }
    return settings


def add_ingredients(builder: Any, ingredients: Sequence[NativeIngredient]) -> None:
    """Add the ingredients, each with our ready-made thumbnail when there is one."""
    for n, ing in enumerate(ingredients):
        ing_json = ing.json
        if ing.thumbnail:
            # a ready-made JPEG: the native library then skips making its own (~44 ms)
            ref = f"provcheck_ingredient_thumbnail_{n}.jpg"
            thumb = {"format": "image/jpeg", "identifier": ref}
            ing_json = {**ing.json, "thumbnail": thumb}
            builder.add_resource(ref, io.BytesIO(ing.thumbnail))
        _add_ingredient(builder, ing_json, ing.mime, ing.stream)


def _add_ingredient(builder: Any, ing_json: dict[str, Any], mime: str, f: BinaryIO) -> None:
    """``builder.add_ingredient``, with the native library reading a file through libc
    (no Python callback per 8 KiB read) where it can; c2pa-python's stream otherwise."""
    fd = _file_fd(f)
    with libc_stream(fd) if fd is not None else nullcontext() as stream:
        if stream is None:
            builder.add_ingredient(ing_json, mime, f)
            return
        # encoded as c2pa-python encodes (C2paError.Encoding for a name that is no UTF-8)
        result = _native._lib.c2pa_builder_add_ingredient_from_stream(
            builder._handle,
            _native._to_utf8_bytes(ing_json, "ingredient JSON"),
            _native._to_utf8_bytes(mime, "ingredient format"),
            stream,
        )
    if result != 0:
        _raise_native("the ingredient could not be added")


def sign_stream(
    *,
    manifest: dict[str, Any],
    signer: NativeSignerSpec,
    mime: str,
    source: BinaryIO,
    dest: BinaryIO,
    ingredients: Sequence[NativeIngredient] = (),
    trust: TrustConfig | None = None,
    remote_url: str | None = None,
    embed: bool = True,
) -> bytes:
    """Build, sign and (unless ``embed`` is False) embed a manifest; returns the manifest
    bytes. ``remote_url`` writes a reference to where the manifest will be published."""
    settings = signing_settings(mime)
    if trust is not None:
        settings["trust"] = settings_for(trust, ReadOptions())["trust"]
    with _signing_builder(manifest, signer, settings, ingredients, in_context=False) as (
        builder,
        native_signer,
    ):
        if not embed:
            builder.set_no_embed()
        if remote_url:
            builder.set_remote_url(remote_url)
        result: bytes = builder.sign(native_signer, mime, source, dest)
        return result


@contextmanager
def _signing_builder(
    manifest: dict[str, Any],
    signer: NativeSignerSpec,
    settings: dict[str, Any],
    ingredients: Sequence[NativeIngredient],
    *,
    in_context: bool,
) -> Iterator[tuple[Any, Any]]:
    """A Builder under ``settings`` with the ingredients added, and its native signer
    (given to the context too when ``in_context``); C2PA errors become SigningError and
    the signer is released whatever happens."""
    native_signer = _make_signer(signer)
    try:
        ctx = (
            c2pa.Context(settings=c2pa.Settings.from_dict(settings), signer=native_signer)
            if in_context
            else c2pa.Context.from_dict(settings)
        )
        with ctx, c2pa.Builder.from_json(manifest, ctx) as builder:
            add_ingredients(builder, ingredients)
            yield builder, native_signer
    except c2pa.C2paError as exc:
        raise SigningError(f"the C2PA library could not sign: {_detail(exc)}") from exc
    finally:
        try:
            native_signer.close()
        except Exception:  # already consumed or closed by the native side
            pass


# ---------------------------------------------------------------------------
# native access for the fast signing path (provenance/_fastsign.py): the loaded
# library, the builder's and a stream's native handles, the last native error


def native_library() -> Any:
    """The loaded libc2pa (a ctypes library), or None."""
    from c2pa import c2pa as native

    return getattr(native, "_lib", None)


def native_error() -> str | None:
    from c2pa import c2pa as native

    text: str | None = native._read_native_error()
    return text


def builder_handle(builder: Any) -> int:
    value = ctypes.cast(builder._handle, ctypes.c_void_p).value
    if not value:
        raise SigningError("the C2PA builder has no native handle")
    return int(value)


@contextmanager
def native_stream(f: Any) -> Iterator[int]:
    """A c2pa stream over the file object ``f``: its native handle."""
    with c2pa.Stream(f) as stream:
        yield int(ctypes.cast(stream._stream, ctypes.c_void_p).value or 0)


@contextmanager
def embeddable_builder(
    manifest: dict[str, Any],
    signer: NativeSignerSpec,
    mime: str,
    ingredients: Sequence[NativeIngredient],
) -> Iterator[Any]:
    """A Builder with the signing settings, the signer in its context and the
    ingredients added; C2PA errors become SigningError."""
    settings = signing_settings(mime)
    with _signing_builder(manifest, signer, settings, ingredients, in_context=True) as (
        builder,
        _,
    ):
        yield builder


def check_allowed_hashes(path: str, hash_lines: str) -> bool:
    """Whether the active manifest's signing certificate is one of the given base64 SHA-256
    certificate hashes, as judged by the C2PA library's own allowed-list check."""
    settings = {
        "version": 1,
        "trust": {
            "trust_config": _SIGNER_EKUS,
            "anchors": [
                {
                    "trust_anchors": "",
                    "trust_kind": "manifest",
                    "allowed_list": hash_lines,
                    "trust_uri": "provcheck:fingerprints",
                }
            ],
        },
        "verify": {"verify_trust": True, "remote_manifest_fetch": False, "ocsp_fetch": False},
    }
    try:
        with c2pa.Context.from_dict(settings) as ctx, open(path, "rb") as f:
            reader = _try_reader(None, f, ctx)
            if reader is None:
                return False
            with reader:
                store = json.loads(reader.json())
    except (c2pa.C2paError, OSError, json.JSONDecodeError):
        return False
    active = (store.get("validation_results") or {}).get("activeManifest") or {}
    return any(
        isinstance(c, dict) and c.get("code") == "signingCredential.trusted"
        for c in active.get("success") or []
    )
