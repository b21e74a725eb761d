"""AI actions on the selected timeline clip: "Add Foley to Selected Clip", "Conform Clip to Project".

Each runs its heavy part as a job in the editor's pool (progress in the jobs panel, cancellable)
and lands its result on the UI thread as ONE undo step (DESIGN.md fixed points 2 and 6):

- foley: the clip's media is analysed, the events inside the clip's source range are mapped to
  sequence time and sounded; the WAVs go to ``<project folder>/<project stem>_foley/`` and a
  ``FoleyPass`` command places them (replacing any earlier pass). The project must be saved
  first (the sounds live beside it).
- conform: the clip's media is conformed to the project's frame rate and size into
  ``<project folder>/conformed/<name>-<W>x<H>-<fps>.mp4``; the new asset (recipe from
  ``recipe_for``) is added and the clip switched to it with ``SetTake`` in one transaction,
  so the original stays as another take.

``studio.ai`` is imported lazily (inside the job functions and result handlers), so opening the
editor does not pay for it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from studio.core.edits import AddAsset, SetTake
from studio.core.errors import StudioError
from studio.core.project import Project
from studio.core.timeline import Clip, Track
from studio.jobs import Cancelled, Job, JobContext, JobHandle, JobState, Priority
from studio.media.probe import MediaError

if TYPE_CHECKING:
    from .main_window import MainWindow

#: Share of the foley job's progress bar spent on analysis (the rest: sounds and files).
_ANALYSIS_SHARE = 0.8


# --- Qt-free helpers (job functions and what they need) ---------------------------------------
def selected_video_clip(project: Project, ids: list[str]) -> tuple[Track, Clip] | None:
    """The one selected clip when exactly one is selected, it is on a video track and its media moves."""
    if len(ids) != 1:
        return None
    found = project.find_clip(ids[0])
    if found is None:
        return None
    track, clip = found
    asset = project.asset(clip.asset_id)
    if track.kind != "video" or asset is None or not asset.has_video or asset.info.is_still or not asset.info.fps:
        return None
    return track, clip


def needs_conform(project: Project, clip: Clip) -> bool:
    """True when the clip's media differs from the project in frame rate or size."""
    asset = project.asset(clip.asset_id)
    if asset is None:
        return False
    s = project.settings
    return (Fraction(asset.info.fps or 0) != Fraction(project.fps)
            or (asset.info.width, asset.info.height) != (s.width, s.height))


def rate_text(fps: Fraction) -> str:
    """``24`` -> ``"24"``, ``30000/1001`` -> ``"29.97"`` (for file names)."""
    fps = Fraction(fps)
    if fps.denominator == 1:
        return str(fps.numerator)
    return f"{float(fps):.3f}".rstrip("0").rstrip(".")


def conform_path(project_path: str, asset_name: str, size: tuple[int, int], fps: Fraction) -> Path:
    """``<project folder>/conformed/<name>-<W>x<H>-<fps>.mp4``; ``-2``, ``-3``... when taken
    (a conformed file is never overwritten: an older take may still use it)."""
    folder = Path(project_path).absolute().parent / "conformed"
    stem = f"{Path(asset_name).stem or 'clip'}-{size[0]}x{size[1]}-{rate_text(fps)}"
    path, n = folder / f"{stem}.mp4", 2
    while path.exists():
        path, n = folder / f"{stem}-{n}.mp4", n + 1
    return path


def clip_events(events: list, clip: Clip, fps: Fraction) -> list:
    """Events (seconds from the media start) inside the clip's source range, re-timed to seconds
    from the clip's start on the sequence. Speed is honoured for timing (reverse too); the sounds
    themselves are not retimed."""
    fps = Fraction(fps)
    speed = Fraction(clip.speed)
    start, end = Fraction(clip.source_in) / fps, clip.source_out / fps
    out = []
    for e in events:
        t = Fraction(e.time)
        if not start <= t < end:
            continue
        offset = (t - start) / speed if speed > 0 else (end - t) / -speed
        out.append(replace(e, time=float(offset)))
    return out


