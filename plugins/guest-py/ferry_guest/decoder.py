"""What every streaming parser's `decoder` resource does around its format (as the Rust
`ferry_guest::DecoderState`): it is opened with the step's settings already checked, takes
chunks in order and finishes once; a call that fails leaves the decoder failed, so every
later call fails with the same error, and nothing is decoded after `finish`.

The format's part is any object with `push(chunk) -> Output` and `finish() -> Output`, free
of WIT calls so it is unit-tested on plain CPython; `DecoderState` wraps it for the resource:

    class Decoder(parser.Decoder):
        @classmethod
        @guard
        def open(cls, object_key):
            return cls(Rows(Settings.load(SETTINGS)))

        def __init__(self, rows):
            self.state = DecoderState(rows)

        @guard
        def push(self, chunk):
            return self.state.push(chunk)

        @guard
        def finish(self):
            return self.state.finish()
"""

from .errors import PluginError, as_error
from .wit import Err

FINISHED = "decoder_finished"


class DecoderState:
    def __init__(self, decoder):
        self.decoder = decoder
        self.failed = None  # the WIT error every later call fails with

    def _call(self, method, *args):
        if self.failed is not None:
            raise Err(self.failed)
        try:
            return method(*args)
        except BaseException as e:
            if isinstance(e, Exception):
                self.failed = as_error(e)
            raise

    def push(self, chunk):
        return self._call(self.decoder.push, chunk)

    def finish(self):
        try:
            return self._call(self.decoder.finish)
        finally:
            if self.failed is None:
                self.failed = PluginError(FINISHED, "the object was already finished").to_wit()
