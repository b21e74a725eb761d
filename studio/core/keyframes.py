"""Keyframed parameters: keys at clip-relative frames with linear, ease or hold segments."""

from __future__ import annotations

from dataclasses import dataclass

INTERPOLATIONS = ("linear", "ease", "hold")


@dataclass(frozen=True, slots=True)
class Keyframe:
    """A value at a frame relative to the clip start; ``interp`` shapes the segment after it."""

    frame: int
    value: float
    interp: str = "linear"


def _ease(t: float) -> float:
    """Smoothstep: zero slope at both keys, the usual ease-in-out of editors."""
    return t * t * (3.0 - 2.0 * t)


def evaluate(keys: tuple[Keyframe, ...], frame: float, default: float) -> float:
    """Value of a curve at ``frame`` (keys sorted by frame); ``default`` when there are none."""
    if not keys:
        return default
    if frame <= keys[0].frame:
        return keys[0].value
    if frame >= keys[-1].frame:
        return keys[-1].value
    lo, hi = 0, len(keys) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if keys[mid].frame <= frame:
            lo = mid
        else:
            hi = mid
    a, b = keys[lo], keys[hi]
    if a.interp == "hold":
        return a.value
    t = (frame - a.frame) / (b.frame - a.frame)
    if a.interp == "ease":
        t = _ease(t)
    return a.value + (b.value - a.value) * t


def with_key(keys: tuple[Keyframe, ...], key: Keyframe) -> tuple[Keyframe, ...]:
    """Keys with ``key`` added or replacing the key at the same frame, kept sorted."""
    rest = [k for k in keys if k.frame != key.frame]
    rest.append(key)
    return tuple(sorted(rest, key=lambda k: k.frame))


def without_key(keys: tuple[Keyframe, ...], frame: int) -> tuple[Keyframe, ...]:
    return tuple(k for k in keys if k.frame != frame)


def shifted(keys: tuple[Keyframe, ...], delta: int) -> tuple[Keyframe, ...]:
    """Keys moved by ``delta`` frames (used when a head trim moves the clip start)."""
    if delta == 0:
        return keys
    return tuple(Keyframe(k.frame + delta, k.value, k.interp) for k in keys)
