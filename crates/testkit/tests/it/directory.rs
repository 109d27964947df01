//! The directory contract against [`MemoryDirectory`] built with its profiles.

use std::sync::{Arc, LazyLock};

use okta_connect_core::config::ConnectId;
use okta_connect_testkit::contract::directory::{DirectoryFixture, Profiles};
use okta_connect_testkit::memory::MemoryDirectory;

fn id(text: &str) -> ConnectId {
    ConnectId::parse(text).expect("a well-formed id")
}

pub fn profiles() -> Profiles {
    Profiles {
        routing: id("87654321-69fb-43b6-a5e6-f8666ac189cb"),
        other_routing: id("5b3c0f3e-8a31-4d2a-9a61-2f1d3c7e9b10"),
        security: id("12345678-1234-2345-abd8-0aa7f5b46852"),
        other_security: id("65345678-1234-2345-abd8-0aa7f5b46852"),
        hierarchy: id("f0e1d2c3-b4a5-4697-8899-aabbccddeeff"),
        unknown: id("00000000-dead-4bad-8bad-000000000000"),
    }
}

pub fn directory() -> MemoryDirectory {
    let p = profiles();
    MemoryDirectory::with_profiles(
        &[p.routing.as_str(), p.other_routing.as_str()],
        &[p.security.as_str(), p.other_security.as_str()],
    )
}

/// The directory, and whether it is this case's alone.
pub struct Fixture(Arc<MemoryDirectory>, bool);

impl DirectoryFixture for Fixture {
    type Directory = MemoryDirectory;

    fn directory(&self) -> &MemoryDirectory {
        &self.0
    }

    fn profiles(&self) -> Profiles {
        profiles()
    }

    fn is_fresh(&self) -> bool {
        self.1
    }

    fn affords_many_users(&self) -> bool {
        true
    }
}

/// One directory for every case of the shared run, as an adapter against one Connect
/// instance would have: the cases must not disturb each other.
static SHARED: LazyLock<Arc<MemoryDirectory>> = LazyLock::new(|| Arc::new(directory()));

okta_connect_testkit::directory_contract_tests!(fresh, async {
    Fixture(Arc::new(directory()), true)
});
okta_connect_testkit::directory_contract_tests!(shared, async {
    Fixture(Arc::clone(&SHARED), false)
});
