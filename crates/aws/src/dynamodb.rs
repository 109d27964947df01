//! The [`Ledger`] port on DynamoDB: one table, every decision a single conditional write,
//! so concurrent workers (Lambda invocations) can never both win a claim, a fact slot or
//! a user lease. Semantics are exactly those of
//! `okta_connect_testkit::memory::MemoryLedger`; the contract suite
//! `okta_connect_testkit::contract::ledger` holds both to them.
//!
//! # Table layout
//!
//! String keys `pk` (partition) and `sk` (sort); TTL attribute `expires_at` in epoch
//! **seconds** (rounded up, so DynamoDB never deletes an item before its expiry). TTL
//! deletion lags by up to 48 h, so expiry is always decided in code from `expires_at_ms`;
//! every other instant is stored in **milliseconds** too, with an `_ms` suffix, because
//! mixing units in a lease is a bug others shipped (PROTOCOLS.md §5).
//!
//! | item          | pk                 | sk            | attributes |
//! |---------------|--------------------|---------------|------------|
//! | event         | `EVENT#{uuid}`     | `EVENT`       | `state` (`IN_PROGRESS`, `COMPLETED`, `FAILED`), `lease_until_ms`, `expires_at_ms`, `expires_at`, `attempts`, `outcome`? (the [`Outcome`] as JSON), `about`? (the [`EventAbout`] as JSON), `updated_ms`?, `listing`? (always `EVENTS`) |
//! | newest fact   | `USER#{okta id}`   | `FACT#{slot}` | `published_ms`, `event_uuid`, `fact` (the [`Fact`] as JSON) |
//! | user metadata | `USER#{okta id}`   | `META`        | `connect_user_id`?, `lease_holder`?, `lease_until_ms`? |
//! | source binding | `SOURCES`         | `SOURCE#{slot}` | `binding` (the [`SourceBinding`] as JSON) |
//! | reconcile run | `RUNS`             | `RUN#{started_ms}#{run id}` | `run` (the [`RunRecord`] as JSON), `expires_at_ms`, `expires_at` |
//!
//! Every successful claim writes `about`; every claim, completion and failure writes
//! `updated_ms` (its `now`) and `listing`. A completion or failure leaves `about` as the
//! last claim wrote it (absent for an event finished without a claim). Items written
//! before the ledger kept `about` and `updated_ms` have neither (nor `listing`): they
//! read with `about` and `updated_at` `None`, and are not listed (they are not in the
//! index below) until their next claim, completion or failure.
//!
//! Items written before outcomes were typed carry a free-text `detail` instead of
//! `outcome`; they still read: a `FAILED` one as [`Outcome::Failed`] with that text as a
//! permanent failure's reason, a `COMPLETED` one with no outcome (`None`: what it did
//! was never recorded in a form this version can state). Every write of an outcome, and
//! every claim, removes `detail`, so an item never holds both.
//!
//! A run's `started_ms` in its sort key is zero-padded to 15 digits (up to the year
//! 33658), so the string order of the keys is the order of the start times; the same
//! start and run id is the same item, replaced. Its TTL is `finished_at` + retention.
//!
//! A user's facts and metadata share a partition, so [`Ledger::user_record`] is one
//! (paginated) strongly consistent `Query`.
//!
//! # Listing events
//!
//! One global secondary index, [`EVENTS_INDEX`] (`events-by-update`): partition key
//! `listing` (S), sort key `updated_ms` (N), projection `ALL`. Only event items carry
//! `listing`, always the constant `EVENTS`, so the index holds every event written by
//! this version and nothing else. [`Ledger::events`] is a `Query` of it with `listing =
//! EVENTS AND updated_ms >= since`, newest first (`ScanIndexForward = false`), page after
//! page; each item is filtered in Rust by [`EventQuery::matches`] (the one filter every
//! adapter uses) until `limit` records are found. Records updated in the same millisecond
//! come in no particular order.
//!
//! One constant partition keeps this to a single `Query`; its price is that every event
//! write is also a write to that one index partition, good for ~1,000 writes/s (a write
//! that moves `updated_ms` costs the index two: the old entry out, the new one in).
//! That is far above what reaches the ledger: Okta's event hooks deliver a few events
//! per second, and the worker is paced by Connect's 2 requests/s. (A throttled index
//! would throttle the table's writes too.)
//!
//! Index reads are **eventually consistent** (a global secondary index offers nothing
//! else): a record changed a moment ago may be listed in its previous state, or not yet.
//! That is fine for what lists them, an operator looking back over minutes or days;
//! every decision (claims, facts, leases) reads the table itself, strongly consistently.
//!
//! # Requests per call
//!
//! One request for every method on the worker's paths, with two rare exceptions in
//! `claim_event`: re-claiming a record that expired but was not yet deleted by TTL costs
//! two writes (the first, optimistic write cannot reset `attempts` to 1, so a second write
//! conditioned on the expiry does), and a lost race is resolved by at most a few more
//! conditional writes. The operator's reads: `events` is one `Query` page when it filters
//! nothing (a page of `limit` items); filtered by user or failure it reads as many pages
//! (each up to 1 MB) as it takes to find `limit` matches or reach `since`. `record_run`
//! is one write; `recent_runs` one `Query` (more only past 1 MB, thousands of runs).
//! [`DynamoLedger::requests`] counts the requests put on the wire (by an SDK interceptor,
//! one per attempt).
//!
//! # Claim
//!
//! `UpdateItem` with the condition "absent, or live and (`FAILED` or `IN_PROGRESS` with
//! a lease that ended)", `attempts = if_not_exists(attempts, 0) + 1`; on
//! `ConditionalCheckFailedException` the old item comes back with the error
//! (`ReturnValuesOnConditionCheckFailure = ALL_OLD`) and answers the claim: `COMPLETED`
//! → duplicate, live lease → busy, expired → the second form of the write (condition
//! `expires_at_ms <= now`, `attempts = 1`). While `IN_PROGRESS` the record expires 24 h
//! after the lease ends, so it always outlives its lease whatever the retention. Both
//! forms also set `about`, `updated_ms` and `listing`; a refused claim (duplicate, busy)
//! writes nothing.
//!
//! # Errors
//!
//! SDK errors are classified through [`sdk::classify`] by their typed variants, never by
//! message text: throttling, `InternalServerError` and write conflicts are transient; a
//! missing table is permanent; transport failures (timeouts, refused connections) are
//! transient; anything else is decided by HTTP status (5xx and 429 transient, the rest
//! permanent). An item that cannot be read back (missing attribute, corrupt fact or
//! outcome JSON) is a permanent error naming its key.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::describe_time_to_live::DescribeTimeToLiveError;
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::query::QueryError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_time_to_live::UpdateTimeToLiveError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ReturnValue, ReturnValuesOnConditionCheckFailure,
    ScalarAttributeType, TimeToLiveSpecification, TimeToLiveStatus,
};
use okta_connect_core::config::{BoundBy, SourceBinding};
use okta_connect_core::fact::{Fact, Recorded, UserFacts};
use okta_connect_core::outcome::{Failure, Outcome};
use okta_connect_core::ports::{
    Claim, ErrorClass, EventAbout, EventQuery, EventRecord, EventState, Ledger, LedgerError,
    RunRecord, UserRecord,
};
use okta_connect_core::time::UnixMillis;

