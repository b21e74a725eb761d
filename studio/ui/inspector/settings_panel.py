"""The project tab of the inspector: canvas size, frame rate (while the timeline is empty), audio."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from studio.core.edits import SetProjectSettings
from studio.core.errors import StudioError
from studio.core.history import History
from studio.core.project import CHANNEL_LAYOUTS
from studio.core.timebase import format_rate, parse_rate

from ..theme import MUTED_COLOR

RATES = ("24000/1001", "24", "25", "30000/1001", "30", "50", "60000/1001", "60")
SAMPLE_RATES = (44100, 48000, 96000)


class ProjectSettingsPanel(QWidget):
    """Shows the project settings; "Apply" changes them with one SetProjectSettings command."""

    status_message = Signal(str)

    def __init__(self, history: History, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.width_box, self.height_box = QSpinBox(self), QSpinBox(self)
        for box in (self.width_box, self.height_box):
            box.setRange(16, 16384)
            box.setSingleStep(2)
            box.setSuffix(" px")
        self.fps = QComboBox(self)
        self.fps.setEditable(True)
        self.fps.addItems(list(RATES))
        self.sample_rate = QComboBox(self)
        for rate in SAMPLE_RATES:
            self.sample_rate.addItem(f"{rate} Hz", rate)
        self.layout_box = QComboBox(self)
        self.layout_box.addItems(list(CHANNEL_LAYOUTS))
        self.fps_hint = QLabel(self)
        self.fps_hint.setStyleSheet(f"color: {MUTED_COLOR}")
        self.fps_hint.setWordWrap(True)
        self.apply_button = QPushButton("Apply", self)
        self.apply_button.clicked.connect(lambda: self.apply())
        self.revert_button = QPushButton("Revert", self)
        self.revert_button.clicked.connect(lambda: self.refresh())
        form = QFormLayout()
        size = QHBoxLayout()
        size.addWidget(self.width_box)
        size.addWidget(QLabel("×", self))
        size.addWidget(self.height_box)
        size.addStretch(1)
        form.addRow("Resolution", size)
        form.addRow("Frame rate", self.fps)
        form.addRow("", self.fps_hint)
        form.addRow("Sample rate", self.sample_rate)
        form.addRow("Channels", self.layout_box)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addStretch(1)
        history.changed.connect(lambda change: (change.settings_changed or change.empty or change.ranges)
                                and self.refresh())
        self.refresh()

    def refresh(self) -> None:
        p = self.history.project
        s = p.settings
        self.width_box.setValue(s.width)
        self.height_box.setValue(s.height)
        self.fps.setCurrentText(format_rate(s.fps).removesuffix("/1"))
        empty = p.sequence.duration == 0
        self.fps.setEnabled(empty)
        self.fps_hint.setText("" if empty else "The frame rate can change only while the timeline is empty.")
        i = self.sample_rate.findData(s.sample_rate)
        if i < 0:
            self.sample_rate.addItem(f"{s.sample_rate} Hz", s.sample_rate)
            i = self.sample_rate.count() - 1
        self.sample_rate.setCurrentIndex(i)
        self.layout_box.setCurrentText(s.channel_layout)

    def changes(self) -> dict[str, object]:
        """The settings that differ from the project's (raises StudioError for a bad rate)."""
        s = self.history.project.settings
        ch: dict[str, object] = {}
        if self.width_box.value() != s.width:
            ch["width"] = self.width_box.value()
        if self.height_box.value() != s.height:
            ch["height"] = self.height_box.value()
        if self.fps.isEnabled():
            fps = parse_rate(self.fps.currentText().strip())
            if fps != s.fps:
                ch["fps"] = fps
        if self.sample_rate.currentData() != s.sample_rate:
            ch["sample_rate"] = int(self.sample_rate.currentData())
        if self.layout_box.currentText() != s.channel_layout:
            ch["channel_layout"] = self.layout_box.currentText()
        return ch

    def apply(self) -> bool:
        try:
            ch = self.changes()
            if not ch:
                return False
            self.history.apply(SetProjectSettings(**ch))
        except (StudioError, ValueError) as e:
            self.status_message.emit(str(e))
            self.refresh()
            return False
        self.status_message.emit("Project settings changed")
        return True
