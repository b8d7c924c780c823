//! What plugins that speak S3's REST API share (the `source-s3` reader, the SageMaker
//! deployer's uploads): reading S3's `<Error>` answers, so that every plugin reports the
//! store's own code and message the same way.

use crate::http::Response;

/// The S3 error code and message of a failed answer. They come from its `<Error>` document;
/// an answer without one (HEAD answers have no body) gets a code from its status alone and an
/// empty message.
pub fn error_of(response: &Response) -> (String, String) {
    error_document(&response.text()).unwrap_or_else(|| {
        let code = match response.status {
            404 => "NoSuchKey",
            403 => "AccessDenied",
            301 | 307 => "PermanentRedirect",
            _ => "HttpError",
        };
        (code.to_owned(), String::new())
    })
}

/// `(Code, Message)` of an `<Error>` document.
pub fn error_document(text: &str) -> Option<(String, String)> {
    let doc = roxmltree::Document::parse(text).ok()?;
    let root = doc.root_element();
    if root.tag_name().name() != "Error" {
        return None;
    }
    let child = |name: &str| {
        root.children()
            .find(|c| c.tag_name().name() == name)
            .and_then(|c| c.text())
    };
    Some((
        child("Code")?.to_owned(),
        child("Message").unwrap_or_default().to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn error_documents() {
        let e = error_document(
            "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error>",
        );
        assert_eq!(e.unwrap().0, "SignatureDoesNotMatch");
        assert!(error_document("not xml").is_none());
        assert!(error_document("<ListBucketResult/>").is_none());
    }

    #[test]
    fn answers_without_a_document_get_a_code_from_their_status() {
        let moto = r#"<?xml version="1.0" encoding="utf-8"?>
<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>b</BucketName></Error>"#;
        assert_eq!(
            error_of(&response(404, moto)),
            (
                "NoSuchBucket".to_owned(),
                "The specified bucket does not exist".to_owned()
            )
        );
        assert_eq!(error_of(&response(404, "")).0, "NoSuchKey");
        assert_eq!(error_of(&response(403, "")).0, "AccessDenied");
        assert_eq!(error_of(&response(500, "oops")).0, "HttpError");
    }
}
