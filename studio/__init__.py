"""Shotline Studio: a desktop video editor with local AI models on the timeline."""
