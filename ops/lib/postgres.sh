# shellcheck shell=bash
# PostgreSQL 15 from Debian's packages, one cluster under $STACK_USER_DIR/postgres, run by the
# stack user (postgres refuses root). Databases: microcred (the app), microcred_test (npm test's,
# so the suite's rows never show in npm start's system), apicurio (the registry).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=$STACK_USER_DIR/postgres
PG_DATA=$PG_DIR/data
# The socket path must stay under 107 bytes (unix socket limit): keep STACK_DIR short-ish.
PG_SOCKET_DIR=$STACK_USER_DIR/run/postgres
PG_DATABASES=(microcred microcred_test apicurio)

postgres_ports() { echo "PGPORT=$PGPORT"; }

postgres_url() { echo "postgres://microcred@127.0.0.1:$PGPORT/microcred"; }

postgres_health() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" -U microcred -d postgres -t 2 >/dev/null 2>&1
}

# Debian's postgresql-15 when the binaries are missing (fresh machine).
postgres_install() {
  [[ -x $PG_BIN/postgres ]] && return 0
  say "postgres: $PG_BIN/postgres missing, installing postgresql-15 with apt"
  bash "$OPS_DIR/install-system-deps.sh" postgresql-15 ||
    fail_server postgres "could not install postgresql-15 (run ops/install-system-deps.sh as root)"
  [[ -x $PG_BIN/postgres ]] || fail_server postgres "postgresql-15 installed but $PG_BIN/postgres is missing: set PG_BIN"
}

postgres_prepare() {
  postgres_install
  stack_user_dir "$PG_DIR" "$PG_SOCKET_DIR"
  check_stack_user_can_read postgres "$PG_DIR"
  if [[ ! -s $PG_DATA/PG_VERSION ]]; then
    say "postgres: initdb $PG_DATA"
    rm -rf "$PG_DATA"
    # The bootstrap superuser is named microcred whatever the OS user is.
    (cd "$PG_DIR" && as_stack_user "$PG_BIN/initdb" -D "$PG_DATA" -U microcred -E UTF8 \
      --locale=C.UTF-8 --auth=trust --no-instructions) >>"$(server_log postgres)" 2>&1 ||
      fail_server postgres "initdb failed"
  fi
  # Our settings live in stack.conf, included from initdb's postgresql.conf.
  grep -qxF "include_if_exists = 'stack.conf'" "$PG_DATA/postgresql.conf" ||
    echo "include_if_exists = 'stack.conf'" >>"$PG_DATA/postgresql.conf"
  # Rendered on every start so port/socket changes take effect.
  render "$CONFIG_DIR/postgres/postgresql.conf" "$PG_DATA/stack.conf"
  render "$CONFIG_DIR/postgres/pg_hba.conf" "$PG_DATA/pg_hba.conf"
  if is_root; then chown "$STACK_USER:$STACK_USER" "$PG_DATA/stack.conf" "$PG_DATA/pg_hba.conf"; fi
  # A postmaster.pid left by a killed server is handled by postgres itself (it checks the pid).
}

postgres_launch() {
  launch postgres "$PG_DIR" "${AS_STACK_USER[@]}" "$PG_BIN/postgres" -D "$PG_DATA"
}

# Role and databases, idempotent; runs on every `up` once postgres is healthy.
postgres_after_start() {
  local db psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U microcred -d postgres)
  "${psql[@]}" -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'microcred') THEN
        CREATE ROLE microcred LOGIN SUPERUSER;
      END IF; END \$\$;" >>"$(server_log postgres)" 2>&1 ||
    fail_server postgres "could not create role microcred"
  for db in "${PG_DATABASES[@]}"; do
    if [[ $("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'") != 1 ]]; then
      "${psql[@]}" -c "CREATE DATABASE $db OWNER microcred" >>"$(server_log postgres)" 2>&1 ||
        fail_server postgres "could not create database $db"
    fi
  done
}

# SIGINT = PostgreSQL's "fast" shutdown (rolls back open transactions, disconnects
# clients). SIGTERM would be "smart" shutdown, which waits for every client pool to
# disconnect and would usually end in SIGKILL.
postgres_stop() { stop_server postgres INT; }
