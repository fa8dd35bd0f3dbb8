"""The built-in demo slide: synthetic blood-film rendering (``cells``, ``slide``) and the
source that pans over it (``source.DemoSlideSource``), so the app runs without a microscope."""
