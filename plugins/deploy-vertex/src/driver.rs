//! Runs the plan against the cloud. Each call takes steps while they finish at once; the
//! first operation that does not returns `pending` with a token naming it and its step, and
//! `poll` takes over from there when it is done.
//!
//! The host keeps only the state an `Ok` operation carries, so a step that fails after
//! others changed the state (a model uploaded, then the endpoint refused) does not return the
//! error straight away: it returns `pending` with the new state and a `failed` token, and the
//! next `poll` returns the error. Otherwise the next `apply` would not know the model exists.

use ferry_guest::deploy::{Operation, Target};
use ferry_guest::error;
use ferry_guest::http::Transport;
use ferry_guest::types::Error;
use serde::{Deserialize, Serialize};

use crate::api::Vertex;
use crate::config::Config;
use crate::plan::{self, Goal, State, Step};
use crate::split::Split;
use crate::storage::Bucket;

/// A guard against a plan that would not end; a real one takes a few steps per version.
const MAX_STEPS: usize = 200;

/// What `poll` picks up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Token {
    Waiting {
        goal: Goal,
        step: Step,
        /// The operation's name, polled as `GET /v1/{operation}`.
        operation: String,
        /// The split a deploy or undeploy sent, recorded in the state once it is done.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        traffic: Option<Split>,
    },
    Failed {
        code: String,
        message: String,
    },
}

/// `apply` (towards the desired versions) or `delete` (towards nothing).
pub fn start(
    cfg: &Config,
    transport: &dyn Transport,
    target: &Target,
    goal: Goal,
) -> Result<Operation, Error> {
    let state = target.state()?;
    Run::new(cfg, transport, target, goal, state).drive()
}

/// `poll`: checks on the operation the token names and carries on when it is done.
pub fn resume(
    cfg: &Config,
    transport: &dyn Transport,
    target: &Target,
    operation: &Operation,
) -> Result<Operation, Error> {
    if operation.done {
        return Ok(operation.clone());
    }
    let (goal, step, name, traffic) = match operation.token()? {
        Token::Failed { code, message } => return Err(error(&code, message)),
        Token::Waiting {
            goal,
            step,
            operation,
            traffic,
        } => (goal, step, operation, traffic),
    };
    // The state that went out with the token is the one that goes with it.
    let state = match operation.state.trim() {
        "" => target.state()?,
        stored => Target {
            state: stored.to_owned(),
            ..target.clone()
        }
        .state()?,
    };
    let mut run = Run::new(cfg, transport, target, goal, state);
    let lro = run.vertex.operation(&step.describe(), &name)?;
    if !lro.done {
        return Ok(Operation {
            message: waiting(&step, &name),
            ..operation.clone()
        });
    }
    if let Err(e) = run.finish(&step, lro, traffic) {
        return run.failed(e);
    }
    run.drive()
}

fn waiting(step: &Step, operation: &str) -> String {
    format!("{}: waiting for operation {operation}", step.describe())
}

pub(crate) struct Run<'a> {
    pub(crate) cfg: &'a Config,
    pub(crate) vertex: Vertex<'a>,
    pub(crate) bucket: Bucket<'a>,
    pub(crate) target: &'a Target,
    pub(crate) desired: Vec<(String, u8)>,
    goal: Goal,
    pub(crate) state: State,
    /// The state as the call found it, to tell whether a failure must carry a new one.
    initial: State,
}

impl<'a> Run<'a> {
    fn new(
        cfg: &'a Config,
        transport: &'a dyn Transport,
        target: &'a Target,
        goal: Goal,
        state: State,
    ) -> Self {
        Run {
            cfg,
            vertex: Vertex::new(cfg, transport),
            bucket: Bucket::new(cfg, transport),
            target,
            desired: target
                .versions
                .iter()
                .map(|v| (v.version.clone(), v.percent))
                .collect(),
            goal,
            initial: state.clone(),
            state,
        }
    }

    fn drive(mut self) -> Result<Operation, Error> {
        for _ in 0..MAX_STEPS {
            let Some(step) = plan::next(&self.state, &self.desired, self.goal) else {
                return Ok(self.finished());
            };
            match self.execute(&step) {
                Ok(None) => {}
                Ok(Some(wait)) => {
                    let message = waiting(&step, &wait.operation);
                    let token = Token::Waiting {
                        goal: self.goal,
                        step,
                        operation: wait.operation,
                        traffic: wait.traffic,
                    };
                    return Ok(Operation::pending(&token, message, &self.state));
                }
                Err(e) => return self.failed(e),
            }
        }
        let e = error(
            "internal",
            format!("the plan did not end after {MAX_STEPS} steps"),
        );
        self.failed(e)
    }

    pub(crate) fn endpoint(&self) -> Result<String, Error> {
        self.state.endpoint.clone().ok_or_else(|| {
            error(
                "internal",
                "the plan used an endpoint the state has not got",
            )
        })
    }

    /// A failed step's error, or, when the call changed the state before it failed, a
    /// pending operation carrying the new state whose next poll returns the error.
    fn failed(self, e: Error) -> Result<Operation, Error> {
        if self.state == self.initial {
            return Err(e);
        }
        let message = format!("failed: {}", e.message);
        let token = Token::Failed {
            code: e.code,
            message: e.message,
        };
        Ok(Operation::pending(&token, message, &self.state))
    }

    fn finished(self) -> Operation {
        match self.goal {
            Goal::Delete => Operation {
                token: String::new(),
                done: true,
                message: "deleted the endpoint, the models and their artifacts".to_owned(),
                state: String::new(),
            },
            Goal::Apply => Operation::done(summary(&self.state, &self.desired), &self.state),
        }
    }
}

/// What an applied deployment serves, for the job log.
fn summary(state: &State, desired: &plan::Desired) -> String {
    let Some(endpoint) = state.endpoint.as_deref() else {
        return "disabled: nothing deployed".to_owned();
    };
    if desired.is_empty() {
        let models = state.versions.iter().filter(|v| v.model.is_some()).count();
        return format!(
            "disabled: nothing deployed on {endpoint}; the endpoint and {models} model{} are kept for a quick re-enable",
            if models == 1 { "" } else { "s" }
        );
    }
    let shares: Vec<String> = desired.iter().map(|(v, p)| format!("{v} ({p}%)")).collect();
    format!("serving {} on {endpoint}", shares.join(", "))
}
