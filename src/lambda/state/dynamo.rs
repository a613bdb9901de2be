//! The state table in DynamoDB: `Query` (consistent), `UpdateItem` conditioned on the version,
//! `BatchWriteItem` for deletes. Throttling and faults are retried by the SDK's standard retry
//! mode; what still fails fails the invocation, which Lambda retries.

use super::table::{Row, Sets, Table, TableError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, DeleteRequest, TransactWriteItem, Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Unprocessed deletes are sent again this many times.
const DELETE_ROUNDS: usize = 4;

/// One DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoTable {
    client: Client,
    table: String,
    calls: std::sync::Arc<AtomicU64>,
}

impl DynamoTable {
    /// The table `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> DynamoTable {
        DynamoTable {
            client,
            table: table.into(),
            calls: Default::default(),
        }
    }

    fn fault(&self, e: impl std::error::Error) -> TableError {
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            message = format!("{message}: {s}");
            source = s.source();
        }
        TableError {
            table: self.table.clone(),
            message,
        }
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// The write of `row` conditioned on its version (the stored one is `row.ver - 1`, or
    /// none when `row.ver` is 1): the one update both `put` and `write` send.
    fn versioned(&self, row: &Row) -> Result<Update, TableError> {
        let mut u = Update::builder()
            .table_name(&self.table)
            .key("pk", s(&row.pk))
            .key("sk", s(&row.sk))
            .update_expression("SET #b = :b, #v = :v, #e = :e")
            .expression_attribute_names("#b", "body")
            .expression_attribute_names("#v", "ver")
            .expression_attribute_names("#e", "expires")
            .expression_attribute_values(":b", s(&row.body))
            .expression_attribute_values(":v", AttributeValue::N(row.ver.to_string()))
            .expression_attribute_values(":e", AttributeValue::N(row.expires.to_string()));
        u = if row.ver <= 1 {
            u.condition_expression("attribute_not_exists(#v)")
        } else {
            u.condition_expression("#v = :was")
                .expression_attribute_values(":was", AttributeValue::N((row.ver - 1).to_string()))
        };
        u.build().map_err(|e| self.fault(e))
    }
}

/// The string-set attributes of an item.
fn string_sets(item: Option<&HashMap<String, AttributeValue>>) -> Sets {
    let mut sets = Sets::new();
    for (name, value) in item.into_iter().flatten() {
        if let AttributeValue::Ss(values) = value {
            sets.insert(name.clone(), values.iter().cloned().collect());
        }
    }
    sets
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn text(item: &HashMap<String, AttributeValue>, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(v)) => v.clone(),
        _ => String::new(),
    }
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> i64 {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().unwrap_or(0),
        _ => 0,
    }
}

impl Table for DynamoTable {
    async fn query(&self, pk: &str, sk: Option<&str>) -> Result<Vec<Row>, TableError> {
        let mut rows = Vec::new();
        let mut start = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .expression_attribute_names("#pk", "pk")
                .expression_attribute_values(":pk", s(pk))
                .set_exclusive_start_key(start.take());
            q = match sk {
                Some(sk) => q
                    .key_condition_expression("#pk = :pk AND #sk = :sk")
                    .expression_attribute_names("#sk", "sk")
                    .expression_attribute_values(":sk", s(sk)),
                None => q.key_condition_expression("#pk = :pk"),
            };
            self.count();
            let out = q.send().await.map_err(|e| self.fault(e))?;
            for item in out.items() {
                rows.push(Row {
                    pk: text(item, "pk"),
                    sk: text(item, "sk"),
                    ver: number(item, "ver").max(0) as u64,
                    body: text(item, "body"),
                    expires: number(item, "expires"),
                });
            }
            match out.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(rows),
            }
        }
    }

    async fn put(&self, row: &Row) -> Result<bool, TableError> {
        let update = self.versioned(row)?;
        let u = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(update.key().clone()))
            .update_expression(update.update_expression())
            .set_condition_expression(update.condition_expression().map(str::to_owned))
            .set_expression_attribute_names(update.expression_attribute_names().cloned())
            .set_expression_attribute_values(update.expression_attribute_values().cloned());
        self.count();
        match u.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.fault(e)),
        }
    }

    async fn write(&self, puts: &[Row], deletes: &[(String, String)]) -> Result<bool, TableError> {
        let mut items = Vec::with_capacity(puts.len() + deletes.len());
        for row in puts {
            let update = self.versioned(row)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        for (pk, sk) in deletes {
            let delete = Delete::builder()
                .table_name(&self.table)
                .key("pk", s(pk))
                .key("sk", s(sk))
                .build()
                .map_err(|e| self.fault(e))?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        if items.is_empty() {
            return Ok(true);
        }
        self.count();
        let sent = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            // A condition that failed, or another transaction on the same rows: the caller
            // reads again.
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c))
                    if c.cancellation_reasons().iter().any(|r| {
                        matches!(
                            r.code(),
                            Some("ConditionalCheckFailed" | "TransactionConflict")
                        )
                    }) =>
                {
                    Ok(false)
                }
                _ => Err(self.fault(e)),
            },
        }
    }

    async fn delete(&self, keys: &[(String, String)]) -> Result<(), TableError> {
        let mut requests: Vec<WriteRequest> = Vec::new();
        for (pk, sk) in keys {
            let delete = DeleteRequest::builder()
                .key("pk", s(pk))
                .key("sk", s(sk))
                .build()
                .map_err(|e| self.fault(e))?;
            requests.push(WriteRequest::builder().delete_request(delete).build());
        }
        for round in 0..DELETE_ROUNDS {
            if requests.is_empty() {
                return Ok(());
            }
            if round > 0 {
                // Unprocessed items are throttled ones: give the table a moment.
                tokio::time::sleep(std::time::Duration::from_millis(50 << round)).await;
            }
            self.count();
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, std::mem::take(&mut requests))
                .send()
                .await
                .map_err(|e| self.fault(e))?;
            requests = out
                .unprocessed_items()
                .and_then(|u| u.get(&self.table))
                .cloned()
                .unwrap_or_default();
        }
        Err(TableError {
            table: self.table.clone(),
            message: format!(
                "{} rows not deleted after {DELETE_ROUNDS} rounds (throttled)",
                requests.len()
            ),
        })
    }

    async fn add(
        &self,
        (pk, sk): (&str, &str),
        set: &str,
        values: &[String],
        expires: i64,
    ) -> Result<Sets, TableError> {
        if values.is_empty() {
            return self.sets((pk, sk)).await;
        }
        self.count();
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .update_expression("ADD #s :v SET #e = :e")
            .expression_attribute_names("#s", set)
            .expression_attribute_names("#e", "expires")
            .expression_attribute_values(":v", AttributeValue::Ss(values.to_vec()))
            .expression_attribute_values(":e", AttributeValue::N(expires.to_string()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| self.fault(e))?;
        Ok(string_sets(out.attributes()))
    }

    async fn sets(&self, (pk, sk): (&str, &str)) -> Result<Sets, TableError> {
        self.count();
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.fault(e))?;
        Ok(string_sets(out.item()))
    }

    fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn name(&self) -> &str {
        &self.table
    }
}
