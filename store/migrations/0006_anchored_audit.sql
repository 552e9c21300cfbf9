-- The audit log built like a transparency log (store/audit.py). Existing entries are left
-- exactly as they were written (format 1: no content hashes, outside the log); verification
-- reports them as pre-anchoring. New entries (format 2) carry:
ALTER TABLE audit
    ADD COLUMN format      smallint NOT NULL DEFAULT 1,
    ADD COLUMN content     text,        -- digest of the content hashes of the rows it wrote
    ADD COLUMN task_index  bigint,      -- its position in the task's trail (1 = the first)
    ADD COLUMN log_index   bigint,      -- its position in the one log of all tasks
    ADD COLUMN log_prev    text,        -- the log's head before it
    ADD COLUMN log_hash    text;        -- sha256(log_prev || hash): the log's head after it
CREATE UNIQUE INDEX audit_log ON audit (log_index) WHERE log_index IS NOT NULL;

-- The content hash of each row an entry wrote (store/content.py), as it was then.
CREATE TABLE audit_anchor (
    seq   bigint NOT NULL REFERENCES audit(seq) DEFERRABLE INITIALLY DEFERRED,  -- written first
    kind  text NOT NULL,                -- task, form, visit, team, result, publication
    ref   text NOT NULL,                -- the row: task/visit id, form hash, visit id/version
    hash  text NOT NULL,
    PRIMARY KEY (seq, kind, ref)
);

-- Checkpoints signed with the hub's Ed25519 key after each entry: of the task's trail
-- (scope = task id) and of the whole log (scope = 'log'). Public.
CREATE TABLE audit_checkpoint (
    scope       text NOT NULL,
    count       bigint NOT NULL,        -- entries covered
    head        text NOT NULL,          -- hash of the last of them
    signed_at   text NOT NULL,          -- ISO 8601 in UTC, exactly as signed
    public_key  text NOT NULL,          -- base64 of the raw 32-byte public key
    signature   text NOT NULL,          -- base64
    PRIMARY KEY (scope, count)
);
