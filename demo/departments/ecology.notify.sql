-- Tables whose changes the hub's cache hears of (hub_notify.sql: the function).
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON discharge_licence FOR EACH ROW EXECUTE FUNCTION hub_notify('credit_code');
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON env_sanction FOR EACH ROW EXECUTE FUNCTION hub_notify('credit_code');
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON site_check FOR EACH ROW EXECUTE FUNCTION hub_notify('credit_code');
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON officer_conflict FOR EACH ROW EXECUTE FUNCTION hub_notify('credit_code');
