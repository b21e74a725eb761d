"""RRDBNet (ESRGAN / Real-ESRGAN) built in code with tiny random weights: released key names, hyper-parameters
detected from the shapes, safetensors and params_ema .pth files, old ESRGAN / BSRGAN layouts, tiles, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from studio.ai.enhance import rrdb, srvgg  # noqa: E402
from studio.ai.enhance.srvgg import ModelLoadError  # noqa: E402
from studio.ai.enhance.tiles import run_tiled  # noqa: E402
from studio.ai.enhance.upscale import ModelUpscaler  # noqa: E402

TINY = {"num_feat": 8, "num_block": 2, "num_grow_ch": 4}


def _tiny(scale: int, seed: int = 0):
    torch.manual_seed(seed)
    model = rrdb.build_rrdb(scale=scale, **TINY).eval()
    with torch.no_grad():  # larger than BasicSR's 0.1-scaled init, so every layer visibly shapes the output
        for p in model.parameters():
            p.mul_(3.0)
    return model


def _save(sd, path, wrapper=None):
    sd = {k: v.contiguous() for k, v in sd.items()}
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(sd, str(path))
    else:
        torch.save({wrapper: sd} if wrapper else sd, str(path))
    return path


def test_released_key_names_and_shapes():
    sd = rrdb.build_rrdb(scale=4).state_dict()  # RealESRGAN_x4plus's hyper-parameters
    assert len([k for k in sd if k.startswith("body.")]) == 23 * 3 * 5 * 2
    assert tuple(sd["conv_first.weight"].shape) == (64, 3, 3, 3)
    assert tuple(sd["body.22.rdb3.conv5.weight"].shape) == (64, 64 + 4 * 32, 3, 3)
    assert tuple(sd["body.0.rdb1.conv1.weight"].shape) == (32, 64, 3, 3)
    assert {k.split(".")[0] for k in sd} == {"conv_first", "body", "conv_body", "conv_up1", "conv_up2", "conv_hr",
                                             "conv_last"}
    assert sum(v.numel() for v in sd.values()) == 16_697_987  # 16.7 M, as published for RealESRGAN_x4plus
    assert tuple(rrdb.build_rrdb(scale=2).state_dict()["conv_first.weight"].shape) == (64, 12, 3, 3)
    assert tuple(rrdb.build_rrdb(scale=1).state_dict()["conv_first.weight"].shape) == (64, 48, 3, 3)


@pytest.mark.parametrize(("scale", "name", "wrapper"), [
    (4, "x4.safetensors", None), (4, "x4.pth", "params_ema"), (2, "x2.safetensors", None), (2, "x2.pth", "params"),
])
def test_files_load_with_the_detected_hyper_parameters(tmp_path, scale, name, wrapper):
    model = _tiny(scale)
    loaded, got_scale = srvgg.load_upscaler(_save(model.state_dict(), tmp_path / name, wrapper), use_spandrel=False)
    assert got_scale == scale and loaded.scale == scale and not loaded.training
    assert (loaded.num_feat, loaded.num_block, loaded.num_grow_ch, loaded.num_upsample) == (8, 2, 4, 2)
    assert loaded.shuffle == 4 // scale
    x = torch.rand(1, 3, 14, 18)
    with torch.inference_mode():
        want, got = model(x), loaded(x)
    assert got.shape == (1, 3, 14 * scale, 18 * scale)
    assert torch.equal(want, got)
    assert want.std() > 0.05  # a real signal, not a constant


def test_pixel_unshuffle_matches_basicsr():
    """Real-ESRGAN x2's input reordering (BasicSR's ``pixel_unshuffle``) is torch's."""
    x = torch.rand(2, 3, 6, 8)
    b, c, hh, hw = x.shape
    basicsr = x.view(b, c, hh // 2, 2, hw // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(b, c * 4, hh // 2, hw // 2)
    assert torch.equal(torch.nn.functional.pixel_unshuffle(x, 2), basicsr)


def test_odd_sizes_run_for_unshuffling_models():
    model = _tiny(2)
    x = torch.rand(1, 3, 81, 87)
    with torch.inference_mode():
        y = model(x)
        even = model(x[:, :, :80, :86])
    assert y.shape == (1, 3, 162, 174)
    # Beyond the receptive field (~67 input pixels here) from the padded edge, the odd input changes nothing.
    assert torch.allclose(y[:, :, :8, :8], even[:, :, :8, :8], atol=1e-5)
    assert not torch.allclose(y[:, :, 150:160, 150:160], even[:, :, 150:160, 150:160], atol=1e-3)


@pytest.mark.parametrize(("scale", "tile", "overlap"), [(4, 16, 36), (4, 24, 40), (2, 16, 68), (2, 20, 72)])
def test_tiled_equals_untiled(scale, tile, overlap):
    """With an overlap past the receptive field (~33 feature pixels for two blocks) tiles reassemble exactly."""
    model = _tiny(scale)
    x = torch.rand(1, 3, 90, 110)
    with torch.inference_mode():
        whole = model(x)
        tiled = run_tiled(model, x, scale, tile=tile, overlap=overlap)
    assert tiled.shape == whole.shape == (1, 3, 90 * scale, 110 * scale)
    assert torch.max(torch.abs(tiled - whole)).item() < 1e-4


def test_model_upscaler_tiles_on_the_unshuffle_grid_and_reaches_the_size(tmp_path):
    path = _save(_tiny(2).state_dict(), tmp_path / "x2.pth", "params_ema")
    up = ModelUpscaler.from_file(path, (100, 60), tile=15, overlap=67)
    assert (up.scale, up.tile, up.overlap) == (2, 16, 68)  # rounded up to the pixel-unshuffle grid
    rgb = np.random.default_rng(1).integers(0, 255, (31, 41, 3), np.uint8)
    big = up.enhance(rgb)
    assert big.shape == (62, 82, 3) and big.dtype == np.uint8
    whole = ModelUpscaler(up.model, 2, (100, 60), tile=512).enhance(rgb)
    assert np.abs(big.astype(int) - whole.astype(int)).max() <= 1  # rounding to uint8 only
    frame = up(rgb)
    assert (frame.width, frame.height, frame.format.name) == (100, 60, "yuv420p")


def _old_esrgan_keys(sd):
    """BasicSR names -> the original ESRGAN repository's flat ``model.N`` Sequential (x4: 3, 6 up; 8 hr; 10 last)."""
    nb = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("body."))
    names = {"conv_first": "model.0", "conv_body": f"model.1.sub.{nb}", "conv_up1": "model.3", "conv_up2": "model.6",
             "conv_hr": "model.8", "conv_last": "model.10"}
    out = {}
    for k, v in sd.items():
        if m := re.fullmatch(r"body\.(\d+)\.rdb(\d)\.conv(\d)\.(\w+)", k):
            out[f"model.1.sub.{m[1]}.RDB{m[2]}.conv{m[3]}.0.{m[4]}"] = v
        else:
            layer, kind = k.rsplit(".", 1)
            out[f"{names[layer]}.{kind}"] = v
    return out


