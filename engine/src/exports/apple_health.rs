//! Apple Health's export.xml: being written (issue 19).

use super::{Export, ExportError, ExportOptions, Format};
use std::io::Read;

pub fn read_apple_health(_input: impl Read, options: &ExportOptions) -> Result<Export, ExportError> {
    Err(options.not_this(Format::AppleHealth, "this reader is being written".into()))
}
