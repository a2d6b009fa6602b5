//! `hallmark serve`: the HTTP API and web page (see `hallmark::serve`).

use std::path::PathBuf;
use std::time::Duration;

use hallmark::serve::{config, ServeOptions};

use super::check::EngineArgs;
use super::Outcome;

/// Serve the HTTP API (/v1/...) and the verification web page (/).
#[derive(Debug, clap::Args)]
#[command(after_help = "Stops on SIGTERM or Ctrl-C after finishing the requests in flight.")]
pub struct Args {
    /// Address to listen on (port 0 picks a free port; the log says which).
    #[arg(long, default_value = config::DEFAULT_ADDR, value_name = "HOST:PORT")]
    addr: String,
    /// Allow listening on a non-loopback address.
    #[arg(long)]
    allow_remote: bool,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = config::DEFAULT_MAX_BODY, value_name = "BYTES")]
    max_body: usize,
    /// Checks running at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Uploads that may wait for a worker before new ones get 503.
    #[arg(long, default_value_t = config::DEFAULT_QUEUE, value_name = "N")]
    queue: usize,
    /// Deadline for one request, in seconds.
    #[arg(long, default_value_t = config::DEFAULT_TIMEOUT.as_secs_f64(), value_name = "SECS")]
    timeout: f64,
    /// SHA-256 (hex) of the API token that write endpoints require:
    /// `printf %s "$TOKEN" | sha256sum`. Without it, writes are refused.
    #[arg(long, value_name = "HEX")]
    api_token_sha256: Option<String>,
    /// Read the API token's SHA-256 from a file instead.
    #[arg(long, value_name = "FILE", conflicts_with = "api_token_sha256")]
    api_token_sha256_file: Option<PathBuf>,
    #[command(flatten)]
    engines: EngineArgs,
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    if !(a.timeout.is_finite() && a.timeout > 0.0) {
        anyhow::bail!("--timeout must be a positive number of seconds");
    }
    if a.max_body == 0 {
        anyhow::bail!("--max-body must be at least 1 byte");
    }
    let token_hex = match (&a.api_token_sha256, &a.api_token_sha256_file) {
        (Some(h), _) => Some(h.clone()),
        (None, Some(f)) => Some(
            std::fs::read_to_string(f)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?,
        ),
        (None, None) => None,
    };
    let opts = ServeOptions {
        addr: config::parse_addr(&a.addr)?,
        allow_remote: a.allow_remote,
        check: a.engines.options(),
        max_body: a.max_body,
        workers: a.workers.unwrap_or_else(config::default_workers).max(1),
        queue: a.queue,
        timeout: Duration::from_secs_f64(a.timeout),
        token_sha256: token_hex
            .as_deref()
            .map(config::parse_token_hash)
            .transpose()?,
    };
    hallmark::serve::run(opts)?;
    Ok(Outcome::Success)
}
