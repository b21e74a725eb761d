"""The clip tab of the inspector: takes (generated clips), position, speed and every animatable parameter
of the selected clip."""

from __future__ import annotations

from fractions import Fraction

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from studio.core.edits import RemoveKeyframe, SetClipProperty, SetKeyframe, SetSpeed
from studio.core.edits.base import Command
from studio.core.errors import StudioError
from studio.core.history import History
from studio.core.timeline import Clip

from ..describe import timecode
from ..theme import MUTED_COLOR
from .params import PARAMS, ParamRow
from .takes import TakesBox


class ClipPanel(QWidget):
    """Edits one clip through ``history``: static values with SetClipProperty (merged while dragging),
    animated ones with SetKeyframe at the playhead; the ◆ toggles a key there.

    ``playhead_requested(frame)`` asks the timeline/viewer to move (previous/next keyframe);
    ``status_message(str)`` reports edits that could not be made.
    """

    playhead_requested = Signal(int)
    status_message = Signal(str)

    def __init__(self, history: History, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.clip_id: str | None = None
        self.playhead = 0
        self.title = QLabel("No clip selected", self)
        self.title.setWordWrap(True)
        self.hint = QLabel(self)
        self.hint.setStyleSheet(f"color: {MUTED_COLOR}")
        self.hint.setWordWrap(True)
        self.position = QLineEdit(self)
        self.position.setReadOnly(True)
        self.duration = QLineEdit(self)
        self.duration.setReadOnly(True)
        self.speed = QDoubleSpinBox(self)
        self.speed.setRange(-100.0, 100.0)
        self.speed.setDecimals(3)
        self.speed.setSingleStep(0.25)
        self.speed.setSuffix(" ×")
        self.speed.setKeyboardTracking(False)
        self.speed.editingFinished.connect(self._speed_edited)
        self.rows: dict[str, ParamRow] = {}

        self.form_host = QWidget(self)
        self.takes = TakesBox(history, self.form_host)
        self.takes.status_message.connect(self.status_message)
        form = QFormLayout(self.form_host)
        self.form = form
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Takes", self.takes)
        form.addRow("Position", self.position)
        form.addRow("Duration", self.duration)
        form.addRow("Speed", self.speed)
        for spec in PARAMS:
            row = ParamRow(spec, self.form_host)
            row.edited.connect(self._edited)
            row.edit_finished.connect(lambda _name: self.history.end_merge())
            row.key_toggled.connect(self._key_toggled)
            row.jump.connect(self._jump)
            self.rows[spec.name] = row
            form.addRow(spec.label, row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addWidget(self.form_host)
        layout.addStretch(1)
        history.changed.connect(lambda _change: self.refresh())
        self.refresh()

    # --- state ----------------------------------------------------------------------------
    def clip(self) -> Clip | None:
        found = self.history.project.find_clip(self.clip_id) if self.clip_id else None
        return found[1] if found else None

    def offset(self, clip: Clip) -> int | None:
        """The playhead's frame inside ``clip``, or None when the playhead is outside it."""
        off = self.playhead - clip.position
        return off if 0 <= off < clip.duration else None

    def set_clip(self, clip_id: str | None) -> None:
        self.history.end_merge()
        self.clip_id = clip_id
        self.refresh()

    def set_playhead(self, frame: int) -> None:
        self.playhead = int(frame)
        self.refresh()

    def refresh(self) -> None:
        clip = self.clip()
        self.form_host.setEnabled(clip is not None)
        has_takes = TakesBox.wanted(self.history, clip)
        self.form.setRowVisible(self.takes, has_takes)
        self.takes.show_clip(clip if has_takes else None)
        if clip is None:
            self.title.setText("No clip selected")
            self.hint.setText("Select a clip on the timeline to edit it.")
            self.position.clear()
            self.duration.clear()
            neutral = Clip("", "", 0, 1)  # greyed rows read as a new clip's values, not as spin-box minimums
            self.speed.blockSignals(True)
            self.speed.setValue(float(neutral.speed))
            self.speed.blockSignals(False)
            for name, row in self.rows.items():
                row.show_value(neutral.value_at(name, 0), False, False, False, False)
            return
        project = self.history.project
        fps = project.fps
        asset = project.asset(clip.asset_id)
        self.title.setText(f"<b>{clip.name or (asset.name if asset else clip.id)}</b>")
        off = self.offset(clip)
        self.hint.setText("Playhead outside the clip: keyframes off" if off is None
                          else f"Playhead at frame {off} of the clip")
        self.position.setText(timecode(clip.position, fps))
        self.duration.setText(timecode(clip.duration, fps))
        if not self.speed.hasFocus():
            self.speed.blockSignals(True)
            self.speed.setValue(float(clip.speed))
            self.speed.blockSignals(False)
        at = off if off is not None else 0
        for name, row in self.rows.items():
            keys = clip.curve(name)
            on_key = off is not None and any(k.frame == off for k in keys)
            row.show_value(clip.value_at(name, at), bool(keys), on_key,
                           off is not None and any(k.frame < off for k in keys),
                           off is not None and any(k.frame > off for k in keys))
            row.key_button.setEnabled(off is not None)
            if off is None:  # jumping still works from outside the clip
                row.prev_button.setEnabled(bool(keys) and self.playhead > clip.position + keys[0].frame)
                row.next_button.setEnabled(bool(keys) and self.playhead < clip.position + keys[-1].frame)

    # --- edits ----------------------------------------------------------------------------
    def _apply(self, command: Command, merge: bool = False) -> bool:
        try:
            self.history.apply(command, merge=merge)
        except StudioError as e:
            self.status_message.emit(str(e))
            self.refresh()
            return False
        return True

    def _edited(self, name: str, value: float, dragging: bool) -> None:
        clip = self.clip()
        if clip is None:
            return
        off = self.offset(clip)
        if clip.curve(name) and off is not None:
            self._apply(SetKeyframe(clip.id, name, off, value), merge=True)
        elif clip.curve(name):
            self.status_message.emit(f"{name} is animated: move the playhead into the clip to change it")
            self.refresh()
        else:
            self._apply(SetClipProperty(clip.id, name, value), merge=True)
        if not dragging:
            self.history.end_merge()

    def _key_toggled(self, name: str, on: bool) -> None:
        clip = self.clip()
        off = self.offset(clip) if clip is not None else None
        if clip is None or off is None:
            self.refresh()
            return
        self.history.end_merge()
        has_key = any(k.frame == off for k in clip.curve(name))
        if on and not has_key:
            self._apply(SetKeyframe(clip.id, name, off, clip.value_at(name, off)))
        elif not on and has_key:
            self._apply(RemoveKeyframe(clip.id, name, off))
        self.history.end_merge()

    def _jump(self, name: str, direction: int) -> None:
        clip = self.clip()
        if clip is None:
            return
        frames = [clip.position + k.frame for k in clip.curve(name)]
        target = (max((f for f in frames if f < self.playhead), default=None) if direction < 0
                  else min((f for f in frames if f > self.playhead), default=None))
        if target is not None:
            self.set_playhead(target)
            self.playhead_requested.emit(target)

    def _speed_edited(self) -> None:
        clip = self.clip()
        if clip is None:
            return
        speed = Fraction(self.speed.value()).limit_denominator(1000)
        if speed == clip.speed:
            return
        if speed == 0:
            self.status_message.emit("speed cannot be zero")
            self.refresh()
            return
        self._apply(SetSpeed(clip.id, speed))
