"""Department sources. Each is declared by a mapping file (mappings/*.toml) and executed by an
adapter kind (postgres.py); registry.py opens the ones departments.toml lists."""
