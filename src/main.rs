use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use trailwatch::cli::detectors as commands;
use trailwatch::cli::replay::{self, Replay, TopJob};
use trailwatch::detectors::{FipsPolicy, Settings, TrustedAccounts};
use trailwatch::output::Format;
use trailwatch::Catalog;
use trailwatch::Pipeline;
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
    /// Scan deliveries (files, directories, `-` for stdin, `s3://bucket/prefix/`) and print
    /// alerts.
    Replay(Box<ReplayArgs>),
    /// Serve as the AWS Lambda function (the default when `AWS_LAMBDA_RUNTIME_API` is set).
    #[cfg(feature = "lambda")]
    Lambda,
    /// List, test and check detector files.
    #[command(subcommand)]
    Detectors(DetectorsCommand),
}

#[derive(Subcommand)]
enum DetectorsCommand {
    /// List every detector: id, title, severity, kind (native, sigma or correlation; a base
    /// rule that only feeds a correlation says so), source file.
    List {
        /// Extra directory of detector files (repeatable).
        #[arg(long = "detectors", value_name = "DIR")]
        detector_dirs: Vec<PathBuf>,
    },
    /// Run the inline tests of the detector files in DIR... (default: the built-in ones).
    /// Prints a line per failure and a closing count; exits 1 on any failure.
    Test {
        #[arg(value_name = "DIR")]
        dirs: Vec<PathBuf>,
    },
    /// Load every file of DIR and report each one: loaded, or why not. Exits 1 if any is not.
    Check {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// Delivery files (`*.json.gz`, `*.json`), directories (searched recursively), `-`, or
    /// `s3://bucket/prefix/` (listed by CloudTrail's key layout).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// s3://: deliveries from this day on: a date (2026-11-28) or a duration back (7d, 2w).
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// s3://: deliveries up to this day (a date or a duration back).
    #[arg(long, value_name = "WHEN")]
    until: Option<String>,
    /// s3://: only this account's deliveries (repeatable).
    #[arg(long = "account", value_name = "ID")]
    accounts: Vec<String>,
    /// s3://: only this region's deliveries (repeatable).
    #[arg(long = "region", value_name = "REGION")]
    regions: Vec<String>,
    /// s3://: the AWS profile for credentials and region (as the AWS CLI's --profile).
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
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
    /// Apply no filter: shows what the filters of the detector directories hide.
    #[arg(long)]
    no_filters: bool,
    /// Print the N noisiest (detector, principal, user agent, account) groups, with their
    /// finding counts, instead of the alerts.
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "10")]
    top: Option<usize>,
    /// Write a filter file for the `--top` groups (expiring in a quarter), for review.
    #[arg(long, value_name = "FILE")]
    suggest_filters: Option<PathBuf>,
    /// Check the log files against CloudTrail's digest files of the inputs (local folders or
    /// s3://, which lists `CloudTrail-Digest/` too): missing, changed and unlisted log files,
    /// broken signatures and chains, in a summary table; exit 1 on any.
    #[arg(long)]
    verify: bool,
    /// Files scanned at once [default: half the cores, at least 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    jobs: Option<u64>,
    /// Never show a progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Where calls must use FIPS endpoints: comma list of region globs and 12-digit account
    /// ids, or `all`, or `none`.
    #[arg(
        long,
        env = "TRAILWATCH_FIPS_REQUIRED",
        default_value = "us-gov-*",
        value_name = "SCOPES"
    )]
    fips_required: FipsPolicy,
    /// Account ids and organization ids (o-...) whose grants are expected: resource-shared
    /// does not report them (comma-separated).
    #[arg(
        long,
        env = "TRAILWATCH_TRUSTED_ACCOUNTS",
        default_value = "",
        hide_default_value = true,
        value_name = "IDS"
    )]
    trusted_accounts: TrustedAccounts,
    /// Keep state in FILE between runs (read if it exists, then saved): correlation windows and
    /// dedup windows still open at the end of this run are completed by the next. Without it,
    /// every window is decided at the end of the run.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// How late (by eventTime) a record may come and still count in its correlation window
    /// (s, m, h, d: 90s, 20m, 1h).
    #[arg(long, default_value = "20m", value_name = "DURATION", value_parser = duration)]
    allowed_lateness: i64,
    /// Correlation groups kept open at most; beyond, the least recently active are evicted.
    #[arg(long, default_value_t = trailwatch::correlate::store::DEFAULT_MAX_GROUPS, value_name = "N")]
    max_groups: usize,
    /// A record (an element of `Records`) larger than this is skipped unread and reported
    /// (CloudTrail's events are at most 256 KB): 1MiB, 512KiB, 65536.
    #[arg(long, default_value = "1MiB", value_name = "SIZE", value_parser = trailwatch::scan::limits::parse_size, env = "MAX_RECORD_SIZE")]
    max_record_size: u64,
    /// A file is read up to this much JSON, and not past an implausible expansion (over 500
    /// times its compressed size): what was read is analysed, the file is reported.
    #[arg(long, default_value = "4GiB", value_name = "SIZE", value_parser = trailwatch::scan::limits::parse_size, env = "MAX_UNCOMPRESSED")]
    max_uncompressed: u64,
}

