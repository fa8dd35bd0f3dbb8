"""MobileNetV2 in plain torch, initialised from the quantized ImageNet TFLite weights.

The TFLite model (``../shared/weights/tf2_mobilenet_v2_1.0_224_ptq.tflite``) has BatchNorm
folded into each convolution (weight scaled, BN shift turned into a bias). OpenVINO reads the
file; ``tflite_conv_params`` evaluates every convolution's dequantized weight and the bias added
right after it. Each torch convolution here is followed by a BatchNorm that is initialised as
the identity plus that bias, so the network starts as the ImageNet model and still fine-tunes
with BatchNorm. TensorFlow pads "SAME" (asymmetric for stride 2); ``SamePad`` reproduces that.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

TFLITE_WEIGHTS = "tf2_mobilenet_v2_1.0_224_ptq.tflite"
# expansion t, output channels c, repeats n, first stride s (Sandler et al. 2018, table 2)
SETTINGS = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def make_divisible(value: float, divisor: int = 8) -> int:
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * value else new


class SamePad(nn.Module):
    """TensorFlow "SAME" zero padding for even-sized inputs (more on the bottom/right)."""

    def __init__(self, kernel: int, stride: int):
        super().__init__()
        total = max(kernel - stride, 0) if stride > 1 else kernel - 1
        self.pad = (total // 2, total - total // 2, total // 2, total - total // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.pad(x, self.pad)


def conv_bn(
    cin: int, cout: int, kernel: int = 1, stride: int = 1, groups: int = 1, act: bool = True,
    eps: float = 1e-3,
) -> nn.Sequential:
    layers: list[nn.Module] = [SamePad(kernel, stride)] if kernel > 1 else []
    layers += [
        nn.Conv2d(cin, cout, kernel, stride, 0, groups=groups, bias=False),
        nn.BatchNorm2d(cout, eps=eps),
    ]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        layers = [conv_bn(cin, hidden)] if expand != 1 else []
        layers += [
            conv_bn(hidden, hidden, 3, stride, groups=hidden),
            conv_bn(hidden, cout, act=False),
        ]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


class PaperHead(nn.Module):
    """Global average pooling → BatchNorm → dense (Hosseini et al. 2023); logits out."""

    def __init__(self, channels: int, num_classes: int, dropout: float = 0.2):
        super().__init__()
        self.norm = nn.BatchNorm1d(channels)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.norm(x.mean((2, 3)))))


class MobileNetV2(nn.Module):
    """MobileNetV2 features + ``PaperHead``. Input: float NCHW RGB scaled to [-1, 1]."""

    def __init__(self, num_classes: int = 4, width: float = 1.0, dropout: float = 0.2):
        super().__init__()
        cin = make_divisible(32 * width)
        layers: list[nn.Module] = [conv_bn(3, cin, 3, 2)]
        for t, c, n, s in SETTINGS:
            cout = make_divisible(c * width)
            for i in range(n):
                layers.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        self.last_channels = make_divisible(1280 * max(1.0, width))
        layers.append(conv_bn(cin, self.last_channels))
        self.features = nn.Sequential(*layers)
        self.head = PaperHead(self.last_channels, num_classes, dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The reference initialisation for training from scratch (ImageNet loading overrides it).

        Convolutions He-normal (fan out), the dense layer N(0, 0.01), BatchNorms the identity,
        except the last BatchNorm of every residual block, which starts at zero so that each
        block starts as the identity (Goyal et al. 2017). PyTorch's defaults (uniform weights a
        third of He's variance, no zeroed branch) left the 17-block network at width 0.25
        barely learning in 30 steps.
        """
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out")
            elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0.0, 0.01)
                nn.init.zeros_(module.bias)
        for block in self.features:
            if isinstance(block, InvertedResidual) and block.residual:
                norms = [m for m in block.conv.modules() if isinstance(m, nn.BatchNorm2d)]
                nn.init.zeros_(norms[-1].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def convs(self) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
        """Every (convolution, its BatchNorm) in graph order."""
        convs = [m for m in self.features.modules() if isinstance(m, nn.Conv2d)]
        norms = [m for m in self.features.modules() if isinstance(m, nn.BatchNorm2d)]
        return list(zip(convs, norms, strict=False))


def tflite_conv_params(path: str | Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight OIHW or depthwise O1HW, bias) of every convolution in the TFLite file, in order.

    Constant sub-graphs (int8 constant → convert → scale) are evaluated by compiling a model
    whose outputs are the convolutions' weight inputs and the constants added after them.
    """
    import openvino as ov

    model = ov.Core().read_model(str(path))
    convs = [
        op
        for op in model.get_ordered_ops()
        if op.get_type_name() in ("Convolution", "GroupConvolution")
    ]
    outputs = []
    for op in convs:
        add = next(iter(op.output(0).get_target_inputs())).get_node()
        if add.get_type_name() != "Add":
            raise ValueError(
                f"{path}: convolution {op.get_friendly_name()} is not followed by a bias Add."
            )
        outputs += [op.input_value(1), add.input_value(1)]
    values = ov.Core().compile_model(ov.Model(outputs, model.get_parameters()), "CPU")(
        {0: np.zeros(model.inputs[0].get_shape(), np.uint8)}
    )
    params = []
    for op, i in zip(convs, range(0, len(outputs), 2), strict=False):
        weight, bias = values[i], values[i + 1].reshape(-1)
        if (
            op.get_type_name() == "GroupConvolution"
        ):  # (groups, out/g, in/g, kh, kw) → (out, in/g, kh, kw)
            weight = weight.reshape(-1, *weight.shape[2:])
        params.append(
            (np.ascontiguousarray(weight, np.float32), np.ascontiguousarray(bias, np.float32))
        )
    return params


def save_converted(tflite: str | Path, out: str | Path) -> None:
    """Store the dequantized parameters as a torch file (fp16) for machines without OpenVINO."""
    params = [
        (torch.from_numpy(w).half(), torch.from_numpy(b).half())
        for w, b in tflite_conv_params(tflite)
    ]
    torch.save(params, out)


def load_tflite_imagenet(model: MobileNetV2, path: str | Path) -> nn.Linear:
    """Copy the ImageNet features into ``model``; returns the ImageNet classifier (1001 classes).

    ``path`` is the TFLite file or a ``save_converted`` copy of its parameters (``.pt``).
    """
    if Path(path).suffix == ".pt":
        params = [
            (w.float().numpy(), b.float().numpy()) for w, b in torch.load(path, weights_only=True)
        ]
    else:
        params = tflite_conv_params(path)
    pairs = model.convs()
    if len(params) != len(pairs) + 1:
        raise ValueError(
            f"{path}: {len(params)} convolutions, expected {len(pairs) + 1} (MobileNetV2 1.0)."
        )
    with torch.no_grad():
        for (conv, norm), (weight, bias) in zip(pairs, params, strict=False):
            if tuple(conv.weight.shape) != weight.shape:
                raise ValueError(
                    f"{path}: weight shape {weight.shape} does not fit {tuple(conv.weight.shape)}."
                )
            conv.weight.copy_(torch.from_numpy(weight))
            norm.weight.fill_(1.0)
            norm.bias.copy_(torch.from_numpy(bias))
            _running_stats(norm)[0].zero_()
            _running_stats(norm)[1].fill_(1.0 - norm.eps)
        weight, bias = params[-1]
        classifier = nn.Linear(weight.shape[1], weight.shape[0])
        classifier.weight.copy_(torch.from_numpy(weight.reshape(weight.shape[0], -1)))
        classifier.bias.copy_(torch.from_numpy(bias))
    return classifier


def calibrate_folded_norms(model: MobileNetV2, images: torch.Tensor) -> None:
    """Turn identity-initialised BatchNorms into real ones without changing the eval function.

    With BN folded away, each BatchNorm starts as ``x + bias`` in eval mode; in train mode it
    would standardise by batch statistics and wreck the ImageNet features. Measuring each
    convolution's per-channel output mean μ and std σ on ``images`` and setting running stats
    (μ, σ²), weight σ and bias μ + bias keeps the eval function exactly and makes train-mode
    batch normalisation start close to it.
    """
    pairs = model.convs()
    stats: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    hooks = [
        conv.register_forward_hook(
            lambda m, i, o, k=k: stats.__setitem__(k, (o.mean((0, 2, 3)), o.var((0, 2, 3))))
        )
        for k, (conv, _) in enumerate(pairs)
    ]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model.features(images)
        for k, (_, norm) in enumerate(pairs):
            mean, var = stats[k]
            std = (var + norm.eps).sqrt()
            norm.bias.add_(mean)
            norm.weight.copy_(std)
            _running_stats(norm)[0].copy_(mean)
            _running_stats(norm)[1].copy_(var)
    for hook in hooks:
        hook.remove()
    model.train(was_training)


def _running_stats(norm: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """(running mean, running variance) of a batch norm built with running statistics."""
    if norm.running_mean is None or norm.running_var is None:
        raise ValueError("the batch norm keeps no running statistics")
    return norm.running_mean, norm.running_var
