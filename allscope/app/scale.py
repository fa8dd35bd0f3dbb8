"""Microscope scale: micrometres per pixel for each objective, and the scale bar to draw (no Qt).

Set once per objective from a stage micrometer (a known length measured in pixels) or typed
in; kept in the settings as ``{objective: µm per pixel}``. Without a scale no bar is drawn:
sizes in pixels mean nothing across microscopes.
"""

from __future__ import annotations

from dataclasses import dataclass

NICE_LENGTHS_UM = (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000)


@dataclass(frozen=True)
class ScaleBar:
    microns: float
    pixels: float  # on screen

    @property
    def label(self) -> str:
        return f"{self.microns:g} µm"


def from_micrometer(known_um: float, measured_px: float) -> float:
    """µm per pixel from a stage micrometer: ``known_um`` spanned ``measured_px`` pixels."""
    if known_um <= 0 or measured_px <= 0:
        raise ValueError(
            "Both the micrometer length (µm) and its length in pixels must be above zero."
        )
    return known_um / measured_px


def scale_bar(um_per_px: float | None, zoom: float, target_px: float = 120.0) -> ScaleBar | None:
    """The nice length whose bar is closest to ``target_px`` screen pixels at ``zoom`` (screen px
    per image px); None without a scale."""
    if not um_per_px or um_per_px <= 0 or zoom <= 0:
        return None
    per_screen_px = um_per_px / zoom
    best = min(NICE_LENGTHS_UM, key=lambda um: abs(um / per_screen_px - target_px))
    return ScaleBar(float(best), best / per_screen_px)


def parse_scale(text: str) -> float:
    """A typed µm-per-pixel value; ValueError with what to type when it is not one."""
    try:
        value = float(text.replace(",", ".").replace("µm", "").strip())
    except ValueError as exc:
        raise ValueError(
            f"{text!r} is not a number of micrometres per pixel (for example 0.1)."
        ) from exc
    if not 0.001 <= value <= 100:
        raise ValueError(
            f"{value} µm per pixel is outside 0.001–100; check the objective and camera."
        )
    return value
