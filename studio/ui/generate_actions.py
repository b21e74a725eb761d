"""Generating shots in place: "Generate…", "Extend…" and "Regenerate…" in the Timeline menu.

- Generate: into the gap selected on the timeline (clicked between clips), else the range marked
  in and out on the viewer when both are set, else the empty gap under the playhead on a video
  track (``targets.gap_at``);
- Extend: image-to-video from the last frame the clip before the gap shows;
- the right-click menu over a gap offers both ("… in Gap…", "… into Gap…") beside "Close Gap";
- Regenerate: the selected generated clip's recipe, a new seed -> a new take (``add_take``).

Each asks with the ``GenerateDialog``, then runs ``shot_job`` in the editor's pool (per-step
progress and cancel in the jobs panel). The file lands in ``<project folder>/generated/`` with its
recipe on the asset; placing it is one undoable command; a cancelled or failed job leaves no file
and no clip. With "Conform Generated Clips Automatically" on (a persisted setting, default on)
the take is conformed to the project's frame rate and size first; off, it is placed as made.

``studio.ai`` and the dialog are imported on first use, so opening the editor does not pay for them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog

from studio.core.errors import StudioError
from studio.core.media_pool import Asset
from studio.core.timeline import Clip
from studio.jobs import JobHandle, JobState
from studio.media.probe import MediaError

from .clip_targets import selected_video_clip
from .describe import timecode

if TYPE_CHECKING:
    from studio.ai.generate.targets import Target

    from .generate_dialog import GenerateDialog, ShotSettings
    from .main_window import MainWindow

AUTO_CONFORM_KEY = "generate/auto_conform"
FOLDERS_KEY = "generate/folders"
MAX_FOLDERS = 8


def generated_asset(project, clip: Clip) -> Asset | None:
    """The clip's asset when it was generated (has a recipe with a prompt), else None."""
    asset = project.asset(clip.asset_id)
    if asset is None or asset.recipe is None or not asset.recipe.prompt or asset.recipe.backend == "conform":
        return None
    return asset


