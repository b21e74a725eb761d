"""Auto-foley against footage whose own soundtrack gives the true hit times.

For each FILE (a video WITH its original sound):

1. reference: the onsets of the original audio are the true hit times. By default they are
   found as CondFoleyGen finds them (Du et al. 2023, "Conditional Generation of Audio from
   Video via Foley Analogies", predict_onset.py): librosa's ``onset_detect`` with delta 0.3 at
   22.05 kHz, then non-maximum suppression within 50 ms by confidence (the peak of the
   min-max-normalised waveform within +-50 ms). ``--reference ours`` uses
   ``studio.ai.foley.onsets`` instead (banded spectral flux, sample-accurate rise, a lower
   threshold: it also counts quiet handling noises as hits);
2. the sound is removed (video stream copied into a file with no audio);
3. `studio foley SILENT -o OUT --events-json EV` runs on it (synth backend, the whole command
   in its own process) and the onsets of OUT's foley track, found the same way, are the
   predictions (the events' own times are scored too);
4. scores, window 0.1 s:
   * CondFoleyGen's onset accuracy and AP: each true onset takes the unused predicted onset
     within the window with the highest confidence; accuracy = matched / true onsets; AP =
     average precision of the confidences, unmatched true onsets scored 0, unmatched
     predictions labelled negative;
   * F1 of a one-to-one matching within 100 ms, and the median absolute error of matched pairs
     (targets on real hit footage: F1 >= 0.8, median error <= 40 ms).
   A FILE with a ``NAME.visible.json`` beside it (hand-read contact times, see
   tests/data/footage/SOURCES.md) is also scored against those: the events within one frame
   and within 100 ms of the contacts that can be seen.

With no FILE it runs the real clip that ships with the tests (tests/data/footage/pen-coin.mov:
a pen striking a coin, with the camera's sound) and validates itself on synthetic footage with a
soundtrack of known hits: demo bouncing balls (``studio.media.synth_scenes.write_bouncing_ball``:
a thump starts exactly at each impact frame) in a few sizes, rates and periods; and, as controls
that the measure sees desync, the first ball with its soundtrack delayed by 60 ms (expect a
~60 ms median error, F1 still 1) and by 150 ms (expect F1 0: outside the window). Controls are
not in the summary; the synthetic clips are summarised apart from real footage.

Last line: a JSON object. Usage: python bench/foley_real.py [FILE...] [--backend synth]
[--reference condfoleygen|ours] [--no-synthetic]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import run, studio  # noqa: E402

from studio.ai.foley.events import load_events  # noqa: E402
from studio.ai.foley.onsets import Onset, detect_onsets, load_audio  # noqa: E402
from studio.media.synth_scenes import write_bouncing_ball  # noqa: E402

SR = 48000
WINDOW = 0.1
ROOT = Path(__file__).resolve().parent.parent
#: real footage with its own sound that ships with the tests (licence in its SOURCES.md)
SHIPPED = [ROOT / "tests" / "data" / "footage" / "pen-coin.mov"]

#: name -> (width, height, fps, frames, first impact, period): the self-check clips
SYNTHETIC = {
    "ball 640x360@25": (640, 360, Fraction(25), 150, 37, 30),
    "ball 480x270@30 fast": (480, 270, Fraction(30), 150, 9, 16),
    "ball 1280x720@24": (1280, 720, Fraction(24), 120, 12, 22),
    "ball 320x180@30000/1001": (320, 180, Fraction(30000, 1001), 150, 20, 25),
}


def condfoleygen_onsets(samples: np.ndarray, sample_rate: int, delta: float = 0.3) -> list[Onset]:
    """Onsets as CondFoleyGen's predict_onset.py finds them (librosa, 22.05 kHz, delta 0.3,
    50 ms non-maximum suppression by confidence); ``peak`` is that confidence."""
    import librosa

    sr = 22050
    x = np.asarray(samples, dtype=np.float64)
    mono = x.mean(axis=0) if x.ndim == 2 else x
    y = librosa.resample(mono.astype(np.float32), orig_sr=sample_rate, target_sr=sr)
    if not len(y) or not np.any(y):
        return []
    found = librosa.onset.onset_detect(y=y, sr=sr, units="samples", delta=delta)
    norm = (y - y.min()) / (y.max() - y.min() + 1e-6)
    half = int(0.05 * sr)
    confidence = [float(norm[max(0, o - half):o + half].max()) for o in found]
    kept: list[int] = []
    for k in np.argsort(confidence)[::-1]:
        if all(abs(int(found[k]) - int(found[j])) >= half for j in kept):
            kept.append(int(k))
    return [Onset(time=float(found[k]) / sr, strength=confidence[k], peak=confidence[k]) for k in sorted(kept)]


def reference_onsets(samples: np.ndarray, sample_rate: int, how: str) -> list[Onset]:
    return condfoleygen_onsets(samples, sample_rate) if how == "condfoleygen" else detect_onsets(samples, sample_rate)


def visible_contacts(path: Path) -> list[float] | None:
    """Hand-read contact times of ``path`` (``NAME.visible.json`` beside it), if any."""
    side = path.with_suffix(".visible.json")
    if not side.exists():
        return None
    return [float(c["time"]) for c in json.loads(side.read_text())["contacts"]]


def condfoleygen_scores(truth: list[float], pred: list[Onset], window: float = WINDOW) -> tuple[float, float]:
    """Onset accuracy and AP as in CondFoleyGen's predict_onset.py (see the module docstring)."""
    unused = list(range(len(pred)))
    labels, scores, hits = [], [], 0
    for t in truth:
        near = [k for k in unused if abs(pred[k].time - t) < window]
        if not near:
            labels.append(1)
            scores.append(0.0)
            continue
        k = max(near, key=lambda k: pred[k].peak)
        hits += 1
        labels.append(1)
        scores.append(pred[k].peak)
        unused.remove(k)
    for k in unused:
        labels.append(0)
        scores.append(pred[k].peak)
    accuracy = hits / len(truth) if truth else 0.0
    return accuracy, average_precision(np.array(labels), np.array(scores))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """sklearn's average_precision_score: sum over thresholds of (R_n - R_{n-1}) * P_n."""
    positives = int(labels.sum())
    if positives == 0:
        return 0.0
    order = np.argsort(-scores, kind="mergesort")
    labels, scores = labels[order], scores[order]
    # one threshold per distinct score (ties are taken together)
    last = np.r_[np.nonzero(np.diff(scores))[0], len(scores) - 1]
    tp = np.cumsum(labels)[last]
    fp = (last + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def match(truth: list[float], pred: list[float], window: float = WINDOW) -> tuple[float, list[float]]:
    """One-to-one greedy matching (closest pairs first) within ``window``: (F1, |errors| in s)."""
    pairs = sorted((abs(p - t), i, j) for i, t in enumerate(truth) for j, p in enumerate(pred) if abs(p - t) <= window)
    used_t, used_p, errors = set(), set(), []
    for d, i, j in pairs:
        if i not in used_t and j not in used_p:
            used_t.add(i)
            used_p.add(j)
            errors.append(d)
    if not truth or not pred:
        return 0.0, errors
    p, r = len(errors) / len(pred), len(errors) / len(truth)
    return (2 * p * r / (p + r) if p + r else 0.0), errors


def strip_audio(src: Path, dst: Path) -> None:
    """Copy the first video stream of ``src`` into ``dst`` with no audio."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        vout = out.add_stream_from_template(vin)
        for packet in inp.demux(vin):
            if packet.dts is None:
                continue
            packet.stream = vout
            out.mux(packet)


def delay_sound(src: Path, dst: Path, seconds: float) -> None:
    """``src`` with its soundtrack delayed by ``seconds`` (video copied): a desynchronised control."""
    from studio.ai.foley.mux import write_with_foley

    audio = load_audio(src, SR)
    shift = int(round(seconds * SR))
    late = np.zeros_like(audio)
    late[shift:] = audio[:len(audio) - shift]
    silent = dst.with_name(f"{dst.stem}-silent.mp4")
    strip_audio(src, silent)
    write_with_foley(silent, dst, np.stack([late, late]), SR)


def measure(path: Path, folder: Path, backend: str, reference: str = "condfoleygen") -> dict:
    original = load_audio(path, SR)
    if original is None or not len(original):
        return {"error": "no soundtrack to take the true hit times from"}
    truth = [o.time for o in reference_onsets(original, SR, reference)]
    # the input's container for the copies (its codec fits there); Matroska takes anything else
    suffix = path.suffix.lower() if path.suffix.lower() in (".mp4", ".mov", ".mkv", ".m4v") else ".mkv"
    silent, out, events_json = folder / f"silent{suffix}", folder / f"foley{suffix}", folder / "events.json"
    strip_audio(path, silent)
    r = run(studio("foley", str(silent), "-o", str(out), "--backend", backend, "--events-json", str(events_json)))
    if r.returncode:
        last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"
        return {"error": f"studio foley failed: {last}"}
    foley = load_audio(out, SR)
    pred = reference_onsets(foley, SR, reference) if foley is not None else []
    events = [e.time for e in load_events(events_json) if e.kind not in ("cut",)]
    accuracy, ap = condfoleygen_scores(truth, pred)
    f1, errors = match(truth, [o.time for o in pred])
    f1_events, errors_events = match(truth, events)
    seen = visible_contacts(path)
    extra: dict = {}
    if seen is not None:
        with av.open(str(path)) as c:
            frame = 1 / float(c.streams.video[0].average_rate or 30)
        impacts = [e.time for e in load_events(events_json) if e.kind == "impact"]
        f1_frame, err_frame = match(seen, impacts, window=frame)
        f1_vis, err_vis = match(seen, impacts)
        extra = {"visible_contacts": len(seen), "impacts": len(impacts),
                 "visible_f1_1frame": round(f1_frame, 4), "visible_f1_100ms": round(f1_vis, 4),
                 "visible_median_abs_err_ms": round(1000 * statistics.median(err_vis), 2) if err_vis else None,
                 "_impacts": impacts}
    return {**extra,"true_onsets": len(truth), "foley_onsets": len(pred), "events": len(events),
            "onset_acc": round(accuracy, 4), "onset_ap": round(ap, 4), "f1_100ms": round(f1, 4),
            "median_abs_err_ms": round(1000 * statistics.median(errors), 2) if errors else None,
            "events_f1_100ms": round(f1_events, 4),
            "events_median_abs_err_ms": round(1000 * statistics.median(errors_events), 2) if errors_events else None,
            "_errors": errors, "_truth": truth, "_pred": [o.time for o in pred]}


def summary(rows: dict, names: list[str]) -> dict:
    ok = [rows[n] for n in names if "error" not in rows[n]]
    if not ok:
        return {"files": len(names), "measured": 0}
    errors = [e for r in ok for e in r["_errors"]]
    n_true = sum(r["true_onsets"] for r in ok)
    n_pred = sum(r["foley_onsets"] for r in ok)
    p = len(errors) / n_pred if n_pred else 0.0
    rec = len(errors) / n_true if n_true else 0.0
    out = {"files": len(names), "measured": len(ok),
           "onset_acc": round(statistics.mean(r["onset_acc"] for r in ok), 4),
           "onset_ap": round(statistics.mean(r["onset_ap"] for r in ok), 4),
           "f1_100ms": round(2 * p * rec / (p + rec), 4) if p + rec else 0.0,
           "median_abs_err_ms": round(1000 * statistics.median(errors), 2) if errors else None}
    out["targets"] = {"f1_100ms>=0.8": out["f1_100ms"] >= 0.8,
                      "median_err<=40ms": out["median_abs_err_ms"] is not None and out["median_abs_err_ms"] <= 40}
    return out


def _line(name: str, r: dict) -> str:
    if "error" in r:
        return f"{name:28s} {r['error']}"
    text = (f"{name:28s} true {r['true_onsets']:2d} foley {r['foley_onsets']:2d} acc {r['onset_acc']:.3f} "
            f"AP {r['onset_ap']:.3f} F1@100ms {r['f1_100ms']:.3f} median |err| {r['median_abs_err_ms']} ms")
    if "visible_contacts" in r:
        text += (f"\n{'':28s} visible contacts {r['visible_contacts']}, impacts {r['impacts']}: "
                 f"F1 within a frame {r['visible_f1_1frame']:.3f}, within 100 ms {r['visible_f1_100ms']:.3f}, "
                 f"median |err| {r['visible_median_abs_err_ms']} ms")
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path,
                    help="videos with their original sound (none: the shipped real clip and the synthetic check)")
    ap.add_argument("--backend", default="synth")
    ap.add_argument("--reference", default="condfoleygen", choices=("condfoleygen", "ours"),
                    help="how true onsets are found: CondFoleyGen's librosa detector (default) or ours")
    ap.add_argument("--no-synthetic", action="store_true", help="with no FILE: only the shipped real clip")
    args = ap.parse_args()
    if args.reference == "condfoleygen":
        try:
            import librosa  # noqa: F401
        except ImportError:
            raise SystemExit("foley_real: CondFoleyGen's reference needs librosa (make bench-deps), "
                             "or use --reference ours") from None
    rows: dict[str, dict] = {}
    real: list[str] = []
    synthetic: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips: dict[str, Path] = {}
        for f in args.files or SHIPPED:
            clips[str(f)] = f
            real.append(str(f))
        if not args.files and not args.no_synthetic:
            for k, (name, (w, h, fps, n, first, period)) in enumerate(SYNTHETIC.items()):
                path = folder / f"clip{k}.mp4"
                write_bouncing_ball(path, width=w, height=h, fps=fps, frames=n, first_impact=first, period=period)
                clips[name] = path
                synthetic.append(name)
            first = clips[synthetic[0]]
            for ms in (60, 150):
                late = folder / f"late{ms}.mp4"
                delay_sound(first, late, ms / 1000)
                clips[f"control: sound {ms} ms late"] = late
        for name, path in clips.items():
            if not path.exists():
                rows[name] = {"error": "no such file"}
            else:
                try:
                    rows[name] = measure(path, folder, args.backend, args.reference)
                except (av.FFmpegError, OSError, ValueError) as e:
                    rows[name] = {"error": str(e).strip() or type(e).__name__}
            print(_line(name, rows[name]), file=sys.stderr)
    result = {"reference": args.reference, "real": summary(rows, real)}
    if synthetic:
        result["synthetic"] = summary(rows, synthetic)
    result["files"] = {k: {f: v for f, v in r.items() if not f.startswith("_")} for k, r in rows.items()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
