"""The "Generate Shot" dialog: what to generate (prompt, model, seed, steps, guidance, size, length).

The length snaps to what the chosen model can make and says so as it changes ("5.06 s = 81 frames
at 16 fps"); the model's licence is shown; a catalogue model that is not on this machine shows the
exact ``studio models pull ID`` command and the dialog cannot be accepted. "Folder…" takes any
local diffusers folder of a supported pipeline (its shape rules read from its configs).

Imported on demand (it reads the model catalogue), never at editor start-up.
"""

from __future__ import annotations

import html
import math
import os
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.ai.generate.base import GenerateRequest
from studio.ai.generate.targets import covering_frames
from studio.ai.models.catalogue import ModelEntry, frames_for_seconds, load_catalogue, snap_size
from studio.ai.models.locate import entry_from_folder, locate
from studio.core.errors import StudioError
from studio.core.media_pool import Recipe

from .checked_dialog import CheckedDialog
from .theme import MUTED_COLOR, WARNING_COLOR

MAX_SEED = 2**31 - 1
MODES = ("generate", "extend", "regenerate")
CHOOSE = "choose"


def random_seed(avoid: int | None = None) -> int:
    seed = random.randint(0, MAX_SEED)
    return seed if seed != avoid else (seed + 1) % (MAX_SEED + 1)


def snap_text(entry: ModelEntry, seconds: float) -> str:
    """What ``seconds`` becomes for ``entry``: "5.06 s = 81 frames at 16 fps"."""
    frames, actual = frames_for_seconds(entry, seconds)
    return f"{actual:.2f} s = {frames} frames at {entry.fps:g} fps"


def _a(task: str) -> str:
    return f"an {task}" if task[:1] in "aeiou" else f"a {task}"


def pull_command(entry: ModelEntry) -> str:
    return f"studio models pull {entry.id}"


@dataclass(frozen=True)
class ShotSettings:
    """What the dialog was accepted with."""

    entry: ModelEntry
    folder: Path
    prompt: str
    negative_prompt: str
    seed: int
    steps: int
    guidance: float
    width: int
    height: int
    frames: int

    @property
    def fps(self) -> Fraction:
        return Fraction(self.entry.fps)

    def request(self, image: str | None = None) -> GenerateRequest:
        return GenerateRequest(
            self.prompt, negative_prompt=self.negative_prompt, seed=self.seed, steps=self.steps,
            guidance=self.guidance, width=self.width, height=self.height, frames=self.frames, fps=self.fps,
            image=image, model_id=self.entry.id, model_path=str(self.folder),
            revision="" if self.entry.repo is None else self.entry.revision,
            pipeline=self.entry.pipeline)  # one folder can serve two catalogue ids (LTX t2v and i2v)


