//! JSON values read one at a time from a stream, fast. serde_json's parser over an `io::Read`
//! takes a call per byte; its parser over a slice does not. So the stream is read into a buffer
//! and each value is parsed from the buffer by the slice parser; a value the buffer ends inside
//! is parsed again once more bytes are in (the buffer grows to hold a value larger than itself,
//! up to [`JSON_VALUE_BYTES_MAX`]). Only the buffer is held: memory stays flat in the file's
//! size, and reading runs at the slice parser's speed.
//!
//! Two shapes are read: the elements of one top-level array (Nightscout's entries), and values
//! one after another (NDJSON, FHIR bulk data).

use super::count_newlines as newlines;
use serde::de::DeserializeOwned;
use std::io::{self, Read};

/// Bytes read from the stream at a time.
const JSON_READ_BYTES: usize = 256 * 1024;

/// Bytes of one value at most: a larger one is refused, not buffered.
pub(crate) const JSON_VALUE_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Why the stream could not be read.
#[derive(Debug)]
pub(crate) enum StreamError {
    Io(io::Error),
    /// Not JSON of the shape expected, at this line.
    Shape {
        line: u64,
        problem: String,
    },
    /// A value the slice parser refused, at this line of the stream.
    Value {
        line: u64,
        error: serde_json::Error,
    },
}

/// Where an array is: whether an element has been read (a `,` is due before the next), and
/// whether its `]` has been.
pub(crate) struct InArray {
    after_element: bool,
    closed: bool,
}

/// Values of a JSON stream, one at a time.
pub(crate) struct JsonValues<R> {
    input: R,
    buf: Vec<u8>,
    /// `buf[at..end]` is read and not yet parsed.
    at: usize,
    end: usize,
    eof: bool,
    /// The line `buf[0]` is on, from 1. Lines are counted only when bytes leave the buffer,
    /// a run at a time: counted value by value, they were an eighth of the reading time.
    line_base: u64,
    /// Whether a byte-order mark at the start has been looked for.
    bom_checked: bool,
    /// Bytes of one value at most ([`JSON_VALUE_BYTES_MAX`]).
    value_bytes_max: usize,
}

impl<R: Read> JsonValues<R> {
    pub(crate) fn new(input: R) -> Self {
        Self::with_value_bytes_max(input, JSON_VALUE_BYTES_MAX)
    }

    /// [`JsonValues::new`] with another bound on a value's bytes.
    fn with_value_bytes_max(input: R, value_bytes_max: usize) -> Self {
        Self {
            input,
            buf: Vec::new(),
            at: 0,
            end: 0,
            eof: false,
            line_base: 1,
            bom_checked: false,
            value_bytes_max,
        }
    }

    /// The line the unparsed bytes start on.
    pub(crate) fn line(&self) -> u64 {
        self.line_base + newlines(self.buf.get(..self.at).unwrap_or_default())
    }

    fn shape(&self, problem: &str) -> StreamError {
        StreamError::Shape {
            line: self.line(),
            problem: problem.to_owned(),
        }
    }

