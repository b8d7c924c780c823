//! The state behind a WIT resource such as a parser's `decoder` or a file parser's `reader`.
//!
//! A resource is built by a fallible `open`, which returns its errors itself; after that, a
//! call that fails leaves the resource failed: a decoder that gave up halfway through an
//! object must not carry on as if nothing happened, so every later call returns that error.

use std::cell::RefCell;

use crate::types::Error;

#[derive(Debug)]
pub struct StateCell<T>(RefCell<Result<T, Error>>);

impl<T> StateCell<T> {
    pub fn new(state: T) -> Self {
        StateCell(RefCell::new(Ok(state)))
    }

    /// Runs `call` on the state, or returns the error the state is stuck with.
    pub fn with<R>(&self, call: impl FnOnce(&mut T) -> Result<R, Error>) -> Result<R, Error> {
        let mut state = self.0.borrow_mut();
        let result = call(state.as_mut().map_err(|e| e.clone())?);
        if let Err(e) = &result {
            *state = Err(e.clone());
        }
        result
    }

    /// Runs `call` as the state's last, whatever it returns: every call after it returns
    /// `after` (or the call's own error).
    pub fn last<R>(
        &self,
        after: Error,
        call: impl FnOnce(&mut T) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let result = self.with(call);
        let mut state = self.0.borrow_mut();
        if state.is_ok() {
            *state = Err(after);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_call_sticks() {
        let cell = StateCell::new(0u32);
        assert_eq!(
            cell.with(|n| {
                *n += 1;
                Ok(*n)
            }),
            Ok(1)
        );
        assert!(
            cell.with(|_| Err::<(), _>(crate::error("unterminated_quote", "x")))
                .is_err()
        );
        assert_eq!(
            cell.with(|n| Ok(*n)).unwrap_err().code,
            "unterminated_quote"
        );
    }

    #[test]
    fn nothing_runs_after_the_last_call() {
        let cell = StateCell::new(5u32);
        assert_eq!(
            cell.last(crate::error("finished", "done"), |n| Ok(*n)),
            Ok(5)
        );
        assert_eq!(cell.with(|n| Ok(*n)).unwrap_err().code, "finished");
        let failed = StateCell::new(0u32);
        let e = failed.last(crate::error("finished", "done"), |_| {
            Err::<(), _>(crate::error("bad", "x"))
        });
        assert_eq!(e.unwrap_err().code, "bad");
        assert_eq!(
            failed.with(|n| Ok(*n)).unwrap_err().code,
            "bad",
            "its own error sticks"
        );
    }
}
