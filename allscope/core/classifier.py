"""OpenVINO classifier over a model package: synchronous and non-blocking asynchronous paths."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import openvino as ov

from allscope.core.ir import compile_ir, package_of, read_ir, with_preprocessing
from allscope.core.model_package import InputSpec, ModelPackage, ModelPackageError
from allscope.core.results import MaskResult


@dataclass(frozen=True)
class Prediction:
    """One inference: calibrated probabilities, the raw scores of output 0, and any further
    outputs of the IR by name (e.g. penultimate features or the last feature map)."""

    probabilities: np.ndarray
    scores: np.ndarray
    outputs: dict[str, np.ndarray] = field(default_factory=dict)


ResultCallback = Callable[[Prediction, Any], None]


def square_crop(image: np.ndarray) -> np.ndarray:
    """The centred square of a field: the model was trained on square fields."""
    h, w = image.shape[:2]
    side = min(h, w)
    y, x = (h - side) // 2, (w - side) // 2
    return image[y : y + side, x : x + side]


def prepare_field(frame_bgr: np.ndarray, mask: MaskResult | None, spec: InputSpec) -> np.ndarray:
    """The model's input image: centre square (masked when the model expects it), resized, u8
    BGR."""
    source = mask.masked if (spec.masked and mask is not None) else frame_bgr
    square = square_crop(source)
    if square.shape[0] == spec.height and square.shape[1] == spec.width:
        return np.ascontiguousarray(square)
    return cv2.resize(square, (spec.width, spec.height), interpolation=cv2.INTER_AREA)


def softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = scores.astype(np.float64) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


_with_preprocessing = with_preprocessing  # the name the cell feature extraction imports


class Classifier:
    """A compiled model package.

    ``mode`` "latency" suits a live stream (few requests, low delay), "throughput" suits
    batches. ``inference_precision`` "f32" forces exact float maths (this CPU defaults to bf16
    where it has it).
    """

    def __init__(
        self, package: ModelPackage | str | Path, *, mode: str = "latency", device: str = "CPU",
        num_requests: int | None = None, inference_precision: str | None = None,
        core: ov.Core | None = None,
    ) -> None:
        self.package = package_of(package, "fields")
        core = core or ov.Core()
        model = read_ir(self.package, core)
        self._check_shapes(model)
        hint = "LATENCY" if mode == "latency" else "THROUGHPUT"
        self.compiled = compile_ir(core, model, self.package, device, hint, inference_precision)
        from allscope.core.cam import load_cam_head
        from allscope.core.ood import load_ood

        # loaded with the model: a damaged file fails the load (a banner), not a thread later
        self.ood = load_ood(self.package)
        self.cam_head = load_cam_head(self.package)
        jobs = num_requests or (2 if mode == "latency" else 0)
        self._queue = ov.AsyncInferQueue(self.compiled, jobs)
        self._queue.set_callback(self._on_done)
        self._sync_request = self.compiled.create_infer_request()
        self._sync_lock = threading.Lock()
        self._submit_lock = threading.Lock()

    @property
    def classes(self) -> tuple[str, ...]:
        return self.package.classes

    @property
    def spec(self) -> InputSpec:
        return self.package.input

    @property
    def num_requests(self) -> int:
        return len(self._queue)

    def _check_shapes(self, model: ov.Model) -> None:
        spec, xml = self.package.input, self.package.xml
        shape = model.input(0).get_partial_shape()
        expected = [spec.height, spec.width]
        dims = [
            shape[i].get_length() if shape[i].is_static else -1
            for i in range(shape.rank.get_length())
        ]
        spatial = dims[1:3] if spec.layout == "NHWC" else dims[2:4]
        if len(dims) != 4 or spatial != expected:
            raise ModelPackageError(
                f"{xml}: input shape {dims} does not match model.json input "
                f"{spec.width}x{spec.height} ({spec.layout})."
            )
        out = model.output(0).get_partial_shape()
        n_out = out[out.rank.get_length() - 1].get_length()
        if n_out != len(self.classes):
            raise ModelPackageError(
                f"{xml}: the model has {n_out} outputs but model.json lists {len(self.classes)} "
                "classes."
            )

    def _to_probabilities(self, scores: np.ndarray) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64).reshape(-1, len(self.classes))
        if self.package.output == "logits":
            return softmax(scores, self.package.temperature)
        return scores / np.maximum(scores.sum(axis=-1, keepdims=True), 1e-12)

    def p_all(self, probabilities: np.ndarray) -> float:
        """P(ALL) = 1 - P(benign class)."""
        return float(1.0 - probabilities[self.package.benign_index])

    def predict(self, field_bgr: np.ndarray) -> np.ndarray:
        """Class probabilities for one field (any size; it is centre-cropped and resized)."""
        tensor = self._input(field_bgr)
        with self._sync_lock:
            scores = self._sync_request.infer({0: tensor})[self.compiled.output(0)]
        return self._to_probabilities(scores)[0]

    def predict_batch(self, fields: Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities for many fields, using every request in parallel; order preserved."""
        out = np.empty((len(fields), len(self.classes)))
        batch_queue = ov.AsyncInferQueue(self.compiled)

        def done(request: ov.InferRequest, index: int) -> None:
            out[index] = self._to_probabilities(request.get_output_tensor(0).data)[0]

        batch_queue.set_callback(done)
        for index, image in enumerate(fields):
            batch_queue.start_async({0: self._input(image)}, index)
        batch_queue.wait_all()
        return out

    def _input(self, field_bgr: np.ndarray) -> np.ndarray:
        if field_bgr.ndim != 3 or field_bgr.shape[2] != 3 or field_bgr.dtype != np.uint8:
            raise ValueError(
                f"expected a uint8 BGR image (H, W, 3), got {field_bgr.dtype} {field_bgr.shape}"
            )
        field = prepare_field(field_bgr, None, self.spec)
        return np.ascontiguousarray(field[np.newaxis])

    def try_submit(self, field_bgr: np.ndarray, userdata: Any, callback: ResultCallback) -> bool:
        """Start an asynchronous inference if a request is free; never blocks.

        ``field_bgr`` must already be the prepared model input (``prepare_field``).
        ``callback(prediction, userdata)`` runs on an OpenVINO thread.
        Returns False (and does nothing) when every request is busy.
        """
        with self._submit_lock:
            if not self._queue.is_ready():
                return False
            self._queue.start_async(
                {0: np.ascontiguousarray(field_bgr[np.newaxis])}, (callback, userdata)
            )
        return True

    def submit(self, field_bgr: np.ndarray, userdata: Any, callback: ResultCallback) -> None:
        """Like ``try_submit`` but waits for a free request: for batch work, never for live."""
        with self._submit_lock:
            self._queue.start_async(
                {0: np.ascontiguousarray(field_bgr[np.newaxis])}, (callback, userdata)
            )

    def _prediction(self, request: ov.InferRequest) -> Prediction:
        scores = np.array(request.get_output_tensor(0).data, dtype=np.float64).reshape(-1)
        extras = {
            output.get_any_name(): np.array(request.get_output_tensor(i).data)
            for i, output in enumerate(self.compiled.outputs) if i > 0
        }
        return Prediction(self._to_probabilities(scores)[0], scores, extras)

    def predict_detailed(self, field_bgr: np.ndarray) -> Prediction:
        """Like ``predict`` but with the raw scores and every further output of the model."""
        tensor = self._input(field_bgr)
        with self._sync_lock:
            self._sync_request.infer({0: tensor})
            return self._prediction(self._sync_request)

    def _on_done(self, request: ov.InferRequest, userdata: tuple[ResultCallback, Any]) -> None:
        callback, data = userdata
        callback(self._prediction(request), data)

    def wait(self) -> None:
        """Block until every asynchronous request has finished."""
        self._queue.wait_all()
