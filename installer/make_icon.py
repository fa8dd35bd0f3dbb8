"""Draw the allscope icon: a microscope field of view with one white cell among red cells.

Writes ``resources/icons/allscope.svg`` and renders it with Qt to ``allscope.png`` (256 px, the
Linux desktop icon and the window icon), ``allscope.ico`` (Windows, 128 px) and ``allscope.icns``
(macOS). The icon is drawn here, not taken from any data set. Run from the project root::

    QT_QPA_PLATFORM=offscreen .venv/bin/python installer/make_icon.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ICON_DIR = Path(__file__).resolve().parents[1] / "resources" / "icons"

RED_CELLS = (
    (70, 92, 22), (104, 178, 21), (176, 186, 23), (190, 112, 20), (136, 58, 19), (62, 146, 18),
)

# Qt writes ICO uncompressed, so the Windows icon stays at 128 px to keep the file small.
ICON_FILES = (
    ("allscope.png", "PNG", 256), ("allscope.ico", "ICO", 128), ("allscope.icns", "ICNS", 256),
)

SVG_HEAD = """<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256
256">
  <title>allscope</title>
  <rect x="8" y="8" width="240" height="240" rx="48" fill="#1d2b3a"/>
  <circle cx="128" cy="128" r="104" fill="#f7e6e8"/>
"""

SVG_TAIL = """  <circle cx="130" cy="126" r="40" fill="#ddc9ec" stroke="#b79ad0" stroke-width="3"/>
  <path d="M108 118 C106 100 126 94 134 106 C142 96 160 104 154 120 C164 130 154 148 140 142
           C132 154 112 150 114 136 C102 134 100 122 108 118 Z" fill="#5a2a86"/>
  <circle cx="128" cy="128" r="104" fill="none" stroke="#9fb3c8" stroke-width="10"/>
  <path d="M128 14 V38 M128 218 V242 M14 128 H38 M218 128 H242" stroke="#3ec7b7"
        stroke-width="8" stroke-linecap="round"/>
</svg>
"""


def icon_svg() -> str:
    """The icon as SVG text: a field of view, red cells with pale centres, one stained white
    cell."""
    cells = "".join(
        f'  <circle cx="{x}" cy="{y}" r="{r}" fill="#e59aa5"/>\n'
        f'  <circle cx="{x}" cy="{y}" r="{r * 0.45:.1f}" fill="#f2c4cb"/>\n'
        for x, y, r in RED_CELLS
    )
    return SVG_HEAD + cells + SVG_TAIL


def render(svg: str, size: int):
    """Render SVG text to a square transparent QImage of ``size`` pixels."""
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(QByteArray(svg.encode())).render(painter)
    painter.end()
    return image


def main() -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - Qt needs one
    ICON_DIR.mkdir(parents=True, exist_ok=True)
    svg = icon_svg()
    (ICON_DIR / "allscope.svg").write_text(svg, encoding="utf-8")
    for name, fmt, size in ICON_FILES:
        if not render(svg, size).save(str(ICON_DIR / name), fmt):
            print(f"could not write {name}: Qt has no {fmt} image writer here", file=sys.stderr)
            return 1
    print(f"icons written to {ICON_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
