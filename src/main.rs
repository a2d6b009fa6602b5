//! The `hallmark` binary: parse arguments, dispatch to a subcommand in
//! `cli/`, map the outcome to an exit code.
//!
//! Exit codes: 0 success / found / valid, 1 negative result (invalid,
//! absent, not found), 2 error. A closed stdout (e.g. `| head`) is success.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(outcome) => outcome.into(),
        Err(err) => {
            if cli::output::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("hallmark: error: {}", cli::output::one_line(&err));
            ExitCode::from(2)
        }
    }
}
