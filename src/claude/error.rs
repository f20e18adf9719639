//! Errors of the Claude client: the API's own error classes (`error.type` of the
//! envelope `{"type":"error","error":{"type":…,"message":…}}`), and what can go
//! wrong around them (deadline, connection, a body that is not the API's).
//! Messages quote the API and its `request-id`, never the request's headers.

use std::fmt;
use std::time::Duration;

/// The API's `error.type` (https://docs.claude.com/en/api/errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiErrorType {
    /// 400 `invalid_request_error`.
    InvalidRequest,
    /// 401 `authentication_error`.
    Authentication,
    /// 402 `billing_error`.
    Billing,
    /// 403 `permission_error`.
    Permission,
    /// 404 `not_found_error`.
    NotFound,
    /// 409 `conflict_error`.
    Conflict,
    /// 413 `request_too_large`.
    RequestTooLarge,
    /// 429 `rate_limit_error`.
    RateLimit,
    /// 500 `api_error`.
    Api,
    /// 504 `timeout_error`.
    Timeout,
    /// 529 `overloaded_error`.
    Overloaded,
    /// A type this client does not know (the set may grow), or none at all.
    Other(String),
}

/// `(wire name, variant)`, in the order of the docs' table.
const TYPES: &[(&str, ApiErrorType)] = &[
    ("invalid_request_error", ApiErrorType::InvalidRequest),
    ("authentication_error", ApiErrorType::Authentication),
    ("billing_error", ApiErrorType::Billing),
    ("permission_error", ApiErrorType::Permission),
    ("not_found_error", ApiErrorType::NotFound),
    ("conflict_error", ApiErrorType::Conflict),
    ("request_too_large", ApiErrorType::RequestTooLarge),
    ("rate_limit_error", ApiErrorType::RateLimit),
    ("api_error", ApiErrorType::Api),
    ("timeout_error", ApiErrorType::Timeout),
    ("overloaded_error", ApiErrorType::Overloaded),
];

impl ApiErrorType {
    /// The class of `error.type`.
    pub fn parse(name: &str) -> ApiErrorType {
        TYPES
            .iter()
            .find(|(wire, _)| *wire == name)
            .map_or_else(|| ApiErrorType::Other(name.to_string()), |(_, t)| t.clone())
    }

    /// The class an HTTP status implies when the body says nothing (a proxy's page).
    pub fn from_status(status: u16) -> ApiErrorType {
        match status {
            400 => ApiErrorType::InvalidRequest,
            401 => ApiErrorType::Authentication,
            402 => ApiErrorType::Billing,
            403 => ApiErrorType::Permission,
            404 => ApiErrorType::NotFound,
            409 => ApiErrorType::Conflict,
            413 => ApiErrorType::RequestTooLarge,
            429 => ApiErrorType::RateLimit,
            500 => ApiErrorType::Api,
            504 => ApiErrorType::Timeout,
            529 => ApiErrorType::Overloaded,
            other => ApiErrorType::Other(format!("http_{other}")),
        }
    }

    /// The HTTP status this class comes with (a stream `error` event has none of its own).
    pub fn status(&self) -> u16 {
        match self {
            ApiErrorType::InvalidRequest | ApiErrorType::Other(_) => 400,
            ApiErrorType::Authentication => 401,
            ApiErrorType::Billing => 402,
            ApiErrorType::Permission => 403,
            ApiErrorType::NotFound => 404,
            ApiErrorType::Conflict => 409,
            ApiErrorType::RequestTooLarge => 413,
            ApiErrorType::RateLimit => 429,
            ApiErrorType::Api => 500,
            ApiErrorType::Timeout => 504,
            ApiErrorType::Overloaded => 529,
        }
    }

    /// The wire name (`rate_limit_error`, ...): the `error.type` of spans and logs.
    pub fn as_str(&self) -> &str {
        match self {
            ApiErrorType::Other(name) => name,
            known => TYPES
                .iter()
                .find(|(_, t)| t == known)
                .map_or("unknown", |(wire, _)| wire),
        }
    }
}