class GenerateDialog(CheckedDialog):
    """Ask what to generate. ``mode`` is "generate" (text-to-video models), "extend" (image-to-video
    models) or "regenerate" (prefilled from ``recipe``, a new seed). ``target_seconds`` is the length
    of the gap or range to fill (None: open; the model's default length). ``folders`` are local model
    folders offered besides the catalogue; ``choose_folder(start)`` replaces the folder picker (tests)."""

    def __init__(self, *, mode: str = "generate", target_seconds: float | None = None, target_text: str = "",
                 recipe: Recipe | None = None, folders: Iterable[str] = (),
                 catalogue: dict[str, ModelEntry] | None = None,
                 choose_folder: Callable[[str], str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.mode, self.target_seconds, self.recipe = mode, target_seconds, recipe
        self.task = "image-to-video" if mode == "extend" or (recipe is not None and recipe.source_image) \
            else "text-to-video"
        self._choose_folder = choose_folder or self._pick_folder
        self._entries: dict[str, ModelEntry] = {}  # combo key -> entry
        self._installed: dict[str, Path | None] = {}  # combo key -> folder (None: not installed)
        self._duration_touched = False
        self._last_key: str | None = None
        self.setWindowTitle({"generate": "Generate Shot", "extend": "Extend Shot",
                             "regenerate": "Regenerate Shot"}[mode])
        self.setMinimumWidth(560)

        self.header = QLabel(target_text, self)
        self.header.setWordWrap(True)
        self.prompt = QPlainTextEdit(self)
        self.prompt.setPlaceholderText("Describe the shot: subject, action, setting, camera, light")
        self.prompt.setFixedHeight(84)
        self.prompt.setTabChangesFocus(True)
        self.negative = QLineEdit(self)
        self.negative.setPlaceholderText("What to avoid (optional)")
        self.model = QComboBox(self)
        self.model.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_info = QLabel(self)
        self.model_info.setStyleSheet(f"color: {MUTED_COLOR}")
        self.model_info.setWordWrap(True)
        self.licence = QLabel(self)
        self.licence.setOpenExternalLinks(True)
        self.licence.setWordWrap(True)
        self.install = QLabel(self)
        self.install.setWordWrap(True)
        self.install.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.seed = QSpinBox(self)
        self.seed.setRange(0, MAX_SEED)
        self.randomise = QPushButton("Randomise", self)
        self.randomise.setToolTip("Pick a new random seed")
        self.randomise.clicked.connect(lambda: self.seed.setValue(random_seed(self.seed.value())))
        self.steps = QSpinBox(self)
        self.steps.setRange(1, 500)
        self.guidance = QDoubleSpinBox(self)
        self.guidance.setRange(0.0, 30.0)
        self.guidance.setDecimals(1)
        self.guidance.setSingleStep(0.5)
        self.width_box, self.height_box = QSpinBox(self), QSpinBox(self)
        for box in (self.width_box, self.height_box):
            box.setRange(16, 8192)
            box.setSuffix(" px")
        self.duration = QDoubleSpinBox(self)
        self.duration.setDecimals(2)
        self.duration.setSingleStep(0.25)
        self.duration.setSuffix(" s")
        self.duration.valueChanged.connect(self._duration_changed)
        self.snap = QLabel(self)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText({"generate": "Generate", "extend": "Extend", "regenerate": "Generate Take"}[mode])
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.randomise)
        size_row = QHBoxLayout()
        size_row.addWidget(self.width_box, 1)
        size_row.addWidget(QLabel("×", self))
        size_row.addWidget(self.height_box, 1)
        duration_row = QHBoxLayout()
        duration_row.addWidget(self.duration)
        duration_row.addWidget(self.snap, 1)
        model_box = QVBoxLayout()
        model_box.setSpacing(2)
        for w in (self.model, self.model_info, self.licence, self.install):
            model_box.addWidget(w)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Prompt", self.prompt)
        form.addRow("Negative", self.negative)
        form.addRow("Model", model_box)
        form.addRow("Seed", seed_row)
        form.addRow("Steps", self.steps)
        form.addRow("Guidance", self.guidance)
        form.addRow("Size", size_row)
        form.addRow("Duration", duration_row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addStretch(1)  # spare height goes here, not into a row (the labels stay level with their fields)
        layout.addWidget(self.buttons)
        self.header.setVisible(bool(target_text))

        self._fill_models(catalogue, folders)
        self.model.currentIndexChanged.connect(self._model_changed)
        self.prompt.textChanged.connect(self._validate)
        self.seed.setValue(random_seed(recipe.seed if recipe is not None else None))
        if recipe is not None:
            self.prompt.setPlainText(recipe.prompt)
            self.negative.setText(recipe.negative_prompt)
            key = self._key_for_model(recipe.model_id)
            self._select(key)
            if key is None:
                self._say(f"The model of this take ({recipe.model_id}) is not on this machine: choose its folder "
                          "with \"Folder…\" or another model")
        else:
            self._select(self._first_installed())
        self._model_changed()
        if recipe is not None:  # the recipe's settings win over the model's defaults
            if recipe.steps:
                self.steps.setValue(recipe.steps)
            if recipe.guidance:
                self.guidance.setValue(recipe.guidance)
            if recipe.width and recipe.height and (entry := self.entry()) is not None and not entry.fixed_size:
                self.width_box.setValue(recipe.width)
                self.height_box.setValue(recipe.height)
        self._validate()

    # --- models ----------------------------------------------------------------------------
    def _fill_models(self, catalogue: dict[str, ModelEntry] | None, folders: Iterable[str]) -> None:
        try:
            entries = list((catalogue if catalogue is not None else load_catalogue()).values())
        except StudioError as e:
            entries = []
            self._say(str(e))
        for entry in entries:
            if entry.task != self.task:
                continue
            key = f"id:{entry.id}"
            self._entries[key] = entry
            self._installed[key] = locate(entry)
            state = "installed" if self._installed[key] is not None else "not installed"
            size = f", {entry.size_gb:g} GB" if entry.size_gb else ""
            self.model.addItem(f"{entry.name} — {state}{size}", key)
        for folder in folders:
            self._add_folder(folder, quiet=True)
        self.model.addItem("Folder…", CHOOSE)
        self.model.setItemData(self.model.count() - 1, "A local diffusers model folder", Qt.ItemDataRole.ToolTipRole)

    def _add_folder(self, folder: str | os.PathLike[str], *, quiet: bool = False) -> str | None:
        """Add a folder's model to the list (before "Folder…"); its key, or None with the reason shown."""
        try:
            entry = entry_from_folder(folder)
        except StudioError as e:
            if not quiet:
                self._say(str(e))
            return None
        if entry.task != self.task:
            if not quiet:
                self._say(f"{entry.name} is {_a(entry.task)} model; this needs {_a(self.task)} model")
            return None
        key = f"dir:{entry.path}"
        if key not in self._entries:
            self._entries[key] = entry
            self._installed[key] = entry.path
            at = self.model.findData(CHOOSE)
            label = f"{entry.id} — folder {entry.path}"
            if at < 0:
                self.model.addItem(label, key)
            else:
                self.model.insertItem(at, label, key)
        return key

    def _key_for_model(self, model_id: str) -> str | None:
        for key, entry in self._entries.items():
            if entry.id == model_id or (entry.path is not None and entry.path.name == model_id):
                return key
        return None

    def _first_installed(self) -> str | None:
        return next((k for k, v in self._installed.items() if v is not None), next(iter(self._entries), None))

    def _select(self, key: str | None) -> None:
        if key is not None and (i := self.model.findData(key)) >= 0:
            self.model.setCurrentIndex(i)

    def _pick_folder(self, start: str) -> str:
        return QFileDialog.getExistingDirectory(self, "Choose a diffusers model folder", start)

    def set_folder(self, folder: str | os.PathLike[str]) -> bool:
        """Use the model in ``folder`` (as "Folder…" does); False with the reason shown when it cannot be used."""
        key = self._add_folder(folder)
        if key is None:
            self._validate()
            return False
        self._say("")
        self._select(key)
        self._model_changed()
        return True

    def select_model(self, model_id: str) -> bool:
        key = self._key_for_model(model_id)
        self._select(key)
        return key is not None

    def entry(self) -> ModelEntry | None:
        return self._entries.get(self.model.currentData())

    def model_folder(self) -> Path | None:
        return self._installed.get(self.model.currentData())

    def _model_changed(self, _index: int = -1) -> None:
        key = self.model.currentData()
        if key == CHOOSE:
            previous = self._last_key
            self.model.blockSignals(True)
            self._select(previous)
            self.model.blockSignals(False)
            folder = self._choose_folder(str(Path.home()))
            if folder:
                self.set_folder(folder)
            return
        self._last_key = key
        if _index >= 0:  # the user picked another model: an earlier complaint no longer applies
            self._say("")
        entry = self.entry()
        if entry is None:
            self._validate()
            return
        self.steps.setValue(entry.steps)
        self.guidance.setValue(entry.guidance)
        self.width_box.setSingleStep(entry.size_multiple)
        self.height_box.setSingleStep(entry.size_multiple)
        self.width_box.setValue(entry.width)
        self.height_box.setValue(entry.height)
        for box in (self.width_box, self.height_box):
            box.setEnabled(not entry.fixed_size)
            box.setToolTip(f"{entry.name} makes {entry.width}x{entry.height} only" if entry.fixed_size
                           else f"multiples of {entry.size_multiple}")
        rule = entry.frames
        low, high = (rule.step + rule.offset) / entry.fps, rule.max / entry.fps
        self.duration.blockSignals(True)
        self.duration.setRange(math.floor(low * 100) / 100, math.ceil(high * 100) / 100)
        if not self._duration_touched:
            if self.target_seconds is not None:
                frames = covering_frames(rule.step, rule.offset, rule.max, entry.fps, self.target_seconds)
            elif self.recipe is not None and self.recipe.frames and self.recipe.fps:
                frames = covering_frames(rule.step, rule.offset, rule.max, entry.fps,
                                         float(self.recipe.frames / Fraction(self.recipe.fps)))
            else:
                frames = rule.default
            self.duration.setValue(round(frames / entry.fps, 2))  # as the snap line rounds it: no 3.13 vs 3.12
        self.duration.blockSignals(False)
        folder = self._installed.get(key)
        task = "image to video" if entry.task == "image-to-video" else "text to video"
        self.model_info.setText(f"{entry.family}, {task}; native {entry.width}x{entry.height} at {entry.fps:g} fps; "
                                f"{rule} frames" + (f"; {folder}" if folder is not None and entry.repo is None
                                                    else ""))
        if entry.licence is not None:
            lic = entry.licence
            self.licence.setText(f"Licence: <a href=\"{html.escape(lic.url)}\">{html.escape(lic.name)}</a>"
                                 + (f" — {html.escape(lic.note)}" if lic.note else ""))
        else:
            self.licence.setText("Licence: not recorded for a local folder; check the model's own terms")
        if folder is None:
            self.install.setText(f"Not installed. Get it with:  <code>{pull_command(entry)}</code>")
            self.install.setStyleSheet(f"color: {WARNING_COLOR}")
        else:
            self.install.setText("")
            self.install.setStyleSheet("")
        self.install.setVisible(folder is None)
        self._update_snap()
        self._validate()

    # --- length ----------------------------------------------------------------------------
    def _duration_changed(self, _value: float) -> None:
        self._duration_touched = True
        self._update_snap()

    def frames(self) -> int:
        entry = self.entry()
        return frames_for_seconds(entry, self.duration.value())[0] if entry is not None else 0

    def _update_snap(self) -> None:
        entry = self.entry()
        if entry is None:
            self.snap.setText("")
            return
        text = snap_text(entry, self.duration.value())
        if self.target_seconds is not None:
            actual = frames_for_seconds(entry, self.duration.value())[1]
            if actual > self.target_seconds + 1e-6:
                text += f"; cut to the {self.target_seconds:.2f} s gap"
            elif actual < self.target_seconds - 1e-6:
                text += f"; {self.target_seconds - actual:.2f} s short of the gap"
        self.snap.setText(text)

    # --- result ----------------------------------------------------------------------------
    def problem_text(self) -> str:
        """Why the dialog cannot be accepted ("" when it can)."""
        entry = self.entry()
        if entry is None:
            return "Choose a model (or a model folder)"
        if self.model_folder() is None:
            return f"{entry.name} is not installed; run: {pull_command(entry)}"
        if not self.prompt.toPlainText().strip():
            return "Describe the shot in the prompt"
        return ""

    def settings(self) -> ShotSettings:
        """The accepted settings; ValueError while ``problem_text()`` says why not."""
        problem = self.problem_text()
        if problem:
            raise ValueError(problem)
        entry, folder = self.entry(), self.model_folder()
        assert entry is not None and folder is not None
        width, height = snap_size(entry, self.width_box.value(), self.height_box.value())
        return ShotSettings(entry, folder, self.prompt.toPlainText().strip(), self.negative.text().strip(),
                            self.seed.value(), self.steps.value(), round(self.guidance.value(), 2), width, height,
                            self.frames())
