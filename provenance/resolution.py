"""The C2PA Soft Binding Resolution API: serve a manifest repository, and query one.

The platform that signed a clip holds its manifest; an auditor elsewhere holds a stripped,
re-encoded copy. The C2PA specification defines the web API between them (matches by
binding value, matches by content, manifests by identifier, supported algorithms); this
module is both ends of it.

Server (:func:`create_app`, an ASGI app on Starlette): read-only; every response bounded
(upload size, ``maxResults``, a per-client request rate, a fingerprinting time limit).

Client (:class:`RemoteRepository`): a read-only :class:`~provenance.repository.ManifestStore`
whose lookups ask a server by binding value. The fingerprint is computed here, so the
content never leaves the machine (unless :meth:`RemoteRepository.lookup_content` is
called). Nothing the server says is believed: the manifests it returns are accepted only
when their own signed soft-binding assertion matches the query clip (compared here), and
recovery then validates them under the caller's trust like any stored manifest.
"""

from __future__ import annotations

import asyncio
import binascii
import builtins
import io
import ipaddress
import json
import os
import ssl
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from . import fingerprint as fp_mod
from .errors import InputError, NetworkError
from .fingerprint import FingerprintError, Match, VideoFingerprint
from .repository import (
    Entry,
    EntryInfo,
    LookupResult,
    ManifestStore,
    NewEntry,
    RepositoryError,
)
from .repository.protocol import _StoreBase

if TYPE_CHECKING:  # pragma: no cover
    from starlette.applications import Starlette

__all__ = [
    "DEFAULT_MAX_UPLOAD",
    "RateLimit",
    "RemoteRepository",
    "create_app",
    "openapi_document",
    "serve",
    "supported_algorithms",
]

DEFAULT_MAX_UPLOAD = 64 * 1024 * 1024  # bytes of an uploaded clip (byContent)
MAX_RESULTS = 100  # the most matches one query returns, whatever maxResults says
MAX_BINDING_VALUE = 1024 * 1024  # characters of a base64 binding value
MAX_MANIFEST = 32 * 1024 * 1024  # bytes of one manifest store the client accepts
_UPLOAD_MIME_PREFIXES = ("video/", "application/octet-stream")


def supported_algorithms() -> builtins.list[str]:
    """The soft-binding algorithms provcheck can compute and compare."""
    algs = getattr(fp_mod, "ALGORITHMS", None)
    return list(algs) if algs else [fp_mod.ALGORITHM]


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the API this server implements (from the C2PA spec)."""
    text = resources.files("provenance").joinpath("resolution_openapi.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    # The algorithms are this build's own: the document names exactly what is served.
    algs = supported_algorithms()
    for op in (("get", "/matches/byBinding"), ("post", "/matches/byContent")):
        for param in doc["paths"][op[1]][op[0]]["parameters"]:
            if param["name"] == "alg":
                param["schema"] = {"type": "string", "enum": algs}
    query = doc["components"]["schemas"]["c2pa.softBindingQuery"]["properties"]
    query["alg"] = {"type": "string", "enum": algs}
    return doc


def _binding_fingerprint(alg: str, value: str) -> VideoFingerprint:
    """Decode a binding value of a supported algorithm; InputError if it is not one."""
    if alg not in supported_algorithms():
        raise InputError(f"unsupported soft-binding algorithm {alg[:100]!r}")
    if len(value) > MAX_BINDING_VALUE:
        raise InputError("binding value too large")
    data = {"alg": alg, "blocks": [{"scope": {}, "value": value}]}
    try:
        fp = fp_mod.from_soft_binding(data)
    except FingerprintError as exc:
        raise InputError(f"invalid binding value: {exc}") from exc
    if fp is None:
        raise InputError(f"unsupported soft-binding algorithm {alg[:100]!r}")
    return fp


def _binding_value(fp: VideoFingerprint) -> str:
    block = fp_mod.soft_binding_assertion(fp)["data"]["blocks"][0]
    return str(block["value"])


# -- server --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` per ``per`` seconds from one client address (a token bucket)."""

    requests: int = 120
    per: float = 60.0