/// Seconds of a duration such as `20m` (s, m, h or d).
fn duration(text: &str) -> Result<i64, String> {
    trailwatch::correlate::time::parse_duration(text)
        .ok_or_else(|| format!("`{text}` is not {}", trailwatch::correlate::time::DURATION))
}

fn main() -> ExitCode {
    one_malloc_arena();
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

/// One malloc arena for the whole process (glibc). The threads of a scan (decompression, the
/// detectors, the front end) otherwise keep an arena each, and a storm delivery's correlation
/// counts, built on one thread and freed on another, leave the process a third larger than
/// what it holds: 83 MiB against 63 MiB for a file of a million denied calls from 5,000
/// principals. The scan's hot path allocates little, so the one lock costs nothing measurable.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn one_malloc_arena() {
    // SAFETY: `mallopt` sets a parameter of glibc's allocator; called first thing in `main`,
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Other platforms keep their allocator's defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn one_malloc_arena() {}

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
            let job = replay_job(*args)?;
            #[cfg(feature = "lambda")]
            on_interrupt();
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let mut err = std::io::stderr().lock();
            match replay::run(&job, &mut out, &mut err) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
                other => Ok(other?),
            }
        }
        Command::Detectors(cmd) => {
            let mut out = std::io::stdout().lock();
            match cmd {
                DetectorsCommand::List { detector_dirs } => {
                    check_dirs(&detector_dirs, "--detectors ")?;
                    let catalog = Catalog::load(&detector_dirs, &[])?;
                    match commands::list(&catalog, &mut out) {
                        // `detectors list | head`: the reader had enough.
                        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
                        other => other.map(|()| 0).map_err(Into::into),
                    }
                }
                DetectorsCommand::Test { dirs } => {
                    check_dirs(&dirs, "")?;
                    let (catalog, refused) = if dirs.is_empty() {
                        (Catalog::embedded()?, Vec::new())
                    } else {
                        commands::load_each(&dirs)
                    };
                    let settings = Settings::default();
                    Ok(commands::test(&catalog, &refused, &settings, &mut out)?)
                }
                DetectorsCommand::Check { dir } => {
                    check_dirs(std::slice::from_ref(&dir), "")?;
                    Ok(commands::check(&dir, &mut out)?)
                }
            }
        }
    }
}

/// Ctrl-C stops the replay cleanly (the summary of what was scanned follows); a second one
/// ends the process at once.
#[cfg(feature = "lambda")]
fn on_interrupt() {
    std::thread::spawn(|| {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                replay::stop();
            }
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        });
    });
}

