//! Where objects come from: the `ObjectSource` trait and its S3 implementation.
//!
//! `GetObject`'s body is an async stream; the core's `scan` reads a blocking `Read` on its own
//! thread. A pump task moves the body's chunks over a small bounded channel and the reader
//! takes them with `blocking_recv`: at most a few chunks are held, whatever the object size.

pub use super::retry::{describe, is_transient};
use super::triggers::ObjectRef;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::Region;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use std::collections::HashMap;
use std::future::Future;
use std::io::{self, Read};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc;

/// Body chunks waiting between the network and the scan.
const CHUNKS_IN_FLIGHT: usize = 4;
/// A body that sends nothing for this long is abandoned (and retried).
pub const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an object could not be read. Transient errors are worth retrying (throttling, 5xx,
/// broken connections, and access errors, which a grant fixes); permanent ones (object gone,
/// archived, not a log file) are not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    /// Worth retrying: throttling, 5xx, a broken connection, a timeout.
    Transient(String),
    #[error("{0}")]
    /// Not worth retrying: the object is gone, not readable, or archived.
    Permanent(String),
    #[error("{0}")]
    /// Access denied (S3 or KMS): worth another try once access is granted, not within this
    /// invocation: the event goes to the failure queue or dead-letter queue for a redrive.
    Denied(String),
}

impl SourceError {
    /// Whether another try may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, SourceError::Transient(_) | SourceError::Denied(_))
    }

    /// The classification carried by an I/O error of a reader: a `SourceError` inside it, or
    /// else transient (a broken connection is worth another try).
    pub fn from_io(e: &io::Error) -> SourceError {
        match e.get_ref().and_then(|i| i.downcast_ref::<SourceError>()) {
            Some(inner) => inner.clone(),
            None => SourceError::Transient(e.to_string()),
        }
    }

    /// An I/O error carrying this classification.
    pub fn into_io(self) -> io::Error {
        io::Error::other(self)
    }
}

/// An opened object: a blocking, streaming reader.
pub type ObjectReader = Box<dyn Read + Send>;

/// A small object read whole (a CloudTrail digest file), with the user metadata CloudTrail
/// puts beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    /// Its bytes, as stored.
    pub bytes: Vec<u8>,
    /// Its `signature` user metadata (`x-amz-meta-signature`), if any.
    pub signature: Option<String>,
}

/// Opens objects for reading. The S3 client in production, fakes in tests.
pub trait ObjectSource: Send + Sync + 'static {
    /// Opens `object` for streaming.
    fn open(
        &self,
        object: &ObjectRef,
    ) -> impl Future<Output = Result<ObjectReader, SourceError>> + Send;

    /// The keys under `prefix` in `bucket`, in order (the scheduled check lists digest files
    /// no notification names). None, by default.
    fn list(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, SourceError>> + Send {
        let _ = (bucket, prefix);
        async { Ok(Vec::new()) }
    }

    /// Reads `object` whole (at most `max` bytes) with its `signature` metadata. Without
    /// metadata, by default: the object's bytes only.
    fn fetch(
        &self,
        object: &ObjectRef,
        max: u64,
    ) -> impl Future<Output = Result<Fetched, SourceError>> + Send {
        async move {
            let reader = self.open(object).await?;
            let read = tokio::task::spawn_blocking(move || {
                let mut bytes = Vec::new();
                reader.take(max + 1).read_to_end(&mut bytes).map(|_| bytes)
            })
            .await
            .map_err(|e| SourceError::Transient(e.to_string()))?;
            let bytes = read.map_err(|e| SourceError::from_io(&e))?;
            Ok(Fetched {
                bytes,
                signature: None,
            })
        }
    }
}

/// Whether an S3 answer is about access: the role may not read the object (a missing
/// `s3:GetObject` grant, a bucket policy that denies it, expired credentials), or S3 may not
/// use the object's KMS key for the role (a missing `kms:Decrypt` grant, a disabled key).
/// A grant or a re-enabled key fixes these, so they are retried and, failing that, kept in
/// the failure queue or the dead-letter queue for a redrive, never dropped. An archived object
/// (`InvalidObjectState`, also a 403) is not an access error.
pub fn is_access_error(status: u16, code: Option<&str>) -> bool {
    let code = code.unwrap_or("");
    code != "InvalidObjectState"
        && (status == 403 || code == "AccessDenied" || code.starts_with("KMS."))
}

/// How a failed `GetObject` is classed: transient faults and access errors are retried,
/// everything else (`NoSuchKey`, `InvalidObjectState`, ...) is permanent.
pub fn classify_get_object<E>(e: &SdkError<E, HttpResponse>) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let text = format!("GetObject: {}", describe(e));
    if is_transient(e) {
        return SourceError::Transient(text);
    }
    match e {
        SdkError::ServiceError(s) if is_access_error(s.raw().status().as_u16(), e.code()) => {
            SourceError::Denied(format!(
                "{text}; access denied: retried, then kept for a redrive once the role may \
                 read the object (s3:GetObject, and kms:Decrypt through S3 for SSE-KMS)"
            ))
        }
        _ => SourceError::Permanent(text),
    }
}

