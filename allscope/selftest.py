"""``allscope --self-test``: prove an installation (frozen or not) works, end to end, in seconds."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from allscope import DISCLAIMER, __version__

T = TypeVar("T")


def _step(name: str, fn: Callable[[], T], timings: dict[str, float]) -> T:
    """Run one step of the self-test and record how long it took (ms)."""
    t0 = time.perf_counter()
    value = fn()
    timings[name] = (time.perf_counter() - t0) * 1e3
    return value


def run_self_test(model: str | Path | None = None) -> int:
    """Load the model, mask and classify a built-in synthetic field, write a PDF; 0 when all
    pass."""
    timings: dict[str, float] = {}
    try:
        report = _run(model, timings)
    except Exception as exc:  # the self-test reports every failure in words
        print(f"SELF-TEST FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(report)
    print("timings: " + ", ".join(f"{k} {v:.0f} ms" for k, v in timings.items()))
    print(f"self-test passed. {DISCLAIMER}")
    return 0


def _run(model: str | Path | None, timings: dict[str, float]) -> str:
    import cv2
    import numpy as np
    import openvino as ov
    from PySide6 import __version__ as pyside_version

    from allscope.core.mask.lab_kmeans import lab_kmeans_mask
    from allscope.core.model_loading import load_classifier
    from allscope.core.sources.demo.slide import render_field

    classifier = _step("load model", lambda: load_classifier(model), timings)
    field, truth, _ = _step(
        "render field", lambda: render_field(640, 480, seed=3, n_wbc=3), timings
    )
    mask = _step("mask", lambda: lab_kmeans_mask(field), timings)
    if mask.wbc_count == 0:
        raise RuntimeError("the LAB K-means mask found no white cell in the synthetic field")
    overlap = np.count_nonzero((mask.mask > 0) & (truth > 0)) / max(1, int(np.count_nonzero(truth)))
    probabilities = _step("classify", lambda: classifier.predict(field), timings)
    if not np.isclose(probabilities.sum(), 1.0, atol=1e-3):
        raise RuntimeError(f"class probabilities do not sum to 1: {probabilities}")
    pdf = _step("write PDF", lambda: _write_pdf(field, mask, classifier), timings)
    return "\n".join(
        [
            f"allscope {__version__} "
            f"({'frozen' if getattr(sys, 'frozen', False) else 'from source'})",
            f"python {sys.version.split()[0]}, OpenVINO {ov.get_version()}, OpenCV "
            f"{cv2.__version__}, "
            f"NumPy {np.__version__}, PySide6 {pyside_version}",
            f"model: {classifier.package.describe()} at {classifier.package.path}",
            f"mask: {mask.wbc_count} white cells, {overlap:.0%} of the true cell area covered",
            "probabilities: "
            + ", ".join(
                f"{c} {p:.3f}" for c, p in zip(classifier.classes, probabilities, strict=True)
            ),
            f"PDF: {pdf.stat().st_size} bytes written to {pdf}",
        ]
    )


def _write_pdf(field, mask, classifier) -> Path:
    from allscope.core.field_analysis import base_result, classified_result
    from allscope.core.frames import Frame
    from allscope.core.store import SessionInfo, SessionStore
    from allscope.report.pdf import write_pdf
    from allscope.report.qt_app import ensure_gui_app

    ensure_gui_app()
    folder = Path(tempfile.mkdtemp(prefix="allscope-selftest-"))
    frame = Frame(id=0, timestamp=0.0, image=field, source="self-test", name="synthetic")
    result = classified_result(base_result(frame, mask, True, (), {}), classifier,
                               classifier.predict_detailed(field), 0.0)
    with SessionStore(folder / "store") as store:
        session = store.create_session(SessionInfo(patient_id="SELF-TEST", slide_id="synthetic",
                                                   operator="allscope", source="self-test",
                                                   app_version=__version__))
        store.record_result(session, result)
        store.add_field(session, "manual", field, mask, result)
        store.end_session(session)
        return write_pdf(store, session, folder / "self-test.pdf", classifier.package)
