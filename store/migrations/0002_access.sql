-- Integration partners' API keys (only a hash of the secret is kept), the operations they may
-- run, and the log of who read which entity's record.

CREATE TABLE api_key (
    id          text PRIMARY KEY,              -- public part of the key: jsh_<id>_<secret>
    secret_hash text NOT NULL,                 -- sha256 of the secret part
    owner       text NOT NULL,
    scopes      text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE persisted_operation (
    sha256      text PRIMARY KEY,              -- of the document text
    name        text NOT NULL,
    document    text NOT NULL,
    scopes      text[] NOT NULL,               -- a key needs every one of these to run it
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE access_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    request_id   text NOT NULL,
    client_kind  text NOT NULL,
    subject      text NOT NULL,
    department   text,                         -- the reader's department, if any
    operation    text,
    entities     text[] NOT NULL,              -- USCCs whose records were read
    departments  text[] NOT NULL               -- whose data was read
);
CREATE INDEX access_log_at ON access_log (at DESC);
CREATE INDEX access_log_entities ON access_log USING gin (entities);
CREATE INDEX access_log_departments ON access_log USING gin (departments);
