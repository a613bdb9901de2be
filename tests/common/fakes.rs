//! In-process fakes for the Lambda handler: an object source and an alert sink that can be
//! told to fail in every way the real ones do.
#![allow(dead_code)]

#[path = "corpus.rs"]
pub mod corpus;

use flate2::write::GzEncoder;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use trailwatch::lambda::outputs::sns::SnsOutput;
use trailwatch::lambda::outputs::Outputs;
use trailwatch::lambda::sns::Message;
use trailwatch::lambda::{
    AlertSink, Backoff, Config, EntryFailure, Handler, ObjectReader, ObjectRef, ObjectSource,
    SinkError, SourceError,
};

pub const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:alerts";

/// How a fake object behaves.
#[derive(Clone)]
pub enum Fake {
    Data(Vec<u8>),
    /// `GetObject` fails for good (NoSuchKey, archived).
    Gone(&'static str),
    /// `GetObject` is denied (until access is granted).
    Denied,
    /// `GetObject` fails transiently this many times, then serves the data.
    Flaky(usize, Vec<u8>),
    /// The body breaks after `n` bytes (transient) on the first `times` reads of the object.
    BreaksAfter(usize, usize, Vec<u8>),
    /// Every read sleeps this long (a slow network).
    Slow(Duration, Vec<u8>),
    /// A digest file with its `signature` metadata.
    Signed(Vec<u8>, String),
}

#[derive(Default)]
pub struct FakeSource {
    pub objects: Mutex<HashMap<(String, String), Fake>>,
    pub opens: Mutex<Vec<ObjectRef>>,
    pub active: Arc<AtomicUsize>,
    pub most_active: Arc<AtomicUsize>,
}

impl FakeSource {
    pub fn with(mut self, bucket: &str, key: &str, fake: Fake) -> FakeSource {
        self.objects
            .get_mut()
            .unwrap()
            .insert((bucket.into(), key.into()), fake);
        self
    }

    pub fn opened(&self) -> Vec<ObjectRef> {
        self.opens.lock().unwrap().clone()
    }
}

struct Counted {
    inner: Box<dyn Read + Send>,
    active: Arc<AtomicUsize>,
    delay: Duration,
    fail_at: Option<usize>,
    read: usize,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        let mut want = buf.len().min(if self.delay.is_zero() { 4096 } else { 64 });
        if let Some(at) = self.fail_at {
            if self.read >= at {
                return Err(SourceError::Transient("connection reset by peer".into()).into_io());
            }
            want = want.min(at - self.read);
        }
        let n = self.inner.read(&mut buf[..want])?;
        self.read += n;
        Ok(n)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.active.fetch_sub(1, Ordering::SeqCst);
    }
}

impl ObjectSource for FakeSource {
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        let objects = self.objects.lock().unwrap();
        let mut keys: Vec<String> = objects
            .keys()
            .filter(|(b, k)| b == bucket && k.starts_with(prefix))
            .map(|(_, k)| k.clone())
            .collect();
        keys.sort();
        Ok(keys)
    }

    async fn fetch(
        &self,
        o: &ObjectRef,
        _max: u64,
    ) -> Result<trailwatch::lambda::Fetched, SourceError> {
        let signature = match self
            .objects
            .lock()
            .unwrap()
            .get(&(o.bucket.clone(), o.key.clone()))
        {
            Some(Fake::Signed(_, s)) => Some(s.clone()),
            _ => None,
        };
        let mut bytes = Vec::new();
        self.open(o)
            .await?
            .read_to_end(&mut bytes)
            .map_err(|e| SourceError::from_io(&e))?;
        Ok(trailwatch::lambda::Fetched { bytes, signature })
    }

    async fn open(&self, o: &ObjectRef) -> Result<ObjectReader, SourceError> {
        let earlier = {
            let mut opens = self.opens.lock().unwrap();
            opens.push(o.clone());
            opens.iter().filter(|x| *x == o).count() - 1
        };
        let fake = self
            .objects
            .lock()
            .unwrap()
            .get(&(o.bucket.clone(), o.key.clone()))
            .cloned();
        let (data, delay, fail_at) = match fake {
            None => return Err(SourceError::Permanent("GetObject: NoSuchKey".into())),
            Some(Fake::Gone(why)) => return Err(SourceError::Permanent(why.into())),
            Some(Fake::Denied) => {
                return Err(SourceError::Denied("GetObject: AccessDenied (403)".into()))
            }
            Some(Fake::Flaky(n, _)) if earlier < n => {
                return Err(SourceError::Transient("GetObject: SlowDown (503)".into()))
            }
            Some(Fake::Flaky(_, d)) | Some(Fake::Data(d)) | Some(Fake::Signed(d, _)) => {
                (d, Duration::ZERO, None)
            }
            Some(Fake::BreaksAfter(at, times, d)) => {
                (d, Duration::ZERO, (earlier < times).then_some(at))
            }
            Some(Fake::Slow(delay, d)) => (d, delay, None),
        };
        let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_active.fetch_max(now, Ordering::SeqCst);
        Ok(Box::new(Counted {
            inner: Box::new(io::Cursor::new(data)),
            active: Arc::clone(&self.active),
            delay,
            fail_at,
            read: 0,
        }))
    }
}

