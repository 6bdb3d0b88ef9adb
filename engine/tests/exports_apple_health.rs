//! Apple Health's `export.xml` read as the Health app writes it: blood glucose records kept in
//! mg/dL or mmol/L (Apple's molar unit string too) at the instant written, with the meal time
//! from their metadata, values outside the plausible range as LO/HI; every other record
//! counted and dropped; records inside a correlation (Apple repeats them at the top) not
//! counted twice; the DOCTYPE's internal subset skipped, its entities never expanded; damaged
//! files and other files refused naming the line, and big files read as a stream.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use incentive_engine::exports::{
    DETECT_BYTES, ExportError, ExportOptions, Format, detect, read, read_apple_health,
};
use incentive_engine::{Context, GlucoseValue, Source};
use std::io::Read;

/// The head of an export as the Health app writes it (HealthKit Export Version 14, iOS 17):
/// the declaration and the DOCTYPE with Apple's internal DTD, 7,397 bytes.
const PROLOG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Me EMPTY>
<!ATTLIST Me
  HKCharacteristicTypeIdentifierDateOfBirth                   CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBiologicalSex                 CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBloodType                     CDATA #REQUIRED
  HKCharacteristicTypeIdentifierFitzpatrickSkinType           CDATA #REQUIRED
  HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse   CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!-- Note: Any Records that appear as children of a correlation also appear as top-level records in this document. -->
<!ELEMENT Correlation ((MetadataEntry|Record)*)>
<!ATTLIST Correlation
  type          CDATA #REQUIRED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT Workout ((MetadataEntry|WorkoutEvent|WorkoutRoute|WorkoutStatistics)*)>
<!ATTLIST Workout
  workoutActivityType   CDATA #REQUIRED
  duration              CDATA #IMPLIED
  durationUnit          CDATA #IMPLIED
  totalDistance         CDATA #IMPLIED
  totalDistanceUnit     CDATA #IMPLIED
  totalEnergyBurned     CDATA #IMPLIED
  totalEnergyBurnedUnit CDATA #IMPLIED
  sourceName            CDATA #REQUIRED
  sourceVersion         CDATA #IMPLIED
  device                CDATA #IMPLIED
  creationDate          CDATA #IMPLIED
  startDate             CDATA #REQUIRED
  endDate               CDATA #REQUIRED
>
<!ELEMENT WorkoutActivity ((MetadataEntry)*)>
<!ATTLIST WorkoutActivity
  uuid                 CDATA #REQUIRED
  startDate            CDATA #REQUIRED
  endDate              CDATA #IMPLIED
  duration             CDATA #IMPLIED
  durationUnit         CDATA #IMPLIED
>
<!ELEMENT WorkoutEvent ((MetadataEntry)*)>
<!ATTLIST WorkoutEvent
  type                 CDATA #REQUIRED
  date                 CDATA #REQUIRED
  duration             CDATA #IMPLIED
  durationUnit         CDATA #IMPLIED
>
<!ELEMENT WorkoutStatistics EMPTY>
<!ATTLIST WorkoutStatistics
  type                 CDATA #REQUIRED
  startDate            CDATA #REQUIRED
  endDate              CDATA #REQUIRED
  average              CDATA #IMPLIED
  minimum              CDATA #IMPLIED
  maximum              CDATA #IMPLIED
  sum                  CDATA #IMPLIED
  unit                 CDATA #IMPLIED
>
<!ELEMENT WorkoutRoute ((MetadataEntry|FileReference)*)>
<!ATTLIST WorkoutRoute
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT FileReference EMPTY>
<!ATTLIST FileReference
  path CDATA #REQUIRED
>
<!ELEMENT ActivitySummary EMPTY>
<!ATTLIST ActivitySummary
  dateComponents           CDATA #IMPLIED
  activeEnergyBurned       CDATA #IMPLIED
  activeEnergyBurnedGoal   CDATA #IMPLIED
  activeEnergyBurnedUnit   CDATA #IMPLIED
  appleMoveTime            CDATA #IMPLIED
  appleMoveTimeGoal        CDATA #IMPLIED
  appleExerciseTime        CDATA #IMPLIED
  appleExerciseTimeGoal    CDATA #IMPLIED
  appleStandHours          CDATA #IMPLIED
  appleStandHoursGoal      CDATA #IMPLIED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
<!-- Note: Heart Rate Variability records captured by Apple Watch may include an associated list of instantaneous beats-per-minute readings. -->
<!ELEMENT HeartRateVariabilityMetadataList (InstantaneousBeatsPerMinute*)>
<!ELEMENT InstantaneousBeatsPerMinute EMPTY>
<!ATTLIST InstantaneousBeatsPerMinute
  bpm  CDATA #REQUIRED
  time CDATA #REQUIRED
