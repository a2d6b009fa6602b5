//! Server options with their defaults, and the bind-address policy: a
//! non-loopback address is refused unless `--allow-remote` says the
//! operator meant it (the API then answers anyone who can reach the port).

use std::net::SocketAddr;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::report::CheckOptions;

/// The default address: loopback only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// The default largest request body (64 MiB).
pub const DEFAULT_MAX_BODY: usize = 64 << 20;
/// The default number of uploads waiting for a worker before 503.
pub const DEFAULT_QUEUE: usize = 64;
/// The default deadline for one request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything `hallmark serve` is configured with.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address and port to listen on (port 0 picks a free one).
    pub addr: SocketAddr,
    /// Allow a non-loopback `addr`.
    pub allow_remote: bool,
    /// Trust store, classifier and decoder limits, as for `check`.
    pub check: CheckOptions,
    /// Largest request body in bytes (413 above it).
    pub max_body: usize,
    /// Checks run at once (CPU-bound work); default: the number of cores.
    pub workers: usize,
    /// Uploads that may wait for a worker; more get 503 + Retry-After.
    pub queue: usize,
    /// Deadline for a whole request, upload included (503 past it).
    pub timeout: Duration,
    /// SHA-256 of the API token that write endpoints require (only the hash
    /// is kept). `None`: writes are refused.
    pub token_sha256: Option<[u8; 32]>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            allow_remote: false,
            check: CheckOptions::default(),
            max_body: DEFAULT_MAX_BODY,
            workers: default_workers(),
            queue: DEFAULT_QUEUE,
            timeout: DEFAULT_TIMEOUT,
            token_sha256: None,
        }
    }
}

/// One worker per core.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Parse `HOST:PORT` (`localhost` is taken as 127.0.0.1).
pub fn parse_addr(text: &str) -> Result<SocketAddr> {
    let t = text.trim();
    let t = t
        .strip_prefix("localhost:")
        .map(|port| format!("127.0.0.1:{port}"))
        .unwrap_or_else(|| t.to_string());
    t.parse().map_err(|_| {
        Error::InvalidInput(format!(
            "--addr {text:?} is not an IP address and port, e.g. {DEFAULT_ADDR}"
        ))
    })
}

/// Refuse a non-loopback address unless allowed.
pub fn check_addr(opts: &ServeOptions) -> Result<()> {
    if opts.addr.ip().is_loopback() || opts.allow_remote {
        return Ok(());
    }
    Err(Error::Serve(format!(
        "refusing to listen on {}: it is not a loopback address, so anyone who can reach it \
         could use the API; pass --allow-remote if that is what you want (and put TLS and \
         access control in front of it)",
        opts.addr
    )))
}

/// Parse the API token's SHA-256 from hex (64 digits, `sha256:` prefix
/// allowed), as `printf %s "$TOKEN" | sha256sum` prints it.
pub fn parse_token_hash(text: &str) -> Result<[u8; 32]> {
    let t = text.trim();
    let t = t.strip_prefix("sha256:").unwrap_or(t);
    let t = t.split_whitespace().next().unwrap_or("");
    let mut out = [0u8; 32];
    hex::decode_to_slice(t, &mut out).map_err(|_| {
        Error::InvalidInput(
            "the API token hash must be 64 hex digits (the SHA-256 of the token: \
             printf %s \"$TOKEN\" | sha256sum)"
                .into(),
        )
    })?;
    Ok(out)
}

/// SHA-256 of a presented token.
pub fn hash_token(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_allowed_remote_is_refused_without_the_flag() {
        let mut o = ServeOptions {
            addr: parse_addr("127.0.0.1:0").unwrap(),
            ..ServeOptions::default()
        };
        assert!(check_addr(&o).is_ok());
        o.addr = parse_addr("[::1]:8080").unwrap();
        assert!(check_addr(&o).is_ok());
        o.addr = parse_addr("0.0.0.0:8080").unwrap();
        let e = check_addr(&o).unwrap_err().to_string();
        assert!(e.contains("--allow-remote"), "{e}");
        o.allow_remote = true;
        assert!(check_addr(&o).is_ok());
    }

    #[test]
    fn addresses_parse_or_say_what_is_expected() {
        assert_eq!(parse_addr("localhost:9").unwrap().port(), 9);
        assert!(parse_addr("example.org:80").is_err());
        assert!(parse_addr("127.0.0.1").is_err());
    }

    #[test]
    fn token_hash_accepts_sha256sum_output() {
        let h = hash_token(b"secret");
        let hexed = hex::encode(h);
        assert_eq!(parse_token_hash(&format!("{hexed}  -\n")).unwrap(), h);
        assert_eq!(parse_token_hash(&format!("sha256:{hexed}")).unwrap(), h);
        assert!(parse_token_hash("abc").is_err());
    }
}
