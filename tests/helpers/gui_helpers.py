"""Small real inputs for the GUI tests: results, masks and fields drawn with cv2."""

from __future__ import annotations

import cv2
import numpy as np

from allscope.core.model_package import ModelPackage
from allscope.core.results import FieldResult, MaskResult, WbcCandidate

CLASSES = ("Benign", "Early Pre-B", "Pre-B", "Pro-B")


def field_with_cells(
    width: int = 320, height: int = 180, centres=((80, 90), (220, 60))
) -> tuple[np.ndarray, MaskResult]:
    """A pink field with purple discs, and the mask of exactly those discs."""
    image = np.full((height, width, 3), (200, 180, 230), np.uint8)
    mask = np.zeros((height, width), np.uint8)
    for x, y in centres:
        cv2.circle(image, (x, y), 18, (140, 40, 90), -1)
        cv2.circle(mask, (x, y), 18, 255, -1)
    candidates = tuple(
        WbcCandidate(
            area=int(np.pi * 18 * 18), bbox=(x - 18, y - 18, 37, 37), centroid=(float(x), float(y))
        )
        for x, y in centres
    )
    masked = cv2.bitwise_and(image, image, mask=mask)
    return image, MaskResult(mask, masked, candidates, np.array([120.0, 160.0]), 1.0)


def result(
    p_all: float | None = 0.8, wbc: int = 2, assessable: bool = True, frame_id: int = 1,
    probabilities: tuple[float, ...] | None = None, reasons: tuple[str, ...] = (),
) -> FieldResult:
    """A FieldResult; probabilities default to P(benign) = 1 - p_all with Pre-B the top ALL
    class."""
    if p_all is not None and probabilities is None:
        probabilities = (1 - p_all, p_all * 0.2, p_all * 0.5, p_all * 0.3)
    return FieldResult(
        frame_id=frame_id, timestamp=0.0, source="test", name=f"field_{frame_id}", wbc_count=wbc,
        mask_coverage=0.02, assessable=assessable, reasons=reasons,
        classes=CLASSES if probabilities else (), probabilities=probabilities,
        label=None if probabilities is None else CLASSES[int(np.argmax(probabilities))],
        p_all=p_all,
    )


def write_tiny_model(folder) -> ModelPackage:
    """A real OpenVINO IR: mean colour of the field → linear layer → 4 logits.

    The ALL logits grow with the purple stain in view ((R + B) / 2 - G of the mean colour, on
    the 0..1 scale): on demo fields the stain measure runs from about 0.018 (background) to
    0.040 (stained cells in view), which this maps to P(ALL) from about 0.1 to 0.98, Pre-B
    most likely. Built with the opset API, so the test runs the shipped Classifier code path.
    It is not trained and has no clinical meaning.
    """
    import openvino as ov
    import openvino.opset13 as ops

    from allscope.core.model_package import InputSpec, write_package

    image = ops.parameter([1, 3, 224, 224], ov.Type.f32, name="field")
    mean = ops.reduce_mean(image, ops.constant(np.array([2, 3], np.int64)), keep_dims=False)
    purple = np.array([[0.0, 150.0, 150.0, 150.0],     # R
                       [0.0, -300.0, -300.0, -300.0],  # G
                       [0.0, 150.0, 150.0, 150.0]],    # B
                      np.float32)
    bias = np.array([[0.0, -9.5, -8.5, -9.5]], np.float32)  # -300 * 0.03, Pre-B a little ahead
    logits = ops.add(ops.matmul(mean, ops.constant(purple), False, False), ops.constant(bias))
    model = ov.Model([logits], [image], "tiny-purple")
    meta = {"name": "tiny-purple", "version": "test", "architecture": "mean colour + linear",
            "classes": list(CLASSES), "benign_class": "Benign",
            "input": InputSpec(224, 224, "RGB", "NCHW", (0.0, 0.0, 0.0), (255.0, 255.0, 255.0)),
            "output": "logits", "precision": "FP32", "threshold": 0.5,
            "summary": {"purpose": "GUI tests only; not trained, no clinical meaning"}}
    return write_package(folder, model, meta)
