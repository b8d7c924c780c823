use std::sync::Arc;

use arrow::array::{Array, AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, TimestampMicrosecondType};

use super::*;
use crate::workflow::{
    ColumnRule, ColumnType, Condition, FilterOp, SchemaMapping, StepKind, TimestampColumn,
};

fn step(schema: SchemaMapping) -> ValidateStep {
    ValidateStep {
        name: "check".into(),
        kind: StepKind::Validate,
        input: "import".into(),
        schema,
        columns: Default::default(),
        filter: Vec::new(),
        input_schema: Default::default(),
        mappings: Vec::new(),
        rollup: None,
        sql: None,
    }
}

/// A step of Polaris-style mappings over `input()`'s `id`, `ts` and `score`.
fn mapped_step(mappings: &[(&str, &str)]) -> ValidateStep {
    let mut step = step(SchemaMapping::default());
    step.input_schema = [
        ("id", ColumnType::Int64),
        ("ts", ColumnType::Utf8),
        ("score", ColumnType::Float64),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_owned(), t))
    .collect();
    step.mappings = mappings
        .iter()
        .map(|(column, expression)| crate::workflow::ColumnMapping {
            column: (*column).into(),
            expression: (*expression).into(),
            aggregation: false,
        })
        .collect();
    step
}

#[tokio::test]
async fn a_rollup_floors_time_and_aggregates_what_its_mappings_name() {
    let mut step = mapped_step(&[
        ("__time", r#"TIME_PARSE("ts")"#),
        ("longest", r#"MAX("id")"#),
        ("n", "COUNT(*)"),
    ]);
    step.mappings[1].aggregation = true;
    step.mappings[2].aggregation = true;
    step.rollup = Some(crate::workflow::Rollup {
        granularity: "day".into(),
    });
    let mapping = Mapping::new(&step).unwrap();
    let rollup = mapping.rollup().expect("the mappings aggregate").clone();
    assert_eq!(rollup.dimensions(), ["__time"]);
    // "yesterday" has no time: its row is skipped by error, as in any mapping.
    let out = mapping.apply(&input(), None).unwrap();
    assert_eq!(out.skipped_by_error, 1);
    let grouped = rollup.aggregate(&[out.batch]).await.unwrap();
    assert_eq!(grouped.num_rows(), 1, "one day, one group");
    let day = grouped.column(0).as_primitive::<TimestampMicrosecondType>();
    assert_eq!(day.value(0), 1_724_025_600_000_000, "2024-08-19T00:00:00Z");
    assert_eq!(grouped.column(1).as_primitive::<Int64Type>().value(0), 4);
    assert_eq!(grouped.column(2).as_primitive::<Int64Type>().value(0), 3);
}

fn expression_errors(mappings: &[(&str, &str)]) -> Vec<String> {
    match Mapping::new(&mapped_step(mappings)) {
        Err(MappingError::Expressions(errors)) => errors.iter().map(|e| e.to_string()).collect(),
        other => panic!("expected expression errors, got {other:?}"),
    }
}

#[test]
fn mappings_make_exactly_their_columns_from_typed_input() {
    let mut step = mapped_step(&[
        ("__time", r#"TIME_PARSE("ts")"#),
        ("hour", r#"TIME_FLOOR(TIME_PARSE("ts"), 'PT1H')"#),
        ("pct", r#"ROUND("score" * 100)"#),
        (
            "band",
            r#"CASE WHEN "score" >= 0.5 THEN 'high' ELSE 'low' END"#,
        ),
        ("id", r#"COALESCE("id", -1)"#),
    ]);
    step.filter = vec![Condition {
        column: "band".into(),
        op: FilterOp::Eq,
        value: Some(toml::Value::String("high".into())),
    }];
    let mapping = Mapping::new(&step).unwrap();
    assert_eq!(mapping.input_columns().unwrap(), ["id", "score", "ts"]);
    let out = mapping.apply(&input(), None).unwrap();
    let names: Vec<&str> = out
        .batch
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, ["__time", "hour", "pct", "band", "id"]);
    // Row 5: "yesterday" is no time, so `__time` refuses it; row 6: "high" is no float, so
    // `score` is null (a warning) and the band is low (filtered); row 3 is low too.
    assert_eq!(
        (out.rows_in, out.skipped_by_error, out.skipped_by_filter),
        (4, 1, 2)
    );
    assert_eq!(out.batch.num_rows(), 1);
    let error = out
        .diagnostics
        .iter()
        .find(|d| d.severity == Severity::Error)
        .unwrap();
    assert_eq!(
        (error.row, error.column.as_deref(), error.code.as_str()),
        (5, Some("__time"), "expression_failed")
    );
    let hour = out
        .batch
        .column(1)
        .as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
    assert_eq!(
        hour.value(0),
        1_724_061_600_000_000,
        "10:00 floored to the hour"
    );
    assert_eq!(
        out.batch.column(2).as_primitive::<Float64Type>().value(0),
        90.0
    );
}

#[test]
fn a_row_an_expression_fails_on_is_named_and_the_others_are_kept() {
    let mut step = mapped_step(&[("n", r#"CAST("ts" AS BIGINT)"#)]);
    step.input_schema.insert("ts".into(), ColumnType::Utf8);
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("ts", DataType::Utf8, true)])),
        vec![Arc::new(StringArray::from(vec!["1", "two", "3"]))],
    )
    .unwrap();
    let input = RowBatch {
        rows: vec![1, 2, 3],
        batch,
    };
    let out = Mapping::new(&step).unwrap().apply(&input, None).unwrap();
    assert_eq!(out.skipped_by_error, 1);
    assert_eq!(
        out.batch
            .column(0)
            .as_primitive::<arrow::datatypes::Int64Type>()
            .values(),
        &[1, 3]
    );
    let d = &out.diagnostics[0];
    assert_eq!((d.row, d.column.as_deref()), (2, Some("n")));
    assert!(
        d.message.contains("CAST(\"ts\" AS BIGINT)") && d.message.contains("two"),
        "{}",
        d.message
    );
}

#[test]
fn mapped_columns_take_the_table_s_types_and_order() {
    let mapping = Mapping::new(&mapped_step(&[("a", r#""id" * 2"#), ("b", r#"'x'"#)])).unwrap();
    let table = Arc::new(Schema::new(vec![
        Field::new("b", DataType::Utf8, true),
        Field::new("old", DataType::Utf8, true),
        Field::new("a", DataType::Float64, true),
    ]));
    let out = mapping.apply(&input(), Some(&table)).unwrap();
    assert_eq!(out.batch.schema(), table);
    assert_eq!(
        out.batch.column(2).as_primitive::<Float64Type>().value(0),
        2.0
    );
    assert_eq!(out.batch.column(1).null_count(), out.batch.num_rows());
}

#[test]
fn expression_errors_name_the_mapping_the_expression_and_the_place() {
    let errors = expression_errors(&[
        ("a", r#"TIME_PARSE("tss")"#),
        ("b", r#"TME_PARSE("ts")"#),
        ("c", r#"TIME_FLOOR("ts", 'PT1H')"#),
        ("d", r#""score" +"#),
        ("e", r#"MAX("score")"#),
        ("f", r#"TIME_FLOOR(TIME_PARSE("ts"), 'PT1Q')"#),
        ("g", r#""id" + 'x'"#),
        ("__time", r#""id""#),
    ]);
    let expect = [
        "mapping `a` (`TIME_PARSE(\"tss\")`), at column 13: unknown column `tss`, did you mean `\"ts\"`?",
        "mapping `b` (`TME_PARSE(\"ts\")`), at column 1: Invalid function 'tme_parse'. Did you mean 'time_parse'?",
        "the first argument must be a timestamp (TIME_PARSE makes one from a string), not Utf8",
        "mapping `d` (`\"score\" +`): not a SQL expression",
        "`MAX` is an aggregation",
        "`PT1Q` is not a period",
        "Cannot coerce arithmetic expression Int64 + Utf8",
        "`__time` must be a timestamp, and this is Int64",
    ];
    assert_eq!(errors.len(), expect.len(), "{errors:#?}");
    for (error, want) in errors.iter().zip(expect) {
        assert!(error.contains(want), "{error}\n  does not say: {want}");
    }
}

fn input() -> RowBatch {
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("ts", DataType::Utf8, true),
        Field::new("score", DataType::Utf8, true),
        Field::new("feature_age", DataType::Int64, true),
        Field::new("tag/env", DataType::Utf8, true),
        Field::new("ignored", DataType::Utf8, true),
    ]);
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Int64Array::from(vec![Some(1), None, Some(3), Some(4)])),
            Arc::new(StringArray::from(vec![
                "2024-08-19T10:00:00Z",
                "2024-08-19T10:00:00Z",
                "yesterday",
                "2024-08-19T11:00:00Z",
            ])),
            Arc::new(StringArray::from(vec!["0.9", "0.1", "0.5", "high"])),
            Arc::new(Int64Array::from(vec![30, 40, 50, 60])),
            Arc::new(StringArray::from(vec!["prod", "prod", "dev", "prod"])),
            Arc::new(StringArray::from(vec!["a", "b", "c", "d"])),
        ],
    )
    .unwrap();
    RowBatch {
        rows: vec![2, 3, 5, 6],
        batch,
    }
}

fn mapping() -> Mapping {
    Mapping::new(&step(SchemaMapping {
        prediction_id: Some("id".into()),
        timestamp: Some(TimestampColumn::Name("ts".into())),
        prediction_score: Some("score".into()),
        feature_prefix: Some("feature_".into()),
        tag_prefix: Some("tag/".into()),
        ..Default::default()
    }))
    .unwrap()
}

#[test]
fn roles_are_typed_renamed_and_bad_rows_named() {
    let out = mapping().apply(&input(), None).unwrap();
    let names: Vec<_> = out
        .batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "prediction_id",
            "timestamp",
            "prediction_score",
            "feature_age",
            "tag/env"
        ]
    );
    // Row 3 has no id, row 5 a bad timestamp: both skipped. Row 6's score is optional: kept as null.
    assert_eq!(out.skipped_by_error, 2);
    assert_eq!(out.rows_with_warning, 1);
    assert_eq!(out.batch.num_rows(), 2);
    let ids = out.batch.column(0).as_string::<i32>();
    assert_eq!((ids.value(0), ids.value(1)), ("1", "4"));
    let scores = out.batch.column(2).as_primitive::<Float64Type>();
    assert_eq!(scores.value(0), 0.9);
    assert!(scores.is_null(1));
    let by_row: Vec<(u64, &str, &str)> = out
        .diagnostics
        .iter()
        .map(|d| (d.row, d.code.as_str(), d.column.as_deref().unwrap()))
        .collect();
    assert!(
        by_row.contains(&(3, "missing_required", "id")),
        "{by_row:?}"
    );
    assert!(
        by_row.contains(&(5, "invalid_timestamp", "ts")),
        "{by_row:?}"
    );
    assert!(
        by_row.contains(&(6, "invalid_value", "score")),
        "{by_row:?}"
    );
}

#[test]
fn filter_skips_rows_without_counting_them_as_errors() {
    let mut s = step(SchemaMapping {
        prediction_id: Some("id".into()),
        prediction_score: Some("score".into()),
        tag_prefix: Some("tag/".into()),
        ..Default::default()
    });
    s.filter = vec![Condition {
        column: "tag/env".into(),
        op: FilterOp::Eq,
        value: Some(toml::Value::String("prod".into())),
    }];
    let out = Mapping::new(&s).unwrap().apply(&input(), None).unwrap();
    assert_eq!(out.skipped_by_error, 1);
    assert_eq!(out.skipped_by_filter, 1);
    assert_eq!(out.batch.num_rows(), 2);
}

#[test]
fn batches_line_up_with_the_table_schema() {
    let table = Arc::new(Schema::new(vec![
        Field::new("prediction_id", DataType::Utf8, true),
        Field::new("extra", DataType::Float64, true),
        Field::new("timestamp", data_type(&ColumnType::Timestamp), true),
        Field::new("prediction_score", DataType::Float64, true),
        Field::new("feature_age", DataType::Float64, true),
        Field::new("tag/env", DataType::Utf8, true),
    ]));
    let out = mapping().apply(&input(), Some(&table)).unwrap();
    assert_eq!(out.batch.schema().fields().len(), 6);
    assert_eq!(out.batch.schema().field(1).name(), "extra");
    assert!(out.batch.column(1).is_null(0));
    let ages = out
        .batch
        .column(4)
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    assert_eq!(ages.value(0), 30.0);
}

#[test]
fn declared_required_columns_must_be_present() {
    let mut s = step(SchemaMapping {
        prediction_id: Some("id".into()),
        prediction_score: Some("score".into()),
        ..Default::default()
    });
    s.columns.insert(
        "region".into(),
        ColumnRule {
            ty: ColumnType::Utf8,
            required: true,
        },
    );
    let out = Mapping::new(&s).unwrap().apply(&input(), None).unwrap();
    assert_eq!(out.batch.num_rows(), 0);
    assert!(
        out.diagnostics
            .iter()
            .all(|d| d.code == "missing_column" || d.code == "missing_required")
    );
}

#[test]
fn identity_keeps_every_column() {
    let out = Mapping::identity().apply(&input(), None).unwrap();
    assert_eq!(out.batch.num_columns(), 6);
    assert_eq!(out.batch.num_rows(), 4);
}

#[test]
fn wide_batches_line_up_with_the_table_by_name() {
    // 5 000 columns `c0`…: the table has them in reverse order, one more of its own first, and
    // `c7` as float64; it lacks `c0`, which comes out last.
    let width = 5_000;
    let fields: Vec<Field> = (0..width)
        .map(|i| Field::new(format!("c{i}"), DataType::Int64, true))
        .collect();
    let arrays: Vec<ArrayRef> = (0..width)
        .map(|i| Arc::new(Int64Array::from(vec![i as i64])) as ArrayRef)
        .collect();
    let input = RowBatch {
        rows: vec![1],
        batch: RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap(),
    };
    let mut table_fields = vec![Field::new("t_only", DataType::Utf8, true)];
    table_fields.extend((1..width).rev().map(|i| {
        let ty = if i == 7 {
            DataType::Float64
        } else {
            DataType::Int64
        };
        Field::new(format!("c{i}"), ty, true)
    }));
    let table = Arc::new(Schema::new(table_fields));

    let out = Mapping::identity().apply(&input, Some(&table)).unwrap();
    let schema = out.batch.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let expected: Vec<String> = std::iter::once("t_only".to_owned())
        .chain((1..width).rev().map(|i| format!("c{i}")))
        .chain(["c0".to_owned()])
        .collect();
    assert_eq!(names, expected);
    assert!(out.batch.column(0).is_null(0));
    let c7 = out.batch.column_by_name("c7").unwrap();
    assert_eq!(c7.as_primitive::<Float64Type>().value(0), 7.0);
    let c0 = out
        .batch
        .column(width)
        .as_primitive::<arrow::datatypes::Int64Type>();
    assert_eq!(c0.value(0), 0);
    let c4999 = out
        .batch
        .column(1)
        .as_primitive::<arrow::datatypes::Int64Type>();
    assert_eq!(c4999.value(0), 4_999);
}

#[test]
fn embedding_features_are_structs_of_one_dimension_and_typed_columns_parse() {
    use arrow::array::{Float32Array, Float64Builder, ListBuilder};
    let mut vectors = ListBuilder::new(Float64Builder::new());
    vectors.append_value([Some(0.5), Some(1.0)]);
    vectors.append_value([Some(2.0), Some(3.0), Some(4.0)]);
    vectors.append_null();
    vectors.append_value([Some(5.0), Some(6.0)]);
    let vectors = vectors.finish();
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("vec", vectors.data_type().clone(), true),
        Field::new("text", DataType::Utf8, true),
        Field::new("amount", DataType::Utf8, true),
    ]);
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
            Arc::new(vectors),
            Arc::new(StringArray::from(vec!["a", "b", "c", "d"])),
            Arc::new(StringArray::from(vec!["1.25", "2", "x", "123456.789"])),
        ],
    )
    .unwrap();
    let mut schema = SchemaMapping {
        prediction_id: Some("id".into()),
        ..Default::default()
    };
    schema.embedding_features.insert(
        "text_embedding".into(),
        crate::workflow::EmbeddingFeature {
            vector: "vec".into(),
            data: Some("text".into()),
            link_to_data: None,
            dimension: None,
        },
    );
    let mut step = step(schema);
    step.columns.insert(
        "amount".into(),
        ColumnRule {
            ty: "decimal(6,2)".parse().unwrap(),
            required: false,
        },
    );
    let mapping = Mapping::new(&step).unwrap();
    assert_eq!(
        mapping.input_columns().unwrap(),
        ["amount", "id", "text", "vec"]
    );
    let out = mapping
        .apply(
            &RowBatch {
                rows: vec![1, 2, 3, 4],
                batch,
            },
            None,
        )
        .unwrap();
    // Row 2 has a vector of 3 values where the first had 2: skipped, naming the feature.
    assert_eq!(out.skipped_by_error, 1);
    let error = &out.diagnostics[0];
    assert_eq!((error.row, error.code.as_str()), (2, "embedding_dimension"));
    assert!(
        error.message.contains("`text_embedding`"),
        "{}",
        error.message
    );
    // `x` and a value too wide for decimal(6,2) are nulled with a warning each.
    assert_eq!(out.rows_with_warning, 2);
    let stored = out
        .batch
        .column_by_name("text_embedding")
        .unwrap()
        .as_struct();
    assert_eq!(stored.len(), 3);
    assert!(stored.is_null(1));
    let first = stored.column(0).as_list::<i32>().value(0);
    assert_eq!(
        first
            .as_any()
            .downcast_ref::<Float32Array>()
            .unwrap()
            .values(),
        &[0.5, 1.0]
    );
    assert_eq!(stored.column(1).as_string::<i32>().value(2), "d");
    let amount = out.batch.column_by_name("amount").unwrap();
    assert_eq!(amount.data_type(), &DataType::Decimal128(6, 2));
    assert_eq!(amount.null_count(), 2);
    assert!("decimal(40,2)".parse::<ColumnType>().is_err());
    assert_eq!(
        "list<float32>".parse::<ColumnType>().unwrap().to_string(),
        "float32[]"
    );
}
