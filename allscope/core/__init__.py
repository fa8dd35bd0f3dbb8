"""Qt-free analysis core: frames, sources, masking, classifier, flags, pipeline, store."""
