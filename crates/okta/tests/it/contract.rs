//! The identity contract against `OktaApi` on okta-sim, once per way to authenticate;
//! the JWT run also has Okta's default rate limits on, as a real org would.

use okta_sim::RateLimits;

use crate::support::{jwt, ssws, start};

okta_connect_testkit::identity_contract_tests!(sim_ssws, |seed| async move {
    start(seed, ssws, |b| b).await
});

okta_connect_testkit::identity_contract_tests!(sim_private_key_jwt, |seed| async move {
    start(seed, jwt, |b| b.rate_limits(RateLimits::okta_defaults())).await
});

/// The contract's 450-member group really is read in pages of 200: three requests.
#[tokio::test]
async fn group_members_are_read_in_pages_of_200() {
    use okta_connect_core::config::SourceKind;
    use okta_connect_core::identity::SourceId;
    use okta_connect_core::ports::IdentitySource;
    use okta_connect_testkit::contract::identity::{IdentityFixture, IdentitySeed};

    let mut seed = IdentitySeed::default();
    let members = seed.many_users("paged", 450);
    seed.group("big", &members);
    let f = start(seed, ssws, |b| b).await;
    let got = f
        .api
        .members(&SourceId {
            kind: SourceKind::Group,
            id: f.group_id("big"),
        })
        .await
        .unwrap();
    assert_eq!(got.len(), 450);
    assert_eq!(
        f.server
            .sim()
            .counters()
            .requests(okta_sim::Family::GroupById),
        3
    );
    assert_eq!(f.api.requests(), 3);
}
