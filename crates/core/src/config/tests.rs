use super::*;

const SEED: &str = include_str!("../../../../tests/fixtures/config/seed_sample.ini");
const PROJECT: &str = include_str!("../../../../config.ini");

fn id(text: &str) -> ConnectId {
    ConnectId::parse(text).unwrap()
}

fn err(text: &str) -> ConfigError {
    Config::from_ini(text).unwrap_err()
}

/// A minimal valid file plus `extra` lines, for the error table.
fn with(extra: &str) -> String {
    format!(
        "[OKTA]\nGROUP_NAME = agents\n[Connect]\nINSTANCE_ID = 11111111-2222-3333-4444-555555555555\n\
         ROUTING_PROFILE_ID = 87654321-69fb-43b6-a5e6-f8666ac189cb\n\
         SECURITY_PROFILE_IDS = 12345678-1234-2345-abd8-0aa7f5b46852\n{extra}"
    )
}

#[test]
fn the_original_samples_file_reads_as_intended() {
    let config = Config::from_ini(SEED).unwrap();
    assert_eq!(
        config.instance_id,
        id("abcdefgh-0122-4131-adc2-a0ebe5a2b2a7")
    );
    assert_eq!(config.mappings.len(), 1);
    let m = &config.mappings[0];
    assert_eq!(m.name, "default");
    // Inline comments stripped: the sample's own parser kept "# Your Amazon Connect …".
    assert_eq!(
        m.sources,
        vec![
            AccessSource::group("amazon_connect"),
            AccessSource::app("AWS Account Federation")
        ]
    );
    assert_eq!(
        m.routing_profile_id,
        id("87654321-69fb-43b6-a5e6-f8666ac189cb")
    );
    // List items trimmed: the sample's parser kept the leading spaces.
    assert_eq!(
        m.security_profile_ids,
        vec![
            id("12345678-1234-2345-abd8-0aa7f5b46852"),
            id("65345678-1234-2345-abd8-0aa7f5b46852"),
            id("98345678-1234-2345-abd8-0aa7f5b46852"),
        ]
    );
    assert_eq!(config.events.app_add, "application.user_membership.add");
    assert_eq!(config.events.group_add, "group.user_membership.add");
    assert_eq!(config.events.group_remove, "group.user_membership.remove");
    // Defaults for everything the sample did not have.
    assert_eq!(config.removal, RemovalPolicy::Delete);
    assert_eq!(config.username_source, UsernameSource::Login);
    assert!(!config.send_email);
    assert_eq!(config.pacing.requests_per_second, 2.0);
    assert_eq!(config.pacing.burst, 5);
    assert_eq!(config.ledger_retention_days, 30);
    assert_eq!(config.region, None);
    assert_eq!(config.ingest.secret_header, "authorization");
    // Lambda's synchronous payload limit (6 MiB): the most a delivery can be.
    assert_eq!(config.ingest.max_body_bytes, 6 * 1024 * 1024);
}

#[test]
fn the_projects_config_ini_is_valid() {
    let config = Config::from_ini(PROJECT).unwrap();
    let names: Vec<&str> = config.mappings.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["supervisors", "default"],
        "sorted by priority, winner first"
    );
    let sup = config.mapping("supervisors").unwrap();
    assert_eq!(
        sup.sources,
        vec![AccessSource::group("connect_supervisors")]
    );
    assert_eq!(
        sup.hierarchy_group_id,
        Some(id("f0e1d2c3-b4a5-4697-8899-aabbccddeeff"))
    );
    assert_eq!(config.region.as_deref(), Some("us-east-1"));
    assert_eq!(config.removal, RemovalPolicy::Delete);
}

