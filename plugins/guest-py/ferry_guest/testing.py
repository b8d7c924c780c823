"""For unit tests on plain CPython: the generated bindings the SDK imports, and a fake host.

The SDK (and a plugin's own modules) import `wit_world`, which componentize-py generates; in
a component it is built in, on plain CPython it has to be generated first. Call
`bindings(wit_dir, world)` before importing `ferry_guest` (in a test module's first lines, or
in a `conftest`): it generates them once into a cache directory (`componentize-py -d WIT -w
WORLD bindings DIR`, through the `componentize-py` on `PATH`, `$COMPONENTIZE_PY`, or the
`componentize_py` module) and puts them on `sys.path`. It imports nothing of the SDK itself.

`fake_host(settings)` makes `host.setting`/`host.setting_names`/`host.log` answer from a dict
inside a `with`, so code that calls `Settings.load` runs in a test too.
"""

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile


def _wit_digest(wit_dir, world):
    h = hashlib.sha256(world.encode())
    for root, dirs, files in os.walk(wit_dir):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(".wit"):
                p = os.path.join(root, f)
                h.update(os.path.relpath(p, wit_dir).encode())
                with open(p, "rb") as fh:
                    h.update(fh.read())
    return h.hexdigest()[:16]


def _generate(wit_dir, world, out):
    exe = os.environ.get("COMPONENTIZE_PY") or shutil.which("componentize-py")
    if exe:
        subprocess.run(
            [exe, "-d", wit_dir, "-w", world, "bindings", out],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return
    try:
        import componentize_py
    except ImportError:
        raise RuntimeError(
            "componentize-py is needed to generate the WIT bindings for tests: "
            "`pip install componentize-py==0.25.1`, or set COMPONENTIZE_PY to its path"
        ) from None
    componentize_py.generate_bindings([wit_dir], [world], [], False, None, out, [], [], False)


def bindings(wit_dir, world="parser-plugin", cache=None):
    """Makes `import wit_world` work on plain CPython (see the module's doc); returns the
    directory put on `sys.path`. Once per process: a second world in the same process is
    refused, since both would be `wit_world`."""
    wit_dir = os.path.abspath(wit_dir)
    key = f"{world}-{_wit_digest(wit_dir, world)}"
    loaded = sys.modules.get("wit_world")
    if loaded is not None:
        path = os.path.dirname(os.path.dirname(os.path.abspath(loaded.__file__)))
        if os.path.basename(path) != key:
            raise RuntimeError(f"bindings for another world are loaded already ({path})")
        return path
    cache = cache or os.environ.get("FERRY_BINDINGS_CACHE") or os.path.join(
        tempfile.gettempdir(), "ferry-guest-bindings"
    )
    out = os.path.join(cache, key)
    if not os.path.isdir(os.path.join(out, "wit_world")):
        os.makedirs(cache, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=cache)
        try:
            _generate(wit_dir, world, os.path.join(tmp, "b"))
            try:
                os.rename(os.path.join(tmp, "b"), out)
            except OSError:
                pass  # another process made it first
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if out not in sys.path:
        sys.path.insert(0, out)
    return out


@contextlib.contextmanager
def fake_host(settings=None, logs=None):
    """Inside the `with`, `host.setting(name)` answers from `settings` (name → text as the
    host passes it), and `host.log` appends `(level, message)` to `logs` (a list)."""
    from wit_world.imports import host

    settings = dict(settings or {})
    saved = host.setting, host.setting_names, host.log, host.progress
    host.setting = settings.get
    host.setting_names = lambda: list(settings)
    host.log = (lambda level, message: logs.append((level, message))) if logs is not None else (
        lambda level, message: None
    )
    host.progress = lambda done, total: None
    try:
        yield host
    finally:
        host.setting, host.setting_names, host.log, host.progress = saved


def collect(outputs):
    """`(rows, diagnostics)` of parser outputs (`types.Output`s): every batch's rows as dicts,
    with `_row` the row number; every diagnostic as `(row, line, code, effect name)`."""
    from .columns import rows as batch_rows

    rows, diagnostics = [], []
    for out in outputs:
        for b in out.batches:
            for number, r in zip(b.row_numbers, batch_rows(b)):
                rows.append({"_row": number, **r})
        for d in out.diagnostics:
            diagnostics.append((d.row, d.line, d.code, d.effect.name))
    return rows, diagnostics
