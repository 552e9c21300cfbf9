-- Change notifications for the hub's cache. This department keys by the 15-digit number:
-- the notification carries the USCC from the crosswalk, the key the hub caches by.
CREATE OR REPLACE FUNCTION hub_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    reg text;
    code text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        reg := to_jsonb(OLD) ->> 'reg_no';
    ELSE
        reg := to_jsonb(NEW) ->> 'reg_no';
    END IF;
    SELECT uscc INTO code FROM reg_no_map WHERE reg_no = reg;
    IF code IS NOT NULL THEN
        PERFORM pg_notify('hub_changes', code);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON safety_licence FOR EACH ROW EXECUTE FUNCTION hub_notify();
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON punishment FOR EACH ROW EXECUTE FUNCTION hub_notify();
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON safety_check FOR EACH ROW EXECUTE FUNCTION hub_notify();
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON staff_avoidance FOR EACH ROW EXECUTE FUNCTION hub_notify();
