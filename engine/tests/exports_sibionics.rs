//! The SiBionics app's export read as the app writes it: an .xlsx workbook (named .xls), a sheet
//! of times with their offset from GMT and sensor readings in mg/dL or mmol/L, times without a
//! reading dropped and counted, readings beyond the sensor's range kept as LO/HI; anything that
//! is not such a workbook refused, and a workbook built to exhaust the reader refused before it
//! is read. The workbooks are written here, in the app's layout (what Apache POI writes for it:
//! every cell a shared string), so no binary fixture is kept.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use incentive_engine::exports::{
    DETECT_BYTES, ExportError, ExportOptions, Format, detect, read, read_sibionics,
};
use incentive_engine::{Context, GlucoseValue, Source};
use std::io::{Read, Write};

/// A cell of a workbook.
#[derive(Clone, Copy)]
enum Cell<'a> {
    /// Text, in the shared strings: how the app writes every cell, times and readings alike.
    Text(&'a str),
    /// A number cell (a workbook saved again by a spreadsheet program).
    Number(&'a str),
    /// A cell with a style and nothing in it.
    Blank,
    /// No cell at all.
    Missing,
}

use Cell::{Blank, Missing, Number, Text};

struct Sheet<'a> {
    name: &'a str,
    rows: Vec<Vec<Cell<'a>>>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The column letter of column `i` (0 = A), for the few columns these workbooks have.
fn column(i: usize) -> char {
    char::from(b'A' + u8::try_from(i).unwrap())
}

/// A workbook of `sheets` in the app's layout: the parts Apache POI writes, in its order, every
/// text a shared string (each once), the header row in style 1 and the rest in style 2.
/// `deflated`: compressed as the app's are; else stored, so that a fuzzer's mutations reach
/// the XML.
fn workbook(sheets: &[Sheet], deflated: bool) -> Vec<u8> {
    let ns = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main""#;
    let mut strings: Vec<String> = Vec::new();
    let mut shared = |text: &str| match strings.iter().position(|s| s == text) {
        Some(i) => i,
        None => {
            strings.push(text.to_owned());
            strings.len() - 1
        }
    };
    let mut parts_of_sheets = Vec::new();
    for sheet in sheets {
        let width = sheet.rows.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let mut xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<worksheet {ns}><dimension ref="A1:{}{}"/><sheetViews><sheetView workbookViewId="0" tabSelected="true"/></sheetViews><sheetFormatPr defaultRowHeight="15.0" baseColWidth="25"/><sheetData>"#,
            column(width - 1),
            sheet.rows.len().max(1)
        );
        for (r, row) in sheet.rows.iter().enumerate() {
            let n = r + 1;
            let style = if r == 0 { 1 } else { 2 };
            xml.push_str(&format!(r#"<row r="{n}">"#));
            for (c, cell) in row.iter().enumerate() {
                let at = format!("{}{n}", column(c));
                match cell {
                    Text(text) => xml.push_str(&format!(
                        r#"<c r="{at}" s="{style}" t="s"><v>{}</v></c>"#,
                        shared(text)
                    )),
                    Number(n) => {
                        xml.push_str(&format!(r#"<c r="{at}" s="{style}"><v>{n}</v></c>"#))
                    }
                    Blank => xml.push_str(&format!(r#"<c r="{at}" s="{style}"/>"#)),
                    Missing => {}
                }
            }
            xml.push_str("</row>");
        }
        xml.push_str(r#"</sheetData><pageMargins bottom="0.75" footer="0.3" header="0.3" left="0.7" right="0.7" top="0.75"/></worksheet>"#);
        parts_of_sheets.push(xml);
    }
    let mut sst = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sst count="{}" uniqueCount="{}" {ns}>"#,
        strings.len(),
        strings.len()
    );
    for s in &strings {
        sst.push_str(&format!("<si><t>{}</t></si>", escape(s)));
    }
    sst.push_str("</sst>");
    let mut parts = vec![
        (
            "[Content_Types].xml".to_owned(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default ContentType="application/vnd.openxmlformats-package.relationships+xml" Extension="rels"/><Default ContentType="application/xml" Extension="xml"/><Override ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" PartName="/xl/sharedStrings.xml"/><Override ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml" PartName="/xl/styles.xml"/><Override ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml" PartName="/xl/workbook.xml"/>{}</Types>"#,
                (1..=sheets.len())
                    .map(|i| format!(r#"<Override ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml" PartName="/xl/worksheets/sheet{i}.xml"/>"#))
                    .collect::<String>()
            ),
        ),
        (
            "_rels/.rels".to_owned(),
            r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>"#
                .to_owned(),
        ),
        ("xl/sharedStrings.xml".to_owned(), sst),
        (
            "xl/styles.xml".to_owned(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<styleSheet {ns}><fonts count="1"><font><sz val="11.0"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="solid"><fgColor indexed="22"/></patternFill></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="0" fillId="1" borderId="0" xfId="0" applyFill="true"/><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs></styleSheet>"#
            ),
        ),
        (
            "xl/workbook.xml".to_owned(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<workbook {ns} xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr date1904="false"/><bookViews><workbookView activeTab="0"/></bookViews><sheets>{}</sheets></workbook>"#,
                sheets
                    .iter()
                    .enumerate()
                    .map(|(i, s)| format!(
                        r#"<sheet name="{}" r:id="rId{}" sheetId="{}"/>"#,
                        escape(s.name),
                        i + 3,
                        i + 1
                    ))
                    .collect::<String>()
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels".to_owned(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/><Relationship Id="rId2" Target="styles.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"/>{}</Relationships>"#,
                (1..=sheets.len())
                    .map(|i| format!(
                        r#"<Relationship Id="rId{}" Target="worksheets/sheet{i}.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>"#,
                        i + 2
                    ))
                    .collect::<String>()
            ),
        ),
    ];
    for (i, xml) in parts_of_sheets.into_iter().enumerate() {
        parts.push((format!("xl/worksheets/sheet{}.xml", i + 1), xml));
    }
    zip(&parts, deflated)
}

/// A zip archive of `parts`, in their order.
fn zip(parts: &[(String, String)], deflated: bool) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(if deflated {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    });
    for (name, text) in parts {
        out.start_file(name.as_str(), options).unwrap();
        out.write_all(text.as_bytes()).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// The app's export: the `Sensor Glucose` sheet, its header with readings in `unit`, then `rows`
/// of (time, reading), both as text ("" an empty string, as the app would write one).
fn export(unit: &str, rows: &[(&str, &str)]) -> Vec<u8> {
    let header = format!("Sensor Reading({unit})");
    let mut all = vec![vec![Text("Time"), Text(&header)]];
    all.extend(rows.iter().map(|(t, v)| vec![Text(t), Text(v)]));
    workbook(
        &[Sheet {
            name: "Sensor Glucose",
            rows: all,
        }],
        true,
    )
}

fn options() -> ExportOptions {
    ExportOptions {
        source_name: "sibionics.xls".into(),
        zone: None,
        date_order: None,
    }
}

fn refusal(bytes: &[u8]) -> String {
    read_sibionics(bytes, &options()).unwrap_err().to_string()
}

#[test]
fn readings_are_kept_at_the_instants_their_offsets_from_gmt_say() {
    let bytes = export(
        "mg/dL",
        &[
            ("13-02-2026 15:46 GMT-3", "95"),
            ("13-02-2026 15:51 GMT-3", "101"),
            ("01-03-2026 07:05 GMT+8", "142"),
            ("01-03-2026 07:05 GMT+05:30", "77"),
            ("31-12-2025 23:59 GMT", "180"),
            // Out of order: kept as it comes (the readings are sorted later).
            ("13-02-2026 15:41 GMT-03:00", "88"),
        ],
    );
    let export = read_sibionics(bytes.as_slice(), &options()).unwrap();
    let times: Vec<String> = export
        .readings
        .iter()
        .map(|r| r.time.to_rfc3339())
        .collect();
    assert_eq!(
        times,
        [
            "2026-02-13T15:46:00-03:00",
            "2026-02-13T15:51:00-03:00",
            "2026-03-01T07:05:00+08:00",
            "2026-03-01T07:05:00+05:30",
            "2025-12-31T23:59:00+00:00",
            "2026-02-13T15:41:00-03:00",
        ]
    );
    // 15:46 at GMT-3 is 18:46 UTC.
    assert_eq!(
        export.readings[0].time.to_utc().to_rfc3339(),
        "2026-02-13T18:46:00+00:00"
    );
    let mg_dl: Vec<f64> = export
        .readings
        .iter()
        .map(|r| match r.value {
            GlucoseValue::Measured(g) => g.mg_dl(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(mg_dl, [95.0, 101.0, 142.0, 77.0, 180.0, 88.0]);
    assert!(
        export
            .readings
            .iter()
            .all(|r| r.source == Source::Cgm && r.context == Context::Unknown)
    );
    let r = &export.report;
    assert_eq!((r.format, r.rows, r.kept), (Some(Format::SiBionics), 6, 6));
    assert!(r.dropped.is_empty());
    assert_eq!(r.summary(), "sibionics: 6 rows: 6 kept");
}

#[test]
fn times_without_a_reading_are_dropped_and_counted_however_the_empty_cell_is_written() {
    let rows = vec![
        vec![Text("Time"), Text("Sensor Reading(mg/dL)")],
        vec![Text("13-02-2026 15:46 GMT-3"), Text("95")],
        // An empty string, a styled cell with nothing in it, no cell at all.
        vec![Text("13-02-2026 15:51 GMT-3"), Text("")],
        vec![Text("13-02-2026 15:56 GMT-3"), Blank],
        vec![Text("13-02-2026 16:01 GMT-3"), Missing],
        vec![Text("13-02-2026 16:06 GMT-3"), Text("  ")],
        vec![Text("13-02-2026 16:11 GMT-3"), Text("97")],
        // A row with nothing in it is no row; one with a note and no time or reading is.
        vec![Blank, Blank],
        vec![Missing, Missing, Text("sensor changed")],
    ];
    let bytes = workbook(
        &[Sheet {
            name: "Sensor Glucose",
            rows,
        }],
        true,
    );
    let export = read_sibionics(bytes.as_slice(), &options()).unwrap();
    let r = &export.report;
    assert_eq!((r.rows, r.kept), (7, 2));
    assert_eq!(
        r.dropped
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect::<Vec<_>>(),
        [
            ("rows without a time or a reading", 1),
            ("times without a reading", 4)
        ]
    );
    let dropped: u64 = r.dropped.values().sum();
    assert_eq!(r.rows, r.kept + r.kept_apart + r.kept_labs + dropped);
    assert_eq!(
        r.summary(),
        "sibionics: 7 rows: 2 kept; dropped 5: 1 rows without a time or a reading, 4 times without a reading"
    );
}

#[test]
fn readings_below_20_or_above_600_mg_dl_are_kept_as_lo_and_hi() {
    let bytes = export(
        "mg/dL",
        &[
            ("13-02-2026 15:46 GMT-3", "19"),
            ("13-02-2026 15:51 GMT-3", "20"),
            ("13-02-2026 15:56 GMT-3", "600"),
            ("13-02-2026 16:01 GMT-3", "601"),
            ("13-02-2026 16:06 GMT-3", "LO"),
            ("13-02-2026 16:11 GMT-3", "Hi"),
        ],
    );
    let export = read_sibionics(bytes.as_slice(), &options()).unwrap();
    let values: Vec<String> = export
        .readings
        .iter()
        .map(|r| match r.value {
            GlucoseValue::Measured(g) => g.mg_dl().to_string(),
            GlucoseValue::Low => "LO".into(),
            GlucoseValue::High => "HI".into(),
        })
        .collect();
    assert_eq!(values, ["LO", "20", "600", "HI", "LO", "HI"]);
    let r = &export.report;
    assert_eq!((r.rows, r.kept, r.kept_as_lo, r.kept_as_hi), (6, 6, 2, 2));
}

#[test]
fn a_workbook_in_mmol_per_litre_is_read_in_mmol_per_litre_text_or_numbers() {
    let rows = vec![
        vec![Text("Time"), Text("Sensor Reading(mmol/L)")],
        vec![Text("13-02-2026 15:46 GMT-3"), Text("5.5")],
        vec![Text("13-02-2026 15:51 GMT-3"), Number("13.9")],
        vec![Text("13-02-2026 15:56 GMT-3"), Number("1")],
        vec![Text("13-02-2026 16:01 GMT-3"), Text("34.0")],
    ];
    let bytes = workbook(
        &[Sheet {
            name: "Sensor Glucose",
            rows,
        }],
        true,
    );
    let export = read_sibionics(bytes.as_slice(), &options()).unwrap();
    let values: Vec<GlucoseValue> = export.readings.iter().map(|r| r.value).collect();
    // 13.9 mmol/L is 250.2 mg/dL exactly, as a policy's 13.9 is (not 250.20000000000002).
    assert!(matches!(values[0], GlucoseValue::Measured(g) if g.mg_dl() == 99.0));
    assert!(matches!(values[1], GlucoseValue::Measured(g) if g.mg_dl() == 250.2));
    // 1 mmol/L is 18 mg/dL, below the range; 34 is 612.
    assert_eq!(values[2..], [GlucoseValue::Low, GlucoseValue::High]);
    assert_eq!((export.report.kept_as_lo, export.report.kept_as_hi), (1, 1));
}

#[test]
fn a_bad_time_or_reading_is_refused_naming_its_row_and_column() {
    let such_as = "such as 13-02-2026 15:46 GMT-3 (day-month-year, 24-hour clock, offset from GMT)";
    for (time, problem) in [
        (
            "2026-02-13 15:46 GMT-3",
            format!("`2026-02-13 15:46 GMT-3` is not a time {such_as}"),
        ),
        // Month first: there is no 13th month.
        (
            "02-13-2026 15:46 GMT-3",
            format!("`02-13-2026 15:46 GMT-3` is not a time {such_as}"),
        ),
        (
            "13-02-2026 15:46",
            format!("`13-02-2026 15:46` is not a time {such_as}"),
        ),
        (
            "13-02-2026 15:46 GMT+15",
            format!("`13-02-2026 15:46 GMT+15` is not a time {such_as}"),
        ),
        (
            "13-02-2026 15:46 GMT+3:5",
            format!("`13-02-2026 15:46 GMT+3:5` is not a time {such_as}"),
        ),
        (
            "13-02-2026 15:46 UTC-3",
            format!("`13-02-2026 15:46 UTC-3` is not a time {such_as}"),
        ),
    ] {
        let bytes = export("mg/dL", &[("13-02-2026 15:41 GMT-3", "90"), (time, "95")]);
        assert!(matches!(
            read_sibionics(bytes.as_slice(), &options()).unwrap_err(),
            ExportError::Row {
                line: 3,
                field: "Time",
                ..
            }
        ));
        assert_eq!(
            refusal(&bytes),
            format!("sibionics.xls: line 3, field `Time`: {problem}")
        );
    }
    let bytes = export("mg/dL", &[("13-02-2026 15:41 GMT-3", "90"), ("", "95")]);
    assert_eq!(
        refusal(&bytes),
        "sibionics.xls: line 3, field `Time`: is empty, beside a sensor reading"
    );
    let bytes = workbook(
        &[Sheet {
            name: "Sensor Glucose",
            rows: vec![
                vec![Text("Time"), Text("Sensor Reading(mg/dL)")],
                vec![Number("46066.65694"), Text("95")],
            ],
        }],
        true,
    );
    assert_eq!(
        refusal(&bytes),
        format!(
            "sibionics.xls: line 2, field `Time`: the number `46066.65694` is not a time {such_as}"
        )
    );
    let bytes = export(
        "mg/dL",
        &[
            ("13-02-2026 15:41 GMT-3", "90"),
            ("13-02-2026 15:46 GMT-3", "9O"),
        ],
    );
    assert_eq!(
        refusal(&bytes),
        "sibionics.xls: line 3, field `Sensor Reading(mg/dL)`: `9O` is not a glucose value (expected a number, `LO` or `HI`)"
    );
    let bytes = export("mmol/L", &[("13-02-2026 15:46 GMT-3", "0")]);
    assert!(
        refusal(&bytes).starts_with(
            "sibionics.xls: line 2, field `Sensor Reading(mmol/L)`: glucose value 0 mmol/L is not positive"
        ),
        "{}",
        refusal(&bytes)
    );
}

#[test]
fn a_workbook_without_the_header_is_refused_naming_what_is_missing() {
    let sheet = |header: Vec<Cell<'static>>| {
        workbook(
            &[Sheet {
                name: "Sheet1",
                rows: vec![header, vec![Text("13-02-2026 15:46 GMT-3"), Text("95")]],
            }],
            true,
        )
    };
    assert!(matches!(
        read_sibionics(
            sheet(vec![Text("Date"), Text("Glucose")]).as_slice(),
            &options()
        ),
        Err(ExportError::NotThisFormat {
            format: Format::SiBionics,
            ..
        })
    ));
    assert_eq!(
        refusal(&sheet(vec![Text("Date"), Text("Glucose")])),
        "sibionics.xls: not a sibionics export: no `Time` and `Sensor Reading(mg/dL)` (or `Sensor Reading(mmol/L)`) header in the first 10 rows of its sheets (`Sheet1`)"
    );
    assert_eq!(
        refusal(&sheet(vec![Text("Time"), Text("Glucose (mg/dL)")])),
        "sibionics.xls: not a sibionics export: no `Sensor Reading(mg/dL)` or `Sensor Reading(mmol/L)` column beside `Time` in the first 10 rows of its sheets (`Sheet1`)"
    );
    assert_eq!(
        refusal(&sheet(vec![Text("Date"), Text("Sensor Reading(mg/dL)")])),
        "sibionics.xls: not a sibionics export: no `Time` column beside the sensor readings in the first 10 rows of its sheets (`Sheet1`)"
    );
    // A unit the app does not write is no header either.
    assert!(
        refusal(&sheet(vec![Text("Time"), Text("Sensor Reading(mg%)")]))
            .contains("no `Sensor Reading(mg/dL)`")
    );
}

#[test]
fn rows_above_the_header_and_sheets_without_it_are_counted_not_read_and_other_columns_ignored() {
    let bytes = workbook(
        &[
            Sheet {
                name: "Notes",
                rows: vec![
                    vec![Text("Exported by the app")],
                    vec![Text("Time"), Text("what")],
                    vec![Text("13-02-2026 15:46 GMT-3"), Text("sensor started")],
                ],
            },
            Sheet {
                name: "Sensor Glucose",
                rows: vec![
                    vec![Text("Glucose report, 13-02-2026 to 20-02-2026")],
                    vec![],
                    vec![Text("Note"), Text("Sensor Reading (mg/dL)"), Text("time")],
                    vec![
                        Text("after lunch"),
                        Text("150"),
                        Text("13-02-2026 15:46 GMT-3"),
                    ],
                    vec![Blank, Number("151"), Text("13-02-2026 15:51 GMT-3")],
                ],
            },
        ],
        true,
    );
    let export = read_sibionics(bytes.as_slice(), &options()).unwrap();
    let r = &export.report;
    assert_eq!((r.rows, r.kept), (6, 2));
    assert_eq!(
        r.dropped
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect::<Vec<_>>(),
        [
            ("rows above the header (not readings)", 1),
            ("rows of other sheets (not readings)", 3)
        ]
    );
    assert_eq!(
        export.readings[1].time.to_rfc3339(),
        "2026-02-13T15:51:00-03:00"
    );
    // With several sheets, a row's error names its sheet.
    let bytes = workbook(
        &[
            Sheet {
                name: "Notes",
                rows: vec![vec![Text("nothing here")]],
            },
            Sheet {
                name: "Sensor Glucose",
                rows: vec![
                    vec![Text("Time"), Text("Sensor Reading(mg/dL)")],
                    vec![Text("yesterday"), Text("95")],
                ],
            },
        ],
        true,
    );
    assert!(
        refusal(&bytes).ends_with("offset from GMT) (sheet `Sensor Glucose`)"),
        "{}",
        refusal(&bytes)
    );
}

#[test]
fn bytes_that_are_not_an_xlsx_workbook_are_refused_not_read() {
    let not_this = |problem: &str| format!("sibionics.xls: not a sibionics export: {problem}");
    let not_a_zip = not_this("not an .xlsx workbook (a zip archive, whose first bytes are `PK`)");
    assert_eq!(refusal(b""), not_a_zip);
    assert_eq!(refusal(b"Time,Sensor Reading(mg/dL)\n"), not_a_zip);
    assert_eq!(
        refusal(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0]),
        not_this(
            "an Excel 97–2003 workbook (a true .xls); the app's export is an .xlsx (a zip archive)"
        )
    );
    // A zip archive's first bytes, and then not one.
    assert!(
        refusal(b"PK\x03\x04 and then nothing a zip has")
            .starts_with(&not_this("not a zip archive, as an .xlsx workbook is (")),
        "{}",
        refusal(b"PK\x03\x04 and then nothing a zip has")
    );
    // A zip archive that is no workbook.
    let other = zip(&[("readme.txt".into(), "hello".into())], true);
    assert!(
        refusal(&other).starts_with(&not_this("not a readable .xlsx workbook (")),
        "{}",
        refusal(&other)
    );
    // More than the reader holds: refused once the limit is passed, not read on.
    let big = std::io::Cursor::new(b"PK\x03\x04").chain(std::io::repeat(0).take(64 << 20));
    assert_eq!(
        read_sibionics(big, &options()).unwrap_err().to_string(),
        not_this(
            "the workbook is over 64 MiB; the app's exports are far smaller (a week is about 35 KB)"
        )
    );
}

#[test]
fn detect_tells_a_workbook_by_its_first_bytes_whatever_its_name() {
    let bytes = export("mg/dL", &[("13-02-2026 15:46 GMT-3", "95")]);
    assert_eq!(
        detect(&bytes[..bytes.len().min(DETECT_BYTES)]),
        Some(Format::SiBionics)
    );
    for name in ["export.xls", "export.xlsx", "readings.csv", "<stdin>"] {
        let options = ExportOptions {
            source_name: name.into(),
            zone: None,
            date_order: None,
        };
        let export = read(Format::SiBionics, bytes.as_slice(), &options).unwrap();
        assert_eq!(export.report.kept, 1, "{name}");
    }
}

/// Replaces the uncompressed size the central directory declares for `part` with `size`.
fn declare_size(archive: &mut [u8], part: &str, size: u32) {
    let mut at = 0;
    let mut found = false;
    while let Some(i) = archive[at..]
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .map(|i| i + at)
    {
        let name_len = usize::from(u16::from_le_bytes([archive[i + 28], archive[i + 29]]));
        if &archive[i + 46..i + 46 + name_len] == part.as_bytes() {
            archive[i + 24..i + 28].copy_from_slice(&size.to_le_bytes());
            found = true;
        }
        at = i + 4;
    }
    assert!(found, "{part}");
}

/// What a few kilobytes of a crafted workbook would make calamine 0.38 do unchecked: reserve
/// room for 2^64 − 1 shared strings (a panic) or 4 billion (an abort), overflow on a cell
/// reference or a dimension that ends before it starts (a panic), inflate a sheet to gigabytes.
#[test]
fn a_workbook_built_to_exhaust_the_reader_is_refused_before_it_is_read() {
    let good = String::from_utf8(zip_part(
        &export("mg/dL", &[("13-02-2026 15:46 GMT-3", "95")]),
        "xl/worksheets/sheet1.xml",
    ))
    .unwrap();
    let sst = String::from_utf8(zip_part(
        &export("mg/dL", &[("13-02-2026 15:46 GMT-3", "95")]),
        "xl/sharedStrings.xml",
    ))
    .unwrap();
    let with = |part: &str, text: String| {
        let bytes = export("mg/dL", &[("13-02-2026 15:46 GMT-3", "95")]);
        let mut parts = zip_parts(&bytes);
        for (name, old) in &mut parts {
            if name == part {
                *old = text.clone();
            }
        }
        zip(&parts, true)
    };
    let not_this = |problem: &str| format!("sibionics.xls: not a sibionics export: {problem}");
    for count in [
        "18446744073709551615",
        "4000000000",
        "99999999999999999999999",
    ] {
        let bomb = with(
            "xl/sharedStrings.xml",
            replaced(
                &sst,
                r#"uniqueCount="4""#,
                &format!(r#"uniqueCount="{count}""#),
            ),
        );
        assert_eq!(
            refusal(&bomb),
            not_this(&format!(
                "it claims `{count}` shared strings, more than the 1048576 a workbook of readings could need"
            ))
        );
    }
    let bomb = with(
        "xl/worksheets/sheet1.xml",
        replaced(&good, r#"r="B2""#, r#"r="ZZZZZZZZ2""#),
    );
    assert_eq!(
        refusal(&bomb),
        not_this("the cell reference `ZZZZZZZZ2` is not one a worksheet has (such as B12)")
    );
    let bomb = with(
        "xl/worksheets/sheet1.xml",
        replaced(&good, r#"<row r="2">"#, r#"<row r="99999999999">"#),
    );
    assert!(refusal(&bomb).contains("the cell reference `99999999999`"));
    let bomb = with(
        "xl/worksheets/sheet1.xml",
        replaced(&good, r#"ref="A1:B2""#, r#"ref="B2:A1""#),
    );
    assert_eq!(
        refusal(&bomb),
        not_this("the sheet's dimension `B2:A1` is not a range such as A1:B2015")
    );
    // A sheet that inflates to 65 MiB (of blanks after its first row) from about 65 KB.
    let bomb = with_blanks(65);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    assert_eq!(
        refusal(&bomb),
        not_this("its files inflate to over 64 MiB; the app's exports inflate to far less")
    );
    // Shared strings that say they are larger than the reader holds.
    let mut bomb = export("mg/dL", &[("13-02-2026 15:46 GMT-3", "95")]);
    declare_size(&mut bomb, "xl/sharedStrings.xml", 17 << 20);
    assert_eq!(
        refusal(&bomb),
        not_this("its shared strings inflate to over 16 MiB; the app's exports have far fewer")
    );
    // A sheet that inflates to more than it declares is stopped where it passes that.
    let mut lying = with_blanks(4);
    declare_size(&mut lying, "xl/worksheets/sheet1.xml", 1000);
    assert!(
        refusal(&lying).contains("File is larger than its declared uncompressed size"),
        "{}",
        refusal(&lying)
    );
}

/// The app's export of one reading with `mib` mebibytes of blanks after its sheet's first row,
/// written a mebibyte at a time: a sheet that inflates to that from a small archive.
fn with_blanks(mib: usize) -> Vec<u8> {
    let bytes = export("mg/dL", &[("13-02-2026 15:46 GMT-3", "95")]);
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    let blanks = vec![b' '; 1 << 20];
    for (name, text) in zip_parts(&bytes) {
        out.start_file(name.as_str(), options).unwrap();
        match text.split_once("</row>") {
            Some((head, tail)) if name == "xl/worksheets/sheet1.xml" => {
                out.write_all(format!("{head}</row>").as_bytes()).unwrap();
                for _ in 0..mib {
                    out.write_all(&blanks).unwrap();
                }
                out.write_all(tail.as_bytes()).unwrap();
            }
            _ => out.write_all(text.as_bytes()).unwrap(),
        }
    }
    out.finish().unwrap().into_inner()
}

/// `text` with `from` replaced by `to`, where it is there.
fn replaced(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from} in {text}");
    text.replace(from, to)
}

/// The text of `part` in a zip archive.
fn zip_part(bytes: &[u8], part: &str) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = Vec::new();
    archive
        .by_name(part)
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Every part of a zip archive, as text, in its order.
fn zip_parts(bytes: &[u8]) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut part = archive.by_index(i).unwrap();
            let mut text = String::new();
            part.read_to_string(&mut text).unwrap();
            (part.name().unwrap().into_owned(), text)
        })
        .collect()
}

/// The published SiBionics sample (../shared/data/realworld, when it is there; its licence
/// keeps it out of the repository): a GS1 export of a week, an .xlsx named .xls, every row
/// kept and time in range as counted by hand. The figures come from the workbook's XML, read
/// with Python's zipfile and ElementTree (not calamine): sheet1.xml has 2,015 rows, all cells
/// shared strings; after the header `Time`, `Sensor Reading(mg/dL)` there are 2,014 rows,
/// every one with a time at GMT-3 (13-02-2026 15:46 to 20-02-2026 15:33, in order, no time
/// twice) and a whole-number reading from 46 to 270 mg/dL — none empty, none beyond 20–600 —
/// and 1,641 of them within 70–180 mg/dL.
#[test]
fn the_published_sibionics_sample_is_read_whole_and_its_time_in_range_is_the_hand_count() {
    let Some(file) = common::realworld("sibionics_gs1_app_export.xls") else {
        return;
    };
    let export = read_sibionics(file, &options()).unwrap();
    let r = &export.report;
    assert_eq!(
        (r.rows, r.kept, r.kept_as_lo, r.kept_as_hi),
        (2014, 2014, 0, 0)
    );
    assert!(r.dropped.is_empty(), "{:?}", r.dropped);
    assert_eq!(
        export.readings.first().unwrap().time.to_rfc3339(),
        "2026-02-13T15:46:00-03:00"
    );
    assert_eq!(
        export.readings.last().unwrap().time.to_rfc3339(),
        "2026-02-20T15:33:00-03:00"
    );
    let (tir, duplicates) = common::time_in_range(export.readings);
    assert_eq!(duplicates, 0);
    assert!((tir - 100.0 * 1641.0 / 2014.0).abs() < 1e-9, "{tir}");
}

/// The fuzz seed fuzz/corpus/device_exports/sibionics-export.xlsx is this workbook — a few rows
/// in the app's layout, a time without a reading, LO and HI among them, stored rather than
/// deflated so that a fuzzer's mutations reach the XML — and reads as one. With
/// `INCENTIVE_WRITE_FUZZ_SEEDS=1` the seed is written again instead of compared.
#[test]
fn the_fuzz_seed_is_this_workbook_and_reads_as_a_sibionics_export() {
    let rows = vec![
        vec![Text("Time"), Text("Sensor Reading(mg/dL)")],
        vec![Text("13-02-2026 15:46 GMT-3"), Text("95")],
        vec![Text("13-02-2026 15:51 GMT-3"), Text("")],
        vec![Text("13-02-2026 15:56 GMT-3"), Text("19")],
        vec![Text("13-02-2026 16:01 GMT+05:30"), Number("601")],
        vec![Text("14-02-2026 00:06 GMT"), Text("HI")],
    ];
    let bytes = workbook(
        &[Sheet {
            name: "Sensor Glucose",
            rows,
        }],
        false,
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus/device_exports/sibionics-export.xlsx");
    if std::env::var_os("INCENTIVE_WRITE_FUZZ_SEEDS").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    let seed = std::fs::read(&path).unwrap();
    assert!(
        seed == bytes,
        "the seed is not this workbook: write it again"
    );
    let export = read_sibionics(&seed[..], &options()).unwrap();
    let r = &export.report;
    assert_eq!(
        (r.rows, r.kept, r.kept_as_lo, r.kept_as_hi),
        (5, 4, 1, 2),
        "{r:?}"
    );
    assert_eq!(r.dropped.get("times without a reading"), Some(&1));
}
