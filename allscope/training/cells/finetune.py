"""Fine-tuning the whole cell network (trunk and head) on stored context crops, in torch alone.

This module needs only torch, numpy and ``allscope.training.mobilenetv2`` (or a copy of it
beside this file), so the same code trains on a CPU (``--device cpu``) or, copied with its
crop bundle, on a GPU machine without the application's other dependencies.

Inputs are the bundle's ``STORE_SIDE``² crops of ``CONTEXT_SCALE`` × the cell's diameter
(``finetune_data``). A view is cut from them on the device, batched:

- geometry: the runtime's 1.5 × diameter square with its side jittered (0.85-1.18), a small
  shift, any rotation and a flip, resampled straight to the model's input ``size``;
- resolution: ``size`` itself is small (40-48 px: about the B-ALL fields' native resolution,
  cells ~20-30 px across), so sharp 100 px PBC/BCCD cells are shrunk to the resolution every
  source shares and sharpness stops being a laboratory cue; half of the views are further
  shrunk to 16-``size`` px and enlarged back, some blurred;
- colour: per-channel gain, brightness, contrast, saturation, hue rotation, gamma, grey
  (``grey_p``), noise: what differs between stains and cameras;
- background: optionally painted the runtime's fill colour outside the cell's dilated mask.

Evaluation views take the same path without randomness (the runtime's crop geometry).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

try:
    from allscope.training.mobilenetv2 import MobileNetV2, calibrate_folded_norms
except ImportError:  # the device copy: mobilenetv2.py beside this file
    from mobilenetv2 import (  # type: ignore[import-not-found,no-redef]
        MobileNetV2,
        calibrate_folded_norms,
    )

CLASSES = 7
BLAST, LYMPHOCYTE, NON_BLAST = 0, 1, -1
MID_BLOCK = 13  # as ``backbone.MID_BLOCK``: the pooled mid-level features
CONTEXT_SCALE, CROP_SCALE = 1.8, 1.5
FILL_RGB = (208 / 255, 208 / 255, 208 / 255)


@dataclass(frozen=True)
class FineTuneConfig:
    size: int = 48
    suppress: bool = True
    epochs: int = 30
    batch: int = 512
    lr: float = 1e-3
    weight_decay: float = 0.02
    label_smoothing: float = 0.05
    grey_p: float = 0.15
    low_resolution_p: float = 0.5
    dropout: float = 0.2
    seed: int = 0


class FineTrunk(nn.Module):
    """MobileNetV2 features split at ``MID_BLOCK``; pooled (mid, final) features out."""

    def __init__(self, net: MobileNetV2) -> None:
        super().__init__()
        self.low = net.features[: MID_BLOCK + 1]
        self.high = net.features[MID_BLOCK + 1 :]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mid = self.low(x)
        return torch.cat([mid.mean((2, 3)), self.high(mid).mean((2, 3))], dim=1)


class FineHead(nn.Module):
    """Standardised features → dropout → linear logits (``backbone.Head``'s state keys)."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, features: int, dropout: float) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(features))
        self.register_buffer("std", torch.ones(features))
        self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(features, CLASSES))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net((features - self.mean) / self.std)


class FineNet(nn.Module):
    """(logits, features), with the state keys of ``backbone.CellNet`` for the export."""

    def __init__(
        self,
        imagenet: dict[str, torch.Tensor],
        dropout: float = 0.2,
        calibration: torch.Tensor | None = None,
    ) -> None:
        """``calibration`` (evaluation views) turns the folded BatchNorms into real ones
        (``calibrate_folded_norms``): train-mode batch statistics then start close to the
        ImageNet function instead of wrecking it."""
        super().__init__()
        net = MobileNetV2(num_classes=2)
        net.features.load_state_dict(imagenet)
        if calibration is not None:
            calibrate_folded_norms(net.to(calibration.device), calibration)
        self.trunk = FineTrunk(net)
        self.head = FineHead(96 + net.last_channels, dropout)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.trunk(x)
        return self.head(features), features


def _to_float(crops: torch.Tensor, mask: torch.Tensor, suppress: bool) -> torch.Tensor:
    """u8 BGR NHWC + bool mask → float RGB NCHW in [0, 1], background filled if asked."""
    x = crops.flip(-1).permute(0, 3, 1, 2).float() / 255.0
    if suppress:
        fill = torch.tensor(FILL_RGB, device=x.device).view(1, 3, 1, 1)
        x = torch.where(mask[:, None], x, fill)
    return x


def _resample(x: torch.Tensor, theta: torch.Tensor, size: int) -> torch.Tensor:
    """Affine resample to ``size``², the fill colour wherever the square leaves the crop."""
    grid = F.affine_grid(theta, [len(x), 3, size, size], align_corners=False)
    ones = torch.ones_like(x[:, :1])
    out = F.grid_sample(torch.cat([x, ones], 1), grid, align_corners=False)
    fill = torch.tensor(FILL_RGB, device=x.device).view(1, 3, 1, 1)
    return out[:, :3] + (1 - out[:, 3:]) * fill


def eval_views(crops: torch.Tensor, mask: torch.Tensor, config: FineTuneConfig) -> torch.Tensor:
    """The runtime's view: the centred 1.5 × diameter square at ``size``², in [-1, 1]."""
    x = _to_float(crops, mask, config.suppress)
    theta = torch.zeros(len(x), 2, 3, device=x.device)
    theta[:, 0, 0] = theta[:, 1, 1] = CROP_SCALE / CONTEXT_SCALE
    return _resample(x, theta, config.size) * 2 - 1


