"""The model catalogue (shipped data validates, frame and size rules), locating weights in the
app's models folder and a fake Hugging Face cache, safetensors-only, folders not in the catalogue.

No network: folders are written here (model_index.json + tiny safetensors files)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from studio.ai.models.catalogue import (
    PIPELINES,
    CatalogueError,
    UnknownModel,
    catalogue_path,
    frames_for_seconds,
    get_model,
    load_catalogue,
    parse_catalogue,
    snap_size,
)
from studio.ai.models.locate import (
    NotAModelFolder,
    UnsafeWeights,
    check_safetensors_only,
    entry_from_folder,
    find_installs,
    is_safetensors_only,
    locate,
    models_dir,
    pull_patterns,
    require_local,
    verify_folder,
)
from studio.ai.models.memory import MemoryPlan
from studio.core.errors import StudioError

_COMPONENTS = {
    "WanPipeline": {"transformer": "WanTransformer3DModel", "vae": "AutoencoderKLWan"},
    "CogVideoXPipeline": {"transformer": "CogVideoXTransformer3DModel", "vae": "AutoencoderKLCogVideoX"},
}


def make_model_folder(folder: Path, pipeline: str = "WanPipeline", *, transformer_config: dict | None = None) -> Path:
    """A minimal diffusers-layout folder: model_index.json, configs, tiny safetensors weights."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = _COMPONENTS.get(pipeline, _COMPONENTS["WanPipeline"])
    index = {"_class_name": pipeline, "_diffusers_version": "0.42.0",
             "scheduler": ["diffusers", "UniPCMultistepScheduler"],
             **{name: ["diffusers", cls] for name, cls in parts.items()}}
    (folder / "model_index.json").write_text(json.dumps(index))
    (folder / "scheduler").mkdir(exist_ok=True)
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps({"_class_name": "UniPCMultistepScheduler"}))
    for name, cls in parts.items():
        (folder / name).mkdir(exist_ok=True)
        config = {"_class_name": cls, **(transformer_config or {} if name == "transformer" else {})}
        (folder / name / "config.json").write_text(json.dumps(config))
        weights = folder / name / "diffusion_pytorch_model.safetensors"
        save_file({"weight": np.zeros((2, 2), dtype=np.float32)}, str(weights))
    return folder


@pytest.fixture
def models_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOTLINE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path


def _raw() -> dict:
    return json.loads(catalogue_path().read_text())


# --------------------------------------------------------------------------- the shipped catalogue


def test_shipped_catalogue_has_the_required_models():
    cat = load_catalogue()
    for model_id in ("cogvideox1.5-5b", "cogvideox1.5-5b-i2v", "cogvideox-2b", "cogvideox-5b",
                     "wan2.1-t2v-1.3b", "wan2.1-i2v-14b-480p", "wan2.2-i2v-a14b", "wan2.2-ti2v-5b", "ltx-video"):
        assert model_id in cat
    assert {e.pipeline for e in cat.values()} == set(PIPELINES)
    for e in cat.values():
        assert e.licence is not None and e.licence.url.startswith("https://")
        assert e.size_gb and e.revision and e.scheduler
        assert e.frames.valid(e.frames.default) and e.width % e.size_multiple == 0
        plans = e.memory_bytes()
        assert set(plans) == set(MemoryPlan)
        assert plans[MemoryPlan.NONE] >= plans[MemoryPlan.MODEL_CPU_OFFLOAD] >= plans[MemoryPlan.SEQUENTIAL_CPU_OFFLOAD]
    assert cat["cogvideox-2b"].licence.name == "Apache-2.0"
    assert cat["cogvideox-5b"].licence.name == cat["cogvideox1.5-5b"].licence.name == "CogVideoX License"
    assert cat["wan2.1-t2v-1.3b"].licence.name == "Apache-2.0"


