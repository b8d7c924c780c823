"""A plugin's settings from its workflow step, checked against its table (`about.Setting`)
and typed, with the messages of the Rust `ferry_guest::Settings`.

The host passes every setting as text: strings as written, numbers and booleans as their TOML
text (`8192`, `true`), tables and arrays as JSON. `Settings.load(SETTINGS)` reads them through
`host.setting`, and refuses at once (an `invalid_setting` `PluginError`):

- a name the table does not declare, with a "did you mean" for a near miss;
- a required setting not given (or blank);
- a value that is not of its declared type.

Then `settings["batch_size"]` is the value, typed (`int`, `float`, `bool`, `str`, `dict`,
`list`), or the table's default when the step did not give it (`None` without one). Reading a
name the table does not declare is a bug in the plugin: it raises `KeyError`.
"""

import json
import math

from . import typing as kinds
from .about import SETTING_TYPES, host_text
from .errors import PluginError
from .wit import types

INVALID_SETTING = "invalid_setting"

_T = types.SettingType

_EXPECTED = {
    _T.BOOLEAN: "true or false",
    _T.INTEGER: "a whole number",
    _T.NUMBER: "a number",
    _T.CHARACTER: "a single ASCII character (a tab may be written `\\t`)",
    _T.TABLE: "a table",
    _T.ARRAY: "an array",
}


def _parse(ty, text):
    """`text` as a value of setting type `ty`; raises ValueError when it is not one."""
    if ty == _T.STRING:
        return text
    if ty == _T.BOOLEAN:
        lowered = text.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise ValueError(text)
    if ty == _T.INTEGER:
        if not text.isascii() or "_" in text:
            raise ValueError(text)
        return int(text)
    if ty == _T.NUMBER:
        if not text.isascii() or "_" in text:
            raise ValueError(text)
        return float(text)
    if ty == _T.CHARACTER:
        if text == "\\t":
            return "\t"
        if len(text) == 1 and text.isascii():
            return text
        raise ValueError(text)
    if ty == _T.TABLE:
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError(text)
        return value
    if ty == _T.ARRAY:
        value = json.loads(text)
        if not isinstance(value, list):
            raise ValueError(text)
        return value
    raise ValueError(text)


def invalid(name, value, expected):
    return PluginError(INVALID_SETTING, f"setting `{name}` = `{value}`: expected {expected}")


class Settings:
    """The settings of one plugin instance, checked and typed (see the module's doc)."""

    def __init__(self, known, values):
        """Settings from `values` (name → text as the host passes it), checked against the
        table `known`."""
        self.known = tuple(known)
        self._table = {s.name: s for s in self.known}
        self.raw = dict(sorted(values.items()))
        self._unknown()
        self._values = {}
        for setting in self.known:
            text = self.raw.get(setting.name)
            if text is None or (setting.required and not text.strip()):
                if setting.required:
                    doc = f" ({setting.doc})" if setting.doc else ""
                    raise PluginError(
                        INVALID_SETTING, f"the `{setting.name}` setting is required{doc}"
                    )
                default = setting.default_text
                self._values[setting.name] = (
                    None if default is None else _parse(setting.wit_type, default)
                )
                continue
            try:
                self._values[setting.name] = _parse(setting.wit_type, text)
            except ValueError:
                raise invalid(setting.name, text, _EXPECTED[setting.wit_type]) from None

    @classmethod
    def load(cls, known):
        """The step's settings, read through `host.setting` (only inside a component)."""
        from .wit import host

        values = {}
        for name in host.setting_names():
            value = host.setting(name)
            if value is not None:
                values[name] = value
        return cls(known, values)

    @classmethod
    def from_pairs(cls, known, pairs=()):
        """Settings written out as a dict or `(name, value)` pairs, values as the host would
        pass them (Python values are written as the host would: `True` → `true`): what a
        plugin's tests give it."""
        items = pairs.items() if isinstance(pairs, dict) else pairs
        return cls(known, {k: host_text(v) if not isinstance(v, str) else v for k, v in items})

    def _unknown(self):
        names = [s.name for s in self.known]
        unknown = []
        for name in self.raw:
            if name in self._table:
                continue
            close = suggest(name, names)
            unknown.append(f"`{name}` (did you mean `{close}`?)" if close else f"`{name}`")
        if not unknown:
            return
        plural = "" if len(unknown) == 1 else "s"
        takes = (
            f"this plugin takes: {', '.join(names)}" if names else "this plugin takes no settings"
        )
        raise PluginError(INVALID_SETTING, f"unknown setting{plural} {', '.join(unknown)}; {takes}")

    def _declared(self, name):
        if name not in self._table:
            raise KeyError(f"setting `{name}` is read but not in the plugin's settings table")
        return self._table[name]

    def __getitem__(self, name):
        self._declared(name)
        return self._values[name]

    def get(self, name, fallback=None):
        """The value, or `fallback` when neither the step nor the table's default gives one."""
        value = self[name]
        return fallback if value is None else value

    def given(self, name):
        """Whether the step gave the setting (rather than it being the default)."""
        self._declared(name)
        return name in self.raw

    def text(self, name):
        """The raw text the host passed, `None` when not given."""
        self._declared(name)
        return self.raw.get(name)

    def positive(self, name):
        """An integer setting of at least 1 (a batch or page size), `None` when unset."""
        value = self[name]
        if value is not None and value < 1:
            text = self.raw.get(name, str(value))
            raise invalid(name, text, "a whole number of at least 1")
        return value

    def finite(self, name):
        """A number setting that is neither infinite nor NaN, `None` when unset."""
        value = self[name]
        if value is not None and not math.isfinite(value):
            raise invalid(name, self.raw.get(name, str(value)), "a finite number")
        return value

    def schema(self, name):
        """A table setting of column name → declared type name (`input_schema = { score =
        "float64" }`), as `[(column, Kind)]`; empty when unset."""
        table = self[name]
        if table is None:
            return []
        out = []
        for column, ty in table.items():
            kind = kinds.Kind.from_name(ty) if isinstance(ty, str) else None
            if kind is None:
                raise PluginError(
                    INVALID_SETTING,
                    f"setting `{name}`: column `{column}` has type {json.dumps(ty)}, "
                    f"expected one of {kinds.DECLARABLE}",
                )
            out.append((column, kind))
        return out

    def __repr__(self):
        return f"Settings({self._values!r})"


def suggest(name, known):
    """The known name closest to `name`, if it is a plausible typo of it."""
    best = None
    for k in known:
        d = edit_distance(name, k)
        if best is None or (d, k) < best:
            best = (d, k)
    if best is None:
        return None
    distance, close = best
    return close if distance <= 2 and distance < len(name) else None


def edit_distance(a, b):
    """Levenshtein distance over characters."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a):
        cur = [i + 1]
        for j, cb in enumerate(b):
            cur.append(min(prev[j] + (ca != cb), prev[j + 1] + 1, cur[j] + 1))
        prev = cur
    return prev[len(b)]


__all__ = ["Settings", "INVALID_SETTING", "edit_distance", "suggest", "SETTING_TYPES"]
