"""Frame sources: camera, video files, images, virtual slide and the demo slide.

``open_source`` turns what a user typed (command line, settings, the GUI's source box) into
a source: "demo", "camera:0", "slide:<folder>", a video file, or an image file or folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from allscope.core.frames import Frame, FrameSource, SourceError
from allscope.core.sources.camera import CameraSource
from allscope.core.sources.camera_controls import CameraInfo, ControlInfo, enumerate_cameras
from allscope.core.sources.demo.source import DemoSlideSource
from allscope.core.sources.images import IMAGE_SUFFIXES, ImageSource, find_images, load_image
from allscope.core.sources.pacing import Pacer
from allscope.core.sources.video import VIDEO_SUFFIXES, VideoSource, is_video_path
from allscope.core.sources.virtual_slide import VirtualSlideSource

__all__ = [
    "CameraInfo",
    "CameraSource",
    "ControlInfo",
    "DemoSlideSource",
    "Frame",
    "FrameSource",
    "IMAGE_SUFFIXES",
    "ImageSource",
    "Pacer",
    "SourceError",
    "VIDEO_SUFFIXES",
    "VideoSource",
    "VirtualSlideSource",
    "enumerate_cameras",
    "find_images",
    "is_video_path",
    "load_image",
    "open_source",
]


def open_source(spec: str, **options: Any) -> FrameSource:
    """Open the source named by ``spec``; ``options`` go to that source's constructor.

    "demo" → DemoSlideSource; "camera" or "camera:N" → CameraSource(N); "slide:DIR" →
    VirtualSlideSource(DIR); a video file → VideoSource; an image file or a folder →
    ImageSource. Anything else raises SourceError saying what is accepted.
    """
    text = str(spec).strip()
    kind, _, rest = text.partition(":")
    if text.lower() == "demo":
        return DemoSlideSource(**options)
    if kind.lower() == "camera" and (rest == "" or rest.isdigit()):
        return CameraSource(int(rest or 0), **options)
    if kind.lower() == "slide" and rest:
        return VirtualSlideSource(rest, **options)
    path = Path(text)
    if path.is_file() and is_video_path(path):
        return VideoSource(path, **options)
    if path.is_file() and path.suffix.lower() not in IMAGE_SUFFIXES:
        raise SourceError(
            f"{text} is neither a video ({', '.join(VIDEO_SUFFIXES)}) nor an image "
            f"({', '.join(sorted(IMAGE_SUFFIXES))}); "
            "choose a video file, an image or a folder of images"
        )
    if path.is_dir() or path.is_file():
        return ImageSource([path], **options)
    raise SourceError(
        f"{text!r} is not a source: use 'demo', 'camera:N', 'slide:FOLDER', a video file "
        f"({', '.join(VIDEO_SUFFIXES)}), an image file or a folder of images"
    )
