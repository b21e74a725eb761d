"""The Foley Sounds dialog: every sound source listed, catalogue models marked installed or not
(not installed: the pull command, OK disabled), a model's licence shown and a non-commercial one
accepted by a tick that is remembered, local folders and the remembered choices. No dialog is ever
shown (the tests drive the widgets)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from studio.ui.foley_dialog import CHOOSE, MOTION, FoleyDialog, non_commercial
from tests.ai.foley.test_video_to_audio import ClickModel


class FreeModel(ClickModel):
    """A video-to-audio stand-in whose licence allows commercial use (no tick needed)."""

    name = "free-clicks"

    @property
    def licence(self):
        from studio.ai.foley.sources.video_to_audio import V2ALicence

        return V2ALicence("MIT", "https://opensource.org/license/mit", True)


V2A = {"clicks": ClickModel, "free-clicks": FreeModel}


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """An empty app models folder and Hugging Face cache: nothing is installed until a test says so."""
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("SHOTLINE_MODELS_DIR", str(folder))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    return folder


def install(models_dir: Path, model_id: str, cls: str) -> Path:
    """Make a catalogue model "installed" (what ``locate`` looks for; the dialog loads no weights)."""
    folder = models_dir / model_id
    folder.mkdir()
    name = "config.json" if cls == "CLIPModel" else "model_index.json"
    (folder / name).write_text(json.dumps({"_class_name": cls, "model_type": "clip"}))
    return folder


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def make(qtbot, settings, **kw) -> FoleyDialog:
    dialog = FoleyDialog(settings=settings, v2a_models=kw.pop("v2a_models", V2A), **kw)
    qtbot.addWidget(dialog)
    return dialog


def items(dialog) -> list[tuple[str, str]]:
    return [(dialog.source.itemData(i), dialog.source.itemText(i)) for i in range(dialog.source.count())]


def test_lists_every_source_and_defaults_to_synthesis(qtbot, settings, models_dir):
    dialog = make(qtbot, settings)
    listed = dict(items(dialog))
    assert list(listed) == ["synth", "bank", "id:audioldm2", "id:stable-audio-open-1.0", "v2a:clicks",
                            "v2a:free-clicks", CHOOSE]
    assert listed["synth"] == "Synthesis" and listed["bank"] == "Sample bank"
    assert listed["id:audioldm2"] == "AudioLDM 2 — not installed, 6 GB"
    assert listed["v2a:clicks"] == "clicks — video to audio"
    assert dialog.source.currentData() == "synth" and dialog.ok_button.isEnabled()
    assert not dialog.seed.isEnabled() and not dialog.steps.isEnabled()  # no model: nothing to seed
    assert not dialog.accept_licence.isVisibleTo(dialog)
    choice = dialog.choice()
    assert (choice.backend, choice.model, choice.clip_model, choice.override) == ("synth", None, None, False)
    labels = [dialog.labels.itemData(i) for i in range(dialog.labels.count())]
    assert labels == [MOTION, "id:clip-vit-base-patch32"]
    dialog.select_source("bank")
    assert "CC0" in dialog.licence.text() and dialog.choice().backend == "bank"


def test_a_model_that_is_not_installed_shows_the_pull_command_and_blocks_ok(qtbot, settings, models_dir):
    dialog = make(qtbot, settings)
    assert dialog.select_source("id:audioldm2")
    assert dialog.install.isVisibleTo(dialog) and "studio models pull audioldm2" in dialog.install.text()
    assert not dialog.ok_button.isEnabled()
    assert dialog.problem_text() == "AudioLDM 2 is not installed; run: studio models pull audioldm2"
    assert "CC BY-NC-SA 4.0" in dialog.licence.text()  # the licence is shown before installing too
    with pytest.raises(ValueError, match="studio models pull audioldm2"):
        dialog.choice()
    dialog.accept()
    assert dialog.result() != FoleyDialog.DialogCode.Accepted
    # CLIP labels: the same for the label model
    dialog.select_source("synth")
    assert dialog.ok_button.isEnabled()
    dialog.labels.setCurrentIndex(dialog.labels.findData("id:clip-vit-base-patch32"))
    assert "studio models pull clip-vit-base-patch32" in dialog.labels_info.text()
    assert not dialog.ok_button.isEnabled()
    # an override prompt needs no labelling model (and needs a prompt)
    dialog.mode.setCurrentIndex(dialog.mode.findData("override"))
    assert not dialog.labels.isEnabled() and not dialog.ok_button.isEnabled()
    dialog.prompt.setText("metal  clang")
    assert dialog.ok_button.isEnabled()
    choice = dialog.choice()
    assert choice.override and choice.prompt == "metal clang" and choice.clip_model is None


def test_a_non_commercial_licence_needs_the_tick_once(qtbot, settings, models_dir):
    folder = install(models_dir, "audioldm2", "AudioLDM2Pipeline")
    install(models_dir, "stable-audio-open-1.0", "StableAudioPipeline")
    clip = install(models_dir, "clip-vit-base-patch32", "CLIPModel")
    dialog = make(qtbot, settings)
    assert dict(items(dialog))["id:audioldm2"] == "AudioLDM 2 — installed, 6 GB"
    dialog.select_source("id:audioldm2")
    assert not dialog.install.isVisibleTo(dialog)
    assert dialog.accept_licence.isVisibleTo(dialog) and "CC BY-NC-SA 4.0" in dialog.accept_licence.text()
    assert not dialog.accept_licence.isChecked() and not dialog.ok_button.isEnabled()
    assert "Accept the licence" in dialog.problem_text()
    assert dialog.seed.isEnabled() and dialog.steps.isEnabled() and dialog.steps.value() == 200
    dialog.accept_licence.setChecked(True)
    assert dialog.ok_button.isEnabled()
    dialog.seed.setValue(11)
    dialog.steps.setValue(2)
    dialog.labels.setCurrentIndex(dialog.labels.findData("id:clip-vit-base-patch32"))
    choice = dialog.choice()
    assert (choice.backend, Path(choice.model), choice.seed, choice.steps, choice.accepted) == \
        ("tta", folder.resolve(), 11, 2, True)
    assert Path(choice.clip_model) == clip
    # the Stability AI Community License allows commercial use (under its revenue cap): no tick
    dialog.select_source("id:stable-audio-open-1.0")
    assert not dialog.accept_licence.isVisibleTo(dialog) and dialog.ok_button.isEnabled()
    assert "Stability AI Community License" in dialog.licence.text()
    # MMAudio-class video-to-audio plugin: CC BY-NC 4.0 needs the tick; a commercial one does not
    dialog.select_source("v2a:clicks")
    assert "CC BY-NC 4.0" in dialog.licence.text() and "NON-COMMERCIAL" in dialog.licence.text()
    assert dialog.accept_licence.isVisibleTo(dialog) and not dialog.ok_button.isEnabled()
    assert not dialog.steps.isEnabled() and dialog.seed.isEnabled()
    dialog.select_source("v2a:free-clicks")
    assert not dialog.accept_licence.isVisibleTo(dialog) and dialog.ok_button.isEnabled()
    assert dialog.choice().accepted and dialog.choice().model == "free-clicks"

    # accepted with the tick: remembered, so the next dialog opens on it, already accepted
    dialog.select_source("id:audioldm2")
    assert dialog.accept_licence.isChecked()  # ticked in this dialog a moment ago
    dialog.remember()
    again = make(qtbot, settings)
    assert again.source.currentData() == "id:audioldm2"
    assert again.accept_licence.isVisibleTo(again) and again.accept_licence.isChecked() and again.ok_button.isEnabled()
    assert (again.seed.value(), again.steps.value()) == (11, 2)
    assert again.labels.currentData() == "id:clip-vit-base-patch32"
    # ... but not for another non-commercial model
    again.select_source("v2a:clicks")
    assert not again.accept_licence.isChecked() and not again.ok_button.isEnabled()
    # unticking in a later dialog asks again
    again.select_source("id:audioldm2")
    again.accept_licence.setChecked(False)
    assert not again.ok_button.isEnabled()


def test_folder_choice_and_bad_folders(qtbot, settings, models_dir, tmp_path):
    video = tmp_path / "video-model"
    video.mkdir()
    (video / "model_index.json").write_text(json.dumps({"_class_name": "WanPipeline"}))
    audio = tmp_path / "my-audio"
    audio.mkdir()
    (audio / "model_index.json").write_text(json.dumps({"_class_name": "StableAudioPipeline"}))
    asked = []
    answers = iter([str(video), "", str(audio), str(audio)])

    def choose(start: str) -> str:
        asked.append(start)
        return next(answers)

    dialog = make(qtbot, settings, choose_folder=choose)
    dialog.source.setCurrentIndex(dialog.source.findData(CHOOSE))  # "Folder…": a video model is refused
    assert asked and dialog.source.currentData() == "synth"
    assert "not a text-to-audio pipeline" in dialog.problem.text() and dialog.problem.isVisibleTo(dialog)
    dialog.source.setCurrentIndex(dialog.source.findData(CHOOSE))  # cancelled picker: nothing changes
    assert dialog.source.currentData() == "synth"
    dialog.source.setCurrentIndex(dialog.source.findData(CHOOSE))  # no weights: refused
    assert "no .safetensors weight files" in dialog.problem.text() and dialog.source.currentData() == "synth"
    (audio / "transformer").mkdir()
    (audio / "transformer" / "diffusion_pytorch_model.safetensors").write_bytes(b"")
    dialog.source.setCurrentIndex(dialog.source.findData(CHOOSE))
    key = f"dir:{audio.resolve()}"
    assert dialog.source.currentData() == key and not dialog.problem.isVisibleTo(dialog)
    assert "not recorded for a local folder" in dialog.licence.text() and dialog.ok_button.isEnabled()
    assert dialog.steps.value() == 100 and dialog.choice().model == str(audio.resolve())
    dialog.remember()
    again = make(qtbot, settings)  # the folder is remembered and chosen again
    assert again.source.currentData() == key
    assert items(again)[-1][0] == CHOOSE


def test_non_commercial_names():
    assert non_commercial("CC BY-NC-SA 4.0") and non_commercial("CC BY-NC 4.0") and non_commercial("Non-Commercial")
    assert not non_commercial("Stability AI Community License") and not non_commercial("MIT")
    assert not non_commercial("CC BY 4.0")


def test_the_ambience_choice_is_offered_and_remembered(qtbot, settings, models_dir):
    dialog = make(qtbot, settings)
    kinds = [dialog.ambience.itemData(i) for i in range(dialog.ambience.count())]
    from studio.ai.foley.ambience import KINDS

    assert kinds == ["", *KINDS] and dialog.choice().ambience == ""
    dialog.ambience.setCurrentIndex(dialog.ambience.findData("rain"))
    assert dialog.choice().ambience == "rain"
    dialog.remember()
    assert make(qtbot, settings).choice().ambience == "rain"
