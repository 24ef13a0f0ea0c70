import os
import sys

# `python -m` puts the current folder first on the import path; a sweep file's run_function
# must not be able to import whatever module sits in the folder someone runs from.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from funnelsim.cli import main  # noqa: E402

raise SystemExit(main())
