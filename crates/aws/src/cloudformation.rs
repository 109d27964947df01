//! A deployed stack's outputs, read from AWS CloudFormation with one `DescribeStacks`:
//! how the operator's commands find the queues and the ledger of a stack by its name.
//!
//! Every call has the client's operation and attempt timeouts ([`sdk::load`] sets
//! them; a configuration without an operation timeout gets [`sdk::AwsSettings`]'s default
//! ones here), so a lookup never hangs.
//!
//! # How errors are classified
//!
//! CloudFormation's `DescribeStacks` models no error at all: the SDK's
//! `DescribeStacksError` has only its `Unhandled` variant, so there is no typed variant
//! to match. The error *code* ([`ProvideErrorMetadata::code`]) is therefore what is
//! matched first, and the HTTP status for every code not listed; the message text never
//! decides:
//!
//! - `ValidationError` is [`StackError::NotFound`]. CloudFormation answers a stack that
//!   does not exist (or no longer does, when named by name) with this code and the
//!   message "Stack with id NAME does not exist". The same code would also answer a
//!   malformed request, but the only input is the stack name, and a name that is not a
//!   valid CloudFormation stack name or stack id is refused here before any request
//!   ([`StackError::InvalidName`]); so for a request this adapter sends, the code means
//!   the stack is not there. The service's message is kept in the error.
//! - A stack named by its stack id that was deleted is listed with status
//!   `DELETE_COMPLETE`: also [`StackError::NotFound`].
//! - `AccessDenied` / `AccessDeniedException`, and any other answer with HTTP 401 or
//!   403 (`ExpiredToken`, `InvalidClientTokenId`, `SignatureDoesNotMatch` …), is
//!   [`StackError::Denied`]: permanent, an admin or fresh credentials must fix it.
//! - `Throttling` / `ThrottlingException` / `RequestLimitExceeded` (CloudFormation
//!   throttles with HTTP 400), HTTP 429 and 5xx, and no usable answer at all (timeout,
//!   connection failure, unreadable response) are [`StackError::Unavailable`]:
//!   transient.
//! - Anything else is [`StackError::Failed`]: permanent.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksError;
use aws_sdk_cloudformation::types::StackStatus;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use okta_connect_core::ports::ErrorClass;

use crate::sdk::{self, Classified, HttpResponse, RequestCounter, SdkError};

/// Why a stack's outputs could not be read. Every variant names the stack and the
/// region it was looked for in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StackError {
    /// Neither a stack name (a letter, then letters, digits and hyphens, at most 128)
    /// nor a stack id (an ARN). No request was sent.
    #[error(
        "{stack:?} is not a CloudFormation stack name (a letter, then letters, digits and \
         hyphens) nor a stack id"
    )]
    InvalidName { stack: String },
    #[error("CloudFormation stack {stack} does not exist in region {region} ({detail})")]
    NotFound {
        stack: String,
        region: String,
        detail: String,
    },
    #[error("not allowed to describe CloudFormation stack {stack} in region {region}: {detail}")]
    Denied {
        stack: String,
        region: String,
        detail: String,
    },
    /// Throttled, a server error, or no answer: may succeed if repeated.
    #[error(
        "CloudFormation is unavailable for stack {stack} in region {region} (try again): \
         {detail}"
    )]
    Unavailable {
        stack: String,
        region: String,
        detail: String,
    },
    /// The stack exists but lacks outputs the caller needs (an older template, or a
    /// stack still being created).
    #[error(
        "CloudFormation stack {stack} in region {region} (status {status}) has no output{} {}",
        if missing.len() == 1 { "" } else { "s" },
        missing.join(", ")
    )]
    MissingOutputs {
        stack: String,
        region: String,
        status: String,
        missing: Vec<String>,
    },
    #[error("cannot describe CloudFormation stack {stack} in region {region}: {detail}")]
    Failed {
        stack: String,
        region: String,
        detail: String,
    },
}