use crate::sdk::{self, AwsSettings, HttpResponse, RequestCounter, SdkError};

/// One stored item: attribute name → value.
type Item = HashMap<String, AttributeValue>;

/// The TTL attribute (epoch seconds) that [`create_table`] enables.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// The global secondary index that lists events by when they last changed (see the
/// module doc). The CDK stack declares the same index (infra/lib/stack.ts).
pub const EVENTS_INDEX: &str = "events-by-update";
/// [`EVENTS_INDEX`]'s partition key, a string: [`EVENTS_LISTING`] on every event item.
pub const EVENTS_INDEX_PARTITION_KEY: &str = "listing";
/// [`EVENTS_INDEX`]'s sort key, a number: when the event item last changed (ms).
pub const EVENTS_INDEX_SORT_KEY: &str = "updated_ms";
/// The one value of [`EVENTS_INDEX_PARTITION_KEY`].
pub const EVENTS_LISTING: &str = "EVENTS";

/// How long an `IN_PROGRESS` record outlives its lease (the same as `MemoryLedger`), so
/// TTL never deletes a claim that is still held.
const IN_PROGRESS_GRACE: Duration = Duration::from_secs(24 * 3600);

/// Conditional writes tried before a claim that keeps losing races gives up
/// (transiently). Each lost round means another worker changed the record in between.
const MAX_CLAIM_ROUNDS: usize = 5;

/// How long [`create_table`] waits for a new table to become `ACTIVE`.
const TABLE_ACTIVE_WAIT: Duration = Duration::from_secs(120);

const STATE_IN_PROGRESS: &str = "IN_PROGRESS";
const STATE_COMPLETED: &str = "COMPLETED";
const STATE_FAILED: &str = "FAILED";

const EVENT_PK_PREFIX: &str = "EVENT#";
const EVENT_SK: &str = "EVENT";
const META_SK: &str = "META";
const FACT_SK_PREFIX: &str = "FACT#";
/// One partition holds every source binding: a handful of items, read in one query.
const SOURCES_PK: &str = "SOURCES";
const SOURCE_SK_PREFIX: &str = "SOURCE#";
/// One partition holds every reconcile run, sorted by start time.
const RUNS_PK: &str = "RUNS";
const RUN_SK_PREFIX: &str = "RUN#";
/// The largest start time (ms) a run's sort key holds: 15 digits.
const MAX_RUN_STARTED_MS: i64 = 999_999_999_999_999;

/// Aliases for every attribute name used in expressions, so no expression ever collides
/// with DynamoDB's long list of reserved words (`STATE` is one).
const NAMES: &[(&str, &str)] = &[
    ("#pk", "pk"),
    ("#state", "state"),
    ("#lease", "lease_until_ms"),
    ("#exp_ms", "expires_at_ms"),
    ("#exp", "expires_at"),
    ("#attempts", "attempts"),
    ("#detail", "detail"),
    ("#outcome", "outcome"),
    ("#published", "published_ms"),
    ("#uuid", "event_uuid"),
    ("#holder", "lease_holder"),
    ("#connect", "connect_user_id"),
    ("#about", "about"),
    ("#updated", EVENTS_INDEX_SORT_KEY),
    ("#listing", EVENTS_INDEX_PARTITION_KEY),
];

/// The DynamoDB [`Ledger`]. Cheap to clone; clones share the client and the request
/// counter.
#[derive(Debug, Clone)]
pub struct DynamoLedger {
    client: Client,
    table: String,
    requests: RequestCounter,
    /// The most items one `Query` page may return (`user_record`, `source_bindings`,
    /// `events`, `recent_runs`); `None` lets DynamoDB fill 1 MB pages (or, where every
    /// item read is returned, asks for just as many as wanted).
    query_page_size: Option<i32>,
}

impl DynamoLedger {
    /// A ledger on `table` (which must exist: CDK creates it in AWS, [`create_table`] in
    /// tests and local runs), with a client built from `config` (see [`sdk::load`]).
    /// Build it once per process and share it.
    pub fn from_config(config: &SdkConfig, table: impl Into<String>) -> Self {
        let requests = RequestCounter::new();
        Self {
            client: sdk::dynamodb_client(config, &requests),
            table: table.into(),
            requests,
            query_page_size: None,
        }
    }

