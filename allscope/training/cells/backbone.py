"""The cell network: ImageNet MobileNetV2 trunk, pooled multi-level features, a small head.

``features`` concatenates global average pools of two depths: the last 96-channel block
(stride 16: texture such as chromatin and granules) and the final 1280-channel layer. In the
frozen-trunk recipe (``pipeline``) the trunk keeps its ImageNet weights and only the head is
trained; the shipped recipe (``finetune``) trains every layer and loads its state into
``CellNet`` for the export, so both give the same graph. The IR exported from ``CellNet``
has two outputs, ``logits`` and ``features``.

``standardise`` optionally normalises each crop per channel (zero mean, fixed spread) in the
graph before the trunk: a per-crop stain normalisation that removes a laboratory's overall
colour cast and contrast. ``grey`` replaces the colour channels by their mean first, so that
only brightness structure (chromatin, nucleus shape, granules) remains and no stain hue can
be learned.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from allscope.training.architectures import DEFAULT_WEIGHTS_DIR
from allscope.training.mobilenetv2 import TFLITE_WEIGHTS, MobileNetV2, load_tflite_imagenet

MID_BLOCK = 13  # index in MobileNetV2.features of the last 96-channel block
FEATURE_DIM = 96 + 1280


class Trunk(nn.Module):
    """Input: float NCHW RGB scaled to [-1, 1]; output: (N, FEATURE_DIM) pooled features."""

    def __init__(
        self, standardise: bool = False, weights: Path | None = None, grey: bool = False
    ) -> None:
        super().__init__()
        net = MobileNetV2(num_classes=2)
        load_tflite_imagenet(net, weights or DEFAULT_WEIGHTS_DIR / TFLITE_WEIGHTS)
        self.low = net.features[: MID_BLOCK + 1]
        self.high = net.features[MID_BLOCK + 1 :]
        self.standardise, self.grey = standardise, grey
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.grey:
            x = x.mean(1, keepdim=True).expand(-1, 3, -1, -1)
        if self.standardise:
            mean = x.mean((2, 3), keepdim=True)
            std = x.std((2, 3), keepdim=True) + 0.05
            x = torch.clamp(0.5 * (x - mean) / std, -1.0, 1.0)
        mid = self.low(x)
        return torch.cat([mid.mean((2, 3)), self.high(mid).mean((2, 3))], dim=1)


class Head(nn.Module):
    """Standardised features → dropout → class logits (linear), or with ``hidden`` > 0 an
    MLP (dropout → ``hidden`` ReLU → dropout → logits)."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        mean: torch.Tensor,
        std: torch.Tensor,
        classes: int,
        hidden: int = 0,
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        self.register_buffer("mean", mean.clone())
        self.register_buffer("std", std.clone())
        layers: list[nn.Module] = [nn.Dropout(dropout)]
        if hidden:
            layers += [nn.Linear(mean.numel(), hidden), nn.ReLU(), nn.Dropout(dropout)]
        layers.append(nn.Linear(hidden or mean.numel(), classes))
        self.net = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net((features - self.mean) / self.std)


class CellNet(nn.Module):
    """Trunk + head: (logits, features), the two outputs of a cells package's IR."""

    def __init__(self, trunk: Trunk, head: Head) -> None:
        super().__init__()
        self.trunk, self.head = trunk, head

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.trunk(x)
        return self.head(features), features


def to_openvino(module: nn.Module, size: int, names: tuple[str, ...]):
    """``module`` as an ``openvino.Model`` with a dynamic batch, outputs named ``names``."""
    import openvino as ov

    model = ov.convert_model(
        module, example_input=torch.zeros(1, 3, size, size), input=[(-1, 3, size, size)]
    )
    for output, name in zip(model.outputs, names, strict=True):
        output.get_tensor().set_names({name})
    return model
