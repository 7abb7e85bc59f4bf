"""Odd values and special files where the gate expects a policy, a prompt or a source:
a clear error naming the problem, never a hang, never an internal error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provenance import Policy, PolicyError, gate
from provenance._hashing import sha256_file
from provenance.errors import InputError
from provenance.policy import read_prompt_file

from . import policy_support
from .policy_support import TRUST, failed

clips = policy_support.clips  # the module-scoped fixture


@pytest.mark.parametrize(
    "value",
    ["inf", "-inf", "nan", '"99999999999d"', "-5", "true", '"-5s"', '"1e3d"', "[1]", "1e400"],
)
def test_bad_max_signature_age(tmp_path: Path, value: str) -> None:
    p = tmp_path / "p.toml"
    p.write_text(f"[output]\nmax_signature_age = {value}\n")
    with pytest.raises(PolicyError, match=r"p\.toml: max_signature_age"):
        Policy.from_toml(p)


@pytest.mark.parametrize(("value", "seconds"), [('"30d"', 30 * 86400), ("90", 90), ("1.5", 1.5)])
def test_good_max_signature_age(value: str, seconds: float) -> None:
    import tomllib

    doc = tomllib.loads(f"[output]\nmax_signature_age = {value}\n")
    [*_, rule] = Policy.from_mapping(doc).output
    assert rule.max_age.total_seconds() == seconds  # type: ignore[attr-defined]


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.timeout(30)
def test_a_fifo_as_policy_is_refused_without_hanging(fifo: Path) -> None:
    with pytest.raises(
        PolicyError, match=r"cannot read policy: .*pipe: not a regular file \(a FIFO\)"
    ):
        Policy.from_toml(fifo)


@pytest.mark.timeout(30)
def test_a_fifo_as_prompt_file_is_refused_without_hanging(fifo: Path) -> None:
    with pytest.raises(PolicyError, match=r"prompt file.*not a regular file \(a FIFO\)"):
        read_prompt_file(fifo)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("reader", [Policy.from_toml, read_prompt_file])
def test_dev_zero_and_a_directory_are_refused(reader: object, tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"/dev/zero: not a regular file \(a device\)"):
        reader("/dev/zero")  # type: ignore[operator]
    with pytest.raises(PolicyError, match=r"not a regular file \(a directory\)"):
        reader(tmp_path)  # type: ignore[operator]
    with pytest.raises(PolicyError, match=r"missing\.txt: cannot open: No such file"):
        reader(tmp_path / "missing.txt")  # type: ignore[operator]


def test_a_huge_prompt_file_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(1 << 30)  # sparse: 1 GiB of nothing on disk
    with pytest.raises(PolicyError, match="larger than 1048576 bytes"):
        read_prompt_file(big)
    small = tmp_path / "small.txt"
    small.write_text("x" * 20)
    with pytest.raises(PolicyError, match="larger than 10 bytes"):
        read_prompt_file(small, limit=10)


def test_a_non_utf8_prompt_file(tmp_path: Path) -> None:
    p = tmp_path / "latin1.txt"
    p.write_bytes("caf\u00e9 au lait".encode("latin-1"))
    with pytest.raises(
        PolicyError, match=r"latin1\.txt: prompt file is not UTF-8 text \(byte 0xe9 at offset 3\)"
    ):
        read_prompt_file(p)
    p.write_text("un caf\u00e9\n", encoding="utf-8")
    assert read_prompt_file(p) == "un caf\u00e9\n"


def test_a_non_utf8_policy_file(tmp_path: Path) -> None:
    p = tmp_path / "p.toml"
    p.write_bytes(b"[prompt]\nblocked_terms = ['\xff']\n")
    with pytest.raises(PolicyError, match=r"p\.toml: policy is not UTF-8 text"):
        Policy.from_toml(p)


@pytest.mark.timeout(60)
def test_a_fifo_as_source_does_not_hang_the_gate(clips: dict[str, Path], fifo: Path) -> None:
    with pytest.raises(InputError, match="not a regular file"):
        sha256_file(fifo)
    d = gate(clips["good"], policy=Policy(), trust=TRUST, sources=[fifo])
    assert "not a regular file" in failed(d)["refuse-tampered-sources"]
