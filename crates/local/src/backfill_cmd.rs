//! `leenkies-local backfill`: replays Stripe's Events API into the store (recovery issue).
//! It needs DynamoDB: the embedded store lives only inside a running process.

use crate::cli::{BackfillArgs, ServerArgs};

pub async fn run(server: &ServerArgs, args: BackfillArgs) -> Result<(), String> {
    if server.dynamodb_endpoint.is_none() {
        return Err(
            "backfill needs --dynamodb-endpoint: the embedded store lives only inside a \
                    running leenkies-local process, so there is nothing to backfill into"
                .to_owned(),
        );
    }
    let _ = args;
    Err("backfill is not available in this build yet".to_owned())
}
