"""Frame interpolation and upscaling, classical and learned (issue 7: conform to 4K60).

- ``timing``: exact output timestamps and source positions (Fractions).
- ``cuts``: scene-cut detection (no frame is blended across a cut).
- ``flow``: DIS optical-flow interpolation (default), plus blend / repeat baselines.
- ``retime``: streaming plan of output frames from source frames.
- ``rife``: RIFE IFNet (Practical-RIFE 4.6 layout) in our torch code; user-supplied weights.
- ``srvgg``: Real-ESRGAN compact (SRVGGNetCompact) built and loaded in our code (spandrel if it imports).
- ``rrdb``: ESRGAN / Real-ESRGAN RRDBNet (x4plus, x2plus, anime_6B, RealESRNet) in our code; ``srvgg``'s
  ``load_upscaler`` picks the architecture from the state-dict keys.
- ``tiles``: tiled model inference with overlap; ``upscale``: Lanczos and model upscalers.
- ``conform``: decode -> interpolate -> upscale -> encode, as a function and as a job.

Nothing here imports torch at module level.
"""
