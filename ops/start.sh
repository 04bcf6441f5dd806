#!/usr/bin/env bash
# `npm start`: installs what is missing, brings the local stack up, starts microcred and
# prints its URLs. Ctrl-C stops the app; `npm run stack -- down` stops the servers.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
setup_all

bash "$REPO_ROOT/ops/stack.sh" up

PORT="${PORT:-3000}"
HOST="${HOST:-127.0.0.1}"
mkdir -p "$STACK_DIR/logs"
say "starting microcred (logs: $STACK_DIR/logs/app.log)"
node "$REPO_ROOT/dist/services/main.js" > >(tee -a "$STACK_DIR/logs/app.log") 2>&1 &
APP_PID=$!
trap 'kill -TERM $APP_PID 2>/dev/null; wait $APP_PID 2>/dev/null; exit 0' INT TERM
# If this script fails after starting the app, stop the app too: never leave half a system.
trap 'kill -TERM $APP_PID 2>/dev/null || true' EXIT

deadline=$((SECONDS + 120))
until curl -fsS "http://$HOST:$PORT/readyz" >/dev/null 2>&1; do
  kill -0 $APP_PID 2>/dev/null || die "microcred exited during start; see $STACK_DIR/logs/app.log"
  [ $SECONDS -lt $deadline ] || { kill -TERM $APP_PID 2>/dev/null; die "microcred was not ready within 2 minutes; see $STACK_DIR/logs/app.log and http://$HOST:$PORT/readyz"; }
  sleep 1
done

say "loading the demo catalog"
catalog_json="$(node "$REPO_ROOT/dist/services/cli/main.js" demo-catalog | tail -n 1)" || die "loading the demo catalog failed; see the message above"
ROLE_ID="$(node -pe 'JSON.parse(process.argv[1]).roles[0].role_id' "$catalog_json")"
ROLE_NAME="$(node -pe 'JSON.parse(process.argv[1]).roles[0].name' "$catalog_json")"

# A demo student account (credentials in .stack/secrets.env); 409 on later starts is fine.
API="http://$HOST:$PORT/api/v1"
curl -s -o /dev/null -X POST "$API/auth/register" -H 'content-type: application/json' \
  -d "{\"email\":\"$DEMO_STUDENT_EMAIL\",\"password\":\"$DEMO_STUDENT_PASSWORD\"}" || true

cat >&2 <<MSG

  microcred is up
    API         http://$HOST:$PORT/api/v1
    Readiness   http://$HOST:$PORT/readyz
    Kafka       ${KAFKA_BROKERS:-127.0.0.1:${KAFKA_PORT:-9092}}
    Registry    ${SCHEMA_REGISTRY_URL:-http://127.0.0.1:${SCHEMA_REGISTRY_PORT:-8081}/apis/ccompat/v7}
    Postgres    ${DATABASE_URL:-postgres://microcred@127.0.0.1:${PGPORT:-5432}/microcred}
    Elastic     ${ELASTICSEARCH_URL:-http://127.0.0.1:${ES_PORT:-9200}}
    Docs        http://$HOST:$PORT/docs  (OpenAPI: http://$HOST:$PORT/openapi.json)
    Partners    http://$HOST:$PORT/asyncapi.json (public topic; webhooks: npx microcred webhooks --help, docs/partners.md)
  Demo student  $DEMO_STUDENT_EMAIL and the admin $BOOTSTRAP_ADMIN_EMAIL (passwords: $STACK_DIR/secrets.env)
  Stop the app with Ctrl-C, the servers with: npm run stack -- down

  Take a "$ROLE_NAME" assessment as the demo student and print its result
  (ranked credentials, rationales and the evidence they cite):
    (set -a; . '$STACK_DIR/secrets.env'; cd '$REPO_ROOT' && npx microcred demo-assessment --api $API --role "$ROLE_NAME")
  By hand, with the student's token (POST $API/auth/token): POST $API/assessments/start,
  POST $API/assessments/{id}/responses {"responses": [...], "completed": true}, then
  GET $API/assessments/{id}/result (202 with progress while processing, then 200).
MSG
echo
wait $APP_PID
