//! The GCS JSON API documents the plugin reads: an objects.list page and one object's
//! metadata (errors are Google's shape, read by `ferry_guest::google`).

use ferry_guest::remote::Page;
use ferry_guest::types::ObjectInfo;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPage {
    #[serde(default)]
    items: Vec<RawObject>,
    next_page_token: Option<String>,
}

/// GCS sends 64-bit numbers as strings.
#[derive(Deserialize)]
struct RawObject {
    name: String,
    size: String,
    generation: Option<String>,
    updated: Option<String>,
}

impl RawObject {
    fn info(self) -> Result<ObjectInfo, String> {
        let size = self
            .size
            .parse()
            .map_err(|_| format!("object `{}` has size `{}`", self.name, self.size))?;
        Ok(ObjectInfo {
            key: self.name,
            size,
            etag: self.generation,
            last_modified: self.updated,
        })
    }
}

pub fn list_page(body: &[u8]) -> Result<Page, String> {
    let raw: RawPage =
        serde_json::from_slice(body).map_err(|e| format!("unexpected answer: {e}"))?;
    Ok(Page {
        objects: raw
            .items
            .into_iter()
            .map(RawObject::info)
            .collect::<Result<_, _>>()?,
        next_token: raw.next_page_token.filter(|t| !t.is_empty()),
    })
}

pub fn object(body: &[u8]) -> Result<ObjectInfo, String> {
    let raw: RawObject =
        serde_json::from_slice(body).map_err(|e| format!("unexpected answer: {e}"))?;
    raw.info()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page() {
        let page = list_page(br#"{"kind":"storage#objects","items":[{"name":"p/a.csv","size":"12","generation":"1700000000000001","updated":"2026-01-01T00:00:00Z"}],"nextPageToken":"p/a.csv"}"#).unwrap();
        assert_eq!(page.objects[0].size, 12);
        assert_eq!(page.objects[0].etag.as_deref(), Some("1700000000000001"));
        assert_eq!(page.next_token.as_deref(), Some("p/a.csv"));
        let last = list_page(br#"{"kind":"storage#objects"}"#).unwrap();
        assert!(last.objects.is_empty() && last.next_token.is_none());
    }
}
