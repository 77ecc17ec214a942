//! The one place engine errors become JavaScript errors. The reason is JSON
//! `{code, message, field?}`; `lib/errors.js` turns it into the exported error class for
//! `code`, so callers branch on `err.code`.

use job_queue_core::Error;
use napi::{Error as JsError, Status};
use serde_json::json;

/// `{code, message, field?}`: the shape JS turns into an error class.
pub fn reason(e: &Error) -> serde_json::Value {
    let mut reason = json!({ "code": e.code().as_str(), "message": e.to_string() });
    if let Error::Validation { field, .. } = e {
        reason["field"] = json!(field);
    }
    reason
}

pub fn to_js(e: Error) -> JsError {
    JsError::new(Status::GenericFailure, reason(&e).to_string())
}

pub fn validation(field: &str, message: impl ToString) -> JsError {
    to_js(Error::validation(field, message.to_string()))
}
