//! The [`Ledger`] port in SQLite, with exactly the semantics of the reference
//! `okta_connect_testkit::memory::MemoryLedger` (and so of the DynamoDB adapter): the
//! same contract suite runs against all three.
//!
//! Atomicity: a claim reads and writes in one `BEGIN IMMEDIATE` transaction, so two
//! connections (threads or processes) can never both be `Claimed`. Every other write is a
//! single statement, atomic by itself: last-writer-wins on facts is one
//! `INSERT … ON CONFLICT DO UPDATE … WHERE newer`, the user lease one conditional upsert.
//!
//! # Tables
//!
//! - `ledger_events`, one row per event uuid: state, lease, expiry, attempts, the
//!   outcome as JSON, and since schema 4 `about` (the last claim's [`EventAbout`] as
//!   JSON) and `updated_at` (the `now` of the last claim, completion or failure). Both
//!   are NULL in rows written before schema 4, and `about` is NULL in a row failed or
//!   completed without a claim; such rows read as `None`. A failure or completion keeps
//!   `about`; a claim replaces it.
//! - `ledger_events_by_updated`, an index on (`updated_at` descending, `uuid`):
//!   [`Ledger::events`] walks it from `since` to the newest end, which is already the
//!   order it answers in, and stops at `limit`. The failure filter is SQL; the user
//!   filter is [`EventQuery::matches`] in Rust over the rows in that order (its login
//!   comparison is Rust's), so then the walk goes on until `limit` records match. Rows
//!   without `updated_at` fall outside every range, so they are never listed.
//! - `ledger_runs`, one row per reconcile run keyed by (`started_at`, `run_id`): the
//!   [`RunRecord`] as JSON and `expires_at` (`finished_at + retention`). Nothing expires
//!   on a clock here (the ledger never reads one): [`Ledger::record_run`] deletes, in the
//!   same transaction, the runs that expired by the recorded run's `finished_at`, so the
//!   table stays as small as the retention allows while runs keep being recorded, and
//!   [`Ledger::recent_runs`] lists what is stored.
//! - `ledger_facts`, `ledger_users`, `ledger_sources`: facts by (user, slot), Connect
//!   ids and user leases, source bindings.

use std::path::Path;
use std::time::Duration;

use okta_connect_core::config::SourceBinding;
use okta_connect_core::fact::{Fact, Recorded, UserFacts};
use okta_connect_core::outcome::{Failure, Outcome};
use okta_connect_core::ports::{
    Claim, EventAbout, EventQuery, EventRecord, EventState, Ledger, LedgerError, RunRecord,
    UserRecord,
};
use okta_connect_core::time::UnixMillis;
use rusqlite::{OptionalExtension, Row, params};

use crate::db::{Db, blocking};
use crate::error::{EmbeddedError, count_from_sql, from_json, to_json};

/// How long an in-flight event record outlives its lease, whatever the retention: the
/// reference ledger's rule, so an abandoned claim is eventually claimed afresh.
const IN_FLIGHT_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// The columns [`event_row`] reads, in its order (a macro, for `concat!`).
macro_rules! event_columns {
    () => {
        "uuid, state, lease_until, expires_at, attempts, outcome, about, updated_at"
    };
}

const EVENT_BY_UUID: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM ledger_events WHERE uuid = ?1"
);

/// At most ?1 reconcile runs (none when negative), the latest started first: the
/// primary key's order, read backwards.
const RECENT_RUNS: &str =
    "SELECT run FROM ledger_runs ORDER BY started_at DESC, run_id DESC LIMIT ?1";

/// Event records updated since ?1, failed only when ?2, newest first, at most ?3 (none
/// when negative). The order is that of `ledger_events_by_updated`: no sort.
const LIST_EVENTS: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM ledger_events
      WHERE updated_at >= ?1 AND (?2 = 0 OR state = 'FAILED')
      ORDER BY updated_at DESC, uuid
      LIMIT ?3"
);

