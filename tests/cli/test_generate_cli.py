"""`studio generate` on a tiny random CogVideoX folder (built once per session, loaded like a user's)."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction

import pytest

from studio.core.factory import new_project
from studio.core.projectfile import load_project, save_project
from studio.media.probe import probe
from tests.ai.generate.tiny_models import cogvideox_folder
from tests.cli.helpers import assert_bad_input, run

FAST = ("--steps", "2", "--size", "16x16", "--seed", "3")


@pytest.fixture(scope="session")
def tiny_cogvideox(tmp_path_factory):
    return cogvideox_folder(tmp_path_factory)


def test_writes_an_mp4_and_its_recipe(tiny_cogvideox, tmp_path, capsys):
    out = tmp_path / "cat.mp4"
    code, stdout, err = run(capsys, "generate", "a cat walks", "--model-path", tiny_cogvideox, "--seconds", "1",
                            *FAST, "-o", out)
    assert code == 0, err
    assert "1.12 s = 9 frames at 8 fps" in stdout
    info = probe(out)
    assert info.video_frames == 9 and info.fps == 8 and (info.width, info.height) == (16, 16)
    recipe = json.loads((tmp_path / "cat.recipe.json").read_text())
    assert recipe["seed"] == 3 and recipe["prompt"] == "a cat walks" and recipe["steps"] == 2
    assert recipe["frames"] == 9 and recipe["backend"] == "diffusers"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.mp4", "cat.recipe.json"]


def project(tmp_path, width=16, height=16, fps=Fraction(8)):
    path = tmp_path / "p.studio"
    save_project(new_project(width, height, fps), path)
    return path


def test_into_places_takes_and_never_overwrites(tiny_cogvideox, tmp_path, capsys):
    path = project(tmp_path)
    code, stdout, err = run(capsys, "generate", "a dog", "--model-path", tiny_cogvideox, *FAST,
                            "--into", path, "--at", "1")
    assert code == 0, err
    take1 = tmp_path / "generated" / "a-dog-take1.mp4"
    assert "take 1" in stdout and take1.is_file()
    p = load_project(path)
    (clip,) = [c for t in p.sequence.tracks_of("video") for c in t.clips]
    assert clip.position == 8 and clip.duration == 49  # default 49 frames at 8 fps
    (asset,) = p.assets
    assert asset.recipe.seed == 3 and asset.recipe.prompt == "a dog" and asset.recipe.frames == 49
    before = hashlib.sha256(take1.read_bytes()).hexdigest()
    code, stdout, err = run(capsys, "generate", "a dog", "--model-path", tiny_cogvideox, *FAST[:-1], "4",
                            "--into", path, "--at", "1")
    assert code == 0, err
    assert (tmp_path / "generated" / "a-dog-take2.mp4").is_file()
    assert hashlib.sha256(take1.read_bytes()).hexdigest() == before
    p = load_project(path)
    assert sorted(a.recipe.seed for a in p.assets) == [3, 4]
    assert sum(len(t.clips) for t in p.sequence.tracks_of("video")) == 2  # the second on a free track


def test_into_conforms_when_the_project_differs(tiny_cogvideox, tmp_path, capsys):
    path = project(tmp_path, 32, 32, Fraction(16))
    code, stdout, err = run(capsys, "generate", "rain", "--model-path", tiny_cogvideox, *FAST, "--seconds", "1",
                            "--into", path, "--at", "0")
    assert code == 0, err
    assert "conforming…" in stdout
    (asset,) = load_project(path).assets
    assert (asset.info.width, asset.info.height) == (32, 32) and asset.info.fps == 16
    assert asset.recipe.conform and asset.recipe.seed == 3


def test_bad_input_is_one_line(tiny_cogvideox, tmp_path, capsys, monkeypatch):
    out = tmp_path / "x.mp4"
    code, _, err = run(capsys, "generate", "a cat", "--model-path", tmp_path / "nope", "-o", out)
    assert_bad_input(code, err, "does not exist")
    code, _, err = run(capsys, "generate", "a cat", "--model-path", tiny_cogvideox, "--size", "20x16", "-o", out)
    assert_bad_input(code, err, "multiples of 16")
    code, _, err = run(capsys, "generate", "a cat", "--model-path", tiny_cogvideox, "--size", "big", "-o", out)
    assert_bad_input(code, err, "bad --size")
    code, _, err = run(capsys, "generate", "a cat", "--model-path", tiny_cogvideox, "--width", "20", "--height", "16",
                       "-o", out)
    assert_bad_input(code, err, "multiples of 16")  # --width/--height go through the same checks
    code, _, err = run(capsys, "generate", "a cat", "--model-path", tiny_cogvideox, "--width", "32", "-o", out)
    assert_bad_input(code, err, "--width and --height together")
    code, _, err = run(capsys, "generate", "a cat", "--model-path", tiny_cogvideox, "--image", tmp_path / "no.png",
                       "-o", out)
    assert_bad_input(code, err, "no.png")
    code, _, err = run(capsys, "generate", "a cat", "--model-path", tiny_cogvideox)
    assert_bad_input(code, err, "exactly one of -o OUT or --into PROJECT")
    code, _, err = run(capsys, "generate", "a cat", "--model-path", tiny_cogvideox, "-o", tmp_path / "x.gif")
    assert_bad_input(code, err, ".mp4")
    assert not out.exists()


def test_catalogue_models_name_the_pull_command(tmp_path, capsys, monkeypatch):
    pytest.importorskip("studio.ai.models.catalogue")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("SHOTLINE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    code, _, err = run(capsys, "generate", "a cat", "--model", "no-such-model", "-o", tmp_path / "x.mp4")
    assert_bad_input(code, err, "no-such-model")
    code, _, err = run(capsys, "generate", "a cat", "--model", "cogvideox1.5-5b", "-o", tmp_path / "x.mp4")
    assert_bad_input(code, err, "studio models pull cogvideox1.5-5b")


def test_ctrl_c_cancels_and_leaves_nothing(tiny_cogvideox, tmp_path, capsys, monkeypatch):
    """Ctrl-C in the progress loop cancels the job (here: after step 1); exit 130, no partial file,
    no reserved take, the project unchanged."""
    from studio.cli import generate_cmd
    from studio.jobs import Cancelled, JobContext

    def interrupted(job):
        ctx = JobContext()
        ctx.on_progress = lambda f, m: ctx.cancel() if m.endswith("step 1/2") else None
        with pytest.raises(Cancelled):
            job.fn(ctx)
        raise KeyboardInterrupt  # what run_with_progress raises once the cancelled job stopped

    monkeypatch.setattr(generate_cmd, "_run", interrupted)
    out = tmp_path / "cat.mp4"
    code, _, err = run(capsys, "generate", "a cat", "--model-path", tiny_cogvideox, *FAST, "-o", out)
    assert code == 130 and "interrupted" in err
    assert list(tmp_path.iterdir()) == []
    path = project(tmp_path)
    before = path.read_bytes()
    code, _, err = run(capsys, "generate", "a cat", "--model-path", tiny_cogvideox, *FAST, "--into", path)
    assert code == 130
    assert path.read_bytes() == before and list((tmp_path / "generated").iterdir()) == []


def test_image_to_video_from_the_cli(tmp_path_factory, tmp_path, capsys):
    from PIL import Image

    from tests.ai.generate.tiny_models import cogvideox_i2v_folder

    image = tmp_path / "still.png"
    Image.new("RGB", (32, 32), (10, 200, 10)).save(image)
    out = tmp_path / "moving.mp4"
    code, _, err = run(capsys, "generate", "it moves", "--model-path", cogvideox_i2v_folder(tmp_path_factory),
                       "--image", image, "--seconds", "1", *FAST, "-o", out)
    assert code == 0, err
    recipe = json.loads((tmp_path / "moving.recipe.json").read_text())
    assert recipe["source_image"] == str(image) and probe(out).video_frames == 9


# --- LTX-Video and Wan image-to-video, by --model-path ------------------------------------------------------------
def decoded(path):
    """The frames of an mp4 as one uint8 array (T, H, W, 3)."""
    import av
    import numpy as np

    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


@pytest.fixture(scope="session")
def tiny_ltx(tmp_path_factory):
    from tests.ai.generate.tiny_models import ltx_folder

    return ltx_folder(tmp_path_factory)


LTX = ("--steps", "2", "--size", "32x32")


def test_ltx_snaps_to_8n1_at_24_fps_and_a_seed_repeats(tiny_ltx, tmp_path, capsys):
    a, b, c = tmp_path / "a.mp4", tmp_path / "b.mp4", tmp_path / "c.mp4"
    for out, seed in ((a, 5), (b, 5), (c, 6)):
        code, stdout, err = run(capsys, "generate", "a red car", "--model-path", tiny_ltx, "--seconds", "0.5", *LTX,
                                "--seed", seed, "-o", out)
        assert code == 0, err
        assert "0.38 s = 9 frames at 24 fps" in stdout  # 12 frames asked; 8N+1 nearest is 9
    info = probe(a)
    assert info.video_frames == 9 and info.fps == 24 and (info.width, info.height) == (32, 32)
    assert (decoded(a) == decoded(b)).all()
    assert not (decoded(a) == decoded(c)).all()
    code, _, err = run(capsys, "generate", "a car", "--model-path", tiny_ltx, "--size", "48x32", "-o", tmp_path / "x")
    assert_bad_input(code, err, "multiples of 32")


def test_ltx_image_to_video(tmp_path_factory, tmp_path, capsys):
    from PIL import Image

    from tests.ai.generate.tiny_models import ltx_folder

    folder = ltx_folder(tmp_path_factory, image_to_video=True)
    image = tmp_path / "still.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(image)
    out = tmp_path / "ltx-i2v.mp4"
    code, _, err = run(capsys, "generate", "it moves", "--model-path", folder, "--image", image, *LTX, "-o", out)
    assert code == 0, err
    info = probe(out)
    assert info.video_frames == 121 and info.fps == 24  # the family's default length: 121 = 8 * 15 + 1
    recipe = json.loads((tmp_path / "ltx-i2v.recipe.json").read_text())
    assert recipe["source_image"] == str(image) and recipe["frames"] == 121
    code, _, err = run(capsys, "generate", "it moves", "--model-path", folder, *LTX, "-o", tmp_path / "y.mp4")
    assert_bad_input(code, err, "give it --image")


def test_wan_image_to_video(tmp_path_factory, tmp_path, capsys):
    from PIL import Image

    from tests.ai.generate.tiny_models import wan_i2v_folder

    image = tmp_path / "still.png"
    Image.new("RGB", (32, 32), (20, 30, 200)).save(image)
    out = tmp_path / "wan-i2v.mp4"
    code, stdout, err = run(capsys, "generate", "waves", "--model-path", wan_i2v_folder(tmp_path_factory), "--image",
                            image, "--seconds", "0.3", "--steps", "2", "--size", "32x32", "-o", out)
    assert code == 0, err
    assert "0.31 s = 5 frames at 16 fps" in stdout  # 4.8 frames asked; 4N+1 nearest is 5
    info = probe(out)
    assert info.video_frames == 5 and info.fps == 16 and (info.width, info.height) == (32, 32)


# --- a catalogue id found in a Hugging Face cache made here -----------------------------------------------------
def hf_cache(root, repo, folder, commit="c0ffee1234"):
    """``folder`` copied into a hub cache layout: models--org--name/snapshots/<commit>/ + refs/main."""
    import shutil

    repo_dir = root / ("models--" + repo.replace("/", "--"))
    shutil.copytree(folder, repo_dir / "snapshots" / commit)
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(commit)
    return repo_dir / "snapshots" / commit


@pytest.fixture
def hub(tmp_path, monkeypatch):
    root = tmp_path / "hf" / "hub"
    root.mkdir(parents=True)
    monkeypatch.setenv("HF_HUB_CACHE", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("SHOTLINE_MODELS_DIR", str(tmp_path / "no-models"))
    return root


def test_a_catalogue_model_loads_from_the_hf_cache(tiny_cogvideox, hub, tmp_path, capsys):
    """`--model cogvideox-2b` with the tiny CogVideoX standing in for zai-org/CogVideoX-2b in the cache: the
    catalogue's rule (8N+1 at 8 fps) sets the length, the recipe names the id and the snapshot's commit."""
    hf_cache(hub, "zai-org/CogVideoX-2b", tiny_cogvideox)
    out = tmp_path / "out" / "cat.mp4"
    out.parent.mkdir()
    code, stdout, err = run(capsys, "generate", "a cat", "--model", "cogvideox-2b", "--seconds", "2", *FAST, "-o", out)
    assert code == 0, err
    assert "2.12 s = 17 frames at 8 fps" in stdout
    info = probe(out)
    assert info.video_frames == 17 and info.fps == 8
    recipe = json.loads((out.parent / "cat.recipe.json").read_text())
    assert recipe["model_id"] == "cogvideox-2b" and recipe["revision"] == "c0ffee1234"


def test_into_from_the_hf_cache_places_a_clip_with_its_recipe(tiny_ltx, hub, tmp_path, capsys):
    hf_cache(hub, "Lightricks/LTX-Video", tiny_ltx)
    path = project(tmp_path, 32, 32, Fraction(24))
    code, stdout, err = run(capsys, "generate", "a bird flies", "--model", "ltx-video", "--seconds", "1", *LTX,
                            "--seed", "9", "--into", path, "--at", "2")
    assert code == 0, err
    assert "1.04 s = 25 frames at 24 fps" in stdout and "conforming" not in stdout
    p = load_project(path)
    (clip,) = [c for t in p.sequence.tracks_of("video") for c in t.clips]
    assert clip.position == 48 and clip.duration == 25
    (asset,) = p.assets
    r = asset.recipe
    assert (r.model_id, r.revision, r.seed, r.steps, r.frames, r.fps) == ("ltx-video", "c0ffee1234", 9, 2, 25, 24)
    assert r.prompt == "a bird flies" and (r.width, r.height) == (32, 32)
    assert (tmp_path / "generated" / "a-bird-flies-take1.mp4").is_file()


def interrupted_after_one_step(job):
    """Stands in for the CLI's progress runner: Ctrl-C arrives after the first denoising step."""
    from studio.jobs import Cancelled, JobContext

    ctx = JobContext()
    ctx.on_progress = lambda f, m: ctx.cancel() if m.endswith("step 1/2") else None
    with pytest.raises(Cancelled):
        job.fn(ctx)
    raise KeyboardInterrupt


