//! Account context: an `accounts.yml` / `accounts.yaml` / `accounts.csv` file in a detectors
//! directory maps account ids to a name, an environment and an owner. Alerts carry the name and
//! environment, and filters can select on them (`account_name`, `environment`).
//!
//! YAML: `accounts: [{id: '111122223333', name: prod-payments, environment: prod, owner: ...}]`.
//! CSV: a head line `id,name,environment,owner`, then one account a line (no quoting).

use super::error::CatalogError;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

pub use super::source::is_accounts_file;

/// What is known of one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The 12-digit account id.
    pub id: String,
    /// A readable name (`prod-payments`).
    #[serde(default)]
    pub name: String,
    /// `prod`, `staging`, `sandbox` ...
    #[serde(default)]
    pub environment: String,
    /// Who answers for it.
    #[serde(default)]
    pub owner: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountsFile {
    accounts: Vec<Account>,
}

/// Every known account, by id.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    by_id: HashMap<String, Account>,
}

impl Accounts {
    /// Adds the accounts of one file (YAML, or CSV when `source` ends in `.csv`); an id
    /// given twice, here or in an earlier file, is refused naming the file.
    pub fn add_file(&mut self, text: &str, source: &str) -> Result<(), CatalogError> {
        let invalid = |message: String| CatalogError::Invalid {
            file: source.to_owned(),
            message,
        };
        let list = if source.ends_with(".csv") {
            csv(text).map_err(invalid)?
        } else {
            let f: AccountsFile =
                serde_norway::from_str(text).map_err(|e| invalid(e.to_string()))?;
            f.accounts
        };
        for a in list {
            if a.id.len() != 12 || !a.id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(format!("`{}` is not a 12-digit account id", a.id)));
            }
            if self.by_id.contains_key(&a.id) {
                return Err(invalid(format!("account `{}` is listed twice", a.id)));
            }
            self.by_id.insert(a.id.clone(), a);
        }
        Ok(())
    }

    /// The account with this id, if known.
    pub fn get(&self, id: &str) -> Option<&Account> {
        self.by_id.get(id)
    }

    /// How many accounts are known.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no account is known.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// `record` with `account_name` and `environment` added for its account (what filters
    /// select on), when known; `None` when there is nothing to add.
    pub fn annotate(&self, record: &Value, account: &str) -> Option<Value> {
        let a = self.get(account)?;
        let mut out = record.clone();
        let map = out.as_object_mut()?;
        map.insert("account_name".into(), Value::from(a.name.as_str()));
        map.insert("environment".into(), Value::from(a.environment.as_str()));
        Some(out)
    }
}

/// The accounts of a CSV text with the head `id,name,environment,owner` (columns in any order,
/// only `id` required).
fn csv(text: &str) -> Result<Vec<Account>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, head)) = lines.next() else {
        return Ok(Vec::new());
    };
    let columns: Vec<String> = head
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let at = |name: &str| columns.iter().position(|c| c == name);
    let id_at = at("id").ok_or("the head line has no `id` column")?;
    if let Some(other) = columns
        .iter()
        .find(|c| !["id", "name", "environment", "owner"].contains(&c.as_str()))
    {
        return Err(format!("unknown column `{other}`"));
    }
    let mut out = Vec::new();
    for (n, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != columns.len() {
            return Err(format!(
                "line {}: {} columns, the head has {}",
                n + 1,
                cells.len(),
                columns.len()
            ));
        }
        let cell = |name: &str| at(name).map_or(String::new(), |i| cells[i].to_owned());
        out.push(Account {
            id: cells[id_at].to_owned(),
            name: cell("name"),
            environment: cell("environment"),
            owner: cell("owner"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_csv_files_and_their_errors() {
        let mut a = Accounts::default();
        let yaml = "accounts:\n  - {id: '111122223333', name: prod-payments, environment: prod, owner: pay}\n";
        a.add_file(yaml, "d/accounts.yml").unwrap();
        let csv = "id,environment,name\n444455556666, sandbox ,dev-eve\n\n";
        a.add_file(csv, "d/accounts.csv").unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a.get("111122223333").unwrap().owner, "pay");
        let dev = a.get("444455556666").unwrap();
        assert_eq!(
            (dev.name.as_str(), dev.environment.as_str()),
            ("dev-eve", "sandbox")
        );
        let e = a.add_file(yaml, "e/accounts.yml").unwrap_err().to_string();
        assert!(
            e.starts_with("e/accounts.yml: ") && e.contains("twice"),
            "{e}"
        );
        let bad = [
            ("id,name\n1234,x\n", "12-digit"),
            ("name\nx\n", "no `id` column"),
            ("id,colour\n111122223333,red\n", "unknown column `colour`"),
            ("id,name\n111122223333\n", "line 2: 1 columns"),
        ];
        for (text, want) in bad {
            let e = Accounts::default()
                .add_file(text, "accounts.csv")
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{e}");
        }
        let e = Accounts::default().add_file("accounts: [{id: x, tier: 1}]", "accounts.yml");
        assert!(e.unwrap_err().to_string().contains("tier"));
        let record = serde_json::json!({"eventName": "X"});
        let v = a.annotate(&record, "111122223333").unwrap();
        assert_eq!(
            (v["account_name"].as_str(), v["environment"].as_str()),
            (Some("prod-payments"), Some("prod"))
        );
        assert!(a.annotate(&record, "999999999999").is_none());
        assert!(is_accounts_file("x/accounts.csv") && !is_accounts_file("x/my-accounts.yml"));
    }
}
