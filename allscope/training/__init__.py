"""Training, evaluation and export of the field classifier (optional extra: pip install
'allscope[train]')."""
