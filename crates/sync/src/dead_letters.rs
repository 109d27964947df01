//! The dead-letter port of a process that never processes queue messages.

use okta_connect_core::ports::{EventQueue, QueueError};
use okta_connect_core::queue::{QueueMessage, RejectedEntry};

/// An [`EventQueue`] for an engine that only plans and queues (the reconcile Lambda):
/// it processes no message, so nothing is ever dead-lettered. A send is refused, never
/// silently dropped, should that change.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDeadLetters;

impl EventQueue for NoDeadLetters {
    async fn send_batch(&self, _: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        Err(QueueError::Permanent(
            "this process has no dead-letter queue: it processes no messages".into(),
        ))
    }
}
