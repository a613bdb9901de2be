use super::*;
use std::borrow::Cow;

fn event(id: &str, time: i64) -> EventRef<'_> {
    EventRef {
        id,
        time,
        rule: 0,
        value: None,
        name: "GetObject",
        who: [
            "111122223333",
            "us-east-1",
            "arn:aws:iam::111122223333:user/a",
            "198.51.100.1",
        ],
    }
}

#[test]
fn matches_aggregate_per_group_and_minute_and_the_account_separates_groups() {
    let mut o = Observed::default();
    let arn = [Cow::Borrowed("arn:aws:iam::1:user/a")];
    for i in 0..100 {
        let id = format!("e{i}");
        o.add("burst", "111122223333", &arn, event(&id, 1_764_500_400 + i));
        o.add("burst", "444455556666", &arn, event(&id, 1_764_500_400 + i));
    }
    assert_eq!(o.keys().count(), 2, "one group per account");
    assert_eq!(o.cells(), 4, "100 seconds: two minutes in each account");
    let counted: u64 = o
        .groups()
        .flat_map(|(_, m)| m.iter().map(|(_, b)| b))
        .map(|b| b.count)
        .sum();
    assert_eq!(
        (counted, o.matches, o.uncounted, o.unkept),
        (200, 200, 0, 0)
    );
}

#[test]
fn past_the_budget_new_minutes_are_uncounted_and_the_rest_count_without_ids() {
    let mut o = Observed::default();
    let mut i = 0u64;
    while o.uncounted == 0 {
        let group = [Cow::Owned(format!("arn:aws:iam::1:user/u{}", i % 50_000))];
        let id = format!("e{i}");
        o.add(
            "burst",
            "1",
            &group,
            event(&id, 1_764_500_400 + (i / 50_000) as i64 * 60),
        );
        i += 1;
    }
    let weight: usize = o
        .groups()
        .flat_map(|(_, m)| m.iter().map(|(_, b)| b))
        .map(Bucket::weight)
        .sum();
    assert!(weight <= BUDGET + (1 << 20), "{weight} bytes held");
    // A minute already held still counts, without its id.
    let known = o.keys().next().unwrap().clone();
    let before = o.unkept;
    o.add(
        "burst",
        "1",
        &[Cow::Owned(known.group[0].clone())],
        event("late", 1_764_500_400),
    );
    assert_eq!(o.unkept, before + 1);
    assert_eq!(o.matches, i + 1, "every match is seen");
}
