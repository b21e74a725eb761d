"""The one place where time units are converted (DESIGN.md fixed point 3).

Frame rates are ``Fraction``; timeline positions are integer frames of the sequence rate;
audio is integer samples. Nothing here returns float seconds except for display/JSON.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from .errors import TimeError

#: Common rates and the exact fractions they mean ("29.97" is NTSC 30000/1001).
_NAMED_RATES = {
    "23.976": Fraction(24000, 1001),
    "23.98": Fraction(24000, 1001),
    "29.97": Fraction(30000, 1001),
    "59.94": Fraction(60000, 1001),
    "47.952": Fraction(48000, 1001),
    "119.88": Fraction(120000, 1001),
}


def parse_rate(text: str | int | Fraction) -> Fraction:
    """Parse a frame rate: ``"25"``, ``"30000/1001"``, ``"29.97"`` (the NTSC rate), ``60``."""
    if isinstance(text, Fraction):
        rate = text
    elif isinstance(text, int) and not isinstance(text, bool):
        rate = Fraction(text)
    elif isinstance(text, str):
        s = text.strip()
        if s in _NAMED_RATES:
            rate = _NAMED_RATES[s]
        else:
            try:
                rate = Fraction(s)
            except (ValueError, ZeroDivisionError):
                raise TimeError(f"bad frame rate {text!r}: use e.g. 25, 60 or 30000/1001") from None
    else:
        raise TimeError(f"bad frame rate {text!r}")
    if rate <= 0 or rate > 1000:
        raise TimeError(f"frame rate {text!r} is out of range (0, 1000]")
    return rate


def format_rate(rate: Fraction) -> str:
    """``Fraction(60)`` -> ``"60/1"``; ``Fraction(30000, 1001)`` -> ``"30000/1001"``."""
    return f"{rate.numerator}/{rate.denominator}"


def frames_to_seconds(frames: int | Fraction, rate: Fraction) -> Fraction:
    """Exact seconds of a frame count at ``rate``."""
    return Fraction(frames) / rate


def seconds_to_frames(seconds: Fraction | int, rate: Fraction, rounding: str = "nearest") -> int:
    """Frames at ``rate`` for an exact number of seconds; ``rounding`` is nearest, floor or ceil."""
    exact = Fraction(seconds) * rate
    if rounding == "floor":
        return math.floor(exact)
    if rounding == "ceil":
        return math.ceil(exact)
    return round(exact)  # Fraction rounds half to even, exactly


def frames_to_samples(frames: int | Fraction, rate: Fraction, sample_rate: int) -> int:
    """First audio sample of a frame boundary (floor), exact for any rate."""
    return math.floor(Fraction(frames) * sample_rate / rate)


def samples_to_frames(samples: int, rate: Fraction, sample_rate: int) -> Fraction:
    """Exact (fractional) frame position of an audio sample."""
    return Fraction(samples) * rate / sample_rate


def rescale_frames(frames: int | Fraction, from_rate: Fraction, to_rate: Fraction) -> Fraction:
    """The same instant counted at another rate (exact, possibly fractional)."""
    return Fraction(frames) * to_rate / from_rate


def timecode_base(rate: Fraction) -> int:
    """Frames per timecode second: 30 for 29.97, 25 for 25."""
    return max(1, round(rate))


def is_drop_frame_rate(rate: Fraction) -> bool:
    """True for the NTSC rates that use drop-frame timecode (29.97 and 59.94)."""
    return rate.denominator == 1001 and round(rate) % 30 == 0


_TC = re.compile(r"^(-)?(\d{1,3}):(\d{2}):(\d{2})([:;])(\d{2,3})$")
_SECONDS = re.compile(r"^(-)?(\d+(?:\.\d*)?|\.\d+)s?$")


def parse_time(text: str, rate: Fraction) -> int:
    """Parse a user time into frames at ``rate``.

    Accepts seconds (``"12.5"``, ``"12.5s"``), timecode ``HH:MM:SS:FF`` (non-drop) and
    ``HH:MM:SS;FF`` (drop-frame at 29.97/59.94), and plain frames ``"123f"``.
    """
    s = str(text).strip()
    if s.endswith("f") and s[:-1].isdigit():
        return int(s[:-1])
    m = _SECONDS.match(s)
    if m:
        value = Fraction(m.group(2))
        if m.group(1):
            raise TimeError(f"bad time {text!r}: negative times are not allowed")
        return seconds_to_frames(value, rate)
    m = _TC.match(s)
    if not m:
        raise TimeError(f"bad time {text!r}: use seconds (12.5) or timecode (00:00:12:15)")
    if m.group(1):
        raise TimeError(f"bad time {text!r}: negative times are not allowed")
    hh, mm, ss, sep, ff = int(m.group(2)), int(m.group(3)), int(m.group(4)), m.group(5), int(m.group(6))
    base = timecode_base(rate)
    if mm >= 60 or ss >= 60:
        raise TimeError(f"bad timecode {text!r}: minutes and seconds must be below 60")
    if ff >= base:
        raise TimeError(f"bad timecode {text!r}: frame {ff} is not below {base} at {format_rate(rate)} fps")
    if sep == ";" and not is_drop_frame_rate(rate):
        raise TimeError(f"bad timecode {text!r}: drop-frame ';' needs 29.97 or 59.94 fps")
    total_minutes = 60 * hh + mm
    frames = ((hh * 3600 + mm * 60 + ss) * base) + ff
    if sep == ";":
        drop = 2 * (base // 30)
        if ss == 0 and mm % 10 != 0 and ff < drop:
            raise TimeError(f"bad timecode {text!r}: that frame is skipped in drop-frame timecode")
        frames -= drop * (total_minutes - total_minutes // 10)
    return frames


def format_timecode(frames: int, rate: Fraction, drop_frame: bool | None = None) -> str:
    """Timecode of a frame count; drop-frame by default at 29.97/59.94."""
    if frames < 0:
        raise TimeError("timecode of a negative frame")
    base = timecode_base(rate)
    if drop_frame is None:
        drop_frame = is_drop_frame_rate(rate)
    if drop_frame:
        drop = 2 * (base // 30)
        per_10min = base * 600 - drop * 9
        per_min = base * 60 - drop
        tens, rest = divmod(frames, per_10min)
        if rest < drop:
            extra = 0
        else:
            extra = drop * ((rest - drop) // per_min)
        frames = frames + drop * 9 * tens + extra
    ff = frames % base
    total_s = frames // base
    sep = ";" if drop_frame else ":"
    return f"{total_s // 3600:02d}:{total_s // 60 % 60:02d}:{total_s % 60:02d}{sep}{ff:02d}"


def fraction_to_json(value: Fraction | int) -> int | str:
    """JSON form of an exact number: an int when whole, else ``"n/d"``."""
    value = Fraction(value)
    if value.denominator == 1:
        return value.numerator
    return f"{value.numerator}/{value.denominator}"
