//! The S3 XML document the plugin reads: a ListObjectsV2 page (errors: `ferry_guest::s3`).

use ferry_guest::remote::Page;
use ferry_guest::types::ObjectInfo;

fn child_text<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.children()
        .find(|c| c.tag_name().name() == name)
        .and_then(|c| c.text())
}

pub fn list_page(text: &str) -> Result<Page, String> {
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("not XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "ListBucketResult" {
        return Err(format!(
            "expected ListBucketResult, got {}",
            root.tag_name().name()
        ));
    }
    let mut objects = Vec::new();
    for c in root
        .children()
        .filter(|c| c.tag_name().name() == "Contents")
    {
        let key = child_text(c, "Key").ok_or("a Contents entry has no Key")?;
        let size = child_text(c, "Size")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("object `{key}` has no valid Size"))?;
        objects.push(ObjectInfo {
            key: key.to_owned(),
            size,
            etag: child_text(c, "ETag").map(str::to_owned),
            last_modified: child_text(c, "LastModified").map(str::to_owned),
        });
    }
    let truncated = child_text(root, "IsTruncated") == Some("true");
    let next_token = child_text(root, "NextContinuationToken").map(str::to_owned);
    if truncated && next_token.is_none() {
        return Err("IsTruncated without NextContinuationToken".into());
    }
    Ok(Page {
        objects,
        next_token: if truncated { next_token } else { None },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truncated_page() {
        let page = list_page(r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>
<Contents><Key>p/a.csv</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"abc"</ETag><Size>12</Size></Contents>
<Contents><Key>p/b &amp; c.csv</Key><ETag>"def"</ETag><Size>0</Size></Contents>
<IsTruncated>true</IsTruncated><NextContinuationToken>tok/1</NextContinuationToken></ListBucketResult>"#).unwrap();
        assert_eq!(page.objects.len(), 2);
        assert_eq!(page.objects[0].etag.as_deref(), Some("\"abc\""));
        assert_eq!(page.objects[1].key, "p/b & c.csv");
        assert_eq!(page.next_token.as_deref(), Some("tok/1"));
    }

    #[test]
    fn the_last_page_has_no_token() {
        let page =
            list_page("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>")
                .unwrap();
        assert!(page.objects.is_empty() && page.next_token.is_none());
    }

    #[test]
    fn an_error_document_is_not_a_page() {
        assert!(list_page("<Error/>").is_err());
    }
}
