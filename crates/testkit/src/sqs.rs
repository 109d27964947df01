//! Reading an SQS queue back with the plain SDK client: an independent reader for tests
//! (not the consumer adapter under test).

use std::time::{Duration, Instant};

/// A message read back from an SQS queue (on moto).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub body: String,
    pub attributes: std::collections::BTreeMap<String, String>,
}

/// Reads `queue_url` until `n` messages arrived, a receive comes back empty, or 20 s
/// pass. Deletes nothing: each message stays invisible for 5 minutes, so each is read
/// once. Every attribute must be a `String`, as the pipeline writes them all.
pub async fn read_queue(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    n: usize,
) -> Vec<QueuedMessage> {
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while out.len() < n && Instant::now() < deadline {
        let output = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(300)
            .message_attribute_names("All")
            .send()
            .await
            .expect("ReceiveMessage");
        if output.messages().is_empty() {
            break;
        }
        for m in output.messages() {
            let attributes = m
                .message_attributes()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| {
                            assert_eq!(v.data_type(), "String", "attribute {k}");
                            (k.clone(), v.string_value().unwrap_or_default().to_string())
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(QueuedMessage {
                body: m.body().unwrap_or_default().to_string(),
                attributes,
            });
        }
    }
    out
}
