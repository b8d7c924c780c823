import unittest

from ferry_guest import DecoderState, Err, PluginError, guard, output, skip, null_value, warning, types
from ferry_guest.diagnostics import RowError
from ferry_guest.testing import fake_host


def divide(a, b):
    return a / b  # the line the message names


class GuardTest(unittest.TestCase):
    def test_any_exception_becomes_plugin_raised_with_the_last_traceback_line(self):
        logs = []
        with fake_host(logs=logs):
            with self.assertRaises(Err) as e:
                guard(lambda: divide(1, 0))()
        error = e.exception.value
        self.assertIsInstance(error, types.Error)
        self.assertEqual(error.code, "plugin_raised")
        self.assertEqual(error.message, "ZeroDivisionError: division by zero (test_errors.py:9)")
        self.assertIsNone(error.row)
        self.assertIn("Traceback (most recent call last)", logs[0][1])

    def test_plugin_errors_keep_their_code(self):
        @guard
        def fails():
            raise PluginError("bad_thing", "it is bad", row=3)

        with self.assertRaises(Err) as e:
            fails()
        self.assertEqual(e.exception.value, types.Error("bad_thing", "it is bad", 3))

    def test_err_passes_through_and_results_too(self):
        err = Err(types.Error("x", "y", None))

        @guard
        def raises():
            raise err

        with self.assertRaises(Err) as e:
            raises()
        self.assertIs(e.exception, err)
        self.assertEqual(guard(lambda: 5)(), 5)

    def test_a_guarded_class_guards_every_public_method(self):
        @guard
        class Decoder:
            @classmethod
            def open(cls, key):
                if key == "bad":
                    raise ValueError("no such key")
                return cls()

            @staticmethod
            def helper():
                raise KeyError("k")

            def push(self, chunk):
                return len(chunk) // 0

            def _private(self):
                raise ValueError("not guarded")

        self.assertIsInstance(Decoder.open("ok"), Decoder)
        with self.assertRaises(Err) as e:
            Decoder.open("bad")
        self.assertTrue(e.exception.value.message.startswith("ValueError: no such key (test_errors.py:"))
        with self.assertRaises(Err) as e:
            Decoder.helper()
        self.assertTrue(e.exception.value.message.startswith("KeyError: 'k' (test_errors.py:"))
        with self.assertRaises(Err):
            Decoder().push(b"x")
        with self.assertRaises(ValueError):
            Decoder()._private()


class Count:
    def __init__(self):
        self.n = 0

    def push(self, chunk):
        if chunk.startswith(b"!"):
            raise PluginError("bad_chunk", "a chunk starts with !")
        self.n += len(chunk)
        return output()

    def finish(self):
        return output(diagnostics=[warning(0, "count", str(self.n))])


class DecoderStateTest(unittest.TestCase):
    def test_chunks_then_one_finish(self):
        d = DecoderState(Count())
        d.push(b"abc")
        d.push(b"de")
        self.assertEqual(d.finish().diagnostics[0].message, "5")
        with self.assertRaises(Err) as e:
            d.push(b"x")
        self.assertEqual(e.exception.value.code, "decoder_finished")
        with self.assertRaises(Err):
            d.finish()

    def test_a_failed_call_sticks(self):
        d = DecoderState(Count())
        with self.assertRaises(PluginError):
            d.push(b"!")
        with self.assertRaises(Err) as e:
            d.push(b"fine")
        self.assertEqual(e.exception.value.code, "bad_chunk")
        with self.assertRaises(Err) as e:
            d.finish()
        self.assertEqual(e.exception.value.code, "bad_chunk")


class DiagnosticsTest(unittest.TestCase):
    def test_effects(self):
        E = types.Effect
        self.assertEqual(skip(2, "bad_line", "m", line=3), types.Diagnostic(2, 3, None, "bad_line", "m", E.ROW_SKIPPED))
        self.assertEqual(null_value(2, "score", "bad_score", "m"), types.Diagnostic(2, None, "score", "bad_score", "m", E.VALUE_NULLED))
        self.assertEqual(warning(0, "made_up_name", "m").effect, E.WARNING)
        self.assertEqual(RowError("c", "m", column="x").diagnostic(4, 5), types.Diagnostic(4, 5, "x", "c", "m", E.ROW_SKIPPED))


if __name__ == "__main__":
    unittest.main()
