//! Output helpers shared by subcommands: JSON printing and broken-pipe
//! detection (a closed stdout is not an error).

use std::io::Write;

/// Print one value as a single JSON line on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Print text on stdout as is.
pub fn print_text(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Report a file a batch command could not check: with `json`, its
/// `{"file", "error", "error_kind"}` line on stdout; always one line on
/// stderr, naming the file once.
pub fn file_error(json: bool, file: &std::path::Path, e: &hallmark::Error) -> anyhow::Result<()> {
    let line = hallmark::report::FileError::new(file.display().to_string(), e);
    if json {
        print_json(&line)?;
    }
    eprintln!("hallmark: error: {}", line.message());
    Ok(())
}

/// Whether an error chain bottoms out in a broken pipe.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                .is_some_and(|k| k == std::io::ErrorKind::BrokenPipe)
    })
}

/// An error and its causes as one line: each cause is added only when the
/// text so far does not already say it (library errors often repeat their
/// source, e.g. "x.png: No such file (os error 2)").
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = err.to_string();
    for cause in err.chain().skip(1) {
        let c = cause.to_string();
        if !line.contains(&c) {
            line.push_str(": ");
            line.push_str(&c);
        }
    }
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}
