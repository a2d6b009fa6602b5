//! The batch driver: walk folders, check every file in parallel, write JSON
//! lines, never abort on one bad file.
//!
//! Shape: one lazy producer (command-line paths, folder walks, or paths read
//! from stdin) feeds a rayon pool of `jobs` threads through `par_bridge`
//! (workers pull paths only when idle); each worker sends its line through a
//! bounded channel to one writer thread, which writes and flushes one JSON
//! line per file. Nothing holds the file list or the results, so memory is
//! bounded whatever the folder size (`--resume` holds the set of names
//! already done, read from OUT).
//!
//! Lines come out in completion order, not path order. A file that cannot be
//! read or decoded gets a line with `error` and `error_kind`; the batch goes
//! on. Folders are walked recursively in name order without following
//! symbolic links, and only files with image extensions are taken from them
//! (paths named on the command line or on stdin are always checked).
//!
//! ## Output safety
//! OUT is appended to and flushed after every line, so a crash loses at most
//! the line being written; `--resume` reads the names already in OUT, drops
//! a torn last line, and appends the rest. (Writing to a temporary file and
//! renaming it at the end would lose everything on a crash, and show nothing
//! while running.) A fresh scan refuses to overwrite an existing OUT unless
//! asked ([`OutputMode::Overwrite`]).

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use rayon::iter::{ParallelBridge, ParallelIterator};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::media::Format;
use crate::report::{Checker, FileError, Report, Timings, Verdict};

/// One output line: a report, or an error for a file that could not be checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Line {
    /// The file was checked.
    Report(Box<Report>),
    /// It could not be.
    Error(FileError),
}

impl Line {
    /// The file the line is about.
    pub fn file(&self) -> &str {
        match self {
            Line::Report(r) => &r.file,
            Line::Error(e) => &e.file,
        }
    }
}

/// One input, as [`inputs`] yields it.
#[derive(Debug)]
pub enum Work {
    /// A file to check.
    Check(PathBuf),
    /// A path that could not be listed (unreadable folder, stdin error).
    Failed(String, Error),
}

/// Batch options.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Worker threads; 0 = one per core.
    pub jobs: usize,
}

/// Counts and totals for the summary table.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScanSummary {
    /// Files with a report.
    pub checked: u64,
    /// Files with an error line.
    pub errors: u64,
    /// Files skipped because OUT already had them (`--resume`).
    pub skipped: u64,
    /// Bytes of the files checked.
    pub bytes: u64,
    /// Wall-clock time of the scan.
    pub elapsed: Duration,
    /// Reports per verdict.
    pub verdicts: BTreeMap<Verdict, u64>,
    /// Time per stage, summed over files (CPU time across workers).
    pub stages: Timings,
}

impl ScanSummary {
    /// Files processed per second (reports and errors).
    pub fn files_per_sec(&self) -> f64 {
        (self.checked + self.errors) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Megabytes (10^6) read per second.
    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The summary table printed at the end of a scan.
    pub fn table(&self) -> String {
        let mut s = String::new();
        s.push_str("verdict            files\n");
        for v in Verdict::ALL {
            if let Some(n) = self.verdicts.get(&v) {
                s.push_str(&format!("{:<18} {n:>6}\n", v.as_str()));
            }
        }
        s.push_str(&format!("{:<18} {:>6}\n", "error", self.errors));
        if self.skipped > 0 {
            s.push_str(&format!("{:<18} {:>6}\n", "skipped (resume)", self.skipped));
        }
        s.push_str(&format!(
            "{} files in {:.1} s: {:.1} files/s, {:.1} MB/s\n",
            self.checked + self.errors,
            self.elapsed.as_secs_f64(),
            self.files_per_sec(),
            self.mb_per_sec()
        ));
        s
    }
}

/// How to open OUT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// OUT must not exist.
    Fresh,
    /// Replace OUT if it exists.
    Overwrite,
    /// Keep OUT, skip the files it has, append.
    Resume,
}

