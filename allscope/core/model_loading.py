"""The one way to load a model: a package folder becomes a ``Classifier`` or a ModelPackageError.

Every caller (the window, ``analyze``, ``bench``, ``trust``, ``sessions export``, the self-test)
goes through here, so a missing, malformed or unloadable package is reported the same way:
one ``ModelPackageError`` whose message names the folder and says what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from allscope.core.cells.classifier import CellClassifier
from allscope.core.classifier import Classifier
from allscope.core.model_package import (
    DEFAULT_MODEL_DIR,
    ModelPackage,
    ModelPackageError,
    load_package,
)
from allscope.paths import default_cell_model_dir

TODO = "Train and export a model (allscope train), or pass --model DIR naming a package folder."
CELL_TODO = ("Train the cell model (allscope train cells), or pass --cell-model DIR naming a "
             "cells package folder.")
T = TypeVar("T")


def model_folder(path: str | Path | None = None) -> Path:
    """The package folder to use: ``path``, else the shipped model."""
    return Path(path) if path else DEFAULT_MODEL_DIR


def has_model_package(path: str | Path | None = None) -> bool:
    """Whether there is a package (a ``model.json``) at ``path`` or, for None, the shipped one."""
    return (model_folder(path) / "model.json").is_file()


def load_model_package(path: str | Path | None = None, *, verify: bool = True) -> ModelPackage:
    """The package's description (no OpenVINO compile): for reports and metadata."""
    folder = _existing_package(path)
    return load_package(folder, verify=verify)


def _existing_package(path: str | Path | None) -> Path:
    folder = model_folder(path)
    if not folder.is_dir():
        raise ModelPackageError(f"No model package at {folder}: it is not a directory. {TODO}")
    if not has_model_package(folder):
        raise ModelPackageError(f"No model package at {folder} (model.json is missing). {TODO}")
    return folder


def load_classifier(path: str | Path | None = None, *, mode: str = "latency") -> Classifier:
    """The compiled classifier of the package at ``path`` (the shipped model when None).

    ``mode`` is OpenVINO's performance hint: "latency" for the live view, "throughput" for
    batches. Raises ModelPackageError for any package that cannot be used, including a
    runtime that refuses the IR.
    """
    folder = _existing_package(path)
    return _compiled(lambda: Classifier(folder, mode=mode), f"The model at {folder}", TODO)


def load_cell_classifier(path: str | Path | None = None) -> CellClassifier:
    """The compiled cell classifier of the cells package at ``path`` (``models/cells`` when
    None). Raises ModelPackageError for any package that cannot be used: missing, malformed,
    damaged (SHA-256), of the wrong kind, or refused by the runtime."""
    folder = cell_model_folder(path)
    if not (folder / "model.json").is_file():
        raise ModelPackageError(f"No cells model package at {folder} (model.json is missing). "
                                f"{CELL_TODO}")
    return _compiled(lambda: CellClassifier(folder), f"The cell model at {folder}", CELL_TODO)


def _compiled(compile_model: Callable[[], T], what: str, todo: str) -> T:
    """``compile_model()``, with a runtime's refusal reported as a ModelPackageError."""
    try:
        return compile_model()
    except ModelPackageError:
        raise
    except (RuntimeError, OSError, ValueError) as exc:  # OpenVINO refuses the IR, a file vanished
        raise ModelPackageError(f"{what} could not be loaded ({exc}). {todo}") from exc


def cell_model_folder(path: str | Path | None = None) -> Path:
    """The cell package folder to use: ``path``, else the shipped ``models/cells``."""
    return Path(path) if path else default_cell_model_dir()


def has_cell_package(path: str | Path | None = None) -> bool:
    """Whether there is a cell package at ``path`` or, for None, the shipped one."""
    return (cell_model_folder(path) / "model.json").is_file()
