"""OpenTimelineIO bridge: round trips through .otio / FCP 7 XML / CMX 3600 EDL, real sample
files from OpenTimelineIO and its adapters, warnings for dropped features, bad input."""

from __future__ import annotations

import os
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from studio.core import invariants
from studio.core.errors import ProjectFileError
from studio.core.interchange import (
    project_from_otio,
    project_to_otio,
    read_timeline,
    write_timeline,
)
from studio.core.media_pool import Asset, MediaInfo
from studio.core.project import Project, ProjectSettings
from studio.core.timeline import Clip, Marker, Sequence, Track, Transition

DATA = Path(__file__).resolve().parent.parent / "data" / "interchange"
SAMPLES = sorted(p for ext in ("otio", "xml", "edl") for p in DATA.glob(f"*.{ext}"))
FPS = Fraction(24)


# --- a project built with our model ---------------------------------------------------------
def build_project(root: Path) -> Project:
    """Two video tracks + one audio track, gaps, an asymmetric dissolve, sequence and clip
    markers, a speed 2 clip and an offline asset (its file does not exist)."""
    media = root / "media"
    media.mkdir(parents=True, exist_ok=True)
    for name in ("a.mov", "b.mov", "music.wav"):
        (media / name).write_bytes(b"")
    assets = (
        Asset("as-a", str(media / "a.mov"), "a.mov", "av",
              info=MediaInfo(Fraction(10), has_video=True, has_audio=True)),
        Asset("as-b", str(media / "b.mov"), "b.mov", "video",
              info=MediaInfo(Fraction(8), has_video=True)),
        Asset("as-m", str(media / "music.wav"), "music.wav", "audio",
              info=MediaInfo(Fraction(20), has_audio=True)),
        Asset("as-c", str(root / "missing" / "c.mov"), "c.mov", "video", info=MediaInfo(None)),
    )
    v1 = Track("t-v1", "video", "V1", clips=(
        Clip("c1", "as-a", 0, 48, Fraction(10), name="one"),
        Clip("c2", "as-b", 48, 60, Fraction(12), name="two",
             markers=(Marker("m4", 20, "NOTE", "green"),)),
        # a gap from 108 to 150
        Clip("c3", "as-a", 150, 40, Fraction(20), speed=Fraction(2), name="fast"),
    ), transitions=(Transition("tr1", "c1", "c2", 6, 8, "dissolve"),))
    v2 = Track("t-v2", "video", "V2", clips=(
        Clip("c4", "as-c", 24, 30, Fraction(5), name="offline",
             markers=(Marker("m3", 10, "look", "blue"),)),
    ))
    a1 = Track("t-a1", "audio", "A1", clips=(
        Clip("c5", "as-m", 0, 200, Fraction(0), name="music"),
    ))
    markers = (Marker("m1", 12, "start", "red"), Marker("m2", 100, "middle", "green", 5, "check"))
    project = Project(ProjectSettings(1920, 1080, FPS), assets,
                      Sequence((v1, v2, a1), markers), name="Round trip")
    invariants.check(project)
    return project


def clip_rows(project: Project, track: Track) -> list[tuple]:
    rows = []
    for c in track.clips:
        a = project.asset(c.asset_id)
        assert a is not None
        rows.append((c.name, c.position, c.duration, c.source_in, c.speed, a.path,
                     [(m.frame, m.name, m.color, m.duration, m.note) for m in c.markers]))
    return rows


def transition_rows(track: Track) -> list[tuple]:
    names = {c.id: c.name for c in track.clips}
    return [(names[t.a], names[t.b], t.before, t.after, t.kind) for t in track.transitions]


def seq_markers(project: Project) -> list[tuple]:
    return [(m.frame, m.name, m.color, m.duration, m.note) for m in project.sequence.markers]


def by_name(track: Track) -> dict[str, Clip]:
    return {c.name: c for c in track.clips}


