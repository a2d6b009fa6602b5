//! Command-line interface: one file per subcommand. Each `run` calls the
//! library and returns an [`Outcome`]; errors become exit code 2 in `main`.

pub mod check;
pub mod comply;
pub mod detect;
pub mod keygen;
pub mod output;
pub mod recover;
pub mod registry;
pub mod scan;
#[cfg(feature = "serve")]
pub mod serve;
pub mod sign;
pub mod sign_labels;
pub mod verify;
pub mod watermark;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Content provenance (C2PA), invisible watermarks and AI-image detection.
#[derive(Debug, Parser)]
#[command(name = "hallmark", version, about, long_about = None, propagate_version = true)]
#[command(after_help = "Exit codes: 0 success/valid/found, 1 invalid/absent/not found, 2 error.")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make an Ed25519 signing key, its certificate chain and a local CA.
    Keygen(keygen::Args),
    /// Sign an image with a C2PA manifest (Content Credentials).
    Sign(sign::Args),
    /// Verify an image's C2PA manifest, its chain and its signer.
    Verify(verify::Args),
    /// Embed or detect hallmark's invisible watermark.
    #[command(subcommand)]
    Watermark(watermark::Command),
    /// Score images with the AI-image classifier.
    Detect(detect::Args),
    /// One fused report and verdict: manifest, watermark, metadata, classifier.
    Check(check::Args),
    /// Check many files in parallel and write JSON lines.
    Scan(scan::Args),
    /// Serve the HTTP API and the verification web page.
    #[cfg(feature = "serve")]
    Serve(serve::Args),
    /// Recover a stripped image's Content Credentials from a registry.
    Recover(recover::Args),
    /// Record signed files in a manifest registry; show its counts.
    #[command(subcommand)]
    Registry(registry::Command),
    /// Which obligations of AI-labelling law (GB 45438-2025, EU AI Act
    /// Art. 50) a file meets, which it fails, and why.
    Comply(comply::Args),
}

/// The result of a command that did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0: done, valid, found.
    Success,
    /// Exit 1: a negative result (invalid, absent, not found).
    Negative,
    /// Exit 2: an error already reported on stderr (e.g. one file of several
    /// could not be read; the others were still processed).
    Error,
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::Negative => ExitCode::from(1),
            Outcome::Error => ExitCode::from(2),
        }
    }
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Keygen(a) => keygen::run(a),
        Command::Sign(a) => sign::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Watermark(c) => watermark::run(c),
        Command::Detect(a) => detect::run(a),
        Command::Check(a) => check::run(a),
        Command::Scan(a) => scan::run(a),
        #[cfg(feature = "serve")]
        Command::Serve(a) => serve::run(a),
        Command::Recover(a) => recover::run(a),
        Command::Registry(c) => registry::run(c),
        Command::Comply(a) => comply::run(a),
    }
}
