"""One editable clip parameter: a spin box (and slider), a keyframe toggle, previous/next key buttons."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QSlider, QToolButton, QWidget


@dataclass(frozen=True)
class ParamSpec:
    """How a model parameter is shown: ``display = value * factor`` in [lo, hi] with ``suffix``."""

    name: str
    label: str
    lo: float
    hi: float
    factor: float = 1.0
    decimals: int = 1
    suffix: str = ""
    step: float = 1.0
    slider: bool = True
    #: The slider's display range when narrower than the spin box's (None: the same).
    slider_range: tuple[float, float] | None = None


#: The inspector's rows, in order (ranges follow ``studio.core.edits.properties.RANGES``).
PARAMS = (
    ParamSpec("scale", "Scale", 0.1, 10000.0, 100.0, 1, " %", 1.0, slider_range=(0.0, 400.0)),
    ParamSpec("x", "X", -16384.0, 16384.0, 1.0, 0, " px", 1.0, slider=False),
    ParamSpec("y", "Y", -16384.0, 16384.0, 1.0, 0, " px", 1.0, slider=False),
    ParamSpec("rotation", "Rotation", -3600.0, 3600.0, 1.0, 1, "°", 1.0, slider_range=(-180.0, 180.0)),
    ParamSpec("crop_left", "Crop left", 0.0, 99.0, 100.0, 1, " %", 1.0),
    ParamSpec("crop_top", "Crop top", 0.0, 99.0, 100.0, 1, " %", 1.0),
    ParamSpec("crop_right", "Crop right", 0.0, 99.0, 100.0, 1, " %", 1.0),
    ParamSpec("crop_bottom", "Crop bottom", 0.0, 99.0, 100.0, 1, " %", 1.0),
    ParamSpec("opacity", "Opacity", 0.0, 100.0, 100.0, 1, " %", 1.0),
    ParamSpec("gain_db", "Gain", -96.0, 24.0, 1.0, 1, " dB", 0.5, slider_range=(-60.0, 12.0)),
    ParamSpec("pan", "Pan", -100.0, 100.0, 100.0, 0, "", 1.0),
)
SLIDER_STEPS = 1000


class ParamRow(QWidget):
    """``edited(name, model_value, dragging)`` while the user changes the value; ``edit_finished(name)``
    when a drag or an edit ends; ``key_toggled(name, on)``; ``jump(name, direction)`` (-1 / +1)."""

    edited = Signal(str, float, bool)
    edit_finished = Signal(str)
    key_toggled = Signal(str, bool)
    jump = Signal(str, int)

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.spin = QDoubleSpinBox(self)
        self.spin.setRange(spec.lo, spec.hi)
        self.spin.setDecimals(spec.decimals)
        self.spin.setSingleStep(spec.step)
        self.spin.setSuffix(spec.suffix)
        self.spin.setKeyboardTracking(False)
        self.spin.setMinimumWidth(84)
        self.spin.setAccelerated(True)
        self.slider: QSlider | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        if spec.slider:
            self.slider = QSlider(Qt.Orientation.Horizontal, self)
            self.slider.setRange(0, SLIDER_STEPS)
            self.slider.valueChanged.connect(self._slider_moved)
            self.slider.sliderReleased.connect(lambda: self.edit_finished.emit(spec.name))
            layout.addWidget(self.slider, 1)
        else:
            layout.addStretch(1)
        layout.addWidget(self.spin)
        self.prev_button, self.key_button, self.next_button = QToolButton(self), QToolButton(self), QToolButton(self)
        for button, text, tip in ((self.prev_button, "◀", "Previous keyframe"),
                                  (self.key_button, "◆", "Keyframe at the playhead (add / remove)"),
                                  (self.next_button, "▶", "Next keyframe")):
            button.setText(text)
            button.setToolTip(f"{tip}: {spec.label}")
            button.setAutoRaise(True)
            button.setFixedWidth(22)
            layout.addWidget(button)
        self.key_button.setCheckable(True)
        self.key_button.setObjectName("keyToggle")
        self.spin.valueChanged.connect(self._spin_changed)
        self.spin.editingFinished.connect(lambda: self.edit_finished.emit(spec.name))
        self.key_button.clicked.connect(lambda on: self.key_toggled.emit(spec.name, bool(on)))
        self.prev_button.clicked.connect(lambda: self.jump.emit(spec.name, -1))
        self.next_button.clicked.connect(lambda: self.jump.emit(spec.name, 1))

    # --- showing --------------------------------------------------------------------------
    def show_value(self, value: float, keyed: bool, on_key: bool, has_prev: bool, has_next: bool) -> None:
        """Show the model value without emitting ``edited``."""
        display = value * self.spec.factor
        for w in (self.spin, self.slider, self.key_button):
            if w is not None:
                w.blockSignals(True)
        self.spin.setValue(display)
        if self.slider is not None and not self.slider.isSliderDown():
            self.slider.setValue(self._to_slider(display))
        self.key_button.setChecked(on_key)
        for w in (self.spin, self.slider, self.key_button):
            if w is not None:
                w.blockSignals(False)
        self.key_button.setProperty("animated", keyed)
        self.prev_button.setEnabled(has_prev)
        self.next_button.setEnabled(has_next)

    def _slider_bounds(self) -> tuple[float, float]:
        return self.spec.slider_range or (self.spec.lo, self.spec.hi)

    def _to_slider(self, display: float) -> int:
        lo, hi = self._slider_bounds()
        return round((min(max(display, lo), hi) - lo) / (hi - lo) * SLIDER_STEPS)

    def _from_slider(self, pos: int) -> float:
        lo, hi = self._slider_bounds()
        return max(self.spec.lo, lo + (hi - lo) * pos / SLIDER_STEPS)

    # --- editing --------------------------------------------------------------------------
    def set_display_value(self, display: float, dragging: bool = False) -> None:
        """As if the user typed ``display`` (or dragged to it): emits ``edited``."""
        self.edited.emit(self.spec.name, display / self.spec.factor, dragging)

    def _spin_changed(self, display: float) -> None:
        self.edited.emit(self.spec.name, display / self.spec.factor, True)

    def _slider_moved(self, pos: int) -> None:
        display = round(self._from_slider(pos), self.spec.decimals)
        self.spin.blockSignals(True)
        self.spin.setValue(display)
        self.spin.blockSignals(False)
        self.edited.emit(self.spec.name, display / self.spec.factor, True)
        if self.slider is not None and not self.slider.isSliderDown():
            self.edit_finished.emit(self.spec.name)  # a click or key on the slider: one step