/// How the fake sink answers.
#[derive(Default, Clone)]
pub struct SinkPlan {
    /// Calls that fail as a whole (transient) before calls succeed.
    pub failing_calls: usize,
    /// Entries (by position in their batch) reported `Failed` on the first call that has them.
    pub failing_entries_once: Vec<String>,
    /// Entries always refused as the sender's fault.
    pub rejected_alerts: Vec<String>,
    /// Entries of this detector are reported failed (not sender fault) on every call.
    pub always_failing_detector: Option<String>,
}

#[derive(Default)]
pub struct FakeSink {
    pub plan: SinkPlan,
    /// While set, every call fails (transient): a topic that is down.
    pub down: std::sync::atomic::AtomicBool,
    /// Calls that fail (transient) at random: (seed, per mille).
    pub flaky: Mutex<Option<(u64, u64)>>,
    pub calls: AtomicUsize,
    pub batch_sizes: Mutex<Vec<(usize, usize)>>,
    pub published: Mutex<Vec<Message>>,
}

impl FakeSink {
    pub fn new(plan: SinkPlan) -> FakeSink {
        FakeSink {
            plan,
            ..FakeSink::default()
        }
    }

    pub fn messages(&self) -> Vec<Message> {
        self.published.lock().unwrap().clone()
    }

    /// The alert JSON (`default`) of every published message.
    pub fn alerts(&self) -> Vec<Value> {
        self.messages()
            .iter()
            .map(|m| {
                let doc: Value = serde_json::from_str(&m.body).unwrap();
                serde_json::from_str(doc["default"].as_str().unwrap()).unwrap()
            })
            .collect()
    }
}

impl AlertSink for FakeSink {
    async fn publish_batch(
        &self,
        entries: &[(String, &Message)],
    ) -> Result<Vec<EntryFailure>, SinkError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let bytes = entries.iter().map(|(_, m)| m.size()).sum();
        self.batch_sizes
            .lock()
            .unwrap()
            .push((entries.len(), bytes));
        let flaky = self
            .flaky
            .lock()
            .unwrap()
            .as_mut()
            .is_some_and(|(seed, per_mille)| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                *seed % 1000 < *per_mille
            });
        if call < self.plan.failing_calls || self.down.load(Ordering::SeqCst) || flaky {
            return Err(SinkError {
                transient: true,
                message: "Throttling: Rate exceeded".into(),
            });
        }
        let mut failed = Vec::new();
        for (id, m) in entries {
            let rejected = self.plan.rejected_alerts.contains(&m.alert_id);
            let once =
                call == self.plan.failing_calls && self.plan.failing_entries_once.contains(id);
            let always = self
                .plan
                .always_failing_detector
                .as_ref()
                .is_some_and(|d| m.attributes.iter().any(|(k, v)| *k == "detector" && v == d));
            if rejected || once || always {
                failed.push(EntryFailure {
                    id: id.clone(),
                    code: if rejected {
                        "InvalidParameter"
                    } else {
                        "InternalError"
                    }
                    .into(),
                    sender_fault: rejected,
                });
            } else {
                self.published.lock().unwrap().push((*m).clone());
            }
        }
        Ok(failed)
    }
}

pub fn config(vars: &[(&str, &str)]) -> Config {
    let mut all: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    all.entry("TOPIC_ARN".into())
        .or_insert_with(|| TOPIC.into());
    Config::from_lookup(&|k| all.get(k).cloned()).unwrap()
}

pub type FakeHandler = Handler<FakeSource>;
pub type MetricLines = Arc<Mutex<Vec<String>>>;

/// A handler over fakes, and the fake topic it publishes to.
pub struct Harness {
    pub handler: Arc<FakeHandler>,
    /// The SNS output's sink (`OUTPUTS` is `sns`).
    pub sink: Arc<FakeSink>,
}

impl std::ops::Deref for Harness {
    type Target = Arc<FakeHandler>;
    fn deref(&self) -> &Arc<FakeHandler> {
        &self.handler
    }
}

