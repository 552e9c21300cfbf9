-- Tables whose changes the hub's cache hears of (hub_notify.sql: the function).
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON "businessPermit" FOR EACH ROW EXECUTE FUNCTION hub_notify('creditCode');
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON "adminPenalty" FOR EACH ROW EXECUTE FUNCTION hub_notify('creditCode');
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON "inspectionRecord" FOR EACH ROW EXECUTE FUNCTION hub_notify('creditCode');
CREATE TRIGGER hub_notify AFTER INSERT OR UPDATE OR DELETE ON "officerConflict" FOR EACH ROW EXECUTE FUNCTION hub_notify('creditCode');
