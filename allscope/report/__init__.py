"""Reports of a session: PDF (Qt's own PDF writer), CSV and JSON exports, SHA-256 manifest.

Exports never overwrite a file silently: with ``overwrite=False`` (the default) an existing
name gets a free ``name (2).ext`` instead, and every writer returns the path it wrote.
"""