/// The pipeline's durable memory in an SQLite file (which may also hold the queues).
/// Clones share the connection. The port methods run on the blocking pool (see the
/// crate documentation, "Blocking").
#[derive(Debug, Clone)]
pub struct SqliteLedger {
    db: Db,
}

impl SqliteLedger {
    /// Opens (creating if needed, with its folder) the ledger in the SQLite file at `path`.
    pub fn open(path: &Path) -> Result<Self, EmbeddedError> {
        Ok(Self {
            db: Db::open(path)?,
        })
    }

    fn claim(
        &self,
        uuid: &str,
        about: &EventAbout,
        now: UnixMillis,
        lease: Duration,
    ) -> Result<Claim, EmbeddedError> {
        let about = to_json("event about", about)?;
        self.db.write(|tx| {
            let held = tx
                .query_row(EVENT_BY_UUID, params![uuid], event_row)
                .optional()?
                .transpose()?;
            // The reference ledger's decision, case for case.
            let attempts = match held {
                None => 1,
                Some(r) if r.expires_at <= now => 1,
                Some(r) => match r.state {
                    EventState::Completed => return Ok(Claim::Completed(r)),
                    EventState::InProgress if r.lease_until > now => {
                        return Ok(Claim::Busy {
                            lease_until: r.lease_until,
                        });
                    }
                    EventState::InProgress | EventState::Failed => r.attempts.saturating_add(1),
                },
            };
            let lease_until = now.plus(lease);
            tx.execute(
                "INSERT INTO ledger_events
                    (uuid, state, lease_until, expires_at, attempts, outcome, about, updated_at)
                 VALUES (?1, 'IN_PROGRESS', ?2, ?3, ?4, NULL, ?5, ?6)
                 ON CONFLICT (uuid) DO UPDATE SET
                    state = excluded.state, lease_until = excluded.lease_until,
                    expires_at = excluded.expires_at, attempts = excluded.attempts,
                    outcome = NULL, about = excluded.about, updated_at = excluded.updated_at",
                params![
                    uuid,
                    lease_until.0,
                    lease_until.plus(IN_FLIGHT_RETENTION).0,
                    attempts,
                    about,
                    now.0
                ],
            )?;
            Ok(Claim::Claimed { attempt: attempts })
        })
    }

    /// Completes or fails an event with its outcome, recording it as attempt 1 if it
    /// was never claimed (then with no `about`: only a claim says what an event is about).
    fn finish(
        &self,
        uuid: &str,
        state: EventState,
        outcome: &Outcome,
        now: UnixMillis,
        retention: Duration,
    ) -> Result<(), EmbeddedError> {
        let json = to_json("outcome", outcome)?;
        self.db.single(|conn| {
            conn.execute(
                "INSERT INTO ledger_events
                    (uuid, state, lease_until, expires_at, attempts, outcome, about, updated_at)
                 VALUES (?1, ?2, 0, ?3, 1, ?4, NULL, ?5)
                 ON CONFLICT (uuid) DO UPDATE SET
                    state = excluded.state, lease_until = 0,
                    expires_at = excluded.expires_at, outcome = excluded.outcome,
                    updated_at = excluded.updated_at",
                params![
                    uuid,
                    state_to_sql(state),
                    now.plus(retention).0,
                    json,
                    now.0
                ],
            )?;
            Ok(())
        })
    }

    fn release(&self, uuid: &str) -> Result<(), EmbeddedError> {
        self.db.single(|conn| {
            conn.execute(
                "UPDATE ledger_events SET lease_until = 0
                  WHERE uuid = ?1 AND state = 'IN_PROGRESS'",
                params![uuid],
            )?;
            Ok(())
        })
    }

    fn record(&self, uuid: &str) -> Result<Option<EventRecord>, EmbeddedError> {
        self.db.single(|conn| {
            conn.query_row(EVENT_BY_UUID, params![uuid], event_row)
                .optional()?
                .transpose()
        })
    }

