//! The masks: what a responder is shown instead of a sensitive value (`j***@example.com`,
//! `****1111`, `ghp_****`). Leaf functions: they know nothing of where the value was found.

/// What stands for a hidden value.
pub const MASK: &str = "****";

/// `jane.doe@example.com` → `j***@example.com`.
pub fn email(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => MASK.to_owned(),
    }
}

/// `4111111111111111` → `****1111`.
pub fn card(digits: &str) -> String {
    let d: Vec<char> = digits.chars().filter(char::is_ascii_digit).collect();
    let last: String = d[d.len().saturating_sub(4)..].iter().collect();
    format!("{MASK}{last}")
}

/// `+1 (206) 555-0100` → `***-***-0100`.
pub fn phone(number: &str) -> String {
    let d: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if d.len() < 7 {
        return MASK.to_owned();
    }
    let last: String = d[d.len() - 4..].iter().collect();
    format!("***-***-{last}")
}

/// A secret: `****`, or `ghp_****` when it starts with a known (public) token prefix.
pub fn secret(value: &str) -> String {
    if value.starts_with("eyJ") {
        return format!("eyJ{MASK} (JWT)");
    }
    if value.starts_with("-----BEGIN") {
        return format!("-----BEGIN {MASK} PRIVATE KEY");
    }
    match token_prefix(value) {
        Some(p) => format!("{p}{MASK}"),
        None => MASK.to_owned(),
    }
}

/// Token formats whose prefix names the issuer (the prefix is not secret).
pub const TOKEN_PREFIXES: &[&str] = &[
    "github_pat_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "glpat-",
    "gldt-",
    "glrt-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxr-",
    "xoxs-",
    "xoxe-",
    "xapp-",
    "sk_live_",
    "rk_live_",
    "sk_test_",
    "npm_",
    "pypi-",
    "hf_",
    "dop_v1_",
    "shpat_",
    "AIza",
];

/// A known token format at the start of `s`, if any (returns its public prefix).
pub fn token_prefix(s: &str) -> Option<&'static str> {
    TOKEN_PREFIXES.iter().copied().find(|p| s.starts_with(p))
}
