"""Filmstrip thumbnails in video clips and waveforms in audio clips, from real synthetic media."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from studio.core.edits import AddAsset, InsertClips
from studio.core.factory import clip_for_asset, new_project
from studio.core.history import History
from studio.media.assets import asset_from_file
from studio.media.cache import CacheStore
from studio.media.synth import write_test_video

FPS = Fraction(25)
PPF = 8.0


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("previews")
    synth = write_test_video(folder / "clip.mp4", width=320, height=180, fps=FPS, frames=75, audio=True)
    return synth, asset_from_file(synth.path, "clip")


@pytest.fixture
def jobs(qtbot):
    from studio.ui.jobs_adapter import JobsAdapter

    adapter = JobsAdapter()  # owns its scheduler: shutdown() joins the workers
    submitted: list[str] = []
    submit = adapter.submit

    def spy(job, **kwargs):
        submitted.append(job.name)
        return submit(job, **kwargs)

    adapter.submit = spy
    adapter.submitted = submitted
    yield adapter
    adapter.shutdown()


def build(media) -> History:
    """V1: the clip twice (0-75, 100-150 from source frame 25). A1: its audio at 0-75 and 100-175."""
    _synth, asset = media
    history = History(new_project(320, 180, FPS, name="Previews"))
    history.apply(AddAsset(asset))
    v1, a1 = (t.id for t in history.project.sequence.tracks)
    history.apply(InsertClips([(v1, clip_for_asset(asset, FPS, 0, clip_id="v-a")),
                               (a1, clip_for_asset(asset, FPS, 0, clip_id="a-a"))]))
    history.apply(InsertClips([(v1, clip_for_asset(asset, FPS, 100, source_in=25, duration=50, clip_id="v-b")),
                               (a1, clip_for_asset(asset, FPS, 100, clip_id="a-b"))]))
    return history


def make_view(qtbot, history, previews=None):
    from studio.ui.timeline import TimelineView

    view = TimelineView(history, previews=previews)
    qtbot.addWidget(view)
    view.resize(1700, 300)
    view.set_zoom(PPF)
    view.horizontalScrollBar().setValue(0)
    view.show()
    qtbot.waitExposed(view)
    return view


def grab(view) -> np.ndarray:
    """The viewport as an RGB array (rows, columns, 3)."""
    from PySide6.QtGui import QImage

    image = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * h)
    return data.reshape(h, image.bytesPerLine())[:, :w * 3].reshape(h, w, 3).copy()


def clip_area(view, pixels: np.ndarray, clip_id: str) -> np.ndarray:
    """Pixels of a clip's body below its name (a few pixels in from the border)."""
    from PySide6.QtCore import QPointF

    history = view.history
    track = next(t for t in history.project.sequence.tracks if t.clip(clip_id) is not None)
    clip = track.clip(clip_id)
    row = view.timeline_layout().by_id[track.id]
    p0 = view.mapFromScene(QPointF(clip.position * PPF, row.top))
    p1 = view.mapFromScene(QPointF(clip.end * PPF, row.bottom))
    return pixels[p0.y() + 18:p1.y() - 5, p0.x() + 4:p1.x() - 4]


def yellow(a: np.ndarray) -> np.ndarray:
    return (a[..., 0] > 180) & (a[..., 1] > 180) & (a[..., 2] < 110)


def white(a: np.ndarray) -> np.ndarray:
    return (a > 200).all(axis=-1)


def wave(a: np.ndarray) -> np.ndarray:
    """The waveform's light green (the clip body is a darker green)."""
    return (a[..., 1] > 200) & (a[..., 0] > 120) & (a[..., 2] > 140)


def wait_previews(qtbot, view, previews) -> None:
    qtbot.waitUntil(lambda: previews.pending() == 0 and bool(previews._strips) and bool(previews._peaks), timeout=15000)
    qtbot.wait(50)
    view.viewport().repaint()