# --- round trips ------------------------------------------------------------------------------
def test_otio_round_trip_is_exact(tmp_path: Path) -> None:
    project = build_project(tmp_path)
    out = tmp_path / "cut.otio"
    assert write_timeline(project, out) == []
    back, warnings = read_timeline(out)
    invariants.check(back)
    assert warnings == [f"offline media: c.mov ({tmp_path / 'missing' / 'c.mov'})"]
    assert back.name == project.name
    assert back.settings == project.settings
    assert [(t.kind, t.name) for t in back.sequence.tracks] == \
        [(t.kind, t.name) for t in project.sequence.tracks]
    for ours, theirs in zip(project.sequence.tracks, back.sequence.tracks, strict=True):
        assert clip_rows(back, theirs) == clip_rows(project, ours)
        assert transition_rows(theirs) == transition_rows(ours)
    assert seq_markers(back) == seq_markers(project)
    # assets: paths, kinds (kept in our metadata) and lengths; the offline one stays unbounded
    assert sorted((a.path, a.kind, a.info.duration) for a in back.assets) == \
        sorted((a.path, a.kind, a.info.duration) for a in project.assets)


def test_otio_keeps_a_markers_own_colour_and_tool_data(tmp_path: Path) -> None:
    """A colour OTIO has no name for and a marker's tool data (a foley event) ride in our metadata."""
    project = build_project(tmp_path)
    tool = Marker("f1", 40, "impact (floor)", "#e45cc0", 0, "impact · strength 0.80",
                  '{"event": {"kind": "impact"}, "frame": 40, "type": "foley-event"}')
    project = replace(project, sequence=replace(project.sequence, markers=(*project.sequence.markers, tool)))
    out = tmp_path / "cut.otio"
    write_timeline(project, out)
    back, _ = read_timeline(out)
    (got,) = [m for m in back.sequence.markers if m.frame == 40]
    assert (got.name, got.color, got.note, got.data) == (tool.name, tool.color, tool.note, tool.data)
    assert all(m.data == "" for m in back.sequence.markers if m.frame != 40)


def test_fcp_xml_round_trip_keeps_what_the_format_carries(tmp_path: Path) -> None:
    project = build_project(tmp_path)
    out = tmp_path / "cut.xml"
    warnings = write_timeline(project, out)
    # FCP XML loses: speed changes (the fcp_xml writer has no time remap), marker colours and
    # notes, asset kinds, the cut position inside a dissolve (FCP centres it on the cut), and
    # the unknown length of offline media (written as the range its clips use).
    assert any("speed" in w and "fast" in w for w in warnings)
    back, _ = read_timeline(out)
    invariants.check(back)
    assert back.name == project.name
    assert back.settings.fps == FPS
    assert [(t.kind, t.name, len(t.clips)) for t in back.sequence.tracks] == \
        [(t.kind, t.name, len(t.clips)) for t in project.sequence.tracks]
    v1, v2, a1 = back.sequence.tracks
    clips = by_name(v1)
    one, two, fast = clips["one"], clips["two"], clips["fast"]
    # the dissolve keeps its span on the timeline (42..56) and its length; the cut moves to
    # its centre, and the clips' outer edges and sync stay where they were
    (tr,) = v1.transitions
    assert (tr.a, tr.b, tr.before + tr.after, tr.kind) == (one.id, two.id, 14, "dissolve")
    assert one.end - tr.before == 42 and two.position + tr.after == 56
    assert tr.before == tr.after == 7
    assert (one.position, one.source_in) == (0, 10)
    assert (two.end, two.source_in - two.position) == (108, 12 - 48)
    assert (fast.position, fast.duration, fast.source_in, fast.speed) == (150, 40, 20, 1)
    assert [(m.frame + two.position, m.name) for m in two.markers] == [(68, "NOTE")]
    assert clip_rows(back, v2)[0][:6] == clip_rows(project, project.sequence.tracks[1])[0][:6]
    assert [(m.frame, m.name) for m in by_name(v2)["offline"].markers] == [(10, "look")]
    assert clip_rows(back, a1) == clip_rows(project, project.sequence.tracks[2])
    assert [(m.frame, m.name, m.duration) for m in back.sequence.markers] == \
        [(m.frame, m.name, m.duration) for m in project.sequence.markers]
    offline = next(a for a in back.assets if a.name == "c.mov")
    assert offline.info.duration == Fraction(35, 24)  # 5 + 30 frames used


