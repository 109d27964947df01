//! Shared helpers for the integration tests: start a simulator, build real SDK clients.

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_connect::Client;
use aws_sdk_connect::config::{Credentials, Region};
use aws_sdk_connect::types::{PhoneType, UserIdentityInfo, UserPhoneConfig};
use connect_sim::seed::{
    AGENT_SECURITY_PROFILE_ID, DEFAULT_INSTANCE_ID, DEFAULT_ROUTING_PROFILE_ID,
};
use connect_sim::{SimBuilder, SimServer};

/// Starts a simulator on a free loopback port.
pub async fn start(builder: SimBuilder) -> SimServer {
    builder
        .build()
        .expect("simulator builds")
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator serves")
}

/// A real SDK client for `url` with SDK retries switched off, so each error is observed once.
pub async fn client(url: &str) -> Client {
    client_with_retry(url, RetryConfig::disabled()).await
}

/// A real SDK client for `url` with the given retry configuration.
pub async fn client_with_retry(url: &str, retry: RetryConfig) -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .retry_config(retry)
        .load()
        .await;
    Client::new(&config)
}

/// A CreateUser request for the default instance that the SAML rules accept.
pub fn create_user(
    client: &Client,
    username: &str,
) -> aws_sdk_connect::operation::create_user::builders::CreateUserFluentBuilder {
    client
        .create_user()
        .instance_id(DEFAULT_INSTANCE_ID)
        .username(username)
        .identity_info(
            UserIdentityInfo::builder()
                .first_name("Test")
                .last_name("User")
                .email(if username.contains('@') {
                    username.to_owned()
                } else {
                    format!("{username}@example.com")
                })
                .build(),
        )
        .phone_config(
            UserPhoneConfig::builder()
                .phone_type(PhoneType::SoftPhone)
                .build(),
        )
        .security_profile_ids(AGENT_SECURITY_PROFILE_ID)
        .routing_profile_id(DEFAULT_ROUTING_PROFILE_ID)
}

/// A unique temporary directory for one test.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("connect-sim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
