//! `trailwatch replay`: scans local deliveries with the same core as the Lambda.

use super::correlation::{self, CorrelationOptions};
use super::inputs::{self, Input};
use super::memory::ReplayMemory;
use super::summary::{filtered_correlations, summary};
use super::top::{self, Top};
use super::verify::{self, Verifier};
use crate::alert::severity::Severity;
use crate::alert::{Alert, Source};
use crate::correlate::{Correlations, Dedup};
use crate::delivery::{Analysis, Pipeline};
use crate::output::{self, Format};
use crate::redact::Redacted;
use crate::scan::{Contents, ScanError};
use crate::stage::{block_on, Counts, Delivery, Stage};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// Set by [`stop`]: no further input is started.
static STOP: AtomicBool = AtomicBool::new(false);

/// Stops a running replay cleanly (Ctrl-C): inputs being scanned finish, no other starts, and
/// the summary says what was scanned.
pub fn stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// What one run of replay is asked to do (validated by the CLI).
pub struct Replay {
    /// Files, directories (searched recursively) or `-`.
    pub paths: Vec<PathBuf>,
    /// How alerts are written.
    pub format: Format,
    /// Alerts below are not written.
    pub min_severity: Severity,
    /// Exit 1 if an alert reaches this severity.
    pub fail_on: Option<Severity>,
    /// The detectors, their settings, and the ones turned off.
    pub pipeline: Pipeline,
    /// Files scanned at once.
    pub jobs: usize,
    /// Show a progress bar on a terminal for large inputs.
    pub progress: bool,
    /// Lists and reads `s3://` arguments (set when one is given).
    pub remote: Option<Box<dyn inputs::Remote>>,
    /// `--top` / `--suggest-filters`: summarise the noisiest groups instead of the alerts.
    pub top: Option<TopJob>,
    /// Correlation across the files of the run (and between runs with a state file).
    pub correlation: CorrelationOptions,
    /// `--verify`: check the log files against the digest files of the run.
    pub verify: bool,
}

/// What `--top [N]` and `--suggest-filters FILE` ask for.
pub struct TopJob {
    /// How many groups.
    pub n: usize,
    /// Where a filter file for those groups is written.
    pub suggest: Option<PathBuf>,
}

struct FileResult {
    name: String,
    /// Found by walking a directory (not named on the command line).
    found: bool,
    open_error: Option<String>,
    /// None when the file could not be opened.
    analysis: Option<Analysis>,
    /// With `--verify`, a digest file: its bucket (empty for a local file), what was read,
    /// and its signature.
    digest: Option<(
        String,
        Result<crate::digest::Digest, String>,
        Option<String>,
    )>,
}