def test_edl_round_trip_keeps_what_the_format_carries(tmp_path: Path) -> None:
    project = build_project(tmp_path)
    out = tmp_path / "cut.edl"
    warnings = write_timeline(project, out)
    # CMX 3600 carries one video track: V2 and A1 are not written, nor sequence markers.
    assert any("'V2'" in w and "'A1'" in w for w in warnings)
    assert any("sequence markers" in w for w in warnings)
    back, _ = read_timeline(out)
    invariants.check(back)
    assert back.name == project.name
    assert [(t.kind, len(t.clips)) for t in back.sequence.tracks] == [("video", 3)]
    # EDL loses: track names, marker colours/notes/case (LOC names are upper case), asset
    # kinds and lengths, and the cut inside a dissolve: an EDL dissolve starts at the cut, so
    # the B side starts `before` frames earlier and the dissolve is all "after".
    (v1,) = back.sequence.tracks
    clips = by_name(v1)
    one, two, fast = clips["one"], clips["two"], clips["fast"]
    assert (one.position, one.duration, one.source_in) == (0, 42, 10)
    assert (two.position, two.duration, two.source_in) == (42, 66, 6)
    assert transition_rows(v1) == [("one", "two", 0, 14, "dissolve")]
    assert (fast.position, fast.duration, fast.source_in, fast.speed) == (150, 40, 20, 2)
    assert [(m.frame + two.position, m.name) for m in two.markers] == [(68, "NOTE")]
    assert [project.asset(c.asset_id).path for c in project.sequence.tracks[0].clips] == \
        [back.asset(c.asset_id).path for c in v1.clips]
    assert back.sequence.markers == ()


def test_ntsc_rate_and_fractional_source_in(tmp_path: Path) -> None:
    rate = Fraction(30000, 1001)
    a = Asset("a", str(tmp_path / "a.mov"), "a.mov", "video",
              info=MediaInfo(Fraction(10), has_video=True))
    clip = Clip("c", "a", 3, 30, Fraction(21, 2), name="half")
    project = Project(ProjectSettings(1280, 720, rate), (a,),
                      Sequence((Track("v", "video", "V1", clips=(clip,)),)))
    out = tmp_path / "ntsc.otio"
    warnings = write_timeline(project, out)
    assert any("half" in w and "rounded" in w for w in warnings)
    back, _ = read_timeline(out)
    assert back.settings.fps == rate and (back.settings.width, back.settings.height) == (1280, 720)
    (c,) = back.sequence.tracks[0].clips
    assert (c.position, c.duration, c.source_in) == (3, 30, 10)  # 10.5 rounds half to even


def test_writes_are_atomic(tmp_path: Path) -> None:
    project = build_project(tmp_path)
    out = tmp_path / "cut.edl"
    out.write_text("old contents")
    audio_only = project.with_tracks(project.sequence.tracks_of("audio"))
    with pytest.raises(ProjectFileError, match="cut.edl"):
        write_timeline(audio_only, out)
    assert out.read_text() == "old contents"
    write_timeline(project, out)
    assert out.read_text().startswith("TITLE: Round trip")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.edl", "media"]


def test_collection_takes_the_first_timeline(tmp_path: Path) -> None:
    first = project_to_otio(build_project(tmp_path))
    second = otio.schema.Timeline(name="Other cut")
    coll = otio.schema.SerializableCollection(name="bin", children=[first, second])
    path = tmp_path / "bin.otio"
    otio.adapters.write_to_file(coll, str(path))
    project, warnings = read_timeline(path)
    assert project.name == "Round trip"
    assert any("Other cut" in w for w in warnings)


