#!/usr/bin/env bash
# Sends faultline's demo incident to the Compose stack's winlogbeat topic: the Winlogbeat 8 events
# of app/demo/exchange_owa_incident.jsonl (MSExchangeOWAAppPool crashing four times, then WAS 5002
# disabling it), moved to end now (the broker would count week-old events too_old), with fresh
# record ids (a second send is not a duplicate) and keyed by host, through the console producer
# in the stack's kafka container. faultline-1 or -2 then raises iis_worker_failure_burst,
# iis_rapid_fail_imminent and iis_app_pool_disabled: in its log, Alertmanager and faultline-alerts.
#
#   deploy/compose/send-demo-incident.sh [HOST]     (default EXCH01.contoso.local)
#
# Needs python3, and podman or docker running the stack (project `faultline`).
set -euo pipefail
cd "$(dirname "$0")/../.."
PROG=send-demo-incident.sh
log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }

host="${1:-EXCH01.contoso.local}"
filters=(--filter label=com.docker.compose.project=faultline
         --filter label=com.docker.compose.service=kafka --filter status=running)
engine="" container=""
for candidate in podman docker; do
  command -v "${candidate}" >/dev/null 2>&1 || continue
  container="$("${candidate}" ps -q "${filters[@]}" 2>/dev/null | head -n 1)" || true
  if [[ -n "${container}" ]]; then engine="${candidate}"; break; fi
done
[[ -n "${engine}" ]] || { log "error: no running kafka container of the faultline stack (up -d first)"; exit 1; }

python3 - "${host}" app/demo/exchange_owa_incident.jsonl <<'PY' |
import datetime, json, sys, time
host, path = sys.argv[1], sys.argv[2]
events = [json.loads(line) for line in open(path) if line.strip()]
parse = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
last = max(parse(e["@timestamp"]) for e in events)
shift = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1) - last
run = int(time.time())
for e in events:
    stamp = (parse(e["@timestamp"]) + shift).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    e["@timestamp"] = stamp
    e["event"]["created"] = stamp
    e["winlog"]["computer_name"] = host
    e["winlog"]["record_id"] = e["winlog"]["record_id"] * 10**10 + run
    print(host + "\t" + json.dumps(e, separators=(",", ":")))
PY
  "${engine}" exec -i -e KAFKA_HEAP_OPTS=-Xmx128m "${container}" \
    /opt/kafka/bin/kafka-console-producer.sh --bootstrap-server kafka:9092 --topic winlogbeat \
    --property parse.key=true --property key.separator=$'\t'
log "sent the demo incident of ${host} to winlogbeat (${engine} container ${container:0:12})"
