"""The one exception the parsers raise for input they cannot read."""


class ParseError(Exception):
    """Unreadable input: corrupt, encrypted, empty, truncated, too large, not a document.

    The message is one line that says what is wrong, fit to print after the file name.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(" ".join(str(reason).split()))