def test_edl_rate_argument(tmp_path: Path) -> None:
    path = DATA / "gap_test.edl"  # shipped in tests/data (test_samples_are_present)
    project, _ = read_timeline(path, rate=25)
    assert project.settings.fps == 25
    expected = otio.adapters.read_from_file(str(path), rate=25).duration().to_seconds()
    assert float(project.duration_seconds) == pytest.approx(expected)


# --- real sample files --------------------------------------------------------------------------
def _otio_read(path: Path) -> otio.schema.Timeline:
    kwargs = {"rate": 24} if path.suffix == ".edl" else {}
    result = otio.adapters.read_from_file(str(path), **kwargs)
    if isinstance(result, otio.schema.SerializableCollection):
        result = next(iter(result.find_children(descended_from_type=otio.schema.Timeline)))
    return result


def _speed_of(item: otio.core.Item) -> float:
    """The speed OTIO's time warps give a clip: its own and those of the items around it."""
    speed = 1.0
    while item is not None:
        for fx in getattr(item, "effects", ()):
            if isinstance(fx, otio.schema.LinearTimeWarp) and fx.time_scalar != 0 and \
                    (fx.time_scalar > 0 or isinstance(item, otio.schema.Clip)):
                speed *= fx.time_scalar
        item = item.parent()
    return speed


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_real_sample_file(path: Path, tmp_path: Path) -> None:
    try:
        tl = _otio_read(path)
    except Exception:  # noqa: BLE001 - OTIO itself cannot read it: we must fail cleanly
        with pytest.raises(ProjectFileError, match=path.name):
            read_timeline(path)
        return
    project, warnings = read_timeline(path)
    invariants.check(project)
    # the same tracks, clips and duration as OpenTimelineIO reads
    tracks = [t for t in tl.tracks if isinstance(t, otio.schema.Track)]
    for kind, otio_kind in (("video", "Video"), ("audio", "Audio")):
        assert len(project.sequence.tracks_of(kind)) == sum(t.kind == otio_kind for t in tracks)
    clips = list(tl.find_clips())  # nested clips included: they are flattened onto the tracks
    assert sum(len(t.clips) for t in project.sequence.tracks) == len(clips)
    frame = 1 / float(project.fps)
    theirs = tl.duration().to_seconds() if tracks else 0.0
    assert float(project.duration_seconds) == pytest.approx(theirs, abs=frame)
    # every clip's speed is its time warps' and those of the nested items around it
    ours = sorted((c.name, round(float(c.speed), 3)) for _t, c in project.all_clips())
    assert ours == sorted((c.name, round(_speed_of(c), 3)) for c in clips)
    # the nesting itself is lost: a warning names every nested item
    nested = [i for i in tl.find_children(descended_from_type=otio.core.Composition)
              if isinstance(i.parent(), otio.schema.Track)]
    for item in nested:
        assert any("nested" in w and repr(item.name) in w for w in warnings), (item.name, warnings)
    # effects that we cannot carry as speed are named with the item they were on
    for item in tl.find_children():
        for fx in getattr(item, "effects", ()):
            if type(fx) is otio.schema.LinearTimeWarp and fx.time_scalar != 0 and \
                    (fx.time_scalar > 0 or isinstance(item, otio.schema.Clip)):
                continue
            label = fx.effect_name or fx.name
            assert any(label in w and item.name in w for w in warnings), (label, warnings)
    if nested or any(c.effects for c in clips):
        assert warnings
    # exporting back to the same format works: OTIO and we re-read the same counts and length
    out = tmp_path / f"again{path.suffix}"
    write_timeline(project, out)
    again, _ = read_timeline(out)
    invariants.check(again)
    assert [(t.kind, len(t.clips)) for t in again.sequence.tracks] == \
        [(t.kind, len(t.clips)) for t in project.sequence.tracks]
    assert again.sequence.duration == project.sequence.duration
    exported = _otio_read(out)
    assert len(list(exported.find_clips())) == len(clips)
    assert (exported.duration().to_seconds() if tracks else 0.0) == pytest.approx(theirs, abs=frame)