#[test]
fn environment_overrides_keys_and_names_itself_in_errors() {
    let env = [
        (
            "OKTA_CONNECT__CONNECT__INSTANCE_ID",
            "99999999-8888-7777-6666-555555555555",
        ),
        ("OKTA_CONNECT__SYNC__REMOVAL_POLICY", "no_permission"),
        ("OKTA_CONNECT__MAPPING_SUPERVISORS__PRIORITY", "7"),
        ("OKTA_CONNECT__MAPPING_LEADS__GROUP", "team_leads"),
        (
            "OKTA_CONNECT__MAPPING_LEADS__ROUTING_PROFILE_ID",
            "87654321-69fb-43b6-a5e6-f8666ac189cb",
        ),
        (
            "OKTA_CONNECT__MAPPING_LEADS__SECURITY_PROFILE_IDS",
            "a1b2c3d4-0000-4000-8000-00000000abcd",
        ),
        ("OKTA_CONNECT__MAPPING_LEADS__PRIORITY", "5"),
        ("UNRELATED", "ignored"),
    ];
    let config = Config::parse(PROJECT, env).unwrap();
    assert_eq!(
        config.instance_id,
        id("99999999-8888-7777-6666-555555555555")
    );
    assert_eq!(
        config.removal,
        RemovalPolicy::NoPermission {
            security_profile_id: Some(id("e3b0c442-98fc-4c14-9afb-f4c8996fb924"))
        }
    );
    let order: Vec<(&str, u32)> = config
        .mappings
        .iter()
        .map(|m| (m.name.as_str(), m.priority))
        .collect();
    assert_eq!(order, [("leads", 5), ("supervisors", 7), ("default", 1000)]);

    let bad = Config::parse(PROJECT, [("OKTA_CONNECT__CONNECT__BURST", "lots")]).unwrap_err();
    let issue = bad.issue_for("[Connect] BURST").unwrap();
    assert_eq!(
        issue.origin,
        Origin::Env("OKTA_CONNECT__CONNECT__BURST".into())
    );
    assert!(
        bad.to_string()
            .contains("environment variable OKTA_CONNECT__CONNECT__BURST")
    );
}

