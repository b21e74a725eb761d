"""The learned backends built in code with tiny random weights (nothing downloaded, nothing bundled):
SRVGGNetCompact tiles without seams, state dicts round-trip through our loader, IFNet runs."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from studio.ai.enhance import rife, srvgg  # noqa: E402
from studio.ai.enhance.srvgg import ModelLoadError  # noqa: E402
from studio.ai.enhance.tiles import run_tiled  # noqa: E402
from studio.ai.enhance.upscale import ModelUpscaler  # noqa: E402


def _tiny_compact(scale=2, act="prelu"):
    torch.manual_seed(0)
    return srvgg.build_compact(num_feat=4, num_conv=2, upscale=scale, act_type=act).eval()


@pytest.mark.parametrize(("tile", "overlap"), [(16, 8), (24, 6), (32, 16)])
def test_tiled_equals_untiled(tile, overlap):
    model = _tiny_compact()
    x = torch.rand(1, 3, 45, 61)
    with torch.inference_mode():
        whole = model(x)
        tiled = run_tiled(model, x, 2, tile=tile, overlap=overlap)
    assert tiled.shape == whole.shape == (1, 3, 90, 122)
    assert torch.max(torch.abs(tiled - whole)).item() < 1e-4


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_state_dict_round_trip(tmp_path, suffix):
    model = _tiny_compact(scale=4)
    path = tmp_path / f"tiny{suffix}"
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    if suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(sd, str(path))
    else:
        torch.save({"params_ema": sd}, str(path))  # Real-ESRGAN's own layout
    loaded, scale = srvgg.load_upscaler(path, use_spandrel=False)
    assert scale == 4 and loaded.num_feat == 4 and loaded.num_conv == 2 and loaded.act_type == "prelu"
    x = torch.rand(1, 3, 10, 12)
    with torch.inference_mode():
        assert torch.equal(model(x), loaded(x))
    again, _ = srvgg.load_upscaler(path)  # spandrel when it imports, else ours: same numbers
    with torch.inference_mode():
        assert torch.allclose(model(x), again(x), atol=1e-6)


def test_loader_rejects_other_files(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        srvgg.read_state_dict(tmp_path / "missing.pth")
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelLoadError, match="cannot read"):
        srvgg.read_state_dict(bad)
    torch.save({"foo.weight": torch.zeros(3)}, str(tmp_path / "other.pth"))
    with pytest.raises(ModelLoadError, match="SRVGGNetCompact"):
        srvgg.compact_from_state_dict(srvgg.read_state_dict(tmp_path / "other.pth"))


def test_model_upscaler_reaches_the_exact_size():
    up = ModelUpscaler(_tiny_compact(scale=2), 2, (100, 60), tile=16, overlap=8)
    rgb = np.random.default_rng(1).integers(0, 255, (30, 40, 3), np.uint8)
    big = up.enhance(rgb)
    assert big.shape == (60, 80, 3) and big.dtype == np.uint8
    frame = up(rgb)
    assert (frame.width, frame.height, frame.format.name) == (100, 60, "yuv420p")


def test_ifnet_random_weights_shapes_and_loader(tmp_path):
    torch.manual_seed(0)
    net = rife.build_ifnet((16, 8, 8, 8)).eval()
    sd = {f"module.{k}": v.contiguous() for k, v in net.state_dict().items()}  # flownet.pkl style keys
    assert "module.block0.convblock.0.beta" in sd and "module.block3.lastconv.0.weight" in sd
    torch.save(sd, str(tmp_path / "flownet.pkl"))
    interp = rife.RifeInterpolator.from_file(tmp_path / "flownet.pkl")
    assert interp.model.widths == (16, 8, 8, 8)
    a = np.random.default_rng(2).integers(0, 255, (36, 64, 3), np.uint8)  # not a multiple of 32: padded
    b = np.roll(a, 3, axis=1)
    mid = interp.pair(a, b).at(0.5)
    assert mid.shape == a.shape and mid.dtype == np.uint8
    x0 = torch.rand(1, 3, 64, 64)
    with torch.inference_mode():
        y1 = net(x0, x0, torch.full((1, 1, 64, 64), 0.5))
        y2 = interp.model(x0, x0, torch.full((1, 1, 64, 64), 0.5))
    assert torch.equal(y1, y2)
    # With the heads zeroed (no flow, mask 0 -> sigmoid 1/2) the network cross-fades its inputs.
    with torch.no_grad():
        for i in range(4):
            for p in getattr(net, f"block{i}").lastconv.parameters():
                p.zero_()
    x1 = torch.rand(1, 3, 64, 64)
    with torch.inference_mode():
        y = net(x0, x1, torch.full((1, 1, 64, 64), 0.3))
    assert torch.allclose(y, (x0 + x1) / 2, atol=1e-5)


def test_ifnet_loader_rejects_a_compact_state_dict():
    with pytest.raises(ModelLoadError, match="IFNet"):
        rife.ifnet_from_state_dict(_tiny_compact().state_dict())
