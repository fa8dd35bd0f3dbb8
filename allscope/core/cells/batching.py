"""Fixed-size batches for the cell model: a field's crops run in chunks of compiled static shapes.

OpenVINO's CPU plugin runs a model compiled for a static batch faster than the same model
with a dynamic batch dimension: 1.1 to 1.9 times per cell on the workstation CPU, the most
for small batches and a loaded machine (``allscope bench``: ``cell_model_sizes``). A field
holds any number of cells, so its crops are covered by chunks of a few fixed sizes (powers
of two), each compiled once (``warm_up``, else at first use); a chunk that is not full is
padded with blank crops whose outputs are dropped. ``plan`` picks the chunks: an inference
has a fixed cost of about ``OVERHEAD_CELLS`` cells, so 13 crops run as 16 (three padded),
not as 8 + 4 + 1.

The results equal those of the dynamic model: each crop's outputs depend on that crop only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import openvino as ov

SIZES = (1, 2, 4, 8, 16)
OVERHEAD_CELLS = 2.0  # one more inference costs about as much as this many more cells

Compile = Callable[[ov.Model], ov.CompiledModel]


def plan(count: int, sizes: tuple[int, ...] = SIZES, overhead: float = OVERHEAD_CELLS) -> list[int]:
    """Chunk sizes (largest first) covering ``count`` crops at the least estimated cost,
    each chunk costing its size plus ``overhead`` (padded slots cost like real ones)."""
    if count <= 0:
        return []
    cost = [0.0] + [float("inf")] * count
    choice = [0] * (count + 1)
    for done in range(1, count + 1):
        for size in sizes:
            candidate = cost[max(0, done - size)] + size + overhead
            if candidate < cost[done]:
                cost[done], choice[done] = candidate, size
    chunks, left = [], count
    while left > 0:
        chunks.append(choice[left])
        left = max(0, left - choice[left])
    return sorted(chunks, reverse=True)


class FixedBatches:
    """Static-batch compilations of one model, made on first use; thread-safe.

    ``model`` is the package's IR before preprocessing; ``compile`` adds the preprocessing
    and compiles it. An IR whose batch dimension is already fixed runs at that size only.
    """

    def __init__(self, model: ov.Model, compile: Compile, sizes: tuple[int, ...] = SIZES) -> None:
        self._model, self._compile = model, compile
        batch = model.input(0).get_partial_shape()[0]
        self.sizes = (batch.get_length(),) if batch.is_static else sizes
        self._requests: dict[int, ov.InferRequest] = {}
        self._lock = threading.Lock()

    def compiled(self, size: int, compile: Compile | None = None) -> ov.CompiledModel:
        """The model compiled (by ``compile``, default the one given) for batches of exactly
        ``size`` crops; not cached."""
        model = self._model.clone()
        if self._model.input(0).get_partial_shape()[0].is_dynamic:
            shape = model.input(0).get_partial_shape()
            shape[0] = size
            model.reshape({0: shape})
        return (compile or self._compile)(model)

    def width(self, index: int) -> int:
        """Values per crop of output ``index`` (0 when the IR leaves it open)."""
        last = self._model.output(index).get_partial_shape()[-1]
        return last.get_length() if last.is_static else 0

    def _request(self, size: int) -> ov.InferRequest:
        if size not in self._requests:
            self._requests[size] = self.compiled(size).create_infer_request()
        return self._requests[size]

    def warm_up(self, sizes: tuple[int, ...] | None = None,
                stop: threading.Event | None = None) -> None:
        """Compile ``sizes`` (default: every size) now rather than at a field's first use;
        ``stop`` set ends the warm-up between two sizes (a compile takes up to a second)."""
        for size in self.sizes if sizes is None else sizes:
            if stop is not None and stop.is_set():
                return
            with self._lock:
                self._request(size)

    def infer(self, crops: np.ndarray, outputs: tuple[int, ...]) -> list[np.ndarray]:
        """``outputs`` of the model for every crop (rows in crop order), float32 copies."""
        if len(crops) == 0:
            return [np.zeros((0, self.width(index)), np.float32) for index in outputs]
        parts: list[list[np.ndarray]] = [[] for _ in outputs]
        start = 0
        with self._lock:
            for size in plan(len(crops), self.sizes):
                chunk = crops[start : start + size]
                real = len(chunk)
                if real < size:
                    chunk = np.concatenate([chunk, np.zeros((size - real, *crops.shape[1:]),
                                                            crops.dtype)])
                request = self._request(size)
                request.infer({0: np.ascontiguousarray(chunk)})
                for part, index in zip(parts, outputs, strict=True):
                    data = request.get_output_tensor(index).data
                    part.append(np.array(data, np.float32).reshape(size, -1)[:real])
                start += real
        return [np.concatenate(part) for part in parts]
