"""Training of the cell classifier package (``models/cells``); needs the ``train`` extra."""
