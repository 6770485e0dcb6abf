"""One rule for every ``xxgk`` command: an expected failure is one line on stderr and exit 1."""

from __future__ import annotations

import functools
import os
import sys
from typing import Any, Callable

import click


def one_line_errors(*expected: type[BaseException]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a command so ``expected`` errors and database errors print ``error: reason`` and exit 1.

    A closed pipe (``xxgk export | head``) is not an error: the reader has what it wanted.
    """

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from sqlalchemy.exc import SQLAlchemyError

            try:
                return command(*args, **kwargs)
            except BrokenPipeError:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                sys.exit(0)
            except expected as exc:
                click.echo(f"error: {exc}", err=True)
            except SQLAlchemyError as exc:
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                click.echo(f"error: database: {reason}", err=True)
            sys.exit(1)

        return wrapper

    return decorate
