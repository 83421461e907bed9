//! Printing: text or JSON on standard output, through a writer whose errors are returned
//! (a closed pipe ends the program quietly instead of panicking as `println!` does).

use serde::Serialize;
use std::io::Write;

/// Writes `text` and a newline to standard output.
pub(crate) fn line(text: impl AsRef<str>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_ref().as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Prints `value` as pretty JSON when `json` is set, else `text(value)`.
pub(crate) fn show<T: Serialize>(
    json: bool,
    value: &T,
    text: impl FnOnce(&T) -> String,
) -> anyhow::Result<()> {
    if json {
        line(serde_json::to_string_pretty(value)?)
    } else {
        line(text(value))
    }
}

/// Whether `error` is standard output's reader having gone away.
pub(crate) fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
