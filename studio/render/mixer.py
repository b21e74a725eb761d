"""The audio mixer: a project's audio tracks summed to sequence samples, then limited.

``AudioMixer(project, open_source).mix(start, count)`` returns float32 ``(channels, count)``
for sequence samples ``[start, start + count)`` at ``project.settings.sample_rate``.

Per clip (all frame <-> sample conversions through ``studio.core.timebase``):

* the clip's first sample is ``frames_to_samples(position)``, its end
  ``frames_to_samples(position + duration)``; source sample ``frames_to_samples(source_in)``
  plays at the first sample; at speed 1 samples are copied exactly, at other speeds the
  source is read at exact rational positions with linear interpolation; a negative speed
  plays the range backwards (from ``source_out``);
* keyframed ``gain_db`` and ``pan`` are evaluated on knots every ``KNOT`` samples (on an
  absolute grid, so results do not depend on how a render is cut into blocks) and
  interpolated per sample;
* pan is constant power, normalised to unity at centre: ``L = sqrt(2) cos(t)``,
  ``R = sqrt(2) sin(t)``, ``t = (pan + 1) pi / 4`` (hard left: L +3 dB, R silent); it acts on
  the left/right channels of stereo and 5.1, and not at all on mono;
* ``fade_in`` / ``fade_out`` are linear ramps over their frames;
* a transition on an audio track is an equal-power crossfade (``cos`` / ``sin``) over
  ``[cut - before, cut + after)``: the outgoing clip plays on past its end and the incoming
  one starts early, both from their source handles (silence where the media has none). A
  clip's own fade on a side with a crossfade is ignored.

Tracks: only audio tracks; a track plays when enabled, not muted and, if any audio track is
solo, itself solo (mute wins over solo). Disabled clips are silent.

The sum is float (no clipping), then ``PeakLimiter`` holds sample peaks at -1 dBFS, then
``output_gain_db`` (set by loudness normalisation, which caps it so peaks stay under the
ceiling) is applied. The limiter looks at a bounded window, and its input is cached between
consecutive calls, so sequential blocks cost no more than one pass and any chunking gives
the same samples.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from studio.core.project import Project
from studio.core.timebase import frames_to_samples, samples_to_frames
from studio.core.timeline import Clip, Track
from studio.media.audio import AudioSource

from .limiter import PeakLimiter, db_to_gain

#: Keyframed gain / pan are evaluated every KNOT samples and interpolated in between.
KNOT = 128
#: Limit on the denominator of a speed (exact positions stay within int64).
_MAX_SPEED_DENOMINATOR = 1 << 20


@dataclass(frozen=True, slots=True)
class _Plan:
    """One clip, resolved to samples."""

    clip: Clip
    path: str
    start: int  # first sample of the clip
    end: int  # one past its last sample
    lo: int  # audible range, crossfade handles included
    hi: int
    src_in: int  # source sample at `start` (forward), from frames_to_samples(source_in)
    src_out: int  # one past the last source sample used (reverse plays from here back)
    fade_in: int  # samples of linear fade-in (0: none)
    fade_out: int
    xfade_in: tuple[int, int] | None  # (first, end) samples of an incoming crossfade
    xfade_out: tuple[int, int] | None
    speed: Fraction  # the clip's speed, exact


def _audible_tracks(tracks: tuple[Track, ...]) -> list[Track]:
    audio = [t for t in tracks if t.kind == "audio"]
    any_solo = any(t.solo for t in audio)
    return [t for t in audio if t.enabled and not t.muted and (t.solo or not any_solo)]


class AudioMixer:
    """Mixes a (frozen) project's audio; ``open_source(path) -> AudioSource`` supplies media.

    A ``MediaError`` from ``open_source`` or a read propagates (an export must not silently
    drop a missing file); a preview can pass an ``open_source`` that substitutes silence.
    """

    def __init__(self, project: Project, open_source: Callable[[str], AudioSource], *, limiter: bool = True,
                 ceiling_db: float = -1.0):
        self.project = project
        settings = project.settings
        self.sample_rate = int(settings.sample_rate)
        self.channels = int(settings.channels)
        self.fps = Fraction(settings.fps)
        #: Gain applied after the limiter (loudness normalisation); see studio.render.loudness.
        self.output_gain_db = 0.0
        self.limiter = PeakLimiter(self.sample_rate, ceiling_db) if limiter else None
        self._open_source = open_source
        self._sources: dict[str, AudioSource] = {}
        self._plans = self._plan(project)
        self._left, self._right = self._pan_channels()
        self._knot_frames = float(samples_to_frames(KNOT, self.fps, self.sample_rate))
        self._raw: np.ndarray | None = None
        self._raw_start = 0
        self._lock = threading.RLock()

    # --- public --------------------------------------------------------------------------
    @property
    def duration_samples(self) -> int:
        """Samples up to the end of the last clip of the sequence."""
        return frames_to_samples(self.project.sequence.duration, self.fps, self.sample_rate)

    def mix(self, start: int, count: int) -> np.ndarray:
        """Mixed, limited samples ``[start, start + count)`` as float32 ``(channels, count)``."""
        start, count = int(start), int(count)
        if count <= 0:
            return np.zeros((self.channels, 0), dtype=np.float32)
        with self._lock:
            if self.limiter is None:
                out = self._sum(start, start + count)
            else:
                lim = self.limiter
                out = lim.process(self._raw_range(start - lim.history, start + count + lim.lookahead))
        if self.output_gain_db != 0.0:
            out = (out * db_to_gain(self.output_gain_db)).astype(np.float32)
        return out

    def mix_unlimited(self, start: int, count: int) -> np.ndarray:
        """The plain float sum (no limiter, no output gain): for meters and tests."""
        with self._lock:
            return self._sum(int(start), int(start) + max(0, int(count)))

    # --- planning ------------------------------------------------------------------------
    def _s(self, frames: int | Fraction) -> int:
        return frames_to_samples(frames, self.fps, self.sample_rate)

    def _plan(self, project: Project) -> list[list[_Plan]]:
        plans = []
        for track in _audible_tracks(project.sequence.tracks):
            xin: dict[str, tuple[int, int]] = {}
            xout: dict[str, tuple[int, int]] = {}
            for tr in track.transitions:
                a, b = track.clip(tr.a), track.clip(tr.b)
                if a is None or b is None or a.end != b.position or not (a.enabled and b.enabled):
                    continue
                span = (self._s(a.end - tr.before), self._s(a.end + tr.after))
                if span[1] > span[0]:
                    xout[a.id], xin[b.id] = span, span
            track_plans = []
            for clip in track.clips:
                plan = self._plan_clip(project, clip, xin.get(clip.id), xout.get(clip.id))
                if plan is not None:
                    track_plans.append(plan)
            plans.append(track_plans)
        return plans

    def _plan_clip(self, project: Project, clip: Clip, xin, xout) -> _Plan | None:
        asset = project.asset(clip.asset_id)
        if not clip.enabled or clip.duration <= 0 or asset is None or not asset.has_audio or clip.speed == 0:
            return None
        start, end = self._s(clip.position), self._s(clip.end)
        fade_in = 0 if xin or clip.fade_in <= 0 else self._s(clip.position + clip.fade_in) - start
        fade_out = 0 if xout or clip.fade_out <= 0 else end - self._s(clip.end - clip.fade_out)
        return _Plan(clip=clip, path=asset.path, start=start, end=end,
                     lo=min(start, xin[0]) if xin else start, hi=max(end, xout[1]) if xout else end,
                     src_in=self._s(Fraction(clip.source_in)), src_out=self._s(clip.source_out),
                     fade_in=fade_in, fade_out=fade_out, xfade_in=xin, xfade_out=xout, speed=Fraction(clip.speed))

    def _pan_channels(self) -> tuple[list[int], list[int]]:
        if self.channels == 2:
            return [0], [1]
        if self.channels == 6:  # FL FR FC LFE BL BR
            return [0, 4], [1, 5]
        return [], []

    # --- summing -------------------------------------------------------------------------
    def _raw_range(self, a: int, b: int) -> np.ndarray:
        """The float sum over [a, b), reusing the previous call's window where it overlaps."""
        raw = self._raw
        if raw is not None and self._raw_start <= a <= self._raw_start + raw.shape[1]:
            have = raw[:, a - self._raw_start :]
            if b - a <= have.shape[1]:
                res = have[:, : b - a]
            else:
                res = np.concatenate([have, self._sum(a + have.shape[1], b)], axis=1)
        else:
            res = self._sum(a, b)
        self._raw, self._raw_start = res, a
        return res

    def _sum(self, a: int, b: int) -> np.ndarray:
        out = np.zeros((self.channels, max(0, b - a)), dtype=np.float32)
        for track_plans in self._plans:
            for plan in track_plans:
                n0, n1 = max(a, plan.lo), min(b, plan.hi)
                if n0 < n1:
                    self._add_clip(out[:, n0 - a : n1 - a], plan, n0, n1)
        return out

    def _source(self, path: str) -> AudioSource:
        source = self._sources.get(path)
        if source is None:
            source = self._sources[path] = self._open_source(path)
        return source

    def _add_clip(self, out: np.ndarray, plan: _Plan, n0: int, n1: int) -> None:
        signal = self._read(plan, n0, n1)
        env = self._envelope(plan, n0, n1)
        pan = self._pan(plan.clip, n0, n1)
        if pan is None:
            if env is None:
                out += signal
            else:
                out += (signal * env).astype(np.float32)
            return
        gains = np.ones((self.channels, n1 - n0), dtype=np.float64)
        left, right = pan
        gains[self._left] = left
        gains[self._right] = right
        if env is not None:
            gains *= env
        out += (signal * gains).astype(np.float32)

    def _read(self, plan: _Plan, n0: int, n1: int) -> np.ndarray:
        """Source samples for sequence samples [n0, n1), at the clip's speed."""
        source = self._source(plan.path)
        n = n1 - n0
        d0 = n0 - plan.start
        speed = plan.speed
        if speed == 1:
            return source.read(plan.src_in + d0, n)
        if speed == -1:
            return np.ascontiguousarray(source.read(plan.src_out - d0 - n, n)[:, ::-1])
        rate = abs(speed)
        if rate.denominator > _MAX_SPEED_DENOMINATOR:
            rate = rate.limit_denominator(_MAX_SPEED_DENOMINATOR)
        num, den = rate.numerator, rate.denominator
        d = np.arange(d0, d0 + n, dtype=np.int64)
        if speed > 0:  # source position src_in + d * speed, exact as a fraction over den
            pos = plan.src_in * den + d * num
        else:  # reverse: source_out - (d + 1) * |speed|, so offset 0 plays the last sample
            pos = plan.src_out * den - (d + 1) * num
        idx = pos // den
        frac = ((pos - idx * den) / den).astype(np.float32)
        first = int(idx.min())
        buf = source.read(first, int(idx.max()) - first + 2)
        rel = idx - first
        left = buf[:, rel]
        return left + frac * (buf[:, rel + 1] - left)

    # --- envelopes -----------------------------------------------------------------------
    def _curve(self, clip: Clip, name: str, n0: int, n1: int) -> np.ndarray:
        """A keyframed parameter per sample, linear between knots of an absolute grid."""
        first = n0 // KNOT * KNOT
        count = -(-(n1 - 1) // KNOT) - first // KNOT + 1
        # clip-relative frame offset of the first knot (exact), then KNOT samples per step
        origin = float(samples_to_frames(first, self.fps, self.sample_rate) - clip.position)
        values = [clip.value_at(name, origin + i * self._knot_frames) for i in range(count)]
        knots = first + KNOT * np.arange(count, dtype=np.float64)
        return np.interp(np.arange(n0, n1, dtype=np.float64), knots, values)

    def _envelope(self, plan: _Plan, n0: int, n1: int) -> np.ndarray | None:
        """Gain x fades x crossfades per sample (float64), or None when it is exactly 1."""
        clip = plan.clip
        env: np.ndarray | None = None
        if clip.curve("gain_db"):
            env = 10.0 ** (self._curve(clip, "gain_db", n0, n1) / 20.0)
        elif clip.gain_db != 0.0:
            env = np.full(n1 - n0, db_to_gain(clip.gain_db))
        n = np.arange(n0, n1, dtype=np.float64)

        def times(shape: np.ndarray) -> None:
            nonlocal env
            env = shape if env is None else env * shape

        if plan.fade_in > 0 and n0 < plan.start + plan.fade_in:
            times(np.clip((n - plan.start) / plan.fade_in, 0.0, 1.0))
        if plan.fade_out > 0 and n1 > plan.end - plan.fade_out:
            times(np.clip((plan.end - n) / plan.fade_out, 0.0, 1.0))
        if plan.xfade_in and n0 < plan.xfade_in[1]:
            x0, x1 = plan.xfade_in
            t = np.clip((n - x0 + 0.5) / (x1 - x0), 0.0, 1.0)
            times(np.sin(t * (math.pi / 2)))
        if plan.xfade_out and n1 > plan.xfade_out[0]:
            x0, x1 = plan.xfade_out
            t = np.clip((n - x0 + 0.5) / (x1 - x0), 0.0, 1.0)
            times(np.cos(t * (math.pi / 2)))
        return env

    def _pan(self, clip: Clip, n0: int, n1: int) -> tuple[np.ndarray | float, np.ndarray | float] | None:
        """(left, right) gains, or None at centre (unity) and for layouts without a stereo pair."""
        if not self._left:
            return None
        if clip.curve("pan"):
            pan = np.clip(self._curve(clip, "pan", n0, n1), -1.0, 1.0)
        else:
            if clip.pan == 0.0:
                return None
            pan = min(1.0, max(-1.0, clip.pan))
        theta = (np.asarray(pan) + 1.0) * (math.pi / 4)
        return math.sqrt(2) * np.cos(theta), math.sqrt(2) * np.sin(theta)
