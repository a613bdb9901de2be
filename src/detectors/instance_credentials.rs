//! `ec2-instance-credentials-elsewhere`: an EC2 instance role's credentials used from outside
//! the instance, judged within one delivery (one account and region, about five minutes):
//!
//! - the same instance session (`assumed-role/<role>/i-...`) calls from a second address: an
//!   instance leaves through one address (its public address or its NAT gateway's), so a
//!   second one means the credentials were taken elsewhere;
//! - an instance session calls from an address that, in the same delivery, sent a command or a
//!   key to an instance (SSM SendCommand or StartSession, EC2 Instance Connect): someone who
//!   reached into an instance now uses its credentials from their own machine.
//!
//! Calls through a VPC endpoint, calls made by a service (`invokedBy`, a service name as the
//! address) and calls from an address that is not an IP address are not counted. Nothing is
//! kept across deliveries: no state, no cost per instance. Each session and address is
//! reported once per delivery; at most [`MAX_KEPT`] of each are followed.

use super::Detector;
use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::record::Record;
use std::collections::HashMap;
use std::net::IpAddr;

pub const ID: &str = "ec2-instance-credentials-elsewhere";

/// Instance sessions and remote-access addresses followed per delivery.
const MAX_KEPT: usize = 10_000;

#[derive(Default)]
pub struct InstanceCredentials {
    /// Instance session (its ARN) -> the first address it called from, and whether it was
    /// reported.
    sessions: HashMap<String, (String, bool)>,
    /// Address -> the remote-access call made from it.
    remote: HashMap<String, String>,
    /// Instance-credential calls from an address before any remote access from it was read:
    /// (address, session ARN, the record's text), for [`Detector::finish`].
    waiting: Vec<(String, String, String)>,
}

impl Detector for InstanceCredentials {
    fn id(&self) -> &'static str {
        ID
    }

    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>) {
        if let Some(call) = remote_access(record) {
            if self.remote.len() < MAX_KEPT {
                let address = record.source_ip().to_owned();
                self.remote
                    .entry(address)
                    .or_insert_with(|| call.to_owned());
            }
            return;
        }
        let Some(session) = instance_session(record) else {
            return;
        };
        let address = record.source_ip();
        if let Some(call) = self.remote.get(address) {
            let why = format!("the address that made the {call} call");
            out.push(finding(record, session, &why));
            self.sessions
                .insert(session.to_owned(), (address.to_owned(), true));
            return;
        }
        let room = self.sessions.len() < MAX_KEPT;
        match self.sessions.get_mut(session) {
            Some((first, reported)) if first != address && !*reported => {
                *reported = true;
                let why = format!("a second address (the session first called from {first})");
                out.push(finding(record, session, &why).with("first_address", first.as_str()));
            }
            Some(_) => {}
            None if room => {
                self.sessions
                    .insert(session.to_owned(), (address.to_owned(), false));
                let raw = record.raw.to_owned();
                self.waiting
                    .push((address.to_owned(), session.to_owned(), raw));
            }
            None => {}
        }
    }

    fn finish(&mut self, out: &mut Vec<Finding<'static>>) {
        for (address, session, raw) in std::mem::take(&mut self.waiting) {
            let Some(call) = self.remote.get(&address) else {
                continue;
            };
            if self
                .sessions
                .get(&session)
                .is_some_and(|(_, reported)| *reported)
            {
                continue;
            }
            let Ok(record) = Record::parse(raw.as_bytes()) else {
                continue;
            };
            let why = format!("the address that made the {call} call");
            out.push(finding(&record, &session, &why).into_owned());
        }
    }
}

fn finding<'r>(record: &'r Record<'_>, session: &str, why: &str) -> Finding<'r> {
    let summary = format!(
        "{} with the credentials of instance session {session} from {}, {why}",
        record.event_name(),
        record.source_ip()
    );
    Finding::new(ID, Severity::High, record, session.to_owned(), summary)
        .with("instance_session", session)
        .with("address", record.source_ip())
}

/// The ARN of the instance session that made this call from an IP address, outside a VPC
/// endpoint and not through a service.
fn instance_session<'r>(record: &'r Record<'_>) -> Option<&'r str> {
    if record.identity_type() != Some("AssumedRole")
        || record.invoked_by().is_some()
        || record
            .vpc_endpoint_id
            .as_deref()
            .is_some_and(|v| !v.is_empty())
    {
        return None;
    }
    let arn = record.principal();
    let (_, session) = arn.rsplit_once('/')?;
    let id = session.strip_prefix("i-")?;
    let instance_id = matches!(id.len(), 8 | 17) && id.bytes().all(|b| b.is_ascii_hexdigit());
    (instance_id && record.source_ip().parse::<IpAddr>().is_ok()).then_some(arn)
}

/// The remote-access call a person (not an instance) made from an IP address, if this is one.
fn remote_access<'r>(record: &'r Record<'_>) -> Option<&'r str> {
    let call = match (record.event_source(), record.event_name()) {
        ("ssm.amazonaws.com", name @ ("SendCommand" | "StartSession"))
        | (
            "ec2-instance-connect.amazonaws.com",
            name @ ("SendSSHPublicKey" | "SendSerialConsoleSSHPublicKey"),
        ) => name,
        _ => return None,
    };
    let ok = record.error_code().is_none()
        && record.source_ip().parse::<IpAddr>().is_ok()
        && instance_session(record).is_none();
    ok.then_some(call)
}

#[cfg(test)]
#[path = "instance_credentials_tests.rs"]
mod tests;
