"""Errors of a whole call, and the guard that turns any Python exception into one.

A WIT function returning `result<_, error>` fails when it raises `Err(types.Error(...))`;
anything else it raises makes componentize-py print the traceback and trap, and ferry reports
a bare `plugin_trap`. `guard` (a decorator for functions, methods or whole classes) makes
every exported call fail cleanly instead:

- `PluginError(code, message, row=None)` becomes that `error`;
- `Err(...)` passes through as is;
- any other exception becomes `error(code="plugin_raised", message="ZeroDivisionError:
  division by zero (parser.py:42)")`: the traceback's last line, and where it was raised. The
  whole traceback goes to the host's log at debug level (`ferry --log debug`).
"""

import functools
import os
import traceback

from .wit import Err, host, types

PLUGIN_RAISED = "plugin_raised"


class PluginError(Exception):
    """A failure of a whole call with a stable `code` (`invalid_setting`, `not_found`...)."""

    def __init__(self, code, message, row=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.row = row

    def to_wit(self):
        return error(self.code, self.message, self.row)


def error(code, message, row=None):
    """The WIT `error` record."""
    return types.Error(code=code, message=message, row=row)


def describe_exception(exc):
    """`ZeroDivisionError: division by zero (parser.py:42)`: the last line of the traceback,
    and the file and line where the exception was raised."""
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        frame = frames[-1]
        last = f"{last} ({os.path.basename(frame.filename)}:{frame.lineno})"
    return last


def as_error(exc):
    """The WIT `error` for any exception raised by a plugin's code."""
    if isinstance(exc, PluginError):
        return exc.to_wit()
    if isinstance(exc, Err):
        return exc.value
    return error(PLUGIN_RAISED, describe_exception(exc))


def _log_traceback(exc):
    try:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        host.log(host.Level.DEBUG, text.rstrip())
    except Exception:  # not in a component (unit tests), or the host refused: no log
        pass


def _guard_function(func):
    @functools.wraps(func)
    def guarded(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Err:
            raise
        except PluginError as e:
            raise Err(e.to_wit()) from None
        except Exception as e:
            _log_traceback(e)
            raise Err(error(PLUGIN_RAISED, describe_exception(e))) from None

    guarded.__ferry_guarded__ = True
    return guarded


def guard(target):
    """Makes exceptions raised by `target` WIT errors (see the module's doc).

    On a function or method: that one. On a class: every public method defined in it
    (plain, `classmethod` and `staticmethod` alike), so `@guard class Decoder` covers
    `open`, `push` and `finish`. Only for WIT functions that return a `result`: one that
    does not (`describe`) has no way to fail but a trap.
    """
    if isinstance(target, type):
        for name, attr in list(vars(target).items()):
            if name.startswith("_"):
                continue
            if isinstance(attr, classmethod):
                setattr(target, name, classmethod(_guard_function(attr.__func__)))
            elif isinstance(attr, staticmethod):
                setattr(target, name, staticmethod(_guard_function(attr.__func__)))
            elif callable(attr) and not getattr(attr, "__ferry_guarded__", False):
                setattr(target, name, _guard_function(attr))
        return target
    if isinstance(target, classmethod):
        return classmethod(_guard_function(target.__func__))
    if isinstance(target, staticmethod):
        return staticmethod(_guard_function(target.__func__))
    if getattr(target, "__ferry_guarded__", False):
        return target
    return _guard_function(target)