def foley_clip_job(media_path: str, clip: Clip, *, fps: Fraction, sample_rate: int, folder: Path,
                   expected_frames: int = 0, backend: str | None = None) -> Job:
    """A job: analyse ``media_path``, keep the events in ``clip``'s source range, design sounds at
    sequence rate from ``clip.position`` and write them into ``folder``. Result: ``(items, events)``
    for ``FoleyPass``. Nothing is left in ``folder`` when it is cancelled or fails."""

    def run(ctx: JobContext) -> tuple[list, list]:
        from studio.ai.foley.analysis import analyze
        from studio.ai.foley.events import detect_events
        from studio.ai.foley.pipeline import DEFAULT_BACKEND, design
        from studio.ai.foley.placement import write_pass

        total = max(1, expected_frames)

        def analysed(n: int) -> None:
            ctx.progress(_ANALYSIS_SHARE * min(1.0, n / total), f"analysing frame {n}")

        ctx.progress(0.0, "analysing")
        try:
            features = analyze(media_path, progress=analysed, cancelled=lambda: ctx.cancelled)
        except InterruptedError:
            raise Cancelled() from None
        ctx.check()
        events = clip_events(detect_events(features), clip, fps)
        ctx.progress(_ANALYSIS_SHARE, f"{len(events)} events; designing sounds")
        placed = design(events, fps=fps, sample_rate=sample_rate, backend=backend or DEFAULT_BACKEND,
                        offset=clip.position)
        ctx.check()
        ctx.progress(0.9, f"writing {len(placed)} sounds")
        items: list = []
        try:
            items = write_pass(placed, folder, sample_rate)
            ctx.check()
        except BaseException:
            for it in items:
                _unlink(it.asset.path)
            raise
        return items, events

    return Job(run, name=f"foley {clip.name or clip.id}", cpu=1, priority=Priority.INTERACTIVE)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# --- the actions -------------------------------------------------------------------------------
