"""The compositor: timeline semantics read back through frame counters, fast paths, colour."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
from av.video.reformatter import ColorRange, Colorspace

from studio.core.keyframes import Keyframe
from studio.core.media_pool import Asset, MediaInfo
from studio.core.project import Project, ProjectSettings
from studio.core.timeline import Clip, Sequence, Track, Transform, Transition
from studio.media import synth
from studio.media.source_pool import SourcePool
from studio.render import colour as col
from studio.render.compositor import PLACEHOLDER_RGB, Compositor

FPS = Fraction(25)
W, H = 160, 90
RED = (200, 40, 90)


# --------------------------------------------------------------------------- media and projects
def write_video(path, *, frames=40, width=W, height=H, fps=FPS, matrix=None, full_range=False, keyint=8,
                solid=None) -> str:
    """Counter video (or one ``solid`` colour), written with ``matrix`` and tagged with it if given."""
    path = str(path)
    rng = ColorRange.JPEG if full_range else ColorRange.MPEG
    with av.open(path, "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuvj420p" if full_range else "yuv420p"
        stream.codec_context.time_base = 1 / fps
        if matrix is not None:
            stream.codec_context.colorspace = 1 if matrix == Colorspace.ITU709 else 6
            stream.codec_context.color_range = int(rng)
        stream.options = {"preset": "ultrafast", "crf": "0" if solid else "16",
                          "x264-params": f"keyint={keyint}:scenecut=0"}
        use = matrix if matrix is not None else col.default_matrix(width, height)
        for i in range(frames):
            rgb = np.empty((height, width, 3), np.uint8)
            rgb[:] = solid if solid else 0
            if not solid:
                rgb = synth.draw_frame(i, width, height, frames)
            frame = av.VideoFrame.from_ndarray(rgb, "rgb24").reformat(
                format=stream.pix_fmt, dst_colorspace=use, dst_color_range=rng)
            frame.pts = i
            frame.time_base = 1 / fps
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def asset(path, aid="A", frames=40, width=W, height=H, still=False) -> Asset:
    info = MediaInfo(duration=None if still else Fraction(frames) / FPS, has_video=True, width=width, height=height,
                     fps=None if still else FPS, is_still=still)
    return Asset(aid, str(path), aid, "image" if still else "video", info=info)


def project(tracks, assets, width=W, height=H) -> Project:
    return Project(ProjectSettings(width, height, FPS), assets=tuple(assets), sequence=Sequence(tuple(tracks)))


def vtrack(tid, *clips, transitions=(), enabled=True) -> Track:
    return Track(tid, "video", tid, enabled=enabled, clips=tuple(clips), transitions=tuple(transitions))


def rgb_of(frame) -> np.ndarray:
    return col.to_rgb(frame)


def count(frame) -> int:
    return synth.read_frame_counter(rgb_of(frame))


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("comp")
    return {
        "hd": write_video(d / "tagged709.mp4", matrix=Colorspace.ITU709),  # pass-through eligible
        "sd": write_video(d / "untagged.mp4"),  # untagged SD: read as BT.601
        "43": write_video(d / "four_three.mp4", width=120, height=90, frames=10),
        "red601": write_video(d / "red601.mp4", width=64, height=48, frames=2, matrix=Colorspace.ITU601, solid=RED),
        "red709": write_video(d / "red709.mp4", width=64, height=48, frames=2, matrix=Colorspace.ITU709, solid=RED),
        "redfull": write_video(d / "redfull.mp4", width=64, height=48, frames=2, matrix=Colorspace.ITU709,
                               full_range=True, solid=RED),
        "red_untagged_sd": write_video(d / "redsd.mp4", width=64, height=48, frames=2, solid=RED),
    }


@pytest.fixture()
def pool():
    p = SourcePool(max_open=8, cache_bytes=64 << 20)
    yield p
    p.close()


def single(media_path, pool, **clip_kw):
    clip = Clip("c", "A", **{"position": 0, "duration": 20, **clip_kw})
    proj = project([vtrack("V1", clip)], [asset(media_path)])
    return Compositor(proj, pool), clip


# --------------------------------------------------------------------------- timeline semantics
@pytest.mark.parametrize("speed, source_in, expected", [
    (Fraction(1), Fraction(0), lambda n: n),
    (Fraction(1), Fraction(7), lambda n: 7 + n),
    (Fraction(2), Fraction(3), lambda n: 3 + 2 * n),
    (Fraction(1, 2), Fraction(4), lambda n: 4 + n // 2),
    (Fraction(-1), Fraction(5), lambda n: 5 + 16 - 1 - n),
    (Fraction(-2), Fraction(0), lambda n: 32 - 2 * (n + 1)),
])
@pytest.mark.parametrize("which", ["hd", "sd"])
def test_frame_counters_follow_speed_reverse_and_source_in(media, pool, speed, source_in, expected, which):
    comp, _clip = single(media[which], pool, duration=16, source_in=source_in, speed=speed)
    for n in list(range(16)) + [9, 2, 15, 0]:
        assert count(comp.frame(n)) == expected(n), f"frame {n}"


def test_clip_position_and_empty_canvas_is_black(media, pool):
    clip = Clip("c", "A", position=10, duration=5, source_in=Fraction(20))
    comp = Compositor(project([vtrack("V1", clip)], [asset(media["hd"])]), pool)
    assert count(comp.frame(12)) == 22
    for n in (0, 9, 15, 100):
        black = rgb_of(comp.frame(n))
        assert black.shape == (H, W, 3) and black.max() <= 3
    assert comp.frame(0).format.name == "yuv420p"


def test_still_image_shows_its_frame(tmp_path, pool):
    png = tmp_path / "still.png"
    synth.write_test_image(png, W, H)
    clip = Clip("c", "A", position=0, duration=50)
    comp = Compositor(project([vtrack("V1", clip)], [asset(png, still=True)]), pool)
    for n in (0, 17, 49):
        assert count(comp.frame(n)) == 0


# --------------------------------------------------------------------------- pass-through
def test_pass_through_returns_the_decoded_frame_itself(media, pool):
    comp, _ = single(media["hd"], pool, source_in=Fraction(3))
    assert comp.passthrough(5)
    out = comp.frame(5)
    decoded = pool.video(media["hd"]).frame_at(Fraction(8, 25))  # from the shared frame cache
    assert out is decoded
    assert count(out) == 8


def test_no_pass_through_when_not_identity(media, pool):
    comp, _ = single(media["hd"], pool, opacity=0.5)
    assert not comp.passthrough(5)
    out = comp.frame(5)
    assert out is not pool.video(media["hd"]).frame_at(Fraction(5, 25))
    comp, _ = single(media["hd"], pool, transform=Transform(x=2))
    assert not comp.passthrough(5)
    comp, _ = single(media["sd"], pool)  # BT.601 source into BT.709 output: converted
    assert not comp.passthrough(5)
    assert count(comp.frame(5)) == 5


# --------------------------------------------------------------------------- geometry
def _columns_lit(rgb, threshold=10):
    return np.nonzero(rgb.reshape(-1, rgb.shape[1], 3).mean(axis=(0, 2)) > threshold)[0]


def test_letterbox_four_three_on_sixteen_nine(media, pool):
    clip = Clip("c", "A", position=0, duration=10)
    comp = Compositor(project([vtrack("V1", clip)], [asset(media["43"], width=120, height=90)],
                              width=320, height=180), pool)
    rgb = rgb_of(comp.frame(3))
    lit = _columns_lit(rgb)
    assert lit[0] == 40 and lit[-1] == 279  # 120x90 fitted to 240x180: 40-pixel pillars
    # (one column either side may pick up chroma bleed from 4:2:0 upsampling when read back)
    assert rgb[:, :39].max() <= 4 and rgb[:, 281:].max() <= 4
    assert synth.read_frame_counter(rgb[:, 40:280]) == 3


def test_scale_offset_rotation_crop(media, pool):
    def lit_box(rgb):
        mask = rgb.mean(axis=2) > 10
        ys, xs = np.nonzero(mask)
        return xs.min(), ys.min(), xs.max(), ys.max()

    comp, _ = single(media["hd"], pool, transform=Transform(scale=0.5, x=20, y=-10))
    x0, y0, x1, y1 = lit_box(rgb_of(comp.frame(0)))
    # 80x45 centred on (100, 35): x 60..139, y 12.5..57.5 (edges may bleed a pixel when read back)
    assert abs(x0 - 60) <= 1 and abs(x1 - 139) <= 1 and abs(y0 - 13) <= 1 and abs(y1 - 57) <= 1
    comp, _ = single(media["hd"], pool, transform=Transform(scale=0.5, rotation=90))
    x0, y0, x1, y1 = lit_box(rgb_of(comp.frame(0)))
    assert abs((x1 - x0 + 1) - 45) <= 2 and abs((y1 - y0 + 1) - 80) <= 2
    assert abs((x0 + x1) / 2 - 79.5) <= 1 and abs((y0 + y1) / 2 - 44.5) <= 1
    comp, _ = single(media["hd"], pool, transform=Transform(crop_left=0.5))
    x0, _, x1, _ = lit_box(rgb_of(comp.frame(0)))
    assert abs(x0 - 80) <= 1 and x1 == W - 1


def test_keyframed_opacity_and_fades(media, pool):
    keys = (Keyframe(0, 0.0), Keyframe(10, 1.0))
    clip = Clip("c", "A", position=0, duration=20).with_curve("opacity", keys)
    comp = Compositor(project([vtrack("V1", clip)], [asset(media["hd"])]), pool)
    full = rgb_of(comp.frame(10)).astype(int)
    assert rgb_of(comp.frame(0)).max() <= 3
    half = rgb_of(comp.frame(5)).astype(int)
    ref = rgb_of(pool.video(media["hd"]).frame_at(Fraction(5, 25))).astype(int)
    assert np.abs(half - ref // 2).mean() < 2.5
    assert full.max() > 200
    faded = Compositor(project([vtrack("V1", Clip("c", "A", position=0, duration=20, fade_out=4))],
                               [asset(media["hd"])]), pool)
    assert rgb_of(faded.frame(19)).max() <= 3 and not faded.passthrough(17) and faded.passthrough(15)


# --------------------------------------------------------------------------- transitions
def _dissolve_project(path, before=4, after=4):
    a = Clip("a", "A", position=0, duration=20, source_in=Fraction(0))
    b = Clip("b", "A", position=20, duration=15, source_in=Fraction(10))
    tr = Transition("t", "a", "b", before, after)
    return project([vtrack("V1", a, b, transitions=[tr])], [asset(path)])


def _planes(frame):
    return [np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width].astype(int) for p in frame.planes]


def test_dissolve_midway_is_the_average_in_yuv(media, pool):
    comp = Compositor(_dissolve_project(media["hd"]), pool)
    src = pool.video(media["hd"], slot="check")
    fa = _planes(src.frame_at(Fraction(20, 25)))  # a's handle past its end: source frame 20
    fb = _planes(src.frame_at(Fraction(10, 25)))  # b at its first frame: source frame 10
    out = comp.frame(20)
    assert not comp.passthrough(20) and comp.stats["dissolve"] == 1
    for pa, pb, po in zip(fa, fb, _planes(out), strict=True):
        assert np.abs(po - (pa + pb) / 2).max() <= 1
    assert count(comp.frame(16)) == 16  # first frame of the dissolve: all a
    assert count(comp.frame(24)) == 14  # after it: all b
    assert comp.passthrough(24) and comp.passthrough(15)


def test_dissolve_weights_are_linear_in_rgb_path(media, pool):
    comp = Compositor(_dissolve_project(media["sd"], before=2, after=6), pool)
    src = pool.video(media["sd"], slot="check")
    for n, p in ((18, 0.0), (19, 1 / 8), (20, 2 / 8), (23, 5 / 8)):
        a = rgb_of(src.frame_at(Fraction(n, 25))).astype(float)
        b = rgb_of(src.frame_at(Fraction(10 + n - 20, 25) if n >= 20 else Fraction(10, 25))).astype(float)
        out = rgb_of(comp.frame(n)).astype(float)
        assert np.abs(out - ((1 - p) * a + p * b)).mean() < 2.0, n


def test_dissolve_handles_hold_edge_frames_without_media(media, pool):
    # b starts at source frame 0: the 4 frames before the cut have no handle -> hold frame 0
    a = Clip("a", "A", position=0, duration=36, source_in=Fraction(4))  # a ends at source 40 = media end
    b = Clip("b", "A", position=36, duration=10, source_in=Fraction(0))
    tr = Transition("t", "a", "b", 4, 4)
    comp = Compositor(project([vtrack("V1", a, b, transitions=[tr])], [asset(media["hd"])]), pool)
    src = pool.video(media["hd"], slot="check")
    fa = _planes(src.frame_at(Fraction(39, 25)))  # a past its end: held last frame
    fb = _planes(src.frame_at(Fraction(0)))
    out = _planes(comp.frame(36))
    for pa, pb, po in zip(fa, fb, out, strict=True):
        assert np.abs(po - (pa + pb) / 2).max() <= 1


# --------------------------------------------------------------------------- stacking
def test_opaque_top_covers_half_opacity_blends_hidden_ignored(media, pool):
    bottom = Clip("lo", "A", position=0, duration=20, source_in=Fraction(0))
    top = Clip("hi", "B", position=0, duration=20, source_in=Fraction(20))
    assets = [asset(media["hd"], "A"), asset(media["sd"], "B")]
    comp = Compositor(project([vtrack("V1", bottom), vtrack("V2", top)], assets), pool)
    assert count(comp.frame(3)) == 23

    half = Compositor(project([vtrack("V1", bottom), vtrack("V2", Clip("hi", "B", position=0, duration=20,
                                                                        source_in=Fraction(20), opacity=0.5))],
                              assets), pool)
    lo = rgb_of(pool.video(media["hd"], slot="x").frame_at(Fraction(3, 25))).astype(float)
    hi = rgb_of(pool.video(media["sd"], slot="x").frame_at(Fraction(23, 25))).astype(float)
    out = rgb_of(half.frame(3)).astype(float)
    assert np.abs(out - (lo + hi) / 2).mean() < 2.0

    hidden = Compositor(project([vtrack("V1", bottom), vtrack("V2", top, enabled=False)], assets), pool)
    assert count(hidden.frame(3)) == 3 and hidden.passthrough(3)
    disabled = Compositor(project([vtrack("V1", bottom), vtrack("V2", Clip("hi", "B", position=0, duration=20,
                                                                            enabled=False))], assets), pool)
    assert count(disabled.frame(3)) == 3


def test_offline_media_is_a_placeholder(tmp_path, pool):
    missing = Clip("c", "A", position=0, duration=5)
    comp = Compositor(project([vtrack("V1", missing)], [asset(tmp_path / "gone.mp4")]), pool)
    rgb = rgb_of(comp.frame(2))
    assert np.abs(rgb.reshape(-1, 3).mean(axis=0) - PLACEHOLDER_RGB).max() < 6
    no_asset = Compositor(project([vtrack("V1", Clip("c", "nope", position=0, duration=5))], []), pool)
    assert np.abs(rgb_of(no_asset.frame(0)).reshape(-1, 3).mean(axis=0) - PLACEHOLDER_RGB).max() < 6


# --------------------------------------------------------------------------- colour
@pytest.mark.parametrize("which", ["red601", "red709", "redfull", "red_untagged_sd"])
def test_colour_matrices_and_ranges_decode_to_the_right_rgb(media, pool, which):
    frame = pool.video(media[which]).frame_at(0)
    rgb = col.to_rgb(frame)[10:30, 10:50].reshape(-1, 3).mean(axis=0)
    assert np.abs(rgb - RED).max() <= 4, rgb
    # through the compositor onto an HD canvas (BT.709 output, scaled 3x)
    clip = Clip("c", "A", position=0, duration=2)
    comp = Compositor(project([vtrack("V1", clip)], [asset(media[which], width=64, height=48)],
                              width=1280, height=720), pool)
    out = comp.frame(0)
    assert col.frame_colour(out) == col.Colour(Colorspace.ITU709, ColorRange.MPEG)
    centre = out.reformat(format="rgb24", src_colorspace=Colorspace.ITU709, src_color_range=ColorRange.MPEG,
                          dst_color_range=ColorRange.JPEG).to_ndarray()[300:420, 560:720]
    assert np.abs(centre.reshape(-1, 3).mean(axis=0) - RED).max() <= 5


def test_wrong_matrix_would_be_visible(media, pool):
    """Guard for the test above: reading BT.601 data as BT.709 is far off."""
    frame = pool.video(media["red601"]).frame_at(0)
    wrong = col.to_rgb(frame, src=col.Colour(Colorspace.ITU709, ColorRange.MPEG)).reshape(-1, 3).mean(axis=0)
    assert np.abs(wrong - RED).max() > 10


# --------------------------------------------------------------------------- alpha, crop, path agreement
@pytest.fixture(scope="module")
def logo(tmp_path_factory):
    """An RGBA still: left third opaque red, middle third half transparent, right third clear."""
    import cv2

    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[..., :3] = RED
    rgba[:, : W // 3, 3] = 255
    rgba[:, W // 3: 2 * W // 3, 3] = 128
    path = tmp_path_factory.mktemp("logo") / "logo.png"
    cv2.imwrite(str(path), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    return str(path)


def test_alpha_still_over_video(media, pool, logo):
    bottom = Clip("lo", "A", position=0, duration=10)
    top = Clip("hi", "L", position=0, duration=10)
    comp = Compositor(project([vtrack("V1", bottom), vtrack("V2", top)],
                              [asset(media["hd"], "A"), asset(logo, "L", still=True)]), pool)
    out = rgb_of(comp.frame(4)).astype(float)
    under = rgb_of(pool.video(media["hd"], slot="x").frame_at(Fraction(4, 25))).astype(float)
    third = W // 3
    assert np.abs(out[:, 4: third - 4].reshape(-1, 3).mean(axis=0) - RED).max() < 4
    half = (np.array(RED) + under[:, third + 4: 2 * third - 4]) / 2
    assert np.abs(out[:, third + 4: 2 * third - 4] - half).mean() < 3
    assert np.abs(out[:, 2 * third + 4:] - under[:, 2 * third + 4:]).mean() < 2
    assert comp.stats["yuv"] == 1


def _agree(comp, n, tolerance=2.5):
    """The YUV stacking path and the RGB path draw the same picture."""
    before = dict(comp.stats)
    fast = rgb_of(comp.frame(n)).astype(float)
    assert comp.stats["yuv"] == before["yuv"] + 1, comp.stats
    slow = rgb_of(comp._general(comp._plan(n), {})).astype(float)
    assert np.abs(fast - slow).mean() < tolerance
    return fast


@pytest.mark.parametrize("transform", [
    Transform(scale=0.4, x=21, y=-10),  # odd offset: chroma lands half a chroma sample off
    Transform(scale=0.8, crop_left=0.25, crop_top=0.1, crop_bottom=0.2),
    Transform(scale=1.6, x=-30),  # partly off the canvas
])
def test_yuv_and_rgb_paths_agree(media, pool, logo, transform):
    bottom = Clip("lo", "A", position=0, duration=10)
    top = Clip("hi", "B", position=0, duration=10, source_in=Fraction(20), transform=transform, opacity=0.75)
    stamp = Clip("st", "L", position=0, duration=10, transform=Transform(scale=0.4, x=40, y=20))
    assets = [asset(media["hd"], "A"), asset(media["sd"], "B"), asset(logo, "L", still=True)]
    comp = Compositor(project([vtrack("V1", bottom), vtrack("V2", top), vtrack("V3", stamp)], assets), pool)
    _agree(comp, 3)


def test_crop_hides_the_cropped_edges(media, pool):
    comp, _ = single(media["hd"], pool, transform=Transform(crop_left=0.25, crop_bottom=0.5))
    rgb = rgb_of(comp.frame(2))
    assert rgb[:, : W // 4 - 1].max() <= 4 and rgb[H // 2 + 1:].max() <= 4
    assert rgb[: H // 2 - 1, W // 4 + 1:].mean() > 15


def test_dissolve_under_a_picture_in_picture(media, pool):
    pip = Clip("pip", "A", position=0, duration=40, transform=Transform(scale=0.25, x=40, y=-20))
    proj = _dissolve_project(media["hd"])
    proj = project([*proj.sequence.tracks, vtrack("V2", pip)], proj.assets)
    comp = Compositor(proj, pool)
    _agree(comp, 20)


def test_display_rotation_is_applied_like_ffmpeg(tmp_path, pool):
    path = synth.write_test_video(tmp_path / "rot.mp4", width=W, height=H, frames=3, audio=False, rotation=90).path
    clip = Clip("c", "A", position=0, duration=3)
    comp = Compositor(project([vtrack("V1", clip)], [asset(path)], width=H, height=W), pool)  # portrait canvas
    assert not comp.passthrough(0)
    rgb = rgb_of(comp.frame(0))
    upright = np.rot90(synth.draw_frame(0, W, H, 3))  # 90 degrees counter-clockwise, as ffmpeg shows it
    assert rgb.shape == upright.shape and np.abs(rgb.astype(int) - upright).mean() < 6
    assert np.abs(rgb.astype(int) - np.rot90(upright, 2)).mean() > 15


def test_compositor_without_pool_owns_one(media):
    with Compositor(project([vtrack("V1", Clip("c", "A", position=0, duration=5))], [asset(media["hd"])])) as comp:
        assert count(comp.frame(4)) == 4
    assert len(comp.pool) == 0
