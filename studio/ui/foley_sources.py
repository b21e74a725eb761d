"""The entries of the Foley Sounds dialog's source list: what each is, its licence, whether that
licence must be accepted (non-commercial terms) and how to install it."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

#: in-tree sources, in the order listed, with what they are
BUILTIN = {"synth": ("Synthesis", "Procedural sounds (modal impacts by material, whooshes, steps, explosions): "
                                  "no model, always available"),
           "bank": ("Sample bank", "CC0 recordings shipped in resources/foley, varied per hit (choice, pitch, "
                                   "gain, filtering)")}
BUILTIN_LICENCE = {"synth": "Licence: none needed (made here, yours to use)",
                   "bank": "Licence: CC0 1.0 (public domain); attribution kept in resources/foley/ATTRIBUTION.md"}


def non_commercial(licence_name: str) -> bool:
    """True for licences that forbid commercial use (CC BY-NC…, "non-commercial")."""
    words = licence_name.upper().replace("-", " ").replace("_", " ").split()
    return "NC" in words or "NON COMMERCIAL" in " ".join(words) or "NONCOMMERCIAL" in words


@dataclass(frozen=True)
class SourceEntry:
    """One entry of the source list."""

    key: str
    backend: str  # a foley_sources name, "tta" or "v2a"
    name: str
    info: str
    licence_html: str
    licence_name: str = ""  # "" when unknown / nothing to accept
    needs_tick: bool = False
    folder: Path | None = None  # tta: the model folder (None: not installed)
    pull: str = ""  # the command that installs it
    steps: int = 0  # default steps (model sources)


def licence_html(name: str, url: str, note: str = "") -> str:
    text = f"Licence: <a href=\"{html.escape(url)}\">{html.escape(name)}</a>" if url else \
        f"Licence: {html.escape(name)}"
    return text + (f" — {html.escape(note)}" if note else "")