    /// A ledger on an existing client, rebuilt with this ledger's request counter
    /// (prefer [`from_config`](Self::from_config)).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let requests = RequestCounter::new();
        Self {
            client: sdk::counted_dynamodb_client(&client, &requests),
            table: table.into(),
            requests,
            query_page_size: None,
        }
    }

    /// [`from_config`](Self::from_config) with the configuration loaded from `settings`
    /// (region, timeouts, retries, emulator endpoint).
    pub async fn connect(settings: &AwsSettings, table: impl Into<String>) -> Self {
        Self::from_config(&sdk::load(settings).await, table)
    }

    /// Caps how many items one `Query` page returns ([`Ledger::user_record`],
    /// [`Ledger::source_bindings`], [`Ledger::events`], [`Ledger::recent_runs`]). Only
    /// useful to exercise pagination in tests; production leaves pages at DynamoDB's
    /// 1 MB.
    pub fn with_query_page_size(mut self, items: i32) -> Self {
        self.query_page_size = Some(items);
        self
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The DynamoDB client (tests use it to inspect or corrupt raw items).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// DynamoDB requests sent so far by this ledger and its clones (counted on the
    /// wire, one per attempt).
    pub fn requests(&self) -> u64 {
        self.requests.get()
    }

    /// Every item of the user partition `pk` (facts and META), all pages, read
    /// consistently: a user has a handful.
    async fn user_items(&self, pk: &str) -> Result<Vec<Item>, LedgerError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_values(":pk", s(pk))
            .consistent_read(true)
            .set_limit(self.query_page_size);
        let mut items = Vec::new();
        self.query_pages(query, pk, |item| {
            items.push(item);
            Ok(false)
        })
        .await?;
        Ok(items)
    }

    /// Sends `query` page after page (`key` names what it reads, for errors), handing
    /// each item to `take` in order, until the last page or until `take` answers
    /// `Ok(true)`: it has enough.
    async fn query_pages(
        &self,
        query: QueryFluentBuilder,
        key: &str,
        mut take: impl FnMut(Item) -> Result<bool, LedgerError>,
    ) -> Result<(), LedgerError> {
        let mut start: Option<Item> = None;
        loop {
            let out = query
                .clone()
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.error("Query", key, e))?;
            for item in out.items.unwrap_or_default() {
                if take(item)? {
                    return Ok(());
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(()),
            }
        }
    }

    fn error<E: Typed>(&self, op: &str, key: &str, err: SdkError<E, HttpResponse>) -> LedgerError {
        ledger_error(op, &self.table, key, err)
    }

    /// The event item, strongly consistent, or `None`.
    async fn event_item(&self, uuid: &str) -> Result<Option<Item>, LedgerError> {
        let pk = event_pk(uuid);
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .key("sk", s(EVENT_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error("GetItem", &pk, e))?;
        Ok(out.item)
    }

    /// One claim write. `Ok(Ok(attempt))`: claimed. `Ok(Err(old))`: the condition failed;
    /// `old` is the item as it stood (`None` if DynamoDB did not return it).
    /// `about` is the [`EventAbout`] as JSON.
    async fn claim_write(
        &self,
        uuid: &str,
        about: &str,
        form: ClaimForm,
        now: UnixMillis,
        lease: Duration,
    ) -> Result<Result<u32, Option<Item>>, LedgerError> {
        let pk = event_pk(uuid);
        let lease_until = now.plus(lease);
        let expires = lease_until.plus(IN_PROGRESS_GRACE);
        let (condition, attempts) = match form {
            ClaimForm::NewOrClaimable => (
                "attribute_not_exists(#pk) OR (#exp_ms > :now AND (#state = :failed \
                 OR (#state = :in_progress AND #lease <= :now)))",
                "if_not_exists(#attempts, :zero) + :one",
            ),
            ClaimForm::Expired => ("#exp_ms <= :now", ":one"),
        };
        let update = format!(
            "SET #state = :in_progress, #lease = :until, #exp_ms = :exp_ms, #exp = :exp, \
             #attempts = {attempts}, #about = :about, #updated = :now, #listing = :listing \
             REMOVE #detail, #outcome"
        );
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .key("sk", s(EVENT_SK))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_values(":in_progress", s(STATE_IN_PROGRESS))
            .expression_attribute_values(":until", n(lease_until.0))
            .expression_attribute_values(":exp_ms", n(expires.0))
            .expression_attribute_values(":exp", n(expires.as_epoch_seconds_ceil()))
            .expression_attribute_values(":now", n(now.0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":about", s(about))
            .expression_attribute_values(":listing", s(EVENTS_LISTING))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        request = match form {
            ClaimForm::NewOrClaimable => request
                .expression_attribute_values(":failed", s(STATE_FAILED))
                .expression_attribute_values(":zero", n(0)),
            ClaimForm::Expired => request,
        };
        // DynamoDB rejects aliases an expression does not use: only the first form
        // mentions `#pk`.
        let aliases = match form {
            ClaimForm::NewOrClaimable => {
                "#pk #state #lease #exp_ms #exp #attempts #detail #outcome #about #updated #listing"
            }
            ClaimForm::Expired => {
                "#state #lease #exp_ms #exp #attempts #detail #outcome #about #updated #listing"
            }
        };
        request = with_names(request, aliases, |r, alias, name| {
            r.expression_attribute_names(alias, name)
        });
        match request.send().await {
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                let attempt = Reader::new(&item, &pk).number("attempts")?;
                let attempt = u32::try_from(attempt).map_err(|_| corrupt(&pk, "attempts"))?;
                Ok(Ok(attempt))
            }
            Err(err) => {
                if let Some(UpdateItemError::ConditionalCheckFailedException(e)) =
                    err.as_service_error()
                {
                    return Ok(Err(e.item.clone()));
                }
                Err(self.error("UpdateItem", &pk, err))
            }
        }
    }

    /// Marks an event finished (`COMPLETED` or `FAILED`) with its outcome. Like
    /// `MemoryLedger`, an event that was never claimed is recorded as attempt 1.
    async fn finish(
        &self,
        uuid: &str,
        state: &str,
        outcome: &Outcome,
        now: UnixMillis,
        retention: Duration,
    ) -> Result<(), LedgerError> {
        let pk = event_pk(uuid);
        let expires = now.plus(retention);
        let outcome = serde_json::to_string(outcome).map_err(|e| {
            LedgerError::Permanent(format!("cannot serialise the outcome of {pk}: {e}"))
        })?;
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .key("sk", s(EVENT_SK))
            .update_expression(
                "SET #state = :state, #outcome = :outcome, #lease = :zero, #exp_ms = :exp_ms, \
                 #exp = :exp, #attempts = if_not_exists(#attempts, :one), #updated = :now, \
                 #listing = :listing REMOVE #detail",
            )
            .expression_attribute_values(":state", s(state))
            .expression_attribute_values(":outcome", s(outcome))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":exp_ms", n(expires.0))
            .expression_attribute_values(":exp", n(expires.as_epoch_seconds_ceil()))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now.0))
            .expression_attribute_values(":listing", s(EVENTS_LISTING));
        let request = with_names(
            request,
            "#state #outcome #lease #exp_ms #exp #attempts #detail #updated #listing",
            |r, alias, name| r.expression_attribute_names(alias, name),
        );
        request
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error("UpdateItem", &pk, e))
    }
}