def test_samples_are_present() -> None:
    assert SAMPLES, f"no sample files in {DATA}"
    assert {p.suffix for p in SAMPLES} == {".otio", ".xml", ".edl"}


# --- warnings for dropped features ----------------------------------------------------------
def _clip(name: str, frames: int, start: int = 0) -> otio.schema.Clip:
    return otio.schema.Clip(
        name=name, media_reference=otio.schema.MissingReference(),
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(start, 24),
                                             otio.opentime.RationalTime(frames, 24)))


def test_dropped_features_are_named_in_warnings() -> None:
    track = otio.schema.Track(name="Main", kind=otio.schema.TrackKind.Video)
    track.append(_clip("first", 30, 100))
    inner = otio.schema.Stack(name="Inner Comp")
    inner_track = otio.schema.Track()
    inner_track.append(_clip("deep", 20))
    inner.append(inner_track)
    track.append(inner)
    frozen = _clip("frozen", 12, 50)
    frozen.effects.append(otio.schema.FreezeFrame())
    track.append(frozen)
    track.append(otio.schema.Transition(
        name="wipe one", transition_type="SMPTE_Wipe",
        in_offset=otio.opentime.RationalTime(3, 24),
        out_offset=otio.opentime.RationalTime(3, 24)))
    track.append(_clip("last", 24, 10))
    frames = _clip("frames", 8)
    frames.media_reference = otio.schema.ImageSequenceReference(
        target_url_base="file:///shots/", name_prefix="sh010.", name_suffix=".exr",
        frame_zero_padding=4, rate=24)
    track.append(frames)
    tl = otio.schema.Timeline(name="Warnings")
    tl.tracks.append(track)

    project, warnings = project_from_otio(tl, ".")
    invariants.check(project)
    text = "\n".join(warnings)
    assert "nested Stack 'Inner Comp'" in text and "flattened" in text
    assert "FreezeFrame" in text and "frozen" in text
    assert "SMPTE_Wipe" in text and "wipe one" in text
    assert "image sequence" in text and "frames" in text
    assert project.sequence.duration == 30 + 20 + 12 + 24 + 8
    assert float(project.duration_seconds) == pytest.approx(tl.duration().to_seconds())
    (v1,) = project.sequence.tracks
    assert [(c.name, c.position, c.duration) for c in v1.clips] == \
        [("first", 0, 30), ("deep", 30, 20), ("frozen", 50, 12), ("last", 62, 24), ("frames", 86, 8)]
    seq = project.asset(v1.clips[-1].asset_id)
    assert seq is not None and seq.path == "/shots/sh010.%04d.exr" and seq.kind == "video"
    assert transition_rows(v1) == [("frozen", "last", 3, 3, "dissolve")]


def _rt(frames: int) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(frames, 24)


def _range(start: int, frames: int) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(_rt(start), _rt(frames))


def _rows(track: Track) -> list[tuple]:
    return [(c.name, c.position, c.duration, c.source_in, c.speed) for c in track.clips]


def test_nested_example_is_flattened() -> None:
    project, warnings = read_timeline(DATA / "nested_example.otio")
    (v1,) = project.sequence.tracks
    # the 29 frames of 'Nested Stack 2' play its 24-frame clip at 47/55 speed (28 frames and
    # a frame of gap); 'Clip Inside A Stack 1' is cut to the 31 frames its stack shows
    assert _rows(v1) == [
        ("Normal Clip 1", 0, 238, 135, 1), ("Clip Inside A Stack 1", 238, 31, 373, 1),
        ("Normal Clip 2", 269, 33, 101, 1), ("Clip Inside A Stack 2", 302, 28, 429, Fraction(47, 55)),
        ("Normal Clip 3", 331, 63, 179, 1), ("Clip Inside A Track", 394, 1, 471, 1),
        ("Normal Clip 4", 398, 238, 135, 1)]
    assert project.sequence.min_length == 0 and project.sequence.duration == 636
    flattened = [w for w in warnings if "flattened" in w]
    assert len(flattened) == 3
    assert any("FreezeFrame" in w and "'Nested Track'" in w for w in warnings)
    assert not any("LinearTimeWarp" in w for w in warnings)  # applied as speed


