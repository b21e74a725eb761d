"""The export dialog: preset, file, range; the export runs as a job in the pool with progress and Cancel."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.project import Project
from studio.core.relink import missing_assets
from studio.jobs import Job, JobHandle, Priority
from studio.render.export import RenderResult, export
from studio.render.presets import Preset, list_presets

from .describe import timecode
from .jobs_adapter import JobsAdapter
from .theme import MUTED_COLOR, WARNING_COLOR


def one_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


class ExportDialog(QDialog):
    """Export ``project`` (a frozen snapshot: projects are immutable) with the job pool.

    ``in_out`` is the (start, end-exclusive) frame range marked on the viewer/timeline, if any;
    ``presets`` defaults to ``list_presets()``; ``ask_path(start, filter)`` replaces the file
    dialog and ``open_url(QUrl)`` the desktop service (tests). ``finished_export(result)`` and
    ``failed_export(message)`` tell the window.
    """

    finished_export = Signal(object)
    failed_export = Signal(str)

    def __init__(self, project: Project, jobs: JobsAdapter, *, out_path: str | os.PathLike[str] | None = None,
                 in_out: tuple[int, int] | None = None, presets: list[Preset] | None = None,
                 ask_path: Callable[[str, str], str] | None = None,
                 open_url: Callable[[QUrl], object] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.project, self.jobs, self.in_out = project, jobs, in_out
        self.ask_path, self.open_url = ask_path, open_url or QDesktopServices.openUrl
        self.handle: JobHandle | None = None
        self.result: RenderResult | None = None
        self.error: str | None = None
        try:
            self.presets = presets if presets is not None else list_presets()
        except StudioError as e:
            self.presets, self.error = [], str(e)

        self.preset_box = QComboBox(self)
        for p in self.presets:
            self.preset_box.addItem(p.name, p)
            self.preset_box.setItemData(self.preset_box.count() - 1, p.summary(), 3)  # ToolTipRole
        self.preset_box.currentIndexChanged.connect(self._preset_changed)
        self.summary = QLabel(self)
        self.summary.setStyleSheet(f"color: {MUTED_COLOR}")
        self.summary.setWordWrap(True)
        self.path_edit = QLineEdit(self)
        self.path_edit.setMinimumWidth(360)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self.browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        fps = project.fps
        self.whole = QRadioButton(f"Whole sequence ({timecode(project.sequence.duration, fps)})", self)
        self.in_out_button = QRadioButton("In to out", self)
        if in_out is not None:
            self.in_out_button.setText(f"In to out ({timecode(in_out[0], fps)} – {timecode(in_out[1], fps)})")
        self.in_out_button.setEnabled(in_out is not None)
        group = QButtonGroup(self)
        group.addButton(self.whole)
        group.addButton(self.in_out_button)
        (self.in_out_button if in_out is not None else self.whole).setChecked(True)
        range_row = QVBoxLayout()
        range_row.addWidget(self.whole)
        range_row.addWidget(self.in_out_button)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.status = QLabel(self)
        self.status.setWordWrap(False)
        self.export_button = QPushButton("Export", self)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(lambda: self.start())
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.show_button = QPushButton("Show in folder", self)
        self.show_button.clicked.connect(self.show_in_folder)
        self.show_button.setEnabled(False)
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)

        form = QFormLayout()
        form.addRow("Preset", self.preset_box)
        form.addRow("", self.summary)
        form.addRow("File", path_row)
        form.addRow("Range", range_row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

        default = Path(out_path) if out_path else Path.home() / f"{project.name or 'export'}"
        self._base = default.with_suffix("") if out_path is None or default.suffix else default
        self.path_edit.setText(str(default))
        self._preset_changed()
        if self.error:
            self._show_error(self.error)

    # --- settings ---------------------------------------------------------------------
    def preset(self) -> Preset | None:
        return self.preset_box.currentData()

    def select_preset(self, name: str) -> bool:
        i = self.preset_box.findText(name)
        if i >= 0:
            self.preset_box.setCurrentIndex(i)
        return i >= 0

    def _preset_changed(self, *_args) -> None:
        p = self.preset()
        if p is None:
            self.export_button.setEnabled(False)
            return
        self.summary.setText(p.description or p.summary())
        path = Path(self.path_edit.text() or str(self._base))
        if path.suffix.lower() != p.extension.lower():
            self.path_edit.setText(str(path.with_suffix(p.extension)))

    def frame_range(self) -> tuple[int, int] | None:
        return self.in_out if self.in_out_button.isChecked() and self.in_out is not None else None

    def browse(self) -> None:
        p = self.preset()
        ext = p.extension if p else ""
        file_filter = f"{p.name} (*{ext});;All files (*)" if p else "All files (*)"
        if self.ask_path is not None:
            path = self.ask_path(self.path_edit.text(), file_filter)
        else:
            from PySide6.QtWidgets import QFileDialog
            path = QFileDialog.getSaveFileName(self, "Export to", self.path_edit.text(), file_filter)[0]
        if path:
            if ext and not path.lower().endswith(ext.lower()):
                path += ext
            self.path_edit.setText(path)

    # --- running ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.handle is not None and not self.handle.done

    def start(self) -> JobHandle | None:
        """Submit the export job; errors before it starts are shown in one line."""
        if self.running:
            return self.handle
        preset, out = self.preset(), self.path_edit.text().strip()
        if preset is None:
            return self._show_error("choose a preset")
        if not out:
            return self._show_error("choose a file to export to")
        used = {c.asset_id for _, c in self.project.all_clips()}
        missing = [self.project.asset(a).name for a in missing_assets(self.project) if a in used]
        if missing:
            return self._show_error(f"missing media: {', '.join(missing)} (relink it in the bin first)")
        project, frame_range = self.project, self.frame_range()
        job = Job(lambda ctx: export(project, out, preset, frame_range=frame_range, context=ctx),
                  name=f"export {os.path.basename(out)}", cpu=1, priority=Priority.INTERACTIVE)
        self.result, self.error = None, None
        self.progress.setValue(0)
        self._set_status(f"Exporting to {out}…")
        self.handle = self.jobs.submit(job, on_done=self._done, on_end=self._ended)
        self.jobs.progress.connect(self._progress)
        self.export_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.show_button.setEnabled(False)
        return self.handle

    def cancel(self) -> None:
        if self.running:
            self.jobs.cancel(self.handle)
        else:
            self.reject()

    def _progress(self, job_id: str, fraction: float, message: str, eta) -> None:
        if self.handle is not None and job_id == self.handle.id:
            self.progress.setValue(int(round(fraction * 1000)))
            if message:
                self._set_status(one_line(message))

    def _done(self, result: RenderResult) -> None:
        self.result = result
        self.progress.setValue(1000)
        self._set_status(f"Exported {os.path.basename(result.path)} ({float(result.duration):.1f} s "
                         f"in {result.seconds:.1f} s)")
        self.show_button.setEnabled(True)
        self.finished_export.emit(result)

    def _ended(self, handle: JobHandle) -> None:
        try:
            self.jobs.progress.disconnect(self._progress)
        except (RuntimeError, TypeError):
            pass
        self.export_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if handle.state.value == "failed":
            self._show_error(f"export failed: {one_line(handle.error or 'unknown error')}")
            self.failed_export.emit(self.error)
        elif handle.state.value in ("cancelled", "timed_out"):
            self.progress.setValue(0)
            self._set_status(f"Export {handle.state.value.replace('_', ' ')}; nothing was written")

    def show_in_folder(self) -> None:
        target = Path(self.result.path if self.result else self.path_edit.text())
        self.open_url(QUrl.fromLocalFile(str(target.parent)))

    # --- status -----------------------------------------------------------------------
    def _set_status(self, text: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(text)
        self.status.setToolTip(text)

    def _show_error(self, message: str) -> None:
        self.error = one_line(message)
        self.status.setStyleSheet(f"color: {WARNING_COLOR}")
        self.status.setText(self.error)
        self.status.setToolTip(self.error)
        return None

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        # Closing hides the dialog; a running export goes on in the pool (the jobs panel shows it).
        super().closeEvent(event)
