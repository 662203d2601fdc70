"""The one error type for problems a person can fix themselves."""


class UserError(Exception):
    """A problem the person can act on (missing folder, no weights, busy catalog, ...).

    Its message is complete and plain: the CLI prints it as one line, the GUI shows it in a dialog.
    Any other exception is a bug and belongs in the log with its traceback.
    """
