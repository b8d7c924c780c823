"""{{name}}: the objects are the files under a directory the workflow step grants to the
plugin (`grants.dirs`), as the built-in source-local does. The plugin sees that directory,
read-only, at its mount point (`root`) and nothing else, through plain `os` and `open`.

- Keys are paths relative to `root`, `/`-separated, listed in sorted order, `page_size` a
  page; the cursor is the last key of the page before.
- Files and directories whose name starts with `.` are left out unless `include_hidden`.
- A file's etag is its size and modification time, so it changes with its content.
- `read` gives at most 4 MiB a call; a key with an empty, `.` or `..` part is refused.

The plugin's own logic, free of WIT calls: `test_{{module}}.py` runs it on plain CPython
against a temporary directory.
"""

import bisect
import os
import posixpath
import time

from ferry_guest import PluginError, Setting, describe as description, types
from ferry_guest.settings import invalid

NAME = "{{name}}"
VERSION = "0.1.0"

# Every setting the plugin takes: `ferry validate` and `Settings.load` refuse any other.
SETTINGS = [
    Setting("root", "string", default="/data", doc="where the step's granted directory is mounted"),
    Setting("page_size", "integer", default=1000, doc="keys per listing page"),
    Setting("include_hidden", "boolean", default=False, doc="list names starting with `.` too"),
]

MAX_READ = 4 << 20


def describe():
    return description(
        "source", NAME, VERSION, "the files under a directory granted to the step", SETTINGS
    )


class Config:
    def __init__(self, root="/data", page_size=1000, include_hidden=False):
        self.root = root
        self.page_size = page_size
        self.include_hidden = include_hidden


def from_settings(settings):
    """The configuration for the step's `settings` (a checked `Settings`)."""
    page_size = settings.positive("page_size")
    root = settings["root"]
    if not root.startswith("/"):
        raise invalid("root", root, "an absolute path (the mount of a granted directory)")
    return Config(root, page_size, settings["include_hidden"])


def _io_error(what, e):
    code = "not_found" if isinstance(e, FileNotFoundError) else "io"
    return PluginError(code, f"{what}: {e.strerror or e}")


def _check_root(root):
    try:
        if os.path.isdir(root):
            return
        exists = os.path.exists(root)
    except OSError:
        exists = False
    if exists:
        raise PluginError("not_found", f"`{root}` is a file, not a directory")
    raise PluginError(
        "not_found",
        f"directory `{root}` is not visible in the sandbox: "
        "grant it to the step with `[steps.grants] dirs`",
    )


def walk(config, prefix):
    """Every key under the root that starts with `prefix`, sorted."""
    keys = []
    pending = [(config.root, "")]
    while pending:
        directory, dir_key = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as e:
            raise _io_error(dir_key or ".", e) from None
        for entry in entries:
            name = entry.name
            if name.startswith(".") and not config.include_hidden:
                continue
            key = dir_key + name
            try:
                if entry.is_dir(follow_symlinks=False):
                    sub = key + "/"
                    if sub.startswith(prefix) or prefix.startswith(sub):
                        pending.append((entry.path, sub))
                elif key.startswith(prefix) and entry.is_file():
                    keys.append(key)
            except OSError as e:
                raise _io_error(key, e) from None
    keys.sort()
    return keys


def rfc3339(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def describe_object(config, key):
    """The `object-info` of `key`, `None` if it went away since it was listed."""
    try:
        st = os.stat(posixpath.join(config.root, key))
    except FileNotFoundError:
        return None
    except OSError as e:
        raise _io_error(key, e) from None
    return types.ObjectInfo(
        key=key,
        size=st.st_size,
        etag=f"{st.st_size}-{st.st_mtime_ns}",
        last_modified=rfc3339(st.st_mtime_ns // 1_000_000_000),
    )


# The keys of the last listing, kept while an instance pages through them, so every page
# comes from the same snapshot of the directory.
_snapshot = None


def list_page(config, prefix, cursor):
    """`(objects, next_cursor)`: the page of keys after `cursor` (after none, at first)."""
    global _snapshot
    _check_root(config.root)
    reusable = (
        cursor is not None
        and _snapshot is not None
        and _snapshot[0] == (config.root, prefix, config.include_hidden)
    )
    if not reusable:
        _snapshot = ((config.root, prefix, config.include_hidden), walk(config, prefix))
    keys = _snapshot[1]
    start = 0
    if cursor is not None:
        start = bisect.bisect_right(keys, cursor)
    end = min(len(keys), start + max(1, config.page_size))
    objects = [o for o in (describe_object(config, k) for k in keys[start:end]) if o is not None]
    return objects, (keys[end - 1] if end < len(keys) else None)


def resolve(config, key):
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise PluginError(
            "invalid_key",
            f"key `{key}` must be a relative path of names under the root "
            "(no `..`, `.`, or empty parts)",
        )
    return posixpath.join(config.root, key)


def read(config, key, offset, length):
    """Up to `length` bytes of `key` from `offset` (at most 4 MiB; fewer at the end)."""
    path = resolve(config, key)
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(min(length, MAX_READ))
    except OSError as e:
        raise _io_error(key, e) from None