def test_nested_stack_layers_go_onto_tracks_above_their_track() -> None:
    def stack(name: str, *layers: otio.schema.Track) -> otio.schema.Stack:
        out = otio.schema.Stack(name=name, source_range=_range(10, 30))
        for layer in layers:
            out.append(layer)
        return out

    def track(name: str, kind: str, *items: otio.core.Item) -> otio.schema.Track:
        out = otio.schema.Track(name=name, kind=kind)
        for item in items:
            out.append(item)
        return out

    video, audio = otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio
    comp = stack("Comp", track("low", video, _clip("l1", 20, 100), _clip("l2", 20, 200)),
                 track("high", video, otio.schema.Gap(duration=_rt(15)), _clip("h1", 30, 300)),
                 track("sound", audio, _clip("s1", 40, 400)))
    comp.markers.append(otio.schema.Marker(name="inside", marked_range=_range(15, 0)))
    comp.markers.append(otio.schema.Marker(name="hidden", marked_range=_range(2, 0)))
    v1 = track("V1", video, _clip("a", 24), comp, _clip("b", 12))
    # a second stack on the track above, at the same time: its sound needs another track
    other = stack("Other", track("pic", video, _clip("p1", 40)), track("fx", audio, _clip("s2", 40)))
    v2 = track("Top", video, otio.schema.Gap(duration=_rt(20)), other)
    music = track("Music", audio, _clip("m", 60))
    tl = otio.schema.Timeline(name="Nested")
    tl.tracks.extend([v1, v2, music])
    project, warnings = project_from_otio(tl)
    invariants.check(project)
    assert [(t.kind, t.name) for t in project.sequence.tracks] == [
        ("video", "V1"), ("video", "V2 (nested)"), ("video", "Top"),
        ("audio", "Music"), ("audio", "A2 (nested)"), ("audio", "A3 (nested)")]
    tv1, tv2, top, tmusic, ta2, ta3 = project.sequence.tracks
    # the stack shows frames 10-40 of its layers, from frame 24 of the sequence
    assert _rows(tv1) == [("a", 0, 24, 0, 1), ("l1", 24, 10, 110, 1), ("l2", 34, 20, 200, 1),
                          ("b", 54, 12, 0, 1)]
    assert _rows(tv2) == [("h1", 29, 25, 300, 1)]
    assert _rows(top) == [("p1", 20, 30, 10, 1)]
    assert _rows(tmusic) == [("m", 0, 60, 0, 1)]
    assert _rows(ta2) == [("s1", 24, 30, 410, 1)]
    assert _rows(ta3) == [("s2", 20, 30, 10, 1)]  # A2 is taken from 24 to 54
    assert project.sequence.duration == 66
    assert [(m.name, m.frame) for m in project.sequence.markers] == [("inside", 29)]
    text = "\n".join(warnings)
    assert "nested Stack 'Comp' on track 'V1' flattened" in text
    assert "nested Stack 'Other' on track 'Top' flattened" in text
    assert "'hidden'" in text and "outside" in text