/// Open OUT for a scan. Returns the file (positioned for appending) and, for
/// [`OutputMode::Resume`], the `file` names already in it. A torn last line
/// (no final newline: a crash mid-write) is cut off; lines that are not JSON
/// objects with a `file` string are ignored.
pub fn open_output(path: &Path, mode: OutputMode) -> Result<(File, HashSet<String>)> {
    let io = |e| Error::io(path, e);
    match mode {
        OutputMode::Fresh => {
            let f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|e| {
                    if e.kind() == std::io::ErrorKind::AlreadyExists {
                        Error::InvalidInput(format!(
                        "{} already exists (use --resume to continue it, or --force to replace it)",
                        path.display()
                    ))
                    } else {
                        io(e)
                    }
                })?;
            Ok((f, HashSet::new()))
        }
        OutputMode::Overwrite => {
            let f = File::create(path).map_err(io)?;
            Ok((f, HashSet::new()))
        }
        OutputMode::Resume => {
            let mut f = OpenOptions::new()
                .read(true)
                .append(true)
                .create(true)
                .open(path)
                .map_err(io)?;
            let (done, good_len) = read_done(&mut f).map_err(io)?;
            let len = f.metadata().map_err(io)?.len();
            if good_len < len {
                f.set_len(good_len).map_err(io)?;
            }
            f.seek(SeekFrom::End(0)).map_err(io)?;
            Ok((f, done))
        }
    }
}

/// The `file` names in a JSON-lines file, and the length up to its last
/// complete line.
fn read_done(f: &mut File) -> std::io::Result<(HashSet<String>, u64)> {
    #[derive(serde::Deserialize)]
    struct Named {
        file: String,
    }
    f.seek(SeekFrom::Start(0))?;
    let mut reader = BufReader::new(&*f);
    let mut done = HashSet::new();
    let mut good_len = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            break; // torn tail: not counted, cut off by the caller
        }
        good_len += n as u64;
        if let Ok(named) = serde_json::from_slice::<Named>(&line) {
            done.insert(named.file);
        }
    }
    Ok((done, good_len))
}

/// Whether a walked file is taken, by extension.
pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| Format::from_extension(e).is_some())
}

/// Lazily expand the inputs: files as given, folders walked (image
/// extensions only, name order, symbolic links not followed), `-` read from
/// stdin (one path per line; empty lines ignored).
pub fn inputs(inputs: &[PathBuf]) -> impl Iterator<Item = Work> + Send + '_ {
    inputs
        .iter()
        .flat_map(|input| -> Box<dyn Iterator<Item = Work> + Send> {
            if input.as_os_str() == "-" {
                let stdin = BufReader::new(std::io::stdin());
                Box::new(stdin.lines().filter_map(|l| match l {
                    Ok(l) if l.trim().is_empty() => None,
                    Ok(l) => Some(Work::Check(PathBuf::from(l.trim_end_matches('\r')))),
                    Err(e) => Some(Work::Failed("-".into(), Error::io("-", e))),
                }))
            } else if input.is_dir() {
                let walk = walkdir::WalkDir::new(input)
                    .follow_links(false)
                    .sort_by_file_name();
                Box::new(walk.into_iter().filter_map(|entry| match entry {
                    Ok(e) if e.file_type().is_file() && has_image_extension(e.path()) => {
                        Some(Work::Check(e.into_path()))
                    }
                    Ok(_) => None,
                    Err(e) => {
                        let at = e.path().unwrap_or(Path::new("")).to_path_buf();
                        let err = match e.into_io_error() {
                            Some(io) => Error::io(&at, io),
                            None => {
                                Error::InvalidInput(format!("{}: filesystem loop", at.display()))
                            }
                        };
                        Some(Work::Failed(at.display().to_string(), err))
                    }
                }))
            } else {
                Box::new(std::iter::once(Work::Check(input.clone())))
            }
        })
}

