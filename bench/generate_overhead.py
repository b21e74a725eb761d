"""Overhead of our generation path over calling the same tiny diffusers pipeline directly.

Both run in this process on the same tiny random CogVideoX pipeline (built in code, saved with
save_pretrained, as the tests do), same prompt, size, frames, steps and seed; the pipeline is
loaded once for each side and warmed up. Our side is ``backend.generate(request, JobContext())``:
request checks, the cached folder facts, the pipeline cache, step progress and cancel through
``callback_on_step_end``, the out-of-memory guard and the uint8 conversion.

Runs are interleaved in ABBA order (so drift and order effects on a shared machine hit both
alike); the headline is the median of the per-round wall-clock ratios ours/direct, with the
same for process CPU time beside it (steadier when other work shares the machine). ``--shape large``
runs the same model at 64x64 and 33 frames (~10x the work per call), to separate the fixed
per-call cost from the per-step cost. Target: our path costs <= 3% more. Last line: JSON.
Usage: python bench/generate_overhead.py [--runs 20] [--steps 8] [--shape small|large] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from studio.ai.generate.base import GenerateRequest, get_backend  # noqa: E402
from studio.jobs.context import JobContext  # noqa: E402
from tests.ai.generate.tiny_models import build_cogvideox  # noqa: E402

SHAPES = {"small": (16, 9), "large": (64, 33)}  # (side, frames)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--shape", choices=sorted(SHAPES), default="small")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: least noise on a shared machine)")
    args = ap.parse_args()
    import torch
    from diffusers import CogVideoXPipeline

    torch.set_num_threads(args.threads)
    side, frames = SHAPES[args.shape]
    with tempfile.TemporaryDirectory(prefix="studio-genbench-") as tmp:
        folder = build_cogvideox(Path(tmp) / "tiny")
        req = GenerateRequest("a cat walks in the rain", seed=1, steps=args.steps, guidance=6.0, width=side,
                              height=side, frames=frames, model_path=str(folder))
        backend = get_backend("diffusers")
        pipe = CogVideoXPipeline.from_pretrained(folder, use_safetensors=True, torch_dtype=torch.float32)
        pipe.set_progress_bar_config(disable=True)
        max_len = pipe.transformer.config.max_text_seq_length

        def direct() -> None:
            with torch.inference_mode():
                pipe(prompt=req.prompt, height=side, width=side, num_frames=frames, num_inference_steps=args.steps,
                     guidance_scale=6.0, output_type="np", max_sequence_length=max_len,
                     generator=torch.Generator("cpu").manual_seed(1))

        def ours() -> None:
            backend.generate(req, JobContext())

        for _ in range(2):  # warm up (and load ours into its pipeline cache)
            direct(), ours()
        times: dict[str, list[float]] = {"direct": [], "ours": []}
        cpu: dict[str, list[float]] = {"direct": [], "ours": []}
        ratios, cpu_ratios = [], []
        for i in range(args.runs):
            pair = (("direct", direct), ("ours", ours)) if i % 2 == 0 else (("ours", ours), ("direct", direct))
            for name, fn in pair:
                c, t = time.process_time(), time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
                cpu[name].append(time.process_time() - c)
            ratios.append(times["ours"][-1] / times["direct"][-1])
            cpu_ratios.append(cpu["ours"][-1] / max(cpu["direct"][-1], 1e-9))
    d, o = statistics.median(times["direct"]), statistics.median(times["ours"])
    ratio, cpu_ratio = statistics.median(ratios), statistics.median(cpu_ratios)
    print(f"{args.shape} ({side}x{side}, {frames} frames, {args.steps} steps, {args.threads} thread(s)): direct "
          f"{d * 1000:.1f} ms, ours {o * 1000:.1f} ms (medians of {args.runs}; fastest "
          f"{min(times['direct']) * 1000:.1f} / {min(times['ours']) * 1000:.1f} ms); median per-round ratio "
          f"{ratio:.4f} (CPU time {cpu_ratio:.4f})",
          file=sys.stderr)
    print(json.dumps({"shape": args.shape, "direct_ms": round(d * 1000, 2), "ours_ms": round(o * 1000, 2),
                      "direct_min_ms": round(min(times["direct"]) * 1000, 2),
                      "ours_min_ms": round(min(times["ours"]) * 1000, 2),
                      "overhead_pct": round((ratio - 1) * 100, 2), "cpu_overhead_pct": round((cpu_ratio - 1) * 100, 2),
                      "target_pct": 3}))


if __name__ == "__main__":
    main()
