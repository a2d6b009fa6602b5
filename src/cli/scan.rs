//! `hallmark scan`: check many files in parallel, writing JSON lines.
//!
//! Exit codes: 0 every file checked, 1 the scan finished but some files
//! could not be checked (each has an `error` line), 2 the scan itself failed
//! (bad arguments, OUT unwritable).

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use hallmark::report::Checker;
use hallmark::scan::{open_output, scan, Line, OutputMode, ScanOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Outcome;

/// Walk folders and check every file in parallel; one JSON line per file.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Folders are walked recursively (image extensions only, no symlinks); '-' reads one path \
    per line from stdin. OUT is appended to and flushed line by line.\n\
    Exit codes: 0 every file checked, 1 some files had errors (see their lines), 2 the scan failed."
)]
pub struct Args {
    /// Files or folders ('-' reads paths from stdin).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output JSON lines file (default: stdout).
    #[arg(short, long, value_name = "OUT.jsonl")]
    output: Option<PathBuf>,
    /// Parallel jobs (default: number of cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Skip files already present in OUT and append to it.
    #[arg(long, requires = "output", conflicts_with = "force")]
    resume: bool,
    /// Replace OUT if it exists.
    #[arg(long, requires = "output")]
    force: bool,
    #[command(flatten)]
    engines: super::check::EngineArgs,
    /// No progress bar and no summary table.
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    if a.paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        anyhow::bail!("'-' (paths from stdin) may be given once");
    }
    if a.jobs == Some(0) {
        anyhow::bail!("--jobs must be at least 1");
    }
    let opts = a.engines.options();
    let checker = Checker::new(&opts).context("cannot set up the checks")?;

    let mode = if a.resume {
        OutputMode::Resume
    } else if a.force {
        OutputMode::Overwrite
    } else {
        OutputMode::Fresh
    };
    let (out, done): (Box<dyn std::io::Write + Send>, _) = match &a.output {
        Some(path) => {
            let (file, done) = open_output(path, mode)?;
            (Box::new(file), done)
        }
        None => (Box::new(std::io::stdout()), Default::default()),
    };

    let bar = if !a.quiet && std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} files, {per_sec}, {elapsed} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Some(bar)
    } else {
        None
    };
    let on_line = |line: &Line| {
        if let Some(bar) = &bar {
            bar.inc(1);
            bar.set_message(line.file().to_string());
        }
    };
    let scan_opts = ScanOptions {
        jobs: a.jobs.unwrap_or(0),
    };
    let result = scan(&a.paths, &checker, &scan_opts, &done, out, &on_line);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let summary = result?;
    if !a.quiet {
        eprint!("{}", summary.table());
    }
    Ok(if summary.errors > 0 {
        Outcome::Negative
    } else {
        Outcome::Success
    })
}
