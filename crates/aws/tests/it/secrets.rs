//! The hook secret read from Secrets Manager on moto through the real SDK.

use aws_sdk_secretsmanager::Client;
use okta_connect_aws::secrets::{SecretError, load, load_text};
use okta_connect_core::ports::ErrorClass;
use okta_connect_testkit::contract::ledger::unique;

use crate::support::{self, moto};

#[tokio::test]
async fn plain_and_rotating_secrets_are_read() {
    let moto = moto();
    let config = support::config(&moto).await;
    let client = Client::new(&config);
    let plain = unique("hook-secret");
    client
        .create_secret()
        .name(&plain)
        .secret_string("s3cr3t\n")
        .send()
        .await
        .unwrap();
    let values = load(&config, &plain).await.unwrap();
    assert_eq!((values.current.as_str(), values.previous), ("s3cr3t", None));

    let rotating = unique("hook-secret");
    client
        .create_secret()
        .name(&rotating)
        .secret_string(r#"{"current": "new", "previous": "old"}"#)
        .send()
        .await
        .unwrap();
    let values = load(&config, &rotating).await.unwrap();
    assert_eq!(values.current, "new");
    assert_eq!(values.previous.as_deref(), Some("old"));
}

#[tokio::test]
async fn a_missing_secret_is_permanent_and_an_unreachable_one_transient() {
    let moto = moto();
    let config = support::config(&moto).await;
    let missing = unique("no-such-secret");
    match load(&config, &missing).await {
        Err(SecretError::Unavailable { id, class, detail }) => {
            assert_eq!(id, missing);
            assert_eq!(class, ErrorClass::Permanent);
            assert!(detail.contains("ResourceNotFoundException"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    let unreachable = okta_connect_aws::sdk::load(&support::unreachable()).await;
    match load(&unreachable, "hook").await {
        Err(SecretError::Unavailable { class, .. }) => assert_eq!(class, ErrorClass::Transient),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_credential_is_read_verbatim_and_an_empty_secret_is_a_permanent_error() {
    let moto = moto();
    let config = support::config(&moto).await;
    let client = Client::new(&config);
    // A PEM key is JSON-free text with newlines: read exactly as stored.
    let pem = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
    let key = unique("okta-key");
    client
        .create_secret()
        .name(&key)
        .secret_string(pem)
        .send()
        .await
        .unwrap();
    assert_eq!(load_text(&config, &key).await.unwrap(), pem);

    // What the stack creates: a secret without a value until the admin fills it.
    let empty = unique("okta-key-empty");
    client.create_secret().name(&empty).send().await.unwrap();
    match load_text(&config, &empty).await {
        Err(SecretError::Unavailable { class, .. }) => assert_eq!(class, ErrorClass::Permanent),
        other => panic!("expected a permanent error, got {other:?}"),
    }
}
