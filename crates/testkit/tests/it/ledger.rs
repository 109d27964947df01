//! The ledger contract against [`MemoryLedger`].

use okta_connect_testkit::memory::MemoryLedger;

okta_connect_testkit::ledger_contract_tests!(memory, async { MemoryLedger::new() });