>
<!ELEMENT ClinicalRecord EMPTY>
<!ATTLIST ClinicalRecord
  type              CDATA #REQUIRED
  identifier        CDATA #REQUIRED
  sourceName        CDATA #REQUIRED
  sourceURL         CDATA #REQUIRED
  fhirVersion       CDATA #REQUIRED
  receivedDate      CDATA #REQUIRED
  resourceFilePath  CDATA #REQUIRED
>
<!ELEMENT Audiogram ((MetadataEntry|SensitivityPoint)*)>
<!ATTLIST Audiogram
  type          CDATA #REQUIRED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT SensitivityPoint EMPTY>
<!ATTLIST SensitivityPoint
  frequencyValue   CDATA #REQUIRED
  frequencyUnit    CDATA #REQUIRED
  leftEarValue     CDATA #IMPLIED
  leftEarUnit      CDATA #IMPLIED
  leftEarMasked      CDATA #IMPLIED
  leftEarClampingRangeLowerBound   CDATA #IMPLIED
  leftEarClampingRangeUpperBound   CDATA #IMPLIED
  rightEarValue    CDATA #IMPLIED
  rightEarUnit     CDATA #IMPLIED
  rightEarMasked      CDATA #IMPLIED
  rightEarClampingRangeLowerBound  CDATA #IMPLIED
  rightEarClampingRangeUpperBound  CDATA #IMPLIED
>
<!ELEMENT VisionPrescription ((RightEye|LeftEye|Attachment|MetadataEntry)*)>
<!ATTLIST VisionPrescription
  type             CDATA #REQUIRED
  dateIssued       CDATA #REQUIRED
  expirationDate   CDATA #IMPLIED
  brand            CDATA #IMPLIED
>
<!ELEMENT RightEye EMPTY>
<!ATTLIST RightEye
  sphere           CDATA #IMPLIED
  sphereUnit       CDATA #IMPLIED
  cylinder         CDATA #IMPLIED
  cylinderUnit     CDATA #IMPLIED
  axis             CDATA #IMPLIED
  axisUnit         CDATA #IMPLIED
  add              CDATA #IMPLIED
  addUnit          CDATA #IMPLIED
  vertex           CDATA #IMPLIED
  vertexUnit       CDATA #IMPLIED
  prismAmount      CDATA #IMPLIED
  prismAmountUnit  CDATA #IMPLIED
  prismAngle       CDATA #IMPLIED
  prismAngleUnit   CDATA #IMPLIED
  farPD            CDATA #IMPLIED
  farPDUnit        CDATA #IMPLIED
  nearPD           CDATA #IMPLIED
  nearPDUnit       CDATA #IMPLIED
  baseCurve        CDATA #IMPLIED
  baseCurveUnit    CDATA #IMPLIED
  diameter         CDATA #IMPLIED
  diameterUnit     CDATA #IMPLIED
>
<!ELEMENT LeftEye EMPTY>
<!ATTLIST LeftEye
  sphere           CDATA #IMPLIED
  sphereUnit       CDATA #IMPLIED
  cylinder         CDATA #IMPLIED
  cylinderUnit     CDATA #IMPLIED
  axis             CDATA #IMPLIED
  axisUnit         CDATA #IMPLIED
  add              CDATA #IMPLIED
  addUnit          CDATA #IMPLIED
  vertex           CDATA #IMPLIED
  vertexUnit       CDATA #IMPLIED
  prismAmount      CDATA #IMPLIED
  prismAmountUnit  CDATA #IMPLIED
  prismAngle       CDATA #IMPLIED
  prismAngleUnit   CDATA #IMPLIED
  farPD            CDATA #IMPLIED
  farPDUnit        CDATA #IMPLIED
  nearPD           CDATA #IMPLIED
  nearPDUnit       CDATA #IMPLIED
  baseCurve        CDATA #IMPLIED
  baseCurveUnit    CDATA #IMPLIED
  diameter         CDATA #IMPLIED
  diameterUnit     CDATA #IMPLIED
>
<!ELEMENT Attachment EMPTY>
<!ATTLIST Attachment
  identifier       CDATA #IMPLIED
>
]>
"#;

/// An export in Apple's exact layout: the prolog, the root, the export date, `<Me>`, then
/// `body` (one space of indent per level, as Apple writes it).
fn export(body: &str) -> String {
    format!(
        "{PROLOG}<HealthData locale=\"zh_CN\">\n <ExportDate value=\"2024-05-02 21:14:07 +0800\"/>\n <Me HKCharacteristicTypeIdentifierDateOfBirth=\"1978-09-14\" HKCharacteristicTypeIdentifierBiologicalSex=\"HKBiologicalSexFemale\" HKCharacteristicTypeIdentifierBloodType=\"HKBloodTypeNotSet\" HKCharacteristicTypeIdentifierFitzpatrickSkinType=\"HKFitzpatrickSkinTypeNotSet\" HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse=\"None\"/>\n{body}</HealthData>\n"
    )
}

