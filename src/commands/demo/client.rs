//! The demo's HTTP client: the calls a platform, an author, an actuary and an auditor make,
//! each with its own key, and errors that say which call failed and what the server said.

use anyhow::{Context as _, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A caller of the API with one key.
#[derive(Clone, Debug)]
pub struct Caller {
    http: reqwest::Client,
    base: String,
    key: String,
}

/// An answer: its status and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl Caller {
    pub fn new(http: &reqwest::Client, base: &str, key: &str) -> Self {
        Self {
            http: http.clone(),
            base: base.to_owned(),
            key: key.to_owned(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> anyhow::Result<Answer> {
        let response = request
            .bearer_auth(&self.key)
            .send()
            .await
            .with_context(|| format!("{what}: no answer from the demo's server"))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .with_context(|| format!("{what}: the answer could not be read"))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer { status, body, text })
    }

    /// A call that must succeed (2xx); anything else is an error naming the call.
    async fn expect(&self, request: reqwest::RequestBuilder, what: &str) -> anyhow::Result<Answer> {
        let answer = self.send(request, what).await?;
        if !(200..300).contains(&answer.status) {
            bail!(
                "{what}: the server answered {}: {}",
                answer.status,
                answer.text
            );
        }
        Ok(answer)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Answer> {
        self.expect(
            self.http.get(format!("{}{path}", self.base)),
            &format!("GET {path}"),
        )
        .await
    }

    pub async fn get_as<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let answer = self.get(path).await?;
        serde_json::from_str(&answer.text)
            .with_context(|| format!("GET {path}: an answer the demo does not understand"))
    }

    pub async fn post(&self, path: &str, body: &impl Serialize) -> anyhow::Result<Answer> {
        self.expect(
            self.http.post(format!("{}{path}", self.base)).json(body),
            &format!("POST {path}"),
        )
        .await
    }

    pub async fn put(&self, path: &str, body: &impl Serialize) -> anyhow::Result<Answer> {
        self.expect(
            self.http.put(format!("{}{path}", self.base)).json(body),
            &format!("PUT {path}"),
        )
        .await
    }

    /// `POST` with an `Idempotency-Key`, as a platform asks for payouts.
    pub async fn post_keyed(
        &self,
        path: &str,
        key: &str,
        body: &impl Serialize,
    ) -> anyhow::Result<Answer> {
        self.expect(
            self.http
                .post(format!("{}{path}", self.base))
                .header("idempotency-key", key)
                .json(body),
            &format!("POST {path} (Idempotency-Key {key})"),
        )
        .await
    }

    /// `POST` of a body as it is (NDJSON readings).
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: String,
    ) -> anyhow::Result<Answer> {
        self.expect(
            self.http
                .post(format!("{}{path}", self.base))
                .header("content-type", content_type)
                .body(body),
            &format!("POST {path}"),
        )
        .await
    }
}
