//! `valine schema diff OLD NEW`: offline schema-migration risk for CI (SPEC §1, §12). Needs
//! no configuration and no database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use valine_prisma::{FailOn, Side};

#[derive(Subcommand)]
pub enum SchemaAction {
    /// Diff two Prisma schemas and score the migration between them. Exit 0, or 2 when the
    /// --fail-on threshold is met, 1 on error (unreadable file, invalid schema).
    Diff {
        /// The schema as deployed (e.g. from the base branch).
        old: PathBuf,
        /// The schema to migrate to.
        new: PathBuf,
        /// Report format on stdout.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Exit 2 when the analysis reaches this: low (any change), medium, high (by
        /// severity), destructive (any destructive operation).
        #[arg(long, value_parser = parse_fail_on)]
        fail_on: Option<FailOn>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    s.parse()
}

pub fn run(action: SchemaAction) -> ExitCode {
    match action {
        SchemaAction::Diff {
            old,
            new,
            format,
            fail_on,
        } => diff(&old, &new, format, fail_on),
    }
}

fn diff(old: &Path, new: &Path, format: Format, fail_on: Option<FailOn>) -> ExitCode {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|e| eprintln!("{}: {e}", path.display()))
    };
    let (Ok(old_src), Ok(new_src)) = (read(old), read(new)) else {
        return ExitCode::from(1);
    };
    let analysis = match valine_prisma::analyze(&old_src, &new_src) {
        Ok(a) => a,
        Err(e) => {
            // `file:line:column: message`, the form editors and CI annotators understand.
            let path = match e.side {
                Some(Side::Target) => new,
                _ => old,
            };
            eprintln!("{}:{}:{}: {}", path.display(), e.line, e.column, e.message);
            return ExitCode::from(1);
        }
    };
    match format {
        Format::Text => print!("{}", analysis.to_text()),
        Format::Json => match serde_json::to_string_pretty(&analysis) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("error: cannot encode the analysis: {e}");
                return ExitCode::from(1);
            }
        },
    }
    match fail_on {
        Some(threshold) if analysis.meets(threshold) => {
            eprintln!("schema risk threshold `{threshold}` met: failing");
            ExitCode::from(2)
        }
        _ => ExitCode::SUCCESS,
    }
}
