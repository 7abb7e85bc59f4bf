"""A/B-interleaved throughput of one library operation between two source trees.

    python bench/ab.py --a TREE_A --b TREE_B --op verify|facts|inspect|sign FILES... [--rounds 5]

``sign`` signs each file with the test CA's signer (AI label "fully"), with the
ingredient named by $AB_INGREDIENT if set.

Each round runs the operation over all FILES once in a fresh interpreter per tree
(A, B, A, B, ...; the first pass of each process warms up and is not timed) with
PYTHONPATH pointing at the tree, and prints the median files/s of each and B/A.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, sys, time
# an editable install's import hook outranks PYTHONPATH: drop it so the tree given wins
sys.meta_path = [f for f in sys.meta_path if "editable" not in type(f).__module__]
sys.path = [p for p in sys.path if p not in ("", ".")]  # nor the current directory
op, files = sys.argv[1], sys.argv[2:]
if op == "verify":
    from provenance import Verifier, TrustConfig
    from pathlib import Path
    import provenance
    root = Path(provenance.__file__).resolve().parent.parent / "fixtures/testca/test-root-ca.pem"
    v = Verifier(TrustConfig.from_files(anchors=[root]), inspect=False)
    run = v.verify
elif op == "facts":
    from provenance import inspection
    run = inspection.container_facts
elif op == "sign":
    import os, tempfile
    from pathlib import Path
    import provenance
    from provenance.signing import PemSigner, sign
    ca = Path(provenance.__file__).resolve().parent.parent / "fixtures/testca"
    pem = PemSigner.from_files(ca / "test-signer.key", ca / "test-signer-chain.pem")
    ing = os.environ.get("AB_INGREDIENT")
    out = Path(tempfile.mkdtemp()) / "out.mp4"
    def run(f):
        sign(f, out, signer=pem, ai="fully", ingredients=[ing] if ing else [], force=True)
elif op == "inspect":
    from provenance import Verifier
    run = Verifier().verify
for f in files[:3]:
    run(f)
t, c = time.perf_counter(), time.process_time()
for f in files:
    run(f)
print(json.dumps({"s": time.perf_counter() - t, "cpu": time.process_time() - c, "n": len(files)}))
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--op", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    rates: dict[str, list[float]] = {"A": [], "B": [], "cpuA": [], "cpuB": []}
    for _ in range(a.rounds):
        for tag, tree in (("A", a.a), ("B", a.b)):
            env = dict(os.environ, PYTHONPATH=tree)
            out = subprocess.run(
                [sys.executable, "-c", CHILD, a.op, *a.files],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            rates[tag].append(r["n"] / r["s"])
            rates["cpu" + tag].append(r["n"] / r["cpu"])
    ma, mb = statistics.median(rates["A"]), statistics.median(rates["B"])
    for tag in ("A", "B", "cpuA", "cpuB"):
        v = rates[tag]
        med = statistics.median(v)
        print(f"{tag}: median {med:.1f} files/s (min {min(v):.1f}, max {max(v):.1f})")
    print(f"B/A wall: {mb / ma:.3f}x")
    ca, cb = statistics.median(rates["cpuA"]), statistics.median(rates["cpuB"])
    print(f"B/A per CPU second: {cb / ca:.3f}x")
    print("(trees: " + a.a + " = A, " + a.b + " = B)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
