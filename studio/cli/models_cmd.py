"""`studio models list [--json] | pull ID [--accept-licence] | verify [ID|DIR] | remove ID [--from-hf-cache]`.

- ``list``: every catalogue model, whether and where it is installed (the app's models folder
  or the shared Hugging Face cache), its download size and licence.
- ``pull ID``: prints the licence, which must be accepted (``--accept-licence``, or a y/N
  prompt when stdin is a terminal), then downloads only the diffusers files (safetensors, json,
  txt, tokenizer models) into ``<models dir>/.partial/ID`` with the hub's own resumable
  download, and moves the folder to ``<models dir>/ID`` once complete. Offline or without
  network: one line, exit 2.
- ``verify [ID|DIR]``: files present, safetensors headers readable, model_index.json
  consistent; one line per model, exit 1 when one fails.
- ``remove ID``: deletes the app's copy only; the shared Hugging Face cache is left alone
  unless ``--from-hf-cache`` is given.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from .errors import UsageError

EXIT_VERIFY_FAILED = 1


def cmd_models(args) -> int:
    action = getattr(args, "models_command", None)
    if action == "list":
        return _list(args)
    if action == "pull":
        return _pull(args)
    if action == "verify":
        return _verify(args)
    if action == "remove":
        return _remove(args)
    raise UsageError("studio models: name a subcommand: list, pull ID, verify [ID], remove ID")


# --------------------------------------------------------------------------- list


def _row(entry) -> dict:
    from studio.ai.models.locate import find_installs

    installs = find_installs(entry)
    lic = entry.licence
    return {
        "id": entry.id, "name": entry.name, "family": entry.family, "task": entry.task,
        "pipeline": entry.pipeline, "repo": entry.repo, "revision": entry.revision,
        "installed": bool(installs), "installs": [{"where": i.where, "path": str(i.path)} for i in installs],
        "size_gb": entry.size_gb,
        "licence": None if lic is None else {"name": lic.name, "url": lic.url, "verified": lic.verified},
        "width": entry.width, "height": entry.height, "fps": entry.fps, "frames": str(entry.frames),
    }


def _list(args) -> int:
    from studio.ai.models.catalogue import load_catalogue
    from studio.ai.models.locate import models_dir

    rows = [_row(e) for e in load_catalogue().values()]
    if args.json:
        print(json.dumps({"models_dir": str(models_dir()), "models": rows}, indent=2))
        return 0
    table = [("ID", "TASK", "SIZE", "LICENCE", "INSTALLED")]
    for r in rows:
        where = f"{r['installs'][0]['where']}: {r['installs'][0]['path']}" if r["installed"] else "no"
        lic = r["licence"]["name"] + ("" if r["licence"]["verified"] else " (unverified)")
        table.append((r["id"], r["task"], f"~{r['size_gb']:g} GB", lic, where))
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
    print(f"\nmodels folder: {models_dir()}  (get one with: studio models pull ID)")
    return 0


# --------------------------------------------------------------------------- pull


def _accept_licence(entry, accepted: bool) -> None:
    lic = entry.licence
    note = "" if lic.verified else f"\n  note: {lic.note or 'licence not verified; read the model card'}"
    print(f"{entry.id} ({entry.repo}) is released under the {lic.name}: {lic.url}{note}")
    if accepted:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"studio models pull: accept the {lic.name} with --accept-licence to download {entry.id}")
    answer = input(f"Accept the {lic.name} and download ~{entry.size_gb:g} GB? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise UsageError("studio models pull: licence not accepted; nothing downloaded")


def _download_error(entry, e: BaseException) -> UsageError:
    name = type(e).__name__
    if name == "GatedRepoError":
        why = f"the repo is gated: accept its terms on https://huggingface.co/{entry.repo} and log in (hf auth login)"
    elif name in ("RepositoryNotFoundError", "RevisionNotFoundError"):
        why = f"{entry.repo}@{entry.revision} was not found on the hub"
    elif name in ("OfflineModeIsEnabled", "LocalEntryNotFoundError") or "connect" in name.lower():
        why = "no network connection to huggingface.co"
    else:
        first = str(e).strip().splitlines()[0] if str(e).strip() else name
        why = f"{name}: {first}"
    return UsageError(f"studio models pull: cannot download {entry.id}: {why} (run again to resume)")


def _pull(args) -> int:
    from studio.ai.models.catalogue import get_model
    from studio.ai.models.locate import (
        NotAModelFolder,
        app_folder,
        find_installs,
        is_offline,
        models_dir,
        pull_patterns,
        read_model_index,
        verify_folder,
    )

    entry = get_model(args.id)
    installs = find_installs(entry)
    if installs:
        print(f"{entry.id} is already installed ({installs[0].where}: {installs[0].path})")
        return 0
    if is_offline():
        raise UsageError(f"studio models pull: cannot download {entry.id}: offline mode is on (HF_HUB_OFFLINE=1); "
                         f"unset it, or copy a diffusers folder of {entry.repo} to {app_folder(entry)}")
    _accept_licence(entry, args.accept_licence)

    from huggingface_hub import snapshot_download

    partial = models_dir() / ".partial" / entry.id
    partial.mkdir(parents=True, exist_ok=True)
    try:
        if entry.layout == "transformers":  # a transformers model (CLIP): configs, safetensors, tokenizer
            from studio.ai.models.locate import transformers_pull_patterns

            patterns = transformers_pull_patterns()
        else:  # model_index.json first: it names the component folders, so nothing else is fetched
            snapshot_download(entry.repo, revision=entry.revision, local_dir=partial,
                              allow_patterns=["model_index.json"])
            try:
                index = read_model_index(partial)
            except NotAModelFolder:
                raise UsageError(f"studio models pull: {entry.repo} has no model_index.json "
                                 "(not a diffusers repo)") from None
            patterns = pull_patterns(index)
        print(f"downloading {entry.repo}@{entry.revision} (~{entry.size_gb:g} GB) to {partial}", file=sys.stderr)
        snapshot_download(entry.repo, revision=entry.revision, local_dir=partial, allow_patterns=patterns)
    except UsageError:
        raise
    except Exception as e:  # hub, HTTP and OS errors: one line; the partial folder stays for a resume
        raise _download_error(entry, e) from None
    problems = verify_folder(partial, entry)
    if problems:
        raise UsageError(f"studio models pull: {entry.id} downloaded incomplete: {problems[0]} (run again to resume)")
    final = app_folder(entry)
    if final.exists():
        shutil.rmtree(final)
    partial.rename(final)
    print(f"{entry.id}: installed in {final}")
    return 0


# --------------------------------------------------------------------------- verify


def _verify(args) -> int:
    from studio.ai.models.catalogue import get_model, load_catalogue
    from studio.ai.models.locate import ModelNotInstalled, entry_from_folder, find_installs, verify_folder

    targets = []  # (label, entry, folder)
    if args.id and Path(args.id).expanduser().is_dir():
        folder = Path(args.id).expanduser()
        try:
            entry = entry_from_folder(folder)
        except Exception as e:  # NotAModelFolder, UnsafeWeights, CatalogueError: report as a failure
            print(f"FAILED {folder}: {e}", file=sys.stderr)
            return EXIT_VERIFY_FAILED
        targets.append((str(folder), entry, folder))
    elif args.id:
        entry = get_model(args.id)
        installs = find_installs(entry)
        if not installs:
            raise ModelNotInstalled(entry)
        targets += [(entry.id, entry, i.path) for i in installs]
    else:
        for entry in load_catalogue().values():
            targets += [(entry.id, entry, i.path) for i in find_installs(entry)]
        if not targets:
            print("no models installed (get one with: studio models pull ID)")
            return 0
    failed = 0
    for label, entry, folder in targets:
        problems = verify_folder(folder, entry)
        if problems:
            failed += 1
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            print(f"FAILED {label}: {problems[0]}{more} [{folder}]", file=sys.stderr)
        else:
            print(f"ok {label}: {folder}")
    return EXIT_VERIFY_FAILED if failed else 0


# --------------------------------------------------------------------------- remove


def _remove(args) -> int:
    from studio.ai.models.catalogue import get_model
    from studio.ai.models.locate import app_folder, hf_cache_dir, hf_repo_folder, models_dir

    entry = get_model(args.id)
    removed = []
    own = app_folder(entry)
    partial = models_dir() / ".partial" / entry.id
    for folder in (own, partial):
        if folder.exists():
            shutil.rmtree(folder)
            removed.append(folder)
    cached = [hf_repo_folder(r) for r in entry.repos if hf_repo_folder(r).is_dir()]
    if args.from_hf_cache:
        cache = hf_cache_dir().resolve()
        for folder in cached:
            if folder.resolve().parent == cache:  # never outside the cache
                shutil.rmtree(folder)
                removed.append(folder)
        cached = []
    if not removed:
        if cached:
            raise UsageError(f"studio models remove: {entry.id} is only in the shared Hugging Face cache "
                             f"({cached[0]}); add --from-hf-cache to delete it there")
        raise UsageError(f"studio models remove: {entry.id} is not installed in {models_dir()}")
    for folder in removed:
        print(f"removed {folder}")
    if cached:
        print(f"kept the shared Hugging Face cache copy {cached[0]} (--from-hf-cache deletes it)")
    return 0


def add_parser(sub) -> None:
    """Register ``studio models`` and its subcommands on the top-level subparsers."""
    p = sub.add_parser("models", help="list, download, check and remove models (video generation and foley)")
    msub = p.add_subparsers(dest="models_command", parser_class=type(p), metavar="{list,pull,verify,remove}")
    q = msub.add_parser("list", help="catalogue models, installed or not, size and licence")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q = msub.add_parser("pull", help="download a model's safetensors weights from Hugging Face")
    q.add_argument("id", metavar="ID")
    q.add_argument("--accept-licence", "--accept-license", dest="accept_licence", action="store_true",
                   help="accept the model's licence without a prompt")
    q = msub.add_parser("verify", help="check installed models (or one ID or a diffusers folder)")
    q.add_argument("id", nargs="?", metavar="ID|DIR")
    q = msub.add_parser("remove", help="delete a model from the app's models folder")
    q.add_argument("id", metavar="ID")
    q.add_argument("--from-hf-cache", action="store_true", help="also delete it from the shared Hugging Face cache")