def test_clips_show_filmstrip_and_waveform(qtbot, media, jobs, tmp_path):
    from studio.ui.timeline.previews import MediaPreviews

    synth, asset = media
    store = CacheStore(tmp_path / "cache")
    plain_view = make_view(qtbot, build(media))
    plain = grab(plain_view)
    previews = MediaPreviews(store, jobs)
    arrived: list[str] = []
    previews.ready.connect(arrived.append)
    view = make_view(qtbot, build(media), previews)
    wait_previews(qtbot, view, previews)
    shot = grab(view)

    # two clips of one asset on each track: one filmstrip job and one waveform job, no more
    assert sorted(n.split(":")[0] for n in jobs.submitted) == ["filmstrip", "waveform"]
    assert set(arrived) == {"clip"}

    # video: the flat clip colour became pictures (the synth ball and its yellow counter blocks)
    before, after = clip_area(plain_view, plain, "v-a"), clip_area(view, shot, "v-a")
    assert not yellow(before).any() and not white(before).any()
    assert len(np.unique(before.reshape(-1, 3), axis=0)) < 8
    assert yellow(after).sum() > 50 and white(after).sum() > 50
    assert len(np.unique(after.reshape(-1, 3), axis=0)) > 50
    assert yellow(clip_area(view, shot, "v-b")).sum() > 50  # source frames 25.. show counters too

    # audio: waveform colour everywhere along the clip, tall around the beeps, flat in between
    before, after = clip_area(plain_view, plain, "a-a"), clip_area(view, shot, "a-a")
    assert not wave(before).any()
    per_column = wave(after).sum(axis=0)
    assert per_column.max() > after.shape[0] * 0.5
    beeps = [round(f * PPF) for f in synth.beep_frames]
    left = 4  # clip_area starts 4 px into the clip
    at_beeps = [per_column[max(0, b - left):b - left + round(PPF)].max() for b in beeps]
    quiet = per_column[beeps[0] - left + 4 * round(PPF):beeps[1] - left - 4 * round(PPF)]
    assert min(at_beeps) > 4 * max(1, quiet.max())
    assert quiet.max() <= 4  # silence: a thin line


def test_zoomed_in_long_clip_draws_visible_part(qtbot, media, jobs, tmp_path):
    from studio.ui.timeline.previews import MediaPreviews

    previews = MediaPreviews(CacheStore(tmp_path / "cache"), jobs)
    view = make_view(qtbot, build(media), previews)
    wait_previews(qtbot, view, previews)
    view.set_zoom(60.0)
    view.horizontalScrollBar().setValue(round(24 * 60.0) - 100)  # the first beep near the left
    view.viewport().repaint()
    shot = grab(view)
    row = view.timeline_layout().rows[1]
    band = shot[int(row.top) + 20:int(row.bottom) - 6]
    assert wave(band).sum(axis=0).max() > band.shape[0] * 0.5
    assert len(jobs.submitted) == 2


def test_without_previews_clips_stay_plain(qtbot, media, jobs):
    view = make_view(qtbot, build(media))
    assert view.previews is None
    shot = grab(view)
    assert not yellow(clip_area(view, shot, "v-a")).any()
    assert jobs.submitted == []
    view.select(["v-a"])
    view.zoom_by(1.5)
    assert view.selected_clip_ids() == ["v-a"]


def test_failed_media_is_not_retried(qtbot, tmp_path, jobs):
    from studio.core.media_pool import Asset, MediaInfo
    from studio.ui.timeline.previews import MediaPreviews

    previews = MediaPreviews(CacheStore(tmp_path / "cache"), jobs)
    gone = Asset("gone", str(tmp_path / "gone.mp4"), "gone.mp4", "av",
                 info=MediaInfo(Fraction(3), True, True, 320, 180, FPS, sample_rate=48000, channels=2))
    assert previews.filmstrip(gone) is None and previews.peaks(gone) is None
    assert previews.filmstrip(gone) is None  # still pending: no second job
    qtbot.waitUntil(lambda: previews.pending() == 0, timeout=10000)
    assert previews.filmstrip(gone) is None and previews.peaks(gone) is None
    assert len(jobs.submitted) == 2
    previews.retry_failed()
    previews.filmstrip(gone)
    assert len(jobs.submitted) == 3