#[test]
fn every_invalid_config_names_its_key_and_line() {
    let eleven = (0..11)
        .map(|i| format!("{i:08}-1234-2345-abd8-0aa7f5b46852"))
        .collect::<Vec<_>>()
        .join(", ");
    let cases: Vec<(String, &str, Origin, &str)> = vec![
        (with("[Okta Settings]\n"), "[Okta Settings]", Origin::Line(7), "unknown section"),
        (with("COLOR = blue\n"), "[Connect] COLOR", Origin::Line(7), "unknown key"),
        (with("[Reconcile]\nSCHEDULE = rate(5 minutes)\n"), "[Reconcile] SCHEDULE", Origin::Line(8), "15 minutes"),
        (with("[Reconcile]\nSCHEDULE = daily\n"), "[Reconcile] SCHEDULE", Origin::Line(8), "EventBridge Scheduler"),
        (with("[Reconcile]\nSCHEDULE_ENABLED = maybe\n"), "[Reconcile] SCHEDULE_ENABLED", Origin::Line(8), "true or false"),
        (
            "[OKTA]\nGROUP_NAME = g\n[Connect]\nINSTANCE_ID = not-an-id\nROUTING_PROFILE_ID = 87654321-69fb-43b6-a5e6-f8666ac189cb\nSECURITY_PROFILE_IDS = 12345678-1234-2345-abd8-0aa7f5b46852\n".into(),
            "[Connect] INSTANCE_ID",
            Origin::Line(4),
            "malformed id",
        ),
        (
            "[OKTA]\nGROUP_NAME = g\n[Connect]\nINSTANCE_ID = 11111111-2222-3333-4444-555555555555\nROUTING_PROFILE_ID = 87654321-69fb-43b6-a5e6-f8666ac189cb\nSECURITY_PROFILE_IDS =   # none yet\n".into(),
            "[Connect] SECURITY_PROFILE_IDS",
            Origin::Line(6),
            "at least 1",
        ),
        (
            format!("[OKTA]\nGROUP_NAME = g\n[Connect]\nINSTANCE_ID = 11111111-2222-3333-4444-555555555555\nROUTING_PROFILE_ID = 87654321-69fb-43b6-a5e6-f8666ac189cb\nSECURITY_PROFILE_IDS = {eleven}\n"),
            "[Connect] SECURITY_PROFILE_IDS",
            Origin::Line(6),
            "at most 10",
        ),
        (
            "[OKTA]\nGROUP_NAME = g\n[Connect]\nINSTANCE_ID = 11111111-2222-3333-4444-555555555555\nROUTING_PROFILE_ID = 87654321-69fb-43b6-a5e6-f8666ac189cb\nSECURITY_PROFILE_IDS = 12345678-1234-2345-abd8-0aa7f5b46852, 12345678-1234-2345-abd8-0aa7f5b46852\n".into(),
            "[Connect] SECURITY_PROFILE_IDS",
            Origin::Line(6),
            "listed twice",
        ),
        (
            with("[Mapping empty]\nROUTING_PROFILE_ID = 87654321-69fb-43b6-a5e6-f8666ac189cb\nSECURITY_PROFILE_IDS = 12345678-1234-2345-abd8-0aa7f5b46852\nPRIORITY = 3\n"),
            "[Mapping empty]",
            Origin::Line(7),
            "neither GROUP nor APP",
        ),
        (
            with("[Mapping a]\nGROUP = a\nROUTING_PROFILE_ID = 87654321-69fb-43b6-a5e6-f8666ac189cb\nSECURITY_PROFILE_IDS = 12345678-1234-2345-abd8-0aa7f5b46852\nPRIORITY = 3\n[Mapping b]\nGROUP = b\nROUTING_PROFILE_ID = 87654321-69fb-43b6-a5e6-f8666ac189cb\nSECURITY_PROFILE_IDS = 12345678-1234-2345-abd8-0aa7f5b46852\nPRIORITY = 3\n"),
            "[Mapping b] PRIORITY",
            Origin::Line(16),
            "priorities must differ",
        ),
        (
            with("[Mapping a]\nGROUP = a\nROUTING_PROFILE_ID = 87654321-69fb-43b6-a5e6-f8666ac189cb\nSECURITY_PROFILE_IDS = 12345678-1234-2345-abd8-0aa7f5b46852\nPRIORITY = 1000\n"),
            "[Mapping a] PRIORITY",
            Origin::Line(11),
            "also mapping \"default\"",
        ),
        (
            with("[Mapping a]\nGROUP = a\nROUTING_PROFILE_ID = 87654321-69fb-43b6-a5e6-f8666ac189cb\nSECURITY_PROFILE_IDS = 12345678-1234-2345-abd8-0aa7f5b46852\n"),
            "[Mapping a] PRIORITY",
            Origin::Line(7),
            "required",
        ),
        (
            with("[Mapping a]\nAPP = Connect\nSECURITY_PROFILE_IDS = 12345678-1234-2345-abd8-0aa7f5b46852\nPRIORITY = 1\n"),
            "[Mapping a] ROUTING_PROFILE_ID",
            Origin::Line(7),
            "required",
        ),
        (
            "[Connect]\nINSTANCE_ID = 11111111-2222-3333-4444-555555555555\nROUTING_PROFILE_ID = 87654321-69fb-43b6-a5e6-f8666ac189cb\nSECURITY_PROFILE_IDS = 12345678-1234-2345-abd8-0aa7f5b46852\n".into(),
            "[OKTA] GROUP_NAME",
            Origin::Line(3),
            "neither group nor app",
        ),
        (
            "[OKTA]\nGROUP_NAME = g\n[Connect]\nROUTING_PROFILE_ID = 87654321-69fb-43b6-a5e6-f8666ac189cb\nSECURITY_PROFILE_IDS = 12345678-1234-2345-abd8-0aa7f5b46852\n".into(),
            "[Connect] INSTANCE_ID",
            Origin::Line(3),
            "required",
        ),
        (with("[Sync]\nREMOVAL_POLICY = archive\n"), "[Sync] REMOVAL_POLICY", Origin::Line(8), "not one of"),
        (with("[Sync]\nSUSPEND_POLICY = disable\n"), "[Sync] SUSPEND_POLICY", Origin::Line(8), "not one of"),
        (with("[Sync]\nUSERNAME_SOURCE = upn\n"), "[Sync] USERNAME_SOURCE", Origin::Line(8), "not one of"),
        (with("[Sync]\nLEDGER_RETENTION_DAYS = 0\n"), "[Sync] LEDGER_RETENTION_DAYS", Origin::Line(8), "not an allowed number"),
        (with("REQUESTS_PER_SECOND = -1\n"), "[Connect] REQUESTS_PER_SECOND", Origin::Line(7), "not an allowed number"),
        (with("BURST = 0\n"), "[Connect] BURST", Origin::Line(7), "not an allowed number"),
        (with("SEND_EMAIL = maybe\n"), "[Connect] SEND_EMAIL", Origin::Line(7), "not true or false"),
        (with("REGION = Frankfurt\n"), "[Connect] REGION", Origin::Line(7), "not an AWS Region"),
        (with("HIERARCHY_GROUP_ID = top\n"), "[Connect] HIERARCHY_GROUP_ID", Origin::Line(7), "malformed id"),
        (
            "[OKTA]\nGROUP_NAME = g\nGROUP_MEMBERSHIP_ADD_EVENT = add user\n[Connect]\nINSTANCE_ID = 11111111-2222-3333-4444-555555555555\nROUTING_PROFILE_ID = 87654321-69fb-43b6-a5e6-f8666ac189cb\nSECURITY_PROFILE_IDS = 12345678-1234-2345-abd8-0aa7f5b46852\n".into(),
            "[OKTA] GROUP_MEMBERSHIP_ADD_EVENT",
            Origin::Line(3),
            "not an Okta event type",
        ),
        (with("[Connect]\n"), "", Origin::Line(7), "appears twice"),
        (with("[Ingest]\nSECRET_HEADER = X Okta Secret\n"), "[Ingest] SECRET_HEADER", Origin::Line(8), "not an HTTP header name"),
        (with("[Deploy]\nBATCH_SIZE = 11\n"), "[Deploy] BATCH_SIZE", Origin::Line(8), "not an allowed number"),
        (with("[Deploy]\nMAX_CONCURRENCY = 1\n"), "[Deploy] MAX_CONCURRENCY", Origin::Line(8), "not an allowed number"),
        (with("[Deploy]\nLOG_RETENTION_DAYS = 10\n"), "[Deploy] LOG_RETENTION_DAYS", Origin::Line(8), "not an allowed number"),
        (with("[Deploy]\nALARM_EMAIL = ops at acme\n"), "[Deploy] ALARM_EMAIL", Origin::Line(8), "not an email"),
        (with("[Deploy]\nSTACK_NAME = 1stack\n"), "[Deploy] STACK_NAME", Origin::Line(8), "not a CloudFormation"),
        (with("[Deploy]\nSAML_FEDERATION = true\n"), "[Deploy] SAML_METADATA_FILE", Origin::Line(8), "required when"),
        (with("[Ingest]\nMAX_BODY_BYTES = 10\n"), "[Ingest] MAX_BODY_BYTES", Origin::Line(8), "not an allowed number"),
    ];
    for (text, key, origin, needle) in cases {
        let e = err(&text);
        let issue = e
            .issues
            .iter()
            .find(|i| i.key.eq_ignore_ascii_case(key))
            .unwrap_or_else(|| panic!("no issue for {key:?} in:\n{e}"));
        assert_eq!(issue.origin, origin, "{key}: {e}");
        assert!(
            issue.problem.contains(needle),
            "{key}: {needle:?} not in {e}"
        );
        // The rendered message carries key and line, so an admin can go straight there.
        let rendered = e.to_string();
        assert!(rendered.contains(key), "{rendered}");
        assert!(rendered.contains(&origin.to_string()), "{rendered}");
    }
}