/// The two shapes of the claim write (see the module doc).
#[derive(Debug, Clone, Copy)]
enum ClaimForm {
    /// Absent, or live and claimable: `attempts` counts on.
    NewOrClaimable,
    /// Past its expiry: claimed afresh as attempt 1.
    Expired,
}

impl Ledger for DynamoLedger {
    async fn claim_event(
        &self,
        uuid: &str,
        about: &EventAbout,
        now: UnixMillis,
        lease: Duration,
    ) -> Result<Claim, LedgerError> {
        let about = serde_json::to_string(about).map_err(|e| {
            LedgerError::Permanent(format!(
                "cannot serialise what {} is about: {e}",
                event_pk(uuid)
            ))
        })?;
        let mut form = ClaimForm::NewOrClaimable;
        for _ in 0..MAX_CLAIM_ROUNDS {
            let old = match self.claim_write(uuid, &about, form, now, lease).await? {
                Ok(attempt) => return Ok(Claim::Claimed { attempt }),
                Err(Some(old)) => Some(old),
                // Not returned with the error (or gone since): look it up.
                Err(None) => self.event_item(uuid).await?,
            };
            form = match old {
                None => ClaimForm::NewOrClaimable,
                Some(item) => {
                    let record = parse_event(uuid, &item)?;
                    if record.expires_at <= now {
                        ClaimForm::Expired
                    } else {
                        match record.state {
                            EventState::Completed => return Ok(Claim::Completed(record)),
                            EventState::InProgress if record.lease_until > now => {
                                return Ok(Claim::Busy {
                                    lease_until: record.lease_until,
                                });
                            }
                            // Claimable now: it changed between our write and the read.
                            EventState::InProgress | EventState::Failed => {
                                ClaimForm::NewOrClaimable
                            }
                        }
                    }
                }
            };
        }
        Err(LedgerError::Transient(format!(
            "DynamoDB claim of {} in table {}: lost {MAX_CLAIM_ROUNDS} races in a row",
            event_pk(uuid),
            self.table
        )))
    }

    async fn complete_event(
        &self,
        uuid: &str,
        outcome: &Outcome,
        now: UnixMillis,
        retention: Duration,
    ) -> Result<(), LedgerError> {
        self.finish(uuid, STATE_COMPLETED, outcome, now, retention)
            .await
    }

    async fn fail_event(
        &self,
        uuid: &str,
        failure: &Failure,
        now: UnixMillis,
        retention: Duration,
    ) -> Result<(), LedgerError> {
        let outcome = Outcome::Failed(failure.clone());
        self.finish(uuid, STATE_FAILED, &outcome, now, retention)
            .await
    }