/// The region S3 names for a bucket asked in the wrong one: a `301 PermanentRedirect` (or a
/// `307`, or a `400 AuthorizationHeaderMalformed`) with the header `x-amz-bucket-region`.
pub fn redirect_region<E>(e: &SdkError<E, HttpResponse>) -> Option<String> {
    let SdkError::ServiceError(s) = e else {
        return None;
    };
    let raw = s.raw();
    if !matches!(raw.status().as_u16(), 301 | 307 | 400) {
        return None;
    }
    raw.headers()
        .get("x-amz-bucket-region")
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
}

/// Reads objects with `GetObject`. A bucket in another region than the client's is found
/// by S3's redirect (`x-amz-bucket-region`) and addressed in its own region from then on:
/// the region is kept per bucket for the life of the process.
pub struct S3Source {
    client: aws_sdk_s3::Client,
    /// Clients for the buckets found in another region, by bucket.
    elsewhere: Mutex<HashMap<String, aws_sdk_s3::Client>>,
}

impl S3Source {
    /// Reads objects with `client`.
    pub fn new(client: aws_sdk_s3::Client) -> S3Source {
        S3Source {
            client,
            elsewhere: Mutex::new(HashMap::new()),
        }
    }

    fn elsewhere(&self) -> std::sync::MutexGuard<'_, HashMap<String, aws_sdk_s3::Client>> {
        self.elsewhere.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The client for a bucket: its own region's, once a redirect has named it.
    fn client_for(&self, bucket: &str) -> aws_sdk_s3::Client {
        let known = self.elsewhere().get(bucket).cloned();
        known.unwrap_or_else(|| self.client.clone())
    }

    /// A client like the shared one (credentials, retries, endpoint, FIPS) in `region`,
    /// kept for `bucket`.
    fn move_to(&self, bucket: &str, region: &str) -> aws_sdk_s3::Client {
        let config = self.client.config().to_builder();
        let client =
            aws_sdk_s3::Client::from_conf(config.region(Region::new(region.to_owned())).build());
        self.elsewhere().insert(bucket.to_owned(), client.clone());
        client
    }

    /// The region of a bucket as far as this source knows (the client's, unless moved).
    pub fn region_of(&self, bucket: &str) -> Option<String> {
        let client = self.client_for(bucket);
        client.config().region().map(|r| r.to_string())
    }

    async fn get(
        client: &aws_sdk_s3::Client,
        object: &ObjectRef,
    ) -> Result<
        GetObjectOutput,
        SdkError<aws_sdk_s3::operation::get_object::GetObjectError, HttpResponse>,
    > {
        client
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .send()
            .await
    }
}

impl S3Source {
    /// `GetObject`, following the bucket to its region once S3 names another.
    async fn answer(&self, object: &ObjectRef) -> Result<GetObjectOutput, SourceError> {
        let client = self.client_for(&object.bucket);
        let response = match S3Source::get(&client, object).await {
            Ok(r) => r,
            Err(e) => match redirect_region(&e) {
                Some(region) if self.region_of(&object.bucket).as_deref() != Some(&region) => {
                    tracing::info!(
                        bucket = %object.bucket,
                        region = %region,
                        "the bucket is in another region: addressed there from now on"
                    );
                    let client = self.move_to(&object.bucket, &region);
                    S3Source::get(&client, object)
                        .await
                        .map_err(|e| classify_get_object(&e))?
                }
                _ => return Err(classify_get_object(&e)),
            },
        };
        Ok(response)
    }
}

impl ObjectSource for S3Source {
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        let client = self.client_for(bucket);
        let mut pages = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                let text = format!("ListObjectsV2 s3://{bucket}/{prefix}: {}", describe(&e));
                match is_transient(&e) {
                    true => SourceError::Transient(text),
                    false => SourceError::Denied(text),
                }
            })?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        Ok(keys)
    }

    async fn fetch(&self, object: &ObjectRef, max: u64) -> Result<Fetched, SourceError> {
        let response = self.answer(object).await?;
        let signature = response
            .metadata()
            .and_then(|m| m.get("signature"))
            .cloned();
        if response.content_length().unwrap_or(0).max(0) as u64 > max {
            return Err(SourceError::Permanent(format!(
                "GetObject: over {max} bytes, not a CloudTrail digest"
            )));
        }
        let bytes = response
            .body
            .collect()
            .await
            .map_err(|e| SourceError::Transient(format!("reading the body: {e}")))?
            .into_bytes()
            .to_vec();
        Ok(Fetched { bytes, signature })
    }

    async fn open(&self, object: &ObjectRef) -> Result<ObjectReader, SourceError> {
        let response = self.answer(object).await?;
        let mut body = response.body;
        let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
        tokio::spawn(async move {
            loop {
                let next = match tokio::time::timeout(STALL_TIMEOUT, body.next()).await {
                    Ok(None) => return,
                    Ok(Some(Ok(chunk))) => Ok(chunk),
                    Ok(Some(Err(e))) => {
                        Err(SourceError::Transient(format!("reading the body: {e}")))
                    }
                    Err(_) => Err(SourceError::Transient(format!(
                        "the body sent nothing for {} s",
                        STALL_TIMEOUT.as_secs()
                    ))),
                };
                let failed = next.is_err();
                if tx.send(next.map_err(SourceError::into_io)).await.is_err() || failed {
                    return;
                }
            }
        });
        Ok(Box::new(ChannelReader::new(rx)))
    }
}