    fn list(&self, query: &EventQuery) -> Result<Vec<EventRecord>, EmbeddedError> {
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        // With a user to match, SQL cannot tell how many rows make `limit` records:
        // no LIMIT (SQLite reads a negative one as none), and the loop stops instead.
        let sql_limit = if query.okta_user.is_none() {
            i64::try_from(query.limit).unwrap_or(i64::MAX)
        } else {
            -1
        };
        self.db.read(|tx| {
            let mut stmt = tx.prepare_cached(LIST_EVENTS)?;
            let mut rows = stmt.query(params![query.since.0, query.failed_only, sql_limit])?;
            let mut listed = Vec::new();
            // Rows are stepped one at a time, so stopping here reads no further.
            while listed.len() < query.limit {
                let Some(row) = rows.next()? else { break };
                let record = event_row(row)??;
                if query.matches(&record) {
                    listed.push(record);
                }
            }
            Ok(listed)
        })
    }

    fn run(&self, run: &RunRecord, retention: Duration) -> Result<(), EmbeddedError> {
        let json = to_json("run record", run)?;
        self.db.write(|tx| {
            // No clock is read here: a run recorded as finished at `finished_at` is the
            // latest instant this ledger knows to have passed, so whatever expired by
            // then goes, before the insert, so the run just recorded always stays.
            tx.execute(
                "DELETE FROM ledger_runs WHERE expires_at <= ?1",
                params![run.finished_at.0],
            )?;
            tx.execute(
                "INSERT INTO ledger_runs (started_at, run_id, expires_at, run)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (started_at, run_id) DO UPDATE SET
                    expires_at = excluded.expires_at, run = excluded.run",
                params![
                    run.started_at.0,
                    run.run_id,
                    run.finished_at.plus(retention).0,
                    json
                ],
            )?;
            Ok(())
        })
    }

    fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, EmbeddedError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db.read(|tx| {
            let mut stmt = tx.prepare_cached(RECENT_RUNS)?;
            let rows = stmt.query_map(params![limit], |row| row.get::<_, String>(0))?;
            rows.map(|json| from_json("run record", &json?)).collect()
        })
    }

    fn fact(&self, fact: &Fact) -> Result<Recorded, EmbeddedError> {
        let json = to_json("fact", fact)?;
        self.db.single(|conn| {
            // Row values compare like `Fact::recency`: published, then the uuid as bytes
            // (SQLite's BINARY collation is memcmp, Rust's `str` order is bytewise).
            let changed = conn.execute(
                "INSERT INTO ledger_facts (okta_user_id, slot, published_ms, event_uuid, fact)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (okta_user_id, slot) DO UPDATE SET
                    published_ms = excluded.published_ms, event_uuid = excluded.event_uuid,
                    fact = excluded.fact
                 WHERE (excluded.published_ms, excluded.event_uuid)
                     > (ledger_facts.published_ms, ledger_facts.event_uuid)",
                params![
                    fact.okta_user_id,
                    fact.key(),
                    fact.published.0,
                    fact.event_uuid,
                    json
                ],
            )?;
            Ok(if changed == 1 {
                Recorded::Applied
            } else {
                Recorded::Stale
            })
        })
    }

    fn user(&self, okta_user_id: &str) -> Result<UserRecord, EmbeddedError> {
        // One read transaction: facts and Connect id from the same moment.
        self.db.read(|tx| {
            let mut facts = UserFacts::new(okta_user_id);
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT slot, fact FROM ledger_facts WHERE okta_user_id = ?1",
                )?;
                let rows = stmt.query_map(params![okta_user_id], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })?;
                for row in rows {
                    let (slot, json) = row?;
                    let fact: Fact = from_json("fact", &json)?;
                    facts.facts.insert(slot, fact);
                }
            }
            let connect_user_id: Option<String> = tx
                .query_row(
                    "SELECT connect_user_id FROM ledger_users WHERE okta_user_id = ?1",
                    params![okta_user_id],
                    |row| row.get(0),
                )
                .optional()?
                .flatten();
            Ok(UserRecord {
                facts,
                connect_user_id,
            })
        })
    }

    fn forget(&self, tombstone: &Fact) -> Result<(), EmbeddedError> {
        let json = to_json("fact", tombstone)?;
        let user = &tombstone.okta_user_id;
        // One transaction: no reader sees the user half forgotten.
        self.db.write(|tx| {
            tx.execute(
                "DELETE FROM ledger_facts WHERE okta_user_id = ?1",
                params![user],
            )?;
            tx.execute(
                "INSERT INTO ledger_facts (okta_user_id, slot, published_ms, event_uuid, fact)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    user,
                    tombstone.key(),
                    tombstone.published.0,
                    tombstone.event_uuid,
                    json
                ],
            )?;
            tx.execute(
                "UPDATE ledger_users SET connect_user_id = NULL WHERE okta_user_id = ?1",
                params![user],
            )?;
            Ok(())
        })
    }

    fn remember(
        &self,
        okta_user_id: &str,
        connect_user_id: Option<&str>,
    ) -> Result<(), EmbeddedError> {
        self.db.single(|conn| {
            conn.execute(
                "INSERT INTO ledger_users (okta_user_id, connect_user_id) VALUES (?1, ?2)
                 ON CONFLICT (okta_user_id) DO UPDATE SET connect_user_id = excluded.connect_user_id",
                params![okta_user_id, connect_user_id],
            )?;
            Ok(())
        })
    }

    fn lease(
        &self,
        okta_user_id: &str,
        holder: &str,
        now: UnixMillis,
        lease: Duration,
    ) -> Result<bool, EmbeddedError> {
        self.db.single(|conn| {
            // Taken when free, expired (at its end exactly) or already the holder's.
            let changed = conn.execute(
                "INSERT INTO ledger_users (okta_user_id, lease_holder, lease_until)
                 VALUES (?1, ?2, ?3)
                 ON CONFLICT (okta_user_id) DO UPDATE SET
                    lease_holder = excluded.lease_holder, lease_until = excluded.lease_until
                 WHERE ledger_users.lease_holder IS NULL
                    OR ledger_users.lease_holder = excluded.lease_holder
                    OR ledger_users.lease_until <= ?4",
                params![okta_user_id, holder, now.plus(lease).0, now.0],
            )?;
            Ok(changed == 1)
        })
    }

    fn bindings(&self) -> Result<Vec<SourceBinding>, EmbeddedError> {
        self.db.read(|tx| {
            let mut stmt = tx.prepare_cached("SELECT binding FROM ledger_sources ORDER BY slot")?;
            let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
            rows.map(|json| from_json("source binding", &json?))
                .collect()
        })
    }

    fn bind(&self, binding: &SourceBinding) -> Result<SourceBinding, EmbeddedError> {
        self.db.write(|tx| {
            let slot = binding.slot();
            let held: Option<SourceBinding> = tx
                .query_row(
                    "SELECT binding FROM ledger_sources WHERE slot = ?1",
                    params![slot],
                    |row| row.get::<_, String>(0),
                )
                .optional()?
                .map(|json| from_json("source binding", &json))
                .transpose()?;
            if !binding.replaces(held.as_ref()) {
                return Ok(held.unwrap_or_else(|| binding.clone()));
            }
            tx.execute(
                "INSERT INTO ledger_sources (slot, binding) VALUES (?1, ?2)
                 ON CONFLICT (slot) DO UPDATE SET binding = excluded.binding",
                params![slot, to_json("source binding", binding)?],
            )?;
            Ok(binding.clone())
        })
    }

    fn release_lease(&self, okta_user_id: &str, holder: &str) -> Result<(), EmbeddedError> {
        self.db.single(|conn| {
            conn.execute(
                "UPDATE ledger_users SET lease_holder = NULL, lease_until = NULL
                  WHERE okta_user_id = ?1 AND lease_holder = ?2",
                params![okta_user_id, holder],
            )?;
            Ok(())
        })
    }
}