    async fn release_event(&self, uuid: &str) -> Result<(), LedgerError> {
        let pk = event_pk(uuid);
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .key("sk", s(EVENT_SK))
            .update_expression("SET #lease = :zero")
            .condition_expression("#state = :in_progress")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":in_progress", s(STATE_IN_PROGRESS));
        let request = with_names(request, "#lease #state", |r, alias, name| {
            r.expression_attribute_names(alias, name)
        });
        match request.send().await {
            Ok(_) => Ok(()),
            // Unknown or already finished: nothing to release.
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(self.error("UpdateItem", &pk, err)),
        }
    }

    async fn event_record(&self, uuid: &str) -> Result<Option<EventRecord>, LedgerError> {
        self.event_item(uuid)
            .await?
            .map(|item| parse_event(uuid, &item))
            .transpose()
    }

    async fn events(&self, query: &EventQuery) -> Result<Vec<EventRecord>, LedgerError> {
        let mut listed = Vec::new();
        if query.limit == 0 {
            return Ok(listed);
        }
        // Unfiltered, every item read is listed: a page of `limit` items is the answer.
        // Filtered, how many items it takes is unknown: let DynamoDB fill its pages.
        let unfiltered = query.okta_user.is_none() && !query.failed_only;
        let page = if unfiltered {
            Some(page_limit(query.limit, self.query_page_size))
        } else {
            self.query_page_size
        };
        let index = format!("index {EVENTS_INDEX}");
        let query_request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(EVENTS_INDEX)
            .key_condition_expression("#listing = :listing AND #updated >= :since")
            .expression_attribute_names("#listing", EVENTS_INDEX_PARTITION_KEY)
            .expression_attribute_names("#updated", EVENTS_INDEX_SORT_KEY)
            .expression_attribute_values(":listing", s(EVENTS_LISTING))
            .expression_attribute_values(":since", n(query.since.0))
            .scan_index_forward(false)
            .set_limit(page);
        self.query_pages(query_request, &index, |item| {
            let record = parse_listed_event(&item)?;
            let since = record.updated_at.is_some_and(|at| at >= query.since);
            if since && query.matches(&record) {
                listed.push(record);
            }
            Ok(listed.len() >= query.limit)
        })
        .await?;
        Ok(listed)
    }

    async fn record_run(&self, run: &RunRecord, retention: Duration) -> Result<(), LedgerError> {
        let sk = run_sk(run)?;
        let key = format!("{RUNS_PK}/{sk}");
        let json = serde_json::to_string(run)
            .map_err(|e| LedgerError::Permanent(format!("cannot serialise run {key}: {e}")))?;
        let expires = run.finished_at.plus(retention);
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(RUNS_PK))
            .item("sk", s(&sk))
            .item("run", s(json))
            .item("expires_at_ms", n(expires.0))
            .item(TTL_ATTRIBUTE, n(expires.as_epoch_seconds_ceil()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error("PutItem", &key, e))
    }

    async fn recent_runs(&self, limit: usize) -> Result<Vec<RunRecord>, LedgerError> {
        let mut runs = Vec::new();
        if limit == 0 {
            return Ok(runs);
        }
        let page = page_limit(limit, self.query_page_size);
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :run)")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#sk", "sk")
            .expression_attribute_values(":pk", s(RUNS_PK))
            .expression_attribute_values(":run", s(RUN_SK_PREFIX))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(page);
        self.query_pages(query, RUNS_PK, |item| {
            runs.push(read_run(&item)?);
            Ok(runs.len() >= limit)
        })
        .await?;
        Ok(runs)
    }

    async fn record_fact(&self, fact: &Fact) -> Result<Recorded, LedgerError> {
        let pk = user_pk(&fact.okta_user_id);
        let sk = format!("{FACT_SK_PREFIX}{}", fact.key());
        let key = format!("{pk}/{sk}");
        let json = serde_json::to_string(fact)
            .map_err(|e| LedgerError::Permanent(format!("cannot serialise fact {key}: {e}")))?;
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&pk))
            .item("sk", s(&sk))
            .item("published_ms", n(fact.published.0))
            .item("event_uuid", s(&fact.event_uuid))
            .item("fact", s(json))
            // Same order as `Fact::supersedes`: published, then event uuid. DynamoDB
            // compares strings by UTF-8 bytes, as Rust's `str` ordering does.
            .condition_expression(
                "attribute_not_exists(#pk) OR #published < :p \
                 OR (#published = :p AND #uuid < :u)",
            )
            .expression_attribute_values(":p", n(fact.published.0))
            .expression_attribute_values(":u", s(&fact.event_uuid));
        let request = with_names(request, "#pk #published #uuid", |r, alias, name| {
            r.expression_attribute_names(alias, name)
        });
        match request.send().await {
            Ok(_) => Ok(Recorded::Applied),
            // The slot holds this fact or a newer one.
            Err(err) if is_condition_failure(&err) => Ok(Recorded::Stale),
            Err(err) => Err(self.error("PutItem", &key, err)),
        }
    }

    async fn user_record(&self, okta_user_id: &str) -> Result<UserRecord, LedgerError> {
        let pk = user_pk(okta_user_id);
        let mut record = UserRecord {
            facts: UserFacts::new(okta_user_id),
            connect_user_id: None,
        };
        for item in self.user_items(&pk).await? {
            read_user_item(okta_user_id, &pk, &item, &mut record)?;
        }
        Ok(record)
    }

    async fn forget_user(&self, tombstone: &Fact) -> Result<(), LedgerError> {
        // The tombstone first (a PutItem over its slot, unconditional: it is the newest
        // word on a deleted user), then every other fact item, then the Connect id. A
        // failure part-way leaves fewer facts, never lost protection: rerunning finishes.
        let pk = user_pk(&tombstone.okta_user_id);
        let keep = format!("{FACT_SK_PREFIX}{}", tombstone.key());
        let json = serde_json::to_string(tombstone)
            .map_err(|e| LedgerError::Permanent(format!("cannot serialise tombstone {pk}: {e}")))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&pk))
            .item("sk", s(&keep))
            .item("published_ms", n(tombstone.published.0))
            .item("event_uuid", s(&tombstone.event_uuid))
            .item("fact", s(json))
            .send()
            .await
            .map_err(|e| self.error("PutItem", &format!("{pk}/{keep}"), e))?;
        for item in self.user_items(&pk).await? {
            let Some(AttributeValue::S(sk)) = item.get("sk") else {
                continue;
            };
            if !sk.starts_with(FACT_SK_PREFIX) || *sk == keep {
                continue;
            }
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("pk", s(&pk))
                .key("sk", s(sk))
                .send()
                .await
                .map_err(|e| self.error("DeleteItem", &format!("{pk}/{sk}"), e))?;
        }
        self.remember_connect_user(&tombstone.okta_user_id, None)
            .await
    }

    async fn remember_connect_user(
        &self,
        okta_user_id: &str,
        connect_user_id: Option<&str>,
    ) -> Result<(), LedgerError> {
        let pk = user_pk(okta_user_id);
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .key("sk", s(META_SK))
            .expression_attribute_names("#connect", "connect_user_id");
        let request = match connect_user_id {
            Some(id) => request
                .update_expression("SET #connect = :c")
                .expression_attribute_values(":c", s(id)),
            None => request.update_expression("REMOVE #connect"),
        };
        request
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error("UpdateItem", &format!("{pk}/{META_SK}"), e))
    }

    async fn lease_user(
        &self,
        okta_user_id: &str,
        holder: &str,
        now: UnixMillis,
        lease: Duration,
    ) -> Result<bool, LedgerError> {
        let pk = user_pk(okta_user_id);
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .key("sk", s(META_SK))
            .update_expression("SET #holder = :h, #lease = :until")
            .condition_expression("attribute_not_exists(#lease) OR #lease <= :now OR #holder = :h")
            .expression_attribute_values(":h", s(holder))
            .expression_attribute_values(":until", n(now.plus(lease).0))
            .expression_attribute_values(":now", n(now.0));
        let request = with_names(request, "#holder #lease", |r, alias, name| {
            r.expression_attribute_names(alias, name)
        });
        match request.send().await {
            Ok(_) => Ok(true),
            // Someone else holds a live lease.
            Err(err) if is_condition_failure(&err) => Ok(false),
            Err(err) => Err(self.error("UpdateItem", &format!("{pk}/{META_SK}"), err)),
        }
    }

    async fn release_user(&self, okta_user_id: &str, holder: &str) -> Result<(), LedgerError> {
        let pk = user_pk(okta_user_id);
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .key("sk", s(META_SK))
            .update_expression("REMOVE #holder SET #lease = :zero")
            .condition_expression("#holder = :h")
            .expression_attribute_values(":h", s(holder))
            .expression_attribute_values(":zero", n(0));
        let request = with_names(request, "#holder #lease", |r, alias, name| {
            r.expression_attribute_names(alias, name)
        });
        match request.send().await {
            Ok(_) => Ok(()),
            // Not (or no longer) ours: nothing to give back.
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(self.error("UpdateItem", &format!("{pk}/{META_SK}"), err)),
        }
    }

    async fn source_bindings(&self) -> Result<Vec<SourceBinding>, LedgerError> {
        let mut bindings = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", "pk")
                .expression_attribute_values(":pk", s(SOURCES_PK))
                .consistent_read(true)
                .set_limit(self.query_page_size)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.error("Query", SOURCES_PK, e))?;
            for item in out.items.unwrap_or_default() {
                bindings.push(read_binding(&item)?);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(bindings),
            }
        }
    }

    async fn bind_source(&self, binding: &SourceBinding) -> Result<SourceBinding, LedgerError> {
        let sk = format!("{SOURCE_SK_PREFIX}{}", binding.slot());
        let key = format!("{SOURCES_PK}/{sk}");
        let json = serde_json::to_string(binding).map_err(|e| {
            LedgerError::Permanent(format!("cannot serialise source binding {key}: {e}"))
        })?;
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(SOURCES_PK))
            .item("sk", s(&sk))
            .item("binding", s(json));
        if binding.bound_by != BoundBy::Api {
            // An event's binding never replaces one held: conditional, and the held one
            // comes back with the refusal.
            request = request
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", "pk")
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
        }
        match request.send().await {
            Ok(_) => Ok(binding.clone()),
            Err(err) => {
                let held = match err.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(e)) => e.item().cloned(),
                    _ => None,
                };
                match held {
                    Some(item) => read_binding(&item),
                    None => Err(self.error("PutItem", &key, err)),
                }
            }
        }
    }
}