/// A blocking reader over chunks sent by an async task. Must not be read on an async thread.
pub struct ChannelReader<B> {
    rx: mpsc::Receiver<io::Result<B>>,
    current: Option<B>,
    pos: usize,
}

impl<B> ChannelReader<B> {
    /// A reader of the chunks that arrive on `rx`.
    pub fn new(rx: mpsc::Receiver<io::Result<B>>) -> ChannelReader<B> {
        ChannelReader {
            rx,
            current: None,
            pos: 0,
        }
    }
}

impl<B: AsRef<[u8]>> Read for ChannelReader<B> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(chunk) = &self.current {
                let rest = &chunk.as_ref()[self.pos..];
                if !rest.is_empty() {
                    let n = rest.len().min(buf.len());
                    buf[..n].copy_from_slice(&rest[..n]);
                    self.pos += n;
                    return Ok(n);
                }
            }
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Err(e)) => return Err(e),
                Some(Ok(chunk)) => {
                    self.current = Some(chunk);
                    self.pos = 0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_reader_reassembles_chunks_and_passes_errors() {
        let (tx, rx) = mpsc::channel::<io::Result<Vec<u8>>>(2);
        let feeder = std::thread::spawn(move || {
            for part in [&b"hello "[..], b"", b"world"] {
                tx.blocking_send(Ok(part.to_vec())).unwrap();
            }
            let fault = SourceError::Transient("connection reset".into()).into_io();
            tx.blocking_send(Err(fault)).unwrap();
        });
        let mut reader = ChannelReader::new(rx);
        let mut text = Vec::new();
        let err = reader.read_to_end(&mut text).unwrap_err();
        feeder.join().unwrap();
        assert_eq!(text, b"hello world");
        assert_eq!(
            SourceError::from_io(&err),
            SourceError::Transient("connection reset".into())
        );
        let plain = io::Error::new(io::ErrorKind::ConnectionReset, "reset");
        assert!(SourceError::from_io(&plain).is_transient());
    }

    /// A `GetObject` error as the SDK returns it for an HTTP answer.
    fn answer(
        status: u16,
        code: &str,
        region: Option<&str>,
    ) -> SdkError<aws_sdk_s3::operation::get_object::GetObjectError, HttpResponse> {
        let mut raw = HttpResponse::new(
            status.try_into().unwrap(),
            aws_sdk_s3::primitives::SdkBody::empty(),
        );
        if let Some(r) = region {
            raw.headers_mut()
                .insert("x-amz-bucket-region", r.to_owned());
        }
        let meta = aws_sdk_s3::error::ErrorMetadata::builder()
            .code(code)
            .build();
        SdkError::service_error(
            aws_sdk_s3::operation::get_object::GetObjectError::generic(meta),
            raw,
        )
    }

    #[test]
    fn get_object_errors_classed() {
        let redirect = answer(301, "PermanentRedirect", Some("eu-west-1"));
        assert_eq!(redirect_region(&redirect).as_deref(), Some("eu-west-1"));
        assert_eq!(
            redirect_region(&answer(301, "PermanentRedirect", None)),
            None
        );
        assert_eq!(
            redirect_region(&answer(404, "NoSuchKey", Some("eu-west-1"))),
            None
        );
        let denied = classify_get_object(&answer(403, "AccessDenied", None));
        assert!(
            denied.is_transient() && denied.to_string().contains("redrive"),
            "{denied}"
        );
        let kms = classify_get_object(&answer(400, "KMS.DisabledException", None));
        assert!(kms.is_transient(), "{kms}");
        assert!(classify_get_object(&answer(503, "SlowDown", None)).is_transient());
        for (status, code) in [(404, "NoSuchKey"), (403, "InvalidObjectState")] {
            let e = classify_get_object(&answer(status, code, None));
            assert!(!e.is_transient() && e.to_string().contains(code), "{e}");
        }
    }

    #[test]
    fn access_errors_are_retried_missing_objects_are_not() {
        for (status, code) in [
            (403, Some("AccessDenied")),
            (403, None),
            (403, Some("InvalidAccessKeyId")),
            (400, Some("KMS.DisabledException")),
            (400, Some("KMS.KMSInvalidStateException")),
            (403, Some("KMS.AccessDeniedException")),
        ] {
            assert!(is_access_error(status, code), "{status} {code:?}");
        }
        for (status, code) in [
            (404, Some("NoSuchKey")),
            (404, Some("NoSuchBucket")),
            (403, Some("InvalidObjectState")),
            (400, Some("InvalidRequest")),
        ] {
            assert!(!is_access_error(status, code), "{status} {code:?}");
        }
    }
}
