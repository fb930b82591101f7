//! The response every engine builds: status, JSON body, headers; turned into an
//! [`http::Response`] once, at the end.

use http::{HeaderValue, StatusCode};
use serde_json::Value;

use crate::protocol::error::AcpError;

/// A response under construction.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    pub(crate) headers: Vec<(String, String)>,
}

impl Reply {
    /// `value` as the JSON body.
    pub(crate) fn json(status: u16, value: &Value) -> Self {
        Self {
            status,
            body: serde_json::to_vec(value).unwrap_or_default(),
            headers: Vec::new(),
        }
    }

    /// An ACP error in the checkout `Error` shape, with its headers (`Retry-After`).
    pub(crate) fn error(error: &AcpError) -> Self {
        Self::error_as(error, &error.to_json())
    }

    /// An ACP error written as `body` (another error shape), with its status and headers.
    pub(crate) fn error_as(error: &AcpError, body: &Value) -> Self {
        let mut reply = Self::json(error.status(), body);
        reply.headers.extend(
            error
                .response_headers()
                .into_iter()
                .map(|(n, v)| (n.to_owned(), v)),
        );
        reply
    }

    /// Whether the reply has header `name` (any case).
    pub(crate) fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// Adds header `name` unless the reply already has it (any case).
    pub(crate) fn header_if_absent(&mut self, name: &str, value: impl Into<String>) {
        if !self.has_header(name) {
            self.headers.push((name.to_owned(), value.into()));
        }
    }

    /// The response: `Content-Type: application/json` and every header that is valid HTTP.
    pub(crate) fn into_http(self) -> http::Response<Vec<u8>> {
        let mut response = http::Response::new(self.body);
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in self.headers {
            if let (Ok(name), Ok(value)) = (
                http::header::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.append(name, value);
            }
        }
        response
    }
}

/// Ids in paths are opaque, but bounded and printable: anything else cannot name a stored
/// resource.
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_graphic())
}

/// The first defect of a body that breaks its schema, as `(message, param)`.
pub(crate) fn body_defect(
    error: &crate::parse::registry::BodyError,
) -> (String, crate::parse::json_path::JsonPath) {
    use crate::parse::json_path::JsonPath;
    use crate::parse::registry::BodyError;
    match error {
        BodyError::Invalid { violations, .. } => violations.first().map_or_else(
            || (error.to_string(), JsonPath::root()),
            |v| (v.message.clone(), v.path.clone()),
        ),
        other => (other.to_string(), JsonPath::root()),
    }
}
