"""Playback: frames shown per second while playing a 1080p30 timeline, and click-to-frame latency.

Builds, in a temp folder, two synthetic 1080p30 sources (with audio) and a two-track timeline:
V1 holds two clips joined by a 1 s dissolve, V2 a scaled picture-in-picture over the middle.
Proxies are made with ``studio.media.cache.make_proxy`` (a temp cache store). Then it plays the
timeline through ``studio.render.playback.PlaybackEngine`` (no Qt: the UI timer is a 2 ms polling
loop here) for ``--seconds`` at a 960x540 display size, counting frames shown and dropped; and it
seeks (paused) to random frames and times how long until the frame is ready to paint.
Targets: >= 29 frames shown per second, median and max click-to-frame <= 100 ms.

    python bench/playback.py [--seconds S] [--seeks N] [--no-proxies]

The audio device is used when there is one (else the wall clock runs, silently). The last line
printed is a JSON object with the numbers.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.core.project import Project, ProjectSettings  # noqa: E402
from studio.core.timeline import Clip, Sequence, Track, Transform, Transition  # noqa: E402
from studio.media.assets import asset_from_file  # noqa: E402
from studio.media.cache import make_proxy, proxy_resolver  # noqa: E402
from studio.media.cache.store import CacheStore  # noqa: E402
from studio.media.synth import write_test_video  # noqa: E402
from studio.render.playback import PlaybackEngine  # noqa: E402

W, H, FPS = 1920, 1080, Fraction(30)
VIEW = (960, 540)


def build_project(paths: list[str], frames: int) -> Project:
    a_asset, b_asset = (asset_from_file(p, f"src{i}") for i, p in enumerate(paths))
    half = frames // 2
    a = Clip("a", a_asset.id, position=0, duration=half, source_in=Fraction(0))
    b = Clip("b", b_asset.id, position=half, duration=frames - half - 30, source_in=Fraction(30))
    dissolve = Transition("t", "a", "b", 15, 15)
    pip = Clip("pip", b_asset.id, position=frames // 5, duration=frames * 3 // 5, source_in=Fraction(10),
               transform=Transform(x=560, y=-300, scale=0.35))
    tracks = (Track("V1", "video", "V1", clips=(a, b), transitions=(dissolve,)),
              Track("V2", "video", "V2", clips=(pip,)))
    return Project(ProjectSettings(W, H, FPS), assets=(a_asset, b_asset), sequence=Sequence(tracks))


def play(engine: PlaybackEngine, seconds: float) -> dict:
    engine.pause()
    engine.seek(0)
    engine.wait_ready(0, 10)
    engine.poll()
    shown0, dropped0, skipped0 = engine.stats.shown, engine.stats.dropped, engine.stats.skipped
    engine.play()
    t0 = time.perf_counter()
    frames = []
    while time.perf_counter() - t0 < seconds and engine.playing:
        s = engine.poll()
        if s is not None:
            frames.append(s.n)
        time.sleep(0.002)
    elapsed = time.perf_counter() - t0
    end = engine.frame()
    engine.pause()
    shown = engine.stats.shown - shown0
    dropped = engine.stats.dropped - dropped0
    skipped = engine.stats.skipped - skipped0
    return {"seconds": round(elapsed, 2), "shown": shown, "shown_fps": round(shown / elapsed, 2),
            "dropped": dropped + skipped, "dropped_late": dropped, "skipped_by_renderer": skipped,
            "clock_frames": end, "monotonic": frames == sorted(frames),
            "render_ms_median": round(statistics.median(engine.stats.render_ms[-200:]), 1)}


def seeks(engine: PlaybackEngine, count: int, seed: int) -> dict:
    rng = random.Random(seed)
    engine.pause()
    times = []
    for _ in range(count):
        n = rng.randrange(engine.duration)
        t0 = time.perf_counter()
        engine.seek(n)
        while True:
            s = engine.poll()
            if s is not None and s.n == n:
                break
            if time.perf_counter() - t0 > 10:
                raise SystemExit(f"frame {n} never arrived")
            time.sleep(0.001)
        times.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.02)  # a user does not click faster than this
    times.sort()
    return {"median_ms": round(statistics.median(times), 1), "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1),
            "max_ms": round(times[-1], 1)}


def run_mode(project: Project, proxies, seconds: float, count: int) -> dict:
    engine = PlaybackEngine(project, proxies=proxies)
    engine.set_display_size(*VIEW)
    try:
        result = play(engine, seconds)
        result["seek"] = seeks(engine, count, seed=1)
        result["audio"] = "device" if engine.has_audio else f"none ({engine.audio_reason})"
    finally:
        engine.close()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="seconds of playback to time")
    ap.add_argument("--seeks", type=int, default=40, help="random seeks to time")
    ap.add_argument("--no-proxies", action="store_true", help="also skip the proxy run (full resolution only)")
    args = ap.parse_args()
    frames = int((args.seconds + 1) * FPS)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        paths = [os.path.join(tmp, f"src{i}.mp4") for i in range(2)]
        for p in paths:
            write_test_video(p, width=W, height=H, fps=FPS, frames=frames)
        print(f"wrote 2 x {frames} frames of 1080p30 in {time.perf_counter() - t0:.1f} s", flush=True)
        project = build_project(paths, frames)
        results = {}
        if not args.no_proxies:
            store = CacheStore(os.path.join(tmp, "cache"))
            t0 = time.perf_counter()
            for asset in project.assets:
                make_proxy(asset.path, asset.fingerprint, store=store)
            print(f"proxies made in {time.perf_counter() - t0:.1f} s", flush=True)
            results["proxies"] = run_mode(project, proxy_resolver(store), args.seconds, args.seeks)
            print("proxies:", json.dumps(results["proxies"]), flush=True)
        results["full"] = run_mode(project, None, args.seconds, args.seeks)
        print("full   :", json.dumps(results["full"]), flush=True)
    main_mode = results.get("proxies", results["full"])
    result = {"bench": "playback", "size": f"{W}x{H}", "fps": str(FPS), "view": f"{VIEW[0]}x{VIEW[1]}",
              "cpus": os.cpu_count(), "mode": "proxies" if "proxies" in results else "full",
              "shown_fps": main_mode["shown_fps"], "dropped": main_mode["dropped"],
              "seek_median_ms": main_mode["seek"]["median_ms"], "seek_max_ms": main_mode["seek"]["max_ms"],
              "full_shown_fps": results["full"]["shown_fps"], "full_dropped": results["full"]["dropped"],
              "full_seek_median_ms": results["full"]["seek"]["median_ms"],
              "full_seek_max_ms": results["full"]["seek"]["max_ms"],
              "target_fps": 29, "target_seek_ms": 100,
              "ok": main_mode["shown_fps"] >= 29 and main_mode["seek"]["max_ms"] <= 100}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