fn options() -> ExportOptions {
    ExportOptions {
        source_name: "export.xml".into(),
        zone: None,
        date_order: None,
    }
}

const PHONE: &str = "&lt;&lt;HKDevice: 0x3027d4a50&gt;, name:iPhone, manufacturer:Apple Inc., model:iPhone, hardware:iPhone15,2, software:17.4.1, creation date:2024-04-12 08:13:22 +0000&gt;";
const WATCH: &str = "&lt;&lt;HKDevice: 0x3027d5e00&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,1, software:10.4, creation date:2024-03-30 10:02:11 +0000&gt;";

/// A glucose record as the Health app writes one typed in, `unit` and `value` as given.
fn glucose(unit: &str, value: &str, at: &str, children: &[&str]) -> String {
    let head = format!(
        " <Record type=\"HKQuantityTypeIdentifierBloodGlucose\" sourceName=\"Health\" sourceVersion=\"17.4.1\" unit=\"{unit}\" creationDate=\"{at}\" startDate=\"{at}\" endDate=\"{at}\" value=\"{value}\""
    );
    if children.is_empty() {
        format!("{head}/>\n")
    } else {
        let mut out = format!("{head}>\n");
        for c in children {
            out.push_str(&format!("  {c}\n"));
        }
        out.push_str(" </Record>\n");
        out
    }
}

