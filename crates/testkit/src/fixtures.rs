//! The Okta fixtures in `tests/fixtures/okta/`, by file name: real payload shapes (see
//! `regenerate.py` there), plus the project's and the original sample's `config.ini`.
//!
//! One list for every crate: the testkit exports it, and `okta-connect-core` includes this
//! file into its own unit tests (it cannot depend on the testkit without a cycle).

macro_rules! fixtures {
    ($($name:ident => $file:literal),* $(,)?) => {
        $(
            #[doc = concat!("`tests/fixtures/okta/", $file, "`")]
            pub const $name: &str =
                include_str!(concat!("../../../tests/fixtures/okta/", $file));
        )*
        /// Every fixture as `(file name, text)`.
        pub const ALL: &[(&str, &str)] = &[$(($file, $name)),*];
    };
}

fixtures! {
    GROUP_MEMBERSHIP_ADD => "group_membership_add.json",
    GROUP_MEMBERSHIP_REMOVE => "group_membership_remove.json",
    APP_MEMBERSHIP_ADD => "app_membership_add.json",
    APP_MEMBERSHIP_REMOVE => "app_membership_remove.json",
    SUPERVISOR_GROUP_ADD => "supervisor_group_add.json",
    USER_LIFECYCLE_ACTIVATE => "user_lifecycle_activate.json",
    USER_LIFECYCLE_DEACTIVATE => "user_lifecycle_deactivate.json",
    USER_LIFECYCLE_SUSPEND => "user_lifecycle_suspend.json",
    USER_LIFECYCLE_UNSUSPEND => "user_lifecycle_unsuspend.json",
    USER_LIFECYCLE_REACTIVATE => "user_lifecycle_reactivate.json",
    USER_UPDATE_PROFILE => "user_update_profile.json",
    NON_ASCII_NAMES => "non_ascii_names.json",
    USERNAME_REJECTED_BY_CONNECT => "username_rejected_by_connect.json",
    MIXED_BATCH => "mixed_batch.json",
    TARGET_NULL_AND_MISSING_FIELDS => "target_null_and_missing_fields.json",
    HUNDRED_EVENTS => "hundred_events.json",
    EMPTY_EVENTS => "empty_events.json",
    INVALID_NOT_JSON => "invalid_not_json.txt",
    INVALID_TRUNCATED => "invalid_truncated.json",
    INVALID_WRONG_ENVELOPE => "invalid_wrong_envelope.json",
    INVALID_MISSING_DATA_EVENTS => "invalid_missing_data_events.json",
    INVALID_EVENTS_NOT_ARRAY => "invalid_events_not_array.json",
    INVALID_EVENT_UUID_NUMBER => "invalid_event_uuid_number.json",
}

/// The project's default `config.ini`, which the fixtures are written against.
pub const CONFIG_INI: &str = include_str!("../../../config.ini");
/// The original Python sample's `config.ini`, verbatim.
pub const SEED_CONFIG_INI: &str = include_str!("../../../tests/fixtures/config/seed_sample.ini");

/// The fixtures that are valid deliveries (every `invalid_*` file is not).
pub fn deliveries() -> impl Iterator<Item = (&'static str, &'static str)> {
    ALL.iter()
        .copied()
        .filter(|(name, _)| !name.starts_with("invalid_"))
}
