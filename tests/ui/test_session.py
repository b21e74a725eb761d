"""Session pieces: recent projects and layout in QSettings (a temp file), autosave, recovery snapshots."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow

from studio.core.autosave import list_autosaves
from studio.core.factory import new_project
from studio.core.history import History
from studio.core.projectfile import save_project
from studio.ui.session import MAX_RECENT, AutosaveController, RestoreSnapshot, SessionSettings


def test_recent_projects_newest_first_without_duplicates(tmp_path):
    s = SessionSettings.at(tmp_path / "settings.ini")
    assert s.recent_projects() == []
    s.add_recent(tmp_path / "a.studio")
    s.add_recent(tmp_path / "b.studio")
    s.add_recent(tmp_path / "a.studio")
    assert s.recent_projects() == [str(tmp_path / "a.studio"), str(tmp_path / "b.studio")]
    for i in range(MAX_RECENT + 3):
        s.add_recent(tmp_path / f"p{i}.studio")
    assert len(s.recent_projects()) == MAX_RECENT
    s.sync()
    again = SessionSettings.at(tmp_path / "settings.ini")  # persisted
    assert again.recent_projects()[0] == str(tmp_path / f"p{MAX_RECENT + 2}.studio")
    again.remove_recent(again.recent_projects()[0])
    assert len(again.recent_projects()) == MAX_RECENT - 1
    again.clear_recent()
    assert again.recent_projects() == []


def test_a_single_recent_entry_reads_back_as_a_list(tmp_path):
    s = SessionSettings.at(tmp_path / "settings.ini")
    s.add_recent(tmp_path / "only.studio")
    s.sync()
    assert SessionSettings.at(tmp_path / "settings.ini").recent_projects() == [str(tmp_path / "only.studio")]


def test_window_geometry_and_dock_layout_round_trip(qtbot, tmp_path):
    def window() -> tuple[QMainWindow, QDockWidget]:
        w = QMainWindow()
        qtbot.addWidget(w)
        w.setCentralWidget(QLabel("centre"))
        dock = QDockWidget("Dock", w)
        dock.setObjectName("dock")
        dock.setWidget(QLabel("x"))
        w.addDockWidget(QtArea.LeftDockWidgetArea, dock)
        return w, dock

    from PySide6.QtCore import Qt
    QtArea = Qt.DockWidgetArea  # noqa: N806
    s = SessionSettings.at(tmp_path / "settings.ini")
    w, dock = window()
    assert not s.restore_window(w)  # nothing stored yet
    w.resize(700, 450)  # inside the offscreen screen (800x600): restoreGeometry clamps to it
    w.show()
    w.addDockWidget(QtArea.RightDockWidgetArea, dock)
    s.save_window(w)
    w2, dock2 = window()
    assert s.restore_window(w2)
    assert w2.dockWidgetArea(dock2) == QtArea.RightDockWidgetArea
    assert w2.size() == w.size()


def test_autosave_controller_writes_beside_the_project(qapp, tmp_path):
    h = History(new_project(name="A"))
    path = tmp_path / "a.studio"
    save_project(h.project, path)
    c = AutosaveController(lambda: h.project, interval=3600)
    assert c.save_now() is None  # no path yet
    c.set_path(path)
    assert c.path == str(path)
    assert c.save_now() is None  # unchanged since set_path
    h.apply(RestoreSnapshot(replace(h.project, name="B"), label="Rename"))
    written = c.save_now()
    assert written is not None and [a.path for a in list_autosaves(path)] == [written]
    c.set_path(None)
    assert c.autosaver is None and c.save_now() is None


def test_restore_snapshot_is_one_undo_step():
    h = History(new_project(name="Saved"))
    recovered = replace(h.project, name="Recovered")
    h.apply(RestoreSnapshot(recovered))
    assert h.project.name == "Recovered" and h.undo_label == "Recover autosave" and h.dirty
    h.undo()
    assert h.project.name == "Saved" and not h.dirty