class _Buckets:
    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._state: dict[str, tuple[float, float]] = {}

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        rate = self.limit.requests / self.limit.per
        tokens, last = self._state.get(client, (float(self.limit.requests), now))
        tokens = min(float(self.limit.requests), tokens + (now - last) * rate)
        if len(self._state) > 10_000:  # bounded memory under many client addresses
            self._state.clear()
        if tokens < 1.0:
            self._state[client] = (tokens, now)
            return False
        self._state[client] = (tokens - 1.0, now)
        return True


def create_app(
    store: ManifestStore,
    *,
    max_upload: int = DEFAULT_MAX_UPLOAD,
    rate_limit: RateLimit | None = None,
    fingerprint_timeout: float = 60.0,
    max_concurrent_uploads: int = 2,
) -> Starlette:
    """An ASGI app serving ``store`` over the Soft Binding Resolution API, read-only."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    buckets = _Buckets(rate_limit or RateLimit())
    uploads = asyncio.Semaphore(max_concurrent_uploads)

    def error(status: int, message: str) -> Response:
        return JSONResponse({"error": message}, status_code=status)

    def max_results(request: Request) -> int:
        raw = request.query_params.get("maxResults", "10")
        try:
            n = int(raw)
        except ValueError:
            raise InputError("maxResults must be an integer") from None
        if n < 1:
            raise InputError("maxResults must be at least 1")
        return min(n, MAX_RESULTS)

    def matches(fp: VideoFingerprint, limit: int) -> Response:
        found = store.lookup(fp, limit=limit)
        return JSONResponse(
            {
                "matches": [
                    {
                        "manifestId": entry.id,
                        "similarityScore": max(0, min(100, round(m.similarity * 100))),
                    }
                    for entry, m in found[:limit]
                ]
            }
        )

    async def guarded(request: Request, handler: Any) -> Response:
        client = request.client.host if request.client else "unknown"
        if not buckets.allow(client):
            return Response(
                json.dumps({"error": "too many requests"}),
                status_code=429,
                media_type="application/json",
                headers={"Retry-After": "1"},
            )
        try:
            response: Response = await handler(request)
            return response
        except InputError as exc:
            return error(400, str(exc))
        except RepositoryError as exc:
            return error(500, f"repository failure: {exc}")

    async def by_binding_get(request: Request) -> Response:
        async def run(request: Request) -> Response:
            alg = request.query_params.get("alg")
            value = request.query_params.get("value")
            if not alg or value is None:
                raise InputError("alg and value are required")
            return matches(_binding_fingerprint(alg, value), max_results(request))

        return await guarded(request, run)

    async def by_binding_post(request: Request) -> Response:
        async def run(request: Request) -> Response:
            body = await _read_body(request, MAX_BINDING_VALUE + 4096)
            try:
                doc = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise InputError("the request body is not a JSON document") from None
            if not isinstance(doc, dict):
                raise InputError("the request body must be a JSON object")
            alg, value = doc.get("alg"), doc.get("value")
            if not isinstance(alg, str) or not isinstance(value, str):
                raise InputError("alg and value (strings) are required")
            return matches(_binding_fingerprint(alg, value), max_results(request))

        return await guarded(request, run)

    async def by_content(request: Request) -> Response:
        async def run(request: Request) -> Response:
            limit = max_results(request)
            alg = request.query_params.get("alg")
            if alg is not None and alg not in supported_algorithms():
                raise InputError(f"unsupported soft-binding algorithm {alg[:100]!r}")
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if not ctype.startswith(_UPLOAD_MIME_PREFIXES):
                return error(415, "only video content can be matched here")
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_upload:
                return error(413, f"the upload is larger than {max_upload} bytes")
            body = await _read_body(request, max_upload)
            if not body:
                raise InputError("empty upload")
            async with uploads:
                try:
                    fp = await asyncio.get_running_loop().run_in_executor(
                        None, _fingerprint_bytes, body, fingerprint_timeout
                    )
                except FingerprintFailed as exc:
                    return error(415, str(exc))
            return matches(fp, limit)

        try:
            return await guarded(request, run)
        except _TooLarge:
            return error(413, f"the upload is larger than {max_upload} bytes")

    async def manifest(request: Request) -> Response:
        async def run(request: Request) -> Response:
            active = request.query_params.get("returnActiveManifest", "false").lower()
            if active not in ("true", "false"):
                raise InputError("returnActiveManifest must be true or false")
            if active == "true":
                raise InputError(
                    "returnActiveManifest=true is not supported: the whole manifest store "
                    "is returned (its active manifest is marked inside it)"
                )
            entry = store.get(request.path_params["manifest_id"])
            if entry is None:
                return error(404, "no manifest with that identifier")
            return Response(entry.manifest, media_type="application/c2pa")

        return await guarded(request, run)

    async def algorithms(request: Request) -> Response:
        async def run(request: Request) -> Response:
            return JSONResponse(
                {"fingerprints": [{"alg": a} for a in supported_algorithms()], "watermarks": []}
            )

        return await guarded(request, run)

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    return Starlette(
        routes=[
            Route("/matches/byBinding", by_binding_get, methods=["GET"]),
            Route("/matches/byBinding", by_binding_post, methods=["POST"]),
            Route("/matches/byContent", by_content, methods=["POST"]),
            Route("/manifests/{manifest_id:str}", manifest, methods=["GET"]),
            Route("/services/supportedAlgorithms", algorithms, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
        ]
    )


class _TooLarge(Exception):
    pass


class FingerprintFailed(InputError):
    """The uploaded content could not be fingerprinted."""


async def _read_body(request: Any, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _fingerprint_bytes(body: bytes, timeout: float) -> VideoFingerprint:
    fd, path = tempfile.mkstemp(prefix="provcheck-upload-", suffix=".bin")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        try:
            return fp_mod.compute(path, timeout=timeout)
        except InputError as exc:
            # The message names our temporary file: say "the upload" instead.
            raise FingerprintFailed(
                "the upload cannot be fingerprinted: " + str(exc).split(": ", 1)[-1]
            ) from exc
    finally:
        os.unlink(path)


def serve(
    store: ManifestStore,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    max_upload: int = DEFAULT_MAX_UPLOAD,
    rate_limit: RateLimit | None = None,
) -> None:  # pragma: no cover - exercised through the CLI in a real process
    """Run the server until interrupted (uvicorn, one process)."""
    import uvicorn

    app = create_app(store, max_upload=max_upload, rate_limit=rate_limit)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_keep_alive=5,
        limit_concurrency=64,
        h11_max_incomplete_event_size=64 * 1024,
    )


# -- client --------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RemoteRepository(_StoreBase):
    """A read-only manifest repository behind a Soft Binding Resolution API endpoint.

    ``lookup`` sends only the fingerprint (as a binding value). Each manifest the server
    names is fetched and kept only when its own signed ``c2pa.soft-binding`` fingerprint
    matches the query here; the similarity reported is ours, never the server's.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        cafile: str | os.PathLike[str] | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise RepositoryError(f"{base_url}: not an http(s) URL of a resolution service")
        if (
            parsed.scheme == "http"
            and not allow_insecure_http
            and not _is_loopback(parsed.hostname)
        ):
            raise RepositoryError(
                f"{base_url}: plain HTTP would let anyone on the network path see your "
                "queries; use https:// (or allow insecure HTTP explicitly)"
            )
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._ssl = ssl.create_default_context(cafile=os.fspath(cafile) if cafile else None)
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=self._ssl),
            _NoDowngrade(parsed.scheme == "https"),
        )

    def __repr__(self) -> str:
        return f"RemoteRepository({self.base_url!r})"

    # The ManifestStore surface -------------------------------------------------------

    def lookup(
        self, fingerprint: VideoFingerprint, limit: int = 10
    ) -> builtins.list[tuple[Entry, Match]]:
        query = urllib.parse.urlencode(
            {
                "alg": fingerprint.algorithm,
                "value": _binding_value(fingerprint),
                "maxResults": max(1, min(limit, MAX_RESULTS)),
            }
        )
        path = f"/matches/byBinding?{query}"
        if len(path) > 6000:  # long values go in a POST body, as the spec suggests
            body = json.dumps(
                {"alg": fingerprint.algorithm, "value": _binding_value(fingerprint)}
            ).encode()
            doc = self._json(
                f"/matches/byBinding?maxResults={max(1, min(limit, MAX_RESULTS))}",
                body,
                "application/json",
            )
        else:
            doc = self._json(path)
        return self._verified(doc, fingerprint, limit)

    def lookup_content(
        self, path: str | os.PathLike[str], limit: int = 10
    ) -> builtins.list[tuple[Entry, Match]]:
        """Like :meth:`lookup`, but uploads the clip itself (it leaves this machine)."""
        local = fp_mod.compute(path)
        with open(path, "rb") as f:
            data = f.read(DEFAULT_MAX_UPLOAD + 1)
        if len(data) > DEFAULT_MAX_UPLOAD:
            raise RepositoryError(f"{os.fspath(path)}: too large to upload")
        doc = self._json(
            f"/matches/byContent?maxResults={max(1, min(limit, MAX_RESULTS))}",
            data,
            "video/mp4",
        )
        return self._verified(doc, local, limit)

    @property
    def location(self) -> str:
        return self.base_url

    def init(self) -> int:
        raise RepositoryError(f"{self.base_url}: a resolution service has no schema to create")

    def add_many(self, items: Iterable[NewEntry]) -> builtins.list[Entry]:
        raise RepositoryError(f"{self.base_url}: a resolution service is read-only here")

    def search(self, fingerprint: VideoFingerprint, limit: int = 10) -> LookupResult:
        found = self.lookup(fingerprint, limit)
        return LookupResult(tuple(found), candidates=len(found), postings=0)

    def scan(
        self, fingerprint: VideoFingerprint, limit: int = 10
    ) -> builtins.list[tuple[Entry, Match]]:
        return self.lookup(fingerprint, limit)

    def __len__(self) -> int:
        raise RepositoryError(f"{self.base_url}: a resolution service cannot be counted")

    def get(self, entry_id: str) -> Entry | None:
        data = self._get_manifest(entry_id)
        if data is None:
            return None
        fp = _manifest_fingerprint(data)
        if fp is None:
            return None
        return Entry(entry_id, data, fp, {}, 0.0)

    def add(
        self,
        manifest: bytes,
        fingerprint: VideoFingerprint,
        summary: Mapping[str, object] | None = None,
        *,
        entry_id: str | None = None,
    ) -> Entry:
        raise RepositoryError(f"{self.base_url}: a resolution service is read-only here")

    def list(self, limit: int | None = None, offset: int = 0) -> builtins.list[EntryInfo]:
        raise RepositoryError(f"{self.base_url}: a resolution service cannot be listed")

    def remove(self, entry_id: str) -> bool:
        raise RepositoryError(f"{self.base_url}: a resolution service is read-only here")

    def close(self) -> None:
        """Nothing to release: every request is its own connection."""

    # Internals ----------------------------------------------------------------------

    def _verified(
        self, doc: Any, query: VideoFingerprint, limit: int
    ) -> builtins.list[tuple[Entry, Match]]:
        raw = doc.get("matches") if isinstance(doc, dict) else None
        if not isinstance(raw, builtins.list):
            raise RepositoryError(f"{self.base_url}: the answer has no list of matches")
        ids: builtins.list[str] = []
        for item in raw:
            mid = item.get("manifestId") if isinstance(item, dict) else None
            if isinstance(mid, str) and mid and mid not in ids:
                ids.append(mid)
        out: builtins.list[tuple[Entry, Match]] = []
        for mid in ids[: max(1, min(limit, MAX_RESULTS))]:
            entry = self.get(mid)
            if entry is None:
                continue
            match = fp_mod.compare(query, entry.fingerprint)
            if match is not None:
                out.append((entry, match))
        out.sort(key=lambda em: -em[1].similarity)
        return out

    def _get_manifest(self, entry_id: str) -> bytes | None:
        quoted = urllib.parse.quote(entry_id, safe="")
        try:
            return self._request(f"/manifests/{quoted}", None, None, MAX_MANIFEST)
        except _NotFound:
            return None

    def _json(self, path: str, body: bytes | None = None, ctype: str | None = None) -> Any:
        data = self._request(path, body, ctype, 4 * 1024 * 1024)
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RepositoryError(f"{self.base_url}: the answer is not JSON") from exc

    def _request(self, path: str, body: bytes | None, ctype: str | None, limit: int) -> bytes:
        url = self.base_url + path
        req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
        if ctype:
            req.add_header("Content-Type", ctype)
        req.add_header("Accept", "application/json, application/c2pa")
        # `timeout` bounds each socket operation; the deadline bounds the whole answer, so
        # a server that drips a byte at a time cannot hold the caller.
        deadline = time.monotonic() + 4 * self.timeout
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                chunks: list[bytes] = []
                size = 0
                while size <= limit:
                    if time.monotonic() > deadline:
                        raise NetworkError(
                            f"{self.base_url}: the answer took longer than {4 * self.timeout:.0f} s"
                        )
                    chunk = resp.read1(min(65536, limit + 1 - size))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                data = b"".join(chunks)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise _NotFound from exc
            raise NetworkError(
                f"{self.base_url}: the resolution service answered {exc.code} {exc.reason}"
            ) from exc
        except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "reason", exc)
            raise NetworkError(f"{self.base_url}: cannot reach the service ({reason})") from exc
        if len(data) > limit:
            raise RepositoryError(f"{url}: the answer is larger than {limit} bytes")
        return data


