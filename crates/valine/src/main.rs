//! `valine`: the one binary — server, migrations, and the tooling CLIs.

// mimalloc: markedly faster than the system allocator for the allocation-heavy paths
// (schema parse + diff, JSON bodies, sqlx rows) on this workload.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

mod internal_cli;
mod journey_cli;
mod schema_cli;

use clap::{Parser, Subcommand};
use valine_server::config::{Settings, Source};
use valine_store::Store;

#[derive(Parser)]
#[command(
    name = "valine",
    version,
    about = "Valine: accounts and delivery intelligence"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (migrates first unless AUTO_MIGRATE=false).
    Serve,
    /// Apply, revert or list database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the effective configuration, secrets redacted.
    Config,
    /// Create, list or revoke internal API keys.
    ApiKey {
        #[command(subcommand)]
        action: internal_cli::ApiKeyAction,
    },
    /// Test-report tooling for CI jobs.
    Tests {
        #[command(subcommand)]
        action: internal_cli::TestsAction,
    },
    /// Synthetic journeys over real HTTP against a deployment (no configuration needed).
    Journey {
        #[command(subcommand)]
        action: journey_cli::JourneyAction,
    },
    /// Prisma schema-migration risk, offline (no configuration or database needed).
    Schema {
        #[command(subcommand)]
        action: schema_cli::SchemaAction,
    },
}

#[derive(Subcommand)]
enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert the newest applied migrations.
    Down {
        /// How many migrations to revert.
        #[arg(long, default_value_t = 1)]
        steps: usize,
    },
    /// List migrations and whether each is applied.
    Status,
}

fn main() -> ExitCode {
    // clap's own exit code for a usage error is 2, which `schema diff` reserves for "threshold
    // met": a mistyped flag in CI must read as an error (1), not as a risky migration.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    // `schema diff` is pure computation for CI: no settings, no runtime, no database.
    if let Command::Schema { action } = cli.command {
        return schema_cli::run(action);
    }
    // `tests upload` runs in CI jobs against a remote server: it needs no local settings
    // (loading them would create development secrets in the job's working directory).
    if let Command::Tests { action } = cli.command {
        return match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(internal_cli::tests(action)))
        {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
        };
    }
    // `journey run` targets any deployment from any machine: no local settings either.
    if let Command::Journey { action } = cli.command {
        return match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(journey_cli::run(action)))
        {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
        };
    }
    let settings = match Settings::load(&Source::from_env()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve => serve(settings).await,
        Command::Migrate { action } => migrate(settings, action).await,
        Command::ApiKey { action } => internal_cli::api_key(settings, action).await,
        Command::Tests { action } => internal_cli::tests(action).await,
        Command::Schema { action } => Ok(schema_cli::run(action)),
        Command::Journey { action } => journey_cli::run(action).await,
        Command::Config => {
            for (name, value) in settings.describe() {
                println!("{name}={value}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    valine_server::telemetry::init(settings.log_format);
    let addr = format!("{}:{}", settings.host, settings.port);
    let app = valine_server::build_app(settings).await?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!(address = %listener.local_addr()?, "valine listening");
    app.run(listener, valine_server::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn migrate(settings: Settings, action: MigrateAction) -> anyhow::Result<ExitCode> {
    let store = Store::connect(&settings.database_url).await?;
    match action {
        MigrateAction::Up => {
            store.migrate_up().await?;
            println!("migrations applied");
        }
        MigrateAction::Down { steps } => {
            let reverted = store.migrate_down(steps).await?;
            if reverted.is_empty() {
                println!("nothing to revert");
            }
            for v in reverted {
                println!("reverted {v}");
            }
        }
        MigrateAction::Status => {
            for m in store.migrate_status().await? {
                let mark = if m.applied { "applied" } else { "pending" };
                println!("{:>6} {:<8} {}", m.version, mark, m.description);
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
