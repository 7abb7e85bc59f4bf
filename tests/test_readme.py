"""Every fenced code block of README.md runs, so the README cannot drift from the code.

- ``python`` blocks run with ``exec`` in a fresh workspace (a temporary folder holding the
  files the README names, made from the fixtures). Names the README leaves to the reader
  (``trust``, ``text``, ``my_classifier``, ``my_kms_client``) are given real stand-ins.
- ``sh`` blocks run command by command with bash in a fresh workspace, the installed
  ``provcheck`` on PATH. A command passes when it exits with a verdict code (0, 1, 3 or 4:
  a README may show an untrusted or tampered file) and prints no traceback; a usage error
  (2) or an unreadable file / internal error (5+) is drift.
- ``toml``, ``yaml`` and ``json`` blocks must parse; one whose first line is ``# NAME`` is
  also written into the workspace as NAME (``publish.toml`` is then used by the commands).
- A block that genuinely cannot run here (it downloads from the internet, or it is the
  set-up itself) opts out with ``<!-- readme-test: skip: REASON -->`` on the line just
  before its fence. Opt-outs are counted and capped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from provenance import PemSigner, TrustConfig, sign

from .conftest import CORPUS, FIXTURES, ROOT, SHARED_TRUST, TEST_ROOT, media
from .videogen import ClipSpec, _remux, make_clip

README = ROOT / "README.md"
# Each opt-out needs what a test cannot have: the internet, a reader's own machines, a
# database account, a long-running server (each of those is tested elsewhere, for real).
MAX_OPT_OUTS = 6
# provcheck's verdict codes: trusted / untrusted or refused / no credentials / tampered
OK_EXIT_CODES = {0, 1, 3, 4}
CA = FIXTURES / "testca"
SKIP = re.compile(r"<!--\s*readme-test:\s*skip:\s*(?P<reason>\S.*?)\s*-->")


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    skip_reason: str | None

    @property
    def id(self) -> str:
        return f"L{self.line}-{self.lang or 'text'}"


def readme_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^(`{3,}|~{3,})\s*([\w+-]*)", lines[i])
        if not fence:
            i += 1
            continue
        marker, lang = fence.group(1), fence.group(2).lower()
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and not lines[i].startswith(marker):
            body.append(lines[i])
            i += 1
        assert i < len(lines), f"README.md:{start + 1}: unclosed code block"
        prev = lines[start - 1] if start > 0 else ""
        skip = SKIP.search(prev)
        blocks.append(
            Block(start + 1, lang, "\n".join(body) + "\n", skip.group("reason") if skip else None)
        )
        i += 1
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
# Opted-out blocks are not collected at all (counted by a test), so a run shows 0 skipped.
RUNNABLE = [b for b in BLOCKS if b.skip_reason is None]
SHELL = {"sh", "bash", "shell", "console"}
DATA = {"toml", "yaml", "yml", "json"}


def shell_commands(code: str) -> list[str]:
    """Commands of a shell block: continuation lines joined, comments and blanks dropped."""
    commands, current = [], ""
    for raw in code.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip() and not current.lstrip().startswith("#"):
            commands.append(current.strip())
        current = ""
    return commands


def _header_name(block: Block) -> str | None:
    first = block.code.splitlines()[0] if block.code.strip() else ""
    m = re.match(r"^#\s*(\S+\.(?:toml|ya?ml|json))\b", first)
    return m.group(1) if m else None


# -- the workspace: every file the README names, made from the fixtures ------------------


@pytest.fixture(scope="session")
def workspace_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("readme-workspace")
    copies = {
        "photo.jpg": CORPUS / "no_manifest.jpg",  # an unsigned source photo
        "source-photo.jpg": CORPUS / "no_manifest.jpg",
        "b.jpg": media("photo_captured.jpg"),
        "a.mp4": media("captured.mp4"),
        "gen.mp4": media("unsigned.mp4"),
        "signed.mp4": media("ai_generated.mp4"),
        "init.mp4": CORPUS / "dashinit.mp4",
        "seg1.m4s": CORPUS / "dash1.m4s",
        "seg2.m4s": CORPUS / "dash1.m4s",
        "roots.pem": TEST_ROOT,
        "my-roots.pem": TEST_ROOT,
        "partner-roots.pem": TEST_ROOT,
        "tsa.pem": SHARED_TRUST / "C2PA-TSA-TRUST-LIST.pem",
        "tsa-roots.pem": SHARED_TRUST / "C2PA-TSA-TRUST-LIST.pem",
        "k.pem": CA / "test-signer.key",
        "chain.pem": CA / "test-signer-chain.pem",
    }
    for name, src in copies.items():
        shutil.copy(src, ws / name)
    chain = (CA / "test-signer-chain.pem").read_text()
    (ws / "signer.pem").write_text(chain[: chain.index("-----END CERTIFICATE-----") + 25] + "\n")
    # the README's PemSigner example passes passphrase=b"...": an encrypted key with exactly that
    key = serialization.load_pem_private_key((CA / "test-signer.key").read_bytes(), None)
    (ws / "signer.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"..."),
        )
    )
    (ws / "extra-assertions.json").write_text(
        json.dumps([{"label": "com.example.model-info", "data": {"model": "Example 2.1"}}])
    )
    # a re-upload of gen.mp4 that lost its credentials: a stream-copy remux
    _remux(media("unsigned.mp4"), ws / "downloaded-copy.mp4", audio=True)
    # clip.mp4: an AI clip signed as the Signing section shows (an unsigned photo ingredient)
    signer = PemSigner.from_files(CA / "test-signer.key", CA / "test-signer-chain.pem")
    sign(
        media("unsigned.mp4"),
        ws / "clip.mp4",
        signer=signer,
        ai="fully",
        ingredients=[ws / "photo.jpg"],
        software_agent="My Video Model 2.1",
    )
    # ad.mp4: 10 s of 320x240 H.264 with an AAC audio track ("Which part is AI")
    make_clip(ws / "ad.mp4", ClipSpec(seed=15, width=320, height=240, seconds=10))
    for folder, names in {
        "downloads": ["ai_generated.mp4", "tampered.mp4", "unsigned.mp4", "photo_captured.jpg"],
        "downloads/sub": ["captured.mp4"],
        "out": ["ai_generated.mp4", "partly.mp4"],
    }.items():
        (ws / folder).mkdir(parents=True)
        for name in names:
            shutil.copy(media(name), ws / folder / name)
    for block in BLOCKS:
        name = _header_name(block)
        if block.lang in DATA and name:
            (ws / name).write_text(block.code)
    return ws


@pytest.fixture
def workspace(workspace_template: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(workspace_template, ws)
    return ws


# -- stand-ins for the names the README leaves to the reader ------------------------------


class _ExampleKms:
    """A KMS client stand-in: signs with the TEST-ONLY key, returning a DER ECDSA signature
    as cloud KMS APIs do."""

    def sign(self, *, key_id: str, message: bytes, algorithm: str) -> bytes:
        assert algorithm == "ECDSA_SHA_256", algorithm
        key = serialization.load_pem_private_key((CA / "test-signer.key").read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key.sign(message, ec.ECDSA(hashes.SHA256()))


def _stand_ins() -> dict[str, object]:
    return {
        "__name__": "__readme__",
        "trust": TrustConfig.from_files(anchors=[TEST_ROOT]),
        "text": "a cat surfing",
        "my_classifier": lambda prompt: (True, "looks fine"),
        "my_kms_client": _ExampleKms(),
    }


# -- the tests ---------------------------------------------------------------------------


def test_readme_has_runnable_blocks() -> None:
    langs = {b.lang for b in RUNNABLE}
    assert {"python", "sh"} <= langs, langs


def test_opt_outs_are_few_and_explained() -> None:
    skipped = [(b.id, b.skip_reason) for b in BLOCKS if b.skip_reason is not None]
    assert len(skipped) <= MAX_OPT_OUTS, f"too many README blocks opt out of running: {skipped}"


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
def test_readme_block_runs(block: Block, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    where = f"README.md:{block.line}"
    if block.lang == "python":
        monkeypatch.chdir(workspace)
        exec(compile(block.code, where, "exec"), _stand_ins())
    elif block.lang in SHELL:
        _run_shell(block, workspace)
    elif block.lang == "toml":
        tomllib.loads(block.code)
    elif block.lang in ("yaml", "yml"):
        _check_yaml(yaml.safe_load(block.code), where)
    elif block.lang == "json":
        json.loads(block.code)
    else:
        pytest.fail(
            f"{where}: a ```{block.lang or '(no language)'} block cannot be run; "
            "give it a language or opt it out with <!-- readme-test: skip: REASON -->"
        )


def _check_yaml(data: object, where: str) -> None:
    """A pre-commit configuration in the README names only hooks this repository has."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    known = {h["id"] for h in hooks}
    entries = data if isinstance(data, list) else (data or {}).get("repos", [])  # type: ignore[union-attr]
    for repo in entries:
        for hook in repo.get("hooks", []):
            assert hook["id"] in known, f"{where}: no hook {hook['id']!r} in .pre-commit-hooks.yaml"


def _run_shell(block: Block, workspace: Path) -> None:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PROVCHECK_CONFIG_DIR": str(workspace / "config"),
        "PROVCHECK_DATA_DIR": str(workspace / "data"),
    }
    for command in shell_commands(block.code):
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        shown = (
            f"README.md:{block.line}: `{command}` exited {done.returncode}\n{done.stderr[-3000:]}"
        )
        # provcheck's verdict codes may be what the README shows; anything else must succeed
        runs_provcheck = command.startswith("provcheck") or "| provcheck" in command
        assert done.returncode in (OK_EXIT_CODES if runs_provcheck else {0}), shown
        assert "Traceback" not in done.stderr, shown
