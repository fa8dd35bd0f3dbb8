"""Small synthetic fields and results for the session store tests (no data set needed)."""

from __future__ import annotations

import numpy as np

from allscope.core.results import FieldResult, Flag
from allscope.core.store import SessionInfo

CLASSES = ("Benign", "Early Pre-B", "Pre-B", "Pro-B")


def field_image(seed: int = 0, height: int = 96, width: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """A pinkish field with one purple 'cell' and its mask."""
    rng = np.random.default_rng(seed)
    image = np.full((height, width, 3), (200, 180, 230), np.uint8)
    image += rng.integers(0, 20, image.shape, dtype=np.uint8)
    mask = np.zeros((height, width), np.uint8)
    yy, xx = np.ogrid[:height, :width]
    cy, cx = height // 2 + seed % 7, width // 2 - seed % 5
    inside = (yy - cy) ** 2 + (xx - cx) ** 2 < (min(height, width) // 5) ** 2
    image[inside] = (150, 40, 110)
    mask[inside] = 255
    return image, mask


def field_result(
    frame_id: int = 1, p_all: float = 0.9, label: str = "Pre-B", assessable: bool = True
) -> FieldResult:
    benign = 1.0 - p_all
    rest = p_all / 3
    probs = (
        (benign, rest, rest, rest) if label != "Pre-B" else (benign, rest / 2, rest * 2, rest / 2)
    )
    return FieldResult(
        frame_id=frame_id, timestamp=100.0 + frame_id, source="camera 0", name=f"frame {frame_id}",
        wbc_count=1, mask_coverage=0.05, assessable=assessable, classes=CLASSES,
        probabilities=probs if assessable else None, label=label if assessable else None,
        p_all=p_all if assessable else None, flagged=assessable and p_all >= 0.5,
        reasons=() if assessable else ("blurred",),
    )


def flag_for(result: FieldResult, heat_map: np.ndarray | None = None) -> Flag:
    """The flag of ``result`` (a five-frame dwell), with its evidence map when given."""
    return Flag(
        source=result.source, start_frame=result.frame_id, end_frame=result.frame_id + 4,
        start_index=None, end_index=None, label=result.label or "", p_all=result.p_all or 0.0,
        result=result, heat_map=heat_map,
    )


def session_info(**overrides) -> SessionInfo:
    base = dict(patient_id="P-0042", slide_id="S-7", operator="A. Tech", lab_name="Haematology Lab",
                source="camera 0", camera_settings={"exposure": -6}, model_name="allscope-cnn",
                model_version="1.0", model_sha256="ab" * 32, app_version="0.1.0", threshold=0.7,
                flag_policy={"threshold": 0.7, "consecutive": 5})
    base.update(overrides)
    return SessionInfo(**base)
