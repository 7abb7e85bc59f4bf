"""Soft binding through each repository backend: sign a real clip with the repository
opened from a path or a PostgreSQL URL, re-encode it, and recover its credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance import PemSigner, TrustConfig, Verdict, sign, verify
from provenance.model import AIGeneration
from provenance.repository import open_repository

from . import videogen as vg
from .conftest import FIXTURES, TEST_ROOT
from .pg_server import (  # noqa: F401  (fixtures)
    postgres_server,
    postgres_url,
    repository_spec,
)

CA = FIXTURES / "testca"


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("backends")
    return {
        "clip": vg.make_clip(d / "generated.mp4", vg.ClipSpec(seed=21, seconds=5)),
        "other": vg.make_clip(d / "other.mp4", vg.ClipSpec(seed=22, seconds=5)),
        "dir": d,
    }


def test_a_stripped_copy_is_recovered_from_either_backend(
    spec: str, clips: dict[str, Path], tmp_path: Path
) -> None:
    signer = PemSigner.from_files(CA / "test-signer.key", CA / "test-signer-chain.pem")
    trust = TrustConfig.from_files(anchors=[TEST_ROOT])
    signed = tmp_path / "signed.mp4"
    with open_repository(spec) as repo:
        sign(clips["clip"], signed, signer=signer, ai="fully", repository=repo, title="dusk")
        assert len(repo) == 1
    copy = vg.reencode(signed, tmp_path / "crf32.mp4", crf=32)
    with open_repository(spec) as repo:  # another connection, as another process would
        report = verify(copy, trust=trust, repository=repo)
        unrelated = verify(clips["other"], trust=trust, repository=repo)
    assert report.verdict is Verdict.STRIPPED, report.reason
    assert report.recovered is not None and report.recovered.verdict == "trusted"
    assert report.ai_generated is AIGeneration.FULLY
    assert unrelated.verdict is Verdict.UNSIGNED
