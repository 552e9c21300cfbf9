-- The event outbox: every change that the outside hears about (subscriptions, department
-- webhooks, credit feedback) is written here in the transaction that makes the change, and
-- leaves from here. Ids are handed out under a lock held until commit (store/events.py), so
-- they grow in commit order and "everything after id N" is exact for catching up.

CREATE TABLE event (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind         text NOT NULL,                -- visit.assignment, visit.state, task.progress, result.published
    task_id      uuid,
    visit_id     uuid,
    departments  text[] NOT NULL DEFAULT '{}', -- whom it concerns: webhooks match on these
    inspectors   text[] NOT NULL DEFAULT '{}', -- "<department>/<inspector id>" concerned
    data         jsonb NOT NULL
);
CREATE INDEX event_task ON event (task_id, id) WHERE task_id IS NOT NULL;
CREATE INDEX event_visit ON event (visit_id, id) WHERE visit_id IS NOT NULL;
CREATE INDEX event_inspectors ON event USING gin (inspectors);
CREATE INDEX event_at ON event (at);

-- Department systems' endpoints: which department, which kinds, where. The secret signs each
-- delivery; it is kept encrypted with a key outside the database (HUB_WEBHOOK_KEY).
CREATE TABLE webhook (
    id           uuid PRIMARY KEY,
    department   text NOT NULL,
    url          text NOT NULL,
    kinds        text[] NOT NULL,
    secret       bytea NOT NULL,               -- Fernet token of the signing secret
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    removed_at   timestamptz
);
CREATE INDEX webhook_active ON webhook (department) WHERE removed_at IS NULL;

-- One row per (event, consumer) that must receive it: "credit" (the credit platform) or
-- "webhook:<id>". Written with the event; a worker in any hub process leases due rows
-- (FOR UPDATE SKIP LOCKED), delivers outside any transaction, then records the outcome.
CREATE TABLE event_delivery (
    event_id      bigint NOT NULL REFERENCES event(id) ON DELETE CASCADE,
    consumer      text NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    next_at       timestamptz NOT NULL DEFAULT now(),   -- due from (backoff after a failure)
    leased_until  timestamptz,                          -- a worker is delivering it until then
    delivered_at  timestamptz,
    dead_at       timestamptz,                          -- gave up: a dead letter until replayed
    last_error    text,
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX event_delivery_due ON event_delivery (next_at)
    WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX event_delivery_dead ON event_delivery (dead_at) WHERE dead_at IS NOT NULL;

-- Whether an approved credit repair has reached the platform (its event may be pruned later).
ALTER TABLE credit_repair ADD COLUMN delivered_at timestamptz;
UPDATE credit_repair r SET delivered_at = o.delivered_at FROM credit_outbox o WHERE o.id = r.id;

-- Credit feedback now leaves through the outbox: pending rows move over with their ids (the
-- visit's or the repair's, from which the record ids at the platform derive, so nothing is
-- delivered twice).
INSERT INTO event (at, kind, task_id, visit_id, departments, data)
SELECT o.created_at, 'result.published', (o.payload->>'taskId')::uuid, o.id,
       ARRAY(SELECT jsonb_array_elements_text(o.payload->'departments')),
       o.payload || jsonb_build_object('visitId', o.id::text)
FROM credit_outbox o
WHERE o.delivered_at IS NULL AND o.payload->>'kind' IS NULL ORDER BY o.created_at;
INSERT INTO event (at, kind, departments, data)
SELECT o.created_at, 'credit.repair', ARRAY[o.payload->>'department'],
       o.payload || jsonb_build_object('repairId', o.id::text)
FROM credit_outbox o
WHERE o.delivered_at IS NULL AND o.payload->>'kind' = 'REPAIR' ORDER BY o.created_at;
INSERT INTO event_delivery (event_id, consumer)
SELECT id, 'credit' FROM event WHERE kind IN ('result.published', 'credit.repair');
DROP TABLE credit_outbox;
