"""Field augmentations (uint8 BGR in, uint8 BGR out) and the evaluation-time perturbations.

Two traps in the training data shape these: a burned-in scale bar in the bottom-right corner
whose colour differs between classes, and a class-dependent stain/background colour. Training
therefore always covers the scale-bar corner (before any flip or rotation moves it) and jitters
colour strongly, so that neither can be learned; ``blank_corner`` and ``camera_shift`` are the
matching robustness checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# The largest burned-in scale bar ("200 pixels" box) reaches 36 px left and 32 px up from the
# bottom-right corner of a 224x224 field; the covered box keeps a small margin around it.
SCALE_BAR_BOX = (44, 38)  # width, height in pixels at 224x224


def scale_bar_box(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the scale-bar corner, scaled to the field's size."""
    h, w = shape[:2]
    bw, bh = round(SCALE_BAR_BOX[0] * w / 224), round(SCALE_BAR_BOX[1] * h / 224)
    return w - bw, h - bh, w, h


def blank_corner(image: np.ndarray) -> np.ndarray:
    """The field with the scale-bar corner filled with the field's median colour (deterministic)."""
    out = image.copy()
    x0, y0, x1, y1 = scale_bar_box(image.shape)
    out[y0:y1, x0:x1] = np.median(image.reshape(-1, 3), axis=0).astype(np.uint8)
    return out