def test_every_video_entry_has_the_issues_fields():
    """id, family, task, repo, revision, download size, licence, native sizes, fps, frame rule, steps,
    guidance, scheduler and memory per plan; licences as known for each family."""
    for e in (e for e in load_catalogue().values() if e.is_video):
        assert e.id and e.family in ("cogvideox", "wan", "ltx") and e.task in ("text-to-video", "image-to-video")
        assert e.repo and e.repo.count("/") == 1 and e.revision and e.size_gb > 0
        assert (e.width, e.height) in e.sizes and e.fps > 0 and e.frames.valid(e.frames.default)
        assert e.steps > 0 and e.guidance > 0 and e.scheduler
        assert set(e.memory_bytes()) == set(MemoryPlan)
        lic = e.licence
        if e.family == "wan" or e.id == "cogvideox-2b":
            assert lic.name == "Apache-2.0" and lic.url == "https://www.apache.org/licenses/LICENSE-2.0"
        elif e.family == "cogvideox":
            assert lic.name == "CogVideoX License" and lic.url == f"https://huggingface.co/{e.repo}/blob/main/LICENSE"
        else:
            assert "Open Weights" in lic.name and lic.url.endswith("/Lightricks/LTX-Video/blob/main/"
                                                                 "LTX-Video-Open-Weights-License-0.X.txt")
            assert not lic.verified and "$10M" in lic.note


@pytest.mark.parametrize(("model_id", "size", "fps", "rule"), [
    ("cogvideox1.5-5b", (1360, 768), 16, "16N+1"),
    ("cogvideox-2b", (720, 480), 8, "8N+1"),
    ("cogvideox-5b", (720, 480), 8, "8N+1"),
    ("wan2.1-t2v-1.3b", (832, 480), 16, "4N+1"),
    ("wan2.1-i2v-14b-480p", (832, 480), 16, "4N+1"),
    ("wan2.2-i2v-a14b", (1280, 720), 16, "4N+1"),
    ("ltx-video", (768, 512), 24, "8N+1"),
])
def test_native_rules(model_id, size, fps, rule):
    e = get_model(model_id)
    assert ((e.width, e.height), e.fps, str(e.frames)) == (size, fps, rule)


def test_frames_for_seconds_snaps_to_the_rule():
    assert frames_for_seconds(get_model("cogvideox1.5-5b"), 5) == (81, 5.0625)
    assert get_model("cogvideox1.5-5b").describe_frames(5) == "5.06 s = 81 frames at 16 fps"
    assert frames_for_seconds(get_model("cogvideox1.5-5b"), 10) == (161, 161 / 16)
    assert frames_for_seconds(get_model("cogvideox1.5-5b"), 60)[0] == 161  # clamped to the maximum
    assert frames_for_seconds(get_model("cogvideox-5b"), 6) == (49, 49 / 8)
    assert frames_for_seconds(get_model("cogvideox-5b"), 0.01)[0] == 9  # at least one step
    assert frames_for_seconds(get_model("wan2.1-t2v-1.3b"), 5) == (81, 81 / 16)
    assert frames_for_seconds(get_model("wan2.1-t2v-1.3b"), 2)[0] == 33
    ltx = get_model("ltx-video")
    frames, seconds = frames_for_seconds(ltx, 5)
    assert frames == 121 and (frames - 1) % 8 == 0 and seconds == pytest.approx(5.04, abs=0.01)
    with pytest.raises(StudioError):
        frames_for_seconds(ltx, 0)


def test_snap_size():
    assert snap_size(get_model("ltx-video"), 1000, 500) == (992, 512)
    assert snap_size(get_model("ltx-video"), 10, 10) == (32, 32)
    assert snap_size(get_model("wan2.1-t2v-1.3b"), 850, 470) == (848, 464)
    assert snap_size(get_model("cogvideox-5b"), 1920, 1080) == (720, 480)  # one native size only


