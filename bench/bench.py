#!/usr/bin/env python3
"""provcheck performance benchmark: verify, sign, start-up and batch throughput.

Builds its own test media under a scratch directory (default /tmp/bench, never in
the repository), then measures every operation in its own subprocess: wall time
(perf_counter around fork..wait4) and peak RSS (ru_maxrss from os.wait4 for that
child, which includes the child's own waited-for children, e.g. `sh -c 'cp && sync'`).

    .venv/bin/python bench/bench.py                 # 1 GiB timings + 2 GiB RSS check
    .venv/bin/python bench/bench.py --quick         # ~200 MB, no 2 GiB run
    .venv/bin/python bench/bench.py --size-gb 2 --rss-size-gb 0 --repeat 5

Test video: a 2 s 1080p30 H.264 clip is encoded once with PyAV/libx264 (high
bitrate, ~180 Mbit/s, closed 1 s GOPs), then its packets are remuxed N times with
shifted timestamps into one MP4 until the mdat reaches the target size. The result
is a real, playable MP4 (ftyp, mdat, moov at the end; 64-bit mdat header and co64
above 4 GiB offsets as the muxer decides). Files are cached in the scratch dir.

Results: a table on stdout, JSON in <scratch>/results-<stamp>.json, and a Markdown
report (default bench/FULL.md; BENCHMARKS.md is bench/report.py's) with the machine,
the command and figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV_BIN = REPO / ".venv" / "bin"
PY = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
PROVCHECK = str(VENV_BIN / "provcheck") if (VENV_BIN / "provcheck").exists() else "provcheck"
CHILD = str(HERE / "_child.py")
FAST_SIGN = str(HERE / "prototypes" / "fast_sign.py")
TESTCA = REPO / "fixtures" / "testca"
ROOT_CA = str(TESTCA / "test-root-ca.pem")
SIGNER_KEY = str(TESTCA / "test-signer.key")
SIGNER_CHAIN = str(TESTCA / "test-signer-chain.pem")
MEDIA = REPO / "fixtures" / "media"
TIME_BIN = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
GiB = 1 << 30
MiB = 1 << 20


# ---------------------------------------------------------------------------
# measurement


@dataclass
class Sample:
    wall: float
    rss_kb: int  # peak RSS of the child (max over parallel children)
    rc: int
    stdout: str = ""
    cpu: float = 0.0  # user+sys CPU seconds of the child(ren)
    other: float = 0.0  # CPU used by *other* processes during the run, in cores


def _busy_seconds() -> float:
    """System-wide busy CPU seconds so far (/proc/stat), to spot foreign load."""
    try:
        f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = f[3] + (f[4] if len(f) > 4 else 0)
    return (sum(f[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    key: str
    label: str
    group: str
    cmd: str
    samples: list[Sample] = field(default_factory=list)
    bytes: int = 0  # payload size, for MB/s
    note: str = ""

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def wall_min(self) -> float:
        return min(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def other(self) -> float:
        return statistics.median(s.other for s in self.samples)

    @property
    def rss_mb(self) -> float:
        return max(s.rss_kb for s in self.samples) / 1024

    @property
    def mbps(self) -> float | None:
        return self.bytes / MiB / self.wall if self.bytes and self.wall > 0 else None


def wait_quiet(max_wait: float, threshold: float = 0.3, window: float = 0.5) -> float:
    """Wait (up to max_wait s) until other processes use < threshold cores over a
    window: this machine may be shared. Returns the last measured foreign load."""
    deadline = time.monotonic() + max_wait
    load = 0.0
    while True:
        b0 = _busy_seconds()
        time.sleep(window)
        load = (_busy_seconds() - b0) / window
        if load < threshold or time.monotonic() >= deadline:
            return load


class Runner:
    def __init__(
        self, scratch: Path, env: dict[str, str], verbose: bool = True, quiet_wait: float = 0.0
    ) -> None:
        self.scratch = scratch
        self.env = env
        self.verbose = verbose
        self.quiet_wait = quiet_wait
        self.logdir = scratch / "logs"
        self.logdir.mkdir(parents=True, exist_ok=True)
        self._n = 0

    def _spawn(self, cmd: Sequence[str]) -> tuple[subprocess.Popen[bytes], Path]:
        self._n += 1
        log = self.logdir / f"{self._n:04d}.out"
        argv = list(cmd)
        if TIME_BIN:
            # Peak RSS comes from GNU time's wait4 on its own child: a child forked
            # straight from this (large) Python process would inherit our RSS high-water
            # mark through fork/vfork+exec (Linux keeps max(maxrss, old mm hiwater)).
            argv = [TIME_BIN, "-f", "%M %U %S", "-o", str(log.with_suffix(".rss")), *argv]
        with open(log, "wb") as out, open(log.with_suffix(".err"), "wb") as err:
            p = subprocess.Popen(argv, stdout=out, stderr=err, env=self.env, cwd=REPO)
        return p, log

    def run(self, cmds: Sequence[Sequence[str]]) -> Sample:
        """Run the commands concurrently; wall = until the last one exits."""
        if self.quiet_wait > 0:
            wait_quiet(self.quiet_wait)
        busy0 = _busy_seconds()
        t0 = time.perf_counter()
        procs = [self._spawn(c) for c in cmds]
        rss = 0
        rc = 0
        cpu = 0.0
        for p, log in procs:
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            rc = max(rc, p.returncode)
            kb, c = _time_stats(log.with_suffix(".rss"), ru)
            rss = max(rss, kb)
            cpu += c
        wall = time.perf_counter() - t0
        other = max(0.0, (_busy_seconds() - busy0 - cpu) / wall) if wall > 0 else 0.0
        out = "".join(log.read_text(errors="replace") for _, log in procs)
        return Sample(wall, rss, rc, out, cpu, other)

    def measure(
        self,
        key: str,
        label: str,
        group: str,
        cmds: Sequence[Sequence[str]],
        *,
        repeat: int,
        nbytes: int = 0,
        ok_rcs: Sequence[int] = (0,),
        before: Callable[[], None] | None = None,
        after: Callable[[Sample, int], None] | None = None,
        warmup: int = 0,
        note: str = "",
    ) -> Result:
        shown = " & ".join(shlex.join(_short(c)) for c in cmds)
        res = Result(key, label, group, shown, bytes=nbytes, note=note)
        for i in range(warmup + repeat):
            if before:
                before()
            s = self.run(cmds)
            if s.rc not in ok_rcs:
                errs = sorted(self.logdir.glob("*.err"))[-len(cmds) :]
                tail = "".join(e.read_text(errors="replace")[-2000:] for e in errs)
                raise RuntimeError(f"{label}: exit {s.rc}\n{shown}\n{tail}")
            if after:
                after(s, i)
            if i >= warmup:
                res.samples.append(s)
        if self.verbose:
            print(
                f"  {label:<52} {res.wall:8.3f} s (min {res.wall_min:.3f}, n={len(res.samples)})"
                f"  cpu {res.cpu:6.2f} s  RSS {res.rss_mb:7.1f} MB  other load {res.other:.2f}",
                flush=True,
            )
        return res


def _time_stats(path: Path, ru: Any) -> tuple[int, float]:
    """(peak RSS kB, user+sys s) of the measured command, from GNU time's output."""
    fallback = (ru.ru_maxrss, ru.ru_utime + ru.ru_stime)
    if not TIME_BIN:
        return fallback
    try:
        # GNU time prints "Command exited with non-zero status N" first on failure
        kb, user, sys_ = path.read_text().split()[-3:]
        return int(kb), float(user) + float(sys_)
    except (OSError, ValueError, IndexError):
        return fallback


