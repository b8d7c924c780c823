import unittest

from ferry_guest.typing import ConvertError, Kind, convert, convert_all, infer, parse_date, parse_timestamp


class InferTest(unittest.TestCase):
    def test_infers_the_narrowest_kind(self):
        self.assertEqual(infer(["1", "", "-3", " 4 "]), Kind.INT64)
        self.assertEqual(infer(["1", "2.5", "1e3"]), Kind.FLOAT64)
        self.assertEqual(infer(["9223372036854775808"]), Kind.FLOAT64, "past i64::MAX")
        self.assertEqual(infer(["true", "FALSE", "", "True"]), Kind.BOOLEAN)
        self.assertEqual(infer(["1", "x"]), Kind.UTF8)
        self.assertEqual(infer(["true", "1"]), Kind.UTF8)
        self.assertEqual(infer(["", ""]), Kind.UTF8)
        self.assertEqual(infer([]), Kind.UTF8)
        self.assertEqual(infer([" "]), Kind.UTF8, "whitespace is a string, not a null")

    def test_only_what_rust_parses_is_a_number(self):
        self.assertEqual(infer(["1_000"]), Kind.UTF8, "Python's int() takes underscores")
        self.assertEqual(infer(["١٢"]), Kind.UTF8, "and other scripts' digits")
        self.assertEqual(infer(["\u00a012"]), Kind.UTF8, "and non-ASCII spaces")
        self.assertEqual(infer(["\x0b12"]), Kind.UTF8, "and a vertical tab")
        self.assertEqual(infer(["+5", "-0", "007"]), Kind.INT64)
        self.assertEqual(infer(["NaN", "inf", "-Infinity", ".5", "5."]), Kind.FLOAT64)
        self.assertEqual(infer(["1_0.5"]), Kind.UTF8)

    def test_every_inferred_value_converts(self):
        for run in (["1", "", " 2"], ["1", "0.5", "NaN"], ["TRUE", "false"], ["a", "1", ""]):
            kind = infer(run)
            for text in run:
                convert(kind, text)

    def test_only_the_original_kinds_are_inferred(self):
        self.assertEqual(infer(["2024-08-19", "2024-08-20"]), Kind.UTF8)
        self.assertEqual(infer(["2024-08-19T10:11:12Z"]), Kind.UTF8)
        self.assertEqual(infer(["1.25"]), Kind.FLOAT64)