fn state_to_sql(state: EventState) -> &'static str {
    match state {
        EventState::InProgress => "IN_PROGRESS",
        EventState::Completed => "COMPLETED",
        EventState::Failed => "FAILED",
    }
}

fn state_from_sql(text: &str) -> Result<EventState, EmbeddedError> {
    match text {
        "IN_PROGRESS" => Ok(EventState::InProgress),
        "COMPLETED" => Ok(EventState::Completed),
        "FAILED" => Ok(EventState::Failed),
        other => Err(EmbeddedError::Corrupt(format!(
            "stored event state {other:?}"
        ))),
    }
}

/// Reads a `ledger_events` row; the inner result reports values this code never writes.
fn event_row(row: &Row<'_>) -> rusqlite::Result<Result<EventRecord, EmbeddedError>> {
    let state: String = row.get(1)?;
    let attempts: i64 = row.get(4)?;
    let uuid: String = row.get(0)?;
    let lease_until: i64 = row.get(2)?;
    let expires_at: i64 = row.get(3)?;
    let outcome: Option<String> = row.get(5)?;
    let about: Option<String> = row.get(6)?;
    let updated_at: Option<i64> = row.get(7)?;
    Ok((|| {
        Ok(EventRecord {
            uuid,
            state: state_from_sql(&state)?,
            lease_until: UnixMillis(lease_until),
            expires_at: UnixMillis(expires_at),
            attempts: count_from_sql("attempts", attempts)?,
            outcome: outcome
                .map(|json| from_json::<Outcome>("outcome", &json))
                .transpose()?,
            about: about
                .map(|json| from_json::<EventAbout>("event about", &json))
                .transpose()?,
            updated_at: updated_at.map(UnixMillis),
        })
    })())
}

impl Ledger for SqliteLedger {
    async fn claim_event(
        &self,
        uuid: &str,
        about: &EventAbout,
        now: UnixMillis,
        lease: Duration,
    ) -> Result<Claim, LedgerError> {
        let (this, uuid, about) = (self.clone(), uuid.to_string(), about.clone());
        Ok(blocking(move || this.claim(&uuid, &about, now, lease)).await?)
    }

    async fn complete_event(
        &self,
        uuid: &str,
        outcome: &Outcome,
        now: UnixMillis,
        retention: Duration,
    ) -> Result<(), LedgerError> {
        let (this, uuid, outcome) = (self.clone(), uuid.to_string(), outcome.clone());
        Ok(
            blocking(move || this.finish(&uuid, EventState::Completed, &outcome, now, retention))
                .await?,
        )
    }

    async fn fail_event(
        &self,
        uuid: &str,
        failure: &Failure,
        now: UnixMillis,
        retention: Duration,
    ) -> Result<(), LedgerError> {
        let (this, uuid) = (self.clone(), uuid.to_string());
        let outcome = Outcome::Failed(failure.clone());
        Ok(
            blocking(move || this.finish(&uuid, EventState::Failed, &outcome, now, retention))
                .await?,
        )
    }

    async fn release_event(&self, uuid: &str) -> Result<(), LedgerError> {
        let (this, uuid) = (self.clone(), uuid.to_string());
        Ok(blocking(move || this.release(&uuid)).await?)
    }

    async fn event_record(&self, uuid: &str) -> Result<Option<EventRecord>, LedgerError> {
        let (this, uuid) = (self.clone(), uuid.to_string());
        Ok(blocking(move || this.record(&uuid)).await?)
    }

    async fn events(&self, query: &EventQuery) -> Result<Vec<EventRecord>, LedgerError> {
        let (this, query) = (self.clone(), query.clone());
        Ok(blocking(move || this.list(&query)).await?)
    }

