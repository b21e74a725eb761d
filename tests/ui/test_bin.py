"""The media bin: imports as jobs landing as one undo step, drag data, badges, missing media and relink."""

from __future__ import annotations

import shutil
from fractions import Fraction

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDropEvent

from studio.core.edits import AddAsset
from studio.core.factory import new_project
from studio.core.history import History
from studio.core.media_pool import Asset, MediaInfo, Recipe
from studio.media.assets import asset_from_file
from studio.media.cache import CacheStore
from studio.media.synth import write_test_video
from studio.ui.bin import ASSET_MIME, MediaBin
from studio.ui.bin.model import BADGES_ROLE, DETAILS_ROLE, MISSING_ROLE, format_duration
from studio.ui.theme import WARNING_COLOR

WAIT = 15000


class FakePrompts:
    def __init__(self) -> None:
        self.files: list[str] = []
        self.folder = ""
        self.asked: list[str] = []

    def import_media_paths(self, start: str) -> list[str]:
        self.asked.append("import")
        return self.files

    def relink_folder(self, start: str) -> str:
        self.asked.append("relink")
        return self.folder


@pytest.fixture
def prompts() -> FakePrompts:
    return FakePrompts()


@pytest.fixture
def history() -> History:
    return History(new_project(320, 180, Fraction(25)))


@pytest.fixture
def media_bin(qtbot, history, jobs, prompts, tmp_path) -> MediaBin:
    b = MediaBin(history, jobs, prompts=prompts, store=CacheStore(tmp_path / "cache"))
    qtbot.addWidget(b)
    b.resize(360, 400)
    b.show()
    return b


@pytest.fixture
def clip_file(tmp_path):
    path = tmp_path / "media" / "shot.mp4"
    path.parent.mkdir()
    write_test_video(path, width=320, height=180, fps=25, frames=10)
    return path


def statuses(media_bin: MediaBin) -> list[str]:
    seen: list[str] = []
    media_bin.status_message.connect(seen.append)
    return seen


def test_import_by_dialog_is_one_undo_step_with_thumbnail(qtbot, media_bin, history, prompts, clip_file, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not media")
    seen = statuses(media_bin)
    prompts.files = [str(clip_file), str(bad)]
    media_bin.import_action.trigger()  # File > Import Media… runs the (fake) dialog, then a probing job
    assert prompts.asked == ["import"]
    assert history.project.assets == ()  # nothing probed on the UI thread
    qtbot.waitUntil(lambda: len(history.project.assets) == 1, timeout=WAIT)
    asset = history.project.assets[0]
    assert asset.name == "shot.mp4" and asset.info.width == 320
    assert history.undo_label == "Import media" and len(history) == 1
    index = media_bin.model.index(0)
    assert index.data(Qt.ItemDataRole.DisplayRole) == "shot.mp4"
    assert index.data(DETAILS_ROLE) == "0:00.4 · 320x180 · 25 fps · 48 kHz"
    assert index.data(BADGES_ROLE) == [] and index.data(MISSING_ROLE) is False
    qtbot.waitUntil(lambda: any("Imported 1 file" in s for s in seen), timeout=WAIT)
    assert any("1 unreadable (notes.txt:" in s for s in seen)
    qtbot.waitUntil(lambda: media_bin.thumbnails.has(asset), timeout=WAIT)  # filmstrip job's first frame
    assert not media_bin.thumbnails.pixmap(asset).isNull()

    history.undo()
    assert history.project.assets == () and media_bin.model.rowCount() == 0
    history.redo()
    assert media_bin.model.rowCount() == 1


def test_drop_files_from_the_file_manager(qtbot, media_bin, history, clip_file, tmp_path):
    other = tmp_path / "media" / "two.mp4"
    write_test_video(other, frames=5, audio=False)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(clip_file)), QUrl.fromLocalFile(str(other))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    media_bin.dropEvent(event)
    assert event.isAccepted()
    qtbot.waitUntil(lambda: len(history.project.assets) == 2, timeout=WAIT)
    assert history.undo_label == "Import 2 media files"
    history.undo()
    assert history.project.assets == ()
    history.redo()
    # Importing the same files again adds nothing.
    assert media_bin.import_files([str(clip_file)]) is None


def test_drag_out_carries_the_asset_id(media_bin, history, clip_file):
    asset = asset_from_file(clip_file)
    history.apply(AddAsset(asset))
    model = media_bin.model
    assert model.mimeTypes() == [ASSET_MIME] == ["application/x-studio-asset"]
    mime = model.mimeData([model.index(0)])
    assert bytes(mime.data(ASSET_MIME).data()).decode() == asset.id
    assert model.flags(model.index(0)) & Qt.ItemFlag.ItemIsDragEnabled
    assert model.supportedDragActions() == Qt.DropAction.CopyAction
    try:
        from studio.ui.timeline import ASSET_MIME as TIMELINE_MIME
    except ImportError:  # the timeline package is optional here
        return
    assert TIMELINE_MIME == ASSET_MIME


def test_missing_media_is_red_and_relink_fixes_it(qtbot, media_bin, history, prompts, clip_file, tmp_path):
    asset = asset_from_file(clip_file)
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.move(str(clip_file), moved / "shot.mp4")
    history.apply(AddAsset(asset))
    index = media_bin.model.index(0)
    assert index.data(MISSING_ROLE) is True
    assert index.data(Qt.ItemDataRole.ForegroundRole).color() == QColor(WARNING_COLOR)
    assert index.data(BADGES_ROLE) == ["MISSING"]
    assert "Relink" in index.data(Qt.ItemDataRole.ToolTipRole)
    assert media_bin.relink_action.isEnabled()

    prompts.folder = str(tmp_path / "moved")
    seen = statuses(media_bin)
    media_bin.view.setCurrentIndex(index)
    media_bin.relink_action.trigger()
    qtbot.waitUntil(lambda: history.project.assets[0].path == str(moved / "shot.mp4"), timeout=WAIT)
    assert history.undo_label == "Relink media"
    assert media_bin.model.index(0).data(MISSING_ROLE) is False
    assert media_bin.model.index(0).data(Qt.ItemDataRole.ForegroundRole) is None
    assert "Relinked 1 file" in seen[-1]
    history.undo()
    assert media_bin.model.index(0).data(MISSING_ROLE) is True


def test_badges_for_variable_rate_and_generated_media(media_bin, history, tmp_path):
    path = tmp_path / "gen.mp4"
    path.write_bytes(b"")
    recipe = Recipe("cogvideox", "THUDM/CogVideoX1.5-5B", "a red fox in the snow", seed=7)
    asset = Asset("gen", str(path), "gen.mp4", "video", "",
                  MediaInfo(Fraction(5), True, False, 1360, 768, Fraction(16), vfr=True), recipe)
    history.apply(AddAsset(asset))
    index = media_bin.model.index(0)
    assert index.data(BADGES_ROLE) == ["VFR", "AI"]
    tip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert "a red fox in the snow" in tip and "Variable frame rate" in tip
    assert index.data(DETAILS_ROLE) == "0:05.0 · 1360x768 · 16 fps"


def test_grid_and_list_modes_and_duration_format(media_bin):
    media_bin.set_grid(True)
    assert media_bin.view.viewMode() == media_bin.view.ViewMode.IconMode and media_bin.grid_button.isChecked()
    media_bin.set_grid(False)
    assert media_bin.view.viewMode() == media_bin.view.ViewMode.ListMode and media_bin.list_button.isChecked()
    assert format_duration(Fraction(3725)) == "1:02:05.0"
    assert format_duration(None) == ""
