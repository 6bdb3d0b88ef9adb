//! A workbook looked through before calamine opens it: calamine 0.38 trusts what a workbook
//! says of itself (sizes, counts, cell references), so whatever could make it exhaust memory,
//! abort or panic is refused here first, naming it.

use quick_xml::events::{BytesStart, Event};
use std::io::{BufReader, Cursor, Read};

/// Bytes all the workbook's parts may inflate to together, as the archive declares them (the
/// zip reader fails a part that inflates beyond its declared size). A week's parts come to
/// about 280 KB; this is years of readings, and bounds the time the sheets take to read.
const SIBIONICS_INFLATED_BYTES_MAX: u64 = 64 << 20;
/// Bytes the shared-strings part may inflate to: calamine holds every shared string in memory
/// (a String each), so this bounds that memory. A week's is about 80 KB.
const SIBIONICS_SHARED_STRINGS_BYTES_MAX: u64 = 16 << 20;
/// The most shared strings a workbook may claim to have (`uniqueCount`): calamine reserves room
/// for that many before it reads one. A week's export has about 2,100 (each time is one).
const SIBIONICS_SHARED_STRINGS_MAX: u64 = 1 << 20;
/// Files in the archive at most: a workbook has about ten; each is indexed before any is read.
const SIBIONICS_PARTS_MAX: usize = 1_000;
/// The longest cell reference a worksheet has: 3 letters (XFD is the last column) and 7
/// digits (1048576 the last row). calamine's arithmetic on longer ones overflows.
const REFERENCE_LETTERS_MAX: usize = 3;
const REFERENCE_DIGITS_MAX: usize = 7;

/// Looks through the archive before calamine opens it, for what would make calamine take
/// memory without bound, abort or panic: parts that inflate beyond the limits above, a
/// shared-strings count beyond `SIBIONICS_SHARED_STRINGS_MAX`, cell references longer than a
/// worksheet's, a dimension that ends before it starts. The problem, in words.
///
/// Every part is looked through, whatever its name, with calamine's XML settings, up to its
/// end or the first thing the XML reader cannot read (where calamine stops too): so nothing
/// calamine reads escapes it, whichever part calamine takes for a sheet.
pub(super) fn inspect(bytes: &[u8]) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("not a zip archive, as an .xlsx workbook is ({e})"))?;
    let parts = archive.len();
    if parts > SIBIONICS_PARTS_MAX {
        return Err(format!(
            "the archive holds {parts} files; a workbook holds about ten"
        ));
    }
    let mut inflated = 0_u64;
    for index in 0..parts {
        let part = archive
            .by_index_raw(index)
            .map_err(|e| format!("file {} of the archive cannot be read ({e})", index + 1))?;
        let size = part.size();
        inflated = inflated.saturating_add(size);
        if inflated > SIBIONICS_INFLATED_BYTES_MAX {
            return Err(format!(
                "its files inflate to over {} MiB; the app's exports inflate to far less",
                SIBIONICS_INFLATED_BYTES_MAX >> 20
            ));
        }
        let name = part.name().map(|n| n.into_owned()).unwrap_or_default();
        if name.to_ascii_lowercase().ends_with("sharedstrings.xml")
            && size > SIBIONICS_SHARED_STRINGS_BYTES_MAX
        {
            return Err(format!(
                "its shared strings inflate to over {} MiB; the app's exports have far fewer",
                SIBIONICS_SHARED_STRINGS_BYTES_MAX >> 20
            ));
        }
    }
    for index in 0..parts {
        // A part that cannot be inflated (encrypted, a method the reader lacks) cannot be
        // read by calamine either.
        let Ok(part) = archive.by_index(index) else {
            continue;
        };
        inspect_part(part)?;
    }
    Ok(())
}

/// One part of the archive, read as calamine reads XML.
fn inspect_part(part: impl Read) -> Result<(), String> {
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(part));
    let config = xml.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) => inspect_element(&e)?,
            // calamine stops at the first error too: nothing after it is read.
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
    }
}

/// An element's attributes calamine does arithmetic on or reserves memory by.
fn inspect_element(e: &BytesStart<'_>) -> Result<(), String> {
    let local = e.local_name();
    let key = match local.as_ref() {
        "c" | "row" => "r",
        "dimension" => "ref",
        "sst" => "uniqueCount",
        _ => return Ok(()),
    };
    for (name, value) in RawAttributes(e.attributes_raw()) {
        let named = name == key
            || name
                .strip_suffix(key)
                .is_some_and(|prefix| prefix.ends_with(':'));
        if !named {
            continue;
        }
        match key {
            "r" if !is_reference(value) => {
                return Err(format!(
                    "the cell reference `{}` is not one a worksheet has (such as B12)",
                    crate::text::excerpt(value)
                ));
            }
            "ref" if !is_dimension(value) => {
                return Err(format!(
                    "the sheet's dimension `{}` is not a range such as A1:B2015",
                    crate::text::excerpt(value)
                ));
            }
            "uniqueCount" if shared_strings_claimed(value) > SIBIONICS_SHARED_STRINGS_MAX => {
                return Err(format!(
                    "it claims `{}` shared strings, more than the {SIBIONICS_SHARED_STRINGS_MAX} a workbook of readings could need",
                    crate::text::excerpt(value)
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The attributes of an element as calamine reads them (its `RawAttrIter`): a name up to `=`,
/// a value between quotes, raw; the first malformed one ends them (calamine fails there).
struct RawAttributes<'a>(&'a str);

impl<'a> Iterator for RawAttributes<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        let rest = self.0.trim_start();
        let (name, rest) = rest.split_once('=')?;
        let rest = rest.trim_start();
        let mut chars = rest.chars();
        let quote = chars.next().filter(|q| *q == '"' || *q == '\'')?;
        let rest = chars.as_str();
        let (value, after) = rest.split_once(quote).unwrap_or((rest, ""));
        self.0 = after;
        Some((name.trim_end(), value))
    }
}

/// The (row, column) of a reference such as `B12`, `12` (a row) or `XFD1048576`, where its
/// letters and digits are no more than a worksheet's; column 0 where it has no letters.
fn reference(text: &str) -> Option<(u32, u32)> {
    let digits_at = text.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = text.split_at(digits_at);
    if letters.len() > REFERENCE_LETTERS_MAX
        || digits.len() > REFERENCE_DIGITS_MAX
        || !letters.bytes().all(|b| b.is_ascii_alphabetic())
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let column = letters.bytes().fold(0_u32, |n, b| {
        n * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1
    });
    Some((digits.parse().ok()?, column))
}

fn is_reference(text: &str) -> bool {
    reference(text).is_some()
}

/// `A1` or `A1:B2015`, its end not before its start (calamine subtracts one from the other).
fn is_dimension(text: &str) -> bool {
    match text.split_once(':') {
        None => is_reference(text),
        Some((start, end)) => match (reference(start), reference(end)) {
            (Some((r0, c0)), Some((r1, c1))) => r0 <= r1 && c0 <= c1,
            _ => false,
        },
    }
}

/// How many shared strings `uniqueCount` claims, as calamine reads the number (digits, leading
/// zeros skipped): beyond `u64` as `u64::MAX`, and 0 where it is no number (calamine then
/// reserves nothing).
fn shared_strings_claimed(text: &str) -> u64 {
    let digits = text.trim().trim_start_matches('+');
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    digits.parse().unwrap_or(u64::MAX)
}
