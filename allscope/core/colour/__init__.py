"""Colour: the white reference and normaliser (``calibration``), the stain colour transfer
(``transfer``) and the training fields' colour statistics (``target``)."""
