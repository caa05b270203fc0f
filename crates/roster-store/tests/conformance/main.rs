//! Backend conformance: every case is a `fn(&dyn Store)` that knows no
//! backend, and the `conformance!` macro runs each on a fresh SQLite file
//! and on a fresh PostgreSQL database. Backend-specific checks (migrations
//! on reopen, concurrent migration) are at the end.

mod accounts;
mod bulk;
mod mail_and_keys;
mod members;
mod projects;
mod scale;
mod support;
mod transactions;

macro_rules! conformance {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $case() {
                    let db = crate::support::sqlite();
                    crate::$module::$case(db.store());
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $case() {
                    let db = crate::support::postgres();
                    crate::$module::$case(db.store());
                }
            )*
        }
    };
}

conformance!(
    accounts::users_get_sequential_numbers_and_read_back,
    accounts::users_without_password_read_back_none,
    accounts::non_ascii_emails_are_found_and_rewritten,
    accounts::duplicate_email_and_username_are_conflicts,
    accounts::settings_keep_the_first_value,
    accounts::sessions_revoke_once,
    accounts::refresh_tokens_are_single_use,
    accounts::concurrent_refresh_token_uses_succeed_once,
    accounts::only_an_unverified_account_in_no_org_is_deleted,
    members::orgs_insert_update_and_read,
    members::memberships_crud_and_count_owners,
    members::delete_membership_removes_only_that_orgs_projects,
    members::list_members_walks_every_member_once_in_order,
    members::member_search_takes_wildcards_literally,
    members::list_user_orgs_pages_in_org_id_order,
    projects::projects_crud_and_pages,
    projects::project_members_crud_and_pages,
    projects::one_open_invitation_per_address,
    projects::open_invitations_gate_signup_until_they_expire,
    projects::audit_events_page_newest_first,
    projects::audit_events_filter_by_actor_and_action_and_page,
    projects::actor_events_are_counted_across_orgs_since_a_time,
    projects::delete_org_cascades_but_keeps_audit_events,
    mail_and_keys::outbox_emails_are_claimed_once_and_delivery_marks_the_invitation_sent,
    mail_and_keys::concurrent_claims_of_one_email_succeed_once,
    mail_and_keys::email_verifications_are_single_use,
    mail_and_keys::invitation_lists_judge_expiry_at_the_given_time,
    mail_and_keys::api_keys_are_found_by_hash_listed_touched_and_revoked,
    mail_and_keys::labels_usernames_numbers_and_numbered_pages,
    transactions::failed_write_leaves_no_trace,
    transactions::panicking_write_rolls_back_and_the_store_carries_on,
    transactions::a_failed_operation_aborts_its_transaction,
    transactions::reads_cannot_lock_an_org,
    transactions::reads_do_not_wait_for_writes,
    transactions::concurrent_demotions_leave_exactly_one_owner,
);

// --- backend-specific ---

#[test]
fn sqlite_reopening_applies_no_step_twice_and_refuses_a_newer_schema() {
    let db = support::sqlite();
    let path = db.url.trim_start_matches("sqlite://").to_string();
    let ada = support::user(db.store(), "ada");
    let again = roster_store::SqliteStore::open(std::path::Path::new(&path)).unwrap();
    let read = roster_core::store::read(&again, |tx| tx.user(ada.id)).unwrap();
    assert_eq!(read, Some(ada));

    let conn = rusqlite::Connection::open(&path).unwrap();
    let steps: i64 = conn
        .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        steps,
        roster_store::migration_versions(roster_store::Backend::Sqlite).len() as i64
    );
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.execute(
        "INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)",
        [],
    )
    .unwrap();
    let err = roster_store::open(&db.url).err().unwrap();
    assert!(err.contains("newer"), "{err}");
}

#[test]
fn postgres_concurrent_first_opens_migrate_once_and_refuse_a_newer_schema() {
    let url = roster_testkit::fresh_postgres_database();
    std::thread::scope(|scope| {
        let opens: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| roster_store::open(&url).map(drop)))
            .collect();
        for open in opens {
            open.join().unwrap().unwrap();
        }
    });
    let mut client = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    let steps: i64 = client
        .query_one("SELECT COUNT(*) FROM schema_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        steps,
        roster_store::migration_versions(roster_store::Backend::Postgres).len() as i64
    );
    client
        .execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)",
            &[],
        )
        .unwrap();
    let err = roster_store::open(&url).err().unwrap();
    assert!(err.contains("newer"), "{err}");
}

#[test]
fn postgres_errors_are_readable_and_keep_the_url_secret() {
    let err = roster_store::open("postgres://roster:hunter2@127.0.0.1:1/nowhere")
        .err()
        .unwrap();
    assert!(err.contains("cannot connect"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}