/// Fast retries, for tests.
pub const FAST: Backoff = Backoff {
    attempts: 3,
    first: Duration::from_millis(1),
};

/// The SNS output of `config` over `sink`, with fast retries.
pub fn sns_outputs(sink: &Arc<FakeSink>, config: &Config) -> Outputs {
    let mut sns = SnsOutput::new(Arc::clone(sink), config);
    sns.backoff = FAST;
    let mut outputs = Outputs::default();
    outputs.push(Box::new(sns), true);
    outputs
}

/// A handler over fakes, with fast retries and the metric lines kept in `metrics`.
pub fn handler(source: FakeSource, sink: FakeSink, config: Config) -> (Harness, MetricLines) {
    let catalog =
        trailwatch::lambda::catalog(&config, std::path::Path::new("/nonexistent")).unwrap();
    handler_with(source, sink, config, catalog)
}

/// A handler over fakes publishing to `sink`, unbuilt (to add state), with fast retries.
pub fn unbuilt(
    source: FakeSource,
    sink: &Arc<FakeSink>,
    config: Config,
    catalog: trailwatch::Catalog,
) -> FakeHandler {
    let outputs = sns_outputs(sink, &config);
    let mut h = Handler::new(source, outputs, catalog, config);
    h.backoff = FAST;
    h.reserve = Duration::from_millis(200);
    h
}

/// A handler over fakes (built-in detectors) keeping its state in a table in memory, which
/// it returns too; `config` names `STATE_TABLE`.
pub fn with_memory_state(
    source: FakeSource,
    sink: &Arc<FakeSink>,
    config: Config,
) -> (FakeHandler, Arc<trailwatch::lambda::state::MemoryTable>) {
    use trailwatch::lambda::state::{AnyTable, MemoryTable, State};
    let settings = config
        .state
        .clone()
        .expect("STATE_TABLE in the configuration");
    let catalog =
        trailwatch::lambda::catalog(&config, std::path::Path::new("/nonexistent")).unwrap();
    let table = Arc::new(MemoryTable::default());
    let state = Arc::new(State {
        table: AnyTable::Memory(Arc::clone(&table)),
        settings,
    });
    let mut h = unbuilt(source, sink, config, catalog).with_state(state);
    h.metrics = Box::new(|_| {});
    (h, table)
}

/// [`handler`] with the given detectors.
pub fn handler_with(
    source: FakeSource,
    sink: FakeSink,
    config: Config,
    catalog: trailwatch::Catalog,
) -> (Harness, MetricLines) {
    let sink = Arc::new(sink);
    let mut h = unbuilt(source, &sink, config, catalog);
    let lines = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&lines);
    h.metrics = Box::new(move |l| kept.lock().unwrap().push(l.to_owned()));
    let handler = Arc::new(h);
    (Harness { handler, sink }, lines)
}

pub fn far_deadline() -> Instant {
    Instant::now() + Duration::from_secs(600)
}

/// A record as CloudTrail writes it; `tls` is its `tlsDetails.tlsVersion`.
pub fn record(id: usize, tls: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2026-11-28T10:0{s}:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"e{id}","sourceIPAddress":"198.51.100.7","userAgent":"legacy-agent/1.0","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ci","accountId":"111122223333"}},"tlsDetails":{{"tlsVersion":"{tls}","cipherSuite":"ECDHE-RSA-AES128-SHA","clientProvidedHostHeader":"s3.amazonaws.com"}}}}"#,
        s = id % 10
    )
}

/// A gzipped delivery of `records`.
pub fn delivery(records: &[String]) -> Vec<u8> {
    let text = format!(r#"{{"Records":[{}]}}"#, records.join(","));
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

/// One outdated-TLS call (one alert) and one fine call.
pub fn one_alert_delivery() -> Vec<u8> {
    delivery(&[record(1, "TLSv1"), record(2, "TLSv1.2")])
}

/// A trigger event of the corpus (fails when the corpus is missing).
pub fn trigger(name: &str) -> Value {
    let path = corpus::corpus("triggers").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub const BUCKET: &str = "org-trail-logs";
pub const ORG_KEY: &str = "AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/us-east-1/2026/11/28/111122223333_CloudTrail_us-east-1_20261128T1005Z_Mu0KsOhtH1ar15ZZ.json.gz";
pub const GOV_KEY: &str = "audit logs/AWSLogs/111122223333/CloudTrail/us-gov-west-1/2026/11/28/111122223333_CloudTrail_us-gov-west-1_20261128T1010Z_aB3dEf6hIj9kLm2n.json.gz";