    /// Reads more of the stream after what is unparsed; `false` at its end.
    fn fill(&mut self) -> Result<bool, StreamError> {
        if self.eof {
            return Ok(false);
        }
        self.line_base += newlines(self.buf.get(..self.at).unwrap_or_default());
        self.buf.copy_within(self.at..self.end, 0);
        self.end -= self.at;
        self.at = 0;
        let room = self.buf.len() - self.end;
        if room < JSON_READ_BYTES {
            let unparsed = self.end;
            if unparsed > self.value_bytes_max {
                return Err(self.shape(&format!(
                    "a value is longer than {} bytes",
                    self.value_bytes_max
                )));
            }
            // Doubling: a long value is parsed again a few times, not once a read.
            self.buf
                .resize((unparsed * 2).max(unparsed + JSON_READ_BYTES), 0);
        }
        let n = loop {
            match self
                .input
                .read(self.buf.get_mut(self.end..).unwrap_or_default())
            {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(StreamError::Io(e)),
            }
        };
        self.end += n;
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    fn unparsed(&self) -> &[u8] {
        self.buf.get(self.at..self.end).unwrap_or_default()
    }

    fn advance(&mut self, n: usize) {
        self.at += n;
    }

    /// The next byte that is not whitespace (skipping a byte-order mark at the start), not
    /// consumed; `None` at the end.
    pub(crate) fn peek(&mut self) -> Result<Option<u8>, StreamError> {
        loop {
            if !self.bom_checked {
                // A mark may come a byte a read: have its three bytes first.
                if self.end - self.at < 3 && !self.eof {
                    self.fill()?;
                    continue;
                }
                self.bom_checked = true;
                if self.unparsed().starts_with(b"\xEF\xBB\xBF") {
                    self.at += 3;
                }
            }
            let skip = self
                .unparsed()
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
            if let Some(k) = skip {
                self.advance(k);
                return Ok(self.unparsed().first().copied());
            }
            let all = self.end - self.at;
            self.advance(all);
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// At least `n` of the bytes not yet parsed (fewer only at the stream's end), not
    /// consumed: to look at what a value is before choosing how to read it.
    pub(crate) fn lookahead(&mut self, n: usize) -> Result<&[u8], StreamError> {
        while self.end - self.at < n && self.fill()? {}
        Ok(self.unparsed())
    }

    /// Consumes `byte`, the next that is not whitespace, or says what was expected.
    pub(crate) fn expect(&mut self, byte: u8, expected: &str) -> Result<(), StreamError> {
        if self.peek()? == Some(byte) {
            self.advance(1);
            Ok(())
        } else {
            Err(self.shape(&format!("expected {expected}")))
        }
    }

    /// Consumes an array's opening `[`; [`JsonValues::next_element`] gives its elements.
    pub(crate) fn open_array(&mut self) -> Result<InArray, StreamError> {
        match self.peek()? {
            Some(b'[') => {
                self.advance(1);
                Ok(InArray {
                    after_element: false,
                    closed: false,
                })
            }
            _ => Err(self.shape("not a JSON array")),
        }
    }

    /// The array's next element as `T`; `None` once its `]` is read.
    pub(crate) fn next_element<T: DeserializeOwned>(
        &mut self,
        array: &mut InArray,
    ) -> Result<Option<T>, StreamError> {
        if array.closed {
            return Ok(None);
        }
        match self.peek()? {
            None => return Err(self.shape("the file ends inside an array")),
            Some(b']') => {
                self.advance(1);
                array.closed = true;
                return Ok(None);
            }
            Some(b',') if array.after_element => {
                self.advance(1);
                if self.peek()?.is_none() {
                    return Err(self.shape("the file ends inside an array"));
                }
            }
            Some(_) if array.after_element => {
                return Err(self.shape("expected `,` or `]` after an element"));
            }
            Some(_) => {}
        }
        array.after_element = true;
        self.value().map(Some)
    }

    /// The value that starts at the next byte that is not whitespace, as `T`.
    pub(crate) fn value<T: DeserializeOwned>(&mut self) -> Result<T, StreamError> {
        if self.peek()?.is_none() {
            return Err(self.shape("the file ends where a value was due"));
        }
        loop {
            let mut values = serde_json::Deserializer::from_slice(self.unparsed()).into_iter::<T>();
            match values.next() {
                // A number the buffer ends at may go on in the stream: read on, and again.
                Some(Ok(_)) if values.byte_offset() == self.end - self.at && !self.eof => {
                    self.fill()?;
                }
                Some(Ok(value)) => {
                    let used = values.byte_offset();
                    self.advance(used);
                    return Ok(value);
                }
                // The buffer ends inside the value: more, and again.
                Some(Err(e)) if e.is_eof() && !self.eof => {
                    self.fill()?;
                }
                None if !self.eof => {
                    self.fill()?;
                }
                Some(Err(error)) => {
                    return Err(StreamError::Value {
                        line: self.line() + error.line() as u64 - 1,
                        error,
                    });
                }
                None => return Err(self.shape("the file ends inside a value")),
            }
        }
    }

    /// After the last value: only whitespace may follow.
    pub(crate) fn finish(&mut self) -> Result<(), StreamError> {
        match self.peek()? {
            None => Ok(()),
            Some(_) => Err(self.shape("something follows the JSON")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads one byte at a time: every value is split across reads.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), out.first_mut()) {
                (Some((b, rest)), Some(slot)) => {
                    *slot = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn array(json: &str, trickle: bool) -> Result<Vec<serde_json::Value>, String> {
        let input: Box<dyn Read> = if trickle {
            Box::new(Trickle(json.as_bytes()))
        } else {
            Box::new(json.as_bytes())
        };
        let mut values = JsonValues::new(input);
        let said = |e: StreamError| match e {
            StreamError::Io(e) => e.to_string(),
            StreamError::Shape { line, problem } => format!("line {line}: {problem}"),
            StreamError::Value { line, error } => format!("line {line}: {error}"),
        };
        let mut elements = values.open_array().map_err(said)?;
        let mut out = Vec::new();
        while let Some(v) = values.next_element(&mut elements).map_err(said)? {
            out.push(v);
        }
        values.finish().map_err(said)?;
        Ok(out)
    }

    #[test]
    fn elements_are_read_whole_whatever_strings_hold_and_wherever_reads_end() {
        let json = "\u{feff} [ {\"a\": \"]},\\\"[\", \"b\": [1, {\"c\": 2}]},\n 12.5 ,\"x,y\",[[]], null ]\n";
        let expected = serde_json::json!([
            {"a": "]},\"[", "b": [1, {"c": 2}]}, 12.5, "x,y", [[]], null
        ]);
        for trickle in [false, true] {
            assert_eq!(
                array(json, trickle).map(serde_json::Value::from),
                Ok(expected.clone()),
                "{trickle}"
            );
        }
        assert_eq!(array("[]", true), Ok(Vec::new()));
    }

    #[test]
    fn a_file_that_is_not_one_whole_array_is_named_at_its_line() {
        for (json, problem) in [
            ("{\"a\": 1}", "line 1: not a JSON array"),
            ("[{\"a\": 1}", "line 1: the file ends inside an array"),
            (
                "[{\"a\": 1} {\"b\": 2}]",
                "line 1: expected `,` or `]` after an element",
            ),
            ("[1,\n", "line 2: the file ends inside an array"),
            ("[1] [2]", "line 1: something follows the JSON"),
        ] {
            assert_eq!(array(json, true), Err(problem.to_owned()), "{json}");
        }
        let Err(e) = array("[1,\n{\"a\": \n", false) else {
            panic!("a value cut short is an error");
        };
        assert!(e.starts_with("line 3: EOF while parsing"), "{e}");
    }

    #[test]
    fn values_one_after_another_are_read_as_ndjson() {
        let ndjson = "{\"a\": 1}\n{\"a\": 2}\n\n{\"a\": 3}\n{\"a\": }";
        let mut values = JsonValues::new(Trickle(ndjson.as_bytes()));
        let mut read = Vec::new();
        let error = loop {
            match values.peek() {
                Ok(Some(_)) => {}
                other => panic!("the last line cannot be read: {other:?}"),
            }
            match values.value::<serde_json::Value>() {
                Ok(v) => read.push(v["a"].as_u64()),
                Err(e) => break e,
            }
        };
        assert_eq!(read, [Some(1), Some(2), Some(3)]);
        assert!(
            matches!(error, StreamError::Value { line: 5, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn a_value_longer_than_its_bound_is_refused_not_buffered_without_end() {
        // A string that never closes, a byte a read: the reader stops at the bound.
        let endless = std::iter::once(b'[')
            .chain(std::iter::once(b'"'))
            .chain(std::iter::repeat_n(b'a', 1 << 20))
            .collect::<Vec<u8>>();
        let mut values = JsonValues::with_value_bytes_max(Trickle(&endless), 4096);
        let mut elements = match values.open_array() {
            Ok(e) => e,
            Err(e) => panic!("an array opens: {e:?}"),
        };
        match values.next_element::<serde_json::Value>(&mut elements) {
            Err(StreamError::Shape { problem, .. }) => {
                assert_eq!(problem, "a value is longer than 4096 bytes");
            }
            other => panic!("not refused: {other:?}"),
        }
        // What is held: the bound's worth of the value, and room for one read.
        assert!(
            values.buf.len() <= JSON_READ_BYTES + 2 * 4096,
            "{} bytes held",
            values.buf.len()
        );
    }
}
