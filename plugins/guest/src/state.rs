//! The state behind a WIT resource such as a parser's `decoder`.
//!
//! A WIT constructor cannot fail, yet building a decoder can (a bad setting). The resource
//! then holds the error and every call returns it, so the host reports it from the first
//! `push`. A call that fails leaves the resource failed too: a decoder that gave up halfway
//! through an object must not carry on as if nothing happened.

use std::cell::RefCell;

use crate::types::Error;

#[derive(Debug)]
pub struct StateCell<T>(RefCell<Result<T, Error>>);

impl<T> StateCell<T> {
    pub fn new(state: Result<T, Error>) -> Self {
        StateCell(RefCell::new(state))
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_setup_fails_every_call() {
        let cell: StateCell<u32> = StateCell::new(Err(crate::error("invalid_setting", "bad")));
        assert_eq!(cell.with(|n| Ok(*n)).unwrap_err().code, "invalid_setting");
        assert_eq!(cell.with(|n| Ok(*n)).unwrap_err().code, "invalid_setting");
    }

    #[test]
    fn a_failed_call_sticks() {
        let cell = StateCell::new(Ok(0u32));
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
}