/// Fails on the first path that is not a directory; `flag` (e.g. `--detectors `) leads the message.
fn check_dirs(dirs: &[PathBuf], flag: &str) -> anyhow::Result<()> {
    for dir in dirs {
        if !dir.is_dir() {
            bail!("{flag}{}: not a directory", dir.display());
        }
    }
    Ok(())
}

fn replay_job(args: ReplayArgs) -> anyhow::Result<Replay> {
    check_dirs(&args.detector_dirs, "--detectors ")?;
    if let Some(path) = args.suggest_filters.as_ref().filter(|p| p.exists()) {
        // A reviewed filter file (reason and owner filled in) is never written over.
        anyhow::bail!(
            "--suggest-filters {}: the file exists; give a new name, or remove it first",
            path.display()
        );
    }
    let remote = remote(&args)?;
    let mut catalog = Catalog::load(&args.detector_dirs, &args.disable).context("detectors")?;
    // What will not be applied is said before the run, so a summary without filter counts
    // is never mistaken for filters that matched nothing.
    if args.no_filters && !catalog.filters.is_empty() {
        let n = catalog.filters.len();
        let filters = if n == 1 { "filter" } else { "filters" };
        eprintln!("trailwatch: --no-filters: {n} {filters} not applied");
        catalog.filters.clear();
    }
    for expired in catalog.expired_filters() {
        eprintln!("trailwatch: {expired}: not applied");
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
        pipeline: Pipeline {
            catalog,
            settings: Settings {
                fips_required: args.fips_required,
                trusted_accounts: args.trusted_accounts,
            },
            disabled: args.disable,
            limits: trailwatch::scan::Limits {
                max_record: args.max_record_size,
                max_uncompressed: args.max_uncompressed,
                hash: args.verify,
                ..Default::default()
            },
        },
        jobs: args.jobs.map_or((cores / 2).max(1), |n| n as usize),
        progress: !args.no_progress,
        remote,
        top: (args.top.is_some() || args.suggest_filters.is_some()).then(|| TopJob {
            n: args.top.unwrap_or(10),
            suggest: args.suggest_filters,
        }),
        correlation: trailwatch::cli::correlation::CorrelationOptions {
            state: args.state,
            lateness: args.allowed_lateness,
            max_groups: args.max_groups,
        },
        verify: args.verify,
    })
}

/// The S3 lister and reader when an argument is an `s3://` URL, with the listing filters.
fn remote(args: &ReplayArgs) -> anyhow::Result<Option<Box<dyn trailwatch::cli::inputs::Remote>>> {
    use trailwatch::cli::s3_keys::{parse_when, KeyFilter};
    let today = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| (d.as_secs() / 86_400) as i64);
    let when = |v: &Option<String>, flag: &str| -> anyhow::Result<Option<i64>> {
        v.as_deref()
            .map(|s| parse_when(s, today))
            .transpose()
            .with_context(|| format!("--{flag}"))
    };
    let filter = KeyFilter {
        since: when(&args.since, "since")?,
        until: when(&args.until, "until")?,
        accounts: args.accounts.clone(),
        regions: args.regions.clone(),
    };
    let s3 = args
        .paths
        .iter()
        .any(|p| p.to_string_lossy().starts_with("s3://"));
    if !s3 {
        if filter != KeyFilter::default() || args.profile.is_some() {
            bail!("--since, --until, --account, --region and --profile apply to s3:// arguments");
        }
        return Ok(None);
    }
    filter.check(today)?;
    #[cfg(feature = "lambda")]
    {
        let r = trailwatch::cli::s3::S3Remote::new(
            args.profile.as_deref(),
            filter,
            today,
            args.verify,
        )?;
        Ok(Some(Box::new(r)))
    }
    #[cfg(not(feature = "lambda"))]
    bail!("reading s3:// needs a build with the lambda feature")
}
