-- Joint inspection tasks and everything that happens to them.

CREATE TABLE task (
    id               uuid PRIMARY KEY,
    title            text NOT NULL,
    lead_department  text NOT NULL,
    departments      text[] NOT NULL,          -- lead first, then the participants
    scope            jsonb NOT NULL,           -- the entity filter of the read graph
    plan             jsonb NOT NULL,           -- ratio per grade, floor, cap, exclusion window
    team_size        integer NOT NULL CHECK (team_size >= 2),
    window_start     date NOT NULL,
    window_end       date NOT NULL CHECK (window_end >= window_start),
    status           text NOT NULL CHECK (status IN ('DRAFT', 'DRAWN', 'CLOSED', 'PUBLISHED')),
    seed             bytea NOT NULL,           -- secret until the draw reveals it
    seed_commitment  text NOT NULL,            -- sha256(seed), shown from creation
    seed_revealed    boolean NOT NULL DEFAULT false,
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    drawn_at         timestamptz,
    population       jsonb,                    -- per grade: population, drawn
    excluded         jsonb,                    -- counts by reason
    savings          jsonb,
    closed_at        timestamptz,
    close_reason     text
);
CREATE INDEX task_status ON task (status, created_at DESC, id);

-- What a draw was computed from (population, items, inspector pool), frozen and compressed,
-- so that verify-draw can recompute the draw from it and the revealed seed.
CREATE TABLE task_population (
    task_id    uuid PRIMARY KEY REFERENCES task(id),
    entities   integer NOT NULL,
    drawn_on   date NOT NULL,
    sha256     text NOT NULL,                  -- of the uncompressed snapshot
    data       bytea NOT NULL                  -- zlib of the JSON snapshot
);

-- Merged forms, stored once: entities of one kind and industry share the same form.
CREATE TABLE form (
    hash  text PRIMARY KEY,                    -- sha256 of the body
    body  jsonb NOT NULL
);

CREATE TABLE visit (
    id           uuid PRIMARY KEY,
    task_id      uuid NOT NULL REFERENCES task(id),
    uscc         char(18) NOT NULL,
    entity_name  text,
    district     char(6) NOT NULL,
    kind         text NOT NULL,
    industry     text NOT NULL,
    grade        char(1) NOT NULL,
    rank         text NOT NULL,                -- hex of the keyed hash that drew it
    form_hash    text NOT NULL REFERENCES form(hash),  -- the merged checklist
    state        text NOT NULL DEFAULT 'NOT_ENTERED'
                 CHECK (state IN ('NOT_ENTERED', 'PENDING_REVIEW', 'RETURNED', 'APPROVED',
                                  'PUBLISHED', 'CLOSED_UNFINISHED')),
    UNIQUE (task_id, uscc)
);
CREATE INDEX visit_task ON visit (task_id, state);

CREATE TABLE assignment (
    id           bigserial PRIMARY KEY,
    visit_id     uuid NOT NULL REFERENCES visit(id),
    inspector_id text NOT NULL,
    department   text NOT NULL,
    role         text NOT NULL,
    wider_pool   boolean NOT NULL,
    rank         text NOT NULL,
    seat         integer NOT NULL,             -- n-th seat of its department: fixes its ranking
    origin       text NOT NULL CHECK (origin IN ('DRAW', 'SUBSTITUTION')),
    assigned_at  timestamptz NOT NULL DEFAULT now(),
    replaced_at  timestamptz,                  -- the original stays; substitution closes it
    replaced_by  bigint REFERENCES assignment(id),
    reason       text                          -- why it was replaced
);
CREATE INDEX assignment_visit ON assignment (visit_id) WHERE replaced_at IS NULL;

-- Each entry or correction of a visit's result is a new version; the latest counts.
CREATE TABLE result (
    visit_id      uuid NOT NULL REFERENCES visit(id),
    version       integer NOT NULL,
    category      text NOT NULL,
    entries       jsonb NOT NULL,              -- per merged entry: outcome and note
    concluded_on  date NOT NULL,
    entered_by    text NOT NULL,
    entered_at    timestamptz NOT NULL DEFAULT now(),
    reviewed_by   text,
    reviewed_at   timestamptz,
    approved      boolean,
    review_comment text,
    PRIMARY KEY (visit_id, version)
);

CREATE TABLE publication (
    visit_id      uuid PRIMARY KEY REFERENCES visit(id),
    task_id       uuid NOT NULL REFERENCES task(id),
    uscc          char(18) NOT NULL,
    published_on  date NOT NULL,
    deadline      date NOT NULL,
    late          boolean NOT NULL,
    record        jsonb NOT NULL               -- exactly what the public sees
);
CREATE INDEX publication_uscc ON publication (uscc, published_on DESC);
CREATE INDEX publication_task ON publication (task_id, published_on DESC);

-- Credit feedback waiting to reach the credit platform (transactional outbox).
CREATE TABLE credit_outbox (
    id            uuid PRIMARY KEY,            -- also the record id at the platform: idempotent
    uscc          char(18) NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    delivered_at  timestamptz
);
CREATE INDEX credit_outbox_pending ON credit_outbox (created_at) WHERE delivered_at IS NULL;

CREATE TABLE idempotency (
    key           text PRIMARY KEY,
    operation     text NOT NULL,
    request_hash  text NOT NULL,
    response      jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Every state change of a task, each row chained by hash to the one before.
CREATE TABLE audit (
    seq        bigserial PRIMARY KEY,
    task_id    uuid,
    at         timestamptz NOT NULL,
    actor      text NOT NULL,
    action     text NOT NULL,
    detail     jsonb NOT NULL,
    prev_hash  text NOT NULL,
    hash       text NOT NULL
);
CREATE INDEX audit_task ON audit (task_id, seq);
