"""Auto-foley: sync accuracy on synthetic bouncing balls, and speed against ffmpeg's decode.

a) sync: bouncing-ball variants (speed, size, noise added with numpy before encoding, heavy
   compression) with ground-truth impact frames; an impact found within one frame of a true one
   is a hit (one-to-one). Prints precision, recall, F1 and the median absolute time error
   (targets: F1 >= 0.9);
b) steps: walker scenes (studio.media.synth_scenes.write_walker: feet planting alternately at known
   sub-frame times; sizes, rates, periods, camera noise) -- the same one-frame scoring of `step`
   events, and how many impacts are (wrongly) reported on them;
c) explosions: write_explosion scenes (a plain flash, then a fireball) -- the explosion within
   half a frame, the flash kept as a flash, nothing else reported;
d) speed: `studio foley X -o OUT` (synth backend, the whole command in its own process:
   decode, analysis, events, sounds, mux) on a 60 s 1080p30 clip (a 10 s synthetic clip looped
   with `ffmpeg -stream_loop -c copy`) against `ffmpeg -i X -f null -` decoding the same file
   (target: foley <= 1.5x decode). Two encodings of the same picture: x264 ultrafast (no CABAC,
   no deblocking, no B-frames: almost free to decode, so foley's fixed costs -- Python start,
   AAC encoding of the foley track -- weigh most) and x264 medium (CABAC, deblocking, B-frames,
   as camera and phone footage is). Reported too: the in-process analysis time and a bare PyAV
   decode of the same file (the floor any analysis that decodes every frame stands on), and
   `studio foley --use-events` with the events found (everything but the analysis: start-up,
   sounds, mix, AAC, mux).

Last line: a JSON object. Usage: python bench/foley_bench.py [--seconds 60] [--skip-speed | --speed-only]
[--runs 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import have, run, studio  # noqa: E402

from studio.ai.foley.analysis import analyze  # noqa: E402
from studio.ai.foley.events import detect_events, save_events  # noqa: E402
from studio.media.synth_scenes import ball_height, write_explosion, write_walker  # noqa: E402

#: name -> (width, height, fps, frames, first_impact, period, noise sigma, crf[, x264 preset])
VARIANTS = {
    "base 640x360@25": (640, 360, 25, 150, 37, 30, 0, 18),
    "fast (period 14)": (640, 360, 25, 150, 9, 14, 0, 18),
    "slow (period 50)": (640, 360, 25, 200, 30, 50, 0, 18),
    "small 320x180@30": (320, 180, 30, 150, 20, 25, 0, 18),
    "large 1280x720@24": (1280, 720, 24, 120, 12, 22, 0, 18),
    "noise sigma 12": (640, 360, 25, 150, 37, 30, 12, 18),
    "noise sigma 25": (640, 360, 25, 150, 37, 30, 25, 18),
    "crf 40": (640, 360, 25, 150, 37, 30, 0, 40),
    "noise 12 + crf 35": (640, 360, 30, 150, 15, 27, 12, 35),
    "sub-frame (first 37.4)": (640, 360, 25, 150, 37.4, 30, 0, 18),
    "sub-frame (first 20.7) @30": (480, 270, 30, 150, 20.7, 26, 4, 23),
    # x264 medium: CABAC, deblocking and B-frames, as camera and phone footage has (analysis skips
    # the deblocking filter: these show it costs no accuracy)
    "x264 medium crf 28": (640, 360, 25, 150, 37, 30, 0, 28, "medium"),
    "x264 medium noise 12 crf 30 @30": (640, 360, 30, 150, 15.5, 27, 12, 30, "medium"),
}


def write_ball(path: Path, width: int, height: int, fps: int, frames: int, first: float, period: int,
               noise: float = 0.0, crf: int = 18, seed: int = 0, preset: str = "ultrafast") -> list[float]:
    """Like studio.media.synth_scenes.write_bouncing_ball (same geometry), plus noise, any CRF and a
    fractional first impact (sub-frame ground truth)."""
    rng = np.random.default_rng(seed)
    floor_y, radius = int(height * 0.85), max(4, height // 14)
    top_y = radius + height // 12
    yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    disc = xx**2 + yy**2 <= radius**2
    background = np.empty((height, width, 3), np.uint8)
    background[:] = (40, 44, 60)
    background[floor_y:] = (90, 70, 50)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        s.options = {"preset": preset, "crf": str(crf)}
        for i in range(frames):
            img = background.copy()
            cy = int(round(floor_y - radius - ball_height(i, first, period) * (floor_y - radius - top_y)))
            cx = int(round(radius + (width - 2 * radius) * i / max(1, frames - 1)))
            y0, x0 = cy - radius, cx - radius
            sub = img[max(0, y0):cy + radius + 1, max(0, x0):cx + radius + 1]
            mask = disc[max(0, -y0):max(0, -y0) + sub.shape[0], max(0, -x0):max(0, -x0) + sub.shape[1]]
            sub[mask] = (230, 80, 40)
            if noise:
                img = np.clip(img + rng.normal(0, noise, img.shape), 0, 255).astype(np.uint8)
            f = av.VideoFrame.from_ndarray(img, "rgb24")
            f.pts = i
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return [float(t) for t in np.arange(first % period, frames - 0.5, period)]


def score(found: list[float], truth: list[float]) -> tuple[int, list[float]]:
    """Greedy one-to-one matching within one frame: (hits, abs errors in frames)."""
    free = list(truth)
    errors = []
    for f in sorted(found):
        best = min(free, key=lambda t: abs(t - f), default=None)
        if best is not None and abs(best - f) <= 1.0:
            free.remove(best)
            errors.append(abs(best - f))
    return len(errors), errors


def sync_bench(folder: Path) -> dict:
    rows, tp, n_found, n_true, errors_ms = {}, 0, 0, 0, []
    for name, (w, h, fps, frames, first, period, noise, crf, *preset) in VARIANTS.items():
        path = folder / "variant.mp4"
        truth = write_ball(path, w, h, fps, frames, first, period, noise, crf,
                           preset=preset[0] if preset else "ultrafast")
        found = [e.time * fps for e in detect_events(analyze(path)) if e.kind == "impact"]
        hits, errs = score(found, truth)
        tp, n_found, n_true = tp + hits, n_found + len(found), n_true + len(truth)
        errors_ms += [e * 1000 / fps for e in errs]
        rows[name] = {"truth": len(truth), "found": len(found), "hits": hits,
                      "median_err_ms": round(statistics.median([e * 1000 / fps for e in errs]), 2) if errs else None}
        print(f"{name:22s} truth {len(truth):2d} found {len(found):2d} hits {hits:2d} "
              f"median |err| {rows[name]['median_err_ms']} ms", file=sys.stderr)
    precision = tp / n_found if n_found else 0.0
    recall = tp / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "median_abs_err_ms": round(statistics.median(errors_ms), 2) if errors_ms else None,
            "variants": rows}


#: name -> (width, height, fps, frames, first contact, step period, noise sigma)
WALKERS = {
    "walker 640x360@25": (640, 360, 25, 125, 8.0, 12.0, 0),
    "walker 480x270@30 sub-frame": (480, 270, 30, 150, 8.4, 11.3, 0),
    "walker 320x180@24 slow": (320, 180, 24, 120, 5.7, 15.5, 0),
    "walker 1280x720@25 fast": (1280, 720, 25, 100, 4.2, 9.0, 0),
    "walker 640x360@25 noise 8": (640, 360, 25, 125, 8.0, 12.0, 8),
}


def _add_noise(path: Path, sigma: float, seed: int = 0) -> None:
    """Re-encode ``path`` with Gaussian camera noise added to every frame."""
    rng = np.random.default_rng(seed)
    tmp = path.with_name("noisy.mp4")
    with av.open(str(path)) as inp, av.open(str(tmp), "w") as out:
        vin = inp.streams.video[0]
        s = out.add_stream("libx264", rate=vin.average_rate)
        s.width, s.height, s.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
        s.options = {"preset": "ultrafast", "crf": "23"}
        for i, frame in enumerate(inp.decode(vin)):
            img = np.clip(frame.to_ndarray(format="rgb24") + rng.normal(0, sigma, (s.height, s.width, 3)), 0, 255)
            f = av.VideoFrame.from_ndarray(img.astype(np.uint8), "rgb24")
            f.pts = i
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode(None):
            out.mux(p)
    tmp.replace(path)


def steps_bench(folder: Path) -> dict:
    rows, tp, n_found, n_true, errors_ms, impacts = {}, 0, 0, 0, [], 0
    for name, (w, h, fps, frames, first, period, noise) in WALKERS.items():
        path = folder / "walker.mp4"
        truth = write_walker(path, width=w, height=h, fps=fps, frames=frames, first_contact=first, period=period)
        if noise:
            _add_noise(path, noise)
        events = detect_events(analyze(path))
        found = [e.time * fps for e in events if e.kind == "step"]
        wrong = sum(e.kind == "impact" for e in events)
        hits, errs = score(found, list(truth.contact_frames))
        tp, n_found, impacts = tp + hits, n_found + len(found), impacts + wrong
        n_true += len(truth.contact_frames)
        errors_ms += [e * 1000 / fps for e in errs]
        rows[name] = {"truth": len(truth.contact_frames), "found": len(found), "hits": hits, "impacts": wrong,
                      "median_err_ms": round(statistics.median([e * 1000 / fps for e in errs]), 2) if errs else None}
        print(f"{name:28s} truth {len(truth.contact_frames):2d} found {len(found):2d} hits {hits:2d} impacts {wrong} "
              f"median |err| {rows[name]['median_err_ms']} ms", file=sys.stderr)
    precision = tp / n_found if n_found else 0.0
    recall = tp / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "median_abs_err_ms": round(statistics.median(errors_ms), 2) if errors_ms else None,
            "impacts_reported": impacts, "variants": rows}


def explosion_bench(folder: Path) -> dict:
    rows = {}
    for name, (w, h, fps, flash, boom, centre) in {
        "explosion 640x360@25": (640, 360, 25, 15, 45, (0.62, 0.6)),
        "explosion 480x270@30 left": (480, 270, 30, 20, 52, (0.3, 0.5)),
        "explosion 1280x720@24": (1280, 720, 24, 10, 30, (0.5, 0.45)),
    }.items():
        path = folder / "boom.mp4"
        scene = write_explosion(path, width=w, height=h, fps=fps, frames=boom + 30, flash_frame=flash,
                                explosion_frame=boom, centre=centre)
        events = detect_events(analyze(path))
        booms = [e.time * fps for e in events if e.kind == "explosion"]
        ok = (len(booms) == 1 and abs(booms[0] - scene.explosion_frame) < 0.5
              and [round(e.time * fps) for e in events if e.kind == "flash"] == [scene.flash_frame]
              and len(events) == 2)
        rows[name] = {"ok": ok, "events": [f"{e.kind}@{e.time * fps:.2f}" for e in events]}
        print(f"{name:28s} {'ok' if ok else 'WRONG'} {rows[name]['events']}", file=sys.stderr)
    return {"correct": sum(r["ok"] for r in rows.values()), "of": len(rows), "variants": rows}


def speed_bench(folder: Path, seconds: int, preset: str = "ultrafast", runs: int = 3) -> dict:
    short = folder / f"short-{preset}.mp4"
    loops = max(1, seconds // 10)
    t0 = time.perf_counter()
    write_ball(short, 1920, 1080, 30, 300, 37, 30, noise=0, crf=23, preset=preset)
    clip = folder / f"long-{preset}.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", str(loops - 1), "-i", str(short), "-c", "copy",
                    str(clip)], check=True)
    made = time.perf_counter() - t0
    decode_cmd = ["ffmpeg", "-v", "error", "-i", str(clip), "-f", "null", "-"]
    foley_cmd = studio("foley", str(clip), "-o", str(folder / "out.mp4"))
    decode, foley, decode_cpu, foley_cpu, ratios = None, None, [], [], []
    for _ in range(runs):  # interleaved, best of `runs`: the machine is shared and noisy
        for cmd, cpu in ((decode_cmd, decode_cpu), (foley_cmd, foley_cpu)):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            r = run(cmd)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if r.returncode:
                raise SystemExit(f"{cmd[0]} failed: {r.stderr}")
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            if cmd is decode_cmd:
                decode = r if decode is None or r.seconds < decode.seconds else decode
                last_decode = r.seconds
            else:
                foley = r if foley is None or r.seconds < foley.seconds else foley
                ratios.append(r.seconds / last_decode)
    t0 = time.perf_counter()
    features = analyze(clip)
    events = detect_events(features)
    analysis = time.perf_counter() - t0
    t0 = time.perf_counter()
    with av.open(str(clip)) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in c.decode(stream):
            pass
    pyav = time.perf_counter() - t0
    # everything but the analysis (start-up, sounds, mix, AAC, mux): the same events, read from JSON
    save_events(events, folder / "events.json")
    fixed_runs = [run(studio("foley", str(clip), "-o", str(folder / "out.mp4"), "--use-events",
                             str(folder / "events.json"))) for _ in range(runs)]
    if any(r.returncode for r in fixed_runs):
        raise SystemExit(f"studio foley --use-events failed: {fixed_runs[-1].stderr}")
    fixed = min(r.seconds for r in fixed_runs)
    return {"clip": f"{seconds} s 1080p30 ({features.frames} frames), x264 {preset} crf 23",
            "clip_made_s": round(made, 1),
            "ffmpeg_decode_s": round(decode.seconds, 2), "foley_cli_s": round(foley.seconds, 2),
            "foley_over_decode": round(foley.seconds / decode.seconds, 3),
            "foley_over_decode_per_run": [round(x, 3) for x in ratios],
            "ffmpeg_decode_cpu_s": round(min(decode_cpu), 2), "foley_cli_cpu_s": round(min(foley_cpu), 2),
            "foley_over_decode_cpu": round(min(foley_cpu) / min(decode_cpu), 3),
            "analysis_in_process_s": round(analysis, 2), "analysis_over_decode": round(analysis / decode.seconds, 3),
            "pyav_decode_only_s": round(pyav, 2), "pyav_decode_over_decode": round(pyav / decode.seconds, 3),
            "foley_without_analysis_s": round(fixed, 2),
            "foley_without_analysis_over_decode": round(fixed / decode.seconds, 3),
            "events": len(events), "foley_peak_rss_mb": round(foley.peak_rss_mb)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=60, help="length of the speed clip (multiple of 10)")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--speed-only", action="store_true", help="only (d), the speed measure")
    ap.add_argument("--runs", type=int, default=3, help="interleaved decode/foley runs per clip (best of)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = {} if args.speed_only else {"sync": sync_bench(Path(tmp)), "steps": steps_bench(Path(tmp)),
                                             "explosions": explosion_bench(Path(tmp))}
        if not args.skip_speed:
            if not have("ffmpeg"):
                result["speed"] = "skipped: no ffmpeg"
            else:
                for preset in ("ultrafast", "medium"):
                    result[f"speed_{preset}"] = speed_bench(Path(tmp), args.seconds, preset, args.runs)
    result["targets"] = {}
    if not args.speed_only:
        result["targets"] = {"f1>=0.9": result["sync"]["f1"] >= 0.9, "steps f1>=0.9": result["steps"]["f1"] >= 0.9}
    for preset in ("ultrafast", "medium"):
        speed = result.get(f"speed_{preset}")
        if isinstance(speed, dict):
            result["targets"][f"foley<=1.5x decode (x264 {preset})"] = speed["foley_over_decode"] <= 1.5
    print(json.dumps(result))


if __name__ == "__main__":
    main()
