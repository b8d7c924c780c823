import unittest

from ferry_guest import InvalidValue, Kind, TextBatch, types
from ferry_guest.columns import read_columns


class TextBatchTest(unittest.TestCase):
    def test_columns_are_typed_per_batch(self):
        b = TextBatch(2, columns=["n", "s"])
        b.push_row(1, ("1", "x"))
        b.push_row(3, ("", ""))
        self.assertTrue(b.is_full())
        first = b.take()
        self.assertEqual(first.row_numbers, [1, 3])
        self.assertEqual(first.columns[0].values, types.ColumnValues_Int64([1, 0]))
        self.assertEqual(first.columns[0].validity, bytes([0b01]))
        self.assertEqual(first.columns[1].values, types.ColumnValues_Utf8(types.ByteBuffer([0, 1, 1], b"x")))
        b.push_row(4, ("2.5", "TRUE"))
        second = b.take()
        self.assertEqual(second.columns[0].values, types.ColumnValues_Float64([2.5]))
        self.assertEqual(second.columns[1].values, types.ColumnValues_Boolean([True]))
        self.assertIsNone(b.take())

    def test_declared_columns_reject_rows_that_do_not_convert(self):
        b = TextBatch(10, declared=[("score", Kind.FLOAT64), ("id", Kind.UTF8)], columns=["id", "score"])
        b.push_row(1, ["7", "0.5"])
        with self.assertRaises(InvalidValue) as e:
            b.push_row(2, ["8", "high"])
        self.assertEqual(e.exception.column, "score")
        d = e.exception.diagnostic(2, 3)
        self.assertEqual((d.row, d.line, d.code, d.effect), (2, 3, "invalid_value", types.Effect.ROW_SKIPPED))
        self.assertEqual(d.column, "score")
        self.assertEqual(d.message, "`high` is not a valid float64")
        b.push_row(3, ["9", ""])
        batch = b.take()
        self.assertEqual(batch.row_numbers, [1, 3])
        self.assertEqual(batch.columns[0].values.value.bytes, b"79")
        self.assertEqual(batch.columns[1].values, types.ColumnValues_Float64([0.5, 0.0]))
        self.assertEqual(batch.columns[1].validity, bytes([0b01]))

    def test_declared_dates_and_decimals_are_typed_exactly(self):
        b = TextBatch(10, declared={"price": Kind.from_name("decimal(5,2)"), "day": Kind.DATE32})
        b.push_named(1, {"price": "123.45", "day": "2024-08-19"})
        with self.assertRaises(InvalidValue) as e:
            b.push_named(2, {"price": "1234.5", "day": "2024-08-19"})
        self.assertEqual(e.exception.message, "`1234.5` is not a valid decimal(5,2): more than 3 digits before the point")
        b.push_named(3, [("price", ""), ("day", "1970-01-01")])
        cols = read_columns(b.take())
        self.assertEqual(cols, {"price": [12345, None], "day": [19_954, 0]})

    def test_named_values_add_columns_as_they_come(self):
        b = TextBatch(10)
        b.push_named(1, {"a": "1"})
        b.push_named(2, [("b", "x"), ("a", "2"), ("b", "y")])
        self.assertEqual(b.names, ["a", "b"])
        batch = b.take()
        self.assertEqual(batch.columns[0].values, types.ColumnValues_Int64([1, 2]))
        self.assertEqual(batch.columns[1].validity, bytes([0b10]))
        self.assertEqual(read_columns(batch)["b"], [None, "y"], "the last value of a name counts")
        b.push_named(3, {"c": "true"})
        self.assertEqual(read_columns(b.take()), {"a": [None], "b": [None], "c": [True]}, "columns stay registered")

    def test_short_positional_rows_are_null_past_their_end(self):
        b = TextBatch(10, columns=["a", "b"])
        b.push_row(1, ["1"])
        b.push_row(2, ["2", "z"])
        self.assertEqual(read_columns(b.take()), {"a": [1, 2], "b": [None, "z"]})
        with self.assertRaises(ValueError):
            b.push_row(3, ["1", "2", "3"])

    def test_mixed_rows(self):
        b = TextBatch(10, columns=["a"])
        b.push_row(1, ["1"])
        b.push_named(2, {"b": "x", "a": "2"})
        self.assertEqual(read_columns(b.take()), {"a": [1, 2], "b": [None, "x"]})


if __name__ == "__main__":
    unittest.main()


class BulkTest(unittest.TestCase):
    def test_many_rows_at_once_refuse_the_bad_ones(self):
        b = TextBatch(3, declared={"score": Kind.FLOAT64, "n": Kind.INT64}, columns=["name", "score", "n"])
        rows = [("a", "1.5", "1"), ("b", "x", "y"), ("c", "", "2"), ("d", "2", "z"), ("e", "3", "3"), ("f", "4")]
        refused = b.push_rows([1, 2, 3, 5, 6, 7], rows)
        self.assertEqual([(j, e.column, e.message) for j, e in refused],
                         [(1, "score", "`x` is not a valid float64"), (3, "n", "`z` is not a valid int64")])
        self.assertEqual(len(b), 4)
        self.assertTrue(b.is_full())
        first = b.take()
        self.assertEqual(first.row_numbers, [1, 3, 6])
        self.assertEqual(read_columns(first), {"name": ["a", "c", "e"], "score": [1.5, None, 3.0], "n": [1, 2, 3]})
        self.assertFalse(b.is_full())
        second = b.take()
        self.assertEqual((second.row_numbers, read_columns(second)["n"]), ([7], [None]))
        self.assertIsNone(b.take())

    def test_bulk_and_single_rows_agree(self):
        rows = [(f"n{i}", "bad" if i % 7 == 0 else str(i / 4)) for i in range(50)]
        bulk = TextBatch(100, declared={"score": Kind.FLOAT64}, columns=["name", "score"])
        refused = [j for j, _ in bulk.push_rows(list(range(1, 51)), rows)]
        single = TextBatch(100, declared={"score": Kind.FLOAT64}, columns=["name", "score"])
        rejected = []
        for j, r in enumerate(rows):
            try:
                single.push_row(j + 1, r)
            except InvalidValue:
                rejected.append(j)
        self.assertEqual(refused, rejected)
        self.assertEqual(bulk.take(), single.take())

    def test_a_partial_take_keeps_named_rows_right(self):
        b = TextBatch(2)
        for i in range(3):
            b.push_named(i + 1, {"a": str(i)})
        b.batch_size = 2
        self.assertEqual(read_columns(b.take()), {"a": [0, 1]})
        self.assertEqual(read_columns(b.take()), {"a": [2]})
