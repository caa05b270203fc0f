-- Direct adds are rate-limited per actor (issue 15): the core counts one
-- actor's `member.added` events of the last hour, across orgs. This index
-- makes that count a range seek instead of a scan of the whole log.
CREATE INDEX audit_events_actor ON audit_events (actor_id, action, created_at);
