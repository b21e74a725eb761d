"""`studio demo [-o DIR]`: a small project with synthetic media, made on the spot.

A moving test pattern, a ball bouncing with audible impacts and colour bars with a tone,
joined by dissolves, plus a logo overlay and a music bed: nothing to download."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from studio.core.edits import (
    AddAsset,
    AddMarker,
    AddTrack,
    AddTransition,
    InsertClips,
    OverwriteClip,
    SetClipProperty,
)
from studio.core.factory import clip_for_asset, new_project
from studio.core.history import History
from studio.core.ids import new_id
from studio.core.projectfile import save_project
from studio.media.assets import asset_from_file
from studio.media.synth import write_test_audio, write_test_image, write_test_video
from studio.media.synth_scenes import write_bouncing_ball, write_colour_bars

from .errors import UsageError

FPS = Fraction(25)


def make_demo(folder: Path) -> Path:
    media = folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    shots = [media / "pattern.mp4", media / "ball.mp4", media / "bars.mp4"]
    write_test_video(shots[0], width=640, height=360, fps=FPS, frames=100)  # moving test pattern
    write_bouncing_ball(shots[1], fps=FPS, frames=100)  # audible impacts at known frames
    write_colour_bars(shots[2], fps=FPS, frames=100)  # bars and a -20 dBFS tone
    write_test_audio(media / "music.wav", seconds=12, freq=220.0)
    write_test_image(media / "logo.png", 320, 180)

    history = History(new_project(1280, 720, FPS, name="Demo"))
    p = history.project
    v1, a1 = p.sequence.tracks[0].id, p.sequence.tracks[1].id
    with history.transaction("Build demo"):
        add_v2, add_a2 = AddTrack("video"), AddTrack("audio")
        history.apply(add_v2)
        history.apply(add_a2)
        assets = [asset_from_file(f) for f in (*shots, media / "music.wav", media / "logo.png")]
        for a in assets:
            history.apply(AddAsset(a))
        position = 0
        pairs = []
        for a in assets[:3]:
            link = new_id("link")
            v = clip_for_asset(a, FPS, position, link=link)
            au = clip_for_asset(a, FPS, position, link=link)
            history.apply(InsertClips([(v1, v), (a1, au)]))
            pairs.append((v, au))
            position += v.duration
        for v, au in pairs[:2]:  # dissolves (and audio crossfades) join the three shots
            history.apply(AddTransition(v.id, 24))
            history.apply(AddTransition(au.id, 24))
        music = clip_for_asset(assets[3], FPS, 0, duration=position)
        history.apply(OverwriteClip(add_a2.track_id, music))
        history.apply(SetClipProperty(music.id, "gain_db", -18.0))
        logo = clip_for_asset(assets[4], FPS, 25, duration=100)
        history.apply(OverwriteClip(add_v2.track_id, logo))
        # a corner bug: a quarter-size, slightly transparent picture-in-picture over the shots
        for name, value in (("scale", 0.25), ("x", 440.0), ("y", -240.0), ("opacity", 0.85)):
            history.apply(SetClipProperty(logo.id, name, value))
        history.apply(AddMarker(100, "ball"))
        history.apply(AddMarker(137, "impact", color="orange"))
        history.apply(AddMarker(200, "bars", color="blue"))
    project_path = folder / "demo.studio"
    save_project(history.project, project_path)
    return project_path


def cmd_demo(args) -> int:
    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder")
    if (folder / "demo.studio").exists():
        raise UsageError(f"{folder / 'demo.studio'} already exists; choose another folder with -o")
    preset = None
    if not args.no_render:
        from studio.render.presets import load_preset

        preset = load_preset(args.preset).validate()  # a bad preset fails before any work
    path = make_demo(folder)
    print(f"created {path}")
    if preset is not None:
        from studio.core.projectfile import load_project

        from .render_cmd import run_export

        project = load_project(path)
        out = folder / f"demo-{preset.slug}{preset.extension}"
        result = run_export(project, out, preset, (0, project.sequence.duration))
        print(f"rendered {result.path} ({preset.name}, {result.frames} frames in {result.seconds:.1f} s)")
    return 0
