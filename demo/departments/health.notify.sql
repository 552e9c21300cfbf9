-- Change feed for the hub's cache. MariaDB has no LISTEN/NOTIFY: triggers append the USCC of
-- each changed row to hub_changes, which the hub polls (adapters/change_table.py).
CREATE TABLE hub_changes (
    id         BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    entity_key CHAR(18) NOT NULL,
    changed_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    KEY hub_changes_at (changed_at)
);
CREATE TRIGGER hub_unit_ins AFTER INSERT ON supervised_unit FOR EACH ROW INSERT INTO hub_changes (entity_key) VALUES (NEW.uscc);
CREATE TRIGGER hub_unit_upd AFTER UPDATE ON supervised_unit FOR EACH ROW INSERT INTO hub_changes (entity_key) VALUES (NEW.uscc), (OLD.uscc);
CREATE TRIGGER hub_unit_del AFTER DELETE ON supervised_unit FOR EACH ROW INSERT INTO hub_changes (entity_key) VALUES (OLD.uscc);
CREATE TRIGGER hub_licence_ins AFTER INSERT ON practice_licence FOR EACH ROW INSERT INTO hub_changes (entity_key) SELECT uscc FROM supervised_unit WHERE unit_id = NEW.unit_id;
CREATE TRIGGER hub_licence_upd AFTER UPDATE ON practice_licence FOR EACH ROW INSERT INTO hub_changes (entity_key) SELECT uscc FROM supervised_unit WHERE unit_id IN (NEW.unit_id, OLD.unit_id);
CREATE TRIGGER hub_licence_del AFTER DELETE ON practice_licence FOR EACH ROW INSERT INTO hub_changes (entity_key) SELECT uscc FROM supervised_unit WHERE unit_id = OLD.unit_id;
CREATE TRIGGER hub_penalty_ins AFTER INSERT ON administrative_penalty FOR EACH ROW INSERT INTO hub_changes (entity_key) SELECT uscc FROM supervised_unit WHERE unit_id = NEW.unit_id;
CREATE TRIGGER hub_penalty_upd AFTER UPDATE ON administrative_penalty FOR EACH ROW INSERT INTO hub_changes (entity_key) SELECT uscc FROM supervised_unit WHERE unit_id IN (NEW.unit_id, OLD.unit_id);
CREATE TRIGGER hub_penalty_del AFTER DELETE ON administrative_penalty FOR EACH ROW INSERT INTO hub_changes (entity_key) SELECT uscc FROM supervised_unit WHERE unit_id = OLD.unit_id;
CREATE TRIGGER hub_check_ins AFTER INSERT ON supervision_check FOR EACH ROW INSERT INTO hub_changes (entity_key) SELECT uscc FROM supervised_unit WHERE unit_id = NEW.unit_id;
CREATE TRIGGER hub_check_upd AFTER UPDATE ON supervision_check FOR EACH ROW INSERT INTO hub_changes (entity_key) SELECT uscc FROM supervised_unit WHERE unit_id IN (NEW.unit_id, OLD.unit_id);
CREATE TRIGGER hub_check_del AFTER DELETE ON supervision_check FOR EACH ROW INSERT INTO hub_changes (entity_key) SELECT uscc FROM supervised_unit WHERE unit_id = OLD.unit_id;
CREATE TRIGGER hub_recusal_ins AFTER INSERT ON inspector_recusal FOR EACH ROW INSERT INTO hub_changes (entity_key) SELECT uscc FROM supervised_unit WHERE unit_id = NEW.unit_id;
CREATE TRIGGER hub_recusal_upd AFTER UPDATE ON inspector_recusal FOR EACH ROW INSERT INTO hub_changes (entity_key) SELECT uscc FROM supervised_unit WHERE unit_id IN (NEW.unit_id, OLD.unit_id);
CREATE TRIGGER hub_recusal_del AFTER DELETE ON inspector_recusal FOR EACH ROW INSERT INTO hub_changes (entity_key) SELECT uscc FROM supervised_unit WHERE unit_id = OLD.unit_id;
-- The commission's own clean-up (runs where its event scheduler is on): the hub reads only the
-- last few seconds, and its cache's TTL bounds what a gap could leave stale.
CREATE EVENT hub_changes_prune ON SCHEDULE EVERY 10 MINUTE DO DELETE FROM hub_changes WHERE changed_at < NOW() - INTERVAL 1 DAY;
