"""The Qt-free application layer: what the window drives (one live run, capture, sessions,
settings, source opening, the gallery's field store), testable without a window."""
