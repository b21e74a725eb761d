"""Tiny random diffusers video pipelines built in code and saved in the standard folder layout
(DESIGN.md fixed point 7: no hub at run time). Configs follow diffusers' own pipeline tests."""

from __future__ import annotations

from pathlib import Path

VOCAB = ["<pad>", "</s>", "<unk>"] + [f"\u2581{w}" for w in (
    "a", "cat", "dog", "red", "blue", "car", "on", "the", "street", "walks", "runs", "in", "rain", "sun",
    "bird", "flies", "over", "sea", "tree", "house")] + list("abcdefghijklmnopqrstuvwxyz")


def tiny_t5():
    from transformers import T5Config, T5EncoderModel, T5Tokenizer

    tokenizer = T5Tokenizer(vocab=[(p, -float(i)) for i, p in enumerate(VOCAB)], extra_ids=0)
    config = T5Config(vocab_size=len(VOCAB), d_model=32, d_kv=8, d_ff=37, num_layers=1, num_heads=4,
                      relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    return tokenizer, T5EncoderModel(config).eval()


def build_cogvideox(folder: Path) -> Path:
    import torch
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4, attention_head_dim=8, in_channels=4, out_channels=4, time_embed_dim=2,
        text_embed_dim=32, num_layers=1, sample_width=2, sample_height=2, sample_frames=9, patch_size=2,
        temporal_compression_ratio=4, max_text_seq_length=16)
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4)
    torch.manual_seed(0)
    tokenizer, text_encoder = tiny_t5()
    pipe = CogVideoXPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                             scheduler=CogVideoXDDIMScheduler())
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


_built: dict[str, Path] = {}


def _once(key: str, build, tmp_path_factory) -> Path:
    """``build(folder)`` the first time ``key`` is asked for in this test session, then the same folder
    (the tiny pipelines take seconds to build; tests share them read-only)."""
    if key not in _built:
        _built[key] = build(tmp_path_factory.mktemp(f"tiny-{key}"))
    return _built[key]


def cogvideox_folder(tmp_path_factory) -> Path:
    """The tiny CogVideoX folder, built once per test session (share it read-only)."""
    return _once("cogvideox", build_cogvideox, tmp_path_factory)


def build_wan(folder: Path) -> Path:
    import torch
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    torch.manual_seed(0)
    tokenizer, text_encoder = tiny_t5()
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32)
    pipe = WanPipeline(tokenizer=tokenizer, text_encoder=text_encoder, transformer=transformer, vae=vae,
                       scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0))
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


def wan_folder(tmp_path_factory) -> Path:
    """The tiny Wan folder, built once per test session."""
    return _once("wan", build_wan, tmp_path_factory)


def build_cogvideox_i2v(folder: Path) -> Path:
    import torch
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXImageToVideoPipeline,
        CogVideoXTransformer3DModel,
    )

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=8, out_channels=4, time_embed_dim=2,
        text_embed_dim=32, num_layers=1, sample_width=2, sample_height=2, sample_frames=9, patch_size=2,
        temporal_compression_ratio=4, max_text_seq_length=16, use_rotary_positional_embeddings=True,
        use_learned_positional_embeddings=True)
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4)
    torch.manual_seed(0)
    tokenizer, text_encoder = tiny_t5()
    pipe = CogVideoXImageToVideoPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae,
                                         transformer=transformer, scheduler=CogVideoXDDIMScheduler())
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


def cogvideox_i2v_folder(tmp_path_factory) -> Path:
    """The tiny CogVideoX image-to-video folder, built once per test session."""
    return _once("cogvideox-i2v", build_cogvideox_i2v, tmp_path_factory)


def _ltx_parts():
    """Transformer, VAE and scheduler of a tiny LTX-Video (configs as in diffusers' test_ltx.py: a 4x4x4 VAE)."""
    import torch
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXVideoTransformer3DModel

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=4, attention_head_dim=8,
        cross_attention_dim=32, num_layers=1, caption_channels=32)
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        latent_channels=8, block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False), decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False,) * 5, upsample_residual=(False,) * 4, upsample_factor=(1,) * 4,
        patch_size=1, patch_size_t=1, encoder_causal=True, decoder_causal=False)
    return transformer, vae, FlowMatchEulerDiscreteScheduler()


def build_ltx(folder: Path, image_to_video: bool = False) -> Path:
    """A tiny LTXPipeline (or LTXImageToVideoPipeline) folder."""
    import torch
    from diffusers import LTXImageToVideoPipeline, LTXPipeline

    transformer, vae, scheduler = _ltx_parts()
    torch.manual_seed(0)
    tokenizer, text_encoder = tiny_t5()
    cls = LTXImageToVideoPipeline if image_to_video else LTXPipeline
    pipe = cls(scheduler=scheduler, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, transformer=transformer)
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


def ltx_folder(tmp_path_factory, image_to_video: bool = False) -> Path:
    """The tiny LTX-Video folder (text- or image-to-video), built once per test session."""
    key = "ltx-i2v" if image_to_video else "ltx"
    return _once(key, lambda folder: build_ltx(folder, image_to_video), tmp_path_factory)


def build_wan_i2v(folder: Path) -> Path:
    """A tiny WanImageToVideoPipeline folder, with a tiny CLIP vision encoder (as diffusers' own Wan i2v test)."""
    import torch
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    torch.manual_seed(0)
    tokenizer, text_encoder = tiny_t5()
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32, image_dim=4)
    torch.manual_seed(0)
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=4, projection_dim=4, num_hidden_layers=2, num_attention_heads=2, image_size=32,
        intermediate_size=16, patch_size=1)).eval()
    pipe = WanImageToVideoPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae,
                                   scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
                                   image_processor=CLIPImageProcessor(crop_size=32, size=32),
                                   image_encoder=image_encoder, transformer=transformer)
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


def wan_i2v_folder(tmp_path_factory) -> Path:
    """The tiny Wan image-to-video folder, built once per test session."""
    return _once("wan-i2v", build_wan_i2v, tmp_path_factory)


def build_cogvideox15(folder: Path) -> Path:
    """A tiny CogVideoX 1.5 (temporal patches of 2, rotary embeddings: the 16N+1-frame family)."""
    import torch
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDPMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=4, out_channels=4, time_embed_dim=2,
        text_embed_dim=32, num_layers=1, sample_width=4, sample_height=4, sample_frames=9, patch_size=2,
        patch_size_t=2, temporal_compression_ratio=4, max_text_seq_length=16, use_rotary_positional_embeddings=True)
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4)
    torch.manual_seed(0)
    tokenizer, text_encoder = tiny_t5()
    pipe = CogVideoXPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                             scheduler=CogVideoXDPMScheduler())
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


def cogvideox15_folder(tmp_path_factory) -> Path:
    """The tiny CogVideoX 1.5 folder, built once per test session."""
    return _once("cogvideox1.5", build_cogvideox15, tmp_path_factory)
