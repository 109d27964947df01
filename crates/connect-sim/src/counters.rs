//! Counters of calls per operation and outcome.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use crate::error::ErrorKind;
use crate::operation::Operation;

/// How one call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// 200.
    Success,
    /// An error response of this type.
    Error(ErrorKind),
}

impl Outcome {
    /// `Success` or the error type name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "Success",
            Outcome::Error(kind) => kind.as_str(),
        }
    }
}

/// A snapshot of call counts by operation and outcome.
///
/// Calls to paths that match no operation are counted under no operation (`None`).
/// Serialises as `{"CreateUser": {"Success": 3, "ThrottlingException": 1}, …}`, with
/// unmatched calls under `"UnknownOperation"`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallCounters {
    counts: BTreeMap<(Option<Operation>, Outcome), u64>,
}

impl CallCounters {
    pub(crate) fn record(&mut self, operation: Option<Operation>, outcome: Outcome) {
        *self.counts.entry((operation, outcome)).or_default() += 1;
    }

    /// Calls of `operation` that ended with `outcome`.
    pub fn count(&self, operation: Operation, outcome: Outcome) -> u64 {
        self.counts
            .get(&(Some(operation), outcome))
            .copied()
            .unwrap_or(0)
    }

    /// Successful calls of `operation`.
    pub fn successes(&self, operation: Operation) -> u64 {
        self.count(operation, Outcome::Success)
    }

    /// Calls of `operation` answered with `kind`.
    pub fn errors(&self, operation: Operation, kind: ErrorKind) -> u64 {
        self.count(operation, Outcome::Error(kind))
    }

    /// All calls of `operation`, whatever their outcome.
    pub fn total(&self, operation: Operation) -> u64 {
        self.counts
            .iter()
            .filter(|((op, _), _)| *op == Some(operation))
            .map(|(_, n)| n)
            .sum()
    }

    /// Calls that matched no operation.
    pub fn unknown_operation_calls(&self) -> u64 {
        self.counts
            .iter()
            .filter(|((op, _), _)| op.is_none())
            .map(|(_, n)| n)
            .sum()
    }

    /// Every call counted.
    pub fn grand_total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Every (operation, outcome, count), operations in [`Operation`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Option<Operation>, Outcome, u64)> + '_ {
        self.counts
            .iter()
            .map(|((op, outcome), n)| (*op, *outcome, *n))
    }
}

impl Serialize for CallCounters {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut nested: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
        for (op, outcome, n) in self.iter() {
            let name = op.map_or("UnknownOperation", Operation::as_str);
            nested.entry(name).or_default().insert(outcome.as_str(), n);
        }
        nested.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_serialises_by_operation_and_outcome() {
        let mut c = CallCounters::default();
        c.record(Some(Operation::CreateUser), Outcome::Success);
        c.record(Some(Operation::CreateUser), Outcome::Success);
        c.record(
            Some(Operation::CreateUser),
            Outcome::Error(ErrorKind::ThrottlingException),
        );
        c.record(None, Outcome::Error(ErrorKind::UnknownOperationException));
        assert_eq!(c.successes(Operation::CreateUser), 2);
        assert_eq!(
            c.errors(Operation::CreateUser, ErrorKind::ThrottlingException),
            1
        );
        assert_eq!(c.total(Operation::CreateUser), 3);
        assert_eq!(c.total(Operation::DeleteUser), 0);
        assert_eq!(c.unknown_operation_calls(), 1);
        assert_eq!(c.grand_total(), 4);
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({
                "CreateUser": {"Success": 2, "ThrottlingException": 1},
                "UnknownOperation": {"UnknownOperationException": 1}
            })
        );
    }
}
