//! Files nobody but an attacker writes into the trail bucket: bounded memory and time, and the
//! real records around them still analysed. Peak memory is the child's own (`ru_maxrss`, read
//! by a small Python wrapper: the project's test tools need Python anyway).

mod common;
use common::*;

/// A real `ScheduleKeyDeletion` call (an alert of `kms-key-loss`).
const REAL: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Admin/eve","accountId":"111122223333"},"eventTime":"2026-11-28T10:00:00Z","eventSource":"kms.amazonaws.com","eventName":"ScheduleKeyDeletion","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.17.20","requestParameters":{"keyId":"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab","pendingWindowInDays":7},"responseElements":{"keyId":"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab","keyState":"PendingDeletion"},"eventID":"real-1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}"#;

/// A gzip file of `head`, `count` copies of `block` and `tail`, as concatenated gzip members
/// (CloudTrail's reader, and ours, reads multi-member files): a few hundred kilobytes that
/// decompress to hundreds of megabytes, made in milliseconds.
fn bomb(
    dir: &std::path::Path,
    name: &str,
    head: &str,
    block: &[u8],
    count: usize,
    tail: &str,
) -> String {
    let (head, block, tail) = (gzip(head.as_bytes()), gzip(block), gzip(tail.as_bytes()));
    let mut data = head;
    for _ in 0..count {
        data.extend_from_slice(&block);
    }
    data.extend_from_slice(&tail);
    write(dir, name, &data).display().to_string()
}

/// A mebibyte of letters that compresses about 160 times, as a long string in a real file
/// would (the file of the report: 400 MB in 1.8 MB).
fn letters() -> Vec<u8> {
    let mut seed: u32 = 7;
    let mut block = vec![b'a'; 1 << 20];
    for b in block.iter_mut().step_by(512) {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        *b = b'b' + (seed >> 16) as u8 % 25;
    }
    block
}

#[test]
fn a_400_mb_record_is_read_past_and_the_real_one_after_it_alerts() {
    let dir = scratch("hostile-string");
    let file = bomb(
        &dir,
        "string.json.gz",
        r#"{"Records":[{"eventVersion":"1.08","filler":""#,
        &letters(),
        400,
        &format!(r#""}},{REAL}]}}"#),
    );
    assert!(
        std::fs::metadata(&file).unwrap().len() < 8 << 20,
        "a small file"
    );
    let (out, peak) = measured(&["replay", "--format", "jsonl", &file]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(peak <= 64.0, "peak {peak:.1} MiB");
    let alerts = text(&out.stdout);
    assert!(
        alerts.contains(r#""detector":"kms-key-loss""#),
        "{alerts}\n{err}"
    );
    assert!(alerts.contains("real-1"), "{alerts}");
    // The summary counts them by severity too (the worst first).
    assert!(err.contains("alerts by severity: high 1, low 1"), "{err}");
    assert!(
        err.contains("record 1: 400.0 MiB at byte 12 of the JSON, over the record limit of 1 MiB"),
        "{err}"
    );
    assert!(
        err.contains("1 record skipped (1 over the record limit, read past"),
        "{err}"
    );
}

#[test]
fn gigabytes_of_filler_stop_early_with_the_file_named() {
    let dir = scratch("hostile-filler");
    let file = bomb(
        &dir,
        "filler.json.gz",
        &format!(r#"{{"Records":[{REAL},"#),
        &vec![b' '; 1 << 20],
        4096,
        &format!("{REAL}]}}"),
    );
    let (out, peak) = measured(&["replay", "--format", "jsonl", &file]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "the file is reported: {err}");
    assert!(peak <= 64.0, "peak {peak:.1} MiB");
    assert!(err.contains("filler.json.gz: stopped:"), "{err}");
    assert!(
        err.contains("far beyond a CloudTrail log file's 10 to 30:1"),
        "{err}"
    );
    // What was read before the filler was analysed.
    assert!(
        text(&out.stdout).contains("real-1"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn the_uncompressed_limit_is_a_setting_and_what_came_before_is_analysed() {
    let dir = scratch("hostile-limit");
    let records: Vec<String> = (0..2000)
        .map(|i| REAL.replace("real-1", &format!("real-{i}")))
        .collect();
    let file = write(&dir, "big.json.gz", &gzip(delivery(&records).as_bytes()));
    let file = file.display().to_string();
    let out = trailwatch(
        &[
            "replay",
            "--format",
            "jsonl",
            "--max-uncompressed",
            "512KiB",
            &file,
        ],
        None,
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("stopped at the limit of 512 KiB of JSON"),
        "{err}"
    );
    // Not a byte past the limit: 512 KiB of JSON read, and no more.
    assert!(err.contains(", 0.5 MB in "), "{err}");
    assert!(
        text(&out.stdout).contains("real-0"),
        "the first records were analysed"
    );
    let bad = trailwatch(&["replay", "--max-record-size", "huge", &file], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("--max-record-size"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn a_record_cannot_forge_lines_of_an_alert_in_text() {
    // A principal name with a newline and the next line's label, and a terminal escape.
    let forged = REAL.replace(
        "assumed-role/Admin/eve",
        "assumed-role/Admin/eve\\n  what     nothing to see\\u001b[2J",
    );
    let dir = scratch("hostile-text");
    let file = write(&dir, "forged.json", delivery(&[forged]).as_bytes());
    let out = trailwatch(
        &["replay", "--format", "pretty", &file.display().to_string()],
        None,
    );
    let text = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", self::text(&out.stderr));
    assert!(text.contains("kms-key-loss"), "{text}");
    assert!(
        !text
            .lines()
            .any(|l| l.trim_start().starts_with("what     nothing")),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(
        text.contains("eve\\u{a}  what     nothing to see\\u{1b}[2J"),
        "{text}"
    );
}

#[test]
fn a_record_of_2099_neither_correlates_nor_poisons_a_state_file() {
    let dir = scratch("hostile-2099");
    let denied = |id: &str, time: &str| {
        format!(
            r#"{{"eventVersion":"1.09","eventID":"{id}","eventTime":"{time}","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"111122223333","sourceIPAddress":"198.51.100.7","errorCode":"AccessDenied","userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/app/eve","accountId":"111122223333"}}}}"#
        )
    };
    let forged = write(
        &dir,
        "f2099.json",
        delivery(&[denied("x", "2099-01-01T00:00:00Z")]).as_bytes(),
    );
    let mut burst: Vec<String> = (0..30)
        .map(|i| {
            denied(
                &format!("b{i}"),
                &format!("2026-11-30T10:{:02}:{:02}Z", i / 6, (i * 10) % 60),
            )
        })
        .collect();
    // A record an hour later moves the run's clock past the burst's window.
    burst.push(denied("later", "2026-11-30T11:30:00Z").replace("AccessDenied", ""));
    let burst = write(&dir, "burst.json", delivery(&burst).as_bytes());
    let state = dir.join("state.json").display().to_string();
    let run = |file: &std::path::Path| {
        let file = file.display().to_string();
        trailwatch(
            &["replay", "--format", "jsonl", "--state", &state, &file],
            None,
        )
    };
    let first = run(&forged);
    let err = text(&first.stderr);
    assert_eq!(first.status.code(), Some(0), "{err}");
    assert!(
        err.contains("1 base-rule match dated more than 15 minutes ahead"),
        "{err}"
    );
    let second = run(&burst);
    let err = text(&second.stderr);
    assert!(
        text(&second.stdout).contains(r#""detector":"access-denied-burst""#),
        "the burst is still correlated: {err}"
    );
    assert!(!err.contains("too late"), "{err}");
}
