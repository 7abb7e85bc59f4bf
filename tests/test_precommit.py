"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit framework in a real git
repository of media: a good clip commits, a tampered one is refused with provcheck's reasons.

pre-commit builds the hook's own virtualenv and pip-installs this project into it (from
PyPI for the dependencies), so the first use takes a minute or two; it is time-bounded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, TEST_ROOT, media, require_tool

pytestmark = pytest.mark.slow

INSTALL_TIMEOUT = 900  # building the hook environment: pip install of provcheck and its deps
RUN_TIMEOUT = 300
# What the hook repository needs to be pip-installed: the package, its metadata and the hooks.
HOOK_REPO_PARTS = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "provenance", "cli")

POLICY = """\
[output]
require_credentials = true
require_trusted = true
require_ai_label = true
"""


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=True,
    )


def hook_repository(dest: Path) -> str:
    """A git repository holding this working tree's package and hooks (uncommitted edits
    included), as a user's clone would; returns the commit to pin as `rev`."""
    dest.mkdir()
    for part in HOOK_REPO_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(
                src, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(src, dest / part)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "provcheck hooks")
    return git(dest, "rev-parse", "HEAD").stdout.strip()


@pytest.fixture(scope="module")
def asset_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    require_tool("git", "git")
    base = tmp_path_factory.mktemp("precommit")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(base / "pre-commit-home"),
        "PROVCHECK_CONFIG_DIR": str(base / "no-config"),
        "GIT_AUTHOR_NAME": "Asset Desk",
        "GIT_AUTHOR_EMAIL": "desk@example.org",
        "GIT_COMMITTER_NAME": "Asset Desk",
        "GIT_COMMITTER_EMAIL": "desk@example.org",
    }
    rev = hook_repository(base / "hooks")

    repo = base / "assets"
    repo.mkdir()
    (repo / "trust").mkdir()
    shutil.copy(TEST_ROOT, repo / "trust" / "roots.pem")
    (repo / ".provcheck-policy.toml").write_text(POLICY)
    (repo / ".pre-commit-config.yaml").write_text(
        f"""\
repos:
  - repo: {(base / "hooks").as_uri()}
    rev: {rev}
    hooks:
      - id: provcheck-gate
        args: [--policy, .provcheck-policy.toml, --trust, trust/roots.pem]
      - id: provcheck-verify
        args: [--trust, trust/roots.pem]
"""
    )
    pre_commit = [sys.executable, "-m", "pre_commit"]
    run(repo, env, "git", "init", "-q")
    run(repo, env, *pre_commit, "install")
    built = run(repo, env, *pre_commit, "install-hooks", timeout=INSTALL_TIMEOUT, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    run(repo, env, "git", "add", "-A")
    first = commit(repo, env, "trust and policy")
    assert first.returncode == 0, first.stdout + first.stderr
    return repo, env


def run(
    cwd: Path, env: dict[str, str], *argv: str, timeout: float = 60, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=check
    )


def commit(repo: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    return run(
        repo,
        env,
        "git",
        "-c",
        "commit.gpgsign=false",
        "commit",
        "-m",
        message,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def hook_line(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(name))


def test_good_clip_commits(asset_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = asset_repo
    (repo / "clips").mkdir(exist_ok=True)
    # upper-case extension: the name pattern is case-insensitive
    shutil.copy(media("ai_generated.mp4"), repo / "clips" / "launch.MP4")
    run(repo, env, "git", "add", "clips/launch.MP4")
    done = commit(repo, env, "a signed, trusted, AI-labelled clip")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert hook_line(out, "provcheck pre-publish gate").endswith("Passed")
    assert hook_line(out, "provcheck verify").endswith("Passed")
    assert (
        "a signed, trusted, AI-labelled clip" in run(repo, env, "git", "log", "--format=%s").stdout
    )


def test_tampered_clip_is_refused_with_reasons(asset_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = asset_repo
    (repo / "clips").mkdir(exist_ok=True)
    shutil.copy(media("tampered.mp4"), repo / "clips" / "edited.mp4")
    run(repo, env, "git", "add", "clips/edited.mp4")
    done = commit(repo, env, "a tampered clip")
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert hook_line(out, "provcheck pre-publish gate").endswith("Failed")
    assert hook_line(out, "provcheck verify").endswith("Failed")
    # provcheck's own reasons reach the person committing
    assert "clips/edited.mp4" in out
    assert "TAMPERED" in out  # provcheck verify's verdict
    assert "the output is tampered" in out  # the gate's refused rule
    assert "assertion.bmffHash.mismatch" in out  # the C2PA code behind it
    assert "a tampered clip" not in run(repo, env, "git", "log", "--format=%s").stdout
    # the refused file is still staged; unstage it for the next test
    run(repo, env, "git", "rm", "-q", "--cached", "clips/edited.mp4")


def test_other_files_are_not_handed_to_provcheck(asset_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = asset_repo
    (repo / "NOTES.md").write_text("# shoot notes\n")
    run(repo, env, "git", "add", "NOTES.md")
    done = commit(repo, env, "notes")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "(no files to check)Skipped" in hook_line(out, "provcheck verify")
