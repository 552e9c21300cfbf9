-- Tables whose changes the hub's cache hears of (hub_notify.sql: the function).
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON credit_record FOR EACH ROW EXECUTE FUNCTION hub_notify('uscc');
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON credit_rating FOR EACH ROW EXECUTE FUNCTION hub_notify('uscc');
