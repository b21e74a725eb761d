"""`studio models list | pull | verify | remove` against folders written here (no network)."""

from __future__ import annotations

import json

import pytest

from tests.ai.models.test_catalogue import _fake_hf_cache, make_model_folder
from tests.cli.helpers import run


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOTLINE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


def test_list_json_shows_installed_state(env, capsys):
    folder = make_model_folder(env / "models" / "wan2.1-t2v-1.3b")
    snap = _fake_hf_cache(env / "hub", "zai-org/CogVideoX-2b")
    code, out, err = run(capsys, "models", "list", "--json")
    assert code == 0, err
    rows = {r["id"]: r for r in json.loads(out)["models"]}
    assert rows["wan2.1-t2v-1.3b"]["installed"] and rows["wan2.1-t2v-1.3b"]["installs"] == [
        {"where": "models-dir", "path": str(folder)}]
    assert rows["cogvideox-2b"]["installs"] == [{"where": "hf-cache", "path": str(snap)}]
    assert not rows["cogvideox-5b"]["installed"]
    assert rows["cogvideox-5b"]["licence"]["name"] == "CogVideoX License"
    code, out, _ = run(capsys, "models", "list")
    assert code == 0
    line = next(ln for ln in out.splitlines() if ln.startswith("wan2.1-t2v-1.3b"))
    assert "models-dir" in line and "Apache-2.0" in line and "GB" in line


def test_verify_passes_then_fails_on_a_corrupted_safetensors(env, capsys):
    folder = make_model_folder(env / "models" / "wan2.1-t2v-1.3b")
    code, out, err = run(capsys, "models", "verify", "wan2.1-t2v-1.3b")
    assert code == 0 and out.startswith("ok wan2.1-t2v-1.3b") and err == ""
    code, out, err = run(capsys, "models", "verify")  # every installed model
    assert code == 0 and "ok wan2.1-t2v-1.3b" in out
    (folder / "transformer" / "diffusion_pytorch_model.safetensors").write_bytes(b"\x00garbage" * 8)
    code, out, err = run(capsys, "models", "verify", "wan2.1-t2v-1.3b")
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "FAILED wan2.1-t2v-1.3b: transformer/diffusion_pytorch_model.safetensors: unreadable" in err


def test_verify_a_folder_and_a_model_not_installed(env, capsys):
    folder = make_model_folder(env / "anywhere" / "my-model")
    code, out, err = run(capsys, "models", "verify", folder)
    assert code == 0 and out.startswith("ok ")
    code, out, err = run(capsys, "models", "verify", "cogvideox-5b")
    assert code == 2 and err.strip().count("\n") == 0
    assert "not installed" in err and "studio models pull cogvideox-5b" in err


def test_remove_deletes_only_from_the_models_dir(env, capsys):
    own = make_model_folder(env / "models" / "cogvideox-2b", "CogVideoXPipeline")
    snap = _fake_hf_cache(env / "hub", "zai-org/CogVideoX-2b")
    code, out, err = run(capsys, "models", "remove", "cogvideox-2b")
    assert code == 0, err
    assert not own.exists() and snap.exists()
    assert "kept the shared Hugging Face cache" in out
    code, out, err = run(capsys, "models", "remove", "cogvideox-2b")  # only the shared cache has it now
    assert code == 2 and "--from-hf-cache" in err and snap.exists()
    code, out, err = run(capsys, "models", "remove", "cogvideox-2b", "--from-hf-cache")
    assert code == 0 and not (env / "hub" / "models--zai-org--CogVideoX-2b").exists()
    code, out, err = run(capsys, "models", "remove", "cogvideox-2b")
    assert code == 2 and "not installed" in err


def test_pull_offline_exits_2_with_one_line(env, capsys):
    code, out, err = run(capsys, "models", "pull", "wan2.1-t2v-1.3b", "--accept-licence")
    assert code == 2
    assert err.count("\n") == 1 and "offline" in err
    assert not (env / "models" / "wan2.1-t2v-1.3b").exists()


def test_pull_already_installed_and_licence_needed(env, capsys, monkeypatch):
    make_model_folder(env / "models" / "wan2.1-t2v-1.3b")
    code, out, err = run(capsys, "models", "pull", "wan2.1-t2v-1.3b")
    assert code == 0 and "already installed" in out
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    code, out, err = run(capsys, "models", "pull", "cogvideox-5b")  # no --accept-licence, no terminal: refused
    assert code == 2 and "--accept-licence" in err and "CogVideoX License" in out


def test_unknown_id_exits_2_listing_close_ids(env, capsys):
    for action in ("pull", "verify", "remove"):
        code, out, err = run(capsys, "models", action, "cogvidex-5b")
        assert code == 2 and err.count("\n") == 1
        assert "unknown model 'cogvidex-5b'" in err and "cogvideox-5b" in err


def test_pull_downloads_only_safe_files_then_installs(env, capsys, monkeypatch):
    """The hub is replaced by a fake that serves a repo with pickles and root checkpoints too."""
    import fnmatch

    import huggingface_hub

    source = make_model_folder(env / "remote", "LTXPipeline")
    (source / "transformer" / "diffusion_pytorch_model.bin").write_bytes(b"pickle")
    (source / "ltx-video-2b-v0.9.safetensors").write_bytes(b"big single-file checkpoint")
    calls = []

    def fake_snapshot_download(repo_id, *, revision, local_dir, allow_patterns, **_):
        calls.append((repo_id, revision, list(allow_patterns)))
        for f in source.rglob("*"):
            rel = f.relative_to(source).as_posix()
            if f.is_file() and any(fnmatch.fnmatch(rel, p) for p in allow_patterns):
                (local_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                (local_dir / rel).write_bytes(f.read_bytes())
        return str(local_dir)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    code, out, err = run(capsys, "models", "pull", "ltx-video", "--accept-licence")
    assert code == 0, err
    final = env / "models" / "ltx-video"
    assert "installed in" in out and "LTX-Video Open Weights License" in out
    assert calls[0] == ("Lightricks/LTX-Video", "main", ["model_index.json"])
    assert (final / "transformer" / "diffusion_pytorch_model.safetensors").is_file()
    assert not (final / "transformer" / "diffusion_pytorch_model.bin").exists()
    assert not (final / "ltx-video-2b-v0.9.safetensors").exists()
    assert not (env / "models" / ".partial" / "ltx-video").exists()
    code, out, err = run(capsys, "models", "verify", "ltx-video")
    assert code == 0 and out.startswith("ok ltx-video")


def test_pull_network_error_is_one_line_and_keeps_the_partial_download(env, capsys, monkeypatch):
    import huggingface_hub

    def no_network(*a, **k):
        raise ConnectionError("Failed to establish a new connection: [Errno -2] Name or service not known")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", no_network)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    code, out, err = run(capsys, "models", "pull", "wan2.1-t2v-1.3b", "--accept-licence")
    assert code == 2 and err.count("\n") == 1
    assert "cannot download wan2.1-t2v-1.3b: no network connection" in err and "resume" in err
    assert not (env / "models" / "wan2.1-t2v-1.3b").exists()
