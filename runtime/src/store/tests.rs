use super::*;
use crate::diagnostic::{RowDiagnostic, Severity};

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ferry.db")).await.unwrap();
    (dir, store)
}

fn new_job(workflow: &str) -> NewJob {
    NewJob {
        workflow: workflow.into(),
        workflow_path: "/w.toml".into(),
        workflow_text: "name = \"w\"".into(),
        table: "t".into(),
        source_id: String::new(),
    }
}

fn ok() -> Health {
    Health {
        status: HealthStatus::Ok,
        messages: vec![],
    }
}

#[tokio::test]
async fn pages_walk_every_job_once_newest_first() {
    let (_dir, store) = store().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(
            store
                .create_job(&new_job(if i % 2 == 0 { "even" } else { "odd" }))
                .await
                .unwrap()
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_jobs(&JobFilter::default(), 3, cursor.as_deref())
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|j| j.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);

    let odd = JobFilter {
        workflows: vec!["odd".into()],
        ..Default::default()
    };
    assert_eq!(
        store.list_jobs(&odd, 100, None).await.unwrap().items.len(),
        3
    );
    assert!(matches!(
        store.list_jobs(&odd, 1, Some("zz")).await,
        Err(StoreError::BadCursor)
    ));
}

#[tokio::test]
async fn status_and_time_filters_combine() {
    let (_dir, store) = store().await;
    let a = store.create_job(&new_job("w")).await.unwrap();
    let b = store.create_job(&new_job("w")).await.unwrap();
    store.mark_running(a.id, 1).await.unwrap();
    store
        .finish_job(a.id, ExecutionStatus::Success, &ok(), None)
        .await
        .unwrap();
    let success = JobFilter {
        statuses: vec![ExecutionStatus::Success],
        ..Default::default()
    };
    let page = store.list_jobs(&success, 10, None).await.unwrap();
    assert_eq!(
        page.items.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![a.id]
    );
    let either = JobFilter {
        statuses: vec![ExecutionStatus::Success, ExecutionStatus::Created],
        ..Default::default()
    };
    assert_eq!(
        store
            .list_jobs(&either, 10, None)
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    let future: Timestamp = "2999-01-01T00:00:00Z".parse().unwrap();
    let later = JobFilter {
        since: Some(future.clone()),
        ..Default::default()
    };
    assert!(
        store
            .list_jobs(&later, 10, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let before = JobFilter {
        until: Some(future),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_jobs(&before, 10, None)
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    let _ = b;
}

#[tokio::test]
async fn terminal_states_never_change() {
    let (_dir, store) = store().await;
    let job = store.create_job(&new_job("w")).await.unwrap();
    assert_eq!(job.execution_status, ExecutionStatus::Created);
    assert_eq!(job.desired_execution_status, DesiredStatus::Running);
    store.mark_running(job.id, 42).await.unwrap();
    store
        .finish_job(job.id, ExecutionStatus::Failed, &ok(), None)
        .await
        .unwrap();
    let again = store
        .finish_job(job.id, ExecutionStatus::Success, &ok(), None)
        .await;
    assert!(matches!(
        again,
        Err(StoreError::Terminal {
            status: ExecutionStatus::Failed,
            ..
        })
    ));
    assert!(matches!(
        store.request_cancel(job.id).await,
        Err(StoreError::Terminal { .. })
    ));
    assert!(matches!(
        store.mark_running(job.id, 1).await,
        Err(StoreError::Terminal { .. })
    ));
    assert_eq!(
        store.job(job.id).await.unwrap().execution_status,
        ExecutionStatus::Failed
    );
}

#[tokio::test]
async fn cancel_sets_the_desired_status_only() {
    let (_dir, store) = store().await;
    let job = store.create_job(&new_job("w")).await.unwrap();
    store.mark_running(job.id, 1).await.unwrap();
    let job = store.request_cancel(job.id).await.unwrap();
    assert_eq!(job.desired_execution_status, DesiredStatus::Canceled);
    assert_eq!(job.execution_status, ExecutionStatus::Running);
}

#[tokio::test]
async fn file_outcomes_sum_into_job_metrics_and_samples_are_capped() {
    let (_dir, store) = store().await;
    let job = store.create_job(&new_job("w")).await.unwrap();
    let files: Vec<NewFile> = ["a.csv", "b.csv"]
        .iter()
        .map(|n| NewFile {
            name: (*n).into(),
            size: 10,
            etag: None,
        })
        .collect();
    store.add_files(job.id, &files).await.unwrap();
    let diagnostics: Vec<RowDiagnostic> = (1..=150)
        .map(|row| RowDiagnostic {
            row,
            line: Some(row + 1),
            column: Some("score".into()),
            code: "invalid_value".into(),
            message: "bad".into(),
            severity: Severity::Error,
        })
        .collect();
    let metrics = RowMetrics {
        num_rows_processed: 200,
        num_rows_skipped_by_error: 150,
        num_rows_persisted: 50,
        ..Default::default()
    };
    store.start_file(job.id, 0).await.unwrap();
    store
        .finish_file(
            job.id,
            0,
            "a.csv",
            FileOutcome::Passed {
                table_version: Some(1),
            },
            &metrics,
            &diagnostics,
        )
        .await
        .unwrap();
    let error = ErrorInfo {
        code: "truncated_gzip".into(),
        message: "cut".into(),
        row: Some(9),
    };
    store
        .finish_file(
            job.id,
            1,
            "b.csv",
            FileOutcome::Failed(&error),
            &RowMetrics::default(),
            &[],
        )
        .await
        .unwrap();
    let job = store.job(job.id).await.unwrap();
    assert_eq!(job.metrics.num_rows_persisted, 50);
    assert_eq!(job.metrics.num_rows_skipped_by_error, 150);
    assert_eq!(
        (job.files.total, job.files.passed, job.files.failed),
        (2, 1, 1)
    );
    assert_eq!(
        store.parse_exceptions(job.id).await.unwrap().len(),
        EXCEPTION_SAMPLE as usize
    );
    let failed = store
        .files(
            job.id,
            &FileFilter {
                statuses: vec![FileStatus::Failed],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].error.as_ref().unwrap().row, Some(9));
}

#[tokio::test]
async fn json_uses_the_documented_camel_case_keys() {
    let (_dir, store) = store().await;
    let job = store.create_job(&new_job("w")).await.unwrap();
    let value = serde_json::to_value(&job).unwrap();
    for key in [
        "executionStatus",
        "desiredExecutionStatus",
        "health",
        "createdAt",
        "metrics",
    ] {
        assert!(value.get(key).is_some(), "missing {key} in {value}");
    }
    assert!(value["metrics"].get("numRowsSkippedByFilter").is_some());
    assert_eq!(value["executionStatus"], "CREATED");
}

fn desired(version: &str) -> Desired {
    Desired {
        versions: vec![Share {
            version: version.into(),
            percent: 100,
        }],
        enabled: true,
    }
}

#[tokio::test]
async fn one_operation_runs_per_deployment_and_an_ended_one_stays_ended() {
    let (_dir, store) = store().await;
    store
        .put_infra(
            "edge",
            "static",
            "dev",
            &serde_json::json!({"type": "static"}),
        )
        .await
        .unwrap();
    store
        .create_deployment("d", "churn", "edge", &desired("v1"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_deployment("d", "churn", "edge", &desired("v2"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let op = store
        .start_operation("d", OperationAction::Update, 42, "r1")
        .await
        .unwrap();
    assert_eq!(
        (op.status, op.runner_pid, op.runner.as_str()),
        (OperationStatus::Running, 42, "r1")
    );
    assert!(matches!(
        store
            .start_operation("d", OperationAction::Delete, 42, "r1")
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.running_operations().await.unwrap().len(), 1);
    store
        .finish_operation(
            &op.id,
            OperationStatus::Failed,
            "image missing",
            Some("endpoint_failed"),
        )
        .await
        .unwrap();
    store
        .finish_operation(&op.id, OperationStatus::Done, "rewritten", None)
        .await
        .unwrap();
    let ended = store.operation(&op.id).await.unwrap().unwrap();
    assert_eq!(
        (
            ended.status,
            ended.message.as_str(),
            ended.error_code.as_deref()
        ),
        (
            OperationStatus::Failed,
            "image missing",
            Some("endpoint_failed")
        )
    );
    // The next one may start now.
    store
        .start_operation("d", OperationAction::Update, 42, "r1")
        .await
        .unwrap();
}

#[tokio::test]
async fn infras_with_deployments_and_versions_in_use_are_kept() {
    let (_dir, store) = store().await;
    store
        .put_infra("edge", "static", "dev", &serde_json::json!({}))
        .await
        .unwrap();
    store
        .create_deployment("d", "churn", "edge", &desired("v2"))
        .await
        .unwrap();
    store
        .set_observed(
            "d",
            &Observed {
                health: DeploymentHealth::Degraded,
                messages: vec![],
                versions: vec!["v1".into()],
                urls: vec![],
                checked_at: now().as_str().into(),
            },
        )
        .await
        .unwrap();
    let mut used = store.versions_in_use("churn").await.unwrap();
    used.sort();
    assert_eq!(
        used,
        [
            ("v1".to_owned(), "d".to_owned()),
            ("v2".to_owned(), "d".to_owned())
        ]
    );
    assert!(store.versions_in_use("other").await.unwrap().is_empty());
    match store.delete_infra("edge").await {
        Err(StoreError::Conflict(m)) => assert!(m.contains("(d)"), "{m}"),
        other => panic!("{other:?}"),
    }
    store.delete_deployment("d").await.unwrap();
    assert!(store.delete_infra("edge").await.unwrap());
    assert!(!store.delete_infra("edge").await.unwrap());
}

#[tokio::test]
async fn a_jobs_deploy_step_is_recorded_with_its_operation() {
    let (_dir, store) = store().await;
    let job = store.create_job(&new_job("w")).await.unwrap();
    store.record_deployment(job.id, "d", "op-1").await.unwrap();
    let job = store.job(job.id).await.unwrap();
    assert_eq!(
        job.deployments,
        [DeploymentRef {
            deployment: "d".into(),
            operation: "op-1".into()
        }]
    );
}

#[tokio::test]
async fn secrets_and_variables_are_kept_by_name_and_replaced_in_place() {
    let (_dir, store) = store().await;
    assert!(!store.put_secret("s3", "token", b"sealed-1").await.unwrap());
    assert!(store.put_secret("s3", "token", b"sealed-2").await.unwrap());
    store.put_secret("gcs", "access_token", b"g").await.unwrap();
    let names: Vec<_> = store
        .list_secrets()
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{}.{}", e.credential, e.field))
        .collect();
    assert_eq!(names, ["gcs.access_token", "s3.token"]);
    let sealed = store.sealed_secrets().await.unwrap();
    assert_eq!(
        sealed.iter().find(|s| s.credential == "s3").unwrap().sealed,
        b"sealed-2"
    );
    assert!(matches!(
        store.put_secret("../x", "token", b"x").await,
        Err(StoreError::InvalidName(_))
    ));
    store.delete_secret("s3", "token").await.unwrap();
    assert!(store.secret_entry("s3", "token").await.unwrap().is_none());
    assert!(matches!(
        store.delete_secret("s3", "token").await,
        Err(StoreError::Missing(_))
    ));

    assert!(!store.put_variable("day", "2026-12-01").await.unwrap());
    assert!(store.put_variable("day", "2026-12-02").await.unwrap());
    assert_eq!(store.variable("day").await.unwrap().value, "2026-12-02");
    assert!(matches!(
        store.put_variable("day", "a\"b").await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.variable_values().await.unwrap()["day"], "2026-12-02");
    store.delete_variable("day").await.unwrap();
    assert!(matches!(
        store.variable("day").await,
        Err(StoreError::Missing(_))
    ));
}
