"""The inspector: the selected clip's takes, parameters and keyframes, and the project settings."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QScrollArea, QTabWidget, QWidget

from studio.core.history import History

from .clip_panel import ClipPanel
from .params import PARAMS, ParamRow, ParamSpec
from .settings_panel import ProjectSettingsPanel
from .takes import TakesBox


class Inspector(QTabWidget):
    """Tabs "Clip" and "Project". Feed it ``set_selection(clip_ids)`` and ``set_playhead(frame)``;
    it asks for playhead moves with ``playhead_requested`` and reports with ``status_message``."""

    playhead_requested = Signal(int)
    status_message = Signal(str)

    def __init__(self, history: History, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.clip_panel = ClipPanel(history, self)
        self.settings_panel = ProjectSettingsPanel(history, self)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.clip_panel)
        self.addTab(scroll, "Clip")
        self.addTab(self.settings_panel, "Project")
        self.clip_panel.playhead_requested.connect(self.playhead_requested)
        self.clip_panel.status_message.connect(self.status_message)
        self.settings_panel.status_message.connect(self.status_message)

    def set_selection(self, clip_ids: list[str]) -> None:
        self.clip_panel.set_clip(clip_ids[0] if clip_ids else None)

    def set_playhead(self, frame: int) -> None:
        self.clip_panel.set_playhead(frame)


__all__ = ["PARAMS", "ClipPanel", "Inspector", "ParamRow", "ParamSpec", "ProjectSettingsPanel", "TakesBox"]
