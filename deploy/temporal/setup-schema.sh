#!/bin/sh
# Creates Temporal's databases on first start and upgrades their schemas on later ones (idempotent).
set -eu
tool() { temporal-sql-tool --plugin postgres12 --ep temporal-db -p 5432 -u temporal "$@"; }
for db in temporal temporal_visibility; do
  tool --db "$db" create 2>/dev/null || echo "database $db exists"
done
tool --db temporal setup-schema -v 0.0 2>/dev/null || true
tool --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned
tool --db temporal_visibility setup-schema -v 0.0 2>/dev/null || true
tool --db temporal_visibility update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned
echo "Temporal schemas are up to date"
