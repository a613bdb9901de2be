use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use trailwatch::catalog::Catalog;
use trailwatch::detectors::Settings;
use trailwatch::output::Format;
use trailwatch::replay::{self, Replay};
use trailwatch::Severity;

/// CloudTrail log stream analyzer: data-protection detectors over CloudTrail deliveries.
#[derive(Parser)]
#[command(name = "trailwatch", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan local deliveries (files, directories, `-` for stdin) and print alerts.
    Replay(ReplayArgs),
    /// Serve as the AWS Lambda function (the default when `AWS_LAMBDA_RUNTIME_API` is set).
    #[cfg(feature = "lambda")]
    Lambda,
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// Delivery files (`*.json.gz`, `*.json`), directories (searched recursively), or `-`.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format [default: pretty on a terminal, else jsonl]
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Leave out alerts below this severity.
    #[arg(long, default_value = "low", value_name = "LEVEL")]
    min_severity: Severity,
    /// Exit 1 if any alert is at or above this severity.
    #[arg(long, value_name = "LEVEL")]
    fail_on: Option<Severity>,
    /// Extra directory of detector files (repeatable).
    #[arg(long = "detectors", value_name = "DIR")]
    detector_dirs: Vec<PathBuf>,
    /// Detector ids to turn off (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    disable: Vec<String>,
    /// Files scanned at once [default: half the cores, at least 1]
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Never show a progress bar.
    #[arg(long)]
    no_progress: bool,
}

fn main() -> ExitCode {
    // Lambda starts the bootstrap without arguments and with the runtime API in the environment.
    #[cfg(feature = "lambda")]
    if std::env::args_os().len() <= 1 && std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda();
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("trailwatch: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(feature = "lambda")]
fn lambda() -> ExitCode {
    match trailwatch::lambda::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trailwatch: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        #[cfg(feature = "lambda")]
        Command::Lambda => {
            trailwatch::lambda::run()?;
            Ok(0)
        }
        Command::Replay(args) => {
            let job = replay_job(args)?;
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let mut err = std::io::stderr().lock();
            match replay::run(&job, &mut out, &mut err) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
                other => Ok(other?),
            }
        }
    }
}

fn replay_job(args: ReplayArgs) -> anyhow::Result<Replay> {
    let mut catalog = Catalog::embedded().context("built-in detectors")?;
    for dir in &args.detector_dirs {
        if !dir.is_dir() {
            bail!("--detectors {}: not a directory", dir.display());
        }
        catalog.add_dir(dir)?;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Pretty
    } else {
        Format::Jsonl
    });
    Ok(Replay {
        paths: args.paths,
        format,
        min_severity: args.min_severity,
        fail_on: args.fail_on,
        catalog,
        settings: Settings::default(),
        disabled: args.disable,
        jobs: args.jobs.unwrap_or((cores / 2).max(1)).max(1),
        progress: !args.no_progress,
    })
}
