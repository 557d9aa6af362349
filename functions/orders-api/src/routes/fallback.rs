//! Answers for what no route handles, in the contract's error body: an unknown path is `404`,
//! a known path with the wrong method is `405`.

use crate::error::ApiError;

pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
