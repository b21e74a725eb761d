"""The jobs panel: running and queued jobs with progress, ETA and Cancel; failures with their details."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from .jobs_adapter import JobsAdapter
from .theme import MUTED_COLOR, WARNING_COLOR

#: Finished and cancelled rows disappear after this many milliseconds (failed rows stay).
LINGER_MS = 2500


def format_eta(eta: float | None) -> str:
    if eta is None:
        return ""
    eta = max(0, int(round(eta)))
    if eta >= 3600:
        return f"{eta // 3600} h {eta % 3600 // 60:02d} min left"
    if eta >= 60:
        return f"{eta // 60} min {eta % 60:02d} s left"
    return f"{eta} s left"


class JobRow(QWidget):
    """One job: name, state/message, progress bar, ETA, and Cancel (or Details… and Dismiss)."""

    def __init__(self, panel: JobsPanel, job_id: str, name: str) -> None:
        super().__init__(panel.rows_host)
        self.panel, self.job_id, self.name = panel, job_id, name
        self.state = "queued"
        self.traceback = ""
        self.details_dialog: QDialog | None = None
        self.title = QLabel(f"<b>{name}</b>", self)
        self.title.setMinimumWidth(160)
        self.message = QLabel("queued", self)
        self.message.setStyleSheet(f"color: {MUTED_COLOR}")
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setFormat("%p%")
        self.eta = QLabel(self)
        self.eta.setMinimumWidth(90)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(lambda: panel.jobs.cancel(job_id))
        self.details_button = QPushButton("Details…", self)
        self.details_button.clicked.connect(self.show_details)
        self.details_button.hide()
        self.dismiss_button = QPushButton("Dismiss", self)
        self.dismiss_button.clicked.connect(lambda: panel.remove_row(job_id))
        self.dismiss_button.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.title)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.eta)
        for b in (self.cancel_button, self.details_button, self.dismiss_button):
            layout.addWidget(b)

    def set_progress(self, fraction: float, message: str, eta: float | None) -> None:
        self.bar.setValue(int(round(max(0.0, min(1.0, fraction)) * 1000)))
        if message:
            self.message.setText(message)
        self.eta.setText(format_eta(eta))

    def set_state(self, state: str) -> None:
        self.state = state
        if state == "running" and self.message.text() == "queued":
            self.message.setText("running")
        elif state == "done":
            self.bar.setValue(1000)
            self.message.setText("done")
            self.eta.clear()
            self.cancel_button.hide()

    def set_failed(self, message: str, traceback: str) -> None:
        self.state, self.traceback = "failed", traceback
        self.message.setText(message)
        self.message.setToolTip(message)
        self.message.setStyleSheet(f"color: {WARNING_COLOR}")
        self.eta.clear()
        self.cancel_button.hide()
        self.details_button.show()
        self.dismiss_button.show()

    def set_cancelled(self, message: str) -> None:
        self.state = "cancelled"
        self.message.setText(message or "cancelled")
        self.eta.clear()
        self.cancel_button.hide()

    def show_details(self) -> QDialog:
        """A non-blocking dialog with the failure message and traceback."""
        if self.details_dialog is None:
            dlg = QDialog(self)
            dlg.setWindowTitle(f"Job failed: {self.name}")
            text = QPlainTextEdit(dlg)
            text.setReadOnly(True)
            text.setPlainText(f"{self.message.text()}\n\n{self.traceback or '(no traceback)'}")
            buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dlg)
            buttons.rejected.connect(dlg.reject)
            layout = QVBoxLayout(dlg)
            layout.addWidget(text)
            layout.addWidget(buttons)
            dlg.resize(720, 420)
            self.details_dialog = dlg
            self.details_text = text
        self.details_dialog.open()
        return self.details_dialog


class JobsPanel(QWidget):
    """Rows for the adapter's jobs, newest last. Finished rows go after ``LINGER_MS``."""

    def __init__(self, jobs: JobsAdapter, parent: QWidget | None = None, *, linger_ms: int = LINGER_MS) -> None:
        super().__init__(parent)
        self.jobs, self.linger_ms = jobs, linger_ms
        self.rows: dict[str, JobRow] = {}
        self.rows_host = QWidget(self)
        self.rows_layout = QVBoxLayout(self.rows_host)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.setSpacing(0)
        self.empty_label = QLabel("No jobs running", self.rows_host)
        self.empty_label.setStyleSheet(f"color: {MUTED_COLOR}; padding: 6px")
        self.rows_layout.addWidget(self.empty_label)
        self.rows_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.rows_host)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        jobs.state_changed.connect(self._state)
        jobs.progress.connect(self._progress)
        jobs.failed.connect(self._failed)
        jobs.cancelled.connect(self._cancelled)
        for handle in jobs.active():
            self.row(handle.id, handle.name).set_state(handle.state.value)

    def row(self, job_id: str, name: str | None = None) -> JobRow:
        found = self.rows.get(job_id)
        if found is None:
            if name is None:
                handle = self.jobs.handle(job_id)
                name = handle.name if handle is not None else job_id
            found = JobRow(self, job_id, name)
            self.rows[job_id] = found
            self.rows_layout.insertWidget(self.rows_layout.count() - 1, found)
            self.empty_label.hide()
        return found

    def remove_row(self, job_id: str) -> None:
        row = self.rows.pop(job_id, None)
        if row is not None:
            self.rows_layout.removeWidget(row)
            row.hide()
            row.deleteLater()
        self.empty_label.setVisible(not self.rows)

    def _linger(self, job_id: str) -> None:
        QTimer.singleShot(self.linger_ms, self, lambda: self._expire(job_id))

    def _expire(self, job_id: str) -> None:
        row = self.rows.get(job_id)
        if row is not None and row.state in ("done", "cancelled", "timed_out"):
            self.remove_row(job_id)

    def _state(self, job_id: str, state: str) -> None:
        row = self.row(job_id)
        row.set_state(state)
        if state in ("done", "cancelled", "timed_out"):
            self._linger(job_id)

    def _progress(self, job_id: str, fraction: float, message: str, eta) -> None:
        self.row(job_id).set_progress(fraction, message, eta)

    def _failed(self, job_id: str, message: str, traceback: str) -> None:
        self.row(job_id).set_failed(message.splitlines()[0] if message else "failed", traceback)

    def _cancelled(self, job_id: str, message: str) -> None:
        self.row(job_id).set_cancelled(message)
        self._linger(job_id)

    def running_count(self) -> int:
        return sum(1 for r in self.rows.values() if r.state in ("queued", "running"))


__all__ = ["JobRow", "JobsPanel", "format_eta"]
