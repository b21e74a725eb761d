"""The Generate Shot dialog: the length snaps to the model and says so, a model that is not installed
gives its pull command and cannot be accepted, local folders work, Regenerate is prefilled."""

from __future__ import annotations

from fractions import Fraction

import pytest

from studio.ai.models.catalogue import load_catalogue
from studio.core.media_pool import Recipe
from studio.ui.generate_dialog import GenerateDialog, ShotSettings, snap_text
from tests.ai.generate.tiny_models import cogvideox_folder, cogvideox_i2v_folder


@pytest.fixture(autouse=True)
def no_installed_models(tmp_path, monkeypatch):
    """An empty app models folder and Hugging Face cache: nothing from this machine leaks in."""
    monkeypatch.setenv("SHOTLINE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return cogvideox_folder(tmp_path_factory)


@pytest.fixture
def make(qtbot):
    def make(**kw) -> GenerateDialog:
        d = GenerateDialog(**kw)
        qtbot.addWidget(d)
        return d

    return make


def test_duration_snaps_to_the_model_and_says_so_live(make):
    d = make()
    assert d.select_model("cogvideox1.5-5b")
    d.duration.setValue(5.0)
    assert d.snap.text() == "5.06 s = 81 frames at 16 fps" and d.frames() == 81
    d.duration.setValue(6.0)
    assert d.snap.text() == "6.06 s = 97 frames at 16 fps" and d.frames() == 97
    assert d.select_model("wan2.1-t2v-1.3b")  # 4N+1 at 16 fps, at most 81 frames
    d.duration.setValue(2.0)
    assert d.snap.text() == "2.06 s = 33 frames at 16 fps"
    assert snap_text(load_catalogue()["cogvideox-2b"], 3.0) == "3.12 s = 25 frames at 8 fps"


def test_a_model_that_is_not_installed_gives_the_pull_command_and_disables_ok(make):
    d = make()
    d.prompt.setPlainText("a red car at night")
    assert d.select_model("cogvideox1.5-5b")
    assert "not installed" in d.model.currentText()
    assert not d.install.isHidden() and "studio models pull cogvideox1.5-5b" in d.install.text()
    assert not d.ok_button.isEnabled()
    assert d.problem_text().endswith("is not installed; run: studio models pull cogvideox1.5-5b")
    assert "CogVideoX License" in d.licence.text()
    with pytest.raises(ValueError, match="studio models pull cogvideox1.5-5b"):
        d.settings()
    d.accept()
    assert d.result() == 0  # refused


def test_an_installed_catalogue_model_is_marked_and_accepted(make, tiny, tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "cogvideox-2b").symlink_to(tiny, target_is_directory=True)
    d = make()
    i = d.model.findData("id:cogvideox-2b")
    assert "— installed" in d.model.itemText(i)
    assert d.model.currentData() == "id:cogvideox-2b"  # the first installed model is preselected
    assert d.install.isHidden() and "Apache-2.0" in d.licence.text()
    assert not d.ok_button.isEnabled()  # no prompt yet
    d.prompt.setPlainText("a cat walks in the rain")
    assert d.ok_button.isEnabled()
    s = d.settings()
    assert (s.entry.id, s.folder, s.steps, s.guidance, s.width, s.height) == (
        "cogvideox-2b", tmp_path / "models" / "cogvideox-2b", 50, 6.0, 720, 480)
    assert s.request().revision == s.entry.revision and s.request().fps == 8


def test_folder_choice_reads_the_model_from_its_configs(make, tiny):
    asked = []
    d = make(target_seconds=2.4, choose_folder=lambda start: asked.append(start) or str(tiny))
    d.model.setCurrentIndex(d.model.findData("choose"))  # "Folder…"
    assert asked and d.model.currentData() == f"dir:{tiny.resolve()}"
    assert d.licence.text().startswith("Licence: not recorded")
    assert (d.width_box.value(), d.height_box.value()) == (16, 16) and not d.width_box.isEnabled()
    # 2.4 s at 8 fps (8N+1): the nearest count (17) would leave the gap short, so 25 frames fill it
    assert d.frames() == 25 and d.snap.text() == "3.12 s = 25 frames at 8 fps; cut to the 2.40 s gap"
    d.duration.setValue(2.0)
    assert d.snap.text() == "2.12 s = 17 frames at 8 fps; 0.27 s short of the gap"


def test_extend_needs_an_image_to_video_model(make, tiny, tmp_path_factory):
    d = make(mode="extend")
    assert all(d._entries[d.model.itemData(i)].task == "image-to-video"
               for i in range(d.model.count()) if d.model.itemData(i) != "choose")
    assert not d.set_folder(tiny)
    assert "is a text-to-video model; this needs an image-to-video model" in d.problem.text()
    assert d.set_folder(cogvideox_i2v_folder(tmp_path_factory)) and d.problem.text() == ""
    assert d.entry().task == "image-to-video"


def test_regenerate_is_prefilled_from_the_recipe_with_a_new_seed(make, tiny):
    recipe = Recipe("diffusers", tiny.name, "a dog runs on the street", negative_prompt="blur", seed=7,
                    steps=3, guidance=4.5, width=16, height=16, frames=17, fps=Fraction(8))
    d = make(mode="regenerate", recipe=recipe, folders=[str(tiny)])
    assert d.prompt.toPlainText() == "a dog runs on the street" and d.negative.text() == "blur"
    assert d.entry().id == tiny.name and d.model_folder() == tiny.resolve()
    assert d.steps.value() == 3 and d.guidance.value() == 4.5
    assert d.seed.value() != 7 and d.frames() == 17
    seeds = set()
    for _ in range(3):
        d.randomise.click()
        seeds.add(d.seed.value())
    assert len(seeds) > 1
    assert d.ok_button.isEnabled() and d.settings().prompt == "a dog runs on the street"

    lost = make(mode="regenerate", recipe=recipe)  # the folder is not known here: say so, do not swap models silently
    assert not lost.problem.isHidden() and f"({tiny.name}) is not on this machine" in lost.problem.text()
    lost.model.setCurrentIndex(lost.model.count() - 2)  # another model: the complaint goes
    assert lost.problem.isHidden()



def test_the_request_names_the_catalogue_entrys_pipeline(tmp_path):
    """ltx-video and ltx-video-i2v share one folder: Extend must load it as the image-to-video pipeline."""
    entry = load_catalogue()["ltx-video-i2v"]
    s = ShotSettings(entry, tmp_path, "the car drives on", "", 1, 2, 3.0, 64, 64, 9)
    assert s.request(image="x.png").pipeline == entry.pipeline == "LTXImageToVideoPipeline"
