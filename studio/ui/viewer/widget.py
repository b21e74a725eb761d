"""``ViewerWidget``: the sequence viewer with transport, timecode entry, zoom and level meters.

All decoding and compositing happen in the playback engine's threads; the UI thread only takes
finished RGB frames from its read-ahead queue on a QTimer and paints them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.project import Project
from studio.core.timebase import format_timecode, parse_time
from studio.render.playback import PlaybackEngine

from .canvas import ACTUAL, FIT, FrameCanvas
from .meters import LevelMeter

log = logging.getLogger(__name__)

NO_AUDIO_NOTICE = "No audio device: playing without sound"
#: How often the UI takes a frame from the engine (ms); well under a frame at 60 fps.
TICK_MS = 4
#: Meters update every this many ticks (about 30 times a second).
METER_EVERY = 8

EngineFactory = Callable[[Project, object], PlaybackEngine]


def default_engine(project: Project, proxies) -> PlaybackEngine:
    return PlaybackEngine(project, proxies=proxies)


class ViewerWidget(QWidget):
    """Plays a project. ``actions()`` gives the transport shortcuts for the main window."""

    frame_changed = Signal(int)
    audio_notice = Signal(str)
    playing_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None, *, engine_factory: EngineFactory | None = None) -> None:
        super().__init__(parent)
        self._engine_factory = engine_factory or default_engine
        self.engine: PlaybackEngine | None = None
        self.project: Project | None = None
        self._frame = 0
        self._playing = False
        self._noticed = False
        self.timecode_error = ""
        self._ticks = 0

        self.canvas = FrameCanvas(self)
        self.meter = LevelMeter(2, self)
        self.play_button = QToolButton(self)
        self.play_button.setText("Play")
        self.play_button.clicked.connect(self.toggle_play)
        self.timecode = QLineEdit(self)
        self.timecode.setObjectName("timecode")
        self.timecode.setToolTip("Type a timecode (00:00:01:00), seconds (1.5) or frames (25f); Enter to go")
        self.timecode.setMaximumWidth(120)
        self.timecode.returnPressed.connect(self._timecode_entered)
        self.range_label = QLabel(self)
        self.zoom_box = QComboBox(self)
        self.zoom_box.addItems([FIT, ACTUAL])
        self.zoom_box.currentTextChanged.connect(self.set_zoom)

        bar = QHBoxLayout()
        bar.addWidget(self.play_button)
        bar.addWidget(self.timecode)
        bar.addWidget(self.range_label, 1)
        bar.addWidget(self.zoom_box)
        top = QHBoxLayout()
        top.addWidget(self.canvas, 1)
        top.addWidget(self.meter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top, 1)
        layout.addLayout(bar)

        self._actions: dict[str, QAction] = {}
        self._make_actions()
        self.canvas.size_wanted.connect(self._size_wanted)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._update_labels()

    # --- actions ---------------------------------------------------------------------------
    def _make_actions(self) -> None:
        specs = [
            ("play", "Play / Pause", "Space", self.toggle_play),
            ("reverse", "Shuttle reverse (J)", "J", lambda: self.shuttle("j")),
            ("stop", "Stop (K)", "K", lambda: self.shuttle("k")),
            ("forward", "Shuttle forward (L)", "L", lambda: self.shuttle("l")),
            ("prev_frame", "Previous frame", "Left", lambda: self.step(-1)),
            ("next_frame", "Next frame", "Right", lambda: self.step(1)),
            ("mark_in", "Mark in", "I", self.mark_in),
            ("mark_out", "Mark out", "O", self.mark_out),
            ("go_in", "Go to in", "Shift+I", self.go_to_in),
            ("go_out", "Go to out", "Shift+O", self.go_to_out),
        ]
        for name, text, keys, slot in specs:
            action = QAction(text, self)
            action.setObjectName(f"viewer_{name}")
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self._actions[name] = action
            self.addAction(action)

    def actions(self) -> list[QAction]:  # noqa: D401 - shadows QWidget.actions on purpose
        """The transport actions (shortcut context: this widget and its children). A main window
        that wants them window-wide sets ``Qt.WindowShortcut`` on them and adds them to itself."""
        return list(self._actions.values())

    def action(self, name: str) -> QAction:
        return self._actions[name]

    # --- project ---------------------------------------------------------------------------
    def set_project(self, project: Project | None, proxies=None) -> None:
        """Show ``project`` (None: nothing) from frame 0; ``proxies`` as for ``Compositor``."""
        self._close_engine()
        self.project = project
        self._frame = 0
        if project is None:
            self._update_labels()
            return
        self.engine = self._engine_factory(project, proxies)
        self.canvas.set_canvas_size(project.settings.width, project.settings.height)
        self.engine.set_display_size(*self.canvas.display_size())
        self.meter.set_peaks([0.0] * self.engine.channels)
        self.engine.seek(0)
        self._timer.start()
        self._update_labels()

    def refresh(self, project: Project, proxies=None) -> None:
        """Show an edited ``project`` keeping the position, in / out and play state (the main
        window calls this after history changes; the engine restarts, decoders reopen)."""
        old = self.engine
        if old is None:
            self.set_project(project, proxies)
            return
        frame, rate, marks = old.frame(), old.rate, (old.in_point, old.out_point)
        self.set_project(project, proxies)
        engine = self.engine
        engine.set_in(marks[0])
        engine.set_out(marks[1])
        engine.seek(frame)
        if rate:
            engine.set_rate(rate)
        self._after_transport()

    def _close_engine(self) -> None:
        self._timer.stop()
        if self.engine is not None:
            self.engine.close()
            self.engine = None
        self._set_playing(False)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._close_engine()
        super().closeEvent(event)

    # --- transport --------------------------------------------------------------------------
    @property
    def current_frame(self) -> int:
        """The frame on screen (or the one asked for, until it arrives)."""
        return self._frame

    def current_image(self):
        """The frame on screen as RGB24 ``(h, w, 3)`` (None before the first)."""
        return self.canvas.image()

    def seek(self, frame: int) -> None:
        if self.engine is None:
            return
        self.engine.seek(frame)
        self._update_labels(self.engine.frame())

    def play(self) -> None:
        self.set_rate(1)

    def pause(self) -> None:
        self.set_rate(0)

    def toggle_play(self) -> None:
        self.set_rate(0 if self.engine is not None and self.engine.playing else 1)

    def set_rate(self, rate: int) -> None:
        if self.engine is None:
            return
        self.engine.set_rate(rate)
        self._after_transport()

    def shuttle(self, key: str) -> int:
        if self.engine is None:
            return 0
        rate = self.engine.shuttle(key)
        self._after_transport()
        return rate

    @property
    def rate(self) -> int:
        return self.engine.rate if self.engine is not None else 0

    def step(self, delta: int) -> None:
        if self.engine is None:
            return
        self.engine.step(delta)
        self._after_transport()

    def mark_in(self) -> None:
        if self.engine is not None:
            self.engine.set_in(self.engine.frame())
            self._update_labels()

    def mark_out(self) -> None:
        if self.engine is not None:
            self.engine.set_out(self.engine.frame())
            self._update_labels()

    def go_to_in(self) -> None:
        if self.engine is not None:
            self.engine.pause()
            self.seek(self.engine.in_point or 0)
            self._after_transport()

    def go_to_out(self) -> None:
        if self.engine is not None:
            self.engine.pause()
            end = self.engine.out_point if self.engine.out_point is not None else self.engine.duration - 1
            self.seek(end)
            self._after_transport()

    def set_zoom(self, zoom: str) -> None:
        """"fit" (the frame fills the view) or "100%" (one canvas pixel per screen pixel)."""
        self.canvas.set_zoom(zoom)
        if self.zoom_box.currentText() != zoom:
            self.zoom_box.setCurrentText(zoom)

    def _after_transport(self) -> None:
        engine = self.engine
        if engine is None:
            return
        if engine.playing and not engine.has_audio and not self._noticed:
            self._noticed = True
            self.audio_notice.emit(NO_AUDIO_NOTICE)
        self._set_playing(engine.playing)
        self._update_labels(engine.frame())

    def _set_playing(self, playing: bool) -> None:
        if playing != self._playing:
            self._playing = playing
            self.play_button.setText("Pause" if playing else "Play")
            self.playing_changed.emit(playing)

    # --- timecode ---------------------------------------------------------------------------
    def _timecode_entered(self) -> None:
        if self.project is None:
            return
        text = self.timecode.text()
        try:
            frame = parse_time(text, self.project.settings.fps)
        except (StudioError, ValueError) as exc:
            self.timecode_error = str(exc)
            pos = self.timecode.mapToGlobal(self.timecode.rect().bottomLeft())
            QToolTip.showText(pos, self.timecode_error, self.timecode)
            return
        self.timecode_error = ""
        self.timecode.clearFocus()
        self.seek(frame)

    def _update_labels(self, frame: int | None = None) -> None:
        if frame is not None:
            self._frame = frame
        if self.project is None or self.engine is None:
            self.timecode.setText("")
            self.range_label.setText("")
            return
        fps = self.project.settings.fps
        if not self.timecode.hasFocus():
            self.timecode.setText(format_timecode(self._frame, fps))
        e = self.engine
        parts = []
        if e.in_point is not None:
            parts.append(f"In {format_timecode(e.in_point, fps)}")
        if e.out_point is not None:
            parts.append(f"Out {format_timecode(e.out_point, fps)}")
        if e.rate not in (0, 1):
            parts.append(f"{e.rate:+d}x")
        self.range_label.setText("  ".join(parts))

    # --- frames -----------------------------------------------------------------------------
    def _size_wanted(self, width: int, height: int) -> None:
        if self.engine is not None:
            self.engine.set_display_size(width, height)

    def _tick(self) -> None:
        engine = self.engine
        if engine is None:
            return
        shown = engine.poll()
        if shown is not None:
            self.canvas.set_image(shown.image)
            self._update_labels(shown.n)
            self.frame_changed.emit(shown.n)
        if engine.playing != self._playing:  # stopped at the out point
            self._set_playing(engine.playing)
            self._update_labels(engine.frame())
        self._ticks += 1
        if engine.has_audio and self._ticks % METER_EVERY == 0:
            self.meter.set_peaks(engine.levels())
