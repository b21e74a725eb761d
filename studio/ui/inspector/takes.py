"""The takes of a generated clip in the inspector: one entry per take with its recipe, switching
through ``SetTake`` (one undo step; regenerating never overwrites, so every take stays)."""

from __future__ import annotations

from fractions import Fraction

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from studio.core.edits import SetTake
from studio.core.errors import StudioError
from studio.core.history import History
from studio.core.media_pool import Asset, Recipe
from studio.core.timeline import Clip

from ..theme import MUTED_COLOR

PROMPT_CHARS = 48


def short_prompt(prompt: str, limit: int = PROMPT_CHARS) -> str:
    text = " ".join(prompt.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def recipe_summary(recipe: Recipe) -> str:
    """One line: model, seed, prompt ("cogvideox1.5-5b · seed 42 · “a red car”")."""
    return f"{recipe.model_id} · seed {recipe.seed} · “{short_prompt(recipe.prompt)}”"


def recipe_details(recipe: Recipe) -> str:
    """Everything in a recipe, for the line under the takes."""
    fps = Fraction(recipe.fps)
    rate = f"{fps.numerator}" if fps.denominator == 1 else f"{float(fps):.3f}"
    parts = [f"{recipe.backend}: {recipe.model_id}" + (f" @ {recipe.revision[:12]}" if recipe.revision else ""),
             f"seed {recipe.seed}", f"{recipe.steps} steps", f"guidance {recipe.guidance:g}",
             f"{recipe.width}x{recipe.height}, {recipe.frames} frames at {rate} fps"]
    conform = dict(recipe.conform)
    if conform:
        parts.append("conformed (" + ", ".join(f"{k} {v}" for k, v in sorted(conform.items())
                                               if k in ("interp", "upscale")) + ")")
    text = " · ".join(parts) + f"\nPrompt: {recipe.prompt}"
    if recipe.negative_prompt:
        text += f"\nNegative: {recipe.negative_prompt}"
    if recipe.source_image:
        text += f"\nStart image: {recipe.source_image}"
    return text


def take_label(number: int, asset: Asset | None) -> str:
    if asset is None:
        return f"Take {number}: (missing)"
    if asset.recipe is None:
        return f"Take {number}: {asset.name}"
    return f"Take {number}: {recipe_summary(asset.recipe)}"


def takes_of(clip: Clip) -> tuple[str, ...]:
    return clip.takes or (clip.asset_id,)


class TakesBox(QWidget):
    """A combo of the clip's takes and the current take's recipe. Shown only for generated clips."""

    status_message = Signal(str)

    def __init__(self, history: History, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.clip_id: str | None = None
        self.combo = QComboBox(self)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(12)
        self.combo.activated.connect(self._chosen)
        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.details.setStyleSheet(f"color: {MUTED_COLOR}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.combo)
        layout.addWidget(self.details)

    @staticmethod
    def wanted(history: History, clip: Clip | None) -> bool:
        """True for a clip with several takes or a generated asset."""
        if clip is None:
            return False
        asset = history.project.asset(clip.asset_id)
        return len(clip.takes) > 1 or (asset is not None and asset.recipe is not None)

    def show_clip(self, clip: Clip | None) -> None:
        self.clip_id = clip.id if clip is not None else None
        self.combo.blockSignals(True)
        self.combo.clear()
        if clip is None:
            self.details.clear()
            self.combo.blockSignals(False)
            return
        project = self.history.project
        for i, asset_id in enumerate(takes_of(clip), start=1):
            asset = project.asset(asset_id)
            self.combo.addItem(take_label(i, asset), asset_id)
            if asset is not None and asset.recipe is not None:
                self.combo.setItemData(i - 1, recipe_details(asset.recipe), Qt.ItemDataRole.ToolTipRole)
        self.combo.setCurrentIndex(max(0, self.combo.findData(clip.asset_id)))
        self.combo.blockSignals(False)
        asset = project.asset(clip.asset_id)
        self.details.setText(recipe_details(asset.recipe) if asset is not None and asset.recipe is not None
                             else "")

    def choose(self, index: int) -> bool:
        """Show take ``index`` (0-based) as one undoable step; False when it could not be switched."""
        self.combo.setCurrentIndex(index)
        return self._chosen(index)

    def _chosen(self, index: int) -> bool:
        found = self.history.project.find_clip(self.clip_id) if self.clip_id else None
        asset_id = self.combo.itemData(index)
        if found is None or asset_id is None or asset_id == found[1].asset_id:
            return False
        self.history.end_merge()
        try:
            self.history.apply(SetTake(found[1].id, asset_id))
        except StudioError as e:
            self.status_message.emit(f"cannot switch to take {index + 1}: {e}")
            self.show_clip(found[1])
            return False
        return True
