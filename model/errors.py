"""Errors a user can cause, reported as one line by the CLI (exit code 2)."""


class LasimInputError(ValueError):
    """Bad input from a user: a scenario file, a parameter, a spec or a CLI argument.

    The message is a single line naming the source, the field, the value and
    what is allowed; the CLI prints it without a traceback and exits with 2.
    """


class ScenarioError(LasimInputError):
    """A scenario file or parameter override that cannot be used."""