def test_nested_track_window_speed_and_enabled() -> None:
    warped = otio.schema.Track(name="Warped", source_range=_range(0, 10))
    warped.extend([_clip("w1", 10, 50), _clip("w2", 10, 60)])
    warped.effects.append(otio.schema.LinearTimeWarp(time_scalar=2))
    window = otio.schema.Track(name="Window", source_range=_range(30, 10))
    window.extend([_clip("gone", 20), _clip("kept", 30, 100), _clip("after", 5)])
    window.enabled = False
    odd = otio.schema.Track(name="Odd")
    odd.append(_clip("plain", 6))
    odd.effects.append(otio.schema.Effect(name="Glow", effect_name="Glow"))
    main = otio.schema.Track(name="V1")
    main.extend([warped, window, odd])
    tl = otio.schema.Timeline(name="Inline")
    tl.tracks.append(main)
    project, warnings = project_from_otio(tl)
    invariants.check(project)
    (v1,) = project.sequence.tracks
    # 10 frames at speed 2 show both 10-frame clips; the window shows frames 30-40 of 'kept'
    assert _rows(v1) == [("w1", 0, 5, 50, 2), ("w2", 5, 5, 60, 2), ("kept", 10, 10, 110, 1),
                         ("plain", 20, 6, 0, 1)]
    assert [c.enabled for c in v1.clips] == [True, True, False, True]
    assert project.sequence.duration == round(tl.duration().value) == 26
    text = "\n".join(warnings)
    assert "clip 'gone' on nested Track 'Window' dropped" in text
    assert "clip 'after' on nested Track 'Window' dropped" in text
    assert "'Glow'" in text and "'Odd'" in text
    assert all(f"nested Track {n!r}" in text for n in ("Warped", "Window", "Odd"))


def test_nested_transitions_and_items_outside_the_range() -> None:
    warped = otio.schema.Track(name="Warped")
    warped.extend([_clip("t1", 20, 40), otio.schema.Transition(
        name="mix", in_offset=_rt(4), out_offset=_rt(4)), _clip("t2", 20, 40)])
    warped.effects.append(otio.schema.LinearTimeWarp(time_scalar=2))
    deep = otio.schema.Stack(name="Deep")
    deep_track = otio.schema.Track()
    deep_track.append(_clip("y", 5))
    deep.append(deep_track)
    outer = otio.schema.Track(name="Outer", source_range=_range(0, 10))
    outer.extend([_clip("x", 10), deep])
    main = otio.schema.Track(name="V1")
    main.extend([warped, outer])
    main.effects.append(otio.schema.Effect(name="Tint", effect_name="Tint"))
    tl = otio.schema.Timeline(name="Deep")
    tl.tracks.append(main)
    project, warnings = project_from_otio(tl)
    invariants.check(project)
    (v1,) = project.sequence.tracks
    # 'Warped' lasts its 40 frames (OTIO times ignore effects) and plays them in the first 20
    assert _rows(v1) == [("t1", 0, 10, 40, 2), ("t2", 10, 10, 40, 2), ("x", 40, 10, 0, 1)]
    assert transition_rows(v1) == [("t1", "t2", 2, 2, "dissolve")]
    assert project.sequence.duration == round(tl.duration().value) == 50
    text = "\n".join(warnings)
    assert "nested Stack 'Deep' on nested Track 'Outer' flattened" in text
    assert "clips 'y' of nested Stack 'Deep' dropped" in text
    assert "'Tint'" in text and "track 'V1'" in text


def test_trailing_empty_space_is_kept_and_exported(tmp_path: Path) -> None:
    project = build_project(tmp_path)
    end = project.sequence.content_end
    longer = replace(project, sequence=replace(project.sequence, min_length=end + 30))
    invariants.check(longer)
    tl = project_to_otio(longer)
    assert round(tl.duration().value) == end + 30
    assert isinstance(tl.tracks[0][-1], otio.schema.Gap)  # on the first video track
    assert [round(t.duration().value) for t in tl.tracks] == [end + 30, 54, 200]
    out = tmp_path / "long.otio"
    write_timeline(longer, out)
    back, warnings = read_timeline(out)
    assert back.sequence.min_length == end + 30 and back.sequence.duration == end + 30
    assert not any("frames" in w and "hold no clip" in w for w in warnings)
    # a timeline that ends with its last clip keeps min_length 0
    write_timeline(project, tmp_path / "cut.otio")
    again, _ = read_timeline(tmp_path / "cut.otio")
    assert again.sequence.min_length == 0 and again.sequence.duration == end
    for ext in ("xml", "edl"):  # these formats end with the last clip: a warning says so
        written = write_timeline(longer, tmp_path / f"long.{ext}")
        assert any("last 30 frames hold no clip" in w for w in written)