class AiActions(QObject):
    """The AI actions of a MainWindow: enabled state follows the timeline selection and the project."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.foley_action = QAction("Add &Foley to Selected Clip", window)
        self.foley_action.setObjectName("add-foley")
        self.foley_action.setStatusTip("Detect visual events in the selected clip and place synced sounds")
        self.foley_action.triggered.connect(lambda _checked=False: self.add_foley())
        self.conform_action = QAction("&Conform Clip to Project", window)
        self.conform_action.setObjectName("conform-clip")
        self.conform_action.setStatusTip("Re-time and resize the selected clip's media to the project's settings")
        self.conform_action.triggered.connect(lambda _checked=False: self.conform_clip())
        #: The last job each action started (tests wait on them).
        self.last_foley: JobHandle | None = None
        self.last_conform: JobHandle | None = None
        self.context_menu: QMenu | None = None
        timeline = window.timeline
        if timeline is not None:
            timeline.selection_changed.connect(lambda _ids: self.update_enabled())
            timeline.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            timeline.customContextMenuRequested.connect(self._context_menu)
        window.history.changed.connect(lambda _change: self.update_enabled())
        self.update_enabled()

    def actions(self) -> list[QAction]:
        return [self.foley_action, self.conform_action]

    # --- state ---------------------------------------------------------------------------------
    def _selection(self) -> tuple[Track, Clip] | None:
        timeline = self.window.timeline
        if timeline is None:
            return None
        return selected_video_clip(self.window.project, timeline.selected_clip_ids())

    def update_enabled(self) -> None:
        found = self._selection()
        self.foley_action.setEnabled(found is not None)
        self.conform_action.setEnabled(found is not None and needs_conform(self.window.project, found[1]))

    def _context_menu(self, pos: QPoint) -> None:
        """Right click on a clip: select it (unless it is already selected) and offer the AI actions."""
        timeline = self.window.timeline
        scene = timeline.mapToScene(pos)
        hit = timeline.timeline_layout().hit(scene.x(), scene.y())
        if hit.clip is None:
            return
        if hit.clip.id not in timeline.selected_clip_ids():
            timeline.select([hit.clip.id])
        self.update_enabled()
        menu = QMenu(timeline)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addActions(self.actions())
        menu.popup(timeline.viewport().mapToGlobal(pos))
        self.context_menu = menu

    def _saved_path(self, what: str) -> str | None:
        if not self.window.path:
            self.window.show_status(f"Save the project first: {what} are written beside it")
            return None
        return self.window.path

    def _target(self, eligible: bool, refusal: str, what: str):
        """(project path, project, clip, asset) for an action on the selected clip, or None with a
        status line saying why not (nothing eligible selected, unsaved project, missing media)."""
        if not eligible:
            self.window.show_status(refusal)
            return None
        path = self._saved_path(what)
        if path is None:
            return None
        project = self.window.project
        _, clip = self._selection()
        asset = project.asset(clip.asset_id)
        if not os.path.exists(asset.path):
            self.window.show_status(f"{asset.name}: the media is missing (relink it first)")
            return None
        return path, project, clip, asset

    # --- foley ---------------------------------------------------------------------------------
    def add_foley(self, backend: str | None = None) -> JobHandle | None:
        found = self._selection()
        target = self._target(found is not None, "Select one video clip to add foley to", "foley sounds")
        if target is None:
            return None
        path, project, clip, asset = target
        from studio.ai.foley.placement import foley_folder

        expected = int(asset.info.duration * asset.info.fps) if asset.info.duration and asset.info.fps else 0
        fps, sr = project.fps, int(project.settings.sample_rate)
        job = foley_clip_job(asset.path, clip, fps=fps, sample_rate=sr, folder=foley_folder(path),
                             expected_frames=expected, backend=backend)
        name = clip.name or asset.name
        if Fraction(clip.speed) != 1:
            self.window.show_status(f"Foley for {name}: timed to the clip's speed; the sounds are not retimed")
        handle = self.window.jobs.submit(job, on_done=lambda result: self._foley_done(result, fps, sr, name),
                                         on_end=lambda h: self._ended(h, "Foley"))
        self.last_foley = handle
        return handle

    def _foley_done(self, result: tuple[list, list], fps: Fraction, sample_rate: int, name: str) -> None:
        from studio.ai.foley.placement import FoleyPass

        items, events = result
        try:
            self.window.history.apply(FoleyPass(items, fps=fps, sample_rate=sample_rate))
        except StudioError as e:
            for it in items:
                _unlink(it.asset.path)
            self.window.show_status(f"Foley for {name} could not be placed: {e}")
            return
        self.window.show_status(f"Foley for {name}: {len(events)} events, {len(items)} sounds placed")

    # --- conform -------------------------------------------------------------------------------
    def conform_clip(self) -> JobHandle | None:
        found = self._selection()
        target = self._target(found is not None and needs_conform(self.window.project, found[1]),
                              "Select one video clip whose media differs from the project's rate or size",
                              "conformed files")
        if target is None:
            return None
        path, project, clip, asset = target
        from studio.ai.enhance.conform import conform_job

        size = (project.settings.width, project.settings.height)
        out = conform_path(path, asset.name, size, project.fps)
        out.parent.mkdir(parents=True, exist_ok=True)
        job = conform_job(asset.path, out, fps=project.fps, size=size, interp="auto", upscale="auto")
        handle = self.window.jobs.submit(job, on_done=lambda result: self._conform_done(result, clip.id, asset.id),
                                         on_end=lambda h: self._ended(h, "Conform"))
        self.last_conform = handle
        return handle

    def _conform_done(self, result: Any, clip_id: str, source_asset_id: str) -> None:
        from studio.ai.enhance.conform import recipe_for
        from studio.media.assets import asset_from_file

        history = self.window.history
        source = history.project.asset(source_asset_id)
        try:
            asset = asset_from_file(result.path)
            asset = replace(asset, recipe=recipe_for(result, base=source.recipe if source is not None else None))
            with history.transaction("Conform clip"):
                history.apply(AddAsset(asset))
                history.apply(SetTake(clip_id, asset.id))
        except (StudioError, MediaError, OSError) as e:
            self.window.show_status(f"Conformed {os.path.basename(result.path)}, but could not use it: {e}")
            return
        w, h = result.size
        self.window.show_status(f"Conformed to {w}x{h} at {rate_text(result.fps)} fps: {asset.name}")

    # --- both ----------------------------------------------------------------------------------
    def _ended(self, handle: JobHandle, what: str) -> None:
        if handle.state is JobState.FAILED:
            self.window.show_status(f"{what} failed: {handle.error}")
        elif handle.state in (JobState.CANCELLED, JobState.TIMED_OUT):
            self.window.show_status(f"{what} {handle.state.value.replace('_', ' ')}")
