import datetime
import unittest

from ferry_guest import columns as c
from ferry_guest import types
from ferry_guest.typing import Kind


class BuildTest(unittest.TestCase):
    def test_validity_is_lsb_first_and_absent_without_nulls(self):
        values = [None if i in (1, 9) else i for i in range(10)]
        col = c.int64("n", values)
        self.assertEqual(col.validity, bytes([0b1111_1101, 0b0000_0001]))
        self.assertEqual(col.values, types.ColumnValues_Int64([0, 0, 2, 3, 4, 5, 6, 7, 8, 0]))
        self.assertIsNone(c.float64("f", [float(i) for i in range(9)]).validity)
        self.assertIsNone(c.boolean("e", []).validity)
        self.assertIsInstance(col.validity, bytes, "componentize-py lowers list<u8> from bytes only")
        self.assertIs(type(col.values.value), list, "and other lists from list only")

    def test_a_full_byte_of_nulls_then_a_value(self):
        col = c.boolean("b", [None] * 8 + [True])
        self.assertEqual(col.validity, bytes([0, 1]))
        self.assertEqual(col.values.value, [False] * 8 + [True])

    def test_strings_get_arrow_offsets(self):
        col = c.utf8("s", ["ab", None, "é", ""])
        self.assertEqual(col.validity, bytes([0b1101]))
        self.assertEqual(col.values, types.ColumnValues_Utf8(types.ByteBuffer([0, 2, 2, 4, 4], "abé".encode())))
        ascii_col = c.utf8("s", ["ab", "c"])
        self.assertEqual(ascii_col.values.value, types.ByteBuffer([0, 2, 3], b"abc"))
        self.assertIsInstance(ascii_col.values.value.bytes, bytes)

    def test_an_empty_string_column_has_one_offset(self):
        self.assertEqual(c.utf8("s", []).values, types.ColumnValues_Utf8(types.ByteBuffer([0], b"")))

    def test_binary_values(self):
        col = c.binary("b", [b"\x00\xff", None, b"x"])
        self.assertEqual(col.values, types.ColumnValues_Binary(types.ByteBuffer([0, 2, 2, 3], b"\x00\xffx")))
        self.assertEqual(col.validity, bytes([0b101]))

    def test_dates_timestamps_and_decimals_get_their_arrow_types(self):
        col = c.date32("d", [19_782, None, datetime.date(1970, 1, 2)])
        self.assertEqual(col.values, types.ColumnValues_Date32([19_782, 0, 1]))
        self.assertEqual(col.validity, bytes([0b101]))
        ts = c.timestamp("t", [-1, datetime.datetime(1970, 1, 1, 0, 0, 1, tzinfo=datetime.timezone.utc)])
        self.assertEqual(
            ts.values,
            types.ColumnValues_Timestamp(types.TimestampValues(types.TimeUnit.MICROSECOND, "UTC", [-1, 1_000_000])),
        )
        wall = c.timestamp("t", [datetime.datetime(1970, 1, 1, 0, 0, 2)], unit="ms", timezone=None)
        self.assertEqual(wall.values.value, types.TimestampValues(types.TimeUnit.MILLISECOND, None, [2000]))
        money = c.decimal128("price", [1230, None, -1], 10, 2)
        expected = (1230).to_bytes(16, "little") + bytes(16) + b"\xff" * 16
        self.assertEqual(money.values, types.ColumnValues_Decimal128(types.DecimalValues(10, 2, expected)))

    def test_builders_by_kind(self):
        b = c.ColumnBuilder("i", Kind.INT32)
        b.push(-5)
        b.push_null()
        self.assertEqual(len(b), 2)
        col = b.finish()
        self.assertEqual((col.values, col.validity), (types.ColumnValues_Int32([-5, 0]), bytes([1])))
        self.assertEqual(c.column("f", Kind.FLOAT32, [0.5]).values, types.ColumnValues_Float32([0.5]))
        self.assertIsInstance(c.column("p", Kind.decimal(5, 2), [1]).values, types.ColumnValues_Decimal128)

    def test_batches_count_their_rows(self):
        b = c.batch([3, 5], [c.int64("n", [7, 8])])
        self.assertEqual((b.num_rows, b.row_numbers), (2, [3, 5]))
        with self.assertRaisesRegex(ValueError, "column `n` has 1 values for a batch of 2 rows"):
            c.batch([1, 2], [c.int64("n", [1])])

    def test_big_bitmaps(self):
        values = [None if i % 3 == 0 else i for i in range(10_001)]
        col = c.int64("n", values)
        flags = c.valid_flags(col.validity, len(values))
        self.assertEqual(flags, "".join("0" if v is None else "1" for v in values))
        self.assertEqual(len(col.validity), 1251)