fn body() -> String {
    [
        format!(" <Record type=\"HKQuantityTypeIdentifierStepCount\" sourceName=\"Li’s iPhone\" sourceVersion=\"17.4.1\" device=\"{PHONE}\" unit=\"count\" creationDate=\"2024-05-01 08:10:41 +0800\" startDate=\"2024-05-01 07:52:10 +0800\" endDate=\"2024-05-01 08:01:33 +0800\" value=\"512\"/>\n"),
        format!(" <Record type=\"HKQuantityTypeIdentifierHeartRate\" sourceName=\"Li’s Apple Watch\" sourceVersion=\"10.4\" device=\"{WATCH}\" unit=\"count/min\" creationDate=\"2024-05-01 07:36:02 +0800\" startDate=\"2024-05-01 07:35:58 +0800\" endDate=\"2024-05-01 07:35:58 +0800\" value=\"74\">\n  <MetadataEntry key=\"HKMetadataKeyHeartRateMotionContext\" value=\"0\"/>\n </Record>\n"),
        glucose("mg/dL", "112", "2024-05-01 07:40:00 +0800", &[
            r#"<MetadataEntry key="HKWasUserEntered" value="1"/>"#,
            r#"<MetadataEntry key="HKBloodGlucoseMealTime" value="1"/>"#,
        ]),
        " <Record type=\"HKQuantityTypeIdentifierInsulinDelivery\" sourceName=\"Health\" sourceVersion=\"17.4.1\" unit=\"IU\" creationDate=\"2024-05-01 07:45:03 +0800\" startDate=\"2024-05-01 07:45:00 +0800\" endDate=\"2024-05-01 07:45:00 +0800\" value=\"6\">\n  <MetadataEntry key=\"HKWasUserEntered\" value=\"1\"/>\n  <MetadataEntry key=\"HKInsulinDeliveryReason\" value=\"2\"/>\n </Record>\n".into(),
        " <Record type=\"HKQuantityTypeIdentifierDietaryCarbohydrates\" sourceName=\"MyFitnessPal\" sourceVersion=\"23.9.0\" unit=\"g\" creationDate=\"2024-05-01 08:02:19 +0800\" startDate=\"2024-05-01 07:50:00 +0800\" endDate=\"2024-05-01 07:50:00 +0800\" value=\"54\"/>\n".into(),
        glucose("mmol&lt;180.1558800000541&gt;/L", "7.8", "2024-05-01 09:40:00 +0800", &[
            r#"<MetadataEntry key="HKWasUserEntered" value="1"/>"#,
            r#"<MetadataEntry key="HKBloodGlucoseMealTime" value="2"/>"#,
        ]),
        " <Record type=\"HKQuantityTypeIdentifierBloodGlucose\" sourceName=\"Dexcom G7\" sourceVersion=\"2.2.1\" unit=\"mg/dL\" creationDate=\"2024-05-01 13:02:41 +0800\" startDate=\"2024-05-01 10:00:12 +0800\" endDate=\"2024-05-01 10:00:12 +0800\" value=\"131\"/>\n".into(),
        glucose("mmol/L", "5.5", "2024-05-01 23:10:00 +0800", &[r#"<MetadataEntry key="HKWasUserEntered" value="1"/>"#]),
        glucose("mg/dL", "15", "2024-05-02 03:05:00 +0800", &[]),
        glucose("mg/dL", "650", "2024-05-02 04:20:00 -0230", &[]),
        " <Record type=\"HKQuantityTypeIdentifierBloodPressureSystolic\" sourceName=\"OMRON connect\" sourceVersion=\"7.12.0\" unit=\"mmHg\" creationDate=\"2024-05-02 07:01:12 +0800\" startDate=\"2024-05-02 07:00:00 +0800\" endDate=\"2024-05-02 07:00:00 +0800\" value=\"128\"/>\n".into(),
        " <Record type=\"HKQuantityTypeIdentifierBloodPressureDiastolic\" sourceName=\"OMRON connect\" sourceVersion=\"7.12.0\" unit=\"mmHg\" creationDate=\"2024-05-02 07:01:12 +0800\" startDate=\"2024-05-02 07:00:00 +0800\" endDate=\"2024-05-02 07:00:00 +0800\" value=\"82\"/>\n".into(),
        " <Correlation type=\"HKCorrelationTypeIdentifierBloodPressure\" sourceName=\"OMRON connect\" sourceVersion=\"7.12.0\" creationDate=\"2024-05-02 07:01:12 +0800\" startDate=\"2024-05-02 07:00:00 +0800\" endDate=\"2024-05-02 07:00:00 +0800\">\n  <Record type=\"HKQuantityTypeIdentifierBloodPressureDiastolic\" sourceName=\"OMRON connect\" sourceVersion=\"7.12.0\" unit=\"mmHg\" creationDate=\"2024-05-02 07:01:12 +0800\" startDate=\"2024-05-02 07:00:00 +0800\" endDate=\"2024-05-02 07:00:00 +0800\" value=\"82\"/>\n  <Record type=\"HKQuantityTypeIdentifierBloodPressureSystolic\" sourceName=\"OMRON connect\" sourceVersion=\"7.12.0\" unit=\"mmHg\" creationDate=\"2024-05-02 07:01:12 +0800\" startDate=\"2024-05-02 07:00:00 +0800\" endDate=\"2024-05-02 07:00:00 +0800\" value=\"128\"/>\n </Correlation>\n".into(),
        format!(" <Record type=\"HKCategoryTypeIdentifierSleepAnalysis\" sourceName=\"Li’s Apple Watch\" sourceVersion=\"10.4\" device=\"{WATCH}\" creationDate=\"2024-05-02 07:12:40 +0800\" startDate=\"2024-05-02 01:02:30 +0800\" endDate=\"2024-05-02 01:48:00 +0800\" value=\"HKCategoryValueSleepAnalysisAsleepCore\"/>\n"),
        format!(" <Workout workoutActivityType=\"HKWorkoutActivityTypeWalking\" duration=\"32.44\" durationUnit=\"min\" sourceName=\"Li’s Apple Watch\" sourceVersion=\"10.4\" device=\"{WATCH}\" creationDate=\"2024-05-02 18:45:02 +0800\" startDate=\"2024-05-02 18:12:31 +0800\" endDate=\"2024-05-02 18:44:58 +0800\">\n  <MetadataEntry key=\"HKIndoorWorkout\" value=\"0\"/>\n  <WorkoutEvent type=\"HKWorkoutEventTypeSegment\" date=\"2024-05-02 18:12:31 +0800\" duration=\"10.1\" durationUnit=\"min\"/>\n  <WorkoutStatistics type=\"HKQuantityTypeIdentifierActiveEnergyBurned\" startDate=\"2024-05-02 18:12:31 +0800\" endDate=\"2024-05-02 18:44:58 +0800\" sum=\"98.3\" unit=\"Cal\"/>\n  <WorkoutRoute sourceName=\"Li’s Apple Watch\" sourceVersion=\"10.4\" creationDate=\"2024-05-02 18:45:10 +0800\" startDate=\"2024-05-02 18:12:31 +0800\" endDate=\"2024-05-02 18:44:58 +0800\">\n   <MetadataEntry key=\"HKMetadataKeySyncVersion\" value=\"2\"/>\n   <FileReference path=\"/workout-routes/route_2024-05-02_6.44pm.gpx\"/>\n  </WorkoutRoute>\n </Workout>\n"),
        " <ActivitySummary dateComponents=\"2024-05-02\" activeEnergyBurned=\"412.5\" activeEnergyBurnedGoal=\"500\" activeEnergyBurnedUnit=\"Cal\" appleMoveTime=\"0\" appleMoveTimeGoal=\"0\" appleExerciseTime=\"38\" appleExerciseTimeGoal=\"30\" appleStandHours=\"11\" appleStandHoursGoal=\"12\"/>\n".into(),
    ]
    .concat()
}

fn dropped(export: &incentive_engine::exports::Export) -> Vec<(&str, u64)> {
    export
        .report
        .dropped
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect()
}

#[test]
fn glucose_records_are_kept_with_their_meal_time_and_every_other_record_is_counted() {
    let text = export(&body());
    let export = read_apple_health(text.as_bytes(), &options()).unwrap();
    let r = &export.report;
    // 13 top-level records; the two inside the correlation repeat two of them and are not rows.
    assert_eq!((r.rows, r.kept, r.kept_as_lo, r.kept_as_hi), (13, 6, 1, 1));
    assert_eq!(r.kept_apart, 0);
    assert_eq!(dropped(&export), [("other records (not glucose)", 7)]);
    assert_eq!(
        r.summary(),
        "apple-health: 13 rows: 6 kept (1 as LO, 1 as HI); dropped 7: 7 other records (not glucose)"
    );
    let rd = &export.readings;
    let seen: Vec<(String, String, Context)> = rd
        .iter()
        .map(|x| (x.time.to_rfc3339(), x.value.to_string(), x.context))
        .collect();
    assert_eq!(
        seen,
        [
            // Typed in before breakfast: HKBloodGlucoseMealTime 1.
            (
                "2024-05-01T07:40:00+08:00".into(),
                "112 mg/dL".into(),
                Context::PreMeal
            ),
            // Apple's molar unit, mmol<180.1558800000541>/L, read as mmol/L (× 18 exactly),
            // after a meal: HKBloodGlucoseMealTime 2.
            (
                "2024-05-01T09:40:00+08:00".into(),
                "140.4 mg/dL".into(),
                Context::PostMeal
            ),
            // No metadata at all.
            (
                "2024-05-01T10:00:12+08:00".into(),
                "131 mg/dL".into(),
                Context::Unknown
            ),
            // Metadata, but no meal time; plain mmol/L.
            (
                "2024-05-01T23:10:00+08:00".into(),
                "99 mg/dL".into(),
                Context::Unknown
            ),
            (
                "2024-05-02T03:05:00+08:00".into(),
                "LO".into(),
                Context::Unknown
            ),
            // The offset as written, however odd.
            (
                "2024-05-02T04:20:00-02:30".into(),
                "HI".into(),
                Context::Unknown
            ),
        ]
    );
    assert_eq!(
        rd[0].value,
        GlucoseValue::parse("112", incentive_engine::GlucoseUnit::MgDl).unwrap()
    );
    assert!(rd.iter().all(|x| x.source == Source::Unspecified));
    // The same through the dispatcher the CLI and the API use.
    let via_read = read(Format::AppleHealth, text.as_bytes(), &options()).unwrap();
    assert_eq!(via_read.readings, export.readings);
    assert_eq!(via_read.report, export.report);
}

/// The line of the first line of `text` that holds `marker`, counted from 1.
fn line_of(text: &str, marker: &str) -> u64 {
    text.lines().position(|l| l.contains(marker)).unwrap() as u64 + 1
}

#[test]
fn a_glucose_record_that_cannot_be_read_is_named_by_its_line_and_attribute() {
    let at = "2024-05-01 07:40:00 +0800";
    let meal = |v: &str| format!(r#"<MetadataEntry key="HKBloodGlucoseMealTime" value="{v}"/>"#);
    for (record, marker, want) in [
        (
            glucose("mg/dL", "1O5", at, &[]),
            "1O5",
            "field `value`: `1O5` is not a glucose value (expected a number, `LO` or `HI`)",
        ),
        (
            glucose("mmol/mol", "48", at, &[]),
            "mmol/mol",
            "field `unit`: `mmol/mol` is not a glucose unit Apple Health writes (mg/dL, mmol<180.1558800000541>/L)",
        ),
        (
            glucose("mg/dL", "105", "2024-05-01T07:40:00+08:00", &[]),
            "T07:40",
            "field `startDate`: `2024-05-01T07:40:00+08:00` is not a time such as 2019-04-03 08:12:00 +0800",
        ),
        (
            glucose("mg/dL", "105", "2024-05-01 07:40:00 +08", &[]),
            "+08\"",
            "field `startDate`: `2024-05-01 07:40:00 +08` is not a time such as 2019-04-03 08:12:00 +0800",
        ),
        (
            " <Record type=\"HKQuantityTypeIdentifierBloodGlucose\" sourceName=\"Health\" unit=\"mg/dL\" startDate=\"2024-05-01 07:40:00 +0800\" endDate=\"2024-05-01 07:40:00 +0800\"/>\n".into(),
            "sourceName=\"Health\" unit",
            "field `value`: is missing",
        ),
        (
            glucose("mg/dL", "&amp;105", at, &[]),
            "&amp;105",
            "field `value`: `&105` is not a glucose value (expected a number, `LO` or `HI`)",
        ),
        (
            glucose("mg/dL", "105", at, &[r#"<MetadataEntry key="HKWasUserEntered" value="1"/>"#, &meal("3")]),
            "value=\"3\"",
            "field `HKBloodGlucoseMealTime`: `3` is not a meal time (1: before a meal, 2: after one)",
        ),
    ] {
        // Records before and after the bad one, so that its line is not the first or the last.
        let text = export(&format!("{}{record}{}", body(), body()));
        let line = line_of(&text, marker);
        assert!(line > 230, "{marker}: {line}");
        let e = read_apple_health(text.as_bytes(), &options()).unwrap_err();
        assert!(matches!(e, ExportError::Row { .. }), "{e:?}");
        assert_eq!(e.to_string(), format!("export.xml: line {line}, {want}"));
    }
}

#[test]
fn damaged_xml_is_refused_naming_the_line_where_it_breaks() {
    let good = export(&body());
    // An end tag that closes something else.
    let text = good.replacen(" </Record>", " </Recrd>", 1);
    let line = line_of(&good, " </Record>");
    let e = read_apple_health(text.as_bytes(), &options()).unwrap_err();
    let ExportError::Read {
        line: at, message, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(*at, line, "{message}");
    assert!(message.contains("Recrd"), "{message}");
    // Cut short inside a tag, as a copy that stopped half-way leaves it.
    let cut = &good[..good.find("value=\"131\"").unwrap()];
    let e = read_apple_health(cut.as_bytes(), &options()).unwrap_err();
    let ExportError::Read { line: at, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(*at, line_of(&good, "value=\"131\""), "{e}");
    // Cut short between two records: everything parses, but the root never ends.
    let cut = &good[..good
        .find(" <Record type=\"HKQuantityTypeIdentifierBloodPressureSystolic\"")
        .unwrap()];
    let e = read_apple_health(cut.as_bytes(), &options())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "export.xml: line {}: could not be read: the file ends before `</HealthData>`: the export was cut short (copy it again)",
            cut.lines().count() + 1
        )
    );
    // Something after the root.
    let e = read_apple_health(format!("{good}<HealthData/>\n").as_bytes(), &options())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "export.xml: line {}: could not be read: an element after `</HealthData>`: the export is followed by something else",
            good.lines().count() + 1
        )
    );
}

#[test]
fn a_tag_too_long_or_with_an_attribute_twice_is_refused_without_being_held() {
    // A value that never closes: the reader stops at 1 MiB, not at the end of the input.
    let long = export(&format!(
        "{} <Record type=\"HKQuantityTypeIdentifierStepCount\" sourceName=\"{}",
        body(),
        "a".repeat(3 << 20)
    ));
    let e = read_apple_health(long.as_bytes(), &options()).unwrap_err();
    let ExportError::Read { line, message, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(*line, long.lines().count() as u64, "{message}");
    assert!(
        message.contains("more than 1 MiB without the end of a tag"),
        "{message}"
    );
    let twice = export(&glucose(
        "mg/dL",
        "105\" value=\"150",
        "2024-05-01 07:40:00 +0800",
        &[],
    ));
    let e = read_apple_health(twice.as_bytes(), &options())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "export.xml: line {}: could not be read: attribute `value` is written twice in one tag",
            line_of(&twice, "value=\"150")
        )
    );
}

/// Every offset Apple can write, dates across a year's end and a leap day, in an order that
/// changes the date from one record to the next and keeps it: read as chrono reads them.
#[test]
fn times_are_read_at_the_instant_written_whatever_the_offset() {
    let mut written = Vec::new();
    for date in [
        "2024-02-29",
        "2024-12-31",
        "2025-01-01",
        "1970-01-01",
        "2019-04-03",
    ] {
        for zone in [
            "-1200", "-0930", "-0230", "-0000", "+0000", "+0100", "+0530", "+0845", "+1400",
        ] {
            for clock in ["00:00:00", "00:59:59", "12:34:56", "21:30:00", "23:59:59"] {
                written.push(format!("{date} {clock} {zone}"));
            }
        }
    }
    let body: String = written
        .iter()
        .map(|at| glucose("mg/dL", "100", at, &[]))
        .collect();
    let read = read_apple_health(export(&body).as_bytes(), &options()).unwrap();
    assert_eq!(read.readings.len(), written.len());
    for (reading, at) in read.readings.iter().zip(&written) {
        let want = chrono::DateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S %z").unwrap();
        assert_eq!(reading.time, want, "{at}");
        assert_eq!(reading.time.offset(), want.offset(), "{at}");
    }
    for bad in [
        "2024-02-30 08:00:00 +0100",
        "2024-05-01 24:00:00 +0100",
        "2024-05-01 08:00:60 +0100",
        "2024-05-01 08:00:00 +0160",
        "2024-05-01 08:00:00 +2400",
        "2024-05-01 08:00:00 0100",
    ] {
        let text = export(&glucose("mg/dL", "100", bad, &[]));
        let e = read_apple_health(text.as_bytes(), &options())
            .unwrap_err()
            .to_string();
        assert!(e.contains("field `startDate`: `"), "{bad}: {e}");
    }
}

/// A DOCTYPE declaring nested entities ("billion laughs"): skipped, never expanded. A record
/// of another type that uses one is counted like any other; a glucose attribute that uses one
/// is refused, not read as the thousand million characters it would expand to.
#[test]
fn entities_declared_in_the_doctype_are_never_expanded() {
    let mut dtd =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE HealthData [\n <!ENTITY lol \"lol\">\n");
    let mut prev = String::from("lol");
    for i in 1..10 {
        let name = format!("lol{i}");
        dtd.push_str(&format!(
            " <!ENTITY {name} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
        prev = name;
    }
    dtd.push_str("]>\n<HealthData locale=\"en_US\">\n");
    let other = " <Record type=\"HKQuantityTypeIdentifierStepCount\" sourceName=\"&lol9;\" unit=\"count\" startDate=\"2024-05-01 07:52:10 +0800\" endDate=\"2024-05-01 08:01:33 +0800\" value=\"&lol9;\"/>\n";
    let ok = format!(
        "{dtd}{other}{}</HealthData>\n",
        glucose("mg/dL", "98", "2024-05-01 07:40:00 +0800", &[])
    );
    let export = read_apple_health(ok.as_bytes(), &options()).unwrap();
    assert_eq!((export.report.rows, export.report.kept), (2, 1));
    assert_eq!(dropped(&export), [("other records (not glucose)", 1)]);
    let bad = format!(
        "{dtd}{}</HealthData>\n",
        glucose("mg/dL", "&lol9;", "2024-05-01 07:40:00 +0800", &[])
    );
    let e = read_apple_health(bad.as_bytes(), &options())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!(
            "export.xml: line {}, field `value`: ",
            line_of(&bad, "&lol9;\"/>")
        )),
        "{e}"
    );
    assert!(e.len() < 400, "{e}");
}

#[test]
fn files_that_are_not_an_apple_health_export_are_refused_saying_what_they_are() {
    for (input, want) in [
        (
            b"time,glucose_mg_dl\n2024-05-01T07:40:00+08:00,112\n".as_slice(),
            "export.xml: not a apple-health export: text before any `<HealthData>` root (line 1)",
        ),
        (
            br#"[{"type": "sgv", "sgv": 120, "date": 1}]"#.as_slice(),
            "export.xml: not a apple-health export: text before any `<HealthData>` root (line 1)",
        ),
        (
            b"".as_slice(),
            "export.xml: not a apple-health export: no `<HealthData>` root element",
        ),
        (
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\">\n</ClinicalDocument>\n".as_slice(),
            "export.xml: not a apple-health export: the root element is `<ClinicalDocument>`, not `<HealthData>` (that is export_cda.xml; the zip's export.xml is the one to give)",
        ),
        (
            b"PK\x03\x04\x14\x00\x08\x08\x08\x00apple_health_export/export.xml".as_slice(),
            "export.xml: not a apple-health export: a zip archive: unzip the Health app's export.zip and give its apple_health_export/export.xml",
        ),
        (
            b"<?xml version=\"1.0\"?>\n<!DOCTYPE HealthData [\n<!ELEMENT HealthData (Record*)>\n".as_slice(),
            "export.xml: not a apple-health export: not XML with a `<HealthData>` root (line 2: ",
        ),
    ] {
        let e = read_apple_health(input, &options()).unwrap_err();
        assert!(matches!(e, ExportError::NotThisFormat { .. }), "{e:?}");
        let e = e.to_string();
        assert!(e.starts_with(want), "{e}");
    }
}

#[test]
fn an_export_is_told_by_its_first_bytes() {
    // An export whose root comes within the bytes `detect` reads, as tools that strip Apple's
    // DTD write it.
    let stripped = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<HealthData locale=\"en_US\">\n{}</HealthData>\n",
        body()
    );
    let head = &stripped.as_bytes()[..DETECT_BYTES.min(stripped.len())];
    assert_eq!(detect(head), Some(Format::AppleHealth));
    assert_eq!(
        read_apple_health(stripped.as_bytes(), &options())
            .unwrap()
            .report
            .kept,
        6
    );
}

/// The Health app's own head: its DTD is 7,397 bytes, so `<HealthData` comes after the
/// bytes `detect` reads; the DOCTYPE's name, at the start, says what the file is.
#[test]
fn the_health_apps_own_head_is_told_an_apple_health_export() {
    let text = export(&body());
    assert!(text.find("<HealthData").unwrap() > DETECT_BYTES);
    assert_eq!(
        detect(&text.as_bytes()[..DETECT_BYTES]),
        Some(Format::AppleHealth)
    );
}

/// An export produced on the fly, never held: the document's prolog, `others` step records,
/// and a glucose record after every `every`-th of them.
struct Generated {
    next: usize,
    others: usize,
    every: usize,
    pending: Vec<u8>,
    done: bool,
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.is_empty() && !self.done {
            if self.next == 0 {
                self.pending
                    .extend_from_slice(export("").trim_end_matches("</HealthData>\n").as_bytes());
            }
            if self.next < self.others {
                let i = self.next;
                self.pending.extend_from_slice(format!(
                    " <Record type=\"HKQuantityTypeIdentifierStepCount\" sourceName=\"Li’s iPhone\" sourceVersion=\"17.4.1\" device=\"{PHONE}\" unit=\"count\" creationDate=\"2024-05-01 08:10:41 +0800\" startDate=\"2024-05-01 07:52:10 +0800\" endDate=\"2024-05-01 08:01:33 +0800\" value=\"{}\"/>\n",
                    i % 900
                ).as_bytes());
                if (i + 1).is_multiple_of(self.every) {
                    let minute = (i + 1) / self.every;
                    self.pending.extend_from_slice(
                        glucose(
                            "mg/dL",
                            &(90 + minute).to_string(),
                            &format!("2024-05-01 08:{minute:02}:00 +0800"),
                            &[],
                        )
                        .as_bytes(),
                    );
                }
                self.next += 1;
            } else {
                self.pending.extend_from_slice(b"</HealthData>\n");
                self.done = true;
            }
        }
        let n = self.pending.len().min(out.len());
        out[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

#[test]
fn an_export_of_two_hundred_thousand_other_records_is_read_as_a_stream() {
    let input = Generated {
        next: 0,
        others: 200_000,
        every: 40_000,
        pending: Vec::new(),
        done: false,
    };
    let export = read_apple_health(input, &options()).unwrap();
    let r = &export.report;
    assert_eq!((r.rows, r.kept), (200_005, 5));
    assert_eq!(dropped(&export), [("other records (not glucose)", 200_000)]);
    let seen: Vec<(String, String)> = export
        .readings
        .iter()
        .map(|x| (x.time.to_rfc3339(), x.value.to_string()))
        .collect();
    assert_eq!(
        seen,
        (1..=5)
            .map(|m| (
                format!("2024-05-01T08:{m:02}:00+08:00"),
                format!("{} mg/dL", 90 + m)
            ))
            .collect::<Vec<_>>()
    );
}

/// The fuzz seed (fuzz/corpus/device_exports) is an export read whole, so that mutations of it
/// reach the reader's every branch: across Berlin's spring change, in both units, LO and HI.
#[test]
fn the_fuzz_seed_is_an_export_read_whole() {
    let seed = include_bytes!("../../fuzz/corpus/device_exports/apple-health-export.xml");
    let export = read_apple_health(seed.as_slice(), &options()).unwrap();
    let r = &export.report;
    assert_eq!((r.rows, r.kept, r.kept_as_lo, r.kept_as_hi), (6, 4, 1, 1));
    assert_eq!(dropped(&export), [("other records (not glucose)", 2)]);
    let seen: Vec<(String, String, Context)> = export
        .readings
        .iter()
        .map(|x| (x.time.to_rfc3339(), x.value.to_string(), x.context))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "2025-03-30T01:58:00+01:00".into(),
                "104 mg/dL".into(),
                Context::PreMeal
            ),
            (
                "2025-03-30T03:01:00+02:00".into(),
                "160.2 mg/dL".into(),
                Context::PostMeal
            ),
            (
                "2025-03-30T07:00:00+02:00".into(),
                "LO".into(),
                Context::Unknown
            ),
            (
                "2025-03-30T07:30:00+02:00".into(),
                "HI".into(),
                Context::Unknown
            ),
        ]
    );
}
