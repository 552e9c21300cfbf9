-- Observers take part in a task's seed (docs/draw-spec.md §1): each commits to a share before
-- the draw and reveals it at the draw; the seed is the hash of the hub's share and theirs.

-- The seed the draw used. The hub's own share stays in `seed` (its SHA-256 is
-- seed_commitment); without observers the two are the same, as for every earlier draw.
ALTER TABLE task ADD COLUMN draw_seed bytea;
UPDATE task SET draw_seed = seed WHERE status <> 'DRAFT';

CREATE TABLE task_observer (
    task_id            uuid NOT NULL REFERENCES task(id),
    ordinal            integer NOT NULL CHECK (ordinal >= 1),  -- order of the shares in the seed
    name               text NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('DEPARTMENT', 'CITIZEN_SUPERVISOR', 'OTHER')),
    department         text,
    credential_sha256  text UNIQUE,            -- of the credential the planner handed out
    commitment         text,                   -- sha256 (hex) of the share, made before the draw
    committed_at       timestamptz,
    share              bytea,                  -- 32 bytes, revealed before the draw is made
    revealed_at        timestamptz,
    PRIMARY KEY (task_id, ordinal),
    CHECK (share IS NULL OR commitment IS NOT NULL)
);