def test_get_model_by_repo_and_case_and_unknown_lists_close_ids():
    assert get_model("CogVideoX-5b").id == "cogvideox-5b"
    assert get_model("THUDM/CogVideoX-2b").id == "cogvideox-2b"
    assert get_model("Wan-AI/Wan2.1-T2V-1.3B-Diffusers").id == "wan2.1-t2v-1.3b"
    with pytest.raises(UnknownModel) as err:
        get_model("cogvidex-5b")
    assert isinstance(err.value, StudioError)
    assert "cogvideox-5b" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(("path", "value", "named"), [
    (("fps",), "fast", "models[2] (cogvideox-2b).fps"),
    (("frames", "default"), 50, "models[2] (cogvideox-2b).frames.default"),
    (("pipeline",), "StableDiffusionPipeline", "models[2] (cogvideox-2b).pipeline"),
    (("pipeline",), "WanPipeline", "models[2] (cogvideox-2b).pipeline"),
    (("licence", "url"), None, "models[2] (cogvideox-2b).licence.url"),
    (("memory_gb", "model_cpu_offload"), -1, "models[2] (cogvideox-2b).memory_gb.model_cpu_offload"),
    (("width",), 721, "models[2] (cogvideox-2b).width"),
])
def test_a_bad_catalogue_names_the_field(path, value, named):
    data = copy.deepcopy(_raw())
    target = data["models"][2]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(data, "catalogue.json")
    assert named in str(err.value) and "\n" not in str(err.value)


def test_a_missing_field_and_a_bad_file(tmp_path):
    data = copy.deepcopy(_raw())
    del data["models"][0]["repo"]
    with pytest.raises(CatalogueError, match=r"models\[0\] \(cogvideox1.5-5b\)\.repo: expected .*, missing"):
        parse_catalogue(data)
    data = copy.deepcopy(_raw())
    data["models"][1]["id"] = data["models"][0]["id"]
    with pytest.raises(CatalogueError, match="used twice"):
        parse_catalogue(data)
    bad = tmp_path / "c.json"
    bad.write_text("{not json")
    with pytest.raises(CatalogueError, match="not valid JSON"):
        load_catalogue(bad)


# --------------------------------------------------------------------------- locating weights


def test_models_dir_env_override(models_env):
    assert models_dir() == models_env / "models"


def test_locate_in_the_models_dir(models_env):
    entry = get_model("wan2.1-t2v-1.3b")
    assert locate(entry) is None
    with pytest.raises(StudioError, match="studio models pull wan2.1-t2v-1.3b"):
        require_local(entry)
    folder = make_model_folder(models_env / "models" / "wan2.1-t2v-1.3b")
    assert locate(entry) == folder
    assert is_safetensors_only(folder) and verify_folder(folder, entry) == []


def _fake_hf_cache(root: Path, repo: str, commit: str = "0123abcd", *, ref: str | None = "main") -> Path:
    repo_dir = root / ("models--" + repo.replace("/", "--"))
    snap = make_model_folder(repo_dir / "snapshots" / commit, "CogVideoXPipeline",
                             transformer_config={"sample_width": 90, "sample_height": 60, "sample_frames": 13})
    if ref:
        (repo_dir / "refs").mkdir(parents=True)
        (repo_dir / "refs" / ref).write_text(commit)
    return snap


def test_locate_in_the_hf_cache(models_env):
    entry = get_model("cogvideox-2b")
    snap = _fake_hf_cache(models_env / "hub", entry.repo)
    assert locate(entry) == snap
    assert [i.where for i in find_installs(entry)] == ["hf-cache"]
    # the app's own copy is preferred
    own = make_model_folder(models_env / "models" / "cogvideox-2b", "CogVideoXPipeline")
    assert locate(entry) == own


def test_locate_in_the_hf_cache_under_an_old_name_without_a_ref(models_env):
    entry = get_model("cogvideox-5b")
    snap = _fake_hf_cache(models_env / "hub", "THUDM/CogVideoX-5b", ref=None)
    assert locate(entry) == snap


def test_pickle_only_weights_are_refused(tmp_path):
    folder = make_model_folder(tmp_path / "m")
    (folder / "transformer" / "diffusion_pytorch_model.safetensors").unlink()
    (folder / "transformer" / "diffusion_pytorch_model.bin").write_bytes(b"\x80\x02pickle")
    assert not is_safetensors_only(folder)
    with pytest.raises(UnsafeWeights, match=r"transformer/diffusion_pytorch_model\.bin.*safetensors only"):
        check_safetensors_only(folder)
    with pytest.raises(UnsafeWeights):
        entry_from_folder(folder)
    # a .bin beside a safetensors file is fine (diffusers loads the safetensors one)
    save_file({"w": np.zeros(1, dtype=np.float32)}, str(folder / "transformer" / "diffusion_pytorch_model.safetensors"))
    assert is_safetensors_only(folder)


