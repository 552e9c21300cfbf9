"""The hub store: the hub's own PostgreSQL database (tasks, draws, visits, results, audit)."""