/// Check every file under `inputs` with `checker` on `opts.jobs` threads,
/// writing one JSON line per file to `out` (flushed per line) and calling
/// `on_line` for each (from the writer thread: a progress bar). Files whose
/// name is in `skip` are not checked. Only a failure to write `out` is an
/// error; unreadable files are lines.
pub fn scan<W>(
    inputs: &[PathBuf],
    checker: &Checker,
    opts: &ScanOptions,
    skip: &HashSet<String>,
    mut out: W,
    on_line: &(dyn Fn(&Line) + Sync),
) -> Result<ScanSummary>
where
    W: Write + Send,
{
    let start = Instant::now();
    let jobs = if opts.jobs == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        opts.jobs
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("hallmark-scan-{i}"))
        .build()
        .map_err(|e| Error::InvalidInput(format!("cannot start {jobs} worker threads: {e}")))?;
    let stop = AtomicBool::new(false);
    let skipped = AtomicU64::new(0);
    let (tx, rx) = sync_channel::<Line>(jobs * 2);

    let written = std::thread::scope(|s| {
        let stop = &stop;
        let writer = s.spawn(move || -> Result<ScanSummary> {
            let mut summary = ScanSummary::default();
            let mut buf = Vec::with_capacity(8192);
            for line in rx {
                buf.clear();
                serde_json::to_writer(&mut buf, &line)
                    .map_err(|e| Error::InvalidInput(format!("cannot serialise a report: {e}")))?;
                buf.push(b'\n');
                let written = out.write_all(&buf).and_then(|()| out.flush());
                if let Err(e) = written {
                    stop.store(true, Ordering::Relaxed);
                    return Err(Error::io("scan output", e));
                }
                match &line {
                    Line::Report(r) => {
                        summary.checked += 1;
                        summary.bytes += r.media.bytes;
                        *summary.verdicts.entry(r.verdict).or_insert(0) += 1;
                        summary.stages.add(&r.timings_ms);
                    }
                    Line::Error(_) => summary.errors += 1,
                }
                on_line(&line);
            }
            Ok(summary)
        });

        let items = self::inputs(inputs)
            .take_while(|_| !stop.load(Ordering::Relaxed))
            .filter(|w| match w {
                Work::Check(p) if skip.contains(&p.display().to_string()) => {
                    skipped.fetch_add(1, Ordering::Relaxed);
                    false
                }
                _ => true,
            });
        pool.install(|| {
            items.par_bridge().for_each_with(tx, |tx, work| {
                let line = match work {
                    Work::Check(path) => match checker.check_path(&path) {
                        Ok(r) => Line::Report(Box::new(r)),
                        Err(e) => Line::Error(FileError::new(path.display().to_string(), &e)),
                    },
                    Work::Failed(file, e) => Line::Error(FileError::new(file, &e)),
                };
                if tx.send(line).is_err() {
                    stop.store(true, Ordering::Relaxed);
                }
            });
        });
        writer.join().unwrap_or_else(|_| {
            Err(Error::InvalidInput(
                "the scan's writer thread failed".into(),
            ))
        })
    });
    let mut summary = written?;
    summary.skipped = skipped.load(Ordering::Relaxed);
    summary.elapsed = start.elapsed();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_reads_names_and_cuts_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        std::fs::write(
            &out,
            "{\"file\":\"a.jpg\"}\n{\"file\":\"b.png\",\"error\":\"x\"}\nnot json\n{\"file\":\"c.j",
        )
        .unwrap();
        let (mut f, done) = open_output(&out, OutputMode::Resume).unwrap();
        assert_eq!(
            done,
            HashSet::from(["a.jpg".to_string(), "b.png".to_string()])
        );
        f.write_all(b"{\"file\":\"c.jpg\"}\n").unwrap();
        drop(f);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.ends_with("not json\n{\"file\":\"c.jpg\"}\n"),
            "{text:?}"
        );
    }

    #[test]
    fn fresh_output_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        std::fs::write(&out, "keep\n").unwrap();
        let err = open_output(&out, OutputMode::Fresh).unwrap_err();
        assert!(err.to_string().contains("--resume"), "{err}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep\n");
    }

    #[test]
    fn extensions_are_case_insensitive() {
        assert!(has_image_extension(Path::new("a/B.JPG")));
        assert!(has_image_extension(Path::new("x.webp")));
        assert!(!has_image_extension(Path::new("x.c2pa")));
        assert!(!has_image_extension(Path::new("README")));
    }
}
