//! State across deliveries: Sigma correlation rules over the findings of base rules.
//!
//! - [`rule`]: the `correlation:` block of a descriptor, read and checked.
//! - [`link`]: the catalog's correlations linked to their base rules; a finding becomes an
//!   count in one delivery's [`Observed`] (per group and minute, aggregated as it streams).
//! - [`store`]: counts per rule, group and minute behind the [`Store`] trait, and replay's
//!   in-memory store.
//! - [`engine`]: windows on `eventTime`, allowed lateness, decisions, alerts.

#[cfg(any(test, feature = "e2e"))]
pub mod contract;
pub mod dedup;
pub mod engine;
pub mod link;
mod memory;
pub mod observed;
mod raise;
pub mod rule;
pub mod store;
#[cfg(test)]
mod tests;
pub mod time;

pub use dedup::Dedup;
pub use engine::{Engine, DEFAULT_LATENESS};
pub use link::{Correlations, Linked};
pub use memory::MemoryStore;
pub use observed::{Observation, Observed};
pub use store::{Store, StoreError};