/// Runs the replay, writing results to `out` and diagnostics to `err`; returns the exit code:
/// 2 if any input failed, else 1 if an alert reached `fail_on`, else 0.
pub fn run(job: &Replay, out: &mut dyn Write, err: &mut dyn Write) -> std::io::Result<i32> {
    let started = Instant::now();
    let opened = correlation::open(&job.pipeline.catalog.correlations, &job.correlation);
    let (engine, windows) = match opened {
        Ok(e) => e,
        Err(e) => {
            writeln!(err, "trailwatch: --state {e}")?;
            return Ok(2);
        }
    };
    let mut dedup = Dedup::new(job.pipeline.catalog.dedup_windows());
    for (key, window) in windows {
        dedup.restore(key, window);
    }
    let mut run = Run {
        job,
        stage: Stage {
            min_severity: job.min_severity,
        },
        memory: ReplayMemory::new(engine, dedup, job.correlation.clone()),
        counts: Counts::default(),
        top: Top::default(),
        held: Vec::new(),
        verifier: Verifier::default(),
        unproven: 0,
        verified: None,
    };
    let (inputs, missing) = inputs::expand_with(&job.paths, job.remote.as_deref());
    for (name, why) in &missing {
        // A listing's own message already names what it listed.
        match why.starts_with(name.as_str()) {
            true => writeln!(err, "trailwatch: {why}")?,
            false => writeln!(err, "trailwatch: {name}: {why}")?,
        }
        run.counts.failed += 1;
    }
    let total_size: u64 = inputs.iter().map(Input::size).sum();
    let bar = if job.progress && total_size > 32 << 20 && std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(total_size).with_style(
            indicatif::ProgressStyle::with_template(
                "{wide_bar} {bytes}/{total_bytes} {msg} ({eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        )
    } else {
        indicatif::ProgressBar::hidden()
    };
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::sync_channel::<(usize, FileResult)>(job.jobs * 2);
    let mut outcome = Ok(());
    std::thread::scope(|s| {
        for _ in 0..job.jobs.max(1).min(inputs.len().max(1)) {
            let tx = tx.clone();
            let (next, inputs) = (&next, &inputs);
            s.spawn(move || loop {
                if STOP.load(Ordering::SeqCst) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(input) = inputs.get(i) else { break };
                if tx.send((i, scan_one(job, input))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending = HashMap::new();
        let mut want = 0;
        for (i, result) in rx {
            bar.inc(inputs[i].size());
            pending.insert(i, result);
            while let Some(mut r) = pending.remove(&want) {
                want += 1;
                if outcome.is_ok() {
                    outcome = bar.suspend(|| run.file(&mut r, out, err));
                    bar.set_message(format!(
                        "{} of {} files, {} records",
                        run.counts.files,
                        inputs.len(),
                        run.counts.records
                    ));
                }
            }
        }
    });
    bar.finish_and_clear();
    outcome?;
    run.end(out, err)?;
    let counts = &run.counts;
    out.flush()?;
    if inputs.is_empty() && missing.is_empty() {
        writeln!(err, "trailwatch: no deliveries (*.json.gz, *.json) found")?;
        if let Some(found) = job.remote.as_deref().and_then(|r| r.found()) {
            writeln!(err, "trailwatch: {found}")?;
        }
    }
    summary(counts, started.elapsed().as_secs_f64(), err)?;
    let correlations = &job.pipeline.catalog.correlations;
    filtered_correlations(&counts.suppressed, correlations, err)?;
    let tripped = job
        .fail_on
        .filter(|f| counts.worst.is_some_and(|w| w >= *f));
    if let (Some(f), Some(w)) = (tripped, counts.worst) {
        if w < job.min_severity {
            writeln!(
                err,
                "trailwatch: exit 1: an alert at {w} reached --fail-on {f} (not shown: below --min-severity {})",
                job.min_severity
            )?;
        }
    }
    let stopped = STOP.load(Ordering::SeqCst);
    if stopped {
        writeln!(
            err,
            "trailwatch: interrupted: {} of {} inputs scanned",
            counts.files,
            inputs.len() + missing.len()
        )?;
    }
    Ok(if stopped {
        130
    } else if counts.failed > 0 {
        2
    } else if tripped.is_some() || run.unproven > 0 {
        1
    } else {
        0
    })
}

/// One run in progress: the stage after the pipeline, its memory and counts.
struct Run<'j> {
    job: &'j Replay,
    stage: Stage,
    memory: ReplayMemory,
    counts: Counts,
    top: Top,
    /// Readable alerts, held to be printed worst first at the end of the run.
    held: Vec<Redacted<Alert>>,
    /// `--verify`: the digests and log files read.
    verifier: Verifier,
    /// `--verify`: what the digests prove wrong (or 1 when there was no digest at all).
    unproven: usize,
    /// `--verify`: the summary table, written after the alerts.
    verified: Option<String>,
}

impl FileResult {
    /// An input that could not be opened (or read, for a digest).
    fn unopened(name: String, found: bool, e: &std::io::Error) -> FileResult {
        FileResult {
            name,
            found,
            open_error: Some(format!("cannot open: {e}")),
            analysis: None,
            digest: None,
        }
    }
}

fn scan_one(job: &Replay, input: &Input) -> FileResult {
    let name = input.name();
    let found = matches!(input, Input::Found(_) | Input::Object { .. });
    if job.verify && verify::is_digest(&name) {
        return read_digest(job, input, name, found);
    }
    let opened = match (input, &job.remote) {
        (Input::Object { bucket, key, .. }, Some(remote)) => remote.open(bucket, key),
        _ => input.open(),
    };
    let reader = match opened {
        Ok(r) => r,
        Err(e) => return FileResult::unopened(name, found, &e),
    };
    let analysis = analyse(job, input, &name, reader);
    FileResult {
        name,
        found,
        open_error: None,
        analysis: Some(analysis),
        digest: None,
    }
}

/// The pipeline over one input named `name`.
fn analyse(job: &Replay, input: &Input, name: &str, reader: impl std::io::Read + Send) -> Analysis {
    let keep_findings = (job.format == Format::Findings).then_some(job.min_severity);
    let source = match input {
        Input::Object { bucket, key, .. } => Source::Object {
            bucket: bucket.clone(),
            key: key.clone(),
        },
        _ => Source::File { file: name.into() },
    };
    job.pipeline.analyse(reader, source, keep_findings)
}

/// A digest file read whole (with its signature, from S3), for `--verify`.
fn read_digest(job: &Replay, input: &Input, name: String, found: bool) -> FileResult {
    let fetched = match (input, &job.remote) {
        (Input::Object { bucket, key, .. }, Some(remote)) => remote
            .fetch(bucket, key)
            .map(|(bytes, signature)| (bucket.clone(), bytes, signature)),
        _ => input.open().and_then(|mut r| {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut r, &mut bytes).map(|_| (String::new(), bytes, None))
        }),
    };
    let (bucket, bytes, signature) = match fetched {
        Ok(f) => f,
        Err(e) => return FileResult::unopened(name, found, &e),
    };
    let read = crate::digest::Digest::read(&bytes[..], &name).map_err(|e| match e {
        crate::digest::DigestError::Invalid { why, .. } => why,
        other => other.to_string(),
    });
    // Not a digest after all (a log file in its place, damaged bytes): what it holds is
    // analysed as a delivery, and the scan says why it could not be.
    let analysis = read
        .is_err()
        .then(|| analyse(job, input, &name, &bytes[..]))
        .filter(|a| a.report.records > 0);
    FileResult {
        name,
        found,
        open_error: None,
        analysis,
        digest: Some((bucket, read, signature)),
    }
}

impl Run<'_> {
    /// One file's result, in the order of the inputs: notes, then its alerts.
    fn file(
        &mut self,
        r: &mut FileResult,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> std::io::Result<()> {
        self.counts.files += 1;
        if let Some(e) = &r.open_error {
            self.counts.failed += 1;
            return writeln!(err, "trailwatch: {}: {e}", r.name);
        }
        if let Some((bucket, read, signature)) = r.digest.take() {
            // Not a delivery: the verify table counts it.
            self.counts.files -= 1;
            if let Err(why) = &read {
                self.counts.failed += 1;
                writeln!(err, "trailwatch: {}: {why}", r.name)?;
            }
            self.verifier
                .digest((&r.name, &bucket, r.found), read, signature);
            if r.analysis.is_none() {
                return Ok(());
            }
            self.counts.files += 1;
        }
        let Some(analysis) = &mut r.analysis else {
            return Ok(());
        };
        let newest_event = std::mem::take(&mut analysis.report.newest_event);
        let report = &analysis.report;
        let not_a_log = matches!(
            report.error,
            Some(ScanError::NoRecords | ScanError::TriggerEvent)
        );
        if r.found && not_a_log {
            // A directory may hold other JSON files (trigger events, exports): skipped, and
            // said once in the summary (not a line each), not counted as deliveries.
            self.counts.files -= 1;
            self.counts.not_logs += 1;
            self.counts.not_log.get_or_insert_with(|| r.name.clone());
            return Ok(());
        }
        if report.tls_unparsed > 0 {
            self.counts
                .tls_unparsed_file
                .get_or_insert_with(|| r.name.clone());
        }
        for w in &report.warnings {
            writeln!(err, "trailwatch: {}: warning: {w}", r.name)?;
        }
        let unlisted = report
            .skipped
            .saturating_sub(report.warnings.len() as u64 + report.trigger_records);
        if unlisted > 0 {
            writeln!(
                err,
                "trailwatch: {}: warning: {unlisted} more records skipped",
                r.name
            )?;
        }
        if report.contents == Contents::Digest {
            let why = match (self.job.verify, verify::is_digest(&r.name)) {
                (true, _) => "not checked: --verify reads digests by their name in CloudTrail's layout (ACCOUNT_CloudTrail-Digest_...)",
                (false, true) => "skipped (--verify checks the logs against it)",
                (false, false) => "skipped",
            };
            writeln!(err, "trailwatch: {}: CloudTrail digest file, {why}", r.name)?;
        } else if self.job.verify && !crate::digest::key::is_digest(&r.name) {
            self.verifier.log(&r.name, report.sha256.clone(), r.found);
        }
        if let Some(e) = &report.error {
            self.counts.failed += 1;
            writeln!(err, "trailwatch: {}: {e}", r.name)?;
        }
        let delivery = Delivery {
            name: &r.name,
            object: None,
            newest_event: &newest_event,
            clock: None,
        };
        let decided = self.stage.delivery(
            analysis,
            Vec::new(),
            delivery,
            &mut self.memory,
            &mut self.counts,
        );
        let Ok(published) = block_on(decided);
        self.faults(err)?;
        if self.job.verify {
            let related = published.iter().map(|a| crate::alert::related::Related {
                detector: a.detector.clone(),
                id: a.id.clone(),
            });
            self.verifier.published(&r.name, related);
        }
        for a in &published {
            self.write(a, out)?;
        }
        for f in analysis.findings.iter().filter(|_| self.job.top.is_none()) {
            output::write_finding_json(out, f)?;
        }
        Ok(())
    }

    /// The end of the run: the windows still open decided, the state saved, `--top`.
    fn end(&mut self, out: &mut dyn Write, err: &mut dyn Write) -> std::io::Result<()> {
        if self.job.verify {
            self.verify(out)?;
        }
        let Ok(published) = block_on(self.stage.due(None, &mut self.memory, &mut self.counts));
        for a in &published {
            self.write(a, out)?;
        }
        // Worst first; in the order they came within a severity.
        self.held.sort_by_key(|a| std::cmp::Reverse(a.severity));
        for a in std::mem::take(&mut self.held) {
            output::write_alert_pretty(out, &a)?;
        }
        if let Some(table) = self.verified.take() {
            out.flush()?;
            write!(err, "{table}")?;
        }
        self.memory.save();
        self.faults(err)?;
        if let Some(top) = &self.job.top {
            let correlations = &self.job.pipeline.catalog.correlations;
            noisiest(top, &self.top, correlations, out, err)?;
        }
        Ok(())
    }

    /// `--verify`: the digests' verdicts as alerts, through the stage, and the summary table.
    fn verify(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        let verifier = std::mem::take(&mut self.verifier);
        if !verifier.met_digests() {
            self.unproven = 1;
            self.verified = Some(
                "trailwatch: verify: no CloudTrail digest file (named in CloudTrail's layout) among \
                 the inputs: nothing can be proven, exit 1 (is log file validation on for the trail? give the \
                 `CloudTrail-Digest/` folders too)\n"
                    .into(),
            );
            return Ok(());
        }
        let remote = self.job.remote.as_deref();
        let keys = |region: &str, fingerprint: &str, at: i64| match remote {
            Some(r) => r.public_keys(region, fingerprint, at),
            None => Err("no S3 source".to_owned()),
        };
        let verified = verifier.finish(&keys);
        self.unproven = verified.verdicts.len();
        let alerts = verified
            .verdicts
            .iter()
            .map(|v| {
                let mut a = crate::digest::alerts::verdict_alert(v, "");
                a.related = verified.related(v);
                crate::redact::alert(a)
            })
            .collect();
        let delivery = Delivery {
            name: "verify",
            object: None,
            newest_event: "",
            clock: None,
        };
        let mut none = Analysis::default();
        let decided = self.stage.delivery(
            &mut none,
            alerts,
            delivery,
            &mut self.memory,
            &mut self.counts,
        );
        let Ok(published) = block_on(decided);
        for a in &published {
            self.write(a, out)?;
        }
        self.verified = Some(verified.table());
        Ok(())
    }

    /// Reports (and counts) the faults of the state since the last call.
    fn faults(&mut self, err: &mut dyn Write) -> std::io::Result<()> {
        for fault in std::mem::take(&mut self.memory.faults) {
            self.counts.failed += 1;
            writeln!(err, "trailwatch: {fault}")?;
        }
        Ok(())
    }

    /// Writes one published alert in the run's format (or counts it for `--top`).
    fn write(&mut self, a: &Redacted<Alert>, out: &mut dyn Write) -> std::io::Result<()> {
        if self.job.top.is_some() {
            self.top.add(a);
            return Ok(());
        }
        match self.job.format {
            Format::Pretty => {
                self.held.push(a.clone());
                Ok(())
            }
            Format::Jsonl => output::write_alert_json(out, a),
            Format::Ocsf => crate::ocsf::write_alert_ocsf(out, a),
            Format::Findings => Ok(()),
        }
    }
}

/// The `--top` table, and the `--suggest-filters` file.
fn noisiest(
    job: &TopJob,
    t: &Top,
    correlations: &Correlations,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    let rows = t.noisiest(job.n);
    top::write_table(&rows, out)?;
    if let Some(path) = &job.suggest {
        let mut text = Vec::new();
        let (selected, correlated) = top::write_suggestions(&rows, correlations, &mut text)?;
        std::fs::write(path, text)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let groups = if selected == 1 { "group" } else { "groups" };
        let mut line = format!(
            "trailwatch: suggested filters for {selected} {groups} written to {}",
            path.display()
        );
        if correlated > 0 {
            let rules = if correlated == 1 { "rule" } else { "rules" };
            line += &format!(" ({correlated} more of correlation {rules}: the file names their base rules instead)");
        }
        writeln!(err, "{line}: fill in `reason` and `owner`, review, commit")?;
    }
    Ok(())
}