def test_a_cancelled_hf_cache_run_leaves_no_file_and_no_clip(tiny_cogvideox, hub, tmp_path, capsys, monkeypatch):
    from studio.cli import generate_cmd

    hf_cache(hub, "zai-org/CogVideoX-2b", tiny_cogvideox)

    monkeypatch.setattr(generate_cmd, "_run", interrupted_after_one_step)
    path = project(tmp_path)
    before = path.read_bytes()
    code, _, err = run(capsys, "generate", "a cat", "--model", "cogvideox-2b", *FAST, "--into", path)
    assert code == 130
    assert path.read_bytes() == before and list((tmp_path / "generated").iterdir()) == []


def test_a_cancelled_run_keeps_an_existing_output_file(tiny_cogvideox, hub, tmp_path, capsys, monkeypatch):
    """-o onto an existing file: a cancel mid-generation leaves that file as it was (nothing is lost)."""
    from studio.cli import generate_cmd

    hf_cache(hub, "zai-org/CogVideoX-2b", tiny_cogvideox)

    monkeypatch.setattr(generate_cmd, "_run", interrupted_after_one_step)
    out = tmp_path / "shot.mp4"
    out.write_bytes(b"an earlier render")
    code, _, _ = run(capsys, "generate", "a cat", "--model", "cogvideox-2b", *FAST, "-o", out)
    assert code == 130 and out.read_bytes() == b"an earlier render"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".shot.")]  # no partial file left


