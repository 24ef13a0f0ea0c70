"""Errors that the command line shows as one line with exit code 2."""


class UsageError(Exception):
    """Bad input found by a command (a missing file, an existing output folder, a bad option).

    The message is shown as is, so it must name what is wrong and where, on one line.
    """
