-- Idempotency keys belong to the actor who sent them (kind and subject): another actor
-- using the same key string runs its own command and never receives someone else's answer.
-- Keys stored before this have no known actor ('') and are never matched again.
ALTER TABLE idempotency ADD COLUMN actor text NOT NULL DEFAULT '';
ALTER TABLE idempotency DROP CONSTRAINT idempotency_pkey;
ALTER TABLE idempotency ADD PRIMARY KEY (actor, key);
