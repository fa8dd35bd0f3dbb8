"""``allscope sessions list|export|quarantine`` and the PDF report of ``allscope analyze --pdf``.

Rendering a report needs Qt (allscope.report); it is imported only when a report is written,
so this module stays importable without Qt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from allscope import DISCLAIMER, __version__
from allscope.core.model_loading import load_model_package
from allscope.core.model_package import ModelPackageError
from allscope.core.store import SessionInfo, SessionStore, StoreCorruptError, StoreError
from allscope.core.text import for_terminal, printable


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="allscope sessions", description=f"Saved sessions. {DISCLAIMER}"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="session store folder (default: the platform's data folder; "
        "ALLSCOPE_DATA_DIR overrides it)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="list sessions, newest first")
    listing.add_argument("--search", help="part of a patient or slide ID")
    export = sub.add_parser("export", help="write a session's PDF report and/or CSV/JSON exports")
    export.add_argument("session_id", type=int, metavar="ID")
    export.add_argument("--pdf", type=Path, help="PDF report file")
    export.add_argument("--csv", type=Path, help="CSV of every per-field result")
    export.add_argument("--json", type=Path, help="JSON of the whole session")
    export.add_argument(
        "--model", type=Path, help="model package whose card goes into the report's model section"
    )
    export.add_argument(
        "--overwrite", action="store_true",
        help="replace existing files (default: pick 'name (2).ext')",
    )
    sign = sub.add_parser(
        "sign", help="sign a session's report once every flagged field is reviewed"
    )
    sign.add_argument("session_id", type=int, metavar="ID")
    sign.add_argument(
        "--name", required=True, help="the signer's name as it should appear on the report"
    )
    sign.add_argument(
        "--role",
        choices=("reviewed", "verified"),
        default="reviewed",
        help="reviewed (the reviewer, default) or verified (a second person)",
    )
    quarantine = sub.add_parser(
        "quarantine", help="move a damaged session database aside so a new one can start"
    )
    quarantine.add_argument(
        "--force", action="store_true", help="move it even if it passes the integrity check"
    )
    return parser


def sessions_main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    root = args.data_dir / "sessions" if args.data_dir else None
    try:
        if args.command == "quarantine":
            moved = SessionStore.quarantine(root, force=args.force)
            print(f"The session database was moved to {moved}; a new one starts on next use.")
            return 0
        with SessionStore(root) as store:
            if args.command == "sign":
                return _sign(store, args)
            return _list(store, args.search) if args.command == "list" else _export(store, args)
    except StoreCorruptError as exc:
        print(f"error: {exc} Run 'allscope sessions quarantine' to move it aside.", file=sys.stderr)
        return 3
    except (StoreError, OSError, ModelPackageError) as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return 2


def _list(store: SessionStore, search: str | None) -> int:
    sessions = store.list_sessions(search)
    if not sessions:
        print("No sessions." if not search else f"No session matches {search!r}.")
        return 0
    from allscope.report.content import local_time

    print(f"{'ID':>5}  {'started':<24} {'fields':>6}  {'state':<9} name")
    for s in sessions:  # names are the user's text: escape sequences are shown, never obeyed
        state = "ended" if s.finished else "unfinished"
        name = for_terminal(s.display_name)
        print(f"{s.id:>5}  {local_time(s.started_at):<24} {s.field_count:>6}  {state:<9} {name}")
    return 0


def _sign(store: SessionStore, args: argparse.Namespace) -> int:
    signature = store.sign(args.session_id, args.role, args.name)
    print(
        f"Session {args.session_id} signed as {signature.role} by {signature.name}; "
        "export the report again "
        f"to include the signature: allscope sessions export {args.session_id} --pdf FILE"
    )
    return 0


def _export(store: SessionStore, args: argparse.Namespace) -> int:
    if not (args.pdf or args.csv or args.json):
        print(
            "error: nothing to export; give --pdf FILE, --csv FILE and/or --json FILE.",
            file=sys.stderr,
        )
        return 2
    store.get_session(args.session_id)
    from allscope.report import exports

    if args.csv:
        print(
            "CSV written to "
            f"{exports.write_csv(store, args.session_id, args.csv, overwrite=args.overwrite)}"
        )
    if args.json:
        print(
            "JSON written to "
            f"{exports.write_json(store, args.session_id, args.json, overwrite=args.overwrite)}"
        )
    if args.pdf:
        try:
            package = None if args.model is None else load_model_package(args.model, verify=False)
        except ModelPackageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        from allscope.report.pdf import write_pdf

        path = write_pdf(store, args.session_id, args.pdf, package, overwrite=args.overwrite)
        print(f"PDF report written to {path} (manifest: {path.name}.manifest.json)")
    return 0


def write_batch_report(
    report,
    classifier,
    pdf_path: Path | str,
    info: Mapping[str, str],
    *,
    store: SessionStore | None = None,
    progress=None,
    name: str | None = None,
    logo: Path | None = None,
) -> Path:
    """Save a batch run (``allscope analyze``) as a session and write its PDF report.

    ``report`` is a ``core.batch.BatchReport`` (results, flags, flagged_frames by flag index,
    threshold); ``classifier`` may be None; ``info`` holds patient_id, slide_id, operator,
    lab_name and source. The session stays in the store, so ``allscope sessions export`` can
    write the report again. Exits with status 2 and a message if the report cannot be written.
    """
    package = classifier.package if classifier is not None else None
    given: dict[str, Any] = {
        k: str(v) for k, v in info.items() if k in SessionInfo.__dataclass_fields__
    }
    session_info = SessionInfo(
        **given, model_name=package.name if package else "",
        model_version=package.version if package else "",
        model_sha256=package.sha256 if package else "", app_version=__version__,
        threshold=report.threshold,
    )
    owned = store is None
    try:
        store = store or SessionStore()
        session_id = _save_batch(store, report, session_info)
        if name:
            store.rename_session(session_id, name)
        from allscope.report.pdf import write_pdf

        path = write_pdf(store, session_id, pdf_path, package, progress, logo=logo)
    except (StoreError, OSError) as exc:
        print(f"error: the PDF report was not written: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    finally:
        if owned and store is not None:
            store.close()
    print(
        f"Saved as session {session_id} \u201c{name or f'Session {session_id}'}\u201d "
        f"in {store.root}; "
        f"PDF report written to {path}. Review its flags in the app (Sessions), then sign it: "
        f"allscope sessions sign {session_id} --name NAME",
        file=sys.stderr,
    )
    return path


def _save_batch(store: SessionStore, report, info: SessionInfo) -> int:
    """The run as a session: every field's result, the flagged fields with their cells, and
    every cell the run's tally counted (the unsaved fields' too), so its report and the JSON
    give one tally."""
    session_id = store.create_session(info)
    store.record_results(session_id, report.results)
    if report.counted is not None:
        store.record_tally(session_id, report.counted)
    for index, flag in enumerate(report.flags):
        kept = report.flagged_frames.get(index)
        if kept is not None:
            frame, mask = kept
            store.add_field(session_id, "flag", frame.image, mask, flag.result, flag)
    store.end_session(session_id)
    return session_id
