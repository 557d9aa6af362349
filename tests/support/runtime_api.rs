//! A minimal Lambda Runtime API (the `2018-06-01` protocol): the first `next` call gets the
//! recorded event, the binary's `response` or `error` post is captured, and the time from exec
//! to that reply is measured.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::{mpsc, Mutex as AsyncMutex};

/// What the binary answered.
#[derive(Debug, Clone)]
pub enum Reply {
    Response(serde_json::Value),
    Error(serde_json::Value),
    InitError(serde_json::Value),
}

#[derive(Debug)]
pub struct Invocation {
    pub reply: Reply,
    /// From `exec` of the binary to its reply.
    pub exec_to_reply: Duration,
    /// What the binary printed (its JSON logs), for assertions on logging.
    pub output: String,
}

#[derive(Clone)]
struct Shared {
    event: Arc<AsyncMutex<Option<serde_json::Value>>>,
    replies: mpsc::UnboundedSender<Reply>,
}

const REQUEST_ID: &str = "8f507cfc-test-4f3b-9b6e-000000000001";

async fn next(State(shared): State<Shared>) -> Response {
    let event = shared.event.lock().await.take();
    match event {
        Some(event) => {
            let mut headers = HeaderMap::new();
            headers.insert(
                "lambda-runtime-aws-request-id",
                HeaderValue::from_static(REQUEST_ID),
            );
            let deadline = (std::time::SystemTime::now() + Duration::from_secs(30))
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            headers.insert(
                "lambda-runtime-deadline-ms",
                HeaderValue::from_str(&deadline.to_string())
                    .unwrap_or(HeaderValue::from_static("0")),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:test"),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                HeaderValue::from_static("Root=1-test"),
            );
            (StatusCode::OK, headers, event.to_string()).into_response()
        }
        // One event per test: later polls wait until the process is stopped.
        None => std::future::pending::<Response>().await,
    }
}

async fn capture(
    shared: &Shared,
    body: axum::body::Bytes,
    wrap: fn(serde_json::Value) -> Reply,
) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into()));
    let _ = shared.replies.send(wrap(value));
    StatusCode::ACCEPTED
}

/// Starts the Runtime API, execs `binary` with `env` against it, hands it `event`, and returns
/// its reply (or panics after `timeout`).
pub async fn invoke_once(
    binary: &Path,
    env: &[(&str, String)],
    event: serde_json::Value,
    timeout: Duration,
) -> Invocation {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let shared = Shared {
        event: Arc::new(AsyncMutex::new(Some(event))),
        replies: tx,
    };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(
                |State(s): State<Shared>, _: UrlPath<String>, body| async move {
                    capture(&s, body, Reply::Response).await
                },
            ),
        )
        .route(
            "/2018-06-01/runtime/invocation/{id}/error",
            post(
                |State(s): State<Shared>, _: UrlPath<String>, body| async move {
                    capture(&s, body, Reply::Error).await
                },
            ),
        )
        .route(
            "/2018-06-01/runtime/init/error",
            post(|State(s): State<Shared>, body| async move {
                capture(&s, body, Reply::InitError).await
            }),
        )
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let output = Arc::new(Mutex::new(Vec::<u8>::new()));
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "test")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/test")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot exec {}: {e}", binary.display()));
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let sink = output.clone();
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut pipe = pipe;
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(&buf[..n]);
            }
        });
    }
    let reply = tokio::time::timeout(timeout, rx.recv()).await;
    let exec_to_reply = started.elapsed();
    let _ = child.kill().await;
    server.abort();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let output =
        String::from_utf8_lossy(&output.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    match reply {
        Ok(Some(reply)) => Invocation {
            reply,
            exec_to_reply,
            output,
        },
        _ => panic!(
            "{} gave no reply within {timeout:?}; its output:\n{output}",
            binary.display()
        ),
    }
}
