//! A decision as its member reads it, in their language: `?locale=zh-CN` asks for one; else
//! the member's own `locale` attribute; else the caller's `Accept-Language`; else the
//! package's default. The decision's bytes and hash are never touched: its explanation is
//! stored as message ids with arguments and only written out here.

use crate::AppState;
use crate::error::ApiError;
use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use incentive_engine::locale::{
    LOCALE_TAG_BYTES_MAX, MemberView, Shows, accepted_languages, is_locale_tag,
};
use incentive_engine::policy::Policy;
use incentive_store::StoredDecision;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `?locale=`: the language to show decisions in.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LocaleQuery {
    /// A language tag such as `zh-CN` or `en`; the explanation in `shown` is written in the
    /// closest language the policy has (else the member's own, else `Accept-Language`).
    #[param(max_length = 35, example = "zh-CN")]
    pub locale: Option<String>,
}

/// Who reads: the language asked for, and what their app accepts.
#[derive(Debug, Default)]
pub struct Reader {
    asked: Option<String>,
    accepted: Vec<String>,
}

impl Reader {
    pub fn new(q: LocaleQuery, headers: &HeaderMap) -> Result<Self, ApiError> {
        if let Some(tag) = &q.locale
            && !is_locale_tag(tag)
        {
            return Err(ApiError::BadRequest(format!(
                "locale: `{}` is not a language tag such as `zh-CN` (at most {LOCALE_TAG_BYTES_MAX} bytes)",
                incentive_engine::text::excerpt(&tag.escape_default().to_string())
            )));
        }
        let accepted = headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(accepted_languages)
            .unwrap_or_default();
        Ok(Self {
            asked: q.locale,
            accepted,
        })
    }

    pub fn asked(&self) -> Option<&str> {
        self.asked.as_deref()
    }

    pub fn accepted(&self) -> impl Iterator<Item = &str> {
        self.accepted.iter().map(String::as_str)
    }
}

/// Shows decisions of one tenant, compiling each policy version once however many of its
/// decisions are shown, and reading each member's language once.
pub(crate) struct Showing<'a> {
    state: &'a AppState,
    tenant: &'a str,
    reader: &'a Reader,
    policies: BTreeMap<(String, String), Arc<Policy>>,
    members: BTreeMap<String, Option<String>>,
}

impl<'a> Showing<'a> {
    pub fn new(state: &'a AppState, tenant: &'a str, reader: &'a Reader) -> Self {
        Self {
            state,
            tenant,
            reader,
            policies: BTreeMap::new(),
            members: BTreeMap::new(),
        }
    }

    /// The member view of a stored decision.
    pub async fn member_view(&mut self, d: &StoredDecision) -> Result<MemberView, ApiError> {
        let key = (d.policy_id.clone(), d.policy_version.clone());
        let policy = match self.policies.get(&key) {
            Some(p) => Arc::clone(p),
            None => {
                let p = self
                    .state
                    .store
                    .policy_version_compiled(self.tenant, &d.policy_id, &d.policy_version)
                    .await?;
                self.policies.insert(key, Arc::clone(&p));
                p
            }
        };
        let member_locale = match self.members.get(&d.member_id) {
            Some(l) => l.clone(),
            None => {
                let l = self
                    .state
                    .store
                    .member_locale(self.tenant, &d.member_id)
                    .await?;
                self.members.insert(d.member_id.clone(), l.clone());
                l
            }
        };
        // INVARIANT: the body is the engine's own JSON of the decision, stored with its hash.
        let shows = Shows::from_json(&d.body).map_err(|_| ApiError::Internal)?;
        let accepted: Vec<&str> = self.reader.accepted().collect();
        let catalogs = &policy.catalogs;
        let locale = catalogs.for_reader(self.reader.asked(), member_locale.as_deref(), &accepted);
        Ok(catalogs.member_view_of(locale, &shows))
    }
}
