"""Loading the classifier for the app: a missing or broken model never stops the window."""

from __future__ import annotations

import logging
from pathlib import Path

from allscope.core.classifier import Classifier
from allscope.core.model_package import DEFAULT_MODEL_DIR, ModelPackageError

log = logging.getLogger(__name__)


def load_classifier(path: str | Path | None = None) -> tuple[Classifier | None, str | None]:
    """(Classifier, None) on success, else (None, what happened) for the banner."""
    folder = Path(path) if path else DEFAULT_MODEL_DIR
    if not (folder / "model.json").is_file():
        where = "the default model" if path is None else str(folder)
        return None, f"No model package at {folder} ({where} is missing)."
    try:
        return Classifier(folder, mode="latency"), None
    except ModelPackageError as exc:
        return None, f"The model package is invalid: {exc}"
    except (RuntimeError, OSError, ValueError) as exc:
        log.exception("model %s could not be loaded", folder)
        return None, f"The model at {folder} could not be loaded ({exc})."
