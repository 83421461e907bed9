//! An HTTP middleware that answers JSON which is not a JSON-RPC request (`"hello"`, `42`,
//! `{}`) with the spec's -32600 "Invalid request" instead of jsonrpsee's -32700 "Parse
//! error": the bytes did parse, they are just not a request object. Bodies that are not JSON
//! at all, batches (arrays), and anything with a string `method` pass through untouched.
//!
//! Only bodies whose `Content-Length` is within the request limit are read here; anything
//! else goes to the server as it came, which enforces the limit itself. WebSocket messages
//! do not pass through HTTP middleware and keep jsonrpsee's answer.

use futures::FutureExt;
use http_body_util::BodyExt;
use hyper::body::Bytes;
use hyper::http::{header, Method, StatusCode};
use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// See the module docs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestShapeLayer {
    /// Largest body read to check its shape.
    pub(crate) max_bytes: usize,
}

impl<S> tower::Layer<S> for RequestShapeLayer {
    type Service = RequestShape<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestShape {
            inner,
            max_bytes: self.max_bytes,
        }
    }
}

/// See the module docs.
#[derive(Debug, Clone)]
pub(crate) struct RequestShape<S> {
    inner: S,
    max_bytes: usize,
}

/// The -32600 answer to `value`, if it is JSON but not a request (or a batch).
fn not_a_request(value: &Value) -> Option<HttpResponse> {
    let is_request = match value {
        Value::Array(_) => true,
        Value::Object(fields) => fields.get("method").is_some_and(Value::is_string),
        _ => false,
    };
    if is_request {
        return None;
    }
    // Echo a usable id, as the spec asks; otherwise null.
    let id = match value.get("id") {
        Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
        _ => Value::Null,
    };
    let body = json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {
            "code": -32600,
            "message": "Invalid request: a JSON-RPC request is an object with \"jsonrpc\": \"2.0\", a \"method\" and an \"id\"",
        },
    });
    hyper::http::Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(HttpBody::from(body.to_string()))
        .ok()
}

impl<S, B> tower::Service<HttpRequest<B>> for RequestShape<S>
where
    S: tower::Service<HttpRequest, Response = HttpResponse> + Clone + Send + 'static,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.parse::<usize>().ok());
        let checkable = request.method() == Method::POST
            && declared.is_some_and(|length| length <= self.max_bytes);
        if !checkable {
            return self
                .inner
                .call(request.map(HttpBody::new))
                .map(|result| result.map_err(Into::into))
                .boxed();
        }
        // The service that was polled ready serves this request; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        async move {
            let (parts, body) = request.into_parts();
            let bytes = body.collect().await.map_err(Into::into)?.to_bytes();
            if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
                if let Some(answer) = not_a_request(&value) {
                    return Ok(answer);
                }
            }
            let request = HttpRequest::from_parts(parts, HttpBody::from(bytes.to_vec()));
            inner.call(request).await.map_err(Into::into)
        }
        .boxed()
    }
}
