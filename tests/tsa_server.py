"""A small RFC 3161 timestamp authority on loopback, for tests (cryptography + asn1crypto).

It answers TimeStampReq with a granted TimeStampResp whose token is a CMS SignedData
over a TSTInfo, signed by a TEST-ONLY TSA certificate (EKU timeStamping, critical).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import itertools
import threading
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from provenance import keys


@dataclass
class TestTSA:
    root_cert: x509.Certificate
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    url: str = ""
    clock: dt.datetime | None = None  # fixed genTime, else now
    requests: int = 0
    _serial: itertools.count = field(default_factory=lambda: itertools.count(1))

    def root_pem(self, path: Path) -> Path:
        path.write_bytes(self.root_cert.public_bytes(serialization.Encoding.PEM))
        return path

    def respond(self, body: bytes) -> bytes:
        req = tsp.TimeStampReq.load(body)
        gen_time = self.clock or dt.datetime.now(dt.UTC)
        info = tsp.TSTInfo(
            {
                "version": "v1",
                "policy": "1.3.6.1.4.1.99999.1",
                "message_imprint": req["message_imprint"],
                "serial_number": next(self._serial),
                "gen_time": gen_time,
                "nonce": req["nonce"].native if req["nonce"].native is not None else None,
            }
        )
        info_der = info.dump()
        cert_der = self.cert.public_bytes(serialization.Encoding.DER)
        a_cert = a_x509.Certificate.load(cert_der)
        signed_attrs = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
                cms.CMSAttribute(
                    {"type": "message_digest", "values": [hashlib.sha256(info_der).digest()]}
                ),
                cms.CMSAttribute(
                    {
                        "type": "signing_certificate_v2",
                        "values": [{"certs": [{"cert_hash": hashlib.sha256(cert_der).digest()}]}],
                    }
                ),
            ]
        )
        signature = self.key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": {
                            "issuer": a_cert.issuer,
                            "serial_number": a_cert.serial_number,
                        }
                    }
                ),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "signed_attrs": signed_attrs,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
                "signature": signature,
            }
        )
        signed_data = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
                "encap_content_info": {
                    "content_type": "tst_info",
                    "content": core.ParsableOctetString(info_der),
                },
                "certificates": [a_cert],
                "signer_infos": [signer_info],
            }
        )
        token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
        resp = tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})
        self.requests += 1
        return resp.dump()


def make_tsa(org: str = "provcheck test TSA") -> TestTSA:
    root_key = keys.generate_key("es256")
    root = keys.issue_certificate(
        subject_key=root_key,
        issuer_key=root_key,
        issuer_cert=None,
        cn=f"{org} Root (TEST ONLY)",
        org=org,
        ca=True,
    )
    tsa_key = keys.generate_key("es256")
    now = dt.datetime.now(dt.UTC)
    builder_cert = keys.issue_certificate(
        subject_key=tsa_key,
        issuer_key=root_key,
        issuer_cert=root,
        cn=f"{org} Responder (TEST ONLY)",
        org=org,
        ekus=[ExtendedKeyUsageOID.TIME_STAMPING],
        not_before=now - dt.timedelta(days=30),
        not_after=now + dt.timedelta(days=3650),
        critical_eku=True,
    )
    assert isinstance(tsa_key, ec.EllipticCurvePrivateKey)
    return TestTSA(root, builder_cert, tsa_key)


class _Handler(http.server.BaseHTTPRequestHandler):
    tsa: TestTSA

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        if self.path != "/tsa":  # any other path: a server that is not a TSA
            self.send_response(404)
            self.end_headers()
            return
        try:
            body = self.server.tsa.respond(self.rfile.read(length))  # type: ignore[attr-defined]
        except Exception:
            self.send_response(400)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class TSAServer:
    """Context manager: a TSA on 127.0.0.1 with a free port."""

    def __init__(self, tsa: TestTSA) -> None:
        self.tsa = tsa
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.tsa = tsa  # type: ignore[attr-defined]
        tsa.url = f"http://127.0.0.1:{self._server.server_address[1]}/tsa"

    def __enter__(self) -> TestTSA:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.tsa

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
