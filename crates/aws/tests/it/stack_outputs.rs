//! A deployed stack's outputs read back from CloudFormation on moto through the real
//! SDK: a stack created from a small template (an SQS queue with its dead-letter queue
//! and a DynamoDB table, with the outputs the CDK stack declares), a missing stack, a
//! deleted one, and a stack without some of the outputs.

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::StackStatus;
use okta_connect_aws::cloudformation::{StackError, StackOutputs};
use okta_connect_core::ports::ErrorClass;
use okta_connect_testkit::contract::ledger::unique;
use serde_json::json;

use crate::support::{self, moto};

/// The output keys of infra/lib/stack.ts the operator's commands read.
const OUTPUTS: [&str; 3] = ["QueueUrl", "DeadLetterQueueUrl", "LedgerTableName"];

/// A template with the queue, its DLQ and the ledger table named after `prefix`, and
/// the outputs of `outputs` only.
fn template(prefix: &str, outputs: &[&str]) -> String {
    let all = json!({
        "QueueUrl": { "Value": { "Ref": "Queue" } },
        "DeadLetterQueueUrl": { "Value": { "Ref": "DeadLetterQueue" } },
        "LedgerTableName": { "Value": { "Ref": "Ledger" } },
    });
    let outputs: serde_json::Map<String, serde_json::Value> = outputs
        .iter()
        .map(|key| (key.to_string(), all[key].clone()))
        .collect();
    json!({
        "Resources": {
            "DeadLetterQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": { "QueueName": format!("{prefix}-dlq") }
            },
            "Queue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "QueueName": prefix,
                    "RedrivePolicy": {
                        "deadLetterTargetArn": { "Fn::GetAtt": ["DeadLetterQueue", "Arn"] },
                        "maxReceiveCount": 5
                    }
                }
            },
            "Ledger": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": format!("{prefix}-ledger"),
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{ "AttributeName": "pk", "AttributeType": "S" }],
                    "KeySchema": [{ "AttributeName": "pk", "KeyType": "HASH" }]
                }
            }
        },
        "Outputs": outputs
    })
    .to_string()
}

/// Creates stack `name` from `template`; returns its stack id.
async fn create_stack(client: &Client, name: &str, template: String) -> String {
    let created = client
        .create_stack()
        .stack_name(name)
        .template_body(template)
        .send()
        .await
        .unwrap();
    let status = client
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .unwrap()
        .stacks()[0]
        .stack_status()
        .cloned();
    assert_eq!(status, Some(StackStatus::CreateComplete));
    created.stack_id().unwrap().to_string()
}

#[tokio::test]
async fn a_stack_s_outputs_are_read_back() {
    let moto = moto();
    let config = support::config(&moto).await;
    let name = unique("stack");
    let prefix = unique("stackq");
    let stack_id = create_stack(&Client::new(&config), &name, template(&prefix, &OUTPUTS)).await;

    let reader = StackOutputs::from_config(&config);
    let outputs = reader.read(&name).await.unwrap();
    assert_eq!(
        outputs.keys().map(String::as_str).collect::<Vec<_>>(),
        ["DeadLetterQueueUrl", "LedgerTableName", "QueueUrl"]
    );
    assert_eq!(outputs["LedgerTableName"], format!("{prefix}-ledger"));
    assert!(
        outputs["QueueUrl"].ends_with(&format!("/{prefix}")),
        "{outputs:?}"
    );
    assert!(
        outputs["DeadLetterQueueUrl"].ends_with(&format!("/{prefix}-dlq")),
        "{outputs:?}"
    );
    // The resources behind the outputs exist.
    aws_sdk_sqs::Client::new(&config)
        .get_queue_url()
        .queue_name(format!("{prefix}-dlq"))
        .send()
        .await
        .unwrap();
    aws_sdk_dynamodb::Client::new(&config)
        .describe_table()
        .table_name(&outputs["LedgerTableName"])
        .send()
        .await
        .unwrap();

    // `require` with every key present is the same map; the stack id names it too.
    assert_eq!(reader.require(&name, &OUTPUTS).await.unwrap(), outputs);
    assert_eq!(reader.read(&stack_id).await.unwrap(), outputs);
    assert_eq!(reader.requests(), 3, "one DescribeStacks per read");
}

#[tokio::test]
async fn a_missing_stack_is_not_found_and_names_stack_and_region() {
    let moto = moto();
    let config = support::config(&moto).await;
    let reader = StackOutputs::from_config(&config);
    let name = unique("no-such-stack");
    let err = reader.read(&name).await.unwrap_err();
    match &err {
        StackError::NotFound {
            stack,
            region,
            detail,
        } => {
            assert_eq!(stack, &name);
            assert_eq!(region, "us-east-1");
            assert!(detail.starts_with("ValidationError: "), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Permanent);
    let text = err.to_string();
    assert!(text.contains(&name) && text.contains("us-east-1"), "{text}");
    // `require` fails the same way, before any output is looked at.
    assert!(matches!(
        reader.require(&name, &OUTPUTS).await,
        Err(StackError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_deleted_stack_named_by_its_id_is_not_found() {
    let moto = moto();
    let config = support::config(&moto).await;
    let client = Client::new(&config);
    let name = unique("stack");
    let stack_id = create_stack(&client, &name, template(&unique("stackq"), &OUTPUTS)).await;
    client
        .delete_stack()
        .stack_name(&name)
        .send()
        .await
        .unwrap();
    let reader = StackOutputs::from_config(&config);
    match reader.read(&stack_id).await {
        Err(StackError::NotFound { stack, detail, .. }) => {
            assert_eq!(stack, stack_id);
            assert_eq!(detail, "it was deleted");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        reader.read(&name).await,
        Err(StackError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_stack_without_an_output_is_an_error_naming_the_missing_keys() {
    let moto = moto();
    let config = support::config(&moto).await;
    let name = unique("stack");
    create_stack(
        &Client::new(&config),
        &name,
        template(&unique("stackq"), &["QueueUrl"]),
    )
    .await;
    let reader = StackOutputs::from_config(&config);
    // Reading is not requiring: the one output is there.
    assert_eq!(reader.read(&name).await.unwrap().len(), 1);
    let err = reader.require(&name, &OUTPUTS).await.unwrap_err();
    assert_eq!(
        err,
        StackError::MissingOutputs {
            stack: name.clone(),
            region: "us-east-1".into(),
            status: "CREATE_COMPLETE".into(),
            missing: vec!["DeadLetterQueueUrl".into(), "LedgerTableName".into()],
        }
    );
    assert_eq!(
        err.to_string(),
        format!(
            "CloudFormation stack {name} in region us-east-1 (status CREATE_COMPLETE) has no \
             outputs DeadLetterQueueUrl, LedgerTableName"
        )
    );
}

#[tokio::test]
async fn an_invalid_name_sends_nothing_and_an_unreachable_endpoint_is_transient() {
    let moto = moto();
    let reader = StackOutputs::from_config(&support::config(&moto).await);
    assert!(matches!(
        reader.read("okta_connect").await,
        Err(StackError::InvalidName { .. })
    ));
    assert_eq!(reader.requests(), 0);

    let unreachable = okta_connect_aws::sdk::load(&support::unreachable()).await;
    let err = StackOutputs::from_config(&unreachable)
        .read("OktaConnect")
        .await
        .unwrap_err();
    assert!(matches!(err, StackError::Unavailable { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Transient);
}