class _NotFound(Exception):
    pass


class _NoDowngrade(urllib.request.HTTPRedirectHandler):
    """Redirects are followed only to https:// when the service was named with https://
    (the query, a fingerprint, never leaves TLS)."""

    def __init__(self, https_only: bool) -> None:
        self.https_only = https_only

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        if self.https_only and not newurl.lower().startswith("https://"):
            raise NetworkError(f"{req.full_url}: refused a redirect off HTTPS to {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _manifest_fingerprint(store: bytes) -> VideoFingerprint | None:
    """The fingerprint a manifest store's active manifest signed into its soft binding."""
    from . import _c2pa
    from .trust import TrustConfig

    ctx = _c2pa.ReadContext(TrustConfig(), _c2pa.ReadOptions())
    try:
        raw = ctx.read_with_manifest("video/mp4", io.BytesIO(b""), store)
    except _c2pa.ReadFailure:
        return None
    finally:
        ctx.close()
    doc = raw.store or {}
    active = doc.get("manifests", {}).get(doc.get("active_manifest") or "", {})
    for assertion in active.get("assertions", []) if isinstance(active, dict) else []:
        if not isinstance(assertion, dict):
            continue
        if str(assertion.get("label", "")).startswith(fp_mod.SOFT_BINDING_LABEL):
            try:
                fp = fp_mod.from_soft_binding(assertion)
            except (FingerprintError, binascii.Error, ValueError):
                continue
            if fp is not None:
                return fp
    return None