def train_views(
    crops: torch.Tensor, mask: torch.Tensor, config: FineTuneConfig, g: torch.Generator
) -> torch.Tensor:
    """One random view per crop (see the module docstring), in [-1, 1]."""
    n, dev = len(crops), crops.device

    def u(lo: float, hi: float, *shape: int) -> torch.Tensor:
        return torch.rand(n, *shape, generator=g, device=dev) * (hi - lo) + lo

    x = _to_float(crops, mask, config.suppress)
    scale = CROP_SCALE / CONTEXT_SCALE * u(0.85, 1.18)
    angle, flip = u(0, 2 * math.pi), torch.where(u(0, 1) < 0.5, -1.0, 1.0)
    theta = torch.stack(
        [
            torch.stack([scale * angle.cos() * flip, -scale * angle.sin(), u(-0.05, 0.05)], 1),
            torch.stack([scale * angle.sin() * flip, scale * angle.cos(), u(-0.05, 0.05)], 1),
        ],
        1,
    )
    x = _resample(x, theta, config.size)
    x = _low_resolution(x, config, g)
    return (_colour(x, config, g, u) * 2 - 1).clamp(-1, 1)


def _low_resolution(x: torch.Tensor, config: FineTuneConfig, g: torch.Generator) -> torch.Tensor:
    """Shrink a random part of the batch to 16-``size`` px and back; blur a few."""
    size, n = config.size, len(x)
    chosen = torch.rand(n, generator=g, device=x.device) < config.low_resolution_p
    groups = torch.randint(0, 4, (n,), generator=g, device=x.device)
    for k in range(4):
        pick = chosen & (groups == k)
        if pick.any():
            side = int(torch.randint(16, size + 1, (1,), generator=g, device=x.device))
            small = F.interpolate(x[pick], size=(side, side), mode="area")
            x[pick] = F.interpolate(small, size=(size, size), mode="bilinear", align_corners=False)
    blur = torch.rand(n, generator=g, device=x.device) < 0.15
    if blur.any():
        kernel = torch.tensor([0.25, 0.5, 0.25], device=x.device)
        kernel = (kernel[:, None] * kernel[None, :]).expand(3, 1, 3, 3)
        x[blur] = F.conv2d(F.pad(x[blur], (1, 1, 1, 1), mode="replicate"), kernel, groups=3)
    return x


def _colour(x: torch.Tensor, config: FineTuneConfig, g: torch.Generator, u) -> torch.Tensor:
    """Stain and camera jitter, batched (one random draw per crop)."""
    gain = torch.exp(torch.randn(len(x), 3, generator=g, device=x.device) * 0.12)
    x = x * gain[:, :, None, None]
    grey = x.mean(1, keepdim=True)
    x = grey + (x - grey) * u(0.5, 1.6, 1, 1, 1)  # saturation
    x = _hue_rotate(x, u(-0.3, 0.3))
    mean = x.mean((1, 2, 3), keepdim=True)
    x = mean + (x - mean) * u(0.7, 1.3, 1, 1, 1) + u(-0.08, 0.08, 1, 1, 1)
    x = x.clamp(0, 1) ** u(0.8, 1.25, 1, 1, 1)
    to_grey = (u(0, 1) < config.grey_p)[:, None, None, None]
    x = torch.where(to_grey, x.mean(1, keepdim=True).expand_as(x), x)
    noise = torch.randn(x.shape, generator=g, device=x.device) * u(0, 0.03, 1, 1, 1)
    return (x + noise).clamp(0, 1)


def _hue_rotate(x: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Rotate colours about the grey axis by ``angle`` radians (Rodrigues), per crop."""
    k = torch.full((3,), 1 / math.sqrt(3), device=x.device)
    cross = torch.tensor([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], device=x.device) / math.sqrt(3)
    c, s = angle.cos()[:, None, None], angle.sin()[:, None, None]
    eye = torch.eye(3, device=x.device)
    rot = c * eye + s * cross + (1 - c) * torch.outer(k, k)
    return torch.einsum("nij,njhw->nihw", rot, x)


def loss_of(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor, smoothing: float
) -> torch.Tensor:
    """Weighted cross-entropy on class labels; -log(1 - P(blast)) on ``NON_BLAST`` rows."""
    log_p = torch.log_softmax(logits.float(), dim=1)
    known = labels >= 0
    target = labels.clamp(min=0)
    nll = -log_p.gather(1, target[:, None])[:, 0]
    per_row = (1 - smoothing) * nll - smoothing * log_p.mean(1)
    p_blast = log_p[:, BLAST].exp().clamp(max=1 - 1e-6)
    per_row = torch.where(known, per_row, -torch.log1p(-p_blast))
    return (per_row * weights).sum() / weights.sum()


def balanced_weights(labels: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Each class (and the NON_BLAST group) one equal share; the lymphocyte share split
    equally between its sources, so that the B-ALL hematogones (the hard negatives) weigh as
    much as the PBC lymphocytes. Other classes are not split: a few relabelled B-ALL cells
    must not weigh as much as a whole PBC class."""
    weights = np.zeros(len(labels), np.float64)
    groups = [g for g in [*range(CLASSES), NON_BLAST] if (labels == g).any()]
    for g in groups:
        present = np.unique(sources[labels == g]) if g == LYMPHOCYTE else [None]
        for s in present:
            rows = (labels == g) & ((sources == s) if s is not None else True)
            weights[rows] = 1.0 / (rows.sum() * len(present))
    return (weights * len(labels) / max(1, len(groups))).astype(np.float32)