class GenerateActions(QObject):
    """The generation actions of a MainWindow. ``ask(dialog) -> bool`` shows the dialog (tests replace
    it to fill the dialog in); ``last_job`` is the last job started (tests wait on it)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.generate_action = self._action("&Generate Shot…", "generate-shot", "Ctrl+G", self.generate,
                                            "Generate a shot into the selected gap, the marked range or the gap "
                                            "under the playhead")
        self.extend_action = self._action("E&xtend Shot…", "extend-shot", "Ctrl+Shift+G", self.extend,
                                          "Generate image-to-video from the last frame of the clip before the gap")
        self.regenerate_action = self._action("&Regenerate Shot…", "regenerate-shot", "Ctrl+Alt+G", self.regenerate,
                                              "Generate a new take of the selected generated clip")
        # the timeline's right-click menu over a gap (not in the Timeline menu: Generate/Extend are there)
        self.generate_gap_action = QAction("&Generate Shot in Gap…", window)
        self.generate_gap_action.setObjectName("generate-shot-in-gap")
        self.generate_gap_action.triggered.connect(lambda _checked=False: self.generate())
        self.extend_gap_action = QAction("E&xtend Shot into Gap…", window)
        self.extend_gap_action.setObjectName("extend-shot-into-gap")
        self.extend_gap_action.triggered.connect(lambda _checked=False: self.extend())
        self.auto_conform_action = QAction("Conform Generated Clips &Automatically", window)
        self.auto_conform_action.setObjectName("auto-conform-generated")
        self.auto_conform_action.setCheckable(True)
        self.auto_conform_action.setChecked(self.auto_conform)
        self.auto_conform_action.setStatusTip("Convert generated clips to the project's frame rate and size")
        self.auto_conform_action.toggled.connect(self.set_auto_conform)
        self.ask: Callable[[GenerateDialog], bool] = lambda d: d.exec() == QDialog.DialogCode.Accepted
        self.choose_folder: Callable[[str], str] | None = None
        self.last_job: JobHandle | None = None
        self.last_dialog: GenerateDialog | None = None
        timeline = window.timeline
        if timeline is not None:
            timeline.selection_changed.connect(lambda _ids: self.update_enabled())
            timeline.gap_changed.connect(lambda _gap: self.update_enabled())
            timeline.add_gap_actions([self.generate_gap_action, self.extend_gap_action])
        window.history.changed.connect(lambda _change: self.update_enabled())
        self.update_enabled()

    def _action(self, text: str, name: str, keys: str, slot: Callable[[], object], tip: str) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(name)
        action.setShortcut(QKeySequence(keys))
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(action)
        return action

    def actions(self) -> list[QAction]:
        return [self.generate_action, self.extend_action, self.regenerate_action, self.auto_conform_action]

    # --- settings ------------------------------------------------------------------------------
    @property
    def _qsettings(self):
        return self.window.settings.qsettings

    @property
    def auto_conform(self) -> bool:
        return bool(self._qsettings.value(AUTO_CONFORM_KEY, True, type=bool))

    def set_auto_conform(self, on: bool) -> None:
        self._qsettings.setValue(AUTO_CONFORM_KEY, bool(on))
        self._qsettings.sync()
        if self.auto_conform_action.isChecked() != bool(on):
            self.auto_conform_action.setChecked(bool(on))

    def folders(self) -> list[str]:
        value = self._qsettings.value(FOLDERS_KEY, [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in value or [] if os.path.isdir(str(v))]

    def _remember_folder(self, settings: ShotSettings) -> None:
        if settings.entry.repo is not None:  # a catalogue model: found again by id
            return
        folder = str(settings.folder)
        self._qsettings.setValue(FOLDERS_KEY, ([folder] + [f for f in self.folders() if f != folder])[:MAX_FOLDERS])

    # --- state ---------------------------------------------------------------------------------
    def _selected_generated(self) -> tuple[Clip, Asset] | None:
        timeline = self.window.timeline
        if timeline is None:
            return None
        found = selected_video_clip(self.window.project, timeline.selected_clip_ids())
        if found is None:
            return None
        asset = generated_asset(self.window.project, found[1])
        return (found[1], asset) if asset is not None else None

    def _selected_gap(self) -> Target | None:
        timeline = self.window.timeline
        return timeline.selected_gap() if timeline is not None else None

    def update_enabled(self) -> None:
        self.regenerate_action.setEnabled(self._selected_generated() is not None)
        gap = self._selected_gap()
        self.generate_gap_action.setEnabled(gap is not None)
        self.extend_gap_action.setEnabled(gap is not None and gap.before is not None)

    def _marked(self) -> tuple[int, int] | None:
        """(in, out exclusive) when both in and out are marked on the viewer."""
        engine = getattr(self.window.viewer, "engine", None) if self.window.viewer is not None else None
        if engine is None or engine.in_point is None or engine.out_point is None:
            return None
        return (engine.in_point, engine.out_point + 1) if engine.out_point >= engine.in_point else None

    def target(self, *, extend: bool = False) -> Target | None:
        """The gap selected on the timeline, else the marked range when in and out are set, else the gap
        under the playhead (None: no room; for ``extend`` also when no clip comes before it)."""
        from studio.ai.generate.targets import gap_at, range_target

        gap = self._selected_gap()
        if gap is not None:
            return None if extend and gap.before is None else gap
        marked = self._marked()
        if marked is not None:
            return range_target(self.window.project, *marked, needs_before=extend)
        return gap_at(self.window.project, self.window.playhead(), needs_before=extend)

    def _describe(self, target: Target) -> str:
        project = self.window.project
        fps = project.fps
        track = next((t for t in project.sequence.tracks if t.id == target.track_id), None)
        where = f"on {track.name}" if track is not None else "on a new video track"
        if target.end is None:
            return f"Into the open space {where} from {timecode(target.start, fps)}"
        seconds = target.frames / fps
        return (f"Into {timecode(target.start, fps)}–{timecode(target.end, fps)} {where} "
                f"({float(seconds):.2f} s)")

    def _saved_path(self) -> str | None:
        if not self.window.path:
            self.window.show_status("Save the project first: generated shots are written beside it")
            return None
        return self.window.path

    def _dialog(self, **kw: Any) -> GenerateDialog:
        from .generate_dialog import GenerateDialog

        dialog = GenerateDialog(folders=self.folders(), choose_folder=self.choose_folder, parent=self.window, **kw)
        self.last_dialog = dialog
        return dialog

    # --- the actions ---------------------------------------------------------------------------
    def generate(self) -> JobHandle | None:
        target = self.target()
        if target is None:
            self.window.show_status("No room here: put the playhead in an empty part of a video track, "
                                    "or mark in and out")
            return None
        if self._saved_path() is None:
            return None
        fps = self.window.project.fps
        dialog = self._dialog(mode="generate", target_text=self._describe(target),
                              target_seconds=None if target.end is None else float(target.frames / fps))
        if not self.ask(dialog):
            return None
        settings = dialog.settings()
        return self._submit(settings, settings.request(), "Generate shot",
                            lambda result: self._place(result, target, "Generate shot"))

    def extend(self) -> JobHandle | None:
        from studio.ai.generate.targets import last_frame_time

        target = self.target(extend=True)
        if target is None:
            if self._selected_gap() is not None:
                self.window.show_status("Nothing to extend: the selected gap has no clip before it")
            else:
                self.window.show_status("Nothing to extend: put the playhead in the gap after a clip (or mark in "
                                        "and out after one)")
            return None
        if self._saved_path() is None:
            return None
        project = self.window.project
        _, before = project.find_clip(target.before)
        asset = project.asset(before.asset_id)
        if asset is None or not asset.has_video or not os.path.exists(asset.path):
            self.window.show_status(f"{before.name or before.id}: its media is missing or has no picture")
            return None
        fps = project.fps
        text = f"Continues {before.name or asset.name} from its last frame.\n{self._describe(target)}"
        dialog = self._dialog(mode="extend", target_text=text,
                              target_seconds=None if target.end is None else float(target.frames / fps))
        if not self.ask(dialog):
            return None
        settings = dialog.settings()
        still = (asset.path, last_frame_time(before, fps))
        return self._submit(settings, settings.request(), "Extend shot",
                            lambda result: self._place(result, target, "Extend shot"), still=still)

    def regenerate(self) -> JobHandle | None:
        found = self._selected_generated()
        if found is None:
            self.window.show_status("Select one generated clip to regenerate")
            return None
        if self._saved_path() is None:
            return None
        clip, asset = found
        recipe = asset.recipe
        image = recipe.source_image or None
        if image is not None and not os.path.isfile(image):
            self.window.show_status(f"The start image of {asset.name} is missing: {image}")
            return None
        takes = len(clip.takes) or 1
        dialog = self._dialog(mode="regenerate", recipe=recipe,
                              target_text=f"A new take (take {takes + 1}) of {clip.name or asset.name}; "
                                          "the recipe is filled in with a new seed")
        if not self.ask(dialog):
            return None
        settings = dialog.settings()
        return self._submit(settings, settings.request(image=image), "Regenerate shot",
                            lambda result: self._add_take(result, clip.id))

    # --- running -------------------------------------------------------------------------------
    def _submit(self, settings: ShotSettings, request, what: str, on_result: Callable[[Any], None], *,
                still: tuple[str, Fraction] | None = None) -> JobHandle:
        from studio.ai.generate.in_place import shot_job
        from studio.ai.generate.output import GENERATED_DIR, slug

        self._remember_folder(settings)
        project = self.window.project
        size = (int(project.settings.width), int(project.settings.height))
        conform_to = (project.fps, size) if self.auto_conform else None
        folder = Path(self.window.path).absolute().parent / GENERATED_DIR
        made: list[Path] = []
        job = shot_job(request, folder, slug(request.prompt), conform_to=conform_to, still=still, made=made)
        handle = self.window.jobs.submit(job, on_done=on_result, on_end=lambda h: self._ended(h, what, made))
        self.last_job = handle
        self.window.show_status(f"{what}: {settings.entry.id}, seed {settings.seed}, {settings.frames} frames")
        return handle

    def _ended(self, handle: JobHandle, what: str, made: list[Path]) -> None:
        if handle.state is JobState.FAILED:
            self.window.show_status(f"{what} failed: {handle.error}")
        elif handle.state in (JobState.CANCELLED, JobState.TIMED_OUT):
            self.window.show_status(f"{what} {handle.state.value.replace('_', ' ')}")

            def clean() -> None:  # a cancel after the job's last check: its files are still listed
                from studio.ai.generate.in_place import unlink_all

                handle.join()
                unlink_all(made)

            threading.Thread(target=clean, name="generate-cleanup", daemon=True).start()

    def _done_text(self, result, what: str) -> str:
        asset = result.asset
        recipe = asset.recipe
        w, h = result.native_size
        text = f"{what}: {asset.name} (take {result.take}, seed {recipe.seed})"
        if recipe.conform:
            text += f", conformed from {w}x{h} at {float(result.native_fps):g} fps"
        return text

    def _place(self, result, target: Target, label: str) -> None:
        from studio.ai.generate.in_place import place_in, unlink_all

        try:
            clip = place_in(self.window.history, result.asset, target, label=label)
        except (StudioError, MediaError, OSError) as e:
            unlink_all(result.files)
            self.window.show_status(f"{label}: the shot could not be placed: {e}")
            return
        if self.window.timeline is not None:
            self.window.timeline.select([clip.id])
        self.window.show_status(self._done_text(result, label))

    def _add_take(self, result, clip_id: str) -> None:
        from studio.ai.generate.in_place import unlink_all
        from studio.ai.generate.place import add_take

        try:
            add_take(self.window.history, clip_id, result.asset)
        except (StudioError, MediaError, OSError) as e:
            unlink_all(result.files)
            self.window.show_status(f"Regenerate: the new take could not be used: {e}")
            return
        self.window.show_status(self._done_text(result, "Regenerate shot"))