impl StackError {
    /// Transient for [`Unavailable`](Self::Unavailable) only.
    pub fn class(&self) -> ErrorClass {
        match self {
            StackError::Unavailable { .. } => ErrorClass::Transient,
            _ => ErrorClass::Permanent,
        }
    }
}

/// Reads the outputs of deployed stacks through one CloudFormation client.
#[derive(Debug, Clone)]
pub struct StackOutputs {
    client: Client,
    requests: RequestCounter,
}

impl StackOutputs {
    /// A reader with a client built from `config` (see [`sdk::load`]).
    pub fn from_config(config: &SdkConfig) -> Self {
        let requests = RequestCounter::new();
        Self {
            client: sdk::cloudformation_client(config, &requests),
            requests,
        }
    }

    /// A reader on an existing client, rebuilt with this reader's request counter (and
    /// the default timeouts if it has no operation timeout).
    pub fn new(client: &Client) -> Self {
        let requests = RequestCounter::new();
        Self {
            client: sdk::counted_cloudformation_client(client, &requests),
            requests,
        }
    }

    /// The CloudFormation client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// CloudFormation requests sent so far by this reader and its clones.
    pub fn requests(&self) -> u64 {
        self.requests.get()
    }

    /// The region requests go to, for messages (`"(no region)"` when none is set).
    pub fn region(&self) -> String {
        sdk::region_name(self.client.config().region())
    }

    /// Every output of stack `stack_name` (a stack name or stack id), key → value, with
    /// one `DescribeStacks`.
    pub async fn read(&self, stack_name: &str) -> Result<BTreeMap<String, String>, StackError> {
        self.describe(stack_name).await.map(|stack| stack.outputs)
    }

    /// The outputs of stack `stack_name`, which must hold every key of `required`
    /// (otherwise [`StackError::MissingOutputs`] lists those it lacks).
    pub async fn require(
        &self,
        stack_name: &str,
        required: &[&str],
    ) -> Result<BTreeMap<String, String>, StackError> {
        let stack = self.describe(stack_name).await?;
        stack.require(required)?;
        Ok(stack.outputs)
    }

    /// Stack `stack_name` as one `DescribeStacks` reports it: its status and outputs.
    pub async fn describe(&self, stack_name: &str) -> Result<Stack, StackError> {
        if !is_stack_name_or_id(stack_name) {
            return Err(StackError::InvalidName {
                stack: stack_name.to_string(),
            });
        }
        let region = self.region();
        let output = self
            .client
            .describe_stacks()
            .stack_name(stack_name)
            .send()
            .await
            .map_err(|err| stack_error(stack_name, &region, &err))?;
        let not_found = |detail: &str| StackError::NotFound {
            stack: stack_name.to_string(),
            region: region.clone(),
            detail: detail.to_string(),
        };
        let stack = output
            .stacks()
            .first()
            .ok_or_else(|| not_found("DescribeStacks listed no stack"))?;
        let status = stack.stack_status();
        if status == Some(&StackStatus::DeleteComplete) {
            return Err(not_found("it was deleted"));
        }
        let outputs = stack
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
            .collect();
        Ok(Stack {
            name: stack_name.to_string(),
            region,
            status: status.map_or_else(|| "unknown".to_string(), |s| s.as_str().to_string()),
            outputs,
        })
    }
}

/// A deployed stack as `DescribeStacks` reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    /// The name (or stack id) it was looked up by.
    pub name: String,
    /// The region it was found in.
    pub region: String,
    /// Its status, e.g. `CREATE_COMPLETE`, `UPDATE_ROLLBACK_COMPLETE`.
    pub status: String,
    /// Its outputs, key → value.
    pub outputs: BTreeMap<String, String>,
}

impl Stack {
    /// The value of output `key`.
    pub fn output(&self, key: &str) -> Option<&str> {
        self.outputs.get(key).map(String::as_str)
    }

    /// [`StackError::MissingOutputs`] naming the keys of `required` the stack lacks (in
    /// `required`'s order), if any.
    pub fn require(&self, required: &[&str]) -> Result<(), StackError> {
        let missing: Vec<String> = required
            .iter()
            .filter(|key| !self.outputs.contains_key(**key))
            .map(|key| key.to_string())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(StackError::MissingOutputs {
                stack: self.name.clone(),
                region: self.region.clone(),
                status: self.status.clone(),
                missing,
            })
        }
    }
}