def test_entry_from_folder_not_in_the_catalogue(tmp_path):
    entry = entry_from_folder(make_model_folder(tmp_path / "my-wan"))
    assert (entry.family, entry.task, entry.pipeline) == ("wan", "text-to-video", "WanPipeline")
    assert (entry.width, entry.height, entry.fps, str(entry.frames)) == (832, 480, 16, "4N+1")
    assert entry.path == (tmp_path / "my-wan").resolve() and locate(entry) == entry.path
    assert entry.scheduler == "UniPCMultistepScheduler" and entry.repo is None
    assert frames_for_seconds(entry, 5) == (81, 81 / 16)

    cog = entry_from_folder(make_model_folder(tmp_path / "cog", "CogVideoXPipeline",
                                              transformer_config={"sample_width": 90, "sample_height": 60,
                                                                  "sample_frames": 13}))
    assert (cog.width, cog.height, cog.fps, cog.frames.default) == (720, 480, 8, 49)
    cog15 = entry_from_folder(make_model_folder(tmp_path / "cog15", "CogVideoXPipeline",
                                                transformer_config={"patch_size_t": 2}))
    assert (cog15.width, cog15.height, cog15.fps, str(cog15.frames)) == (1360, 768, 16, "16N+1")


def test_entry_from_folder_refuses_other_pipelines(tmp_path):
    folder = make_model_folder(tmp_path / "sd", "StableDiffusionPipeline")
    with pytest.raises(NotAModelFolder, match="'StableDiffusionPipeline' is not a supported video pipeline"):
        entry_from_folder(folder)
    with pytest.raises(NotAModelFolder, match="no model_index.json"):
        entry_from_folder(tmp_path)


def test_verify_folder_finds_problems(tmp_path):
    folder = make_model_folder(tmp_path / "m")
    (folder / "vae" / "diffusion_pytorch_model.safetensors").write_bytes(b"\xff" * 64)
    (folder / "transformer" / "diffusion_pytorch_model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {"a": "diffusion_pytorch_model-00002-of-00002.safetensors"}}))
    problems = verify_folder(folder, get_model("cogvideox-2b"))
    assert any("not a cogvideox pipeline" in p for p in problems)
    assert any(p.startswith("vae/diffusion_pytorch_model.safetensors: unreadable") for p in problems)
    assert any("00002-of-00002.safetensors: missing" in p for p in problems)


def test_pull_patterns_take_only_safe_files():
    patterns = pull_patterns({"_class_name": "LTXPipeline", "transformer": ["diffusers", "X"], "vae": ["d", "Y"],
                              "feature_extractor": [None, None]})
    assert "model_index.json" in patterns and "transformer/*.safetensors" in patterns
    assert not any(p.endswith((".bin", ".pt", ".ckpt")) or p == "*.safetensors" for p in patterns)
    assert not any(p.startswith("feature_extractor") for p in patterns)


@pytest.mark.parametrize("model_id", [e.id for e in load_catalogue().values() if e.is_video])
def test_every_catalogue_model_snaps_to_the_nearest_valid_count(model_id):
    """For each video entry (every family): the snapped count follows its rule, stays in range, and no valid
    count is nearer the asked length."""
    e = get_model(model_id)
    rule = e.frames
    valid = list(range(rule.step + rule.offset, rule.max + 1, rule.step))
    for seconds in (0.05, 0.5, 1, 2.4, 3.3, 5, 7.7, 30):
        frames, actual = frames_for_seconds(e, seconds)
        assert rule.valid(frames) and actual == frames / e.fps
        wanted = seconds * e.fps
        assert abs(frames - wanted) <= min(abs(v - wanted) for v in valid) + 1e-9, (seconds, frames)
