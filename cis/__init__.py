"""Agency CIS: the CLI and the pool steps that tie ingestion, dbt and detectors together."""
