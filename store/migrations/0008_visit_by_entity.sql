-- The joint visits of an entity, for rotation: a draw asks who inspected its drawn entities
-- last time, the hub's own joint visits included.
CREATE INDEX visit_uscc ON visit (uscc);
