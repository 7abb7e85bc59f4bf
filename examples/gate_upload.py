"""Gating an upload with provcheck's library: the three-layer pre-publish check.

A service that receives a generated video, its source photo and the prompt calls
``check_upload`` before publishing; a refusal comes back with every reason.
"""

from __future__ import annotations

from pathlib import Path

from provenance import Policy, TrustConfig, gate


def check_upload(
    video: str | Path,
    *,
    source: str | Path,
    prompt: str,
    policy_file: str | Path,
    trust_anchor: str | Path,
) -> tuple[bool, list[str]]:
    policy = Policy.from_toml(policy_file)
    trust = TrustConfig.from_files(anchors=[trust_anchor])
    decision = gate(
        video, policy=policy, trust=trust, sources=[source], prompt=prompt, ai_made=True
    )
    return decision.passed, [o.reason for o in decision.failures]


if __name__ == "__main__":
    import sys

    ok, reasons = check_upload(
        sys.argv[1],
        source=sys.argv[2],
        prompt=sys.argv[3],
        policy_file=sys.argv[4],
        trust_anchor=sys.argv[5],
    )
    print("publish" if ok else "refused:\n  " + "\n  ".join(reasons))
    sys.exit(0 if ok else 1)
