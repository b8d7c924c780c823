"""The `parser` interface: componentize-py looks for its `decoder` resource as the class
`Decoder` of a module named after the interface, this one."""

from ferry_guest import DecoderState, Settings, guard
from wit_world.exports import parser

import {{module}} as plugin


class Decoder(parser.Decoder):
    """One object's decoding. `guard` makes any exception a WIT error (`plugin_raised`, the
    traceback's last line) instead of a trap."""

    @classmethod
    @guard
    def open(cls, object_key):
        # A bad setting fails here, before any byte is read.
        return cls(plugin.from_settings(Settings.load(plugin.SETTINGS)))

    def __init__(self, rows):
        self.state = DecoderState(rows)

    @guard
    def push(self, chunk):
        return self.state.push(chunk)

    @guard
    def finish(self):
        return self.state.finish()
