//! Network rules open to the world: security group ingress and network ACL entries allowing
//! any address (a `/0` prefix: `0.0.0.0/0`, `::/0`) on ports other than 80 and 443.

use super::exposure_base::{grant, items, Exposure};
use super::kms_ref::str_at;
use crate::record::Record;
use serde_json::Value;

/// Ports that may be open to the world: the web.
const WEB: [i64; 2] = [80, 443];

pub fn of(record: &Record<'_>, name: &str) -> Option<Exposure> {
    match name {
        "AuthorizeSecurityGroupIngress" => security_group(record),
        "CreateNetworkAclEntry" | "ReplaceNetworkAclEntry" => network_acl(record),
        _ => None,
    }
}

fn security_group(record: &Record<'_>) -> Option<Exposure> {
    let p = Record::parse_part(record.request_parameters)?;
    let id = str_at(&p, &["groupId"])
        .or(str_at(&p, &["groupName"]))
        .unwrap_or("");
    let mut e = Exposure::new("security group", false, id);
    // The older form: one rule at the top level.
    if let Some(cidr) = str_at(&p, &["cidrIp"]).or(str_at(&p, &["cidrIpv6"])) {
        open_rule(&mut e, &p, cidr, "ipProtocol");
    }
    for rule in items(p.pointer("/ipPermissions/items")) {
        let ranges = items(rule.pointer("/ipRanges/items"))
            .into_iter()
            .filter_map(|r| str_at(r, &["cidrIp"]));
        let ranges6 = items(rule.pointer("/ipv6Ranges/items"))
            .into_iter()
            .filter_map(|r| str_at(r, &["cidrIpv6"]));
        for cidr in ranges.chain(ranges6) {
            open_rule(&mut e, rule, cidr, "ipProtocol");
        }
    }
    (!e.public.is_empty()).then_some(e)
}

fn network_acl(record: &Record<'_>) -> Option<Exposure> {
    let p = Record::parse_part(record.request_parameters)?;
    let allow = str_at(&p, &["ruleAction"]).is_some_and(|a| a.eq_ignore_ascii_case("allow"));
    if !allow || p.get("egress") == Some(&Value::Bool(true)) {
        return None;
    }
    let cidr = str_at(&p, &["cidrBlock"]).or(str_at(&p, &["ipv6CidrBlock"]))?;
    let mut rule = p.clone();
    if let Some(range) = p.get("portRange") {
        rule["fromPort"] = range.get("from").cloned().unwrap_or(Value::Null);
        rule["toPort"] = range.get("to").cloned().unwrap_or(Value::Null);
    }
    let id = str_at(&p, &["networkAclId"]).unwrap_or("");
    let mut e = Exposure::new("network ACL", false, id);
    open_rule(&mut e, &rule, cidr, "aclProtocol");
    (!e.public.is_empty()).then_some(e)
}

/// Adds the rule to `e.public` when it lets any address in on a port other than 80 and 443.
fn open_rule(e: &mut Exposure, rule: &Value, cidr: &str, protocol_key: &str) {
    if !cidr.trim().ends_with("/0") {
        return;
    }
    let protocol = str_at(rule, &[protocol_key])
        .map(str::to_owned)
        .or_else(|| rule.get(protocol_key).map(Value::to_string))
        .unwrap_or_else(|| "-1".to_owned());
    let protocol = protocol.to_ascii_lowercase();
    if matches!(protocol.as_str(), "icmp" | "icmpv6" | "1" | "58") {
        return; // Ping, not a service.
    }
    let all = matches!(protocol.as_str(), "-1" | "all");
    let port = |k: &str| {
        let v = rule.get(k)?;
        v.as_i64().or_else(|| v.as_str()?.parse().ok())
    };
    let (from, to) = match (port("fromPort"), port("toPort")) {
        (Some(f), Some(t)) if !all && f >= 0 => (f, t.max(f)),
        _ => (0, 65535),
    };
    if from == to && WEB.contains(&from) {
        return;
    }
    let name = if all {
        "all".to_owned()
    } else {
        protocol.clone()
    };
    let ports = if (from, to) == (0, 65535) {
        format!("{name} all ports")
    } else if from == to {
        format!("{name} {from}")
    } else {
        format!("{name} {from}-{to}")
    };
    e.public.push(grant("ingress", cidr.trim(), &[&ports]));
}