def _bsrgan_keys(sd):
    ren = {"conv_body": "trunk_conv", "conv_up1": "upconv1", "conv_up2": "upconv2", "conv_hr": "HRconv"}
    out = {}
    for k, v in sd.items():
        k = re.sub(r"^body\.(\d+)\.rdb(\d)\.", r"RRDB_trunk.\1.RDB\2.", k)
        layer, kind = k.rsplit(".", 1)
        out[f"{ren.get(layer, layer)}.{kind}"] = v
    return out


@pytest.mark.parametrize("rename", [_old_esrgan_keys, _bsrgan_keys])
def test_older_esrgan_layouts_load_to_the_same_model(tmp_path, rename):
    model = _tiny(4, seed=3)
    path = _save(rename(model.state_dict()), tmp_path / "old.pth")
    loaded, scale = srvgg.load_upscaler(path, use_spandrel=False)
    assert scale == 4 and loaded.num_block == 2
    x = torch.rand(1, 3, 9, 11)
    with torch.inference_mode():
        assert torch.equal(model(x), loaded(x))


def test_compact_models_still_route_to_srvgg(tmp_path):
    torch.manual_seed(0)
    compact = srvgg.build_compact(num_feat=4, num_conv=2, upscale=4).eval()
    loaded, scale = srvgg.load_upscaler(_save(compact.state_dict(), tmp_path / "c.pth", "params_ema"),
                                        use_spandrel=False)
    assert scale == 4 and type(loaded).__name__ == "SRVGGNetCompact"


def test_unknown_and_mismatched_state_dicts_are_one_clear_error(tmp_path):
    unknown = _save({"encoder.0.weight": torch.zeros(4, 3, 3, 3)}, tmp_path / "unet.safetensors")
    with pytest.raises(ModelLoadError, match=r"unet\.safetensors.*unknown model layout.*RRDBNet"):
        srvgg.load_upscaler(unknown, use_spandrel=False)
    sd = _tiny(4).state_dict()
    del sd["conv_hr.bias"]
    with pytest.raises(ModelLoadError, match=r"broken\.pth.*do not fit RRDBNet.*conv_hr\.bias"):
        srvgg.load_upscaler(_save(sd, tmp_path / "broken.pth", "params_ema"), use_spandrel=False)
    sd = _tiny(4).state_dict()
    del sd["conv_first.weight"]
    with pytest.raises(ModelLoadError, match=r"nofirst\.pth"):
        srvgg.load_upscaler(_save(sd, tmp_path / "nofirst.pth"), use_spandrel=False)
    gray = rrdb.build_rrdb(num_in_ch=1, num_out_ch=1, **TINY).state_dict()
    with pytest.raises(ModelLoadError, match=r"gray\.pth.*1 -> 1 channel"):
        srvgg.load_upscaler(_save(gray, tmp_path / "gray.pth"), use_spandrel=False)


def test_pth_is_read_without_unpickling_objects(tmp_path):
    """``weights_only=True``: a checkpoint holding an arbitrary object is refused, not executed."""
    path = tmp_path / "evil.pth"
    torch.save({"params_ema": _tiny(4).state_dict(), "opt": _Marker()}, str(path))
    _Marker.made = 0
    with pytest.raises(ModelLoadError, match="cannot read"):
        srvgg.load_upscaler(path, use_spandrel=False)
    assert _Marker.made == 0


class _Marker:
    made = 0

    def __reduce__(self):
        return (_Marker._make, ())

    @staticmethod
    def _make():
        _Marker.made += 1
        return _Marker.__new__(_Marker)
