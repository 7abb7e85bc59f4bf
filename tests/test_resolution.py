"""The Soft Binding Resolution API, both ends, over real HTTP on loopback.

A real server process serves a SQLite repository; the client recovers a stripped,
re-encoded clip from it, validating the manifest locally; a server that lies is not
believed; schemathesis checks the implementation against the OpenAPI document.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance import SQLiteRepository, TrustConfig, Verdict, sign, verify
from provenance import fingerprint as fp_mod
from provenance.errors import NetworkError
from provenance.repository import RepositoryError
from provenance.resolution import RemoteRepository, openapi_document

from . import videogen as vg
from .conftest import SIGNER, TEST_ROOT, TRUST


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _server(db: Path, *, max_upload: int = 64 << 20, rate: int = 100_000) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "provcheck", "repo", "serve", "--repository", str(db)),
            *("--port", str(port), "--max-upload", str(max_upload), "--rate", str(rate)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/services/supportedAlgorithms", timeout=1).read()
                break
            except (urllib.error.URLError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise AssertionError(err) from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("resolution")
    clip = vg.make_clip(d / "generated.mp4", vg.ClipSpec(seed=21, seconds=6))
    db = d / "repo.sqlite3"
    with SQLiteRepository(db) as repo:
        sign(clip, d / "signed.mp4", signer=SIGNER, ai="fully", repository=repo, title="dusk")
    other = vg.make_clip(d / "other.mp4", vg.ClipSpec(seed=22, seconds=6))
    return {
        "db": db,
        "signed": d / "signed.mp4",
        "copy": vg.reencode(d / "signed.mp4", d / "copy.mp4", crf=30),
        "other": other,
        "dir": d,
    }


@pytest.fixture(scope="module")
def server(world: dict[str, Path]) -> Iterator[str]:
    with _server(world["db"]) as url:
        yield url


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_auditor_recovers_a_stripped_reencoded_clip_over_http(
    world: dict[str, Path], server: str
) -> None:
    remote = RemoteRepository(server)
    report = verify(world["copy"], trust=TRUST, repository=remote)
    assert report.verdict is Verdict.STRIPPED, report.reason
    assert report.recovered is not None
    assert report.recovered.verdict == "trusted"
    assert report.recovered.ai_generated.value == "fully"
    # An unrelated clip is not matched.
    assert verify(world["other"], trust=TRUST, repository=remote).verdict is Verdict.UNSIGNED
    # Under a trust that does not include the signer, the original is not trusted.
    untrusted = verify(world["copy"], trust=TrustConfig(), repository=remote)
    assert untrusted.recovered is not None and untrusted.recovered.verdict == "untrusted"


def test_the_binding_query_carries_only_the_fingerprint(
    world: dict[str, Path], server: str
) -> None:
    fp = fp_mod.compute(world["copy"])
    value = fp_mod.soft_binding_assertion(fp)["data"]["blocks"][0]["value"]
    status, body = _get(
        f"{server}/matches/byBinding?alg={fp.algorithm}&value={urllib.parse.quote(value)}"
    )
    assert status == 200
    (match,) = json.loads(body)["matches"]
    assert match["manifestId"].startswith("sha256:") and 0 <= match["similarityScore"] <= 100
    status, store = _get(f"{server}/manifests/{urllib.parse.quote(match['manifestId'])}")
    assert status == 200 and store[4:8] == b"jumb"


def test_supported_algorithms_and_errors(server: str) -> None:
    status, body = _get(server + "/services/supportedAlgorithms")
    assert status == 200
    assert {"alg": fp_mod.ALGORITHM} in json.loads(body)["fingerprints"]
    status, body = _get(server + "/matches/byBinding?alg=com.example.nope&value=AAAA")
    assert status == 400 and "unsupported" in json.loads(body)["error"]
    status, body = _get(server + "/matches/byBinding?alg=" + fp_mod.ALGORITHM + "&value=%%%")
    assert status == 400
    assert _get(server + "/manifests/sha256:0000")[0] == 404


def test_content_upload_is_bounded(world: dict[str, Path], tmp_path: Path) -> None:
    with _server(world["db"], max_upload=10_000) as url:
        data = world["copy"].read_bytes()
        assert len(data) > 10_000
        req = urllib.request.Request(
            url + "/matches/byContent", data=data, headers={"Content-Type": "video/mp4"}
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=30)
        assert err.value.code == 413
        req = urllib.request.Request(
            url + "/matches/byContent", data=b"not a video", headers={"Content-Type": "video/mp4"}
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=30)
        assert err.value.code == 415


def test_lookup_by_uploaded_content(world: dict[str, Path], server: str) -> None:
    remote = RemoteRepository(server)
    ((entry, match),) = remote.lookup_content(world["copy"])
    assert entry.id.startswith("sha256:") and match.similarity > 0.5


def test_rate_limit_answers_429(world: dict[str, Path]) -> None:
    with _server(world["db"], rate=5) as url:
        codes = [_get(url + "/services/supportedAlgorithms")[0] for _ in range(12)]
    assert codes.count(200) >= 4 and 429 in codes


def test_a_lying_server_is_not_believed(world: dict[str, Path], tmp_path: Path) -> None:
    """A repository that files a trusted manifest under another clip's fingerprint: the
    manifest's own signed soft binding does not match the query, so nothing is recovered."""
    liar_db = tmp_path / "liar.sqlite3"
    with SQLiteRepository(world["db"]) as honest, SQLiteRepository(liar_db) as liar:
        (info,) = honest.list()
        entry = honest.get(info.id)
        assert entry is not None
        liar.add(entry.manifest, fp_mod.compute(world["other"]), {"title": "forged"})
    with _server(liar_db) as url:
        report = verify(world["other"], trust=TRUST, repository=RemoteRepository(url))
    assert report.verdict is Verdict.UNSIGNED
    assert report.recovered is None