/// Reads a source-binding item back; a corrupt one is a permanent error naming its key.
fn read_binding(item: &Item) -> Result<SourceBinding, LedgerError> {
    let key = item
        .get("sk")
        .and_then(|v| v.as_s().ok())
        .map_or("?", String::as_str);
    let json = item
        .get("binding")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| LedgerError::Permanent(format!("{SOURCES_PK}/{key} has no binding")))?;
    serde_json::from_str(json).map_err(|e| {
        LedgerError::Permanent(format!("{SOURCES_PK}/{key} holds a corrupt binding: {e}"))
    })
}

/// The sort key of a run's item: its start time, zero-padded so that keys sort as times
/// do, then its id. A start time outside what 15 digits hold is refused (permanently).
fn run_sk(run: &RunRecord) -> Result<String, LedgerError> {
    let started = run.started_at.0;
    if !(0..=MAX_RUN_STARTED_MS).contains(&started) {
        return Err(LedgerError::Permanent(format!(
            "cannot record run {}: its start time {started} ms is outside 0..={MAX_RUN_STARTED_MS}",
            run.run_id
        )));
    }
    Ok(format!("{RUN_SK_PREFIX}{started:015}#{}", run.run_id))
}

/// Reads a run item back; a corrupt one is a permanent error naming its key.
fn read_run(item: &Item) -> Result<RunRecord, LedgerError> {
    let sk = Reader::new(item, RUNS_PK).string("sk")?;
    let key = format!("{RUNS_PK}/{sk}");
    let json = Reader::new(item, &key).string("run")?;
    serde_json::from_str(json).map_err(|e| corrupt(&key, &format!("`run` is not a run: {e}")))
}

/// The `Limit` of a `Query` whose every item is kept, when `wanted` are: as many, or the
/// configured page size if smaller.
fn page_limit(wanted: usize, page_size: Option<i32>) -> i32 {
    let wanted = i32::try_from(wanted).unwrap_or(i32::MAX);
    page_size.map_or(wanted, |size| size.min(wanted))
}

