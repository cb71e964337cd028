"""Library behind tools/gitops: one module per job (repo layout, builds, schemas, checks)."""
