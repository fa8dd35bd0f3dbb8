"""Is there a display the desktop app can open? Checked before Qt starts, because Qt aborts the
process (exit 134, "reinstalling the application may fix this") when it finds none."""

from __future__ import annotations

import os
import sys
from pathlib import Path

HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb")
NO_DISPLAY = (
    "allscope cannot open its window: there is no display ({why}). Start it from the workstation's "
    "desktop session, or with a display forwarded (ssh -X). Without a display, `allscope analyze` "
    "analyses folders and videos and `allscope sessions export` writes reports; set "
    "QT_QPA_PLATFORM=offscreen to run the app without a window (for --quit-after checks)."
)


def display_problem(
    environ: dict[str, str] | None = None, platform: str | None = None
) -> str | None:
    """A message saying why no window can be shown, or None when a display looks usable."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if chosen in HEADLESS_PLATFORMS or not platform.startswith("linux"):
        return None  # Windows and macOS always have their own display; headless plugins need none
    if chosen == "wayland" or (not chosen and env.get("WAYLAND_DISPLAY")):
        if env.get("WAYLAND_DISPLAY"):
            return None
        return NO_DISPLAY.format(why="QT_QPA_PLATFORM is wayland but WAYLAND_DISPLAY is not set")
    display = env.get("DISPLAY", "")
    if not display:
        return NO_DISPLAY.format(why="neither DISPLAY nor WAYLAND_DISPLAY is set")
    socket = _local_x_socket(display)
    if socket is not None and not socket.exists():
        return NO_DISPLAY.format(
            why=f"DISPLAY is {display}, but no X server listens there ({socket} is missing)"
        )
    missing = missing_x_libraries() if environ is None else []
    if missing:
        packages = " ".join(XCB_PACKAGES[name] for name in missing)
        return (
            "allscope cannot open its window: Qt's X11 support needs system libraries that are "
            f"not installed ({', '.join('lib' + m for m in missing)}). Install them, for example "
            f"`sudo apt-get install {packages}`, then start allscope again."
        )
    return None


XCB_PACKAGES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
}


def missing_x_libraries() -> list[str]:
    """System libraries Qt's xcb plugin loads that this machine lacks (per the linker cache)."""
    from ctypes.util import find_library

    return [name for name in XCB_PACKAGES if find_library(name) is None]


def _local_x_socket(display: str) -> Path | None:
    """The Unix socket of a local X display such as ":0" or ":99.0"; None for remote ones."""
    host, _, rest = display.partition(":")
    if host not in ("", "unix") or not rest:
        return None
    number = rest.split(".")[0]
    return Path("/tmp/.X11-unix") / f"X{number}" if number.isdigit() else None