#[test]
fn an_empty_file_explains_what_is_missing() {
    let e = err("");
    assert!(e.issue_for("[Connect] INSTANCE_ID").is_some());
    let e = err("[Connect]\nINSTANCE_ID = 11111111-2222-3333-4444-555555555555\n");
    assert!(e.to_string().contains("no access mapping"), "{e}");
}

#[test]
fn several_problems_are_reported_together_in_line_order() {
    let e = err(&with("BURST = 0\nSEND_EMAIL = perhaps\nCOLOR = red\n"));
    let lines: Vec<Origin> = e.issues.iter().map(|i| i.origin.clone()).collect();
    assert_eq!(lines, [Origin::Line(7), Origin::Line(8), Origin::Line(9)]);
}

#[test]
fn empty_values_mean_unset() {
    let config =
        Config::from_ini(&with("REGION =\n[Sync]\nREMOVAL_POLICY =   # default\n")).unwrap();
    assert_eq!(config.region, None);
    assert_eq!(config.removal, RemovalPolicy::Delete);
}

#[test]
fn sources_match_by_id_or_case_insensitive_name() {
    let group = AccessSource::group("amazon_connect");
    assert!(group.matches(SourceKind::Group, Some("00gX"), Some("Amazon_Connect")));
    assert!(!group.matches(SourceKind::App, None, Some("amazon_connect")));
    let by_id = AccessSource::app("0oa1awsF3d3rat10n0d7");
    assert!(by_id.matches(
        SourceKind::App,
        Some("0oa1awsF3d3rat10n0d7"),
        Some("Renamed")
    ));
    assert!(!by_id.matches(
        SourceKind::App,
        Some("0oa-other"),
        Some("0oa1AWSF3D3RAT10N0D7x")
    ));
}