def cover_scale_bar(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Cover the scale-bar corner with a random-size box of median colour or a patch of the field.

    The box is at least as large as ``SCALE_BAR_BOX`` so every bar is always hidden; the fill
    varies so that the covered corner itself carries no class information.
    """
    out = image.copy()
    h, w = image.shape[:2]
    x0, y0, _, _ = scale_bar_box(image.shape)
    x0 = max(0, x0 - int(rng.integers(0, w // 8)))
    y0 = max(0, y0 - int(rng.integers(0, h // 8)))
    bw, bh = w - x0, h - y0
    if rng.random() < 0.5:
        out[y0:, x0:] = np.median(image.reshape(-1, 3), axis=0).astype(np.uint8)
    else:
        sx, sy = (
            int(rng.integers(0, w - 2 * bw + 1)),
            int(rng.integers(0, h - bh + 1)),
        )  # left of the corner
        out[y0:, x0:] = image[sy : sy + bh, sx : sx + bw]
    return out


def camera_shift(image: np.ndarray, variant: int = 0) -> np.ndarray:
    """A realistic change of camera and stain: white-balance gains, a LAB a/b shift, a gamma.

    Three fixed variants (0: warmer camera, pinker stain; 1: cooler camera, bluer stain;
    2: darker, less saturated) stand in for a live camera whose colour differs from the Zeiss's.
    """
    gains, shift, gamma = [
        ((0.92, 1.0, 1.08), (0.0, 6.0, 4.0), 1.0), ((1.10, 1.0, 0.92), (0.0, -4.0, -6.0), 1.0),
        ((1.0, 1.0, 1.0), (-12.0, 0.0, 0.0), 1.25),
    ][variant]
    out = image.astype(np.float32) * np.array(gains, np.float32)  # BGR gains
    out = 255.0 * (np.clip(out, 0, 255) / 255.0) ** gamma
    lab = cv2.cvtColor(out.astype(np.uint8), cv2.COLOR_BGR2LAB).astype(np.float32)
    lab += np.array(shift, np.float32)
    if variant == 2:
        lab[..., 1:] = 128 + 0.8 * (lab[..., 1:] - 128)
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


@dataclass(frozen=True)
class AugmentConfig:
    """Strengths of each augmentation; ``colour`` scales all colour jitter at once."""

    scale: tuple[float, float] = (0.85, 1.2)
    colour: float = 1.0
    grayscale_p: float = 0.15
    blur_p: float = 0.3
    jpeg_p: float = 0.4
    cover_scale_bar: bool = True


def augment(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig = AugmentConfig(),
            mask: np.ndarray | None = None) -> np.ndarray:
    """One random training view of a field (same size, uint8 BGR).

    With ``mask`` (uint8 0/255, the field's WBC mask) the view is of the masked field: the mask
    follows the geometry and pixels outside it are zeroed last, as the live masking does.
    """
    if cfg.cover_scale_bar:
        image = cover_scale_bar(image, rng)
    if mask is not None:
        stacked = _geometry(np.dstack([image, mask]), rng, cfg.scale)
        image, mask = np.ascontiguousarray(stacked[..., :3]), np.ascontiguousarray(stacked[..., 3])
    else:
        image = _geometry(image, rng, cfg.scale)
    image = _colour(image, rng, cfg.colour)
    if rng.random() < cfg.grayscale_p:
        image = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    if rng.random() < cfg.blur_p:
        sigma = float(rng.uniform(0.4, 1.6))
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    if rng.random() < cfg.jpeg_p:
        ok, blob = cv2.imencode(
            ".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(35, 90))]
        )
        decoded = cv2.imdecode(blob, cv2.IMREAD_COLOR)
        image = image if decoded is None else decoded
    if mask is not None:
        image = cv2.bitwise_and(image, image, mask=(mask > 127).astype(np.uint8))
    return np.ascontiguousarray(image)


def _geometry(
    image: np.ndarray, rng: np.random.Generator, scale: tuple[float, float]
) -> np.ndarray:
    """Random 90° rotation, flip, and zoom about a random centre (reflected borders)."""
    image = np.rot90(image, int(rng.integers(0, 4)))
    if rng.random() < 0.5:
        image = image[:, ::-1]
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    s = float(rng.uniform(*scale))
    cx, cy = w / 2 + rng.uniform(-0.1, 0.1) * w, h / 2 + rng.uniform(-0.1, 0.1) * h
    matrix = cv2.getRotationMatrix2D((cx, cy), float(rng.uniform(-10, 10)), s)
    return cv2.warpAffine(
        image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )


def _colour(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Camera (per-channel gain, gamma) and stain (LAB L/a/b gain and shift, HSV hue) jitter.

    Every step is a per-channel affine or power map, so each is one lookup table on uint8.
    """
    if strength <= 0:
        return image
    levels = np.arange(256, dtype=np.float32)
    gains = rng.uniform(1 - 0.15 * strength, 1 + 0.15 * strength, 3)
    gamma = float(np.exp(rng.normal(0, 0.2 * strength)))
    camera = [255.0 * (np.clip(levels * g, 0, 255) / 255.0) ** gamma for g in gains]
    out = cv2.LUT(image, _lut(camera))
    ab_gain = rng.uniform(1 - 0.3 * strength, 1 + 0.3 * strength)
    a_shift, b_shift = rng.normal(0, 6 * strength, 2)
    stain = [
        levels * rng.uniform(1 - 0.15 * strength, 1 + 0.1 * strength) + rng.normal(0, 8 * strength),
        128 + (levels - 128) * ab_gain + a_shift, 128 + (levels - 128) * ab_gain + b_shift,
    ]
    out = cv2.cvtColor(
        cv2.LUT(cv2.cvtColor(out, cv2.COLOR_BGR2LAB), _lut(stain)), cv2.COLOR_LAB2BGR
    )
    hue = (np.arange(256) + int(rng.integers(-8, 9) * strength)) % 180
    hsv = cv2.cvtColor(out, cv2.COLOR_BGR2HSV)
    hsv[..., 0] = cv2.LUT(hsv[..., 0], hue.astype(np.uint8))
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def _lut(channels: list[np.ndarray]) -> np.ndarray:
    """A 3-channel uint8 lookup table (256, 1, 3) from three float maps."""
    return np.clip(np.stack(channels, axis=-1), 0, 255).round().astype(np.uint8).reshape(256, 1, 3)
