"""A dialog that can be accepted only while nothing is wrong with its choices, and says what is.

The Generate Shot and Foley Sounds dialogs share this: a model that is not installed, a folder
that is not a model, a licence not accepted... each gives one warning line (``problem``) and a
disabled OK button whose tooltip repeats the reason, so a user is never left guessing.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QWidget

from .theme import WARNING_COLOR


class CheckedDialog(QDialog):
    """Subclasses implement ``problem_text()`` ("" when the dialog can be accepted), put ``problem``
    in their layout and set ``ok_button``, and call ``_validate()`` whenever a choice changes."""

    ok_button: QPushButton

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.problem = QLabel(self)
        self.problem.setStyleSheet(f"color: {WARNING_COLOR}")
        self.problem.setWordWrap(True)
        self.problem.hide()

    def problem_text(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _say(self, text: str) -> None:
        """Show (or clear, with "") why a choice cannot be used."""
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def _validate(self) -> None:
        text = self.problem_text()
        self.ok_button.setEnabled(not text)
        self.ok_button.setToolTip(text)

    def accept(self) -> None:
        if self.problem_text():
            self._validate()
            return
        super().accept()
