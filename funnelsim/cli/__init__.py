"""The ``funnelsim`` command line: one module per command, shared flags in :mod:`.arguments`.

The commands only parse, call the library and print; everything they do can also be done from
Python (``funnelsim.run``, ``funnelsim.compare``, ``funnelsim.calibrate``, ...).
"""

from funnelsim.cli.main import EXIT_BAD_INPUT, EXIT_OS_ERROR, build_parser, main

__all__ = ["EXIT_BAD_INPUT", "EXIT_OS_ERROR", "build_parser", "main"]
