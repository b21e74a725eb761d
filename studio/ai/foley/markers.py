"""Foley events as sequence markers, and back: the editable middle step of "Add foley".

Detection puts one marker per event on the sequence; the user moves or deletes markers; the
sounds are then made from the markers that are left, at their current frames.

A foley marker is an ordinary :class:`~studio.core.timeline.Marker` in :data:`MARKER_COLOR`
whose ``data`` is JSON::

    {"type": "foley-event", "version": 1, "frame": 37, "offset": 0.42,
     "event": {"kind": "impact", "strength": 0.8, "x": 0.5, "label": "impact (floor)",
               "region": "2,1", "duration": 0.0}}

``frame`` is where detection put the marker and ``offset`` the event's sub-frame position
after it (in frames, 0 <= offset < 1). A marker still on ``frame`` gives its event back at
``frame + offset``; a moved marker means "here": its event lands exactly on the new frame (a
sub-frame offset measured for another frame means nothing there). ``note`` holds a line for
people (shown as the marker's tooltip); ``name`` is the label.

Detection also anchors each marker to the picture: ``"clip"`` (the clip's id) and ``"media"``
(the event's time in that clip's media, seconds). A marker the user has not moved follows its
clip when the clip is later moved, trimmed, slipped or retimed (``follow_clip``): the sound
belongs to the moment in the picture, not to a frame of the sequence. One whose moment has been
trimmed out of the clip is gone.

Times here are float seconds from the sequence start (events are analysis output), frames
are integer sequence frames.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import replace
from fractions import Fraction
from typing import Any

from studio.core.project import Project
from studio.core.timeline import Clip, Marker

from .events import Event

#: A colour no other marker uses by default (the ruler draws any ``#rrggbb``).
MARKER_COLOR = "#e45cc0"
DATA_TYPE = "foley-event"
DATA_VERSION = 1


def _frame_and_offset(seconds: float, fps: Fraction) -> tuple[int, float]:
    """Sequence frame at or before ``seconds`` and the remainder in frames (guarding float noise)."""
    f = seconds * float(fps)
    frame = math.floor(f + 1e-9)
    if frame < 0:
        return 0, 0.0
    return frame, min(max(f - frame, 0.0), 1.0 - 1e-9)


def describe(event: Event) -> str:
    """One line for people: kind, strength, screen position (the marker's tooltip)."""
    parts = [event.label or event.kind, f"{event.kind}", f"strength {event.strength:.2f}", f"x {event.x:.2f}"]
    if event.duration:
        parts.append(f"{event.duration:.2f} s")
    return " \u00b7 ".join(dict.fromkeys(parts))


def marker_fields(event: Event, fps: Fraction, anchor: tuple[str, float] | None = None) -> dict[str, Any]:
    """Keyword arguments of ``AddMarker`` for ``event`` (``time``: seconds from the sequence start);
    ``anchor``: (clip id, seconds in its media) of the moment the event was seen at."""
    frame, offset = _frame_and_offset(float(event.time), Fraction(fps))
    payload = {"type": DATA_TYPE, "version": DATA_VERSION, "frame": frame, "offset": round(offset, 6),
               "event": {"kind": event.kind, "strength": float(event.strength), "x": float(event.x),
                         "label": event.label, "region": event.region, "duration": float(event.duration)}}
    if anchor is not None:
        payload["clip"], payload["media"] = str(anchor[0]), round(float(anchor[1]), 9)
    return {"frame": frame, "name": event.label or event.kind, "color": MARKER_COLOR, "note": describe(event),
            "data": json.dumps(payload, sort_keys=True)}


def _payload(marker: Marker) -> dict[str, Any] | None:
    if not marker.data:
        return None
    try:
        d = json.loads(marker.data)
    except ValueError:
        return None
    if not isinstance(d, dict) or d.get("type") != DATA_TYPE or not isinstance(d.get("event"), dict):
        return None
    return d


def is_foley_marker(marker: Marker) -> bool:
    return _payload(marker) is not None


def foley_markers(markers: Iterable[Marker]) -> list[Marker]:
    """The foley markers among ``markers``, in time order."""
    return sorted((m for m in markers if is_foley_marker(m)), key=lambda m: (m.frame, m.id))


def marker_moved(marker: Marker) -> bool:
    d = _payload(marker)
    return d is not None and d.get("frame") != marker.frame


def marker_event(marker: Marker, fps: Fraction) -> Event:
    """The event a foley marker stands for, at the marker's current time (seconds from the sequence start).

    Raises ValueError for a marker that is not a foley marker or whose event is malformed.
    """
    d = _payload(marker)
    if d is None:
        raise ValueError(f"marker {marker.name!r} is not a foley event")
    e = d["event"]
    offset = float(d.get("offset", 0.0)) if d.get("frame") == marker.frame else 0.0
    if not 0.0 <= offset < 1.0:
        offset = 0.0
    try:
        return Event(time=(marker.frame + offset) / float(fps), kind=str(e["kind"]),
                     strength=min(1.0, max(0.0, float(e.get("strength", 0.5)))),
                     x=min(1.0, max(0.0, float(e.get("x", 0.5)))), label=str(e.get("label", "")),
                     region=str(e.get("region", "")), duration=max(0.0, float(e.get("duration", 0.0))))
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"marker {marker.name!r}: malformed foley event ({err})") from None


def shifted_events(events: Iterable[Event], seconds: float) -> list[Event]:
    """``events`` with ``seconds`` added to their times (clip time -> sequence time)."""
    return [replace(e, time=e.time + seconds) for e in events]


def clip_time(clip: Clip, media: float, fps: Fraction) -> float | None:
    """Sequence seconds at which ``clip`` shows ``media`` seconds of its media (speed and reverse
    honoured); None when that moment is outside the part of the media the clip uses."""
    fps = Fraction(fps)
    m = Fraction(media).limit_denominator(10**9)
    start, end = Fraction(clip.source_in) / fps, Fraction(clip.source_out) / fps
    if not start <= m < end:
        return None
    speed = Fraction(clip.speed)
    into = (m - start) / speed if speed > 0 else (end - m) / -speed
    return float(Fraction(clip.position) / fps + into)


def follow_clip(marker: Marker, project: Project, fps: Fraction) -> tuple[str, Event | None, dict[str, Any] | None]:
    """Where an anchored foley marker belongs now: ``("keep", None, None)`` (moved by the user, not
    anchored, its clip deleted, or still in place), ``("move", event, fields)`` (its clip moved: the
    event at its new time and the ``AddMarker`` fields of its new marker) or ``("gone", None, None)``
    (its moment was trimmed out of the clip)."""
    d = _payload(marker)
    if d is None or d.get("frame") != marker.frame or "clip" not in d:
        return "keep", None, None
    found = project.find_clip(str(d["clip"]))
    if found is None:
        return "keep", None, None
    try:
        media = float(d["media"])
    except (KeyError, TypeError, ValueError):
        return "keep", None, None
    t = clip_time(found[1], media, fps)
    if t is None:
        return "gone", None, None
    frame, offset = _frame_and_offset(t, Fraction(fps))
    if frame == marker.frame and abs(offset - float(d.get("offset", 0.0))) < 1e-6:
        return "keep", None, None
    event = replace(marker_event(marker, fps), time=t)
    return "move", event, marker_fields(event, fps, (str(d["clip"]), media))