def test_client_refuses_plain_http_off_loopback_and_names_unreachable() -> None:
    with pytest.raises(RepositoryError, match="plain HTTP"):
        RemoteRepository("http://example.org/sbr")
    remote = RemoteRepository(f"http://127.0.0.1:{_free_port()}", timeout=2)
    fp = fp_mod.VideoFingerprint(fp_mod.ALGORITHM, (1,), (0.0,), 1.0)
    with pytest.raises(NetworkError, match="cannot reach"):
        remote.lookup(fp)


def test_openapi_document_is_served(server: str) -> None:
    status, body = _get(server + "/openapi.json")
    assert status == 200 and json.loads(body) == openapi_document()


def test_conformance_with_schemathesis(server: str) -> None:
    """A property-based API tester finds no deviation from the OpenAPI document."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import positive_data_acceptance

    schema = schemathesis.openapi.from_url(server + "/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 5
    for op in operations:

        @given(case=op.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            # Every check but "schema-valid data is accepted": a binding value's inner
            # format (a fingerprint of that algorithm) is beyond what JSON Schema can say,
            # so a well-formed base64 string that is no fingerprint is rightly a 400.
            case.call_and_validate(
                base_url=server, timeout=30, excluded_checks=[positive_data_acceptance]
            )

        try:
            check()
        except Exception as exc:  # collect every operation's deviation, then fail once
            failures.append(f"{op.method.upper()} {op.path}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_binding_value_roundtrip() -> None:
    fp = fp_mod.VideoFingerprint(fp_mod.ALGORITHM, (5, 7), (0.0, 0.5), 1.0)
    value = fp_mod.soft_binding_assertion(fp)["data"]["blocks"][0]["value"]
    assert fp_mod.VideoFingerprint.from_bytes(base64.b64decode(value)) == fp
    assert os.path.exists(Path(__file__))


def test_cli_recovers_through_a_served_repository(world: dict[str, Path], server: str) -> None:
    """`provcheck --repository http://127.0.0.1:PORT FILE`, the auditor's one command."""
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "provcheck", "--format", "json"),
            *("--trust", str(TEST_ROOT), "--repository", server, str(world["copy"])),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    (result,) = json.loads(proc.stdout)["results"]
    assert result["verdict"] == "stripped", proc.stderr
    assert result["recovered"]["verdict"] == "trusted"
    assert proc.returncode == 3


def test_audit_recovers_through_a_served_repository(
    world: dict[str, Path], server: str, tmp_path: Path
) -> None:
    """`provcheck audit DIR --repository URL`: each isolated worker opens the service."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    for name in ("copy", "other"):
        (folder / f"{name}.mp4").write_bytes(world[name].read_bytes())
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "provcheck", "audit", str(folder), "--format", "json"),
            *("--trust", str(TEST_ROOT), "--repository", server),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    verdicts = {Path(r["path"]).name: r["verdict"] for r in json.loads(proc.stdout)["results"]}
    assert verdicts == {"copy.mp4": "stripped", "other.mp4": "unsigned"}, proc.stderr