def test_a_missing_catalogue_model_names_the_exact_pull_command(hub, tmp_path, capsys):
    for model_id in ("ltx-video", "wan2.1-t2v-1.3b", "cogvideox-2b"):
        code, _, err = run(capsys, "generate", "a cat", "--model", model_id, "-o", tmp_path / "x.mp4")
        pull = f"studio models pull {model_id}"
        assert code == 2 and err.strip() == f"studio: error: model {model_id} is not installed; run: {pull}", err
    assert not (tmp_path / "x.mp4").exists()
    code, _, err = run(capsys, "generate", "a cat", "--model", "audioldm2", "-o", tmp_path / "x.mp4")
    assert_bad_input(code, err, "audioldm2 is a text-to-audio model, not a video model")


def test_one_cached_ltx_folder_serves_text_and_image_to_video(tiny_ltx, hub, tmp_path, capsys):
    """ltx-video and ltx-video-i2v share the repo (its model_index.json says LTXPipeline): the i2v id loads
    the same folder as LTXImageToVideoPipeline; the t2v id refuses an image."""
    from PIL import Image

    hf_cache(hub, "Lightricks/LTX-Video", tiny_ltx)
    image = tmp_path / "still.png"
    Image.new("RGB", (32, 32), (250, 250, 0)).save(image)
    out = tmp_path / "moving.mp4"
    code, _, err = run(capsys, "generate", "it moves", "--model", "ltx-video-i2v", "--image", image, "--seconds", "0.5",
                       *LTX, "-o", out)
    assert code == 0, err
    assert probe(out).video_frames == 9
    recipe = json.loads((tmp_path / "moving.recipe.json").read_text())
    assert recipe["model_id"] == "ltx-video-i2v" and recipe["source_image"] == str(image)
    code, _, err = run(capsys, "generate", "it moves", "--model", "ltx-video", "--image", image, *LTX,
                       "-o", tmp_path / "no.mp4")
    assert_bad_input(code, err, "ltx-video is a text-to-video model; it does not take --image")
    code, _, err = run(capsys, "generate", "it moves", "--model", "ltx-video-i2v", *LTX, "-o", tmp_path / "no.mp4")
    assert_bad_input(code, err, "ltx-video-i2v is an image-to-video model; give it --image")


def test_cogvideox15_from_the_hf_cache_snaps_to_16n1_at_16_fps(tmp_path_factory, hub, tmp_path, capsys):
    from tests.ai.generate.tiny_models import cogvideox15_folder

    hf_cache(hub, "zai-org/CogVideoX1.5-5B", cogvideox15_folder(tmp_path_factory))
    out = tmp_path / "wide.mp4"
    code, stdout, err = run(capsys, "generate", "a tree", "--model", "cogvideox1.5-5b", "--seconds", "2",
                            "--steps", "2", "--size", "32x32", "-o", out)
    assert code == 0, err
    assert "2.06 s = 33 frames at 16 fps" in stdout  # 32 frames asked; 16N+1 nearest is 33
    info = probe(out)
    assert info.video_frames == 33 and info.fps == 16 and (info.width, info.height) == (32, 32)
