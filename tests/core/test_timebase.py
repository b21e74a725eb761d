"""Exact time: rates as fractions, timecode (incl. drop-frame) and sample positions."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.core.errors import TimeError
from studio.core.timebase import (
    format_rate,
    format_timecode,
    frames_to_samples,
    parse_rate,
    parse_time,
    seconds_to_frames,
)

NTSC = Fraction(30000, 1001)


def test_rates_are_exact():
    assert parse_rate("29.97") == NTSC
    assert parse_rate("30000/1001") == NTSC
    assert parse_rate("59.94") == Fraction(60000, 1001)
    assert parse_rate(60) == 60 and format_rate(Fraction(60)) == "60/1"
    for bad in ("fast", "0", "-25", "1/0", "5000"):
        with pytest.raises(TimeError):
            parse_rate(bad)


def test_seconds_and_timecode():
    assert parse_time("12.5", Fraction(25)) == 312  # 312.5 rounds half to even
    assert parse_time("12.5", Fraction(24)) == 300
    assert parse_time("00:00:12:15", Fraction(25)) == 315
    assert parse_time("01:00:00:00", Fraction(60)) == 216000
    assert parse_time("48f", Fraction(24)) == 48
    for bad in ("00:00:12:25", "00:61:00:00", "12:5", "-3", "00:00:01;00"):
        with pytest.raises(TimeError):
            parse_time(bad, Fraction(25))


def test_drop_frame_timecode_known_values():
    # one minute of 29.97 drop-frame skips ;00 and ;01
    assert format_timecode(1800, NTSC) == "00:01:00;02"
    assert parse_time("00:01:00;02", NTSC) == 1800
    assert format_timecode(17982, NTSC) == "00:10:00;00"  # ten minutes keep all frames
    assert format_timecode(107892, NTSC) == "01:00:00;00"  # an hour of DF is exactly an hour
    with pytest.raises(TimeError, match="skipped"):
        parse_time("00:01:00;00", NTSC)


@given(st.integers(0, 10 * 3600 * 60), st.sampled_from([NTSC, Fraction(60000, 1001), Fraction(25), Fraction(24)]))
def test_timecode_round_trips(frames, rate):
    assert parse_time(format_timecode(frames, rate), rate) == frames


@given(st.integers(0, 10**7), st.sampled_from([NTSC, Fraction(24000, 1001), Fraction(25), Fraction(60)]))
def test_frame_to_sample_is_exact_and_monotonic(frames, rate):
    s = frames_to_samples(frames, rate, 48000)
    assert s == (frames * 48000 * rate.denominator) // rate.numerator
    assert frames_to_samples(frames + 1, rate, 48000) > s
    assert seconds_to_frames(Fraction(frames) / rate, rate) == frames
