"""``python -m desktop`` and the PyInstaller entry: the same as the ``kepu`` command."""

from desktop.cli import main

raise SystemExit(main())
