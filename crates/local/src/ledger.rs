//! The [`Ledger`] port in SQLite, with exactly the semantics of the reference
//! `okta_connect_testkit::memory::MemoryLedger` (and so of the DynamoDB adapter): the
//! same contract suite runs against all three.
//!
//! Atomicity: a claim reads and writes in one `BEGIN IMMEDIATE` transaction, so two
//! connections (threads or processes) can never both be `Claimed`. Every other write is a
//! single statement, atomic by itself: last-writer-wins on facts is one
//! `INSERT … ON CONFLICT DO UPDATE … WHERE newer`, the user lease one conditional upsert.

use std::path::Path;
use std::time::Duration;

use okta_connect_core::config::SourceBinding;
use okta_connect_core::fact::{Fact, Recorded, UserFacts};
use okta_connect_core::outcome::{Failure, Outcome};
use okta_connect_core::ports::{Claim, EventRecord, EventState, Ledger, LedgerError, UserRecord};
use okta_connect_core::time::UnixMillis;
use rusqlite::{OptionalExtension, Row, params};

use crate::db::{Db, blocking};
use crate::error::{EmbeddedError, count_from_sql, from_json, to_json};

/// How long an in-flight event record outlives its lease, whatever the retention: the
/// reference ledger's rule, so an abandoned claim is eventually claimed afresh.
const IN_FLIGHT_RETENTION: Duration = Duration::from_secs(24 * 3600);

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

    fn claim(&self, uuid: &str, now: UnixMillis, lease: Duration) -> Result<Claim, EmbeddedError> {
        self.db.write(|tx| {
            let held = tx
                .query_row(
                    "SELECT uuid, state, lease_until, expires_at, attempts, outcome
                       FROM ledger_events WHERE uuid = ?1",
                    params![uuid],
                    event_row,
                )
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
                "INSERT INTO ledger_events (uuid, state, lease_until, expires_at, attempts, outcome)
                 VALUES (?1, 'IN_PROGRESS', ?2, ?3, ?4, NULL)
                 ON CONFLICT (uuid) DO UPDATE SET
                    state = excluded.state, lease_until = excluded.lease_until,
                    expires_at = excluded.expires_at, attempts = excluded.attempts,
                    outcome = NULL",
                params![
                    uuid,
                    lease_until.0,
                    lease_until.plus(IN_FLIGHT_RETENTION).0,
                    attempts
                ],
            )?;
            Ok(Claim::Claimed { attempt: attempts })
        })
    }

    /// Completes or fails an event with its outcome, recording it as attempt 1 if it
    /// was never claimed.
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
                "INSERT INTO ledger_events (uuid, state, lease_until, expires_at, attempts, outcome)
                 VALUES (?1, ?2, 0, ?3, 1, ?4)
                 ON CONFLICT (uuid) DO UPDATE SET
                    state = excluded.state, lease_until = 0,
                    expires_at = excluded.expires_at, outcome = excluded.outcome",
                params![uuid, state_to_sql(state), now.plus(retention).0, json],
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
            conn.query_row(
                "SELECT uuid, state, lease_until, expires_at, attempts, outcome
                   FROM ledger_events WHERE uuid = ?1",
                params![uuid],
                event_row,
            )
            .optional()?
            .transpose()
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
        })
    })())
}

impl Ledger for SqliteLedger {
    async fn claim_event(
        &self,
        uuid: &str,
        now: UnixMillis,
        lease: Duration,
    ) -> Result<Claim, LedgerError> {
        let (this, uuid) = (self.clone(), uuid.to_string());
        Ok(blocking(move || this.claim(&uuid, now, lease)).await?)
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