/// Creates the ledger table (on-demand capacity, `pk`/`sk` string keys, the
/// [`EVENTS_INDEX`] global secondary index) if it does not exist, waits until it is
/// `ACTIVE`, and enables TTL on [`TTL_ATTRIBUTE`]. Idempotent, but a table that exists
/// already is left as it is (an index missing from it is not added). For tests and local
/// runs; in AWS the CDK stack owns the table.
pub async fn create_table(client: &Client, table: &str) -> Result<(), LedgerError> {
    let key = |name: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
    };
    let attribute = |name: &str, kind: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
    };
    let invalid = |e: aws_sdk_dynamodb::error::BuildError| {
        LedgerError::Permanent(format!("CreateTable {table}: {e}"))
    };
    let events_index = GlobalSecondaryIndex::builder()
        .index_name(EVENTS_INDEX)
        .key_schema(key(EVENTS_INDEX_PARTITION_KEY, KeyType::Hash).map_err(invalid)?)
        .key_schema(key(EVENTS_INDEX_SORT_KEY, KeyType::Range).map_err(invalid)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(invalid)?;
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk", ScalarAttributeType::S).map_err(invalid)?)
        .attribute_definitions(attribute("sk", ScalarAttributeType::S).map_err(invalid)?)
        .attribute_definitions(
            attribute(EVENTS_INDEX_PARTITION_KEY, ScalarAttributeType::S).map_err(invalid)?,
        )
        .attribute_definitions(
            attribute(EVENTS_INDEX_SORT_KEY, ScalarAttributeType::N).map_err(invalid)?,
        )
        .key_schema(key("pk", KeyType::Hash).map_err(invalid)?)
        .key_schema(key("sk", KeyType::Range).map_err(invalid)?)
        .global_secondary_indexes(events_index)
        .send()
        .await;
    match created {
        Ok(_) => {}
        // Exists already (or is being created): fine, wait for it below.
        Err(err)
            if matches!(
                err.as_service_error(),
                Some(CreateTableError::ResourceInUseException(_))
            ) => {}
        Err(err) => return Err(ledger_error("CreateTable", table, table, err)),
    }
    client
        .wait_until_table_exists()
        .table_name(table)
        .wait(TABLE_ACTIVE_WAIT)
        .await
        .map_err(|e| {
            LedgerError::Transient(format!(
                "table {table} did not become ACTIVE: {}",
                DisplayErrorContext(&e)
            ))
        })?;

    let ttl = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| ledger_error("DescribeTimeToLive", table, table, e))?;
    let enabled = ttl.time_to_live_description().is_some_and(|d| {
        d.attribute_name() == Some(TTL_ATTRIBUTE)
            && matches!(
                d.time_to_live_status(),
                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
            )
    });
    if !enabled {
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(TTL_ATTRIBUTE)
            .enabled(true)
            .build()
            .map_err(|e| LedgerError::Permanent(format!("UpdateTimeToLive {table}: {e}")))?;
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(|e| ledger_error("UpdateTimeToLive", table, table, e))?;
    }
    Ok(())
}

// ---------------------------------------------------------------- keys and values

fn event_pk(uuid: &str) -> String {
    format!("{EVENT_PK_PREFIX}{uuid}")
}

fn user_pk(okta_user_id: &str) -> String {
    format!("USER#{okta_user_id}")
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Adds the aliases named in `aliases` (space-separated, all from [`NAMES`]) to a
/// request builder. DynamoDB rejects aliases an expression does not use, so each request
/// lists exactly its own.
fn with_names<B>(mut builder: B, aliases: &str, add: impl Fn(B, &str, &str) -> B) -> B {
    for alias in aliases.split_whitespace() {
        if let Some((alias, name)) = NAMES.iter().find(|(a, _)| *a == alias) {
            builder = add(builder, alias, name);
        }
    }
    builder
}

// ---------------------------------------------------------------- reading items

fn corrupt(key: &str, what: &str) -> LedgerError {
    LedgerError::Permanent(format!("ledger item {key} is unreadable: {what}"))
}

/// Typed access to one item's attributes; every failure names the item.
struct Reader<'a> {
    item: &'a Item,
    key: &'a str,
}

impl<'a> Reader<'a> {
    fn new(item: &'a Item, key: &'a str) -> Self {
        Self { item, key }
    }

    fn opt_string(&self, name: &str) -> Result<Option<&'a str>, LedgerError> {
        match self.item.get(name) {
            None => Ok(None),
            Some(AttributeValue::S(text)) => Ok(Some(text)),
            Some(_) => Err(corrupt(self.key, &format!("`{name}` is not a string"))),
        }
    }

    fn string(&self, name: &str) -> Result<&'a str, LedgerError> {
        self.opt_string(name)?
            .ok_or_else(|| corrupt(self.key, &format!("`{name}` is missing")))
    }

    fn opt_number(&self, name: &str) -> Result<Option<i64>, LedgerError> {
        match self.item.get(name) {
            None => Ok(None),
            Some(AttributeValue::N(text)) => text
                .parse()
                .map(Some)
                .map_err(|_| corrupt(self.key, &format!("`{name}` is not an integer: {text}"))),
            Some(_) => Err(corrupt(self.key, &format!("`{name}` is not a number"))),
        }
    }

    fn number(&self, name: &str) -> Result<i64, LedgerError> {
        self.opt_number(name)?
            .ok_or_else(|| corrupt(self.key, &format!("`{name}` is missing")))
    }
}

fn parse_event(uuid: &str, item: &Item) -> Result<EventRecord, LedgerError> {
    let key = event_pk(uuid);
    let r = Reader::new(item, &key);
    let state = match r.string("state")? {
        STATE_IN_PROGRESS => EventState::InProgress,
        STATE_COMPLETED => EventState::Completed,
        STATE_FAILED => EventState::Failed,
        other => return Err(corrupt(&key, &format!("unknown state {other:?}"))),
    };
    let attempts = r.number("attempts")?;
    let outcome = match r.opt_string("outcome")? {
        Some(json) => Some(
            serde_json::from_str::<Outcome>(json)
                .map_err(|e| corrupt(&key, &format!("`outcome` is not an outcome: {e}")))?,
        ),
        // Written before outcomes were typed (see the module doc).
        None => legacy_outcome(state, r.opt_string("detail")?),
    };
    // Both absent from items written before the ledger kept them (see the module doc).
    let about = r
        .opt_string("about")?
        .map(|json| {
            serde_json::from_str::<EventAbout>(json)
                .map_err(|e| corrupt(&key, &format!("`about` is not what an event is about: {e}")))
        })
        .transpose()?;
    Ok(EventRecord {
        uuid: uuid.to_string(),
        state,
        lease_until: UnixMillis(r.number("lease_until_ms")?),
        expires_at: UnixMillis(r.number("expires_at_ms")?),
        attempts: u32::try_from(attempts)
            .map_err(|_| corrupt(&key, &format!("`attempts` out of range: {attempts}")))?,
        outcome,
        about,
        updated_at: r.opt_number(EVENTS_INDEX_SORT_KEY)?.map(UnixMillis),
    })
}

/// Reads an event item of [`EVENTS_INDEX`] (projected whole, keys included).
fn parse_listed_event(item: &Item) -> Result<EventRecord, LedgerError> {
    let what = format!("an item of index {EVENTS_INDEX}");
    let r = Reader::new(item, &what);
    let pk = r.string("pk")?;
    match (pk.strip_prefix(EVENT_PK_PREFIX), r.string("sk")?) {
        (Some(uuid), EVENT_SK) => parse_event(uuid, item),
        (_, sk) => Err(corrupt(&format!("{pk}/{sk}"), "listed as an event")),
    }
}

