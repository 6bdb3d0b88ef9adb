//! The parts of FHIR resources this reads, as serde reads them: every other field is skipped.

use super::people::Identifier;
use serde::Deserialize;
use serde::de::IgnoredAny;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct Resource {
    pub(super) resource_type: Option<String>,
    pub(super) id: Option<String>,
    pub(super) status: Option<String>,
    pub(super) code: Option<CodeableConcept>,
    pub(super) value_quantity: Option<Quantity>,
    pub(super) data_absent_reason: Option<IgnoredAny>,
    pub(super) effective_date_time: Option<String>,
    pub(super) effective_instant: Option<String>,
    pub(super) effective_period: Option<Period>,
    pub(super) subject: Option<Reference>,
    pub(super) identifier: Option<Vec<IdentifierJson>>,
    /// A Bundle's entries, where a Bundle is inside another (a top-level Bundle's are streamed).
    pub(super) entry: Option<Vec<Entry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Entry {
    pub(super) full_url: Option<String>,
    pub(super) resource: Option<Resource>,
}

#[derive(Deserialize)]
pub(super) struct CodeableConcept {
    pub(super) coding: Option<Vec<Coding>>,
}

#[derive(Deserialize)]
pub(super) struct Coding {
    pub(super) system: Option<String>,
    pub(super) code: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Quantity {
    pub(super) value: Option<serde_json::Number>,
    pub(super) comparator: Option<String>,
    pub(super) unit: Option<String>,
    pub(super) code: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Period {
    pub(super) start: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Reference {
    pub(super) reference: Option<String>,
    pub(super) identifier: Option<IdentifierJson>,
}

#[derive(Deserialize)]
pub(super) struct IdentifierJson {
    pub(super) system: Option<String>,
    pub(super) value: Option<String>,
}

impl IdentifierJson {
    pub(super) fn into_identifier(self) -> Option<Identifier> {
        Some(Identifier {
            system: self.system,
            value: self.value?,
        })
    }
}
