"""Export throughput of `studio render` against ffmpeg, melt and moviepy on the same 4K60 work.

a) a cut-only 4K60 timeline of one 4K60 source (cut every second) vs `ffmpeg -i SRC -c:v libx264
   -preset ultrafast -crf 18` (ratio of frames per second, ours / ffmpeg's; target >= 0.9);
b) the same with a one-second dissolve every five seconds vs ffmpeg's xfade (target >= 0.7);
c) the cut-only timeline vs melt rendering equivalent MLT XML, same encoder settings,
   real_time=-N (target >= 2x);
d) the cut-only timeline vs moviepy (target >= 3x);
f) peak resident memory of each export (target <= 1.5 GB for ours).

Each tool runs in its own process; ratios are taken within this one run because the machine is
shared and noisy. Last line: a JSON object. Usage: python bench/export_bench.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import BIN, have, run, studio  # noqa: E402

from studio.core.edits import AddAsset, AddTransition, OverwriteClip  # noqa: E402
from studio.core.factory import clip_for_asset, new_project  # noqa: E402
from studio.core.history import History  # noqa: E402
from studio.core.projectfile import save_project  # noqa: E402
from studio.media.assets import asset_from_file  # noqa: E402

W, H, FPS = 3840, 2160, 60
ENC = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p"]
#: Our preset writes an AAC track (silent here); the ffmpeg runs write the same, to compare like with like.
SILENT = ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo"]
AAC = ["-c:a", "aac", "-b:a", "320k", "-shortest"]


def make_source(folder: Path, seconds: int) -> Path:
    src = folder / "src4k60.mp4"
    if have("ffmpeg"):
        r = run(["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate={FPS}",
                 "-t", str(seconds), *ENC, "-g", str(FPS), str(src)])
        if r.returncode:
            raise SystemExit(f"cannot make the source: {r.stderr}")
    else:  # pragma: no cover - the comparisons need ffmpeg anyway
        from studio.media.synth import write_test_video
        write_test_video(src, width=W, height=H, fps=Fraction(FPS), frames=seconds * FPS, audio=False)
    return src


def make_project(folder: Path, src: Path, seconds: int, dissolve_every: int | None) -> Path:
    """Cuts every second (one clip per second, in order); optionally 1 s dissolves every N s."""
    h = History(new_project(W, H, Fraction(FPS), name="bench"))
    asset = asset_from_file(src)
    h.apply(AddAsset(asset))
    v1 = h.project.sequence.tracks[0].id
    step = dissolve_every or 1
    ids = []
    for start in range(0, seconds, step):
        length = min(step, seconds - start) * FPS
        c = clip_for_asset(asset, h.project.fps, start * FPS, source_in=start * FPS, duration=length)
        h.apply(OverwriteClip(v1, c))
        ids.append(c.id)
    if dissolve_every:
        for cid in ids[:-1]:
            h.apply(AddTransition(cid, FPS))  # 1 s, centred on the cut: uses the source's handles
    path = folder / f"bench_{'dissolve' if dissolve_every else 'cuts'}.studio"
    save_project(h.project, path)
    return path


def mlt_xml(src: Path, seconds: int) -> str:
    entries = "\n".join(f'    <entry producer="src" in="{s * FPS}" out="{(s + 1) * FPS - 1}"/>' for s in range(seconds))
    return f"""<?xml version="1.0" encoding="utf-8"?>
<mlt>
  <profile width="{W}" height="{H}" frame_rate_num="{FPS}" frame_rate_den="1" progressive="1"
           sample_aspect_num="1" sample_aspect_den="1" display_aspect_num="16" display_aspect_den="9"
           colorspace="709"/>
  <producer id="src"><property name="resource">{src}</property></producer>
  <playlist id="main">
{entries}
  </playlist>
  <tractor id="tractor"><multitrack><track producer="main"/></multitrack></tractor>
