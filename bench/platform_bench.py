#!/usr/bin/env python3
"""The platform workload (issue 19): many short vertical clips signed and verified.

    .venv/bin/python bench/platform_bench.py [--n 200] [--rounds 3] [--repo-n 10]
        [--scratch /tmp/perfbench] [--report bench/PLATFORM.md]

Clips: bench/platform_clips.py (720x1280, 5-15 s, H.264+AAC, cached in the scratch
dir). Every workload runs in its own fresh interpreter (one process per pass over the
clips, the first clip untimed as warm-up), A/B interleaved for --rounds rounds:

* sign: ``provenance.sign`` (AI label "fully", a 1920x1080 JPEG ingredient), the same
  with the fast path off (PROVCHECK_FAST_SIGN=0), and a raw
  c2pa-python ``Builder`` loop with the same manifest, ingredient and signer (the
  library's own thumbnail settings, i.e. c2pa's defaults);
* verify: one ``Verifier`` (test CA trusted; with and without container inspection)
  vs a raw ``Reader`` loop with the same trust anchors, and vs that loop also asking the
  native library for what a report needs (provcheck's settings, json, crJSON, the JUMBF);
* ``sign(repository=...)`` vs plain sign vs the fingerprint alone vs an
  ``ffmpeg -threads 2 -f null`` decode, on the first --repo-n clips.

Figures are files/s (wall and per CPU second of the process), medians over the
rounds with min-max; ratios are of medians. The machine's other load is shown.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == HERE:
    sys.path.pop(0)  # this file is named like the stdlib's `platform`: never shadow it

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

REPO = HERE.parent
CA = REPO / "fixtures" / "testca"
PY = sys.executable

GENAI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _busy() -> float:
    """CPU seconds used by the whole machine so far (from /proc/stat)."""
    try:
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:]]
        return (sum(vals) - vals[3] - vals[4]) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


# ---------------------------------------------------------------------------
# child workloads: python bench/platform_bench.py --child OP OUTDIR FILES...


def _raw_manifest(ing_title: str) -> dict[str, Any]:
    return {
        "claim_generator_info": [{"name": "provcheck-bench-raw", "version": "0"}],
        "title": "clip.mp4",
        "format": "video/mp4",
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "softwareAgent": {"name": "bench"},
                            "digitalSourceType": GENAI,
                            "parameters": {"ingredientIds": ["ingredient_0"]},
                        }
                    ]
                },
            }
        ],
    }


def child(op: str, outdir: Path, files: list[str]) -> dict[str, float]:
    ingredient = os.environ.get("PLATFORM_INGREDIENT")
    run: Any
    if op in ("sign", "sign-normal", "sign-plain", "sign-repo"):
        from provenance import PemSigner, sign

        pem = PemSigner.from_files(CA / "test-signer.key", CA / "test-signer-chain.pem")
        repo = None
        if op == "sign-repo":
            from provenance.repository import SQLiteRepository

            repo = SQLiteRepository(outdir / "repo.sqlite")

        def run(i: int, f: str) -> None:
            ings = [ingredient] if ingredient else []
            sign(
                f,
                outdir / f"{i}.mp4",
                signer=pem,
                ai="fully",
                ingredients=ings,
                force=True,
                repository=repo,
            )

    elif op == "raw-sign":
        import c2pa

        key = (CA / "test-signer.key").read_bytes()
        chain = (CA / "test-signer-chain.pem").read_bytes()
        settings = {"version": 1, "verify": {"verify_after_sign": False}}

        def run(i: int, f: str) -> None:
            signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", chain, key, None))
            with (
                c2pa.Context.from_dict(settings) as ctx,
                c2pa.Builder.from_json(_raw_manifest("photo.jpg"), ctx) as b,
            ):
                if ingredient:
                    ing = {"title": "photo.jpg", "relationship": "inputTo", "label": "ingredient_0"}
                    with open(ingredient, "rb") as g:
                        b.add_ingredient(ing, "image/jpeg", g)
                with open(f, "rb") as src, open(outdir / f"{i}.mp4", "w+b") as dst:
                    b.sign(signer, "video/mp4", src, dst)
                    dst.flush()
                    os.fsync(dst.fileno())
            signer.close()

    elif op in ("verify", "verify-inspect"):
        from provenance import TrustConfig, Verifier

        v = Verifier(
            TrustConfig.from_files(anchors=[CA / "test-root-ca.pem"]),
            inspect=op == "verify-inspect",
        )

        def run(i: int, f: str) -> None:
            rep = v.verify(f)
            if rep.verdict.value != "trusted":
                raise SystemExit(f"{f}: {rep.verdict.value}")

    elif op == "raw-verify":
        import c2pa

        anchors = (CA / "test-root-ca.pem").read_text()
        ctx = c2pa.Context.from_dict({"version": 1, "trust": {"user_anchors": anchors}})

        def run(i: int, f: str) -> None:
            with open(f, "rb") as fh, c2pa.Reader("video/mp4", fh, context=ctx) as r:
                if r.get_validation_state() != "Trusted":
                    raise SystemExit(f"{f}: {r.get_validation_state()}")

    elif op == "raw-verify-full":
        # the raw loop asking the native library for what a provcheck report needs
        import io

        import c2pa

        from provenance import TrustConfig, _c2pa

        trust = TrustConfig.from_files(anchors=[CA / "test-root-ca.pem"])
        ctx = c2pa.Context.from_dict(_c2pa.settings_for(trust, _c2pa.ReadOptions()))

        def run(i: int, f: str) -> None:
            with open(f, "rb") as fh, c2pa.Reader("video/mp4", fh, context=ctx) as r:
                if r.get_validation_state() != "Trusted":
                    raise SystemExit(f"{f}: {r.get_validation_state()}")
                store = json.loads(r.json())
                json.loads(r.crjson())
                label = store["active_manifest"]
                r.resource_to_stream(f"self#jumbf=/c2pa/{label}/c2pa.signature", io.BytesIO())

    elif op == "fingerprint":
        # what signing with a repository adds per clip: the originals' fingerprint
        from provenance import fingerprint

        def run(i: int, f: str) -> None:
            fingerprint.compute(f, query=False)

    elif op == "decode":
        ffmpeg = shutil.which("ffmpeg") or "ffmpeg"

        def run(i: int, f: str) -> None:
            subprocess.run(
                [ffmpeg, "-v", "error", "-threads", "2", "-i", f, "-f", "null", "-"], check=True
            )

    else:
        raise SystemExit(f"unknown op {op}")
    run(0, files[0])  # warm-up, untimed
    t, c = time.perf_counter(), time.process_time()
    for i, f in enumerate(files):
        run(i, f)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    if op == "decode":
        cpu = wall  # ffmpeg's CPU is in the child processes: report wall only
    return {"wall": wall, "cpu": cpu, "n": len(files)}


# ---------------------------------------------------------------------------
# harness


def run_child(op: str, outdir: Path, files: list[Path], env: dict[str, str]) -> dict[str, float]:
    if op == "sign-normal":
        env = dict(env, PROVCHECK_FAST_SIGN="0")
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    b0, t0 = _busy(), time.perf_counter()
    proc = subprocess.run(
        [PY, str(Path(__file__).resolve()), "--child", op, str(outdir), *map(str, files)],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{op} failed:\n{proc.stderr[-2000:]}")
    r: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    elapsed = time.perf_counter() - t0
    r["load"] = max(0.0, (_busy() - b0) / elapsed - r["cpu"] / r["wall"]) if elapsed else 0.0
    return r


def make_ingredient(path: Path) -> None:
    import av
    import numpy as np

    h, w = 1080, 1920
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([(xx // 4) % 256, (yy // 3) % 256, ((xx + yy) // 5) % 256], -1)
    img = img.astype(np.uint8) ^ np.random.default_rng(0).integers(0, 40, (h, w, 3), np.uint8)
    with av.open(str(path), "w", format="image2") as out:
        s = out.add_stream("mjpeg", rate=1)
        s.width, s.height, s.pix_fmt = w, h, "yuvj420p"
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuvj420p")
        for p in [*s.encode(frame), *s.encode()]:
            out.mux(p)


def stats(vals: list[float]) -> str:
    return f"{statistics.median(vals):.1f} ({min(vals):.1f}-{max(vals):.1f})"


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        op, outdir, *files = sys.argv[2:]
        print(json.dumps(child(op, Path(outdir), files)))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repo-n", type=int, default=10)
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/perfbench"))
    ap.add_argument("--report", type=Path, default=HERE / "PLATFORM.md")
    ap.add_argument("--only", default="sign,verify,repo")
    a = ap.parse_args()
    only = set(a.only.split(","))
    sys.path.insert(0, str(HERE))
    from platform_clips import ensure_clips

    scratch = a.scratch.resolve()
    clips = ensure_clips(scratch / "clips", a.n)
    ingredient = scratch / "ingredient-1920x1080.jpg"
    if not ingredient.exists():
        make_ingredient(ingredient)
    env = dict(os.environ, PLATFORM_INGREDIENT=str(ingredient))
    env.pop("PYTHONPATH", None)
    out = scratch / "platform-out"
    sizes = [c.stat().st_size for c in clips]
    results: dict[str, list[dict[str, float]]] = {}

    def ab(ops: list[str], files: list[Path], env: dict[str, str]) -> None:
        for rnd in range(a.rounds):
            for op in ops:
                r = run_child(op, out / op, files, env)
                results.setdefault(op, []).append(r)
                print(
                    f"round {rnd + 1} {op}: {r['n'] / r['wall']:.1f} files/s "
                    f"(cpu {r['n'] / r['cpu']:.1f}/s, other load {r['load']:.2f})",
                    flush=True,
                )

    signed: list[Path] = []
    if "sign" in only or "verify" in only:
        ab(["sign", "sign-normal", "raw-sign"], clips, env)
        signed = sorted((out / "sign").glob("*.mp4"), key=lambda p: int(p.stem))[1:]
        keep = scratch / "platform-signed"
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(out / "sign", keep)
        signed = [keep / p.name for p in signed]
    if "verify" in only:
        ab(["verify", "raw-verify", "raw-verify-full", "verify-inspect"], signed, env)
    if "repo" in only:
        sub = clips[: a.repo_n]
        ab(
            ["sign-repo", "sign-plain", "fingerprint", "decode"],
            sub,
            dict(env, PLATFORM_INGREDIENT=""),
        )

    def rate(op: str, cpu: bool = False) -> list[float]:
        return [r["n"] / (r["cpu"] if cpu else r["wall"]) for r in results.get(op, [])]

    def med(op: str, cpu: bool = False) -> float:
        return statistics.median(rate(op, cpu))

    rows = [
        ("sign", "provenance.sign, JPEG ingredient (library)", None),
        ("sign-normal", "provenance.sign, fast path off (PROVCHECK_FAST_SIGN=0)", None),
        ("raw-sign", "raw c2pa-python Builder loop, same manifest + ingredient", "sign"),
        ("verify", "one Verifier (inspect=False)", None),
        ("raw-verify", "raw c2pa-python Reader loop, same trust", "verify"),
        (
            "raw-verify-full",
            "raw Reader loop + provcheck's settings, json, crJSON, JUMBF",
            "verify",
        ),
        ("verify-inspect", "one Verifier (default: with container inspection)", None),
        ("sign-repo", "sign --repository (fingerprint + store), no ingredient", None),
        ("sign-plain", "plain sign of the same clips, no ingredient", None),
        ("fingerprint", "fingerprint alone (compute, query=False)", None),
        ("decode", "ffmpeg -threads 2 -f null decode", "sign-repo"),
    ]
    lines = [
        "| workload | files/s wall, median (min-max) | files/s per CPU s | other load |",
        "|---|---:|---:|---:|",
    ]
    for op, label, _ in rows:
        if op not in results:
            continue
        loads = [r["load"] for r in results[op]]
        n = results[op][0]["n"]
        lines.append(
            f"| {label} ({n:.0f} clips) | {stats(rate(op))} | {stats(rate(op, True))} | "
            f"{statistics.median(loads):.2f} |"
        )
    ratios = []
    if "sign" in results and "raw-sign" in results:
        ratios.append(
            f"- library sign / raw Builder loop throughput: {med('sign') / med('raw-sign'):.2f}x "
            f"wall, {med('sign', True) / med('raw-sign', True):.2f}x per CPU s (target >= 2x)"
        )
    if "sign" in results and "sign-normal" in results:
        ratios.append(
            f"- fast path on / off: {med('sign') / med('sign-normal'):.2f}x wall, "
            f"{med('sign', True) / med('sign-normal', True):.2f}x per CPU s"
        )
    if "verify" in results and "raw-verify" in results:
        ratios.append(
            f"- raw Reader loop / Verifier throughput (verify cost ratio): "
            f"{med('raw-verify') / med('verify'):.2f}x wall, "
            f"{med('raw-verify', True) / med('verify', True):.2f}x per CPU s (target <= 1.05x)"
        )
        if "raw-verify-full" in results:
            ratios.append(
                f"- raw Reader loop / raw loop asking for what the report needs (settings, json, "
                f"crJSON, JUMBF): {med('raw-verify') / med('raw-verify-full'):.2f}x wall, "
                f"{med('raw-verify', True) / med('raw-verify-full', True):.2f}x per CPU s; "
                "the rest is provcheck's own pipeline (bench/verify_overhead.py)"
            )
        ratios.append(
            f"- Verifier with inspection / without: {med('verify-inspect') / med('verify'):.2f}x "
            "throughput"
        )
    if "sign-repo" in results:
        plain = statistics.median(r["wall"] / r["n"] for r in results["sign-plain"])
        repo = statistics.median(r["wall"] / r["n"] for r in results["sign-repo"])
        dec = statistics.median(r["wall"] / r["n"] for r in results["decode"])
        ratios.append(
            f"- per clip: sign --repository {repo:.3f} s, plain sign {plain:.3f} s, "
            f"decode {dec:.3f} s; (repository - plain) / decode = {(repo - plain) / dec:.2f}x"
        )
        if "fingerprint" in results:
            fp = statistics.median(r["wall"] / r["n"] for r in results["fingerprint"])
            pairs = [
                f["wall"] / d["wall"]
                for f, d in zip(results["fingerprint"], results["decode"], strict=True)
            ]
            ratios.append(
                f"- fingerprint alone {fp:.3f} s per clip: {fp / dec:.2f}x decode "
                f"(round by round {', '.join(f'{x:.2f}x' for x in pairs)}; target <= 1x)"
            )
    mb = statistics.median(sizes) / 1e6
    text = "\n".join(
        [
            "## Platform workload (short vertical clips)",
            "",
            f"Generated {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC by "
            "`bench/platform_bench.py`; nproc "
            f"{os.cpu_count()}, load average at the end "
            f"{os.getloadavg()[0]:.1f}.",
            "",
            "```sh",
            f".venv/bin/python bench/platform_bench.py --n {a.n} --rounds {a.rounds} "
            f"--repo-n {a.repo_n}",
            "```",
            "",
            f"{a.n} clips 720x1280, 5-15 s, H.264+AAC, {min(sizes) / 1e6:.1f}-"
            f"{max(sizes) / 1e6:.1f} MB (median {mb:.1f} MB); {a.rounds} rounds, A/B "
            "interleaved, one fresh process per pass (first clip untimed). *Other load*: "
            "cores used by other processes during the pass.",
            "",
            *lines,
            "",
            *ratios,
            "",
        ]
    )
    a.report.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
