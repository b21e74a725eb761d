"""Visual events from analysis features, and the events JSON file.

Kinds: ``impact`` (a moving region stops or reverses suddenly, or something sets a resting
object moving), ``whoosh`` (fast motion
starts after stillness; labelled "motion onset"), ``step`` (periodic contacts of a figure's
feet), ``flash`` (luminance jumps up and comes back), ``explosion`` (a flash with a bright
region expanding radially), ``cut`` (a scene change). ``time`` is float seconds from the
start of the clip: events are analysis output, not model time; placement converts them to
exact samples.

Impact timing below one frame: velocities are interval averages (frame ``j - 1`` -> ``j``),
so the contact is located by fitting a line to the velocity before and one after the
reversal and choosing the contact time whose piecewise-linear velocity best reproduces the
two interval averages around it (a grid search in 1/100 frame).

Events JSON: ``{"version": 1, "events": [{"time": 1.48, "kind": "impact", "strength": 0.7,
"x": 0.42, "label": "impact (floor)", "region": "2,1", "duration": 0.0}, ...]}`` (a bare list
of event objects is accepted too). ``time``, ``kind``, ``strength``, ``x`` and ``label``
are required; ``region`` and ``duration`` optional.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.errors import StudioError

from .analysis import GRID, Features

EVENT_KINDS = ("impact", "whoosh", "flash", "cut", "step", "explosion")
EVENTS_VERSION = 1


class EventsError(StudioError, ValueError):
    """An events file or value is malformed; the message names the field."""


@dataclass(frozen=True, slots=True)
class Event:
    time: float  # seconds from the clip start
    kind: str
    strength: float  # 0..1
    x: float  # 0 (left) .. 1 (right)
    label: str = ""
    region: str = ""  # "row,col" of GRID
    duration: float = 0.0  # seconds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- detection ---------------------------------------------------------------------------
def _line(ts: np.ndarray, vs: np.ndarray) -> tuple[float, float]:
    """Least-squares ``v = a + b t``; a constant when there are fewer than 3 points."""
    if len(ts) >= 3:
        b, a = np.polyfit(ts, vs, 1)
        return float(a), float(b)
    return (float(vs.mean()) if len(vs) else 0.0), 0.0


def _integral(a: float, b: float, t0: float, t1: float) -> float:
    return a * (t1 - t0) + b * (t1 * t1 - t0 * t0) / 2


def refine_contact(v: np.ndarray, j: int, span: int = 3) -> tuple[float, float]:
    """Sub-frame contact time (in frames) near the boundary frame ``j - 1`` and the speed change.

    ``v[k]`` is the mean velocity over frames ``k - 1 .. k``; the reversal happens between
    ``v[j - 1]`` and ``v[j]``. Returns ``(t, dv)`` with ``t`` in ``[j - 2, j]``.
    """
    n = len(v)
    pre = np.arange(max(1, j - 1 - span), j - 1)
    post = np.arange(j + 1, min(n, j + 1 + span))
    a1, b1 = _line(pre - 0.5, v[pre]) if len(pre) else (float(v[j - 1]), 0.0)
    a2, b2 = _line(post - 0.5, v[post]) if len(post) else (float(v[j]), 0.0)
    best_t, best_err = float(j - 1), math.inf
    for t in np.linspace(j - 2, j, 201):
        err = 0.0
        for k in (j - 1, j):
            lo, hi = k - 1.0, float(k)
            if t <= lo:
                pred = _integral(a2, b2, lo, hi)
            elif t >= hi:
                pred = _integral(a1, b1, lo, hi)
            else:
                pred = _integral(a1, b1, lo, t) + _integral(a2, b2, t, hi)
            err += (pred - v[k]) ** 2
        if err < best_err - 1e-12:
            best_t, best_err = float(t), err
    dv = abs((a1 + b1 * best_t) - (a2 + b2 * best_t))
    return best_t, dv


def trailing_median(x: np.ndarray, k: int) -> np.ndarray:
    """``out[i]`` = median of ``x[max(0, i - k):i]`` (``x[0]`` for ``i = 0``), vectorised."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    out = np.empty(n)
    for i in range(min(n, k + 1)):
        out[i] = np.median(x[:i]) if i else (x[0] if n else 0.0)
    if n > k:
        out[k:] = np.median(np.lib.stride_tricks.sliding_window_view(x, k)[: n - k], axis=1)
    return out


