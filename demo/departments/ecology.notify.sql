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
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON discharge_licence FOR EACH ROW EXECUTE FUNCTION hub_notify('credit_code');
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON env_sanction FOR EACH ROW EXECUTE FUNCTION hub_notify('credit_code');
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON site_check FOR EACH ROW EXECUTE FUNCTION hub_notify('credit_code');
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON officer_conflict FOR EACH ROW EXECUTE FUNCTION hub_notify('credit_code');