</mlt>
"""


MOVIEPY = """
import sys
from moviepy import VideoFileClip, concatenate_videoclips
src, out, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
clip = VideoFileClip(src, audio=False)
parts = [clip.subclipped(s, s + 1) for s in range(seconds)]
concatenate_videoclips(parts).write_videofile(out, codec="libx264", preset="ultrafast", audio=False,
    ffmpeg_params=["-crf", "18"], logger=None, threads=os.cpu_count())
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--skip", default="", help="comma list of: ffmpeg,xfade,melt,moviepy")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    frames = args.seconds * FPS
    out: dict[str, object] = {"frames": frames, "size": f"{W}x{H}", "fps": FPS}
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as tmp:
        folder = Path(tmp)
        src = make_source(folder, args.seconds)
        cuts = make_project(folder, src, args.seconds, None)
        dissolves = make_project(folder, src, args.seconds, 5)
        ours_args = ["--preset", "4K60 H.264", "--speed", "ultrafast", "--crf", "18"]

        def report(name: str, r) -> float:
            if r.returncode:
                print(f"{name} failed: {r.stderr}", file=sys.stderr)
                return float("nan")
            fps = frames / r.seconds
            out[f"{name}_fps"] = round(fps, 2)
            out[f"{name}_peak_rss_mb"] = round(r.peak_rss_mb)
            print(f"{name:18s} {r.seconds:7.2f} s  {fps:6.2f} fps  peak RSS {r.peak_rss_mb:6.0f} MB", file=sys.stderr)
            return fps

        ours_cuts = report("studio_cuts", run(studio("render", str(cuts), "-o", str(folder / "o1.mp4"), *ours_args)))
        ours_diss = report("studio_dissolve", run(studio("render", str(dissolves), "-o", str(folder / "o2.mp4"),
                                                         *ours_args)))
        if "ffmpeg" not in skip and have("ffmpeg"):
            f = report("ffmpeg", run(["ffmpeg", "-y", "-v", "error", "-i", str(src), *SILENT, "-map", "0:v",
                                      "-map", "1:a", *ENC, *AAC, str(folder / "f1.mp4")]))
            out["a_ratio_vs_ffmpeg"] = round(ours_cuts / f, 3)
        if "xfade" not in skip and have("ffmpeg"):
            chain, label, n = [], "[0:v]", args.seconds // 5
            parts = []
            for k in range(n):
                a = max(0, k * 5 - 0.5)
                b = min(args.seconds, (k + 1) * 5 + 0.5)
                parts.append(f"[0:v]trim={a}:{b},setpts=PTS-STARTPTS[s{k}]")
            label = "[s0]"
            for k in range(1, n):
                offset = k * 5 - 0.5
                chain.append(f"{label}[s{k}]xfade=transition=fade:duration=1:offset={offset}[x{k}]")
                label = f"[x{k}]"
            graph = ";".join(parts + chain)
            f = report("ffmpeg_xfade", run(["ffmpeg", "-y", "-v", "error", "-i", str(src), *SILENT, "-filter_complex",
                                            graph, "-map", label, "-map", "1:a", *ENC, *AAC, str(folder / "f2.mp4")]))
            out["b_ratio_vs_xfade"] = round(ours_diss / f, 3)
        if "melt" not in skip and have("melt"):
            xml = folder / "cuts.mlt"
            xml.write_text(mlt_xml(src, args.seconds))
            m = report("melt", run(["melt", "-quiet", str(xml), "-consumer", f"avformat:{folder / 'm1.mp4'}",
                                    "vcodec=libx264", "preset=ultrafast", "crf=18", "acodec=aac", "ab=320k",
                                    f"real_time=-{os.cpu_count() or 2}"]))
            out["c_ratio_vs_melt"] = round(ours_cuts / m, 3)
        if "moviepy" not in skip:
            script = folder / "mp.py"
            script.write_text("import os\n" + MOVIEPY)
            m = report("moviepy", run([str(BIN / "python"), str(script), str(src), str(folder / "mp.mp4"),
                                       str(args.seconds)]))
            out["d_ratio_vs_moviepy"] = round(ours_cuts / m, 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
