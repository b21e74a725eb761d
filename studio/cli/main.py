"""The ``studio`` command (DESIGN.md "The command line" is the contract).

Bad input exits with status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from studio.core.errors import StudioError

from .errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, UsageError

#: Commands of the contract that later work adds; named so they are not taken for a project.
PLANNED: tuple[str, ...] = ()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse prints usage + error)
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="studio", description="Shotline Studio: a video editor with AI tools on the timeline.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("new", help="create an empty project")
    p.add_argument("project")
    p.add_argument("--width", type=int, default=1920)
    p.add_argument("--height", type=int, default=1080)
    p.add_argument("--fps", default="30", help="frame rate: 25, 60, 30000/1001 or 29.97")

    p = sub.add_parser("info", help="describe a project")
    p.add_argument("project")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("import", help="add media files to a project's timeline")
    p.add_argument("media", nargs="+")
    p.add_argument("--into", required=True, metavar="PROJECT")
    p.add_argument("--at", metavar="TIME", help="seconds (12.5) or timecode (00:00:12:15); default: the end")
    p.add_argument("--track", metavar="NAME", help="track for the clips (default: the first of each kind)")

    p = sub.add_parser("import-otio", help="make a project from .otio, FCP 7 XML or CMX 3600 EDL")
    p.add_argument("file")
    p.add_argument("-o", "--output", required=True, metavar="PROJECT")

    p = sub.add_parser("export-otio", help="write a project as .otio, FCP 7 XML (.xml) or EDL (.edl)")
    p.add_argument("project")
    p.add_argument("-o", "--output", required=True, metavar="FILE")

    p = sub.add_parser("render", help="export a project to a video or audio file")
    p.add_argument("project")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--preset", default="4K60 H.264", metavar="NAME",
                   help="export preset: name, slug (4k60-h264) or a .json file (default: 4K60 H.264)")
    p.add_argument("--vcodec", metavar="C", help="video encoder instead of the preset's (e.g. libx265)")
    p.add_argument("--crf", type=int, metavar="N", help="constant rate factor (quality; lower is better)")
    p.add_argument("--speed", metavar="P", help="x264/x265 preset: ultrafast ... medium ... veryslow")
    p.add_argument("--range", metavar="A-B", help="render only from A to B (seconds or timecode each)")
    p.add_argument("--normalize", type=float, metavar="LUFS", help="normalise loudness to LUFS (e.g. -14)")

    p = sub.add_parser("conform", help="frame-interpolate and upscale a clip (default: 3840x2160 at 60 fps)")
    p.add_argument("input", metavar="IN")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--fps", default="60", metavar="F", help="output frame rate: 60, 50, 30000/1001 ... (default: 60)")
    p.add_argument("--size", default="3840x2160", metavar="WxH", help="output size (default: 3840x2160)")
    p.add_argument("--interp", default="auto", choices=("auto", "flow", "rife"),
                   help="frame interpolation (rife needs STUDIO_RIFE_WEIGHTS; auto: rife with weights and CUDA)")
    p.add_argument("--upscale", default="auto", choices=("auto", "lanczos", "esrgan"),
                   help="upscaler (esrgan needs STUDIO_ESRGAN_WEIGHTS; auto: esrgan with weights and CUDA)")

    p = sub.add_parser("foley", help="detect visual events in a video and add synced sound effects")
    p.add_argument("input", metavar="IN")
    p.add_argument("-o", "--output", metavar="OUT", help="the video with the foley as an extra audio stream")
    p.add_argument("--into", metavar="PROJECT", help="place the foley pass in a project instead (one undo step)")
    p.add_argument("--at", metavar="TIME", help="with --into: sequence time of IN's start (default 0)")
    p.add_argument("--prompt", metavar="TEXT", help="what it sounds like, e.g. 'metal', 'wood', 'glass'")
    p.add_argument("--backend", default="synth", metavar="NAME",
                   help="sound source: synth (default), bank, tta (a text-to-audio model, see --model), "
                        "a foley-source plugin or a video-to-audio model plugin")
    p.add_argument("--events-json", metavar="FILE", help="write the detected events to FILE")
    p.add_argument("--use-events", metavar="FILE", help="read the events from FILE instead of detecting them")
    p.add_argument("--mix", action="store_true", help="mix the foley into the original sound (one audio stream)")
    from .foley_cmd import add_model_options

    add_model_options(p)

    p = sub.add_parser("generate", help="generate a shot from a prompt (text- or image-to-video)")
    p.add_argument("prompt")
    p.add_argument("--model", metavar="ID", help="catalogue model id (see studio models list)")
    p.add_argument("--model-path", metavar="DIR", help="a local diffusers model folder")
    p.add_argument("--image", metavar="FILE", help="source image (image-to-video models)")
    p.add_argument("--seconds", type=float, metavar="S", help="length; snaps to the model's frame rule")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    p.add_argument("--steps", type=int, metavar="N", help="denoising steps (default: the model's)")
    p.add_argument("--guidance", type=float, metavar="G", help="guidance scale (default: the model's)")
    p.add_argument("--size", metavar="WxH", help="frame size (default: the model's)")
    p.add_argument("--width", type=int, help="frame width (with --height; the same as --size WxH)")
    p.add_argument("--height", type=int, help="frame height (with --width)")
    p.add_argument("--negative", metavar="TEXT", help="negative prompt")
    p.add_argument("--backend", default="diffusers", metavar="NAME", help="generator backend (default: diffusers)")
    p.add_argument("--device", metavar="DEV", help="cuda, cuda:N, mps or cpu (default: the best available)")
    p.add_argument("-o", "--output", metavar="OUT", help="write an .mp4 (and OUT.recipe.json)")
    p.add_argument("--into", metavar="PROJECT", help="place the shot in a project (one undo step)")
    p.add_argument("--at", metavar="TIME", help="with --into: where (seconds or timecode; default: the end)")

    from .models_cmd import add_parser as add_models_parser

    add_models_parser(sub)

    p = sub.add_parser("demo", help="create a demo project with synthetic media")
    p.add_argument("-o", "--output", default="shotline-demo", metavar="DIR")
    p.add_argument("--preset", default="4K60 H.264", help="what the demo is rendered to (default: 4K60 H.264)")
    p.add_argument("--no-render", action="store_true", help="only build the project")
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "new":
        from .project_cmds import cmd_new
        return cmd_new(args)
    if args.command == "info":
        from .project_cmds import cmd_info
        return cmd_info(args)
    if args.command == "import":
        from .import_cmd import cmd_import
        return cmd_import(args)
    if args.command == "import-otio":
        from .interchange_cmds import cmd_import_otio
        return cmd_import_otio(args)
    if args.command == "export-otio":
        from .interchange_cmds import cmd_export_otio
        return cmd_export_otio(args)
    if args.command == "render":
        from .render_cmd import cmd_render
        return cmd_render(args)
    if args.command == "conform":
        from .conform_cmd import cmd_conform
        return cmd_conform(args)
    if args.command == "foley":
        from .foley_cmd import cmd_foley
        return cmd_foley(args)
    if args.command == "generate":
        from .generate_cmd import cmd_generate
        return cmd_generate(args)
    if args.command == "models":
        from .models_cmd import cmd_models
        return cmd_models(args)
    if args.command == "demo":
        from .demo_cmd import cmd_demo
        return cmd_demo(args)
    raise UsageError(f"unknown command {args.command!r}")


def _open_editor(argv: Sequence[str]) -> int:
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        if argv and argv[0] in ("-h", "--help"):
            build_parser().print_help()
            return 0
        raise UsageError(f"studio: unknown command or option {argv[0]!r} (see studio --help)")
    from studio.ui.app import run_editor

    return run_editor(argv[0] if argv else None)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from studio.media.probe import MediaError

    try:
        parser = build_parser()
        commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
        if argv and argv[0] in PLANNED:
            raise UsageError(f"studio {argv[0]}: not available in this version yet")
        if not argv or argv[0] not in commands:
            return _open_editor(argv)
        return _dispatch(parser.parse_args(argv))
    except (UsageError, StudioError, MediaError) as e:
        print(f"studio: error: {e}" if not str(e).startswith("studio") else f"{e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:
        where = f" {e.filename!r}" if getattr(e, "filename", None) else ""
        print(f"studio: error:{where} {e.strerror or e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("studio: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
