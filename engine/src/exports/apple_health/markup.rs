//! The markup of Apple's export read as bytes: lines for messages, a record's attributes
//! without quick-xml's per-attribute cost, and the input counted as it is read.

use super::MARKUP_BYTES_MAX;
use crate::exports::count_newlines;
use quick_xml::events::{BytesStart, Event};
use std::io::{self, BufRead, Read};

/// Where an event began: the line the input stopped on, less the newlines of the markup just
/// read (its bytes in the event, or in the event's buffer after an error; Apple writes none
/// inside a tag). Counted only for a message: no event needs it otherwise.
#[derive(Clone, Copy)]
pub(super) struct Line<'a> {
    pub(super) input: InputLine<'a>,
    pub(super) markup: &'a [u8],
}

impl Line<'_> {
    pub(super) fn get(self) -> u64 {
        self.input.get().saturating_sub(count_newlines(self.markup))
    }
}

/// The line the input stopped on: the newlines of the buffers before, and of this one so far.
#[derive(Clone, Copy)]
pub(super) struct InputLine<'a> {
    pub(super) before: u64,
    pub(super) read: &'a [u8],
}

impl InputLine<'_> {
    pub(super) fn get(self) -> u64 {
        self.before + count_newlines(self.read) + 1
    }
}

/// The bytes of an element's tag or of text; the lines of other events are not reported.
pub(super) fn markup<'a>(event: &'a Event<'_>) -> &'a [u8] {
    match event {
        Event::Start(e) | Event::Empty(e) => e.as_ref().as_bytes(),
        Event::Text(t) => t.as_bytes(),
        _ => &[],
    }
}

/// XML's whitespace.
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A tag's attributes, `name="value"` (XML's grammar: whitespace around `=` allowed, single or
/// double quotes), each as written, its references not yet read. quick-xml's iterator does the
/// same with more bookkeeping (positions, a `Cow` and a `QName` for each): with it, reading
/// the attributes took half the time of a glucose record.
pub(super) struct Attributes<'a> {
    rest: &'a [u8],
}

impl<'a> Attributes<'a> {
    pub(super) fn of(e: &'a BytesStart<'_>) -> Self {
        Attributes {
            rest: e.attributes_raw().as_bytes(),
        }
    }
}

/// What is wrong with an attribute, and its name.
#[derive(Clone, Copy, Debug)]
pub(super) struct BadAttribute<'a> {
    name: &'a [u8],
    problem: &'static str,
}

impl std::fmt::Display for BadAttribute<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "attribute `{}` {}",
            crate::text::excerpt(&String::from_utf8_lossy(self.name)),
            self.problem
        )
    }
}

impl<'a> Iterator for Attributes<'a> {
    /// The name and the value as written, as bytes: a tag is UTF-8, and the few values read
    /// are made text when read (`State::text`), without a check of each slice's ends.
    type Item = Result<(&'a [u8], &'a [u8]), BadAttribute<'a>>;

    // Inlined into the loops that read a tag: a call for each attribute cost a tenth of a
    // record's time.
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        let b = self.rest;
        let skip_spaces = |mut i: usize| {
            while b.get(i).is_some_and(|&c| is_space(c)) {
                i += 1;
            }
            i
        };
        let start = skip_spaces(0);
        if start >= b.len() {
            self.rest = &[];
            return None;
        }
        // Whatever goes wrong, the iteration ends with it.
        self.rest = &[];
        let fail = |name, problem| Some(Err(BadAttribute { name, problem }));
        let rest = b.get(start..)?;
        let Some(eq) = find_byte(rest, b'=') else {
            return fail(rest, "has no `=` and value");
        };
        // The name, and the whitespace XML allows before `=`. Two names before one `=` are
        // taken for one name, which is none this reader looks for: quick-xml would refuse
        // them, but what is read does not change.
        let mut end = eq;
        while end > 0 && rest.get(end - 1).is_some_and(|&c| is_space(c)) {
            end -= 1;
        }
        let name = rest.get(..end)?;
        if name.is_empty() {
            return fail(name, "is a `=` without an attribute name");
        }
        let open = skip_spaces(start + eq + 1);
        let quote = match b.get(open) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return fail(name, "has a value without quotes"),
        };
        let Some(len) = find_byte(b.get(open + 1..)?, quote) else {
            return fail(name, "has a value without its closing quote");
        };
        let close = open + 1 + len;
        let value = b.get(open + 1..close)?;
        self.rest = b.get(close + 1..)?;
        Some(Ok((name, value)))
    }
}

/// The first `needle` in `hay`, eight bytes at a time: values are too short (a number, a date)
/// for a call to `memchr` to pay, and too many for a byte at a time.
#[inline(always)]
pub(super) fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let pattern = u64::from_ne_bytes([needle; 8]);
    let mut words = hay.chunks_exact(8);
    let mut offset = 0;
    for word in &mut words {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(word);
        // A byte of `x` is zero where the word has `needle`; the lowest byte flagged by this
        // classic test is always a real zero (a borrow only flags bytes above one).
        let x = u64::from_le_bytes(eight) ^ pattern;
        let zeros = x.wrapping_sub(ONES) & !x & HIGHS;
        if zeros != 0 {
            return Some(offset + (zeros.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|i| offset + i)
}

/// The input, buffered, with what is needed to tell the line a message is about (the newlines
/// of the buffers read before this one, counted as each is left) and the bytes of the piece of
/// markup being read (to cap it). `BufReader` would do but for keeping what was consumed,
/// which is where the newlines are.
pub(super) struct Counted<R> {
    pub(super) input: R,
    pub(super) buf: Vec<u8>,
    /// Consumed, and read into `buf`.
    pub(super) pos: usize,
    pub(super) filled: usize,
    pub(super) newlines_before: u64,
    pub(super) in_markup: u64,
}

impl<R> Counted<R> {
    pub(super) fn lines(&self) -> InputLine<'_> {
        InputLine {
            before: self.newlines_before,
            read: self.buf.get(..self.pos).unwrap_or_default(),
        }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        if let (Some(to), Some(from)) = (out.get_mut(..n), available.get(..n)) {
            to.copy_from_slice(from);
        }
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Counted<R> {
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.filled {
            // Checked as the buffer is refilled: a piece of markup over the cap has needed
            // sixteen refills by the time it passes it.
            if self.in_markup > MARKUP_BYTES_MAX {
                return Err(io::Error::other(format!(
                    "more than {} MiB without the end of a tag: not Apple's layout",
                    MARKUP_BYTES_MAX >> 20
                )));
            }
            let left = self.buf.get(..self.filled).unwrap_or_default();
            self.newlines_before += count_newlines(left);
            (self.pos, self.filled) = (0, 0);
            self.filled = loop {
                match self.input.read(&mut self.buf) {
                    Ok(n) => break n.min(self.buf.len()),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
        }
        Ok(self.buf.get(self.pos..self.filled).unwrap_or_default())
    }

    #[inline]
    fn consume(&mut self, amt: usize) {
        self.pos = self.pos.saturating_add(amt).min(self.filled);
        self.in_markup += amt as u64;
    }
}
