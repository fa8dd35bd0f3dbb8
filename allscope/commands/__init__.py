"""Sub-commands of the ``allscope`` command line."""