def _neighbour_median(x: np.ndarray, k: int) -> np.ndarray:
    """``out[i]`` = median of ``x[max(1, i - k):i]`` and ``x[i + 1:min(n, i + k + 1)]`` (0 if none)."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    out = np.zeros(n)
    inner = np.arange(k + 1, n - k)
    if len(inner):
        windows = np.lib.stride_tricks.sliding_window_view(x, 2 * k + 1)[inner - k]
        out[inner] = np.median(np.delete(windows, k, axis=1), axis=1)
    for i in (*range(1, min(n, k + 1)), *range(max(k + 1, n - k), n)):
        local = np.concatenate([x[max(1, i - k):i], x[i + 1:min(n, i + k + 1)]])
        out[i] = float(np.median(local)) if len(local) else 0.0
    return out


def _region(cx: float, cy: float) -> str:
    rows, cols = GRID
    return f"{min(rows - 1, int(cy * rows))},{min(cols - 1, int(cx * cols))}"


def despike(v: np.ndarray) -> np.ndarray:
    """Replace single-sample flow glitches (far from both neighbours, which agree) by their mean."""
    v = np.array(v, dtype=np.float64)
    for k in range(1, len(v) - 1):
        a, b = v[k - 1], v[k + 1]
        if abs(a - b) < 0.3 * min(abs(v[k] - a), abs(v[k] - b)):
            v[k] = (a + b) / 2
    return v


def _impacts(f: Features, min_speed: float) -> list[Event]:
    fps = float(f.fps)
    found: list[tuple[float, float, float, str, float, float]] = []  # score, t, dv, label, cx, cy
    # blob areas say when the tracked blob changed; a flow region's area varies by itself
    switched = _identity_switches(f.area) if f.tracking == "background" else np.zeros(len(f.area), bool)
    held = f.held if f.held is not None else np.zeros(len(f.area), bool)
    for axis, v in (("y", despike(f.vy)), ("x", despike(f.vx))):
        n = len(v)
        if n < 4:
            continue
        dv = np.abs(np.diff(v, prepend=v[:1]))
        for j in range(2, n):
            if switched[j - 1] or switched[j]:
                continue  # the tracked region became another one: its centroid jumped, nothing hit
            if held[j - 1] and held[j]:
                continue  # it reaches in from outside the picture: a hand moves it, it does not hit
            before, after = v[j - 1], v[j]
            s = math.copysign(1.0, before)
            if abs(before) < min_speed:
                continue
            if s * v[j - 2] < 0.3 * abs(before):
                continue  # no approach: from rest or from the other way in one frame is a jump, not motion
            drop = s * (before - after)  # loss of speed along the previous direction
            if s * after > 0.35 * abs(before):
                continue  # neither stopped nor reversed
            lo, hi = max(1, j - 8), min(n, j + 9)
            local = np.concatenate([dv[lo:j - 1], dv[j + 2:hi]])
            typical = float(np.median(local)) if len(local) else 0.0
            if drop < max(1.5 * min_speed, 4.0 * typical):
                continue
            if s * after > -0.2 * abs(before):
                # a stop: it must stay stopped, or bounce back (a contact mid-interval averages to ~0)
                rest = v[j:min(n, j + 3)]
                if np.any(s * rest > 0.5 * abs(before)):
                    continue  # it moves on the same way
                if np.any(np.abs(rest) > 0.5 * abs(before)) and not s * v[min(n - 1, j + 1)] < -0.5 * abs(before):
                    continue  # it jerks about rather than stopping or bouncing straight back
            t, change = refine_contact(v, j)
            if axis == "y":
                label = "impact (floor)" if before > 0 else "impact (ceiling)"
            else:
                label = "impact (right wall)" if before > 0 else "impact (left wall)"
            found.append((drop, t, change, label, float(f.cx[j]), float(f.cy[j])))
    found.sort(key=lambda e: -e[0])
    kept: list[tuple[float, float, float, str, float, float]] = []
    for e in found:  # non-maximum suppression: one impact per 3 frames
        if all(abs(e[1] - k[1]) > 3 for k in kept):
            kept.append(e)
    events = []
    for _, t, change, label, cx, cy in sorted(kept, key=lambda e: e[1]):
        speed = change * fps / f.width  # analysis widths per second
        strength = float(np.clip(1 - math.exp(-speed / 1.5), 0.05, 1.0))
        events.append(Event(time=f.start_time + t / fps, kind="impact", strength=round(strength, 4),
                            x=round(cx, 4), label=label, region=_region(cx, cy)))
    return events


def _identity_switches(area: np.ndarray, ratio: float = 1.5) -> np.ndarray:
    """Frames whose tracked region is not the one of the frame before: its area jumps by more
    than ``ratio`` either way (two objects merging or parting, the largest blob changing). The
    velocity measured across such a step is a centroid jump, not motion."""
    a = np.maximum(np.asarray(area, dtype=np.float64), 1e-9)  # no blob: 0, a jump from or to anything
    change = np.ones(len(a))
    change[1:] = a[1:] / a[:-1]
    return (change > ratio) | (change < 1 / ratio)


def _struck(f: Features) -> list[Event]:
    """Impacts on resting objects (``Features.struck``): the contact lies between the frame
    before the object moves and the first that shows it moving."""
    if f.struck is None:
        return []
    fps = float(f.fps)
    events = []
    for i in np.flatnonzero(f.struck[:, 0] > 0):
        woke, cx, cy = (float(v) for v in f.struck[i])
        events.append(Event(time=f.start_time + (i - 0.5) / fps, kind="impact",
                            strength=round(float(np.clip(0.3 + 0.7 * woke, 0.05, 1.0)), 4),
                            x=round(cx, 4), label="impact (struck)", region=_region(cx, cy)))
    return events


def _steps(f: Features) -> list[Event]:
    """Footsteps: periodic contacts of the lowest part of a figure.

    A contact is where the downward motion of the foreground's lowest part (``foot_vy``) stops
    or reverses, timed below one frame like an impact. It is a step when (a) the motion repeats
    there (``periodicity`` >= 0.5) and the contact has a neighbour one period away (within a
    quarter period; the period comes from the autocorrelation), and (b) it is a figure's foot:
    the descent before the contact is under a third of the foreground's height (a bouncing
    object falls further than its own size, a foot lifts far less than its body is tall).
    """
    if f.foot_vy is None or f.periodicity is None or f.period is None or f.fg_height is None or f.frames < 8:
        return []
    fps = float(f.fps)
    v = despike(f.foot_vy)
    n = len(v)
    scale = float(np.percentile(np.abs(v), 95))
    thr = max(0.25 * f.width / 256, 0.3 * scale)
    found: list[tuple[float, int, float]] = []  # time (frames), boundary frame, speed before
    for j in range(2, n):
        before, after = v[j - 1], v[j]
        if before < thr or after > 0.35 * before or f.periodicity[j - 1] < 0.5:
            continue
        start = j - 1  # the descent: the run of downward motion that ends here
        while start > 1 and v[start - 1] > 0.1 * before:
            start -= 1
        descent = float(v[start:j].sum())
        if descent >= f.fg_height[j - 1] / 3:
            continue  # it fell further than a third of its height: a bounce, not a step
        t, _ = refine_contact(v, j, span=1)  # a foot's descent curves: only the nearest speeds are linear
        found.append((t, j, float(before)))
    steps = []
    for t, j, speed in found:
        period = float(f.period[j - 1])
        if period <= 0:
            continue
        if not any(abs(abs(t - u) - period) <= 0.25 * period for u, _, _ in found):
            continue  # no neighbour one period away: not part of a gait
        strength = float(np.clip(speed / (2 * thr), 0.2, 1.0))
        steps.append(Event(time=f.start_time + t / fps, kind="step", strength=round(strength, 4),
                           x=round(float(f.cx[j]), 4), label="step", region=_region(f.cx[j], f.cy[j]),
                           duration=round(period / fps, 4)))
    return steps


def _explosions(f: Features) -> list[Event]:
    """A luminance flash together with a bright region that appears and expands radially.

    At frame ``i`` the near-white share of the picture jumps up from its recent level while the
    mean luminance rises (the flash); over the next frames the bright region keeps growing (at
    least 2.5x its first size within 6 frames) with its centre staying put (less than its own
    radius away): a fireball, not a plain flash (which lights everything at once and goes). Its
    time is the first frame that shows it, like a flash's; it lasts until the luminance is back
    within a quarter of its rise.
    """
    if f.bright_area is None or f.bright_cx is None or f.bright_cy is None:
        return []
    fps, a, luma = float(f.fps), f.bright_area, f.luma
    pixels = f.width * f.height
    events = []
    bases_a, bases_l = trailing_median(a, 6), trailing_median(luma, 6)
    i = 1
    while i < f.frames - 2:
        base_a, base_l = float(bases_a[i]), float(bases_l[i])
        first = a[i] - base_a
        if first * pixels < 6 or luma[i] - base_l < 8:
            i += 1
            continue
        window = np.arange(i, min(f.frames, i + 7))
        grown = a[window] - base_a
        peak = int(window[np.argmax(grown)])
        radius = np.sqrt(np.maximum(grown, 0) * pixels / math.pi)
        moved = math.hypot((f.bright_cx[peak] - f.bright_cx[i]) * f.width,
                           (f.bright_cy[peak] - f.bright_cy[i]) * f.height)
        if grown.max() < 2.5 * first or moved > radius.max():
            i += 1
            continue
        # the picture flashes: the event lasts until the luminance is back within a quarter of
        # its rise (the fireball's growth and drift meanwhile is not motion to sound)
        top = int(i + np.argmax(luma[i:min(f.frames, i + 7)]))
        rise_l = float(luma[top] - base_l)
        end = max(peak, top)
        while end + 1 < min(f.frames, i + int(3 * fps)) and luma[end + 1] - base_l > 0.25 * rise_l:
            end += 1
        strength = float(np.clip(0.5 * min(1.0, rise_l / 60) + 0.5 * min(1.0, grown.max() * 8), 0.1, 1.0))
        cx, cy = float(f.bright_cx[peak]), float(f.bright_cy[peak])
        events.append(Event(time=f.start_time + i / fps, kind="explosion", strength=round(strength, 4),
                            x=round(cx, 4), label="explosion", region=_region(cx, cy),
                            duration=round((end + 1 - i) / fps, 4)))
        i = end + 1
    return events


def _cuts(f: Features, flashes: list[Event]) -> list[Event]:
    events, fps = [], float(f.fps)
    h = f.hist_delta
    # a flash changes the picture twice (on and off); neither change is a cut
    skip = set()
    for e in flashes:
        first = round((e.time - f.start_time) * fps)
        skip.update(range(first, first + round(e.duration * fps) + 1))
    bases = _neighbour_median(h, 6)
    for i in np.nonzero(h > 0.5)[0]:
        if i == 0:
            continue
        base = bases[i]
        if h[i] > 4 * base + 0.1:
            if i in skip:
                continue
            events.append(Event(time=f.start_time + int(i) / fps, kind="cut",
                                strength=round(float(min(1.0, h[i] / 2)), 4), x=0.5, label="cut"))
    return events


def _flashes(f: Features) -> list[Event]:
    events, fps, luma = [], float(f.fps), f.luma
    bases = trailing_median(luma, 6)
    i = 1
    while i < f.frames:
        base = float(bases[i])
        rise = luma[i] - base
        if rise > 20:
            end = i
            while end + 1 < f.frames and luma[end + 1] - base > rise * 0.3 and end - i < 8:
                end += 1
            after = luma[end + 1] if end + 1 < f.frames else base
            if abs(after - base) < max(6.0, 0.3 * rise):
                events.append(Event(time=f.start_time + i / fps, kind="flash",
                                    strength=round(float(min(1.0, rise / 120)), 4), x=0.5, label="flash",
                                    duration=round((end + 1 - i) / fps, 4)))
                i = end + 1
                continue
        i += 1
    return events


def _whooshes(f: Features, min_speed: float) -> list[Event]:
    events, fps = [], float(f.fps)
    speed = np.hypot(f.vx, f.vy) * np.minimum(1.0, f.area * 200)
    still = 0
    for i in range(1, f.frames):
        if speed[i] < 0.3 * min_speed:
            still += 1
            continue
        if speed[i] > 3 * min_speed and still >= 5:
            end = i
            while end + 1 < f.frames and speed[end + 1] > min_speed:
                end += 1
            events.append(Event(time=f.start_time + (i - 1) / fps, kind="whoosh",
                                strength=round(float(min(1.0, speed[i:end + 1].max() * fps / f.width / 3)), 4),
                                x=round(float(f.cx[i]), 4), label="motion onset", region=_region(f.cx[i], f.cy[i]),
                                duration=round((end + 1 - i) / fps, 4)))
        still = 0
    return events


def detect_events(features: Features, *,
                  kinds: tuple[str, ...] = ("impact", "whoosh", "step", "flash", "explosion", "cut"),
                  min_speed: float | None = None) -> list[Event]:
    """Events found in ``features``, sorted by time. ``min_speed`` in analysis px/frame.

    One thing is reported once: an explosion is not also a flash, a cut or an impact (its
    fireball moves); a step is not also an impact; motion across a cut or flash is not motion.
    """
    if min_speed is None:
        min_speed = features.width / 256 * 1.2
    fps = float(features.fps)
    explosions = _explosions(features)
    # frames taken by an explosion, from the frame before its onset to its end
    blasts = [(e.time - 1.5 / fps, e.time + e.duration + 1.5 / fps) for e in explosions]

    def outside_blasts(e: Event) -> bool:
        return all(not lo <= e.time <= hi for lo, hi in blasts)

    events: list[Event] = []
    steps = _steps(features) if "step" in kinds else []
    if "impact" in kinds:
        struck = [e for e in _struck(features) if all(abs(e.time - s.time) > 2 / fps for s in steps)]
        # a struck object times the hit better than the striker's track: one impact per hit
        events += struck + [e for e in _impacts(features, min_speed)
                            if all(abs(e.time - s.time) > 2 / fps for s in steps)
                            and all(abs(e.time - h.time) > 3 / fps for h in struck)]
    if "whoosh" in kinds:
        events += _whooshes(features, min_speed)
    events += steps
    flashes = [e for e in _flashes(features) if outside_blasts(e)] if ("flash" in kinds or "cut" in kinds) else []
    cuts = [e for e in _cuts(features, flashes) if outside_blasts(e)] if "cut" in kinds else []
    # motion measured across a cut or a flash is not motion; nor is a fireball's growth
    breaks = [e.time for e in cuts + flashes]
    events = [e for e in events if all(abs(e.time - c) > 1.5 / fps for c in breaks) and outside_blasts(e)]
    events += cuts + (flashes if "flash" in kinds else []) + (explosions if "explosion" in kinds else [])
    return sorted(events, key=lambda e: (e.time, e.kind))


# --- JSON --------------------------------------------------------------------------------
def _number(obj: dict, key: str, where: str, lo: float | None = None, hi: float | None = None,
            default: float | None = None) -> float:
    if key not in obj:
        if default is not None:
            return default
        raise EventsError(f"{where}: missing field {key!r}")
    v = obj[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise EventsError(f"{where}.{key}: must be a number, not {v!r}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise EventsError(f"{where}.{key}: {v!r} is outside {lo:g}..{hi:g}" if hi is not None
                          else f"{where}.{key}: {v!r} must be at least {lo:g}")
    return float(v)


def _text(obj: dict, key: str, where: str, default: str | None = None) -> str:
    if key not in obj:
        if default is not None:
            return default
        raise EventsError(f"{where}: missing field {key!r}")
    v = obj[key]
    if not isinstance(v, str):
        raise EventsError(f"{where}.{key}: must be a string, not {v!r}")
    return v


def event_from_dict(obj: Any, where: str = "event") -> Event:
    if not isinstance(obj, dict):
        raise EventsError(f"{where}: must be an object, not {type(obj).__name__}")
    kind = _text(obj, "kind", where)
    if kind not in EVENT_KINDS:
        raise EventsError(f"{where}.kind: {kind!r} is not one of {', '.join(EVENT_KINDS)}")
    return Event(time=_number(obj, "time", where, 0.0), kind=kind,
                 strength=_number(obj, "strength", where, 0.0, 1.0), x=_number(obj, "x", where, 0.0, 1.0),
                 label=_text(obj, "label", where), region=_text(obj, "region", where, ""),
                 duration=_number(obj, "duration", where, 0.0, default=0.0))


def events_from_json(data: Any, where: str = "events") -> list[Event]:
    if isinstance(data, dict):
        version = data.get("version", EVENTS_VERSION)
        if version != EVENTS_VERSION:
            raise EventsError(f"{where}.version: {version!r} is not supported (expected {EVENTS_VERSION})")
        if "events" not in data:
            raise EventsError(f"{where}: missing field 'events'")
        data = data["events"]
        where = f"{where}.events"
    if not isinstance(data, list):
        raise EventsError(f"{where}: must be a list of events, not {type(data).__name__}")
    return [event_from_dict(e, f"{where}[{i}]") for i, e in enumerate(data)]


def events_to_json(events: list[Event]) -> dict[str, Any]:
    return {"version": EVENTS_VERSION, "events": [e.to_dict() for e in events]}


def save_events(events: list[Event], path: str | os.PathLike[str]) -> None:
    """Write the events JSON atomically (temp file, fsync, rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(events_to_json(events), fh, indent=1)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_events(path: str | os.PathLike[str]) -> list[Event]:
    name = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as e:
        raise EventsError(f"{name}: not valid JSON ({e.msg} at line {e.lineno})") from None
    except UnicodeDecodeError:
        raise EventsError(f"{name}: not a UTF-8 text file") from None
    return events_from_json(data, name)