#[test]
fn connect_ids_are_checked_for_shape() {
    assert!(ConnectId::parse("87654321-69fb-43b6-a5e6-f8666ac189cb").is_some());
    assert!(ConnectId::parse("abcdefgh-0122-4131-adc2-a0ebe5a2b2a7").is_some());
    for bad in [
        "",
        "87654321",
        "87654321-69fb-43b6-a5e6-f8666ac189c",
        "8765432!-69fb-43b6-a5e6-f8666ac189cb",
        " 87654321-69fb-43b6-a5e6-f8666ac189cb",
    ] {
        assert!(ConnectId::parse(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn ingest_settings_read_only_their_own_section() {
    // A worker-only mistake does not stop the endpoint that makes events durable.
    let text = "[Connect]\nINSTANCE_ID = broken\n[Ingest]\nSECRET_HEADER = X-Okta-Secret\n";
    assert!(Config::from_ini(text).is_err());
    let ingest =
        IngestSettings::parse(text, [("OKTA_CONNECT__INGEST__MAX_BODY_BYTES", "2048")]).unwrap();
    assert_eq!(ingest.secret_header, "x-okta-secret");
    assert_eq!(ingest.max_body_bytes, 2048);
    assert_eq!(
        IngestSettings::parse("", std::iter::empty::<(&str, &str)>())
            .unwrap()
            .secret_header,
        "authorization"
    );
    let e = IngestSettings::parse(
        "[Ingest]\nMAX_BODY = 1\nSECRET_HEADER = a b\n",
        std::iter::empty::<(&str, &str)>(),
    )
    .unwrap_err();
    assert_eq!(e.issues.len(), 2, "{e}");
    assert_eq!(
        e.issue_for("[Ingest] MAX_BODY").unwrap().origin,
        Origin::Line(2)
    );
}

#[test]
fn okta_ids_are_recognised_by_kind_and_shape() {
    assert!(AccessSource::group("00g1ab2cd3EF4gh5ij6k").configured_by_id());
    assert!(AccessSource::app("0oa1awsF3d3rat10n0d7").configured_by_id());
    // A group id named as an app is a label, not an id.
    assert!(!AccessSource::app("00g1ab2cd3EF4gh5ij6k").configured_by_id());
    assert!(!AccessSource::group("00g_short").configured_by_id());
    assert_eq!(AccessSource::group("amazon_connect").id, None);
}

#[test]
fn a_bound_name_matches_by_id_after_a_rename() {
    let config = Config::from_ini(&with("")).unwrap();
    let binding = SourceBinding {
        kind: SourceKind::Group,
        name: "AGENTS".into(),
        id: "00gAgents00000000001".into(),
        okta_name: "agents".into(),
        bound_by: BoundBy::Event,
        bound_at: crate::time::UnixMillis(1),
    };
    assert_eq!(config.unbound_sources().count(), 1);
    let bound = config.with_bindings(std::slice::from_ref(&binding));
    assert_eq!(bound.unbound_sources().count(), 0);
    let source = &bound.mappings[0].sources[0];
    assert!(source.matches(SourceKind::Group, Some(&binding.id), Some("renamed agents")));
    assert!(
        !source.matches(
            SourceKind::Group,
            Some("00gOther000000000001"),
            Some("agents")
        ),
        "once bound, another group that took the old name does not match"
    );
    assert_eq!(
        source.to_string(),
        "group \"agents\" (00gAgents00000000001)"
    );
}

#[test]
fn the_okta_api_section_is_optional_and_validated() {
    assert_eq!(Config::from_ini(&with("")).unwrap().okta_api, None);
    let config = Config::from_ini(&with(
        "[OktaApi]\nORG_URL = https://acme.okta.com/\nCLIENT_ID = 0oaclient\nKEY_ID = k1\n\
         CREDENTIALS = secret:okta-connect/okta\n",
    ))
    .unwrap();
    let api = config.okta_api.unwrap();
    assert_eq!(api.org_url, "https://acme.okta.com");
    assert_eq!(
        api.auth,
        OktaApiAuth::PrivateKeyJwt {
            client_id: "0oaclient".into(),
            key_id: Some("k1".into())
        }
    );
    assert_eq!(
        api.credentials,
        CredentialSource::Secret("okta-connect/okta".into())
    );
    assert_eq!((api.timeout_seconds, api.max_concurrent_requests), (10, 4));

    let token = Config::from_ini(&with("[OktaApi]\nORG_URL = http://127.0.0.1:8080\n"))
        .unwrap()
        .okta_api
        .unwrap();
    assert_eq!(token.auth, OktaApiAuth::ApiToken);
    assert_eq!(
        token.credentials,
        CredentialSource::Env(DEFAULT_OKTA_CREDENTIALS_VAR.into())
    );

    let e = err(&with(
        "[OktaApi]\nORG_URL = http://acme.okta.com\nKEY_ID = k\nCREDENTIALS = 00abcdef-token\n\
         MAX_CONCURRENT_REQUESTS = 500\n",
    ));
    for key in [
        "ORG_URL",
        "KEY_ID",
        "CREDENTIALS",
        "MAX_CONCURRENT_REQUESTS",
    ] {
        let issue = e
            .issue_for(&format!("[OktaApi] {key}"))
            .unwrap_or_else(|| panic!("no issue for {key}: {e}"));
        assert!(matches!(issue.origin, Origin::Line(_)), "{issue}");
    }
    assert!(
        !e.to_string().contains("00abcdef-token"),
        "a credential pasted into the file is not echoed: {e}"
    );
}

#[test]
fn reconcile_schedules_are_eventbridge_scheduler_expressions() {
    let defaults = Config::from_ini(&with("")).unwrap().reconcile;
    assert_eq!(defaults.schedule, DEFAULT_RECONCILE_SCHEDULE);
    assert!(defaults.schedule_enabled);
    for ok in [
        "rate(1 day)",
        "rate(15 minutes)",
        "rate(6 hours)",
        "rate(1 hour)",
        "cron(0 3 * * ? *)",
    ] {
        assert_eq!(check_schedule(ok), Ok(()), "{ok}");
    }
    for bad in [
        "rate(1 days)",
        "rate(2 day)",
        "rate(14 minutes)",
        "rate(one day)",
        "rate(1 week)",
        "rate(1day)",
        "cron(0 3 * * ?)",
        "at(2026-12-01T00:00:00)",
        "",
    ] {
        assert!(check_schedule(bad).is_err(), "{bad}");
    }
    let off = Config::from_ini(&with(
        "[Reconcile]\nSCHEDULE = cron(30 2 ? * MON-FRI *)\nSCHEDULE_ENABLED = false\n",
    ))
    .unwrap()
    .reconcile;
    assert_eq!(off.schedule, "cron(30 2 ? * MON-FRI *)");
    assert!(!off.schedule_enabled);
}

#[test]
fn ingest_body_limit_defaults_to_lambdas_payload_limit_and_stays_within_api_gateways() {
    let defaults = IngestSettings::parse("", std::iter::empty::<(&str, &str)>()).unwrap();
    assert_eq!(defaults.max_body_bytes, 6_291_456);
    for (value, ok) in [
        ("1023", false),
        ("1024", true),
        ("6291456", true),
        ("10485760", true),
        ("10485761", false),
    ] {
        let parsed = IngestSettings::parse("", [("OKTA_CONNECT__INGEST__MAX_BODY_BYTES", value)]);
        assert_eq!(parsed.is_ok(), ok, "{value}");
    }
}

#[test]
fn suspension_keeps_the_connect_user_by_default_and_a_missing_profile_is_named() {
    // Unset profile id: valid (a stack creates the profile and sets the key), but
    // nothing that revokes may run with it.
    let config = Config::from_ini(&with("[Sync]\nREMOVAL_POLICY = NO_PERMISSION\n")).unwrap();
    assert_eq!(
        config.suspension,
        RemovalPolicy::NoPermission {
            security_profile_id: None
        }
    );
    assert_eq!(
        config.unset_no_permission_profile(),
        ["REMOVAL_POLICY", "SUSPEND_POLICY"]
    );
    let why = config.check_revocations_can_run().unwrap_err();
    assert!(why.contains("NO_PERMISSION_SECURITY_PROFILE_ID"), "{why}");

    let profile = "e3b0c442-98fc-4c14-9afb-f4c8996fb924";
    let config = Config::from_ini(&with(&format!(
        "[Sync]\nNO_PERMISSION_SECURITY_PROFILE_ID = {profile}\n"
    )))
    .unwrap();
    assert_eq!(config.removal, RemovalPolicy::Delete);
    assert_eq!(
        config.suspension,
        RemovalPolicy::NoPermission {
            security_profile_id: Some(id(profile))
        }
    );
    assert_eq!(config.check_revocations_can_run(), Ok(()));

    let config = Config::from_ini(&with("[Sync]\nSUSPEND_POLICY = DELETE\n")).unwrap();
    assert_eq!(config.suspension, RemovalPolicy::Delete);
    assert!(config.unset_no_permission_profile().is_empty());
}
