//! The SQS adapter of [`EventQueue`]: one `SendMessageBatch` per call.
//!
//! Classification, by typed matching only (never by message text):
//! - the call as a whole: transport failures (timeout, connection, unreadable answer),
//!   throttling and 5xx are [`QueueError::Transient`]; a missing queue, a malformed
//!   batch, KMS or permission problems are [`QueueError::Permanent`];
//! - each failed entry: `SenderFault = true` (the entry itself is bad, e.g. invalid
//!   characters or too large) is [`ErrorClass::Permanent`]; otherwise SQS had a problem
//!   on its side and the entry is [`ErrorClass::Transient`].
//!
//! An entry that SQS lists neither as successful nor as failed is reported as a
//! transient rejection: the port's contract is that every entry *not* reported is
//! durable, so silence is never taken for success.

use std::collections::HashSet;

use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::SdkError;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchError;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use okta_connect_core::ports::{ErrorClass, EventQueue, QueueError, QueueMessage, RejectedEntry};

use crate::sdk;

/// A standard SQS queue reached through one client built at cold start.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
}

impl SqsQueue {
    /// A queue on an existing client (build the client once per process).
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// A queue with a client built from `config` (see [`sdk::load`]).
    pub fn from_config(config: &SdkConfig, queue_url: impl Into<String>) -> Self {
        Self::new(Client::new(config), queue_url)
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// The SQS request entry for one message; attributes are of type `String`. Empty
/// attribute values are left out (SQS refuses them).
fn request_entry(message: &QueueMessage) -> Result<SendMessageBatchRequestEntry, QueueError> {
    let mut entry = SendMessageBatchRequestEntry::builder()
        .id(&message.entry_id)
        .message_body(&message.body);
    for (name, value) in &message.attributes {
        if value.is_empty() {
            continue;
        }
        let attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .map_err(|e| QueueError::Permanent(format!("message attribute {name}: {e}")))?;
        entry = entry.message_attributes(name, attribute);
    }
    entry
        .build()
        .map_err(|e| QueueError::Permanent(format!("batch entry {}: {e}", message.entry_id)))
}

/// Whether a failed call as a whole may succeed if repeated.
pub fn classify_batch_error<R>(err: &SdkError<SendMessageBatchError, R>) -> ErrorClass
where
    R: HttpStatus,
{
    if sdk::is_transport_failure(err) {
        return ErrorClass::Transient;
    }
    let Some(service) = err.as_service_error() else {
        // Construction failures: the request could not even be built.
        return ErrorClass::Permanent;
    };
    match service {
        SendMessageBatchError::RequestThrottled(_) | SendMessageBatchError::KmsThrottled(_) => {
            ErrorClass::Transient
        }
        SendMessageBatchError::BatchEntryIdsNotDistinct(_)
        | SendMessageBatchError::BatchRequestTooLong(_)
        | SendMessageBatchError::EmptyBatchRequest(_)
        | SendMessageBatchError::InvalidAddress(_)
        | SendMessageBatchError::InvalidBatchEntryId(_)
        | SendMessageBatchError::InvalidSecurity(_)
        | SendMessageBatchError::KmsAccessDenied(_)
        | SendMessageBatchError::KmsDisabled(_)
        | SendMessageBatchError::KmsInvalidKeyUsage(_)
        | SendMessageBatchError::KmsInvalidState(_)
        | SendMessageBatchError::KmsNotFound(_)
        | SendMessageBatchError::KmsOptInRequired(_)
        | SendMessageBatchError::QueueDoesNotExist(_)
        | SendMessageBatchError::TooManyEntriesInBatchRequest(_)
        | SendMessageBatchError::UnsupportedOperation(_) => ErrorClass::Permanent,
        // Errors this SDK version does not model: decide by the HTTP status.
        _ => match err.raw_response().map(HttpStatus::status) {
            Some(status) if status == 429 || status >= 500 => ErrorClass::Transient,
            Some(_) => ErrorClass::Permanent,
            None => ErrorClass::Transient,
        },
    }
}

/// The HTTP status of a raw response (implemented for the SDK's response type; lets
/// tests classify errors built without a network).
pub trait HttpStatus {
    fn status(&self) -> u16;
}

impl HttpStatus for aws_smithy_runtime_api::http::Response {
    fn status(&self) -> u16 {
        aws_smithy_runtime_api::http::Response::status(self).as_u16()
    }
}

/// Short description of an SDK error for logs: its kind and the service's error code
/// and message (never the request, which carries event bodies).
fn describe<R>(err: &SdkError<SendMessageBatchError, R>) -> String {
    use aws_sdk_sqs::error::ProvideErrorMetadata;
    match err {
        SdkError::ServiceError(e) => {
            let e = e.err();
            format!(
                "{}: {}",
                e.code().unwrap_or("unknown error"),
                e.message().unwrap_or("no message")
            )
        }
        SdkError::TimeoutError(_) => "timeout".into(),
        SdkError::DispatchFailure(_) => "connection failure".into(),
        SdkError::ResponseError(_) => "unreadable response".into(),
        SdkError::ConstructionFailure(_) => "request construction failure".into(),
        _ => "unknown SDK error".into(),
    }
}

/// A rejected entry from SQS's per-entry failure report.
fn rejected(id: &str, sender_fault: bool, code: &str, message: Option<&str>) -> RejectedEntry {
    RejectedEntry {
        entry_id: id.to_string(),
        class: if sender_fault {
            ErrorClass::Permanent
        } else {
            ErrorClass::Transient
        },
        reason: match message {
            Some(m) => format!("{code}: {m}"),
            None => code.to_string(),
        },
    }
}

impl EventQueue for SqsQueue {
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let entries = batch
            .iter()
            .map(request_entry)
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|err| match classify_batch_error(&err) {
                ErrorClass::Transient => QueueError::Transient(describe(&err)),
                ErrorClass::Permanent => QueueError::Permanent(describe(&err)),
            })?;

        let mut out: Vec<RejectedEntry> = output
            .failed()
            .iter()
            .map(|f| rejected(f.id(), f.sender_fault(), f.code(), f.message()))
            .collect();
        let mut answered: HashSet<&str> = output.successful().iter().map(|s| s.id()).collect();
        answered.extend(output.failed().iter().map(|f| f.id()));
        out.extend(
            batch
                .iter()
                .filter(|m| !answered.contains(m.entry_id.as_str()))
                .map(|m| RejectedEntry {
                    entry_id: m.entry_id.clone(),
                    class: ErrorClass::Transient,
                    reason: "SQS reported no result for this entry".into(),
                }),
        );
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sqs::types::error::{QueueDoesNotExist, RequestThrottled};
    use aws_smithy_runtime_api::client::result::{ServiceError, TimeoutError};

    /// A raw response reduced to its status: enough to classify.
    #[derive(Debug)]
    struct Status(u16);

    impl HttpStatus for Status {
        fn status(&self) -> u16 {
            self.0
        }
    }

    fn service(e: SendMessageBatchError, status: u16) -> SdkError<SendMessageBatchError, Status> {
        SdkError::ServiceError(
            ServiceError::builder()
                .source(e)
                .raw(Status(status))
                .build(),
        )
    }

    #[test]
    fn whole_call_errors_are_classified_by_type() {
        let throttled =
            SendMessageBatchError::RequestThrottled(RequestThrottled::builder().build());
        assert_eq!(
            classify_batch_error(&service(throttled, 400)),
            ErrorClass::Transient
        );
        let missing =
            SendMessageBatchError::QueueDoesNotExist(QueueDoesNotExist::builder().build());
        assert_eq!(
            classify_batch_error(&service(missing, 400)),
            ErrorClass::Permanent
        );
        let timeout: SdkError<SendMessageBatchError, Status> =
            SdkError::TimeoutError(TimeoutError::builder().source("slow").build());
        assert_eq!(classify_batch_error(&timeout), ErrorClass::Transient);
        for (status, class) in [
            (500, ErrorClass::Transient),
            (503, ErrorClass::Transient),
            (429, ErrorClass::Transient),
            (403, ErrorClass::Permanent),
        ] {
            let unknown = SendMessageBatchError::generic(
                aws_sdk_sqs::error::ErrorMetadata::builder()
                    .code("SomethingNew")
                    .build(),
            );
            assert_eq!(
                classify_batch_error(&service(unknown, status)),
                class,
                "{status}"
            );
        }
    }

    #[test]
    fn entry_failures_follow_sender_fault() {
        let r = rejected("3", true, "InvalidMessageContents", Some("bad char"));
        assert_eq!(r.class, ErrorClass::Permanent);
        assert_eq!(r.entry_id, "3");
        let r = rejected("4", false, "InternalError", None);
        assert_eq!(r.class, ErrorClass::Transient);
        assert_eq!(r.reason, "InternalError");
    }

    #[test]
    fn empty_attributes_are_left_out() {
        let message = QueueMessage {
            entry_id: "0".into(),
            body: "{}".into(),
            attributes: [
                ("uuid".to_string(), "u1".to_string()),
                ("oktaUserId".to_string(), String::new()),
            ]
            .into_iter()
            .collect(),
        };
        let entry = request_entry(&message).unwrap();
        let attributes = entry.message_attributes().unwrap();
        assert_eq!(attributes.len(), 1);
        assert_eq!(attributes["uuid"].string_value(), Some("u1"));
        assert_eq!(attributes["uuid"].data_type(), "String");
    }
}
