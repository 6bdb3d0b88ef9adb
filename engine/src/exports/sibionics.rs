//! The SiBionics app export: being written (issue 19).

use super::{Export, ExportError, ExportOptions, Format};
use std::io::Read;

pub fn read_sibionics(_input: impl Read, options: &ExportOptions) -> Result<Export, ExportError> {
    Err(options.not_this(Format::SiBionics, "this reader is being written".into()))
}
