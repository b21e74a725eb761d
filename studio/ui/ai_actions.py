"""AI actions on the timeline: foley (detect events as markers, make sounds, or both at once) and
"Conform Clip to Project".

Each runs its heavy part as a job in the editor's pool (progress in the jobs panel, cancellable)
and lands its result on the UI thread as ONE undo step (DESIGN.md fixed points 2 and 6):

- "Detect Foley Events": the selected clip's media (or, when an in/out range is marked, that of
  every video clip in it) is analysed; one foley marker per event is put on the sequence
  (``studio.ai.foley.markers``), replacing the foley markers detected earlier in that span. Markers
  can then be moved (dragged on the ruler) or deleted before any sound is made.
- "Make Foley Sounds…": the foley markers as they are now become events at the markers' times (a
  moved marker moves its sound), sounds are designed and a ``FoleyPass`` places them, replacing
  any earlier pass. The markers stay: they are the pass's spotting list, so a pro can nudge one
  and make the pass again (each make replaces the last) instead of detecting anew and losing
  their edits; "Remove Foley Markers" clears them in one step once the spotting is done.
- "Add Foley to Selected Clip…": both at once for one clip (its markers too), keeping the sounds
  of foley markers elsewhere on the sequence.

Both sound-making actions first ask with the ``FoleyDialog`` where the sounds come from (synthesis,
the sample bank, a text-to-audio model, a video-to-audio plugin; its licence shown and, when
non-commercial, accepted) and whether CLIP labels the events; ``ask`` and ``choose_folder`` are
replaceable (tests fill the dialog in instead of showing it). A model source runs with step progress
and cancel; a video-to-audio model writes each clip's whole soundtrack as one sound.
- conform: the clip's media is conformed to the project's frame rate and size into
  ``<project folder>/conformed/<name>-<W>x<H>-<fps>.mp4``; the new asset (recipe from
  ``recipe_for``) is added and the clip switched to it with ``SetTake`` in one transaction,
  so the original stays as another take.

Sounds go to ``<project folder>/<project stem>_foley/``, so the project must be saved first.
``studio.ai`` is imported lazily (inside the job functions, result handlers, and only for projects
that hold tool markers), so opening the editor does not pay for it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QMenu

from studio.core.edits import AddAsset, AddMarker, RemoveMarker, SetTake
from studio.core.errors import StudioError
from studio.core.project import Project
from studio.core.timeline import Clip, Marker, Track
from studio.jobs import JobHandle, JobState
from studio.media.probe import MediaError

from .clip_targets import conform_path, needs_conform, rate_text, selected_video_clip
from .foley_jobs import (
    FoleyChoice,
    FoleyTarget,
    clip_events,
    detect_job,
    foley_clip_job,
    sounds_job,
    target_for,
    targets_in_range,
    unlink,
)
from .foley_marking import Follow, foley_markers_of, markers_targets, replace_markers

if TYPE_CHECKING:
    from collections.abc import Callable

    from .foley_dialog import FoleyDialog
    from .main_window import MainWindow

__all__ = ["AiActions", "clip_events", "conform_path", "needs_conform", "rate_text", "selected_video_clip"]


# --- the actions -------------------------------------------------------------------------------
class AiActions(QObject):
    """The AI actions of a MainWindow: enabled state follows the timeline selection and the project."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

        def action(text: str, name: str, tip: str, slot) -> QAction:
            a = QAction(text, window)
            a.setObjectName(name)
            a.setStatusTip(tip)
            a.triggered.connect(lambda _checked=False: slot())
            return a

        self.foley_action = action("Add &Foley to Selected Clip…", "add-foley",
                                   "Detect visual events in the selected clip and place synced sounds", self.add_foley)
        self.detect_action = action("&Detect Foley Events", "detect-foley",
                                    "Mark the visual events of the selected clip (or of the in/out range) on the "
                                    "ruler, to move or delete before making sounds", self.detect_foley)
        self.make_action = action("&Make Foley Sounds…", "make-foley",
                                  "Place a sound on every foley marker (replaces the previous foley pass)",
                                  self.make_foley)
        self.clear_markers_action = action("Remove Foley Mar&kers", "remove-foley-markers",
                                           "Remove every foley event marker (the sounds stay)",
                                           self.remove_foley_markers)
        self.conform_action = action("&Conform Clip to Project", "conform-clip",
                                     "Re-time and resize the selected clip's media to the project's settings",
                                     self.conform_clip)
        #: The last job each action started (tests wait on them).
        self.last_foley: JobHandle | None = None
        self.last_detect: JobHandle | None = None
        self.last_make: JobHandle | None = None
        self.last_conform: JobHandle | None = None
        self.context_menu: QMenu | None = None
        #: shows the Foley Sounds dialog (tests replace it to fill the dialog in and accept it)
        self.ask: Callable[[FoleyDialog], bool] = lambda d: d.exec() == QDialog.DialogCode.Accepted
        self.choose_folder: Callable[[str], str] | None = None
        self.last_dialog: FoleyDialog | None = None
        timeline = window.timeline
        if timeline is not None:
            timeline.selection_changed.connect(lambda _ids: self.update_enabled())
            timeline.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            timeline.customContextMenuRequested.connect(self._context_menu)
        window.history.changed.connect(lambda _change: self.update_enabled())
        self.update_enabled()

    def actions(self) -> list[QAction]:
        return [self.detect_action, self.make_action, self.foley_action, self.clear_markers_action,
                self.conform_action]

    # --- state ---------------------------------------------------------------------------------
    def _selection(self) -> tuple[Track, Clip] | None:
        timeline = self.window.timeline
        if timeline is None:
            return None
        return selected_video_clip(self.window.project, timeline.selected_clip_ids())

    def update_enabled(self) -> None:
        found = self._selection()
        self.foley_action.setEnabled(found is not None)
        # detect also works on a marked in/out range, which the viewer changes without telling us:
        # it stays enabled and says why when there is nothing to detect in
        self.detect_action.setEnabled(self.window.timeline is not None)
        has_markers = bool(foley_markers_of(self.window.project))
        self.make_action.setEnabled(has_markers)
        self.clear_markers_action.setEnabled(has_markers)
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
        if not self._media_present([asset.path], project):
            return None
        return path, project, clip, asset

    def _media_present(self, paths: list[str], project: Project) -> bool:
        for p in paths:
            if not os.path.exists(p):
                name = next((a.name for a in project.assets if a.path == p), os.path.basename(p))
                self.window.show_status(f"{name}: the media is missing (relink it first)")
                return False
        return True

    def ask_choice(self, title: str, target_text: str, ok_text: str) -> FoleyChoice | None:
        """Where the sounds come from, asked with the Foley Sounds dialog (None: cancelled). The
        choices and any licence accepted are remembered for next time."""
        from .foley_dialog import FoleyDialog

        dialog = FoleyDialog(title=title, target_text=target_text, ok_text=ok_text,
                             settings=self.window.settings.qsettings, choose_folder=self.choose_folder,
                             parent=self.window)
        self.last_dialog = dialog
        try:
            if not self.ask(dialog):
                return None
            choice = dialog.choice()  # ValueError while the dialog says why it cannot be accepted
            dialog.remember()
            return choice
        except ValueError as e:
            self.window.show_status(f"Foley: {e}")
            return None
        finally:
            dialog.deleteLater()

    # --- foley: detect -------------------------------------------------------------------------
    def detect_foley(self) -> JobHandle | None:
        """Detect events on the in/out range (every video clip in it) when one is marked, else on the
        selected clip; they land as foley markers in one undo step."""
        window, project = self.window, self.window.project
        span = window.in_out()
        if span is not None:
            targets: list[FoleyTarget] = targets_in_range(project, *span)
            where, spans = "the marked range", [span]
            if not targets:
                window.show_status("No video clips in the marked range to detect foley events in")
                return None
        else:
            found = self._selection()
            target = target_for(project, found[1]) if found is not None else None
            if target is None:
                window.show_status("Select one video clip (or mark an in/out range) to detect foley events in")
                return None
            targets, where = [target], target.clip.name or project.asset(target.clip.asset_id).name
            spans = [(target.clip.position, target.clip.end)]
        if not self._media_present([t.media_path for t in targets], project):
            return None
        fps = project.fps
        job = detect_job(targets, fps=fps, span=span, name=where)
        handle = window.jobs.submit(job, on_done=lambda events: self._detect_done(events, spans, fps, where, targets),
                                    on_end=lambda h: self._ended(h, "Foley detection"))
        self.last_detect = handle
        return handle

    def _detect_done(self, events: list, spans: list[tuple[int, int]], fps: Fraction, where: str,
                     targets: Sequence[FoleyTarget] = ()) -> None:
        history = self.window.history
        try:
            with history.transaction("Detect foley events"):
                removed = replace_markers(history, spans, events, fps, targets)
        except StudioError as e:
            self.window.show_status(f"Foley events for {where} could not be marked: {e}")
            return
        if not events:
            self.window.show_status(f"No foley events found in {where}"
                                    + (f" ({removed} earlier markers removed)" if removed else ""))
            return
        self.window.show_status(f"{len(events)} foley events marked in {where}: move or delete markers on the "
                                "ruler, then Make Foley Sounds")

    # --- foley: make ---------------------------------------------------------------------------
    def make_foley(self, choice: FoleyChoice | None = None) -> JobHandle | None:
        """Sounds for the foley markers as they are now, placed as one pass (the markers stay).
        ``choice`` None: ask with the Foley Sounds dialog."""
        window, project = self.window, self.window.project
        markers = foley_markers_of(project)
        if not markers:
            window.show_status("No foley markers: Detect Foley Events first")
            return None
        path = self._saved_path("foley sounds")
        if path is None:
            return None
        from studio.ai.foley.markers import follow_clip, marker_event
        from studio.ai.foley.placement import foley_folder

        fps, sr = project.fps, int(project.settings.sample_rate)
        events, bad, follow = [], [], Follow()
        for m in markers:
            try:
                what, moved, fields = follow_clip(m, project, fps)
                if what == "gone":  # its moment was trimmed out of its clip: no sound, marker removed
                    follow.gone.append(m.id)
                    continue
                if what == "move":  # its clip moved: the sound goes with the picture, so does the marker
                    follow.moves.append((m.id, fields))
                    events.append(moved)
                    continue
                events.append(marker_event(m, fps))
            except ValueError:
                bad.append(m.name or m.id)
        if not events:
            window.show_status(f"The foley markers hold no readable events ({', '.join(bad)})")
            return None
        targets = markers_targets(project, markers)
        if choice is None:
            choice = self.ask_choice("Make Foley Sounds", f"Sounds for {len(events)} foley markers", "Make Sounds")
            if choice is None:
                return None
        if choice.backend == "v2a" and not targets:
            window.show_status("No video clips under the foley markers for the video-to-audio model to watch")
            return None
        if not self._media_present([t.media_path for t in targets], project):
            return None
        job = sounds_job(events, fps=fps, sample_rate=sr, folder=foley_folder(path), choice=choice, targets=targets)
        snapshot = tuple(markers)
        handle = window.jobs.submit(job, on_done=lambda items: self._make_done(items, fps, sr, snapshot, bad,
                                                                               choice.label, follow),
                                    on_end=lambda h: self._ended(h, "Foley sounds"))
        self.last_make = handle
        return handle

    def _make_done(self, items: list, fps: Fraction, sample_rate: int, snapshot: tuple[Marker, ...],
                   bad: list[str], source: str = "", follow: Follow | None = None) -> None:
        from studio.ai.foley.placement import FoleyPass

        follow = follow or Follow()
        history = self.window.history
        changed = tuple(foley_markers_of(self.window.project)) != snapshot
        try:
            with history.transaction("Foley pass"):
                if not changed:  # markers that followed their clips move (or go) in the same step
                    for marker_id, fields in follow.moves:
                        history.apply(RemoveMarker(marker_id))
                        history.apply(AddMarker(**fields))
                    for marker_id in follow.gone:
                        history.apply(RemoveMarker(marker_id))
                history.apply(FoleyPass(items, fps=fps, sample_rate=sample_rate))
        except StudioError as e:
            for it in items:
                unlink(it.asset.path)
            self.window.show_status(f"Foley sounds could not be placed: {e}")
            return
        text = f"Foley: {len(items)} sounds placed on the foley markers" + (f" ({source})" if source else "")
        if follow.moves:
            text += f"; {len(follow.moves)} markers followed their moved clips"
        if follow.gone:
            text += f"; {len(follow.gone)} markers trimmed out of their clips were removed"
        if bad:
            text += f"; {len(bad)} unreadable markers skipped"
        if changed:
            text += "; the markers changed meanwhile: Make Foley Sounds again to follow them"
        self.window.show_status(text)

    def remove_foley_markers(self) -> bool:
        """Remove every foley marker in one undo step (the placed sounds stay)."""
        markers = foley_markers_of(self.window.project)
        if not markers:
            self.window.show_status("No foley markers to remove")
            return False
        history = self.window.history
        with history.transaction("Remove foley markers"):
            for m in markers:
                history.apply(RemoveMarker(m.id))
        self.window.show_status(f"Removed {len(markers)} foley markers")
        return True

    # --- foley: both at once -------------------------------------------------------------------
    def add_foley(self, choice: FoleyChoice | None = None) -> JobHandle | None:
        """Detect and make in one go for the selected clip: its markers are replaced, the sounds of
        foley markers elsewhere are kept in the new pass (a video-to-audio pass: this clip's soundtrack).
        ``choice`` None: ask with the Foley Sounds dialog."""
        found = self._selection()
        target = self._target(found is not None, "Select one video clip to add foley to", "foley sounds")
        if target is None:
            return None
        path, project, clip, asset = target
        from studio.ai.foley.markers import marker_event
        from studio.ai.foley.placement import foley_folder

        fps, sr = project.fps, int(project.settings.sample_rate)
        keep = []
        for m in foley_markers_of(project):
            if not clip.position <= m.frame < clip.end:
                try:
                    keep.append(marker_event(m, fps))
                except ValueError:
                    pass
        name = clip.name or asset.name
        if choice is None:
            choice = self.ask_choice("Add Foley to Selected Clip", f"Detect events in {name} and make their sounds",
                                     "Add Foley")
            if choice is None:
                return None
        clip_target = target_for(project, clip)
        job = foley_clip_job(clip_target, fps=fps, sample_rate=sr, folder=foley_folder(path),
                             keep=keep, choice=choice)
        if Fraction(clip.speed) != 1:
            self.window.show_status(f"Foley for {name}: timed to the clip's speed; the sounds are not retimed")
        span = (clip.position, clip.end)
        handle = self.window.jobs.submit(job, on_done=lambda result: self._foley_done(result, span, fps, sr, name,
                                                                                      choice.label, clip_target),
                                         on_end=lambda h: self._ended(h, "Foley"))
        self.last_foley = handle
        return handle

    def _foley_done(self, result: tuple[list, list], span: tuple[int, int], fps: Fraction, sample_rate: int,
                    name: str, source: str = "", target: FoleyTarget | None = None) -> None:
        from studio.ai.foley.placement import FoleyPass

        items, events = result
        history = self.window.history
        try:
            with history.transaction("Add foley"):
                replace_markers(history, [span], events, fps, [target] if target is not None else [])
                history.apply(FoleyPass(items, fps=fps, sample_rate=sample_rate))
        except StudioError as e:
            for it in items:
                unlink(it.asset.path)
            self.window.show_status(f"Foley for {name} could not be placed: {e}")
            return
        self.window.show_status(f"Foley for {name}: {len(events)} events, {len(items)} sounds placed"
                                + (f" ({source})" if source else ""))

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
