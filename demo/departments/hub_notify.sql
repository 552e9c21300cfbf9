-- Change notifications for the hub's cache: the entity key of the changed row, on commit.
-- Applied to every demo department after its load; <code>.notify.sql adds the triggers.
CREATE FUNCTION hub_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_key text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_key := to_jsonb(OLD) ->> TG_ARGV[0];
    ELSE
        row_key := to_jsonb(NEW) ->> TG_ARGV[0];
    END IF;
    PERFORM pg_notify('hub_changes', row_key);
    RETURN NULL;
END $$;
