"""The one base class of the errors a user can act on.

Every problem that the person using the course can fix (a missing or damaged
file, a blank picture, a model that cannot do what was asked) is an
:class:`HcrError` with a one-line message that says what to do. The command
line prints that message and exits with code 1, and the drawing pads show it;
any other exception is a bug and keeps its traceback.
"""


class HcrError(Exception):
    """A problem the user can fix; the message says how."""