class ConvertTest(unittest.TestCase):
    def test_converts_with_nulls_and_keeps_strings_as_written(self):
        self.assertEqual(convert(Kind.FLOAT64, "0.5"), 0.5)
        self.assertEqual(convert(Kind.INT64, " 42 "), 42)
        self.assertIs(convert(Kind.BOOLEAN, "False"), False)
        self.assertIsNone(convert(Kind.INT64, ""))
        self.assertIsNone(convert(Kind.UTF8, ""))
        self.assertEqual(convert(Kind.UTF8, " a "), " a ")

    def test_conversion_errors_name_value_and_type(self):
        with self.assertRaises(ConvertError) as e:
            convert(Kind.INT64, "1.5")
        self.assertEqual(str(e.exception), "`1.5` is not a valid int64")
        with self.assertRaises(ConvertError) as e:
            convert(Kind.BOOLEAN, "yes")
        self.assertEqual(str(e.exception), "`yes` is not a valid boolean")
        with self.assertRaises(ConvertError) as e:
            convert_all(Kind.INT64, ["1", "2", "x"])
        self.assertEqual(e.exception.index, 2)

    def test_declared_names(self):
        for name in ["utf8", "string", "boolean", "int32", "int64", "float32", "float64", "date", "date32", "timestamp"]:
            kind = Kind.from_name(name)
            self.assertIsNotNone(kind, name)
            self.assertEqual(Kind.from_name(str(kind)), kind)
        self.assertEqual(Kind.from_name("decimal(10,2)"), Kind.decimal(10, 2))
        self.assertEqual(str(Kind.from_name("decimal( 38 , 0 )")), "decimal(38,0)")
        self.assertEqual(Kind.from_name("decimal(5)"), Kind.decimal(5, 0))
        for bad in ["float", "decimal(40,2)", "decimal(0,0)", "decimal(4,5)", "decimal(10,2,1)"]:
            self.assertIsNone(Kind.from_name(bad), bad)

    def test_declared_kinds_read_their_values_strictly(self):
        self.assertEqual(convert(Kind.INT32, " -7 "), -7)
        with self.assertRaises(ConvertError):
            convert(Kind.INT32, "2147483648")
        self.assertEqual(convert(Kind.FLOAT32, "0.5"), 0.5)
        self.assertEqual(convert(Kind.FLOAT32, "-inf"), float("-inf"))
        with self.assertRaises(ConvertError) as e:
            convert(Kind.FLOAT32, "1e39")
        self.assertEqual(str(e.exception), "`1e39` is not a valid float32: out of float32's range")
        self.assertEqual(convert(Kind.DATE32, "1970-01-02"), 1)
        with self.assertRaises(ConvertError) as e:
            convert(Kind.DATE32, "02/01/1970")
        self.assertEqual(str(e.exception), "`02/01/1970` is not a valid date32: expected a date such as 2024-08-19")
        self.assertEqual(convert(Kind.TIMESTAMP, "1970-01-01T00:00:01+00:00"), 1_000_000)
        with self.assertRaises(ConvertError):
            convert(Kind.TIMESTAMP, "1970-01-01 00:00:01")
        money = Kind.decimal(10, 2)
        self.assertEqual(convert(money, " 12.5 "), 1250)
        self.assertIsNone(convert(money, ""))
        with self.assertRaises(ConvertError) as e:
            convert(money, "123456789")
        self.assertEqual(str(e.exception), "`123456789` is not a valid decimal(10,2): more than 8 digits before the point")

    def test_decimals_are_read_exactly(self):
        money = Kind.decimal(10, 2)
        for text, value in [("12.30", 1230), ("12.3", 1230), ("-0.07", -7), ("+5", 500), (".5", 50), ("5.", 500),
                            ("007.10", 710), ("12.3400", 1234), ("-0", 0), ("99999999.99", 9_999_999_999)]:
            self.assertEqual(convert(money, text), value, text)
        self.assertEqual(convert(Kind.decimal(20, 17), "0.3"), 30_000_000_000_000_000)
        for bad, why in [("1.234", "more than 2 digits after the point"), (".", "not a decimal number"), ("1e3", "not a decimal number")]:
            with self.assertRaises(ConvertError) as e:
                convert(money, bad)
            self.assertEqual(e.exception.reason, why)

    def test_dates(self):
        self.assertEqual(parse_date("1970-01-01"), 0)
        self.assertEqual(parse_date("2024-02-29"), 19_782)
        self.assertEqual(parse_date("1969-12-31"), -1)
        self.assertEqual(parse_date("0000-01-01"), -719_528)
        for bad in ["2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "2024-1-05", "24-01-05", "2024/01/05",
                    "2024-01-05T00:00:00Z", "+2024-01-05", ""]:
            self.assertIsNone(parse_date(bad), bad)

    def test_instants_are_utc_microseconds(self):
        noon = 1_724_061_600 * 1_000_000
        for text, micros in [
            ("2024-08-19T10:00:00Z", noon), ("2024-08-19t10:00:00z", noon), ("2024-08-19 10:00:00Z", noon),
            ("2024-08-19T12:00:00+02:00", noon), ("2024-08-19T05:30:00-04:30", noon),
            ("2024-08-19T10:00:00.5Z", noon + 500_000), ("2024-08-19T10:00:00.000001Z", noon + 1),
            ("2024-08-19T10:00:00.123456789Z", noon + 123_456), ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31T23:59:59.999999Z", -1),
        ]:
            self.assertEqual(parse_timestamp(text), micros, text)
        for bad in ["2024-08-19T10:00:00", "2024-08-19", "2024-08-19T10:00Z", "2024-08-19T24:00:00Z",
                    "2024-08-19T10:60:00Z", "2024-08-19T10:00:60Z", "2024-02-30T10:00:00Z", "2024-08-19T10:00:00.Z",
                    "2024-08-19T10:00:00.1234567890Z", "2024-08-19T10:00:00+0200", "2024-08-19T10:00:00+24:00",
                    "2024-08-19T10:00:00Z ", "2024-08-19X10:00:00Z", "1724061600"]:
            self.assertIsNone(parse_timestamp(bad), bad)


if __name__ == "__main__":
    unittest.main()
