-- Change notifications for the hub's cache: the USCC whose record changed, on commit.
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
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON credit_record FOR EACH ROW EXECUTE FUNCTION hub_notify('uscc');
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON credit_rating FOR EACH ROW EXECUTE FUNCTION hub_notify('uscc');
