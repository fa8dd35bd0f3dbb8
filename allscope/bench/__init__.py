"""Timing helpers and synthetic inputs for ``allscope bench``; never used on the live path."""
