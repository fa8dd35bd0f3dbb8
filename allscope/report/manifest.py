"""The report manifest: what a report contains, with the SHA-256 of every included image.

The manifest is canonical JSON (sorted keys, UTF-8). Its SHA-256 is printed in the report's
appendix and the same bytes are written beside the report as ``<report>.manifest.json``, so
anyone can check that a report and its images are the ones that were filed::

    sha256sum "report.pdf.manifest.json"   # equals the digest in the appendix
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from allscope import __version__
from allscope.core.store import SavedField, SessionRecord
from allscope.core.store.files import FileWriter, atomic_write

FORMAT = 1


@dataclass(frozen=True)
class ImageCheck:
    """One included field and what its files hashed to when the report was made."""

    field: SavedField
    image_sha256: str | None
    mask_sha256: str | None
    problem: str | None


def sidecar_path(report_path: Path) -> Path:
    return report_path.with_name(report_path.name + ".manifest.json")


def build_manifest(
    report_name: str, session: SessionRecord, checks: list[ImageCheck], created_at: str | None,
    model_sha256: str | None,
) -> dict:
    return {
        "format": FORMAT,
        "report": report_name,
        "created_at": created_at,
        "allscope_version": __version__,
        "session": {
            "id": session.id,
            "patient_id": session.info.patient_id,
            "slide_id": session.info.slide_id,
        },
        "model_sha256": model_sha256 or session.info.model_sha256 or None,
        "images": [_image_entry(check) for check in checks],
    }


def _image_entry(check: ImageCheck) -> dict:
    field = check.field
    return {
        "field_id": field.id,
        "kind": field.kind,
        "image_file": field.image_path.name,
        "image_sha256": check.image_sha256,
        "mask_file": field.mask_path.name,
        "mask_sha256": check.mask_sha256,
        "recorded_image_sha256": field.image_sha256,
        "recorded_mask_sha256": field.mask_sha256,
        "verified": check.problem is None,
        "problem": check.problem,
    }


def manifest_bytes(manifest: dict) -> bytes:
    return (json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode(
        "utf-8"
    )


def manifest_sha256(manifest: dict) -> str:
    return hashlib.sha256(manifest_bytes(manifest)).hexdigest()


def write_sidecar(report_path: Path, manifest: dict, writer: FileWriter | None = None) -> Path:
    """Write the manifest beside the report (replacing a previous sidecar of that report)."""
    return atomic_write(
        sidecar_path(report_path), manifest_bytes(manifest), overwrite=True, writer=writer
    )
