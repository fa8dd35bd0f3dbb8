"""Training and evaluation views of one cell: the application's crop, then augmentation.

Crops come from ``allscope.core.cells.crops.cell_crop``, the very function the application
runs, so training sees what inference sees. The augmentation targets what differs between
laboratories and must not become a class cue (all blasts come from one laboratory):

- colour: the field trainer's camera and stain jitter (``allscope.training.augment``) at a
  chosen strength, sometimes grey;
- resolution: the B-ALL fields are 224² resizes with cells ~20 px across, the PBC and BCCD
  cells are sharp at 100+ px; every training view is therefore shrunk to a random effective
  size and enlarged back half of the time, and blurred or JPEG-compressed now and then;
- scale: the crop side jitters around ``scale`` × the cell's diameter (segmentation differs
  between stains); rotation and flips are free (cells have no orientation).
"""

from __future__ import annotations

import cv2
import numpy as np

from allscope.core.cells.crops import cell_crop
from allscope.core.cells.detect import Cell
from allscope.core.model_package import CropSpec
from allscope.training.augment import AugmentConfig, augment, camera_shift

SCALE_JITTER = (0.85, 1.18)
LOW_RESOLUTION = (18, 48)  # effective crop side in pixels after a down-and-up resize
LOW_RESOLUTION_P = 0.5


def clean_view(image: np.ndarray, cell: Cell, size: int, crop: CropSpec) -> np.ndarray:
    """The crop exactly as the application cuts it."""
    return cell_crop(image, cell, size, crop.scale, crop.suppress_background, crop.fill)


def train_view(
    image: np.ndarray,
    cell: Cell,
    size: int,
    crop: CropSpec,
    rng: np.random.Generator,
    colour: float = 1.5,
) -> np.ndarray:
    """One random view: jittered crop scale, geometry, colour, resolution, blur, JPEG."""
    scale = crop.scale * float(rng.uniform(*SCALE_JITTER))
    view = cell_crop(image, cell, size, scale, crop.suppress_background, crop.fill)
    if rng.random() < LOW_RESOLUTION_P:
        side = int(rng.integers(LOW_RESOLUTION[0], min(LOW_RESOLUTION[1], size) + 1))
        small = cv2.resize(view, (side, side), interpolation=cv2.INTER_AREA)
        view = cv2.resize(small, (size, size), interpolation=cv2.INTER_LINEAR)
    config = AugmentConfig(
        scale=(0.95, 1.05),
        colour=colour,
        grayscale_p=0.1,
        blur_p=0.25,
        jpeg_p=0.3,
        cover_scale_bar=False,
    )
    return augment(view, rng, config)


def shifted_view(
    image: np.ndarray, cell: Cell, size: int, crop: CropSpec, variant: int
) -> np.ndarray:
    """The clean crop of the field under one of three fixed camera/stain shifts (robustness)."""
    return clean_view(camera_shift(image, variant), cell, size, crop)
