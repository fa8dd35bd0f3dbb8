"""Fixed-size batches of the cell model: the same outputs as the dynamic-batch model."""

from __future__ import annotations

import numpy as np
import openvino as ov
import pytest

from allscope.core.cells.batching import SIZES, FixedBatches, plan
from allscope.core.cells.classifier import CellClassifier
from allscope.core.ir import with_preprocessing
from allscope.paths import default_cell_model_dir
from allscope.testing import write_tiny_cells_package


@pytest.mark.parametrize("count", range(0, 40))
def test_a_plan_covers_every_crop_with_allowed_sizes_and_little_padding(count):
    chunks = plan(count)
    assert all(size in SIZES for size in chunks)
    assert sum(chunks) >= count
    assert sum(chunks) - count < max(SIZES) // 2  # never a chunk that is mostly padding
    assert chunks == sorted(chunks, reverse=True)


def test_a_plan_pads_a_few_crops_rather_than_run_many_inferences():
    assert plan(13) == [16]
    assert plan(7) == [8]
    assert plan(16) == [16]
    assert plan(17) == [16, 1]
    assert plan(3, sizes=(1,)) == [1, 1, 1]


def dynamic_outputs(package, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The package's IR with its dynamic batch, compiled as before fixed batches."""
    core = ov.Core()
    model = with_preprocessing(core.read_model(str(package.xml)), package.input)
    request = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    request = request.create_infer_request()
    request.infer({0: crops})
    return tuple(np.array(request.get_output_tensor(i).data) for i in (0, 1))


def check_against_dynamic(package, size: int, counts) -> None:
    fixed = FixedBatches(ov.Core().read_model(str(package.xml)), lambda m: ov.Core().compile_model(
        with_preprocessing(m, package.input), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}))
    rng = np.random.default_rng(3)
    for count in counts:
        crops = rng.integers(0, 256, (count, size, size, 3), dtype=np.uint8)
        scores, features = fixed.infer(crops, (0, 1))
        assert scores.shape[0] == features.shape[0] == count
        if count:
            expected_scores, expected_features = dynamic_outputs(package, crops)
            np.testing.assert_allclose(scores, expected_scores, rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(features, expected_features, rtol=1e-5, atol=1e-5)


def test_fixed_batches_give_the_dynamic_models_outputs_row_for_row(tmp_path):
    package = write_tiny_cells_package(tmp_path / "cells", size=24)
    check_against_dynamic(package, 24, (0, 1, 3, 5, 13, 16, 21, 40))


def test_the_shipped_package_gives_the_same_outputs_in_fixed_batches():
    folder = default_cell_model_dir()
    if not (folder / "model.json").is_file():
        pytest.skip(f"{folder}: no shipped cells package in this checkout")
    classifier = CellClassifier(folder, inference_precision="f32")
    check_against_dynamic(classifier.package, classifier.size, (1, 6, 13))


def test_an_empty_batch_runs_no_inference(tmp_path):
    classifier = CellClassifier(write_tiny_cells_package(tmp_path / "cells"))
    probabilities, features = classifier.predict_crops(np.zeros((0, 32, 32, 3), np.uint8))
    assert probabilities.shape == (0, 7) and features.shape == (0, 3)
