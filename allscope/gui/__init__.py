"""The desktop app (PySide6 + pyqtgraph) on top of the Qt-free core.

Entry points: ``allscope.gui.app.run_gui(args)`` for the ``allscope`` command and
``allscope.gui.app.create_app(argv)`` for tests and embedding.
"""
