"""Qt-free analysis core: sources, the mask, colour, motion, quality gate, one field's analysis,
classifier and model loading, flags, the live pipeline, batch analysis and the session store."""
