"""dlt pipelines that load vendor data into raw PostgreSQL schemas (one per source)."""
