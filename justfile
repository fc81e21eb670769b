# Talktime tasks. The same commands live in scripts/ for machines without `just`.

# Run the API locally with a local database and demo data.
dev:
    scripts/dev.sh

# Run every test (starts or installs PostgreSQL when needed).
test *args:
    scripts/test.sh {{args}}

# Formatting, clippy -D warnings, the domain crate's no-I/O rule, and the .sqlx data current.
lint:
    scripts/lint.sh

# Refresh the compile-time query data (.sqlx/) after changing a query or a migration.
sqlx-prepare *args:
    scripts/sqlx-prepare.sh {{args}}

# Make sure a local PostgreSQL answers.
db:
    scripts/dev-db.sh

fmt:
    cargo fmt --all

# Everything CI runs.
ci:
    .ci/run