/// The outcome of an item written with a free-text `detail` (before outcomes were
/// typed): a failure keeps its text as a permanent failure's reason; a completion has no
/// outcome this version can state.
fn legacy_outcome(state: EventState, detail: Option<&str>) -> Option<Outcome> {
    match (state, detail) {
        (EventState::Failed, Some(reason)) => Some(Outcome::Failed(Failure {
            class: ErrorClass::Permanent,
            reason: reason.to_string(),
        })),
        _ => None,
    }
}

/// Folds one item of a user's partition into `record`. Items of kinds this version does
/// not know are skipped, so a newer writer can add kinds without breaking older readers.
fn read_user_item(
    okta_user_id: &str,
    pk: &str,
    item: &Item,
    record: &mut UserRecord,
) -> Result<(), LedgerError> {
    let sk = Reader::new(item, pk).string("sk")?;
    let key = format!("{pk}/{sk}");
    let r = Reader::new(item, &key);
    if sk == META_SK {
        record.connect_user_id = r.opt_string("connect_user_id")?.map(String::from);
    } else if let Some(slot) = sk.strip_prefix(FACT_SK_PREFIX) {
        let fact: Fact = serde_json::from_str(r.string("fact")?)
            .map_err(|e| corrupt(&key, &format!("`fact` is not a fact: {e}")))?;
        if fact.okta_user_id != okta_user_id || fact.key() != slot {
            return Err(corrupt(
                &key,
                &format!(
                    "holds a fact for user {} slot {}",
                    fact.okta_user_id,
                    fact.key()
                ),
            ));
        }
        record.facts.facts.insert(slot.to_string(), fact);
    }
    Ok(())
}

// ---------------------------------------------------------------- errors

/// Classification of an operation's typed service errors; `None` leaves it to the HTTP
/// status.
trait Typed: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static {
    fn class(&self) -> Option<ErrorClass>;
}

use ErrorClass::{Permanent, Transient};

/// Item operations answer throttling and 5xx alike; `transient`/`permanent` add the
/// variants only some operations have (writes: conflicts, conditions, collection size).
macro_rules! item_operation {
    ($ty:ty $(; transient: $($t:ident)|+)? $(; permanent: $($p:ident)|+)?) => {
        impl Typed for $ty {
            fn class(&self) -> Option<ErrorClass> {
                match self {
                    Self::ProvisionedThroughputExceededException(_)
                    | Self::RequestLimitExceeded(_)
                    | Self::ThrottlingException(_)
                    | Self::InternalServerError(_)
                    $($(| Self::$t(_))+)? => Some(Transient),
                    Self::ResourceNotFoundException(_) $($(| Self::$p(_))+)? => Some(Permanent),
                    _ => None,
                }
            }
        }
    };
}

item_operation!(UpdateItemError;
    transient: TransactionConflictException | ReplicatedWriteConflictException;
    permanent: ConditionalCheckFailedException | ItemCollectionSizeLimitExceededException);
item_operation!(PutItemError;
    transient: TransactionConflictException | ReplicatedWriteConflictException;
    permanent: ConditionalCheckFailedException | ItemCollectionSizeLimitExceededException);
item_operation!(DeleteItemError;
    transient: TransactionConflictException | ReplicatedWriteConflictException;
    permanent: ConditionalCheckFailedException | ItemCollectionSizeLimitExceededException);
item_operation!(GetItemError);
item_operation!(QueryError);

impl Typed for CreateTableError {
    fn class(&self) -> Option<ErrorClass> {
        match self {
            // LimitExceeded: too many control-plane operations at once; they finish.
            Self::InternalServerError(_) | Self::LimitExceededException(_) => Some(Transient),
            _ => None,
        }
    }
}

impl Typed for DescribeTimeToLiveError {
    fn class(&self) -> Option<ErrorClass> {
        match self {
            Self::InternalServerError(_) => Some(Transient),
            Self::ResourceNotFoundException(_) => Some(Permanent),
            _ => None,
        }
    }
}

impl Typed for UpdateTimeToLiveError {
    fn class(&self) -> Option<ErrorClass> {
        match self {
            Self::InternalServerError(_)
            | Self::LimitExceededException(_)
            | Self::ResourceInUseException(_) => Some(Transient),
            Self::ResourceNotFoundException(_) => Some(Permanent),
            _ => None,
        }
    }
}

/// Service errors that can report a failed condition (the expected "no" of a
/// conditional write, not a failure).
trait ConditionCheck {
    fn is_condition_failure(&self) -> bool;
}

impl ConditionCheck for UpdateItemError {
    fn is_condition_failure(&self) -> bool {
        matches!(self, Self::ConditionalCheckFailedException(_))
    }
}

impl ConditionCheck for PutItemError {
    fn is_condition_failure(&self) -> bool {
        matches!(self, Self::ConditionalCheckFailedException(_))
    }
}

/// Whether the write was refused by its condition expression.
fn is_condition_failure<E: ConditionCheck>(err: &SdkError<E, HttpResponse>) -> bool {
    err.as_service_error()
        .is_some_and(ConditionCheck::is_condition_failure)
}

/// Turns an SDK error into the port's error: classified by [`sdk::classify`] (typed
/// service errors by [`Typed`], the rest by HTTP status), described by [`sdk::describe`].
fn ledger_error<E: Typed>(
    op: &str,
    table: &str,
    key: &str,
    err: SdkError<E, HttpResponse>,
) -> LedgerError {
    let message = format!(
        "DynamoDB {op} on {key} in table {table}: {}",
        sdk::describe(&err)
    );
    match sdk::error_class(&err, Typed::class) {
        Transient => LedgerError::Transient(message),
        Permanent => LedgerError::Permanent(message),
    }
}
