# Talktime tasks. The same commands live in scripts/ for machines without `just`.

# Run the API locally with a local database and demo data.
dev:
    scripts/dev.sh

# Run every test (starts or installs PostgreSQL when needed).
test *args:
    scripts/test.sh {{args}}

# Formatting, clippy -D warnings, and the domain crate's no-I/O rule.
lint:
    scripts/lint.sh

# Make sure a local PostgreSQL answers.
db:
    scripts/dev-db.sh

fmt:
    cargo fmt --all

# Everything CI runs.
ci:
    .ci/run