def _short(cmd: Sequence[str]) -> list[str]:
    out = []
    for c in cmd:
        c = c.replace(str(VENV_BIN) + "/", "").replace(str(REPO) + "/", "")
        out.append(c)
    if len(out) > 12:  # batch command lines
        out = [*out[:8], f"...({len(out) - 9} more)", out[-1]]
    return out


def drop_file(path: Path) -> None:
    path.unlink(missing_ok=True)


def settle() -> None:
    """Flush dirty pages left by a previous write so they do not bill the next run."""
    os.sync()


# ---------------------------------------------------------------------------
# test media


def build_base_clip(path: Path, seconds: int = 2, fps: int = 30) -> None:
    """Encode a 1080p H.264 clip with libx264 at a high bitrate (~180 Mbit/s)."""
    import av
    import numpy as np

    w, h = 1920, 1080
    tmp = path.with_suffix(".part.mp4")
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    with av.open(str(tmp), "w", format="mp4") as out:
        st = out.add_stream("libx264", rate=fps)
        st.width, st.height, st.pix_fmt = w, h, "yuv420p"
        # closed 1 s GOPs, no B-frames: every repeat starts on an IDR, pts == dts order
        st.options = {
            "preset": "ultrafast",
            "qp": "20",
            "g": str(fps),
            "keyint_min": str(fps),
            "sc_threshold": "0",
            "bf": "0",
        }
        for i in range(seconds * fps):
            ramp = ((xx + i * 8) % 256).astype(np.uint8)
            img = np.stack([ramp, (yy + i * 4) % 256, (ramp // 2 + yy // 4) % 256], -1)
            img = img.astype(np.uint8)
            mask = rng.random((h, w, 1)) < 0.04
            img = np.where(mask, np.roll(noise, i * 13, axis=1), img)
            for pkt in st.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    tmp.replace(path)


def build_big(path: Path, base: Path, target: int) -> dict[str, Any]:
    """Remux the base clip's packets repeatedly (timestamps shifted) until ~target bytes."""
    import av

    with av.open(str(base)) as inp:
        vin = inp.streams.video[0]
        pkts = []
        for p in inp.demux(vin):
            if p.dts is None or p.size == 0:
                continue
            pkts.append((bytes(p), p.pts, p.dts, p.duration, p.is_keyframe))
        clip_bytes = sum(len(p[0]) for p in pkts)
        t_end = max(p[1] + (p[3] or 0) for p in pkts)
        t_start = min(p[1] for p in pkts)
        span = t_end - t_start
        repeats = max(1, -(-target // clip_bytes))
        tmp = path.with_suffix(".part.mp4")
        with av.open(str(tmp), "w", format="mp4") as out:
            vout = out.add_stream_from_template(vin)
            tb = vin.time_base
            for r in range(repeats):
                off = r * span
                for data, pts, dts, dur, key in pkts:
                    pkt = av.Packet(data)
                    pkt.stream = vout
                    pkt.time_base = tb
                    pkt.pts = pts + off
                    pkt.dts = dts + off
                    if dur:
                        pkt.duration = dur
                    pkt.is_keyframe = key
                    out.mux(pkt)
    tmp.replace(path)
    return {"repeats": repeats, "frames": repeats * len(pkts), "clip_bytes": clip_bytes}


def top_level_boxes(path: Path) -> list[tuple[str, int, int]]:
    import struct

    boxes = []
    size = path.stat().st_size
    with open(path, "rb") as f:
        pos = 0
        while pos + 8 <= size:
            f.seek(pos)
            head = f.read(16)
            n, kind = struct.unpack(">I4s", head[:8])
            if n == 1:
                n = struct.unpack(">Q", head[8:16])[0]
            elif n == 0:
                n = size - pos
            boxes.append((kind.decode("latin-1"), pos, n))
            if n < 8:
                break
            pos += n
    return boxes


def ensure_video(scratch: Path, size_bytes: int) -> Path:
    base = scratch / "base-1080p-2s.mp4"
    if not base.exists():
        print(f"encoding base clip {base} (libx264, 1080p) ...", flush=True)
        t = time.perf_counter()
        build_base_clip(base)
        print(f"  {base.stat().st_size / MiB:.1f} MiB in {time.perf_counter() - t:.1f} s")
    path = scratch / f"src-{size_bytes // MiB}MiB.mp4"
    if not path.exists():
        print(f"remuxing {path} ...", flush=True)
        t = time.perf_counter()
        info = build_big(path, base, size_bytes)
        print(
            f"  {path.stat().st_size / MiB:.1f} MiB, {info['frames']} frames, "
            f"{time.perf_counter() - t:.1f} s"
        )
    return path


def ensure_signed(runner: Runner, src: Path) -> Path:
    """A copy signed by `provcheck sign --ai fully` (the normal product path): the
    input of the verify benchmarks. Checked to be `trusted`."""
    out = src.with_name(src.stem.replace("src-", "signed-") + ".mp4")
    if not out.exists():
        print(f"signing {out} (setup, untimed) ...", flush=True)
        s = runner.run([_provcheck_sign(src, out, ai=True)])
        if s.rc != 0:
            raise RuntimeError(f"setup sign failed: {s.stdout}")
    s = runner.run([[PROVCHECK, "--format", "json", "--trust", ROOT_CA, str(out)]])
    verdict = json.loads(s.stdout)["results"][0]["verdict"]
    if verdict != "trusted":
        raise RuntimeError(f"{out}: expected trusted, got {verdict}")
    return out


def _fast_sign_cmd(src: Path, out: Path, mode: str) -> list[str]:
    return [PY, FAST_SIGN, str(src), str(out), "--mode", mode, "--xmp", "trainedAlgorithmicMedia"]


def ensure_fast_signed(runner: Runner, src: Path, mode: str) -> Path:
    """A copy signed by the fast-sign prototype (bench/prototypes/fast_sign.py)."""
    out = src.with_name(src.stem.replace("src-", f"fastsigned-{mode}-") + ".mp4")
    if not out.exists():
        s = runner.run([_fast_sign_cmd(src, out, mode)])
        if s.rc != 0:
            raise RuntimeError(f"fast sign failed: {s.stdout}")
    return out


def ensure_batch(scratch: Path, n: int) -> list[Path]:
    d = scratch / f"batch-{n}"
    clips = sorted(MEDIA.glob("*.mp4"))
    files = [d / f"{i:04d}-{clips[i % len(clips)].name}" for i in range(n)]
    fresh = all(
        f.exists() and f.stat().st_size == clips[i % len(clips)].stat().st_size
        for i, f in enumerate(files)
    )
    if not fresh:
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        for i, f in enumerate(files):
            shutil.copyfile(clips[i % len(clips)], f)
    return files


def _provcheck_sign(src: Path, out: Path, *, ai: bool = False) -> list[str]:
    cmd = [PROVCHECK, "sign", str(src), "-o", str(out), "--key", SIGNER_KEY]
    cmd += ["--cert", SIGNER_CHAIN, "--alg", "es256", "--force"]
    cmd += ["--ai", "fully" if ai else "no"]  # sign asks for an explicit AI statement
    return cmd


# ---------------------------------------------------------------------------
# benchmark sections


AUDIT_TEMPLATE = "{provcheck} audit --jobs {jobs} --format json --no-progress --trust {root} {dir}"


def audit_available(env: dict[str, str]) -> bool:
    p = subprocess.run([PROVCHECK, "audit", "--help"], capture_output=True, env=env)
    return p.returncode == 0


def batch_commands(files: Sequence[Path], jobs: int, audit_cmd: str | None) -> list[list[str]]:
    """Commands that verify ``files`` with ``jobs`` workers.

    Without ``audit_cmd``: split the list across ``jobs`` parallel `provcheck --format
    json` processes (the emulation). With it (a template such as AUDIT_TEMPLATE, with
    {provcheck} {jobs} {root} {dir}): the single `provcheck audit --jobs N` command."""
    if audit_cmd:
        return [
            shlex.split(
                audit_cmd.format(provcheck=PROVCHECK, jobs=jobs, root=ROOT_CA, dir=files[0].parent)
            )
        ]
    base = [PROVCHECK, "--format", "json", "--trust", ROOT_CA]
    chunks = [files[i::jobs] for i in range(jobs)]
    return [[*base, *map(str, c)] for c in chunks if c]


def check_trusted(runner: Runner, path: Path) -> str:
    s = runner.run([[PY, CHILD, "read", str(path), "path", "trust"]])
    state = json.loads(s.stdout.strip().splitlines()[-1])["validation_state"]
    if state != "Trusted":
        raise RuntimeError(f"{path}: raw Reader says {state}, expected Trusted")
    return state


def section_verify(
    r: Runner, signed: Path, repeat: int, tag: str, merkle_signed: Path | None = None
) -> list[Result]:
    n = signed.stat().st_size
    print(f"(a) verify {signed.name} ({n / MiB:.0f} MiB)")
    _warm(signed)
    res = [
        r.measure(
            f"sha256{tag}",
            "hashlib SHA-256, one pass",
            "verify",
            [[PY, CHILD, "sha256", str(signed)]],
            repeat=repeat,
            nbytes=n,
        ),
        r.measure(
            f"reader{tag}",
            "raw c2pa Reader (Context, default settings)",
            "verify",
            [[PY, CHILD, "read", str(signed), "path"]],
            repeat=repeat,
            nbytes=n,
        ),
        r.measure(
            f"verify{tag}",
            "provcheck --format json (verify)",
            "verify",
            [[PROVCHECK, "--format", "json", "--trust", ROOT_CA, str(signed)]],
            repeat=repeat,
            nbytes=n,
            after=lambda s, i: _expect_verdict(s, "trusted"),
        ),
    ]
    if merkle_signed is not None:
        _warm(merkle_signed)
        res += [
            r.measure(
                f"readerm{tag}",
                "raw Reader, copy signed with Merkle leaves (proto)",
                "verify",
                [[PY, CHILD, "read", str(merkle_signed), "path"]],
                repeat=repeat,
                nbytes=n,
            ),
            r.measure(
                f"verifym{tag}",
                "provcheck verify, copy signed with Merkle leaves (proto)",
                "verify",
                [[PROVCHECK, "--format", "json", "--trust", ROOT_CA, str(merkle_signed)]],
                repeat=repeat,
                nbytes=n,
                after=lambda s, i: _expect_verdict(s, "trusted"),
            ),
        ]
    return res


def _expect_verdict(s: Sample, verdict: str) -> None:
    got = json.loads(s.stdout)["results"][0]["verdict"]
    if got != verdict:
        raise RuntimeError(f"expected {verdict}, got {got}")


def _warm(path: Path) -> None:
    with open(path, "rb", buffering=0) as f:
        while f.read(16 * MiB):
            pass


def section_sign(
    r: Runner, src: Path, repeat: int, tag: str, check: bool, prototypes: bool = True
) -> list[Result]:
    n = src.stat().st_size
    out = r.scratch / "out" / f"signed-out{tag}.mp4"
    out.parent.mkdir(exist_ok=True)
    print(f"(b) sign {src.name} ({n / MiB:.0f} MiB)")
    _warm(src)

    def before() -> None:
        drop_file(out)
        settle()

    def after_check(s: Sample, i: int) -> None:
        if check and i == 0:
            check_trusted(r, out)

    res = [
        r.measure(
            f"cp{tag}",
            "cp (coreutils)",
            "sign",
            [["cp", str(src), str(out)]],
            repeat=repeat,
            nbytes=n,
            before=before,
        ),
        r.measure(
            f"cpsync{tag}",
            "cp + fsync of the copy",
            "sign",
            [["sh", "-c", 'cp "$0" "$1" && sync "$1"', str(src), str(out)]],
            repeat=repeat,
            nbytes=n,
            before=before,
        ),
        r.measure(
            f"rawsign{tag}",
            "raw c2pa Builder.sign_file (default Context)",
            "sign",
            [[PY, CHILD, "sign", str(src), str(out)]],
            repeat=repeat,
            nbytes=n,
            before=before,
            after=after_check,
        ),
        r.measure(
            f"sign{tag}",
            "provcheck sign (no AI label: no XMP copy)",
            "sign",
            [_provcheck_sign(src, out)],
            repeat=repeat,
            nbytes=n,
            before=before,
            after=after_check,
        ),
        r.measure(
            f"signai{tag}",
            "provcheck sign --ai fully (XMP copy + sign)",
            "sign",
            [_provcheck_sign(src, out, ai=True)],
            repeat=repeat,
            nbytes=n,
            before=before,
            after=after_check,
        ),
    ]
    if prototypes:
        for mode in ("front", "front-merkle", "end-merkle"):
            res.append(
                r.measure(
                    f"fast-{mode}{tag}",
                    f"prototype fast sign --mode {mode} (+XMP)",
                    "sign",
                    [_fast_sign_cmd(src, out, mode)],
                    repeat=repeat,
                    nbytes=n,
                    before=before,
                    after=after_check,
                )
            )
    drop_file(out)
    settle()
    return res


def section_fingerprint(r: Runner, scratch: Path, repeat: int) -> list[Result]:
    """Fingerprinting (soft binding) a 60 s 1080p clip: the 2 s base clip repeated 30 times."""
    print("(f) fingerprint")
    base = scratch / "base-1080p-2s.mp4"
    if not base.exists():
        ensure_video(scratch, 64 * MiB)
    clip = ensure_video(scratch, base.stat().st_size * 30)
    code = (
        "import sys; from provenance import fingerprint as f; "
        "fp = f.compute(sys.argv[1]); print(len(fp.hashes), fp.duration)"
    )
    return [
        r.measure(
            "fingerprint60",
            "fingerprint a 60 s 1080p H.264 clip (org.provcheck.vphash.v1)",
            "fingerprint",
            [[PY, "-c", code, str(clip)]],
            repeat=repeat,
            nbytes=clip.stat().st_size,
        )
    ]


def section_startup(r: Runner, repeat: int) -> list[Result]:
    print("(c) start-up")
    tiny = str(MEDIA / "captured.mp4")
    return [
        r.measure("py", "python -c pass", "startup", [[PY, "-c", "pass"]], repeat=repeat, warmup=1),
        r.measure(
            "import_c2pa",
            "python -c 'import c2pa'",
            "startup",
            [[PY, "-c", "import c2pa"]],
            repeat=repeat,
            warmup=1,
        ),
        r.measure(
            "version",
            "provcheck --version",
            "startup",
            [[PROVCHECK, "--version"]],
            repeat=repeat,
            warmup=1,
        ),
        r.measure(
            "small",
            "provcheck --format json captured.mp4 (5.9 kB)",
            "startup",
            [[PROVCHECK, "--format", "json", "--trust", ROOT_CA, tiny]],
            repeat=repeat,
            warmup=1,
            after=lambda s, i: _expect_verdict(s, "trusted"),
        ),
    ]


def section_batch(r: Runner, files: list[Path], repeat: int, audit_cmd: str | None) -> list[Result]:
    print(f"(d) batch of {len(files)} small clips")
    ok = tuple(range(0, 6))  # the batch holds untrusted/tampered/unsigned files on purpose
    res = [
        r.measure(
            "batch1",
            f"verify {len(files)} clips, 1 process",
            "batch",
            batch_commands(files, 1, None),
            repeat=repeat,
            ok_rcs=ok,
            warmup=1,
        ),
        r.measure(
            "batch2",
            f"verify {len(files)} clips, 2 processes (split list)",
            "batch",
            batch_commands(files, 2, None),
            repeat=repeat,
            ok_rcs=ok,
            warmup=1,
        ),
    ]
    if audit_cmd:
        res += [
            r.measure(
                "audit1",
                f"provcheck audit --jobs 1 ({len(files)} clips)",
                "batch",
                batch_commands(files, 1, audit_cmd),
                repeat=repeat,
                ok_rcs=ok,
                warmup=1,
            ),
            r.measure(
                "audit2",
                f"provcheck audit --jobs 2 ({len(files)} clips)",
                "batch",
                batch_commands(files, 2, audit_cmd),
                repeat=repeat,
                ok_rcs=ok,
                warmup=1,
            ),
        ]
    return res


def section_rss(
    r: Runner, src: Path, signed: Path, tag: str, merkle_signed: Path | None = None
) -> list[Result]:
    print(f"(e) peak RSS on {src.name} ({src.stat().st_size / MiB:.0f} MiB)")
    out = r.scratch / "out" / f"signed-out{tag}.mp4"
    out.parent.mkdir(exist_ok=True)
    n = src.stat().st_size
    _warm(signed)

    def before() -> None:
        drop_file(out)
        settle()

    res = [
        r.measure(
            f"reader{tag}",
            "raw c2pa Reader",
            "rss",
            [[PY, CHILD, "read", str(signed), "path"]],
            repeat=1,
            nbytes=n,
        ),
        r.measure(
            f"verify{tag}",
            "provcheck verify",
            "rss",
            [[PROVCHECK, "--format", "json", "--trust", ROOT_CA, str(signed)]],
            repeat=1,
            nbytes=n,
            after=lambda s, i: _expect_verdict(s, "trusted"),
        ),
        r.measure(
            f"rawsign{tag}",
            "raw c2pa Builder.sign_file",
            "rss",
            [[PY, CHILD, "sign", str(src), str(out)]],
            repeat=1,
            nbytes=n,
            before=before,
        ),
        r.measure(
            f"sign{tag}",
            "provcheck sign",
            "rss",
            [_provcheck_sign(src, out)],
            repeat=1,
            nbytes=n,
            before=before,
        ),
    ]
    if merkle_signed is not None:
        _warm(merkle_signed)
        res += [
            r.measure(
                f"verifym{tag}",
                "provcheck verify, Merkle-signed copy (proto)",
                "rss",
                [[PROVCHECK, "--format", "json", "--trust", ROOT_CA, str(merkle_signed)]],
                repeat=1,
                nbytes=n,
                after=lambda s, i: _expect_verdict(s, "trusted"),
            ),
            r.measure(
                f"fast-front-merkle{tag}",
                "prototype fast sign --mode front-merkle",
                "rss",
                [_fast_sign_cmd(src, out, "front-merkle")],
                repeat=1,
                nbytes=n,
                before=before,
            ),
            r.measure(
                f"fast-front{tag}",
                "prototype fast sign --mode front",
                "rss",
                [_fast_sign_cmd(src, out, "front")],
                repeat=1,
                nbytes=n,
                before=before,
            ),
        ]
    drop_file(out)
    settle()
    return res


# ---------------------------------------------------------------------------
# report


@dataclass
class Target:
    name: str
    value: float
    limit: float
    op: str  # "<=" or ">="
    unit: str
    alt: str = ""  # the same ratio from min wall and from CPU time (contention-robust)

    @property
    def ok(self) -> bool:
        return self.value <= self.limit if self.op == "<=" else self.value >= self.limit


def _ratio_target(name: str, a: Result, b: Result, limit: float, inverse: bool = False) -> Target:
    # inverse (throughput): a is the 1-job run, b the 2-job run; the ratio a/b is the speed-up
    alt = f"min-wall {a.wall_min / b.wall_min:.2f}x, CPU {a.cpu / max(b.cpu, 1e-9):.2f}x"
    if inverse:
        alt = f"min-wall {a.wall_min / b.wall_min:.2f}x"
    return Target(name, a.wall / b.wall, limit, ">=" if inverse else "<=", "x", alt)


def evaluate(res: dict[str, Result], tags: list[str]) -> list[Target]:
    t: list[Target] = []
    main = tags[0]
    if f"verify{main}" in res:
        v = res[f"verify{main}"]
        t.append(_ratio_target("verify / raw Reader", v, res[f"reader{main}"], 1.1))
        t.append(_ratio_target("verify / one SHA-256 pass", v, res[f"sha256{main}"], 1.5))
    if f"verifym{main}" in res:
        v = res[f"verifym{main}"]
        t.append(
            _ratio_target(
                "(Merkle-signed) verify / raw Reader on it", v, res[f"readerm{main}"], 1.1
            )
        )
        t.append(
            _ratio_target("(Merkle-signed) verify / one SHA-256 pass", v, res[f"sha256{main}"], 1.5)
        )
    if f"sign{main}" in res:
        t.append(_ratio_target("provcheck sign / cp", res[f"sign{main}"], res[f"cp{main}"], 2.0))
    for mode in ("front", "front-merkle", "end-merkle"):
        if f"fast-{mode}{main}" in res:
            t.append(
                _ratio_target(
                    f"(prototype {mode}) sign / cp",
                    res[f"fast-{mode}{main}"],
                    res[f"cp{main}"],
                    2.0,
                )
            )
    for tag in tags:
        for k, what in (
            ("verify", "verify"),
            ("sign", "sign"),
            ("verifym", "(Merkle-signed) verify"),
            ("fast-front", "(prototype front) sign"),
            ("fast-front-merkle", "(prototype front-merkle) sign"),
            ("fast-end-merkle", "(prototype end-merkle) sign"),
        ):
            if f"{k}{tag}" in res:
                rr = res[f"{k}{tag}"]
                size = rr.bytes / GiB
                t.append(Target(f"peak RSS {what} ({size:.2f} GiB)", rr.rss_mb, 256, "<=", "MB"))
    if "small" in res:
        sm = res["small"]
        t.append(
            Target(
                "provcheck on a small file",
                sm.wall,
                0.3,
                "<=",
                "s",
                f"min {sm.wall_min:.3f} s, CPU {sm.cpu:.3f} s",
            )
        )
    if "batch1" in res:
        t.append(
            _ratio_target(
                "2 jobs / 1 job throughput (split list)",
                res["batch1"],
                res["batch2"],
                1.7,
                inverse=True,
            )
        )
    if "audit1" in res:
        t.append(
            _ratio_target(
                "audit --jobs 2 / --jobs 1 throughput",
                res["audit1"],
                res["audit2"],
                1.7,
                inverse=True,
            )
        )
    return t


BASELINES = {
    "reader": "sha256",
    "verify": "reader",
    "rawsign": "cp",
    "sign": "cp",
    "signai": "cp",
    "cpsync": "cp",
    "import_c2pa": "py",
    "version": "py",
    "small": "py",
    "batch2": "batch1",
    "audit1": "batch1",
    "audit2": "audit1",
    "fast-front": "cp",
    "fast-end-merkle": "cp",
    "fast-front-merkle": "cp",
    "readerm": "sha256",
    "verifym": "reader",
}


def _ratio(res: dict[str, Result], key: str) -> str:
    base_key = None
    for prefix, b in BASELINES.items():
        if key == prefix or (key.startswith(prefix) and key[len(prefix) :].startswith("@")):
            base_key = b + key[len(prefix) :]
            break
    if key.startswith("verify"):
        m = "m" if key.startswith("verifym") else ""
        tag = key[len("verify") + len(m) :]
        if f"reader{m}{tag}" in res and f"sha256{tag}" in res:
            r = res[key].wall
            return (
                f"{r / res['reader' + m + tag].wall:.2f}x Reader, "
                f"{r / res['sha256' + tag].wall:.2f}x SHA-256"
            )
    if base_key and base_key in res and res[base_key].wall > 0:
        if key in ("batch2", "audit2"):
            return f"{res[base_key].wall / res[key].wall:.2f}x throughput of 1 job"
        return f"{res[key].wall / res[base_key].wall:.2f}x {res[base_key].label.split(' (')[0]}"
    return ""


def table(results: list[Result]) -> list[str]:
    res = {r.key: r for r in results}
    lines = [
        "| group | operation | wall median (s) | min (s) | CPU user+sys (s) | MiB/s "
        "| peak RSS (MB) | other load (cores) | ratio (median wall) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        mbps = f"{r.mbps:.0f}" if r.mbps else ""
        lines.append(
            f"| {r.group} | {r.label} | {r.wall:.3f} | {r.wall_min:.3f} | {r.cpu:.3f} "
            f"| {mbps} | {r.rss_mb:.1f} | {r.other:.2f} | {_ratio(res, r.key)} |"
        )
    return lines


def machine() -> dict[str, str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    fs = subprocess.run(["df", "-T", "/tmp"], capture_output=True, text=True).stdout.splitlines()
    vers = subprocess.run(
        [
            PY,
            "-c",
            "import c2pa,av,sys;print(c2pa.sdk_version(),'|',"
            "sys.version.split()[0],'|',av.__version__)",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    head = subprocess.run(
        ["git", "-C", str(REPO), "log", "-1", "--format=%h %s"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "provenance", "cli"],
        capture_output=True,
        text=True,
    ).stdout.split()
    return {
        "repo": head + (f" (+ uncommitted: {' '.join(dirty[1::2])})" if dirty else ""),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": mem,
        "kernel": platform.release(),
        "scratch fs": fs[-1].split()[1] if len(fs) > 1 else "",
        "c2pa sdk | python | PyAV": vers,
    }


def write_report(
    path: Path,
    argv: list[str],
    results: list[Result],
    targets: list[Target],
    media: dict[str, str],
    mach: dict[str, str] | None = None,
) -> None:
    m = mach or machine()
    lines = [
        "# provcheck benchmark results",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M:%S')} by `bench/bench.py`.",
        "",
        "## Machine",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in m.items()]
    lines += [
        "",
        "## Command",
        "",
        "```sh",
        shlex.join([".venv/bin/python", "bench/bench.py", *argv]),
        "```",
        "",
        "## Test media",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in media.items()]
    lines += [
        "",
        "Every figure is one operation in its own subprocess (page cache warm; "
        "outputs deleted and `sync` run before each sign/cp). Wall = median of the "
        "repeats; peak RSS = max over the repeats of GNU time's %M for the command; CPU = "
        "user+sys of the command; *other load* = CPU used by other processes on the "
        "machine during the run (from /proc/stat), in cores - anything well above 0 "
        "means the figure is contended.",
        "",
        "## Figures",
        "",
    ]
    lines += table(results)
    lines += [
        "",
        "## Targets",
        "",
        "Measured = ratio of median wall times; the last column gives the same ratio "
        "from the fastest run and from CPU time, which contention disturbs less.",
        "",
        "| target | measured | limit | holds | min-wall / CPU ratio |",
        "|---|---:|---:|---|---|",
    ]
    for t in targets:
        lines.append(
            f"| {t.name} | {t.value:.2f} {t.unit} | {t.op} {t.limit:g} {t.unit} | "
            f"{'yes' if t.ok else '**no**'} | {t.alt} |"
        )
    lines.append("")
    path.write_text("\n".join(lines))


# ---------------------------------------------------------------------------


def report_from_json(src: Path, report: Path) -> None:
    """Rebuild the Markdown report (and targets) from a results-*.json of an earlier run."""
    doc = json.loads(src.read_text())
    results = []
    for r in doc["results"]:
        samples = [Sample(**smp) for smp in r.pop("samples")]
        results.append(Result(**r, samples=samples))
    suffixes = sorted({r.key[r.key.index("@") :] for r in results if "@" in r.key})
    targets = evaluate({r.key: r for r in results}, ["", *suffixes])
    write_report(report, doc["argv"], results, targets, doc["media"], doc.get("machine"))
    print("\n".join(table(results)))
    for t in targets:
        print(
            f"  {'OK ' if t.ok else 'NO '} {t.name:<44} {t.value:8.2f} {t.unit:<2} "
            f"(target {t.op} {t.limit:g}; {t.alt})"
        )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--size-gb", type=float, default=1.0, help="size of the main test video in GiB (default 1)"
    )
    ap.add_argument(
        "--rss-size-gb",
        type=float,
        default=2.0,
        help="size of the extra video for the peak-RSS check (0: skip; default 2)",
    )
    ap.add_argument(
        "--quick", action="store_true", help="~200 MB video, 2 repeats, no extra RSS video"
    )
    ap.add_argument("--repeat", type=int, default=3, help="repeats of each large-file timing")
    ap.add_argument("--startup-repeat", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--batch-repeat", type=int, default=3)
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/bench"))
    ap.add_argument("--report", type=Path, default=HERE / "FULL.md")
    ap.add_argument(
        "--sections",
        default="verify,sign,startup,batch,rss,fingerprint",
        help="comma-separated subset of verify,sign,startup,batch,rss,fingerprint",
    )
    ap.add_argument(
        "--no-check",
        action="store_true",
        help="skip checking signed outputs with a trust-configured raw Reader",
    )
    ap.add_argument(
        "--audit-cmd",
        default=None,
        help="template of the audit command (fields {provcheck} {jobs} {root} "
        "{dir}); default: AUDIT_TEMPLATE when `provcheck audit` exists",
    )
    ap.add_argument("--no-audit", action="store_true", help="do not measure provcheck audit")
    ap.add_argument(
        "--no-prototypes", action="store_true", help="do not measure bench/prototypes/fast_sign.py"
    )
    ap.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="before each run, wait up to this many seconds for other processes "
        "to go quiet (shared machines); 0 disables",
    )
    ap.add_argument(
        "--from-json",
        type=Path,
        default=None,
        help="only rebuild the report from a results-*.json of an earlier run",
    )
    a = ap.parse_args(argv)
    if a.from_json:
        report_from_json(a.from_json, a.report)
        return 0
    if a.quick:
        a.size_gb, a.rss_size_gb, a.repeat = 0.2, 0.0, 2
        a.startup_repeat, a.batch_repeat = min(a.startup_repeat, 5), min(a.batch_repeat, 2)
    scratch = a.scratch.resolve()
    if str(scratch).startswith(str(REPO)):
        ap.error("the scratch directory must be outside the repository")
    scratch.mkdir(parents=True, exist_ok=True)
    sections = set(a.sections.split(","))

    env = dict(os.environ)
    env["PROVCHECK_CONFIG_DIR"] = str(scratch / "config")  # empty: no installed trust
    env.pop("PYTHONSTARTUP", None)
    runner = Runner(scratch, env, quiet_wait=a.quiet_wait)

    size = int(a.size_gb * GiB)
    src = ensure_video(scratch, size)
    signed = ensure_signed(runner, src) if sections & {"verify", "rss"} else src
    media = {
        "main video": f"{src} ({src.stat().st_size:,} bytes; top-level boxes "
        + ", ".join(f"{k}@{o}+{n}" for k, o, n in top_level_boxes(src))
        + ")",
        "signed copy (provcheck sign --ai fully)": f"{signed} ({signed.stat().st_size:,} bytes)",
    }
    tag = ""
    results: list[Result] = []
    merkle = None
    if not a.no_prototypes and sections & {"verify", "rss"}:
        merkle = ensure_fast_signed(runner, src, "front-merkle")
        media["Merkle-signed copy (bench/prototypes/fast_sign.py --mode front-merkle)"] = (
            f"{merkle} ({merkle.stat().st_size:,} bytes)"
        )
    if "verify" in sections:
        results += section_verify(runner, signed, a.repeat, tag, merkle)
    if "sign" in sections:
        results += section_sign(
            runner, src, a.repeat, tag, check=not a.no_check, prototypes=not a.no_prototypes
        )
    if "startup" in sections:
        results += section_startup(runner, a.startup_repeat)
    if "fingerprint" in sections:
        results += section_fingerprint(runner, scratch, min(a.repeat, 3))
    if "batch" in sections:
        files = ensure_batch(scratch, a.batch_size)
        audit_cmd = None
        if not a.no_audit:
            audit_cmd = a.audit_cmd or (AUDIT_TEMPLATE if audit_available(env) else None)
        results += section_batch(runner, files, a.batch_repeat, audit_cmd)
    tags = [tag] if sections & {"verify", "sign"} else []
    if "rss" in sections and a.rss_size_gb > 0:
        big = ensure_video(scratch, int(a.rss_size_gb * GiB))
        big_signed = ensure_signed(runner, big)
        media["RSS video"] = f"{big} ({big.stat().st_size:,} bytes)"
        big_merkle = None if a.no_prototypes else ensure_fast_signed(runner, big, "front-merkle")
        rtag = f"@{a.rss_size_gb:g}G"
        results += section_rss(runner, big, big_signed, rtag, big_merkle)
        tags.append(rtag)
    if not tags and "rss" in sections:
        tags = [tag]

    targets = evaluate({r.key: r for r in results}, tags or [tag])
    print()
    print("\n".join(table(results)))
    print()
    for t in targets:
        print(
            f"  {'OK ' if t.ok else 'NO '} {t.name:<44} {t.value:8.2f} {t.unit:<2}"
            f" (target {t.op} {t.limit:g}; {t.alt})"
        )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (scratch / f"results-{stamp}.json").write_text(
        json.dumps(
            {
                "argv": argv,
                "machine": machine(),
                "media": media,
                "results": [
                    {
                        **asdict(r),
                        "samples": [{**asdict(s), "stdout": s.stdout[:200]} for s in r.samples],
                    }
                    for r in results
                ],
                "targets": [asdict(t) | {"ok": t.ok} for t in targets],
            },
            indent=1,
        )
    )
    write_report(a.report, argv, results, targets, media)
    print(f"\nreport: {a.report}\njson:   {scratch / f'results-{stamp}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
