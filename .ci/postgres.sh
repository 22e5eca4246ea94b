# Sourced by .ci/run: make a PostgreSQL server available on loopback for the ledger tests
# and export its URL as MYNUMBER_TEST_PG_URL. Installs Debian's server when missing.
if [ -n "${MYNUMBER_TEST_PG_URL:-}" ]; then
  echo "using PostgreSQL from MYNUMBER_TEST_PG_URL"
  return 0
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  echo "installing PostgreSQL from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
pg_version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -q "^${pg_version} main$"; then
  pg_createcluster "$pg_version" main >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$pg_version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  pg_ctlcluster "$pg_version" main start
fi
pg_port=$(pg_lsclusters -h | awk -v v="$pg_version" '$1==v && $2=="main" {print $3}')
su postgres -c "psql -p $pg_port -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='mynumber'\"" | grep -q 1 \
  || su postgres -c "psql -p $pg_port -qc \"CREATE ROLE mynumber LOGIN PASSWORD 'mynumber-ci' CREATEDB\""
# the ledger tests create and drop the least-privilege roles (mynumber ledger grant)
su postgres -c "psql -p $pg_port -qc \"ALTER ROLE mynumber CREATEROLE\"" >/dev/null
su postgres -c "psql -p $pg_port -qtAc \"SELECT 1 FROM pg_database WHERE datname='mynumber_test'\"" | grep -q 1 \
  || su postgres -c "psql -p $pg_port -qc \"CREATE DATABASE mynumber_test OWNER mynumber\""
export MYNUMBER_TEST_PG_URL="postgresql+psycopg://mynumber:mynumber-ci@127.0.0.1:${pg_port}/mynumber_test"
echo "PostgreSQL ${pg_version} on 127.0.0.1:${pg_port}"
