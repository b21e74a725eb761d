"""Compositor, audio mixer, export pipeline and playback clock."""
