//! One page of a bucket listing: the store's listing call, its error answers as the store
//! words them, and "folder" markers left out.

use crate::error;
use crate::types::{Error, ObjectInfo};

use super::{Page, Store};

/// The page of `prefix` that `token` (from the page before; `None` for the first) names.
pub fn list<S: Store>(store: &S, prefix: &str, token: Option<&str>) -> Result<Page, Error> {
    let response = store.transport().send(&store.list_request(prefix, token))?;
    if response.status != 200 {
        return Err(store.list_refused(prefix, &response));
    }
    let page = store.page(&response).map_err(|m| {
        error(
            "invalid_response",
            format!("{} on bucket `{}`: {m}", S::LIST, store.bucket()),
        )
    })?;
    Ok(page.without_folder_markers())
}

impl Page {
    /// The page without "folder" markers (empty objects whose key ends in `/`, which the
    /// consoles and some tools create): they are not data.
    pub fn without_folder_markers(mut self) -> Page {
        self.objects.retain(|o| !is_folder_marker(o));
        self
    }
}

fn is_folder_marker(object: &ObjectInfo) -> bool {
    object.key.ends_with('/') && object.size == 0
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::remote::fake::Fake;
    use crate::testing::Script;

    #[test]
    fn pages_follow_their_tokens_without_folder_markers() {
        let script = Script::new(vec![
            (
                "GET http://store.test/b?prefix=logs/",
                200,
                json!({"keys": [["logs/", 0], ["logs/a.csv", 12], ["logs/empty.csv", 0], ["logs/odd/", 3]], "next": "t1"}),
            ),
            (
                "GET http://store.test/b?prefix=logs/&token=t1",
                200,
                json!({"keys": [["logs/b/", 0]]}),
            ),
        ]);
        let store = Fake::new(&script);
        let page = list(&store, "logs/", None).unwrap();
        let keys: Vec<&str> = page.objects.iter().map(|o| o.key.as_str()).collect();
        // An empty object is data, and so is a key ending in `/` that holds bytes.
        assert_eq!(keys, ["logs/a.csv", "logs/empty.csv", "logs/odd/"]);
        assert_eq!(page.next_token.as_deref(), Some("t1"));
        let last = list(&store, "logs/", page.next_token.as_deref()).unwrap();
        assert!(last.objects.is_empty() && last.next_token.is_none());
        script.finished();
    }

    #[test]
    fn refusals_are_the_stores_and_unreadable_pages_invalid_responses() {
        let script = Script::new(vec![
            ("prefix=x", 403, json!({})),
            ("prefix=x", 200, json!({"items": []})),
        ]);
        let store = Fake::new(&script);
        let e = list(&store, "x", None).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("refused_403", "listing `x`")
        );
        let e = list(&store, "x", None).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("invalid_response", "list on bucket `b`: no keys")
        );
    }
}