/// Whether `name` may be sent to `DescribeStacks`: a stack name (a letter, then
/// letters, digits and hyphens, at most 128 characters) or a stack id (an ARN).
pub fn is_stack_name_or_id(name: &str) -> bool {
    if name.starts_with("arn:") {
        return name.len() <= 2048 && !name.contains(char::is_whitespace);
    }
    name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// What an error code of `DescribeStacks` means (the operation models no error types:
/// see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    NotFound,
    Denied,
    Throttled,
}

fn code_of(err: &DescribeStacksError) -> Option<Code> {
    match err.code()? {
        "ValidationError" => Some(Code::NotFound),
        "AccessDenied" | "AccessDeniedException" => Some(Code::Denied),
        "Throttling" | "ThrottlingException" | "RequestLimitExceeded" => Some(Code::Throttled),
        _ => None,
    }
}

/// The adapter's error for a failed `DescribeStacks` on `stack` in `region`.
fn stack_error(
    stack: &str,
    region: &str,
    err: &SdkError<DescribeStacksError, HttpResponse>,
) -> StackError {
    let stack = stack.to_string();
    let region = region.to_string();
    let detail = sdk::describe(err);
    match sdk::classify(err, code_of) {
        Classified::Typed(Code::NotFound) => StackError::NotFound {
            stack,
            region,
            detail,
        },
        Classified::Typed(Code::Denied) | Classified::Status(401 | 403) => StackError::Denied {
            stack,
            region,
            detail,
        },
        Classified::Typed(Code::Throttled) | Classified::Transport => StackError::Unavailable {
            stack,
            region,
            detail,
        },
        Classified::Status(status) => match sdk::status_class(status) {
            ErrorClass::Transient => StackError::Unavailable {
                stack,
                region,
                detail,
            },
            ErrorClass::Permanent => StackError::Failed {
                stack,
                region,
                detail,
            },
        },
        Classified::Construction => StackError::Failed {
            stack,
            region,
            detail,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::AwsSettings;
    use aws_sdk_cloudformation::error::ErrorMetadata;
    use aws_smithy_runtime_api::client::result::{ConstructionFailure, TimeoutError};
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    fn answer(
        code: &str,
        message: &str,
        status: u16,
    ) -> SdkError<DescribeStacksError, HttpResponse> {
        let err = DescribeStacksError::generic(
            ErrorMetadata::builder().code(code).message(message).build(),
        );
        SdkError::service_error(
            err,
            HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty()),
        )
    }

    fn kind(err: &StackError) -> &'static str {
        match err {
            StackError::InvalidName { .. } => "invalid",
            StackError::NotFound { .. } => "not found",
            StackError::Denied { .. } => "denied",
            StackError::Unavailable { .. } => "unavailable",
            StackError::MissingOutputs { .. } => "missing",
            StackError::Failed { .. } => "failed",
        }
    }

    #[test]
    fn answers_are_classified_by_code_then_status() {
        for (code, status, expected) in [
            ("ValidationError", 400, "not found"),
            ("AccessDenied", 403, "denied"),
            ("AccessDeniedException", 400, "denied"),
            ("ExpiredToken", 403, "denied"),
            ("InvalidClientTokenId", 403, "denied"),
            ("Throttling", 400, "unavailable"),
            ("RequestLimitExceeded", 400, "unavailable"),
            ("InternalFailure", 500, "unavailable"),
            ("ServiceUnavailable", 503, "unavailable"),
            ("SomethingNew", 429, "unavailable"),
            ("SomethingNew", 400, "failed"),
        ] {
            let err = stack_error("OktaConnect", "eu-west-1", &answer(code, "m", status));
            assert_eq!(kind(&err), expected, "{code} {status}");
            let transient = expected == "unavailable";
            assert_eq!(err.class() == ErrorClass::Transient, transient, "{code}");
        }
    }

    #[test]
    fn the_message_never_decides() {
        // A throttling code with a "does not exist" message is still throttling.
        let err = stack_error(
            "S",
            "r",
            &answer("Throttling", "Stack with id S does not exist", 400),
        );
        assert_eq!(kind(&err), "unavailable");
    }

    #[test]
    fn no_answer_is_transient_and_an_unbuildable_request_permanent() {
        let timeout: SdkError<DescribeStacksError, HttpResponse> =
            SdkError::TimeoutError(TimeoutError::builder().source("slow").build());
        assert_eq!(kind(&stack_error("S", "r", &timeout)), "unavailable");
        let unbuilt: SdkError<DescribeStacksError, HttpResponse> = SdkError::ConstructionFailure(
            ConstructionFailure::builder().source("no region").build(),
        );
        assert_eq!(kind(&stack_error("S", "r", &unbuilt)), "failed");
    }

    #[test]
    fn errors_name_the_stack_the_region_and_the_service_answer() {
        let err = stack_error(
            "OktaConnect",
            "eu-west-1",
            &answer(
                "ValidationError",
                "Stack with id OktaConnect does not exist",
                400,
            ),
        );
        let text = err.to_string();
        assert!(text.contains("OktaConnect"), "{text}");
        assert!(text.contains("eu-west-1"), "{text}");
        assert!(text.contains("does not exist (HTTP 400)"), "{text}");
    }

    #[test]
    fn missing_outputs_are_listed_in_the_order_asked() {
        let stack = Stack {
            name: "S".into(),
            region: "eu-west-1".into(),
            status: "UPDATE_COMPLETE".into(),
            outputs: [("QueueUrl".to_string(), "u".to_string())]
                .into_iter()
                .collect(),
        };
        assert_eq!(stack.require(&["QueueUrl"]), Ok(()));
        assert_eq!(stack.output("QueueUrl"), Some("u"));
        let err = stack
            .require(&["QueueUrl", "LedgerTableName", "DeadLetterQueueUrl"])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "CloudFormation stack S in region eu-west-1 (status UPDATE_COMPLETE) has no outputs \
             LedgerTableName, DeadLetterQueueUrl"
        );
    }

    #[tokio::test]
    async fn every_reader_has_an_operation_timeout() {
        use aws_config::{BehaviorVersion, Region};
        use std::time::Duration;

        let timeout = |reader: &StackOutputs| {
            reader
                .client()
                .config()
                .timeout_config()
                .and_then(|t| t.operation_timeout())
        };
        // A configuration without timeouts gets the default ones …
        let bare = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .build();
        let reader = StackOutputs::from_config(&bare);
        assert_eq!(
            timeout(&reader),
            Some(AwsSettings::default().operation_timeout)
        );
        assert_eq!(reader.region(), "eu-west-1");
        let bare_client = Client::new(&bare);
        assert_eq!(
            timeout(&StackOutputs::new(&bare_client)),
            Some(AwsSettings::default().operation_timeout)
        );
        // … and the timeouts of `sdk::load` are kept.
        let loaded = sdk::load(&AwsSettings {
            operation_timeout: Duration::from_secs(42),
            ..AwsSettings::emulator("http://127.0.0.1:1")
        })
        .await;
        let reader = StackOutputs::from_config(&loaded);
        assert_eq!(timeout(&reader), Some(Duration::from_secs(42)));
        assert_eq!(
            timeout(&StackOutputs::new(reader.client())),
            Some(Duration::from_secs(42))
        );
    }

    #[test]
    fn stack_names_and_ids_are_checked_before_any_request() {
        for ok in [
            "OktaConnect",
            "a",
            "Okta-Connect-2",
            "arn:aws:cloudformation:eu-west-1:123456789012:stack/OktaConnect/1f2e",
        ] {
            assert!(is_stack_name_or_id(ok), "{ok}");
        }
        for bad in ["", "1stack", "okta_connect", "-x", "a b", &"a".repeat(129)] {
            assert!(!is_stack_name_or_id(bad), "{bad}");
        }
    }
}
