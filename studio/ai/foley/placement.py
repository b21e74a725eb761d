"""Placing foley sounds: exact sample positions, WAV files, and one undoable command.

Sync below one frame: an event at ``t`` seconds is at sequence sample
``s = round(t * sample_rate)`` (plus the offset of the clip). Its clip starts at the frame
``P`` at or before it, and the WAV written for it begins with ``s - frames_to_samples(P)``
samples of silence, so with ``source_in = 0`` the mixer plays the transient exactly on
sample ``s``. The clip fades out over its last frame; it never fades in (the silence is the
fade, and a fade-in would dull the transient).

``FoleyPass`` is one command: it removes the clips and assets of any earlier foley pass
(assets whose id starts with ``foley-``), adds the new assets and one clip per sound on
audio tracks named ``Foley``, ``Foley 2``... (created when missing; sounds that overlap go on
the next lane, since clips on a track never overlap; lanes left empty are removed); ambience
beds (events of kind ``ambience``) go the same way on tracks named ``Ambience``... Undo
restores the project exactly as it was. Each pass writes new file names, so undoing to an
earlier pass finds its files unchanged.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from studio.core.edits.base import Command, with_clips
from studio.core.errors import EditError
from studio.core.fingerprint import fingerprint
from studio.core.ids import new_id
from studio.core.media_pool import Asset, MediaInfo
from studio.core.project import Project
from studio.core.timebase import frames_to_samples
from studio.core.timeline import Clip, Track

from .events import Event
from .sources.base import Sound

ASSET_PREFIX = "foley-"
TRACK_NAME = "Foley"
_LANE = re.compile(r"^Foley(?: (\d+))?$")
#: Ambience beds (``ambience.py``: events of this kind) go on their own tracks, under the spot effects.
AMBIENCE_KIND = "ambience"
AMBIENCE_TRACK = "Ambience"
_AMBIENCE_LANE = re.compile(r"^Ambience(?: (\d+))?$")


@dataclass(frozen=True, slots=True)
class Placed:
    """A sound laid out on the sequence: starts at frame ``position`` with ``lead`` samples of silence."""

    event: Event
    sound: Sound
    position: int  # sequence frame of the clip start
    lead: int  # silence before the transient, in samples
    duration: int  # frames
    length: int  # samples of the padded WAV
    gain_db: float
    pan: float

    def padded(self) -> np.ndarray:
        x = np.zeros(self.length, np.float32)
        body = self.sound.samples[self.sound.onset:]
        n = min(len(body), self.length - self.lead)
        x[self.lead:self.lead + n] = body[:n]
        if self.sound.onset:  # anything before the onset (pre-roll) goes just before it, if room
            pre = self.sound.samples[max(0, self.sound.onset - self.lead):self.sound.onset]
            x[self.lead - len(pre):self.lead] = pre
        return x


def gain_for(strength: float) -> float:
    return round(-18.0 * (1.0 - float(strength)), 2)


def pan_for(x: float) -> float:
    return round(float(np.clip((x - 0.5) * 1.6, -0.8, 0.8)), 3)


def layout(events: list[Event], sounds: list[Sound | None], *, fps: Fraction, sample_rate: int,
           offset: int = 0) -> list[Placed]:
    """Sequence placement of each sound (``offset``: sequence frame of the clip's time 0)."""
    fps = Fraction(fps)
    out = []
    for event, sound in zip(events, sounds, strict=True):
        if sound is None or len(sound.samples) == 0:
            continue
        if sound.sample_rate != sample_rate:
            raise ValueError(f"sound at {sample_rate} Hz expected, got {sound.sample_rate}")
        s = frames_to_samples(offset, fps, sample_rate) + round(event.time * sample_rate)
        pos = math.floor(Fraction(s) * fps / sample_rate)
        while frames_to_samples(pos, fps, sample_rate) > s:
            pos -= 1
        while frames_to_samples(pos + 1, fps, sample_rate) <= s:
            pos += 1
        lead = s - frames_to_samples(pos, fps, sample_rate)
        need = lead + len(sound.samples) - sound.onset
        duration = max(1, math.ceil(Fraction(need) * fps / sample_rate))
        length = math.ceil(Fraction(duration) * sample_rate / fps) + 1
        out.append(Placed(event, sound, pos, lead, duration, length, gain_for(event.strength), pan_for(event.x)))
    return out


def mixdown(placed: list[Placed], count: int, sample_rate: int, fps: Fraction) -> np.ndarray:
    """The sounds summed to stereo float32 ``(2, count)`` with the mixer's gain and pan law."""
    out = np.zeros((2, count), np.float32)
    for p in placed:
        start = frames_to_samples(p.position, fps, sample_rate)
        x = p.padded()
        fade = frames_to_samples(p.position + p.duration, fps, sample_rate) - frames_to_samples(
            p.position + p.duration - 1, fps, sample_rate) if p.duration >= 3 else 0
        end = frames_to_samples(p.position + p.duration, fps, sample_rate) - start
        x = x[:end]
        if fade:
            x[-fade:] *= np.clip(np.arange(fade, 0, -1) / fade, 0, 1).astype(np.float32)
        theta = (p.pan + 1.0) * (math.pi / 4)
        g = 10 ** (p.gain_db / 20)
        n = min(len(x), count - start)
        if n <= 0:
            continue
        out[0, start:start + n] += (x[:n] * g * math.sqrt(2) * math.cos(theta)).astype(np.float32)
        out[1, start:start + n] += (x[:n] * g * math.sqrt(2) * math.sin(theta)).astype(np.float32)
    return out


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM WAV (mono for 1-D, else channels first), written atomically."""
    import av

    path = Path(path)
    data = np.atleast_2d(np.asarray(samples, np.float32))
    layout_name = "mono" if data.shape[0] == 1 else "stereo"
    pcm = (np.clip(data, -1.0, 1.0) * 32767).round().astype(np.int16)
    tmp = path.with_name(f".{path.name}.tmp")
    with av.open(str(tmp), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=sample_rate, layout=layout_name)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm.T.reshape(1, -1)), format="s16",
                                           layout=layout_name)
        frame.sample_rate = sample_rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    os.replace(tmp, path)


def foley_folder(project_path: str | os.PathLike[str]) -> Path:
    """``<project>_foley/`` beside the project file."""
    p = Path(project_path).absolute()
    return p.with_name(f"{p.stem}_foley")


@dataclass(frozen=True, slots=True)
class PassItem:
    asset: Asset
    placed: Placed


def write_pass(placed: list[Placed], folder: str | os.PathLike[str], sample_rate: int,
               pass_id: str | None = None) -> list[PassItem]:
    """Write one WAV per placed sound into ``folder`` (created) and describe them as assets."""
    folder = Path(folder).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    pass_id = pass_id or new_id()
    items = []
    for i, p in enumerate(placed):
        name = f"{pass_id}-{i + 1:03d}-{p.event.kind}.wav"
        path = folder / name
        write_wav(path, p.padded(), sample_rate)
        info = MediaInfo(duration=Fraction(p.length, sample_rate), has_audio=True, sample_rate=sample_rate,
                         channels=1)
        asset = Asset(id=f"{ASSET_PREFIX}{pass_id}-{i + 1:03d}", path=str(path), name=name, kind="audio",
                      fingerprint=fingerprint(path), info=info)
        items.append(PassItem(asset, p))
    return items


def _lane_index(track: Track, lane: re.Pattern = _LANE) -> int | None:
    m = lane.match(track.name) if track.kind == "audio" else None
    if m is None:
        return None
    return int(m.group(1) or 1) - 1


def _free(clips: list[Clip], start: int, end: int) -> bool:
    return all(c.end <= start or c.position >= end for c in clips)


class FoleyPass(Command):
    """Replace the project's foley pass with ``items`` (one undo step)."""

    label = "Foley pass"

    def __init__(self, items: list[PassItem], *, fps: Fraction, sample_rate: int) -> None:
        super().__init__()
        self.items = list(items)
        self.fps, self.sample_rate = Fraction(fps), int(sample_rate)

    def _apply(self, project: Project) -> Project:
        if project.fps != self.fps or project.settings.sample_rate != self.sample_rate:
            raise EditError(f"the foley pass was made for {self.fps} fps / {self.sample_rate} Hz, the project is "
                            f"{project.fps} fps / {project.settings.sample_rate} Hz")
        old = {a.id for a in project.assets if a.id.startswith(ASSET_PREFIX)}
        tracks: list[Track] = []
        for t in project.sequence.tracks:
            kept = [c for c in t.clips if c.asset_id not in old]
            if len(kept) != len(t.clips):
                if t.locked:
                    raise EditError(f"track {t.name} is locked")
                t = with_clips(t, kept)
            tracks.append(t)
        beds = [it for it in self.items if it.placed.event.kind == AMBIENCE_KIND]
        spots = [it for it in self.items if it.placed.event.kind != AMBIENCE_KIND]
        tracks = self._lay_lanes(tracks, spots, TRACK_NAME, _LANE)
        if beds:
            tracks = self._lay_lanes(tracks, beds, AMBIENCE_TRACK, _AMBIENCE_LANE)
        assets = tuple(a for a in project.assets if a.id not in old) + tuple(it.asset for it in self.items)
        return replace(project.with_tracks(tuple(tracks)), assets=assets)

    def _lay_lanes(self, tracks: list[Track], items: list[PassItem], name: str, lane: re.Pattern) -> list[Track]:
        """``items`` on the audio tracks ``name``, ``name 2``... (created when missing; an item goes on
        the first unlocked lane free for its span; lanes beyond the first left empty go away)."""
        lanes: dict[int, int] = {}  # lane -> index in tracks
        for i, t in enumerate(tracks):
            k = _lane_index(t, lane)
            if k is not None and k not in lanes:
                lanes[k] = i
        lane_clips: dict[int, list[Clip]] = {k: list(tracks[i].clips) for k, i in lanes.items()}
        for item in sorted(items, key=lambda it: it.placed.position):
            p = item.placed
            k = 0
            while True:
                if k in lanes and tracks[lanes[k]].locked:
                    k += 1
                    continue
                if _free(lane_clips.setdefault(k, []), p.position, p.position + p.duration):
                    break
                k += 1
            clip = Clip(id=self.ids("clip"), asset_id=item.asset.id, position=p.position, duration=p.duration,
                        source_in=Fraction(0), name=f"{p.event.label or p.event.kind}", gain_db=p.gain_db, pan=p.pan,
                        fade_out=1 if p.duration >= 3 else 0)
            lane_clips[k].append(clip)
        new_tracks = list(tracks)
        for k in sorted(lane_clips):
            if k in lanes:
                i = lanes[k]
                new_tracks[i] = with_clips(tracks[i], lane_clips[k]) if lane_clips[k] != list(tracks[i].clips) \
                    else tracks[i]
            elif lane_clips[k]:
                track_name = name if k == 0 else f"{name} {k + 1}"
                new_tracks.append(with_clips(Track(self.ids("track"), "audio", track_name), lane_clips[k]))
        drop = {tracks[i].id for k, i in lanes.items() if k > 0 and not lane_clips.get(k)
                and not tracks[i].locked}
        return [t for t in new_tracks if t.id not in drop]
