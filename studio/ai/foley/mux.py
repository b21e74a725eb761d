"""Writing a video with its foley: the video stream copied, the foley as a new audio stream.

Without ``mix``: stream order is video, foley (AAC stereo, first audio stream, marked
default), then every original audio stream copied unchanged. With ``mix``: one AAC stream,
the original first audio stream decoded, resampled to the foley rate and summed with the
foley (peaks held under 0 dBFS by a plain scale-down, never clipping). Written to a temp file
beside ``out`` and renamed when complete.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from studio.media.probe import MediaError

_CHUNK = 1024


def _encode(container, stream, audio: np.ndarray) -> None:
    """Encode float ``(channels, n)`` in chunks (pts in samples)."""
    ctx = stream.codec_context
    import av

    for start in range(0, audio.shape[1], _CHUNK):
        chunk = np.ascontiguousarray(audio[:, start:start + _CHUNK], dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=ctx.layout.name)
        frame.sample_rate = ctx.sample_rate
        frame.pts = start
        frame.time_base = Fraction(1, ctx.sample_rate)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def _decode_audio(path: str, sample_rate: int, count: int) -> np.ndarray | None:
    import av

    with av.open(path) as c:
        if not c.streams.audio:
            return None
        r = av.AudioResampler(format="fltp", layout="stereo", rate=sample_rate)
        parts = [f.to_ndarray() for fr in c.decode(c.streams.audio[0]) for f in r.resample(fr)]
        parts += [f.to_ndarray() for f in r.resample(None)]
    if not parts:
        return None
    x = np.concatenate(parts, axis=1)
    out = np.zeros((2, count), np.float32)
    out[:, :min(count, x.shape[1])] = x[:, :count]
    return out


def write_with_foley(src: str | os.PathLike[str], out: str | os.PathLike[str], foley: np.ndarray,
                     sample_rate: int, *, mix: bool = False) -> None:
    """Write ``out``: ``src``'s video (copied) plus ``foley`` (float ``(2, n)``) as described above."""
    import av

    src, out = os.fspath(src), Path(out)
    tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")
    try:
        with av.open(src) as inp, av.open(str(tmp), "w") as dst:
            vin = inp.streams.video[0]
            vout = dst.add_stream_from_template(vin)
            copies = {}
            if mix:
                original = _decode_audio(src, sample_rate, foley.shape[1])
                audio = foley if original is None else foley + original
                peak = float(np.abs(audio).max()) if audio.size else 0.0
                if peak > 0.999:
                    audio = audio * (0.999 / peak)
            else:
                audio = foley
            aout = dst.add_stream("aac", rate=sample_rate, layout="stereo")
            aout.options = {"aac_coder": "fast", "b": "192k"}  # the default two-loop coder is ~4x slower
            aout.metadata["title"] = "Foley" if not mix else "Original + foley"
            if not mix:
                for a in inp.streams.audio:
                    copies[a.index] = dst.add_stream_from_template(a)
            wanted = [vin, *[s for s in inp.streams.audio if s.index in copies]]
            for packet in inp.demux(wanted):
                if packet.dts is None:
                    continue
                packet.stream = vout if packet.stream.index == vin.index else copies[packet.stream.index]
                dst.mux(packet)
            _encode(dst, aout, np.ascontiguousarray(audio, dtype=np.float32))
        os.replace(tmp, out)
    except (av.FFmpegError, ValueError) as e:
        raise MediaError(out, f"cannot write: {str(e).strip() or type(e).__name__}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