/// Why a call to the Claude API failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The API answered with an error status or a stream `error` event.
    Api {
        /// HTTP status (for a stream `error` event, the status it stands for).
        status: u16,
        /// `error.type`.
        kind: ApiErrorType,
        /// `error.message`, or the start of a body that is not the envelope.
        message: String,
        /// The `request-id` response header (or the body's `request_id`).
        request_id: Option<String>,
        /// The `retry-after` the API asked for, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The call's deadline passed before an answer came.
    Timeout {
        /// The deadline the call had.
        after: Duration,
    },
    /// No connection, or it broke before the answer was complete.
    Connection {
        /// What the transport said.
        detail: String,
    },
    /// A success status whose body is not a Messages API response.
    Malformed {
        /// What was wrong with it.
        detail: String,
        /// The `request-id` response header.
        request_id: Option<String>,
    },
    /// The client request was cancelled; nobody waits for the answer any more.
    Abandoned,
}

impl Error {
    /// The short class name of spans (`error.type`), logs and metrics.
    pub fn type_name(&self) -> &str {
        match self {
            Error::Api { kind, .. } => kind.as_str(),
            Error::Timeout { .. } => "timeout",
            Error::Connection { .. } => "connection_error",
            Error::Malformed { .. } => "malformed_response",
            Error::Abandoned => "cancelled",
        }
    }

    /// The `request-id` of the failed response, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. } | Error::Malformed { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// Whether the key was refused: a critical error for the error tracker.
    pub fn is_authentication(&self) -> bool {
        matches!(
            self,
            Error::Api {
                kind: ApiErrorType::Authentication,
                ..
            }
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api {
                status,
                kind,
                message,
                ..
            } => write!(f, "claude api: HTTP {status} {}: {message}", kind.as_str())?,
            Error::Timeout { after } => write!(
                f,
                "claude api: no answer within {:.1} s",
                after.as_secs_f64()
            )?,
            Error::Connection { detail } => write!(f, "claude api: connection failed: {detail}")?,
            Error::Malformed { detail, .. } => {
                write!(f, "claude api: malformed response: {detail}")?
            }
            Error::Abandoned => f.write_str("claude api: call abandoned (request cancelled)")?,
        }
        if let Some(id) = self.request_id() {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_round_trip_and_statuses_map_to_the_docs_table() {
        for (wire, kind) in TYPES {
            assert_eq!(&ApiErrorType::parse(wire), kind, "{wire}");
            assert_eq!(kind.as_str(), *wire);
        }
        let unknown = ApiErrorType::parse("brand_new_error");
        assert_eq!(unknown, ApiErrorType::Other("brand_new_error".into()));
        assert_eq!(
            unknown.as_str(),
            "brand_new_error",
            "unknown types pass through"
        );
        let statuses = [
            (400, "invalid_request_error"),
            (401, "authentication_error"),
            (403, "permission_error"),
            (404, "not_found_error"),
            (413, "request_too_large"),
            (429, "rate_limit_error"),
            (500, "api_error"),
            (529, "overloaded_error"),
            (502, "http_502"),
        ];
        for (status, wire) in statuses {
            assert_eq!(ApiErrorType::from_status(status).as_str(), wire, "{status}");
        }
    }

    #[test]
    fn display_quotes_the_api_and_its_request_id() {
        let e = Error::Api {
            status: 429,
            kind: ApiErrorType::RateLimit,
            message: "Number of requests has exceeded your rate limit".into(),
            request_id: Some("req_011".into()),
            retry_after: None,
        };
        assert_eq!(
            e.to_string(),
            "claude api: HTTP 429 rate_limit_error: Number of requests has exceeded your rate limit (request id req_011)"
        );
        assert_eq!(e.type_name(), "rate_limit_error");
        assert_eq!(
            Error::Timeout {
                after: Duration::from_millis(1500)
            }
            .to_string(),
            "claude api: no answer within 1.5 s"
        );
    }
}
