"""Demo department databases: their own schemas (departments/*.sql) and a deterministic seeder."""
