-- Four eyes: who entered each result version (token subject and department), so a review can
-- refuse the same person and check the reviewer's department; results concluded outside the
-- task's window are accepted and flagged.
ALTER TABLE result
    ADD COLUMN entered_subject    text,
    ADD COLUMN entered_department text,
    ADD COLUMN outside_window     boolean NOT NULL DEFAULT false;
-- Versions entered before: the actor is "<kind>:<subject>@<department>".
UPDATE result
   SET entered_subject = regexp_replace(substr(entered_by, strpos(entered_by, ':') + 1),
                                        '@[^@]*$', ''),
       entered_department = substring(entered_by FROM '@([^@]*)$');
ALTER TABLE result
    ALTER COLUMN entered_subject SET NOT NULL,
    ALTER COLUMN entered_department SET NOT NULL;

-- A publication deadline counted through a year whose official calendar is not known yet.
ALTER TABLE publication ADD COLUMN provisional boolean NOT NULL DEFAULT false;

-- Credit repair (信用修复): an application filed on an entity's behalf for one credit record at
-- the credit platform, reviewed within 10 working days; an approval goes to the platform through
-- the credit outbox (the repair is a record there, the repaired record stays).
CREATE TABLE credit_repair (
    id                   uuid PRIMARY KEY,
    uscc                 char(18) NOT NULL,
    record_id            text NOT NULL,          -- the platform's id of the repaired record
    record_kind          text NOT NULL,
    record_title         text NOT NULL,
    publicity_class      text NOT NULL,
    decided_on           date NOT NULL,          -- the record's decision date
    reason               text NOT NULL,
    applied_by           text NOT NULL,          -- the actor, as the audit trail names it
    applied_subject      text NOT NULL,
    applied_department   text NOT NULL,
    applied_on           date NOT NULL,
    review_due           date NOT NULL,
    review_due_provisional boolean NOT NULL,
    state                text NOT NULL DEFAULT 'PENDING'
                         CHECK (state IN ('PENDING', 'APPROVED', 'REJECTED')),
    reviewed_by          text,
    reviewed_on          date,
    review_comment       text,
    share_by             date,                   -- local platforms share the decision by then
    share_by_provisional boolean,
    created_at           timestamptz NOT NULL DEFAULT now()
);
-- One open or granted repair per record; a rejected one may be filed again.
CREATE UNIQUE INDEX credit_repair_one ON credit_repair (record_id)
    WHERE state IN ('PENDING', 'APPROVED');
CREATE INDEX credit_repair_state ON credit_repair (state, review_due, id);
CREATE INDEX credit_repair_uscc ON credit_repair (uscc, created_at DESC);