class ReadTest(unittest.TestCase):
    def test_columns_read_back_by_name(self):
        b = c.batch(
            [1, 2, 3],
            [
                c.int64("tenure", [1, None, 60]),
                c.float64("monthly", [100.0, 50.0, 20.0]),
                c.utf8("name", ["a", "é", None]),
                c.boolean("ok", [True, False, None]),
                c.decimal128("price", [1230, -1, None], 10, 2),
            ],
        )
        cols = c.read_columns(b)
        self.assertEqual(cols["tenure"], [1, None, 60])
        self.assertEqual(cols["monthly"], [100.0, 50.0, 20.0])
        self.assertEqual(cols["name"], ["a", "é", None])
        self.assertEqual(cols["ok"], [True, False, None])
        self.assertEqual(cols["price"], [1230, -1, None])
        self.assertEqual(c.column_values(b, "name"), ["a", "é", None])
        with self.assertRaises(KeyError):
            c.column_values(b, "nope")
        self.assertEqual(c.rows(b)[0], {"tenure": 1, "monthly": 100.0, "name": "a", "ok": True, "price": 1230})
        self.assertEqual(c.kind_of(b.columns[0]), Kind.INT64)

    def test_nested_columns_become_lists_and_dicts(self):
        tags = c.list_column("tags", [0, 2, 2, 3], c.utf8("item", ["x", "y", "z"]), valid=[True, False, True])
        geo = c.struct_column("geo", [c.utf8("city", ["A", "B", "C"]), c.float64("lat", [1.0, 2.0, None])])
        emb = [types.Column("emb", None, types.ColumnValues_FixedSizeList(2)), c.float32("item", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])]
        b = c.batch([1, 2, 3], [c.int64("id", [1, 2, 3])] + tags + geo + emb)
        cols = c.read_columns(b)
        self.assertEqual(list(cols), ["id", "tags", "geo", "emb"])
        self.assertEqual(cols["tags"], [["x", "y"], None, ["z"]])
        self.assertEqual(cols["geo"][2], {"city": "C", "lat": None})
        self.assertEqual(cols["emb"], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        self.assertEqual(c.column_values(b, "id"), [1, 2, 3], "a struct's fields are no top-level columns")


if __name__ == "__main__":
    unittest.main()


class CheckTest(unittest.TestCase):
    """What would trap in componentize-py's lowering is a Python exception here instead."""

    def test_values_of_the_wrong_type_are_refused(self):
        with self.assertRaisesRegex(TypeError, "column `n`: float values in an integer column"):
            c.int64("n", [1, 2.0])
        with self.assertRaisesRegex(TypeError, "column `f`: str values in a float column"):
            c.float64("f", [1.0, "2"])
        with self.assertRaisesRegex(TypeError, "column `b`"):
            c.boolean("b", [True, 1])
        with self.assertRaisesRegex(OverflowError, "column `i`: a value is out of range"):
            c.int32("i", [2**31])
        with self.assertRaises(OverflowError):
            c.int64("i", [None, -(2**63) - 1])
        self.assertEqual(c.float64("f", [1, True, None]).values.value, [1, True, 0.0], "ints lower into f64")
        self.assertEqual(c.int64("i", [True]).values.value, [True], "bools into s64")