    /// Also deletes the runs that expired by `run.finished_at` (see the module
    /// documentation, "Tables").
    async fn record_run(&self, run: &RunRecord, retention: Duration) -> Result<(), LedgerError> {
        let (this, run) = (self.clone(), run.clone());
        Ok(blocking(move || this.run(&run, retention)).await?)
    }

    async fn recent_runs(&self, limit: usize) -> Result<Vec<RunRecord>, LedgerError> {
        let this = self.clone();
        Ok(blocking(move || this.runs(limit)).await?)
    }

    async fn record_fact(&self, fact: &Fact) -> Result<Recorded, LedgerError> {
        let (this, fact) = (self.clone(), fact.clone());
        Ok(blocking(move || this.fact(&fact)).await?)
    }

    async fn user_record(&self, okta_user_id: &str) -> Result<UserRecord, LedgerError> {
        let (this, user) = (self.clone(), okta_user_id.to_string());
        Ok(blocking(move || this.user(&user)).await?)
    }

    async fn forget_user(&self, tombstone: &Fact) -> Result<(), LedgerError> {
        let (this, tombstone) = (self.clone(), tombstone.clone());
        Ok(blocking(move || this.forget(&tombstone)).await?)
    }

    async fn remember_connect_user(
        &self,
        okta_user_id: &str,
        connect_user_id: Option<&str>,
    ) -> Result<(), LedgerError> {
        let (this, user) = (self.clone(), okta_user_id.to_string());
        let connect = connect_user_id.map(String::from);
        Ok(blocking(move || this.remember(&user, connect.as_deref())).await?)
    }

    async fn lease_user(
        &self,
        okta_user_id: &str,
        holder: &str,
        now: UnixMillis,
        lease: Duration,
    ) -> Result<bool, LedgerError> {
        let (this, user, holder) = (self.clone(), okta_user_id.to_string(), holder.to_string());
        Ok(blocking(move || this.lease(&user, &holder, now, lease)).await?)
    }

    async fn release_user(&self, okta_user_id: &str, holder: &str) -> Result<(), LedgerError> {
        let (this, user, holder) = (self.clone(), okta_user_id.to_string(), holder.to_string());
        Ok(blocking(move || this.release_lease(&user, &holder)).await?)
    }

    async fn source_bindings(&self) -> Result<Vec<SourceBinding>, LedgerError> {
        let this = self.clone();
        Ok(blocking(move || this.bindings()).await?)
    }

    async fn bind_source(&self, binding: &SourceBinding) -> Result<SourceBinding, LedgerError> {
        let (this, binding) = (self.clone(), binding.clone());
        Ok(blocking(move || this.bind(&binding)).await?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// SQLite's plan for `sql` (with `params`), one detail line per step.
    fn plan(ledger: &SqliteLedger, sql: &str, params: impl rusqlite::Params) -> Vec<String> {
        ledger
            .db
            .read(|tx| {
                let mut stmt = tx.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let rows = stmt.query_map(params, |row| row.get::<_, String>(3))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .unwrap()
    }

    /// Listing reads the time index from `since` on in the order it answers: neither a
    /// full scan nor a sort, with or without the failure filter or a limit.
    #[test]
    fn events_and_runs_are_listed_through_their_indexes_without_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = SqliteLedger::open(&dir.path().join("state.db")).unwrap();
        for (failed_only, limit) in [(false, 10_i64), (true, -1)] {
            let steps = plan(&ledger, LIST_EVENTS, params![0, failed_only, limit]);
            assert!(
                steps.iter().any(|s| s.starts_with("SEARCH")
                    && s.contains("INDEX ledger_events_by_updated")
                    && s.contains("updated_at>?")),
                "{steps:?}"
            );
            assert!(
                !steps.iter().any(|s| s.contains("TEMP B-TREE")),
                "{steps:?}"
            );
        }
        let steps = plan(&ledger, RECENT_RUNS, params![10]);
        assert!(
            !steps.iter().any(|s| s.contains("TEMP B-TREE")),
            "{steps:?}"
        );
    }
}
