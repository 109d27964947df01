//! What SQS publishes to CloudWatch, put by hand into an emulator (moto): on AWS, SQS
//! publishes `AWS/SQS` metrics itself and CloudWatch refuses custom data in an `AWS/`
//! namespace, so this exists for tests only.

use std::time::Duration;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use okta_connect_core::time::UnixMillis;

/// Records `age` as queue `queue_name`'s `ApproximateAgeOfOldestMessage` at `at`, the
/// way SQS publishes it (namespace `AWS/SQS`, dimension `QueueName`, seconds). `config`
/// is the emulator's SDK configuration (an `&SdkConfig`).
///
/// # Panics
/// When the emulator refuses the datapoint: a test cannot go on without it.
pub async fn put_queue_age<C>(config: C, queue_name: &str, at: UnixMillis, age: Duration)
where
    aws_sdk_cloudwatch::Config: From<C>,
{
    aws_sdk_cloudwatch::Client::from_conf(aws_sdk_cloudwatch::Config::from(config))
        .put_metric_data()
        .namespace("AWS/SQS")
        .metric_data(
            MetricDatum::builder()
                .metric_name("ApproximateAgeOfOldestMessage")
                .dimensions(
                    Dimension::builder()
                        .name("QueueName")
                        .value(queue_name)
                        .build(),
                )
                .timestamp(DateTime::from_millis(at.0))
                .value(age.as_secs_f64())
                .unit(StandardUnit::Seconds)
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("the emulator refused a datapoint for {queue_name}: {e:?}"));
}
