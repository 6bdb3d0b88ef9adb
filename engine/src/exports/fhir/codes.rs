//! What an Observation's LOINC code makes of it: a glucose reading (from which kind of device,
//! in which context), an HbA1c, a summary of many readings — or something this does not read.
//! Codes are LOINC's (loinc.org); the continuous-glucose ones are those the HL7 CGM
//! implementation guide (hl7.org/fhir/uv/cgm) profiles.

use crate::glucose::GlucoseUnit;
use crate::reading::{Context, Source};

/// LOINC's code system, as FHIR names it.
pub const LOINC: &str = "http://loinc.org";

/// What an observation's code says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Glucose {
        source: Source,
        context: Context,
    },
    Hba1c,
    /// A figure over many readings (mean glucose, GMI, time in ranges …): not a reading.
    Summary,
}

/// Glucose codes: where the sample was (interstitial fluid is a sensor; capillary blood by
/// glucometer a finger-stick; blood, serum or plasma a laboratory or an unnamed meter) and,
/// where the code says it, when.
const GLUCOSE: [(&str, Source, Context); 16] = [
    // Interstitial fluid: continuous glucose monitoring (the CGM IG's sensor readings).
    ("99504-3", Source::Cgm, Context::Unknown),
    ("105272-9", Source::Cgm, Context::Unknown),
    // Glucose in body fluid: the Argonaut CGM draft's molar sensor readings.
    ("14745-4", Source::Cgm, Context::Unknown),
    // Capillary blood by glucometer or test strip: finger-sticks.
    ("41653-7", Source::Smbg, Context::Unknown),
    ("14743-9", Source::Smbg, Context::Unknown),
    ("32016-8", Source::Smbg, Context::Unknown),
    ("2340-8", Source::Smbg, Context::Unknown),
    // Blood, method not said: meters' apps and health records use these for finger-sticks too.
    ("2339-0", Source::Unspecified, Context::Unknown),
    ("15074-8", Source::Unspecified, Context::Unknown),
    // Serum or plasma: the laboratory's venous glucose.
    ("2345-7", Source::Unspecified, Context::Unknown),
    ("14749-6", Source::Unspecified, Context::Unknown),
    // Fasting glucose in serum or plasma (and, outside the US, "serum, plasma or blood").
    ("1558-6", Source::Unspecified, Context::Fasting),
    ("14771-0", Source::Unspecified, Context::Fasting),
    ("77145-1", Source::Unspecified, Context::Fasting),
    // Capillary blood: fasting by glucometer; two hours after a meal.
    ("14770-2", Source::Smbg, Context::Fasting),
    ("14760-3", Source::Smbg, Context::PostMeal),
];

/// HbA1c: in blood (4548-4), by HPLC (17856-6), by electrophoresis (4549-2), and in IFCC
/// units (59261-8); the unit of each result says which scale it is on.
const HBA1C: [&str; 4] = ["4548-4", "17856-6", "4549-2", "59261-8"];

/// The CGM IG's summaries (its profiles' LOINC codes): figures over many readings.
const SUMMARY: [&str; 14] = [
    "104643-2", // CGM summary report
    "107931-8", // CGM summary panel, as earlier IG builds coded it
    "106793-3", // times in ranges panel
    "104642-4", // time below range, level 2
    "104641-6", // time below range, level 1
    "97510-2",  // time in range
    "104640-8", // time above range, level 1
    "104639-0", // time above range, level 2
    "97507-8",  // mean glucose (mass)
    "105273-7", // mean glucose (molar)
    "97506-0",  // glucose management indicator
    "104638-2", // coefficient of variation
    "104636-6", // days of wear
    "104637-4", // sensor active time
];

/// The CGM IG's own code system for summaries (`cgm-summary-codes-temporary`, and the
/// Argonaut draft's `tx.argo.run/cgm-summary`): any of its codes is a summary.
fn is_cgm_summary_system(system: &str) -> bool {
    system.contains("cgm-summary")
}

/// What the codings (system, code) say an observation is: the first LOINC code this knows,
/// or a summary by the CGM IG's own code system; `None` for anything else.
pub fn kind<'a>(
    codings: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)> + Clone,
) -> Option<Kind> {
    let loinc = codings
        .clone()
        .filter(|(system, _)| *system == Some(LOINC))
        .filter_map(|(_, code)| code)
        .find_map(|code| {
            if let Some((_, source, context)) = GLUCOSE.iter().find(|(c, ..)| *c == code) {
                Some(Kind::Glucose {
                    source: *source,
                    context: *context,
                })
            } else if HBA1C.contains(&code) {
                Some(Kind::Hba1c)
            } else if SUMMARY.contains(&code) {
                Some(Kind::Summary)
            } else {
                None
            }
        });
    loinc.or_else(|| {
        codings
            .filter_map(|(system, _)| system)
            .any(is_cgm_summary_system)
            .then_some(Kind::Summary)
    })
}

/// A glucose unit in UCUM (`mg/dL`, `mmol/L`), or as people write it in `unit` (`mg/dl`).
pub fn glucose_unit(text: &str) -> Option<GlucoseUnit> {
    if text.eq_ignore_ascii_case("mg/dL") {
        Some(GlucoseUnit::MgDl)
    } else if text.eq_ignore_ascii_case("mmol/L") {
        Some(GlucoseUnit::MmolL)
    } else {
        None
    }
}

/// An HbA1c scale: NGSP percent, or IFCC mmol/mol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hba1cUnit {
    Percent,
    IfccMmolMol,
}

pub fn hba1c_unit(text: &str) -> Option<Hba1cUnit> {
    match text {
        "%" => Some(Hba1cUnit::Percent),
        t if t.eq_ignore_ascii_case("mmol/mol") => Some(Hba1cUnit::IfccMmolMol),
        _ => None,
    }
}
