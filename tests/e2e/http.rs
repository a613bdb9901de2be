//! Just enough HTTP/1.1 for the tests: one request per connection, and a fault-injecting
//! proxy in front of moto.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One HTTP message read off a connection.
pub struct Message {
    pub head: String,
    pub body: Vec<u8>,
}

impl Message {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The region a request is signed for (SigV4 credential scope `KEY/DATE/REGION/...`).
    pub fn signed_region(&self) -> Option<&str> {
        let auth = self.header("authorization")?;
        let scope = auth.split("Credential=").nth(1)?;
        scope.split('/').nth(2)
    }

    pub fn status(&self) -> u16 {
        self.head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// The head for sending this message on: one connection, the body's exact length.
    fn rebuilt_head(&self) -> String {
        let dropped = ["connection:", "content-length:", "transfer-encoding:"];
        let mut lines: Vec<String> = self
            .head
            .lines()
            .filter(|l| {
                !dropped
                    .iter()
                    .any(|d| l.to_ascii_lowercase().starts_with(d))
            })
            .map(str::to_owned)
            .collect();
        lines.push(format!("Content-Length: {}", self.body.len()));
        lines.push("Connection: close".into());
        lines.join("\r\n") + "\r\n\r\n"
    }
}

/// Reads one message: the head, then a `Content-Length` body, a chunked body, or (for a
/// response) everything up to the end of the connection.
pub fn read_message(stream: &mut TcpStream, response: bool) -> std::io::Result<Message> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf[..buf.len() - 4]).into_owned();
    let mut m = Message {
        head,
        body: Vec::new(),
    };
    if let Some(n) = m
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        m.body.resize(n, 0);
        stream.read_exact(&mut m.body)?;
    } else if m
        .header("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        m.body = dechunk(&raw);
    } else if response {
        stream.read_to_end(&mut m.body)?;
    }
    Ok(m)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&raw[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok());
        let Some(size) = size.filter(|s| *s > 0) else {
            break;
        };
        let start = end + 2;
        out.extend_from_slice(&raw[start..(start + size).min(raw.len())]);
        raw = &raw[(start + size + 2).min(raw.len())..];
    }
    out
}

/// Sends one request and returns the response.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Message {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    read_message(&mut stream, true).expect("response")
}

/// What the proxy does to a request it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and an AWS error code, without asking moto.
    Status(u16, &'static str),
    /// Forward, then send the head and only half of the body, and hang up.
    CutBody,
    /// S3's answer to a request signed for another region than the bucket's (here): `301
    /// PermanentRedirect` with `x-amz-bucket-region`. Requests signed for it are forwarded.
    BucketIn(&'static str),
    /// DynamoDB's answer to a transaction whose condition failed (another writer was first):
    /// `TransactionCanceledException` with a `ConditionalCheckFailed` reason.
    ConditionFailed,
}

impl Fault {
    fn applies(self, request: &Message) -> bool {
        match self {
            Fault::BucketIn(region) => request.signed_region() != Some(region),
            _ => true,
        }
    }
}

/// Which requests a rule is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    GetObject,
    PublishBatch,
    TransactWriteItems,
}

impl Call {
    fn matches(self, request: &Message) -> bool {
        let line = request.head.lines().next().unwrap_or("");
        let body = String::from_utf8_lossy(&request.body);
        match self {
            Call::GetObject => {
                line.starts_with("GET ")
                    && line
                        .split(' ')
                        .nth(1)
                        .is_some_and(|p| p.matches('/').count() >= 2 && !p.contains("list-type="))
            }
            Call::TransactWriteItems => request
                .header("x-amz-target")
                .is_some_and(|t| t.ends_with(".TransactWriteItems")),
            Call::PublishBatch => {
                body.contains("Action=PublishBatch")
                    || request
                        .header("x-amz-target")
                        .is_some_and(|t| t.ends_with("PublishBatch"))
            }
        }
    }
}

/// A rule: after `after` requests of `call` passed, `times` requests get `fault`
/// (`usize::MAX` for always).
#[derive(Debug, Clone)]
pub struct Rule {
    pub call: Call,
    pub fault: Fault,
    pub times: usize,
    pub after: usize,
}

/// A proxy to `upstream` that injects faults; `injected` counts the faults sent.
pub struct FaultProxy {
    pub addr: SocketAddr,
    pub injected: Arc<Mutex<Vec<(Call, Fault)>>>,
    rules: Arc<Mutex<Vec<Rule>>>,
}

impl FaultProxy {
    pub fn start(upstream: SocketAddr, rules: Vec<Rule>) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let rules = Arc::new(Mutex::new(rules));
        let injected = Arc::new(Mutex::new(Vec::new()));
        let (log, kept) = (Arc::clone(&injected), Arc::clone(&rules));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (rules, log) = (Arc::clone(&kept), Arc::clone(&log));
                std::thread::spawn(move || serve(client, upstream, &rules, &log));
            }
        });
        FaultProxy {
            addr,
            injected,
            rules,
        }
    }

    /// These faults from now on, instead of those before (none: every request goes through).
    pub fn set(&self, rules: Vec<Rule>) {
        *self.rules.lock().unwrap() = rules;
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    rules: &Mutex<Vec<Rule>>,
    log: &Mutex<Vec<(Call, Fault)>>,
) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(request) = read_message(&mut client, false) else {
        return;
    };
    let fault = {
        let mut rules = rules.lock().unwrap();
        let rule = rules
            .iter_mut()
            .find(|r| r.times > 0 && r.call.matches(&request) && r.fault.applies(&request));
        match rule {
            Some(r) if r.after > 0 => {
                r.after -= 1;
                None
            }
            Some(r) => {
                r.times = r.times.saturating_sub(1);
                log.lock().unwrap().push((r.call, r.fault));
                Some(r.fault)
            }
            None => None,
        }
    };
    let answer = match fault {
        Some(Fault::Status(status, code)) => Some((status, code, String::new())),
        Some(Fault::BucketIn(region)) => Some((
            301,
            "PermanentRedirect",
            format!("x-amz-bucket-region: {region}\r\n"),
        )),
        _ => None,
    };
    if fault == Some(Fault::ConditionFailed) {
        let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed]","CancellationReasons":[{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"}]}"#;
        let head = format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: injected\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = client.write_all(head.as_bytes());
        let _ = client.write_all(body.as_bytes());
        return;
    }
    if let Some((status, code, extra)) = answer {
        let body = format!(
            "<Error><Code>{code}</Code><Message>injected by the test proxy</Message></Error>"
        );
        let head = format!(
            "HTTP/1.1 {status} Injected\r\n{extra}Content-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = client.write_all(head.as_bytes());
        let _ = client.write_all(body.as_bytes());
        return;
    }
    let Ok(mut moto) = TcpStream::connect(upstream) else {
        return;
    };
    let _ = moto.write_all(request.rebuilt_head().as_bytes());
    let _ = moto.write_all(&request.body);
    let Ok(response) = read_message(&mut moto, true) else {
        return;
    };
    let _ = client.write_all(response.rebuilt_head().as_bytes());
    let body = if fault == Some(Fault::CutBody) {
        &response.body[..response.body.len() / 2]
    } else {
        &response.body[..]
    };
    let _ = client.write_all(body);
    let _ = client.shutdown(std::net::Shutdown::Both);
}
