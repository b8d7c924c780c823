"""ferry_guest: what every Python ferry plugin shares (the Python twin of the Rust crate
`plugins/guest`), for components built with componentize-py against `ferry:plugin@0.2.0`.

- `about`: the settings table (`Setting`) and `describe(kind, name, version, summary,
  settings)`, the `description` the `about` interface returns;
- `settings`: `Settings.load(SETTINGS)`, the step's settings checked against that table
  (unknown names with a "did you mean", missing required ones, bad values) and typed;
- `columns`: Arrow-layout columns built a whole list at a time (`int64("n", [1, None])`,
  `utf8`, `float64`, `boolean`, `date32`, `timestamp`, `binary`, `decimal128`...), `batch`,
  and the way back (`read_columns(batch)` → `{name: [values]}`, for predictors);
- `typing`: the typing rules of every text format (int64 → float64 → boolean → utf8);
  `text_batch.TextBatch`: rows of text values typed per batch; `lines.Lines`: lines across
  chunk boundaries, numbered as diagnostics count them;
- `diagnostics`: `skip`, `null_value`, `warning` (the row's `effect`), `output`, `RowError`;
- `errors`: `PluginError(code, message)` and `guard`, which turns any exception an exported
  call raises into a WIT `error` (`plugin_raised`, with the traceback's last line) rather
  than a trap; `decoder.DecoderState`: a failed decoder stays failed;
- `testing`: generated bindings and a fake host for unit tests on plain CPython.

When the bindings (`wit_world`) are importable — always, in a component — every module but
`testing` is imported with the package: componentize-py snapshots the interpreter after
importing the app, and a component has no files to import from later, so a module first
imported inside a call would fail. On plain CPython before `testing.bindings(...)`, names are
imported lazily instead, so `ferry_guest.testing` works before any binding exists.
"""

import importlib

_EXPORTS = {
    "Setting": "about",
    "describe": "about",
    "Settings": "settings",
    "INVALID_SETTING": "settings",
    "PluginError": "errors",
    "error": "errors",
    "guard": "errors",
    "PLUGIN_RAISED": "errors",
    "Kind": "typing",
    "ConvertError": "typing",
    "convert": "typing",
    "infer": "typing",
    "TextBatch": "text_batch",
    "InvalidValue": "text_batch",
    "Lines": "lines",
    "skip": "diagnostics",
    "null_value": "diagnostics",
    "warning": "diagnostics",
    "diagnostic": "diagnostics",
    "output": "diagnostics",
    "RowError": "diagnostics",
    "DecoderState": "decoder",
    "batch": "columns",
    "read_columns": "columns",
    "column_values": "columns",
    "ColumnBuilder": "columns",
    "Err": "wit",
    "Ok": "wit",
    "types": "wit",
    "host": "wit",
}

__all__ = sorted(_EXPORTS)


_MODULES = {
    "about", "columns", "decoder", "diagnostics", "errors", "lines", "settings", "testing",
    "text_batch", "typing", "wit",
}


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ferry_guest' has no attribute '{name}'")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def _import_all():
    try:
        importlib.import_module("wit_world.imports.types")
    except ImportError:
        return  # plain CPython, no bindings yet: lazily, once `testing.bindings` made them
    for module in sorted(_MODULES - {"testing"}):
        importlib.import_module(f".{module}", __name__)


_import_all()


def __dir__():
    return sorted(list(globals()) + __all__)
