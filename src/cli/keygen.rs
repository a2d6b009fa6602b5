//! `hallmark keygen`: make a signing key, its certificate chain and a local CA.

use std::path::PathBuf;

use hallmark::keys::{keygen, KeygenOptions};

use super::{output, Outcome};

/// Make an Ed25519 signing key with a C2PA-ready certificate chain.
///
/// Writes NAME.key (secret, mode 0600), NAME.pub, NAME.crt (leaf + CA) and,
/// unless --ca is given, a new local root CA: NAME-ca.key (secret, 0600) and
/// NAME-ca.crt. Put NAME-ca.crt in a verifier's trust folder.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Signer name (letters, digits, '.', '_', '-').
    #[arg(long)]
    name: String,
    /// Output folder.
    #[arg(long, default_value = "keys")]
    out: PathBuf,
    /// Issue the certificate from an existing local CA (its secret key; the
    /// CA certificate is the .crt beside it) instead of making a new CA.
    #[arg(long, value_name = "CA.key")]
    ca: Option<PathBuf>,
    /// Replace existing key files.
    #[arg(long)]
    force: bool,
    /// Print what was written as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let out = keygen(&KeygenOptions {
        name: a.name,
        out_dir: a.out,
        ca_key: a.ca,
        force: a.force,
    })?;
    if a.json {
        output::print_json(&out)?;
    } else {
        println!(
            "secret key   {}  (mode 0600: keep it private)",
            out.key.display()
        );
        println!("public key   {}", out.public_key.display());
        println!("certificate  {}", out.certificate.display());
        if let Some(ca_key) = &out.ca_key {
            println!(
                "CA key       {}  (mode 0600: keep it offline)",
                ca_key.display()
            );
        }
        println!(
            "CA root      {}  (give this to verifiers: --trust DIR)",
            out.ca_certificate.display()
        );
        println!("fingerprint  {}", out.fingerprint);
    }
    Ok(Outcome::Success)
}
