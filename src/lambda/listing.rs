//! Digest files no notification names: a trail whose SNS topic announces log files only
//! (mode `existing-trail-topic`) still writes a digest every hour. With `DIGEST_LISTING`
//! (`s3://bucket/prefix/`), the scheduled check lists the digest folders of today and
//! yesterday of every place the state knows under it (the places learnt from log files and
//! digests) and processes the digests it has not recorded yet, like notified ones.

use super::object::{Job, Outcome};
use super::s3::ObjectSource;
use super::state::silence::{self, Beat};
use super::state::AnyTable;
use super::triggers::ObjectRef;
use super::Handler;
use crate::lambda::config::rule_uri::RuleUri;
use crate::stage::Counts;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The digest folders (`.../CloudTrail-Digest/REGION/YYYY/MM/DD/`) of `place`
/// (`s3://bucket/prefix/AWSLogs/[o-ORG/]ACCOUNT/REGION`) for the days of `now` and the day
/// before, under `root`.
fn folders(place: &str, root: &RuleUri, now: i64) -> Vec<String> {
    let Some(key) = place.strip_prefix(&format!("s3://{}/{}", root.bucket, root.prefix)) else {
        return Vec::new();
    };
    let Some((account_part, region)) = key.rsplit_once('/') else {
        return Vec::new();
    };
    [now - 86_400, now]
        .iter()
        .map(|t| {
            let day = crate::correlate::time::format_time(*t)[..10].replace('-', "/");
            format!(
                "{}{account_part}/CloudTrail-Digest/{region}/{day}/",
                root.prefix
            )
        })
        .collect()
}

impl<S: ObjectSource> Handler<S> {
    /// Lists the digest folders of the known places and processes the digests not recorded
    /// yet; their outcomes are counted in `counts`. Returns the digests that must be tried
    /// again (listed again by the next check).
    pub(super) async fn list_digests(
        self: &Arc<Self>,
        table: &AnyTable,
        root: &RuleUri,
        now: i64,
        job: Job,
        counts: &mut Counts,
    ) -> Result<usize, String> {
        let beats: Vec<Beat> = silence::beats(table).await.map_err(|e| e.to_string())?;
        // The last digest recorded per trail: digest keys sort by time within a trail.
        let mut last: BTreeMap<(String, String), String> = BTreeMap::new();
        let mut places = BTreeSet::new();
        for b in &beats {
            places.insert(b.place.clone());
            if let Some((key, _, _)) = &b.chain {
                last.insert((b.place.clone(), b.trail.clone()), key.clone());
            }
        }
        let mut new = Vec::new();
        for place in &places {
            for folder in folders(place, root, now) {
                let keys = self
                    .source
                    .list(&root.bucket, &folder)
                    .await
                    .map_err(|e| e.to_string())?;
                for key in keys {
                    let Some((_, parts)) = silence::place_of(&root.bucket, &key) else {
                        continue;
                    };
                    let Some(trail) = parts.trail() else {
                        continue;
                    };
                    let seen = last.get(&(place.clone(), trail.to_owned()));
                    if seen.is_none_or(|s| key.as_str() > s.as_str()) {
                        new.push(ObjectRef::new(&root.bucket, key));
                    }
                }
            }
        }
        new.sort_by(|a, b| a.key.cmp(&b.key));
        let mut retry = 0;
        // In order: a trail's digests chain, each to the one before.
        for object in new {
            match self.worker().process(object, job).await {
                Outcome::Done { counts: c, .. } => counts.add(&c),
                Outcome::Skipped(_) => {}
                Outcome::Retry(e) => {
                    tracing::warn!(error = %e, "listed digest file left for the next check");
                    retry += 1;
                }
            }
        }
        Ok(retry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_folders_of_a_place_today_and_yesterday() {
        let root: RuleUri = "s3://logs/org/".parse().unwrap();
        let place = "s3://logs/org/AWSLogs/o-a1b2c3d4e5/111122223333/eu-west-1";
        assert_eq!(
            folders(place, &root, 1_795_860_000),
            [
                "org/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail-Digest/eu-west-1/2026/11/27/",
                "org/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail-Digest/eu-west-1/2026/11/28/"
            ]
        );
        assert!(folders("s3://other/AWSLogs/1/eu-west-1", &root, 0).is_empty());
    }
}
