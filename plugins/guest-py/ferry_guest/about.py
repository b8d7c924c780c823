"""What a plugin says about itself (the `about` interface), from one table of its settings.

A plugin declares every setting it takes once, as a list of `Setting`s. The same table is
what `Settings.load` checks the step's settings against and what `describe` returns, so
`ferry validate` refuses exactly what the plugin would refuse:

    SETTINGS = [
        Setting("delimiter", "character", default=",", doc="between name and score"),
        Setting("batch_size", "integer", default=8192, doc="rows per batch"),
        Setting("root", "string", required=True, doc="where the files are mounted"),
    ]

    class About(exports.About):
        def describe(self):
            return describe("parser", "my-parser", "0.1.0", "name,score lines", SETTINGS)
"""

from dataclasses import dataclass
from typing import Optional

from .wit import types

# Type names a table may use, and the WIT `setting-type` each one is.
SETTING_TYPES = {
    "string": types.SettingType.STRING,
    "str": types.SettingType.STRING,
    "boolean": types.SettingType.BOOLEAN,
    "bool": types.SettingType.BOOLEAN,
    "integer": types.SettingType.INTEGER,
    "int": types.SettingType.INTEGER,
    "number": types.SettingType.NUMBER,
    "float": types.SettingType.NUMBER,
    "character": types.SettingType.CHARACTER,
    "char": types.SettingType.CHARACTER,
    "table": types.SettingType.TABLE,
    "array": types.SettingType.ARRAY,
}

PLUGIN_KINDS = {
    "source": types.PluginKind.SOURCE,
    "parser": types.PluginKind.PARSER,
    "predictor": types.PluginKind.PREDICTOR,
    "deployer": types.PluginKind.DEPLOYER,
}


def host_text(value):
    """A default as the host would pass the setting: `true`, `8192`, `0.5`, `,`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return str(value)


@dataclass(frozen=True)
class Setting:
    """One setting a plugin takes.

    `type`: `string`, `boolean` (`bool`), `integer` (`int`), `number` (`float`),
    `character` (`char`: one ASCII character such as a delimiter), `table` or `array`
    (these two reach the plugin as JSON). `default`: what holds when the step does not give
    it, as a Python value or as the host would pass it (`","`, `8192`, `True`); tables and
    arrays take none. `required`: the step must give it.
    """

    name: str
    type: str = "string"
    default: Optional[object] = None
    doc: str = ""
    required: bool = False

    def __post_init__(self):
        if self.type not in SETTING_TYPES:
            raise ValueError(
                f"setting `{self.name}`: unknown type `{self.type}`, expected one of "
                + ", ".join(SETTING_TYPES)
            )
        if self.default is not None and self.wit_type in (
            types.SettingType.TABLE,
            types.SettingType.ARRAY,
        ):
            raise ValueError(f"setting `{self.name}`: a table or array setting has no default")
        if self.default is not None and self.required:
            raise ValueError(f"setting `{self.name}`: a required setting has no default")

    @property
    def wit_type(self):
        return SETTING_TYPES[self.type]

    @property
    def default_text(self):
        """The default as the host would pass it, when there is one."""
        return None if self.default is None else host_text(self.default)

    def info(self):
        """The `setting-info` record, its default as a user writes it in TOML."""
        default = self.default_text
        return types.SettingInfo(
            name=self.name,
            type=self.wit_type,
            required=self.required,
            default=None if default is None else toml(self.wit_type, default),
            doc=self.doc,
        )


def toml(ty, value):
    """`value` (a setting's text as the host passes it) as TOML: strings quoted."""
    if ty in (types.SettingType.STRING, types.SettingType.CHARACTER):
        escaped = (
            value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\n", "\\n")
        )
        return f'"{escaped}"'
    return value


def describe(kind, name, version, summary, settings=()):
    """The `description` record `about.describe` returns. `kind`: `parser`, `source`,
    `predictor` or `deployer` (or a `types.PluginKind`)."""
    if not isinstance(kind, types.PluginKind):
        try:
            kind = PLUGIN_KINDS[kind]
        except KeyError:
            raise ValueError(
                f"unknown plugin kind `{kind}`, expected one of {', '.join(PLUGIN_KINDS)}"
            ) from None
    return types.Description(
        name=name,
        kind=kind,
        version=version,
        summary=summary,
        settings=[s.info() for s in settings],
    )
