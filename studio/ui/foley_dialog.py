"""The "Foley Sounds" dialog: where a foley pass's sounds come from, before any is made.

Sources: procedural synthesis, the CC0 sample bank, any other ``studio.foley_sources`` plugin,
each text-to-audio model of the catalogue (installed or not), a local text-to-audio diffusers
folder ("Folder…"), and each installed video-to-audio plugin (``studio.v2a_models``). The chosen
model's licence is shown; a non-commercial one (CC BY-NC…, MMAudio's CC BY-NC 4.0) needs "I accept
the licence" ticked before OK, and the acceptance is remembered per model (and licence) so it is
asked once. A catalogue model that is not on this machine shows the exact ``studio models pull
ID`` command and OK stays disabled. A prompt biases (or overrides) the labels; seed and steps
apply to model sources; labels can come from a local CLIP model. Every choice is remembered in
QSettings; the default source is the last one used, else synthesis.

Imported on demand (it reads the model catalogue and the plugin lists), never at editor start-up.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.ai.foley.sources.base import available_sources
from studio.ai.foley.sources.text_to_audio import AUDIO_PIPELINES
from studio.ai.foley.sources.video_to_audio import VideoToAudioModel, available_models, needs_acceptance
from studio.ai.models.catalogue import ModelEntry, load_catalogue
from studio.ai.models.locate import check_safetensors_only, locate, read_model_index
from studio.core.errors import StudioError

from .checked_dialog import CheckedDialog
from .foley_jobs import V2A, FoleyChoice
from .foley_sources import BUILTIN, BUILTIN_LICENCE, SourceEntry, licence_html, non_commercial
from .generate_dialog import pull_command
from .theme import MUTED_COLOR, WARNING_COLOR

CHOOSE = "choose"
MOTION = "motion"
MAX_SEED = 2**31 - 1
MAX_FOLDERS = 8
#: QSettings keys
SOURCE_KEY, FOLDERS_KEY, PROMPT_KEY, MODE_KEY = "foley/source", "foley/folders", "foley/prompt", "foley/prompt_mode"
SEED_KEY, STEPS_KEY, LABELS_KEY, ACCEPTED_KEY = "foley/seed", "foley/steps", "foley/labels", "foley/accepted"
AMBIENCE_KEY = "foley/ambience"
#: ambience beds offered (``studio.ai.foley.ambience.KINDS``; "" = none), in the order listed
AMBIENCES = (("", "None"), ("room", "Room tone"), ("wind", "Wind"), ("rain", "Rain"))
class FoleyDialog(CheckedDialog):
    """Ask where the foley sounds come from. ``settings`` is where choices and licence acceptances
    are remembered (None: the application's QSettings); ``catalogue`` and ``v2a_models`` replace the
    installed ones (tests); ``choose_folder(start)`` replaces the folder picker (tests)."""

    def __init__(self, *, title: str = "Make Foley Sounds", target_text: str = "", ok_text: str = "Make Sounds",
                 settings: QSettings | None = None, catalogue: Mapping[str, ModelEntry] | None = None,
                 v2a_models: Mapping[str, Callable[[], VideoToAudioModel]] | None = None,
                 choose_folder: Callable[[str], str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.qsettings = settings if settings is not None else QSettings()
        self._choose_folder = choose_folder or self._pick_folder
        self._sources: dict[str, SourceEntry] = {}
        self._clips: dict[str, tuple[ModelEntry, Path | None]] = {}
        self._last_key: str | None = None
        self._ticked: dict[str, bool] = {}  # source key -> the licence tick as set in this dialog
        self._steps: dict[str, int] = {}  # source key -> the steps set for it in this dialog
        self.setWindowTitle(title)
        self.setMinimumWidth(600)

        self.header = QLabel(target_text, self)
        self.header.setWordWrap(True)
        self.source = QComboBox(self)
        self.source.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source_info = self._muted()
        self.licence = QLabel(self)
        self.licence.setOpenExternalLinks(True)
        self.licence.setWordWrap(True)
        self.install = QLabel(self)
        self.install.setWordWrap(True)
        self.install.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.install.setStyleSheet(f"color: {WARNING_COLOR}")
        self.accept_licence = QCheckBox(self)
        self.accept_licence.toggled.connect(self._ticked_changed)
        self.prompt = QLineEdit(self)
        self.prompt.setPlaceholderText("Optional: \"footsteps on gravel\", \"metal clang\"…")
        self.prompt.setClearButtonEnabled(True)
        self.mode = QComboBox(self)
        self.mode.addItem("Bias the labels", "bias")
        self.mode.addItem("Override every label", "override")
        self.mode.setToolTip("Bias: the prompt nudges each event's label; override: it becomes every event's label")
        self.seed = QSpinBox(self)
        self.seed.setRange(0, MAX_SEED)
        self.steps = QSpinBox(self)
        self.steps.setRange(0, 1000)
        self.steps.setSpecialValueText("—")  # 0: shown while the source has no steps
        self.steps.setToolTip("Denoising steps of a text-to-audio model (fewer: faster, rougher)")
        self.steps.valueChanged.connect(self._steps_changed)
        self.labels = QComboBox(self)
        self.labels.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.labels_info = self._muted()
        self.ambience = QComboBox(self)
        for kind, text in AMBIENCES:
            self.ambience.addItem(text, kind)
        self.ambience.setToolTip("A quiet continuous bed under each clip's sounds, on its own Ambience track")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        source_box = QVBoxLayout()
        source_box.setSpacing(3)
        for w in (self.source, self.source_info, self.licence, self.install, self.accept_licence):
            source_box.addWidget(w)
        prompt_row = QHBoxLayout()
        prompt_row.addWidget(self.prompt, 1)
        prompt_row.addWidget(self.mode)
        model_row = QHBoxLayout()
        model_row.addWidget(self.seed, 1)
        model_row.addSpacing(12)
        self.steps_label = QLabel("Steps", self)
        model_row.addWidget(self.steps_label)
        model_row.addWidget(self.steps, 1)
        labels_box = QVBoxLayout()
        labels_box.setSpacing(3)
        labels_box.addWidget(self.labels)
        labels_box.addWidget(self.labels_info)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Source", source_box)
        form.addRow("Prompt", prompt_row)
        form.addRow("Seed", model_row)
        form.addRow("Labels", labels_box)
        form.addRow("Ambience", self.ambience)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.header.setVisible(bool(target_text))

        entries = self._catalogue(catalogue)
        self._fill_sources(entries, v2a_models)
        self._fill_labels(entries)
        self._restore()
        self.source.currentIndexChanged.connect(self._source_changed)
        self.labels.currentIndexChanged.connect(lambda _i: self._labels_changed())
        self.mode.currentIndexChanged.connect(lambda _i: self._labels_changed())
        self.prompt.textChanged.connect(lambda _t: self._validate())
        self._source_changed()
        self._labels_changed()

    def _muted(self) -> QLabel:
        label = QLabel(self)
        label.setStyleSheet(f"color: {MUTED_COLOR}")
        label.setWordWrap(True)
        return label

    # --- filling the lists -----------------------------------------------------------------
    def _catalogue(self, catalogue: Mapping[str, ModelEntry] | None) -> list[ModelEntry]:
        try:
            return list((catalogue if catalogue is not None else load_catalogue()).values())
        except StudioError as e:
            self._say(str(e))
            return []

    def _add(self, src: SourceEntry, text: str, before_choose: bool = False) -> None:
        self._sources[src.key] = src
        at = self.source.findData(CHOOSE)
        if before_choose and at >= 0:
            self.source.insertItem(at, text, src.key)
        else:
            self.source.addItem(text, src.key)

    def _fill_sources(self, entries: list[ModelEntry], v2a_models) -> None:
        for name, (title, info) in BUILTIN.items():
            self._add(SourceEntry(name, name, title, info, BUILTIN_LICENCE[name]), title)
        for name in available_sources():
            if name not in BUILTIN and name != "tta":
                self._add(SourceEntry(f"plugin:{name}", name, name, f"The {name} foley source (a plugin)",
                                  "Licence: see the plugin's own terms"), f"{name} (plugin)")
        for entry in entries:
            if entry.task != "text-to-audio":
                continue
            folder = locate(entry)
            lic = entry.licence
            size = f", {entry.size_gb:g} GB" if entry.size_gb else ""
            state = "installed" if folder is not None else "not installed"
            name = entry.name.split(" (")[0]
            self._add(SourceEntry(f"id:{entry.id}", "tta", name,
                              f"Text to audio ({entry.pipeline}): one generation per distinct prompt, each hit "
                              "aligned on its transient",
                              licence_html(lic.name, lic.url, lic.note) if lic else "Licence: not recorded",
                              lic.name if lic else "", bool(lic and non_commercial(lic.name)), folder,
                              pull_command(entry), entry.steps),
                      f"{name} — {state}{size}")
        for folder in self.folders():
            self._add_folder(folder, quiet=True)
        models = available_models() if v2a_models is None else v2a_models
        for name, factory in models.items():
            try:
                model = factory()
                lic = model.licence
            except Exception as e:  # a broken plugin is listed as unusable, not fatal to the dialog
                self._add(SourceEntry(f"v2a:{name}", V2A, name, f"This plugin cannot be loaded: {e}", "",
                                  pull="(fix or reinstall the plugin)"), f"{name} — video to audio, broken")
                continue
            use = "commercial use allowed" if lic.commercial_use else "NON-COMMERCIAL use only"
            self._add(SourceEntry(f"v2a:{name}", V2A, model.name,
                              "Video to audio: writes each clip's whole soundtrack from its picture (one sound per "
                              "clip; the events go along as timing hints)",
                              licence_html(lic.name, lic.url, f"{use}. {lic.summary}".strip()),
                              lic.name, needs_acceptance(model), Path(".")),
                      f"{model.name} — video to audio")
        self.source.addItem("Folder…", CHOOSE)
        self.source.setItemData(self.source.count() - 1, "A local text-to-audio diffusers folder "
                                "(AudioLDM 2 or Stable Audio)", Qt.ItemDataRole.ToolTipRole)

    def _fill_labels(self, entries: list[ModelEntry]) -> None:
        self.labels.addItem("From motion (no model)", MOTION)
        for entry in entries:
            if entry.task != "zero-shot-image-classification":
                continue
            folder = locate(entry)
            self._clips[f"id:{entry.id}"] = (entry, folder)
            state = "installed" if folder is not None else "not installed"
            self.labels.addItem(f"{entry.name.split(' (')[0]} — {state}", f"id:{entry.id}")

    def _add_folder(self, folder: str | os.PathLike[str], *, quiet: bool = False) -> str | None:
        """List a local text-to-audio folder (before "Folder…"); its key, or None with the reason shown."""
        path = Path(folder).expanduser()
        try:
            path = path.resolve()
            if not path.is_dir():
                raise StudioError(f"{folder}: no such folder")
            cls = read_model_index(path)["_class_name"]
            if cls not in AUDIO_PIPELINES:
                raise StudioError(f"{path.name}: pipeline {cls!r} is not a text-to-audio pipeline "
                                  f"(supported: {', '.join(AUDIO_PIPELINES)})")
            check_safetensors_only(path)
        except StudioError as e:
            if not quiet:
                self._say(str(e))
            return None
        key = f"dir:{path}"
        if key not in self._sources:
            self._add(SourceEntry(key, "tta", path.name, f"Text to audio ({cls}) from the folder {path}",
                              "Licence: not recorded for a local folder; check the model's own terms",
                              folder=path, steps=100 if cls == "StableAudioPipeline" else 200),
                      f"{path.name} — folder {path}", before_choose=True)
        return key

    def _pick_folder(self, start: str) -> str:
        return QFileDialog.getExistingDirectory(self, "Choose a text-to-audio diffusers folder", start)

    # --- remembered choices ------------------------------------------------------------------
    def folders(self) -> list[str]:
        value = self.qsettings.value(FOLDERS_KEY, [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in value or [] if os.path.isdir(str(v))]

    def _restore(self) -> None:
        q = self.qsettings
        self._select(str(q.value(SOURCE_KEY, "synth") or "synth"), default="synth")
        self.prompt.setText(str(q.value(PROMPT_KEY, "") or ""))
        self.mode.setCurrentIndex(max(0, self.mode.findData(str(q.value(MODE_KEY, "bias") or "bias"))))
        self.seed.setValue(int(q.value(SEED_KEY, 0, type=int) or 0))
        label = str(q.value(LABELS_KEY, MOTION) or MOTION)
        self.labels.setCurrentIndex(max(0, self.labels.findData(label)))
        self.ambience.setCurrentIndex(max(0, self.ambience.findData(str(q.value(AMBIENCE_KEY, "") or ""))))

    def remember(self) -> None:
        """Store the choices (the next dialog opens with them) and any licence accepted now."""
        q = self.qsettings
        key = self.source.currentData()
        src = self._sources.get(key)
        if src is None:
            return
        q.setValue(SOURCE_KEY, key)
        if key.startswith("dir:"):
            folder = str(src.folder)
            q.setValue(FOLDERS_KEY, ([folder] + [f for f in self.folders() if f != folder])[:MAX_FOLDERS])
        q.setValue(PROMPT_KEY, self.prompt.text().strip())
        q.setValue(MODE_KEY, self.mode.currentData())
        q.setValue(SEED_KEY, self.seed.value())
        for source_key, steps in self._steps.items():
            q.setValue(self._steps_key(source_key), steps)
        q.setValue(LABELS_KEY, self.labels.currentData())
        q.setValue(AMBIENCE_KEY, self.ambience.currentData())
        for other_key, on in self._ticked.items():
            other = self._sources[other_key]
            if on:
                q.setValue(self._accepted_key(other), other.licence_name)
            else:
                q.remove(self._accepted_key(other))
        q.sync()

    def _accepted_key(self, src: SourceEntry) -> str:
        return f"{ACCEPTED_KEY}/{src.key.replace('/', '_')}"

    def _ticked_changed(self, on: bool) -> None:
        src = self.current()
        if src is not None and src.needs_tick:
            self._ticked[src.key] = on
        self._validate()

    def accepted_before(self, src: SourceEntry) -> bool:
        return bool(src.licence_name) and self.qsettings.value(self._accepted_key(src), "") == src.licence_name

    def _steps_key(self, source_key: str) -> str:
        return f"{STEPS_KEY}/{source_key.replace('/', '_')}"

    def _steps_changed(self, value: int) -> None:
        src = self.current()
        if src is not None and src.backend == "tta":
            self._steps[src.key] = value

    # --- the source ------------------------------------------------------------------------

    def _select(self, key: str | None, default: str | None = None) -> None:
        i = self.source.findData(key) if key is not None else -1
        if i < 0 and default is not None:
            i = self.source.findData(default)
        if i >= 0:
            self.source.setCurrentIndex(i)

    def current(self) -> SourceEntry | None:
        return self._sources.get(self.source.currentData())

    def select_source(self, key: str) -> bool:
        """Choose the source listed under ``key`` ("synth", "bank", "id:ID", "dir:PATH", "v2a:NAME")."""
        i = self.source.findData(key)
        if i >= 0:
            self.source.setCurrentIndex(i)
        return i >= 0

    def set_folder(self, folder: str | os.PathLike[str]) -> bool:
        """Use the text-to-audio model in ``folder`` (as "Folder…" does); False with the reason shown."""
        key = self._add_folder(folder)
        if key is None:
            self._validate()
            return False
        self._say("")
        self._select(key)
        self._source_changed()
        return True

    def _source_changed(self, index: int = -1) -> None:
        key = self.source.currentData()
        if key == CHOOSE:
            self.source.blockSignals(True)
            self._select(self._last_key, default="synth")
            self.source.blockSignals(False)
            folder = self._choose_folder(str(Path.home()))
            if folder:
                self.set_folder(folder)
            return
        self._last_key = key
        if index >= 0:
            self._say("")
        src = self.current()
        if src is None:
            self._validate()
            return
        self.source_info.setText(src.info)
        self.licence.setText(src.licence_html)
        self.licence.setVisible(bool(src.licence_html))
        missing = src.backend in ("tta", V2A) and src.folder is None
        self.install.setText(f"Not installed. Get it with:  <code>{html.escape(src.pull)}</code>" if missing else "")
        self.install.setVisible(missing)
        self.accept_licence.setVisible(src.needs_tick)
        if src.needs_tick:
            self.accept_licence.setText(f"I accept the licence of {src.name} ({src.licence_name}): "
                                        "non-commercial use only")
            self.accept_licence.blockSignals(True)
            self.accept_licence.setChecked(self._ticked.get(src.key, self.accepted_before(src)))
            self.accept_licence.blockSignals(False)
        model = src.backend in ("tta", V2A)
        self.seed.setEnabled(model)
        self.steps.setEnabled(src.backend == "tta")
        self.steps_label.setEnabled(src.backend == "tta")
        self.steps.blockSignals(True)
        if src.backend == "tta":
            remembered = int(self.qsettings.value(self._steps_key(src.key), 0, type=int) or 0)
            self.steps.setMinimum(1)
            self.steps.setValue(self._steps.get(src.key) or remembered or src.steps or 50)
        else:
            self.steps.setMinimum(0)
            self.steps.setValue(0)
        self.steps.blockSignals(False)
        self._validate()

    def _labels_changed(self) -> None:
        override = self.mode.currentData() == "override"
        self.labels.setEnabled(not override)
        key = self.labels.currentData()
        if override:
            self.labels_info.setText("The prompt is every event's label: no labelling model runs")
            self.labels_info.setStyleSheet(f"color: {MUTED_COLOR}")
        elif key == MOTION:
            self.labels_info.setText("Labels from the motion analysis (\"impact (floor)\", \"motion onset\")")
            self.labels_info.setStyleSheet(f"color: {MUTED_COLOR}")
        else:
            entry, folder = self._clips[key]
            lic = entry.licence
            if folder is None:
                self.labels_info.setText(f"Not installed. Get it with:  <code>{html.escape(pull_command(entry))}"
                                         "</code>")
                self.labels_info.setStyleSheet(f"color: {WARNING_COLOR}")
            else:
                self.labels_info.setText("Zero-shot labels (material and action) from the picture at each event"
                                         + (f"; licence {lic.name}" if lic else ""))
                self.labels_info.setStyleSheet(f"color: {MUTED_COLOR}")
        self._validate()

    # --- result ----------------------------------------------------------------------------
    def problem_text(self) -> str:
        """Why the dialog cannot be accepted ("" when it can)."""
        src = self.current()
        if src is None:
            return "Choose where the sounds come from"
        if src.backend in ("tta", V2A) and src.folder is None:
            return f"{src.name} is not installed; run: {src.pull}"
        if src.needs_tick and not self.accept_licence.isChecked():
            return f"Accept the licence of {src.name} ({src.licence_name}) to use it"
        override = self.mode.currentData() == "override"
        if override and not self.prompt.text().strip():
            return "Write the prompt that overrides every label (or bias the labels instead)"
        key = self.labels.currentData()
        if not override and key != MOTION and self._clips[key][1] is None:
            entry = self._clips[key][0]
            return f"{entry.name.split(' (')[0]} is not installed; run: {pull_command(entry)}"
        return ""

    def choice(self) -> FoleyChoice:
        """The accepted choice; ValueError while ``problem_text()`` says why not."""
        problem = self.problem_text()
        if problem:
            raise ValueError(problem)
        src = self.current()
        assert src is not None
        override = self.mode.currentData() == "override"
        clip: Any = None
        if not override and self.labels.currentData() != MOTION:
            clip = str(self._clips[self.labels.currentData()][1])
        model: str | None = None
        if src.backend == "tta":
            model = str(src.folder)
        elif src.backend == V2A:
            model = src.key.removeprefix("v2a:")
        model_source = src.backend in ("tta", V2A)
        return FoleyChoice(backend=src.backend, model=model, prompt=" ".join(self.prompt.text().split()),
                           override=override, seed=self.seed.value() if model_source else 0,
                           steps=self.steps.value() if src.backend == "tta" else None, clip_model=clip,
                           accepted=src.needs_tick and self.accept_licence.isChecked() or not src.needs_tick,
                           name=src.name, ambience=self.ambience.currentData() or "")
