"""Class activation maps: where in the field the model saw the evidence for its answer.

For a head of global average pooling → batch norm → dense layer (dropout is off at inference),
the logits are an affine function of the pooled features, so with the batch norm folded into
the dense weights (W', b') the map

    cam_c(y, x) = sum_k W'[c, k] * F_k(y, x) + b'[c]

averages exactly to logit c over the last feature map F (Zhou et al. 2016). The IR exports F
as an extra output named "feature_map"; W' and b' ship beside the IR in ``cam_head.npz``
(``allscope.training.cam_outputs``). Maps are computed only for flagged fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from allscope.core.model_package import ModelPackage, ModelPackageError, file_sha256

FEATURE_MAP = "feature_map"
FEATURES = "features"
CAM_HEAD_FILE = "cam_head.npz"


@dataclass(frozen=True)
class CamHead:
    """The folded head: logits = weights @ pooled_features + bias."""

    weights: np.ndarray  # (classes, channels) float32
    bias: np.ndarray  # (classes,) float32

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        with open(path, "wb") as handle:
            np.savez(
                handle, weights=self.weights.astype(np.float32), bias=self.bias.astype(np.float32)
            )
        return path

    @classmethod
    def load(cls, path: str | Path) -> CamHead:
        with np.load(Path(path)) as data:
            return cls(data["weights"].astype(np.float32), data["bias"].astype(np.float32))


def load_cam_head(package: ModelPackage) -> CamHead | None:
    """The package's CAM head, checked against model.json's "cam" entry; None when it has none."""
    meta = package.cam
    if not meta:
        return None
    path = package.path / meta.get("file", CAM_HEAD_FILE)
    if not path.is_file() or file_sha256(path) != meta.get("sha256"):
        raise ModelPackageError(
            f"{path}: missing or its SHA-256 does not match model.json; reinstall the model."
        )
    try:
        return CamHead.load(path)
    except Exception as exc:  # a damaged archive raises zipfile, pickle, key or value errors
        raise ModelPackageError(
            f"{path}: the CAM head cannot be read ({type(exc).__name__}: {exc}); "
            "reinstall the model."
        ) from exc


def class_maps(feature_map: np.ndarray, head: CamHead) -> np.ndarray:
    """Activation maps of every class, (classes, h, w), from a (1, C, h, w) or (C, h, w) map."""
    fmap = np.asarray(feature_map, np.float32)
    fmap = fmap[0] if fmap.ndim == 4 else fmap
    if fmap.ndim != 3 or fmap.shape[0] != head.weights.shape[1]:
        raise ValueError(f"feature map of shape {np.shape(feature_map)} does not fit a head with "
                         f"{head.weights.shape[1]} channels")
    channels, h, w = fmap.shape
    maps = head.weights @ fmap.reshape(channels, h * w) + head.bias[:, None]
    return maps.reshape(-1, h, w)


def evidence_map(feature_map: np.ndarray, head: CamHead, class_index: int,
                 versus: int | None = None) -> np.ndarray:
    """The map of one class, or of its margin over another (e.g. a blast class versus benign)."""
    maps = class_maps(feature_map, head)
    return maps[class_index] - maps[versus] if versus is not None else maps[class_index]


def field_heat_map(cam: np.ndarray, frame_shape: tuple[int, ...]) -> np.ndarray:
    """A (H, W) float32 heat map in 0..1 over the frame: the model saw its centre square, so
    the map is upsampled onto that square and is 0 outside it. Negative evidence shows as 0."""
    h, w = frame_shape[:2]
    side = min(h, w)
    y, x = (h - side) // 2, (w - side) // 2
    positive = np.maximum(cam.astype(np.float32), 0.0)
    peak = float(positive.max())
    heat = np.zeros((h, w), np.float32)
    if peak > 0:
        heat[y : y + side, x : x + side] = cv2.resize(
            positive / peak, (side, side), interpolation=cv2.INTER_CUBIC
        )
    return np.clip(heat, 0.0, 1.0)


def overlay(field_bgr: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """The field with the heat map blended in (JET colours) where the evidence is."""
    colours = cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET)
    weight = (alpha * heat)[..., None]
    blended = field_bgr.astype(np.float32) * (1 - weight) + colours.astype(np.float32) * weight
    return np.ascontiguousarray(np.clip(blended + 0.5, 0, 255).astype(np.uint8))


def peak_position(heat: np.ndarray) -> tuple[int, int]:
    """(x, y) of the heat map's maximum."""
    y, x = np.unravel_index(int(np.argmax(heat)), heat.shape)
    return int(x), int(y)
