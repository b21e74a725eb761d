"""Scrub latency: milliseconds to deliver a random sequence frame through ``Compositor.frame``.

Builds, in a temp folder, a 1080p30 synthetic source (10 s, H.264 with a 1 s GOP, the kind
of keyframe spacing cameras and proxies use) and a two-track 1080p timeline on it: V1 holds
two clips joined by a 1 s dissolve, V2 a scaled picture-in-picture over the middle. Then it
asks for random frames, in random order, and prints the median and p90 latency, with the
frame cache on (the default pool) and off. Issue target: median <= 40 ms.

    python bench/scrub.py [--frames N] [--seconds S] [--gop G]

The last line printed is a JSON object with the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.core.media_pool import Asset, MediaInfo  # noqa: E402
from studio.core.project import Project, ProjectSettings  # noqa: E402
from studio.core.timeline import Clip, Sequence, Track, Transform, Transition  # noqa: E402
from studio.media import synth  # noqa: E402
from studio.media.source_pool import SourcePool  # noqa: E402
from studio.render.compositor import Compositor  # noqa: E402

W, H, FPS = 1920, 1080, Fraction(30)


def write_source(path: str, frames: int, gop: int) -> None:
    with av.open(path, "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.time_base = 1 / FPS
        stream.options = {"preset": "ultrafast", "crf": "20", "x264-params": f"keyint={gop}:min-keyint={gop}"}
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(synth.draw_frame(i, W, H, frames), "rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def build_project(path: str, frames: int) -> Project:
    info = MediaInfo(duration=Fraction(frames) / FPS, has_video=True, width=W, height=H, fps=FPS)
    asset = Asset("src", path, "src.mp4", "video", info=info)
    half = frames // 2
    a = Clip("a", "src", position=0, duration=half, source_in=Fraction(0))
    b = Clip("b", "src", position=half, duration=frames - half - 30, source_in=Fraction(30))
    dissolve = Transition("t", "a", "b", 15, 15)
    pip = Clip("pip", "src", position=frames // 5, duration=frames * 3 // 5, source_in=Fraction(10),
               transform=Transform(x=560, y=-300, scale=0.35))
    tracks = (Track("V1", "video", "V1", clips=(a, b), transitions=(dissolve,)),
              Track("V2", "video", "V2", clips=(pip,)))
    return Project(ProjectSettings(W, H, FPS), assets=(asset,), sequence=Sequence(tracks))


def measure(project: Project, samples: int, cache_bytes: int | None, seed: int) -> dict:
    pool = SourcePool() if cache_bytes is None else SourcePool(cache_bytes=cache_bytes)
    comp = Compositor(project, pool)
    duration = project.sequence.duration
    rng = random.Random(seed)
    comp.frame(0)  # open the decoders (not part of a scrub)
    times = []
    for _ in range(samples):
        n = rng.randrange(duration)
        t0 = time.perf_counter()
        comp.frame(n)
        times.append((time.perf_counter() - t0) * 1000)
    pool.close()
    times.sort()
    return {"median_ms": round(statistics.median(times), 2), "p90_ms": round(times[int(0.9 * (len(times) - 1))], 2),
            "max_ms": round(times[-1], 2), "paths": dict(comp.stats)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200, help="random frames to request")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--gop", type=int, default=30, help="keyframe interval of the source, frames")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "src1080p30.mp4")
        frames = int(args.seconds * FPS)
        t0 = time.perf_counter()
        write_source(path, frames, args.gop)
        print(f"wrote {frames} frames of 1080p30 (GOP {args.gop}) in {time.perf_counter() - t0:.1f} s")
        project = build_project(path, frames)
        cached = measure(project, args.frames, None, seed=1)
        print(f"cache on : median {cached['median_ms']} ms, p90 {cached['p90_ms']} ms  {cached['paths']}")
        cold = measure(project, args.frames, 0, seed=1)
        print(f"cache off: median {cold['median_ms']} ms, p90 {cold['p90_ms']} ms  {cold['paths']}")
    result = {"bench": "scrub", "size": f"{W}x{H}", "fps": str(FPS), "gop": args.gop, "samples": args.frames,
              "cpus": os.cpu_count(), "median_ms": cached["median_ms"], "p90_ms": cached["p90_ms"],
              "no_cache_median_ms": cold["median_ms"], "no_cache_p90_ms": cold["p90_ms"], "target_median_ms": 40,
              "ok": cached["median_ms"] <= 40}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