def test_edge_transitions_offline_and_generator_media() -> None:
    track = otio.schema.Track(kind=otio.schema.TrackKind.Audio)
    track.append(otio.schema.Transition(name="fade in", in_offset=otio.opentime.RationalTime(0, 24),
                                        out_offset=otio.opentime.RationalTime(5, 24)))
    bars = _clip("bars", 10)
    bars.media_reference = otio.schema.GeneratorReference(name="Bars", generator_kind="SMPTEBars")
    track.append(bars)
    track.append(otio.schema.Gap(duration=otio.opentime.RationalTime(4, 24)))
    track.append(otio.schema.Transition(name="lonely"))
    track.append(_clip("long", 10))
    track.append(otio.schema.Transition(name="too long",
                                        in_offset=otio.opentime.RationalTime(8, 24),
                                        out_offset=otio.opentime.RationalTime(8, 24)))
    track.append(_clip("short", 6))
    tl = otio.schema.Timeline(name="Edges")
    tl.tracks.append(track)
    project, warnings = project_from_otio(tl)
    invariants.check(project)
    text = "\n".join(warnings)
    assert "'fade in'" in text and "'lonely'" in text and "'too long'" in text
    assert "SMPTEBars" in text and "offline media: long" in text
    (a1,) = project.sequence.tracks
    assert a1.kind == "audio" and a1.name == "A1"
    assert transition_rows(a1) == [("long", "short", 3, 3, "crossfade")]


# --- bad input ----------------------------------------------------------------------------------
def test_broken_json_raises_project_file_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.otio"
    path.write_text('{"OTIO_SCHEMA": "Timeline.1", "tracks": [')
    with pytest.raises(ProjectFileError, match=r"broken\.otio.*OpenTimelineIO"):
        read_timeline(path)


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProjectFileError, match=r"cut\.mp4"):
        read_timeline(tmp_path / "cut.mp4")
    with pytest.raises(ProjectFileError, match=r"cut\.aaf"):
        write_timeline(build_project(tmp_path), tmp_path / "cut.aaf")
    with pytest.raises(ProjectFileError, match=r"nothing\.edl.*CMX 3600 EDL"):
        read_timeline(tmp_path / "nothing.edl")
    assert not os.path.exists(tmp_path / "cut.aaf")


def test_relative_and_encoded_urls_and_other_rates(tmp_path: Path) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "my clip.mov").write_bytes(b"")
    track = otio.schema.Track(name="Pictures")
    rel = _clip("relative", 24)
    rel.media_reference = otio.schema.ExternalReference(
        target_url="media/my clip.mov",
        available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24),
                                                otio.opentime.RationalTime(48, 24)))
    track.append(rel)
    encoded = otio.schema.Clip(
        name="encoded", media_reference=otio.schema.ExternalReference(
            target_url=(tmp_path / "media" / "my clip.mov").as_uri()),
        # 10 frames at 25 fps last 9.6 frames at 24 fps
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(25, 25),
                                             otio.opentime.RationalTime(10, 25)))
    track.append(encoded)
    tl = otio.schema.Timeline(name="Urls", global_start_time=otio.opentime.RationalTime(0, 24))
    tl.tracks.append(track)
    path = tmp_path / "urls.otio"
    otio.adapters.write_to_file(tl, str(path))
    project, warnings = read_timeline(path)
    invariants.check(project)
    (asset,) = project.assets  # one asset per distinct file
    assert asset.path == str(tmp_path / "media" / "my clip.mov")
    assert asset.info.duration == 2
    assert not any("offline" in w for w in warnings)
    assert sum("rounded" in w for w in warnings) == 1  # once per file
    (v1,) = project.sequence.tracks
    assert [(c.name, c.position, c.duration, c.source_in) for c in v1.clips] == \
        [("relative", 0, 24, 0), ("encoded", 24, 10, 24)]
