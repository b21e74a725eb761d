"""Overhead of our generation path over calling the same tiny diffusers pipeline directly.

Both run in this process on the same tiny random CogVideoX pipeline (built in code, saved with
save_pretrained, as the tests do), same prompt, size, frames, steps and seed; the pipeline is
loaded once for each side and warmed up. Target: our path costs <= 3% more. Last line: JSON.
Usage: python bench/generate_overhead.py [--runs 10] [--steps 8]
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--steps", type=int, default=8)
    args = ap.parse_args()
    import torch
    from diffusers import CogVideoXPipeline

    with tempfile.TemporaryDirectory(prefix="studio-genbench-") as tmp:
        folder = build_cogvideox(Path(tmp) / "tiny")
        req = GenerateRequest("a cat walks in the rain", seed=1, steps=args.steps, guidance=6.0, width=16, height=16,
                              frames=9, model_path=str(folder))
        backend = get_backend("diffusers")
        pipe = CogVideoXPipeline.from_pretrained(folder, use_safetensors=True, torch_dtype=torch.float32)
        pipe.set_progress_bar_config(disable=True)
        max_len = pipe.transformer.config.max_text_seq_length

        def direct() -> None:
            with torch.inference_mode():
                pipe(prompt=req.prompt, height=16, width=16, num_frames=9, num_inference_steps=args.steps,
                     guidance_scale=6.0, output_type="np", max_sequence_length=max_len,
                     generator=torch.Generator("cpu").manual_seed(1))

        def ours() -> None:
            backend.generate(req, JobContext())

        direct(), ours()  # warm up (and load ours into its pipeline cache)
        times: dict[str, list[float]] = {"direct": [], "ours": []}
        for _ in range(args.runs):  # interleaved, so drift on a shared machine hits both alike
            for name, fn in (("direct", direct), ("ours", ours)):
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
    d, o = statistics.median(times["direct"]), statistics.median(times["ours"])
    print(f"direct {d * 1000:.1f} ms, ours {o * 1000:.1f} ms (median of {args.runs}, {args.steps} steps)",
          file=sys.stderr)
    print(json.dumps({"direct_ms": round(d * 1000, 2), "ours_ms": round(o * 1000, 2),
                      "overhead_pct": round((o / d - 1) * 100, 2), "target_pct": 3}))


if __name__ == "__main__":
    main()
