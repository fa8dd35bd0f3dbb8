"""The reference mask pipeline: scikit-learn, scipy and scikit-image, as the paper would run it.

Used only to check and to time ``lab_kmeans_mask`` (parity tests, ``allscope bench``);
never on the live path. Its libraries come with the ``test`` extra and are imported when
a function here is called.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np

from allscope.core.mask.lab_kmeans import a_channel, scaled_area, validate_bgr
from allscope.core.mask.parameters import A_THRESHOLD, MIN_HOLE_PX, MIN_OBJECT_PX, REFERENCE_AREA, K


@dataclass(frozen=True, slots=True)
class ReferenceMask:
    """The reference result: the mask (bool), per-pixel cluster labels, sorted centres."""

    mask: np.ndarray
    labels: np.ndarray  # int (H, W): index into ``centers``
    centers: np.ndarray
    inertia: float


def _import_reference_libraries() -> tuple[Any, Any, Any]:
    try:
        from scipy import ndimage
        from skimage import morphology
        from sklearn.cluster import KMeans
    except ImportError as error:
        raise ImportError(
            f"the reference mask pipeline needs scikit-learn, scipy and scikit-image ({error}); "
            "install the test extra: pip install 'allscope[test]'"
        ) from error
    return KMeans, ndimage, morphology


def _remove_small(morphology, mask: np.ndarray, min_size: int, connectivity: int) -> np.ndarray:
    """Remove components with fewer than ``min_size`` pixels (any scikit-image version)."""
    if "max_size" in inspect.signature(morphology.remove_small_objects).parameters:
        return morphology.remove_small_objects(
            mask, max_size=min_size - 1, connectivity=connectivity
        )
    return morphology.remove_small_objects(mask, min_size=min_size, connectivity=connectivity)


def _fill_small_holes(morphology, mask: np.ndarray, min_hole: int) -> np.ndarray:
    """Fill 4-connected holes with fewer than ``min_hole`` pixels."""
    if "max_size" in inspect.signature(morphology.remove_small_holes).parameters:
        return morphology.remove_small_holes(mask, max_size=min_hole - 1, connectivity=1)
    return ~_remove_small(morphology, ~mask, min_hole, connectivity=1)


def reference_mask(
    bgr: np.ndarray, *, k: int = K, threshold: float = A_THRESHOLD, min_object: int = MIN_OBJECT_PX,
    min_hole: int = MIN_HOLE_PX, reference_area: int = REFERENCE_AREA, n_init: int = 10,
    random_state: int = 0, init_centers: np.ndarray | None = None,
) -> ReferenceMask:
    """K-means on every a-channel pixel (scikit-learn), centres above ``threshold``,
    ``binary_fill_holes``, then removal of objects (8-connected) under ``min_object`` px
    and of holes (4-connected) under ``min_hole`` px, both scaled to the frame size.
    ``init_centers`` replaces the k-means++ restarts by one run from those centres."""
    kmeans_class, ndimage, morphology = _import_reference_libraries()
    a = a_channel(validate_bgr(bgr))
    if init_centers is None:
        km = kmeans_class(n_clusters=k, n_init=n_init, random_state=random_state)
    else:
        init = np.asarray(init_centers, dtype=np.float64).reshape(-1, 1)
        km = kmeans_class(n_clusters=k, init=init, n_init=1, random_state=random_state)
    labels = km.fit_predict(a.reshape(-1, 1).astype(np.float64))
    order = np.argsort(km.cluster_centers_.ravel())
    rank = np.empty_like(order)
    rank[order] = np.arange(k)
    centers = km.cluster_centers_.ravel()[order]
    labels = rank[labels].reshape(a.shape)
    mask = ndimage.binary_fill_holes(centers[labels] > threshold)
    mask = _remove_small(morphology, mask, scaled_area(min_object, a.shape, reference_area), 2)
    mask = _fill_small_holes(morphology, mask, scaled_area(min_hole, a.shape, reference_area))
    return ReferenceMask(mask, labels, centers, float(km.inertia_))
