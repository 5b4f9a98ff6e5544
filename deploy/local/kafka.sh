#!/usr/bin/env bash
# Run a real single-node Apache Kafka broker (KRaft mode, broker+controller in
# one JVM) on 127.0.0.1 for local development and tests.
#
#   deploy/local/kafka.sh fetch                 download the pinned broker jars
#   deploy/local/kafka.sh start [DATA_DIR]      start (or reuse) a broker
#   deploy/local/kafka.sh stop [DATA_DIR]       stop it
#   deploy/local/kafka.sh bootstrap [DATA_DIR]  print its bootstrap address
#   deploy/local/kafka.sh start DATA_DIR --secure  also SSL (mTLS) and SASL_SSL listeners
#
# See deploy/local/README.md and `kafka.sh --help`.
set -euo pipefail

# ---------------------------------------------------------------------------
# Pinned versions. To upgrade, change these and run `kafka.sh fetch`; the cache
# directory is keyed by KAFKA_VERSION so the old jars are left untouched.
# The kafka_2.13 pom only depends on slf4j-api (the binding is added by the
# Kafka distribution), so we add the slf4j -> reload4j binding ourselves.
# SLF4J_VERSION / RELOAD4J_VERSION must match what the Kafka release ships
# (gradle/dependencies.gradle in the Kafka source tree, or libs/ of the tarball).
KAFKA_VERSION="3.9.1"
SCALA_VERSION="2.13"
SLF4J_VERSION="1.7.36"
RELOAD4J_VERSION="1.2.25"
MAVEN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.6.1"
# ---------------------------------------------------------------------------

PROG="$(basename "$0")"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/../.." && pwd -P)"

CACHE_ROOT="${FAULTLINE_CACHE:-${HOME}/.cache/faultline}"
KAFKA_HOME="${CACHE_ROOT}/kafka-${KAFKA_VERSION}"
LIBS="${KAFKA_HOME}/libs"
MARKER="${KAFKA_HOME}/.fetch-complete"

DEFAULT_DATA_DIR="${REPO_ROOT}/build/kafka"
START_TIMEOUT="${FAULTLINE_KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${FAULTLINE_KAFKA_STOP_TIMEOUT:-30}"
BROKER_HEAP_OPTS="-Xms256m -Xmx512m"
# Readiness: the port must answer a Kafka ApiVersions request AND the broker
# log must contain this line (printed by KafkaRaftServer once the broker is
# unfenced and serving requests).
READY_LINE="Kafka Server started"

log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  cat <<EOF
Usage: ${PROG} <command> [DATA_DIR]

Runs a single-node Apache Kafka ${KAFKA_VERSION} broker (KRaft mode, no ZooKeeper)
on 127.0.0.1 for tests. Jars come from Maven Central via mvn.

Commands:
  fetch               Download kafka_${SCALA_VERSION}:${KAFKA_VERSION} and its runtime
                      dependencies into the cache (no-op once complete).
  start [DATA_DIR]    Start a broker using DATA_DIR (fetches first if needed).
                      If a broker from DATA_DIR is already running and answering,
                      it is reused. Waits until the broker serves requests
                      (at most ${START_TIMEOUT}s). Prints the bootstrap address
                      (127.0.0.1:PORT) as the last line on stdout.
  stop [DATA_DIR]     Stop the broker of DATA_DIR (SIGTERM, SIGKILL after
                      ${STOP_TIMEOUT}s). Succeeds if nothing is running.
  bootstrap [DATA_DIR]
                      Print the bootstrap address of the running broker of
                      DATA_DIR; exit 1 if none is running.
  start DATA_DIR --secure
                      As start, with two more listeners on 127.0.0.1: SSL, which
                      requires a client certificate signed by the CA (mTLS), and
                      SASL_SSL with SCRAM-SHA-512. The caller provides, in
                      DATA_DIR/secure/: ca.pem (the CA that signed the broker's
                      and the clients' certificates), broker.pem (the broker's
                      unencrypted private key and certificate chain, PEM) and
                      scram (one credential per line, as kafka-storage format
                      --add-scram takes it, e.g. SCRAM-SHA-512=[name=alice,
                      iterations=8192,salt="...",saltedpassword="..."]; added
                      when the storage is formatted, on the first start only).
                      Writes DATA_DIR/bootstrap.ssl and DATA_DIR/bootstrap.sasl_ssl.
  -h, --help          Show this help.

DATA_DIR defaults to ${DEFAULT_DATA_DIR}
(build/kafka under the repository root). Its contents:
  server.properties, log4j.properties   generated broker config
  data/                                  Kafka log dir (topics + KRaft metadata)
  broker.log (broker.log.1)              broker output (previous run)
  broker.pid, bootstrap                  present while a broker runs

Environment:
  FAULTLINE_CACHE                    cache root (default: \$HOME/.cache/faultline);
                                     jars go to \$FAULTLINE_CACHE/kafka-${KAFKA_VERSION}/libs
  FAULTLINE_KAFKA_START_TIMEOUT      seconds to wait for readiness (default: 90)
  FAULTLINE_KAFKA_STOP_TIMEOUT       seconds to wait before SIGKILL (default: 30)

Messages go to stderr; stdout only carries the bootstrap address, so
  BOOTSTRAP=\$(${PROG} start)
works in scripts.
EOF
}

# ---------------------------------------------------------------------------
# helpers

# Install java/mvn with apt-get if they are missing.
ensure_tools() {
  local missing=()
  command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
  if [[ "${1:-}" == "mvn" ]]; then
    command -v mvn >/dev/null 2>&1 || missing+=(maven)
  fi
  ((${#missing[@]} == 0)) && return 0

  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || die "missing ${missing[*]} and not root; install them: apt-get install -y ${missing[*]}"
    sudo=(sudo)
  fi
  log "installing ${missing[*]} with apt-get ..."
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2; then
    log "apt-get install failed; running apt-get update and retrying"
    "${sudo[@]}" apt-get update >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2
  fi
  command -v java >/dev/null 2>&1 || die "java still not found after apt-get install"
  if [[ "${1:-}" == "mvn" ]]; then
    command -v mvn >/dev/null 2>&1 || die "mvn still not found after apt-get install"
  fi
}

ensure_python() {
  command -v python3 >/dev/null 2>&1 || die "python3 is required (port selection and readiness probe)"
}

# Resolve DATA_DIR (argument or default) to an absolute path, creating it.
resolve_data_dir() {
  local dir="${1:-${DEFAULT_DATA_DIR}}"
  mkdir -p "${dir}"
  (cd "${dir}" && pwd -P)
}

# Take an exclusive lock (fd 9) on FILE, waiting at most SECONDS.
take_lock() {
  local file="$1" seconds="$2"
  exec 9>"${file}"
  if ! flock -w "${seconds}" 9; then
    die "could not lock ${file} within ${seconds}s (another ${PROG} still running?)"
  fi
}

# Is PID running? An exited process its parent has not reaped (a zombie: in a container whose
# PID 1 reaps nothing) has exited.
running() {
  kill -0 "$1" 2>/dev/null || return 1
  [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]
}

# Is PID a Kafka broker started with CONFIG?
is_our_broker() {
  local pid="$1" config="$2" cmdline
  [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/${pid}/cmdline" ]] || return 1
  cmdline="$(tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null)" || return 1
  [[ "${cmdline}" == *" kafka.Kafka ${config}"* ]]
}

# Print the pid of the broker running from DATA_DIR (pid file first, then a
# /proc scan in case the pid file was lost). Returns 1 if none.
find_broker_pid() {
  local data_dir="$1" config pid f
  config="${data_dir}/server.properties"
  if [[ -f "${data_dir}/broker.pid" ]]; then
    pid="$(<"${data_dir}/broker.pid")"
    if is_our_broker "${pid}" "${config}"; then
      printf '%s\n' "${pid}"
      return 0
    fi
  fi
  for f in /proc/[0-9]*/cmdline; do
    pid="${f#/proc/}"
    pid="${pid%/cmdline}"
    if is_our_broker "${pid}" "${config}"; then
      printf '%s\n' "${pid}"
      return 0
    fi
  done
  return 1
}

# Send a Kafka ApiVersions (v0) request to HOST:PORT; succeed if the broker
# answers with error_code 0. This is a real protocol round trip, no JVM needed.
kafka_probe() {
  python3 - "$1" "$2" <<'PY' 2>/dev/null
import socket, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
corr = 0x0F17
client = b"faultline-kafka-sh"
body = struct.pack(">hhih", 18, 0, corr, len(client)) + client  # ApiVersions v0
try:
    s = socket.create_connection((host, port), timeout=3)
    s.settimeout(3)
    s.sendall(struct.pack(">i", len(body)) + body)
    def recv(n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf
    size = struct.unpack(">i", recv(4))[0]
    resp = recv(size)
    got_corr, err, n_apis = struct.unpack(">ihi", resp[:10])
    sys.exit(0 if got_corr == corr and err == 0 and n_apis > 0 else 1)
except Exception:
    sys.exit(1)
PY
}

# Is TCP port free on 127.0.0.1? (SO_REUSEADDR like the broker's own server
# socket, so a port in TIME_WAIT after a restart still counts as free.)
port_free() {
  python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}

# Print two distinct free ports on 127.0.0.1.
pick_two_ports() {
  python3 - <<'PY'
import socket
a = socket.socket(); a.bind(("127.0.0.1", 0))
b = socket.socket(); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])
PY
}

# Read "PORT CPORT" from an existing server.properties (empty if none).
previous_ports() {
  local config="$1" line port cport
  [[ -f "${config}" ]] || return 0
  line="$(grep -E '^listeners=' "${config}" || true)"
  port="$(sed -nE 's#.*PLAINTEXT://127\.0\.0\.1:([0-9]+).*#\1#p' <<<"${line}")"
  cport="$(sed -nE 's#.*CONTROLLER://127\.0\.0\.1:([0-9]+).*#\1#p' <<<"${line}")"
  if [[ -n "${port}" && -n "${cport}" ]]; then
    printf '%s %s\n' "${port}" "${cport}"
  fi
}

# Read "SSL_PORT SASL_SSL_PORT" from an existing server.properties (empty if none).
previous_secure_ports() {
  local config="$1" line sport aport
  [[ -f "${config}" ]] || return 0
  line="$(grep -E '^listeners=' "${config}" || true)"
  sport="$(sed -nE 's#.*[=,]SSL://127\.0\.0\.1:([0-9]+).*#\1#p' <<<"${line}")"
  aport="$(sed -nE 's#.*SASL_SSL://127\.0\.0\.1:([0-9]+).*#\1#p' <<<"${line}")"
  if [[ -n "${sport}" && -n "${aport}" ]]; then
    printf '%s %s\n' "${sport}" "${aport}"
  fi
}

# PORT from DATA_DIR/server.properties
configured_port() {
  local ports
  ports="$(previous_ports "$1/server.properties")"
  [[ -n "${ports}" ]] || return 1
  printf '%s\n' "${ports%% *}"
}

tail_log() {
  local file="$1"
  if [[ -f "${file}" ]]; then
    log "last 40 lines of ${file}:"
    tail -n 40 "${file}" >&2 || true
  fi
}

# ---------------------------------------------------------------------------
# fetch

fetch_complete() {
  [[ -f "${MARKER}" && -f "${LIBS}/kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar" ]]
}

cmd_fetch() {
  if fetch_complete; then
    log "Kafka ${KAFKA_VERSION} jars already cached in ${LIBS}"
    return 0
  fi
  mkdir -p "${KAFKA_HOME}"
  take_lock "${KAFKA_HOME}/.fetch.lock" 900
  if fetch_complete; then # another process fetched while we waited
    log "Kafka ${KAFKA_VERSION} jars already cached in ${LIBS}"
    return 0
  fi
  ensure_tools mvn

  local work start
  start="${SECONDS}"
  work="$(mktemp -d "${KAFKA_HOME}/.fetch.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: work is local
  trap "rm -rf '${work}'" EXIT
  cat >"${work}/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Throwaway pom generated by ${PROG} fetch; only used to resolve jars. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>faultline.local</groupId>
  <artifactId>kafka-broker-runtime</artifactId>
  <version>${KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_${SCALA_VERSION}</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <!-- slf4j -> reload4j (log4j 1.x API) binding, as in the Kafka distribution -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>${SLF4J_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>ch.qos.reload4j</groupId>
      <artifactId>reload4j</artifactId>
      <version>${RELOAD4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
EOF
  log "fetching org.apache.kafka:kafka_${SCALA_VERSION}:${KAFKA_VERSION} + runtime dependencies from Maven Central"
  log "(first time only; takes a few minutes; jars go to ${LIBS})"
  if ! mvn -q -B -Dstyle.color=never -f "${work}/pom.xml" \
    "${MAVEN_DEPENDENCY_PLUGIN}:copy-dependencies" \
    -DincludeScope=runtime \
    -DoutputDirectory="${work}/libs" >"${work}/mvn.log" 2>&1; then
    # (sed: Maven 3.8 -q emits stray ESC[0m sequences)
    sed 's/\x1b\[[0-9;]*m//g' "${work}/mvn.log" >&2 || true
    die "mvn could not fetch the Kafka jars (is Maven Central reachable? see mvn output above)"
  fi
  [[ -f "${work}/libs/kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar" ]] ||
    die "mvn finished but kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar is missing from ${work}/libs"

  rm -rf "${LIBS}"
  mv "${work}/libs" "${LIBS}"
  local count
  count="$(find "${LIBS}" -maxdepth 1 -name '*.jar' | wc -l)"
  {
    echo "kafka_${SCALA_VERSION}:${KAFKA_VERSION} slf4j-reload4j:${SLF4J_VERSION} reload4j:${RELOAD4J_VERSION}"
    echo "jars=${count}"
    date -u '+fetched=%Y-%m-%dT%H:%M:%SZ'
  } >"${MARKER}"
  rm -rf "${work}"
  trap - EXIT
  log "fetched ${count} jars into ${LIBS} in $((SECONDS - start))s"
}

# ---------------------------------------------------------------------------
# start

write_log4j_config() {
  cat >"$1" <<'EOF'
# Generated by deploy/local/kafka.sh; broker stdout is redirected to broker.log.
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel$=WARN
log4j.logger.state.change.logger=INFO
log4j.logger.kafka.log.LogCleaner=INFO
EOF
}

write_server_config() {
  local file="$1" data_dir="$2" port="$3" cport="$4"
  cat >"${file}" <<EOF
# Generated by deploy/local/kafka.sh (single-node KRaft broker for tests).
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${cport}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${cport}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${data_dir}/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.retention.hours=24
EOF
}

# --secure: the SSL (client certificate required) and SASL_SSL (SCRAM-SHA-512) listeners, on
# the PEM files the caller put in DATA_DIR/secure. PLAINTEXT stays for the controller, the
# inter-broker traffic and the readiness probe, on 127.0.0.1 like the others.
write_secure_config() {
  local file="$1" secure="$2" port="$3" cport="$4" sport="$5" aport="$6"
  sed -i -E \
    -e "s#^listeners=.*#listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${cport},SSL://127.0.0.1:${sport},SASL_SSL://127.0.0.1:${aport}#" \
    -e "s#^advertised.listeners=.*#advertised.listeners=PLAINTEXT://127.0.0.1:${port},SSL://127.0.0.1:${sport},SASL_SSL://127.0.0.1:${aport}#" \
    -e "s#^listener.security.protocol.map=.*#listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL#" \
    "${file}"
  cat >>"${file}" <<EOF
# --secure
ssl.keystore.type=PEM
ssl.keystore.location=${secure}/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=${secure}/ca.pem
ssl.endpoint.identification.algorithm=https
listener.name.ssl.ssl.client.auth=required
listener.name.sasl_ssl.ssl.client.auth=none
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
}

java_cmd() {
  # Common JVM options for the broker and the storage tool.
  printf '%s\0' java -Djava.awt.headless=true \
    "-Dlog4j.configuration=file:$1/log4j.properties" \
    -cp "${LIBS}/*"
}

# Wait until the broker of DATA_DIR answers; return 0 when ready.
wait_ready() {
  local data_dir="$1" pid="$2" port="$3" deadline
  deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! running "${pid}"; then
      log "error: broker process ${pid} exited during startup"
      return 1
    fi
    if grep -qF "${READY_LINE}" "${data_dir}/broker.log" 2>/dev/null &&
      kafka_probe 127.0.0.1 "${port}"; then
      return 0
    fi
    sleep 0.5
  done
  log "error: broker did not become ready within ${START_TIMEOUT}s"
  return 1
}

cmd_start() {
  local data_dir secure="" scram_args=()
  data_dir="$(resolve_data_dir "${1:-}")"
  if [[ "${2:-}" == "--secure" ]]; then
    secure="${data_dir}/secure"
    local f
    for f in ca.pem broker.pem scram; do
      [[ -s "${secure}/${f}" ]] || die "--secure needs ${secure}/${f} (see --help)"
    done
    while IFS= read -r f; do
      [[ -n "${f}" ]] && scram_args+=(--add-scram "${f}")
    done <"${secure}/scram"
  fi
  cmd_fetch
  ensure_tools
  ensure_python
  take_lock "${data_dir}/.lock" $((START_TIMEOUT + 60))

  local config="${data_dir}/server.properties" pid port cport
  if pid="$(find_broker_pid "${data_dir}")"; then
    port="$(configured_port "${data_dir}")" || die "broker ${pid} runs but ${config} has no PLAINTEXT listener"
    if kafka_probe 127.0.0.1 "${port}"; then
      printf '%s\n' "${pid}" >"${data_dir}/broker.pid"
      printf '127.0.0.1:%s\n' "${port}" >"${data_dir}/bootstrap"
      log "reusing running broker (pid ${pid}, data dir ${data_dir})"
      printf '127.0.0.1:%s\n' "${port}"
      return 0
    fi
    log "broker process ${pid} exists but does not answer on 127.0.0.1:${port} yet; waiting"
    if wait_ready "${data_dir}" "${pid}" "${port}"; then
      printf '127.0.0.1:%s\n' "${port}" >"${data_dir}/bootstrap"
      printf '127.0.0.1:%s\n' "${port}"
      return 0
    fi
    tail_log "${data_dir}/broker.log"
    die "broker ${pid} is not answering; run '${PROG} stop ${data_dir}' and start again"
  fi
  rm -f "${data_dir}/broker.pid" "${data_dir}/bootstrap"
  [[ -z "${secure}" ]] || rm -f "${data_dir}/bootstrap.ssl" "${data_dir}/bootstrap.sasl_ssl"

  # Ports: keep the previous ones if still free (stable address across
  # restarts), otherwise pick new free ones.
  local ports
  ports="$(previous_ports "${config}")"
  if [[ -n "${ports}" ]] && port_free "${ports%% *}" && port_free "${ports##* }"; then
    read -r port cport <<<"${ports}"
  else
    read -r port cport <<<"$(pick_two_ports)"
  fi
  local sport="" aport=""
  if [[ -n "${secure}" ]]; then
    ports="$(previous_secure_ports "${config}")"
    if [[ -n "${ports}" ]] && port_free "${ports%% *}" && port_free "${ports##* }"; then
      read -r sport aport <<<"${ports}"
    else
      # Two at a time: a pair never repeats itself, but may repeat the first pair.
      while :; do
        read -r sport aport <<<"$(pick_two_ports)"
        [[ "${sport}" != "${port}" && "${sport}" != "${cport}" &&
          "${aport}" != "${port}" && "${aport}" != "${cport}" ]] && break
      done
    fi
  fi

  write_log4j_config "${data_dir}/log4j.properties"
  write_server_config "${config}" "${data_dir}" "${port}" "${cport}"
  [[ -z "${secure}" ]] || write_secure_config "${config}" "${secure}" "${port}" "${cport}" "${sport}" "${aport}"
  mkdir -p "${data_dir}/data"

  local java=()
  mapfile -d '' -t java < <(java_cmd "${data_dir}")

  if [[ -f "${data_dir}/data/meta.properties" ]]; then
    log "storage already formatted ($(grep -E '^cluster.id=' "${data_dir}/data/meta.properties" || echo 'cluster.id=?')); not re-formatting"
  else
    local cluster_id
    log "formatting KRaft storage in ${data_dir}/data"
    cluster_id="$("${java[@]}" -Xmx128m kafka.tools.StorageTool random-uuid 2>"${data_dir}/format.log")" ||
      { tail_log "${data_dir}/format.log"; die "kafka.tools.StorageTool random-uuid failed"; }
    cluster_id="$(tail -n 1 <<<"${cluster_id}")"
    if ! "${java[@]}" -Xmx128m kafka.tools.StorageTool format -t "${cluster_id}" -c "${config}" \
      "${scram_args[@]}" >>"${data_dir}/format.log" 2>&1; then
      tail_log "${data_dir}/format.log"
      die "kafka.tools.StorageTool format failed"
    fi
    log "formatted with cluster.id=${cluster_id}"
  fi

  if [[ -f "${data_dir}/broker.log" ]]; then
    mv -f "${data_dir}/broker.log" "${data_dir}/broker.log.1"
  fi
  log "starting Kafka ${KAFKA_VERSION} on 127.0.0.1:${port} (controller 127.0.0.1:${cport}), log: ${data_dir}/broker.log"
  # setsid: own session, so the broker survives the calling shell / CTest
  # process group. stdin/stdout/stderr are redirected and the inner shell
  # closes every other inherited fd (our lock fd 9, pipes of the caller), so
  # a caller capturing our output is not kept waiting by the broker. The
  # inner shell writes its own pid (== the java pid after exec) to broker.pid.
  # shellcheck disable=SC2086,SC2016 # heap opts split on purpose; $$/$1 are for the inner shell
  setsid nohup bash -c '
    echo $$ >"$1"; shift
    for f in /proc/$$/fd/*; do
      n=${f##*/}
      if [ "$n" -gt 2 ] && [ -e "$f" ]; then exec {n}>&-; fi
    done
    exec "$@"' kafka-broker \
    "${data_dir}/broker.pid" \
    "${java[@]}" ${BROKER_HEAP_OPTS} \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExitOnOutOfMemoryError \
    "-Dkafka.logs.dir=${data_dir}" \
    kafka.Kafka "${config}" \
    </dev/null >"${data_dir}/broker.log" 2>&1 9>&- &

  local waited=0
  while [[ ! -s "${data_dir}/broker.pid" ]] && ((waited < 50)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  pid="$(cat "${data_dir}/broker.pid" 2>/dev/null || true)"
  [[ -n "${pid}" ]] || die "broker did not start (no pid written); see ${data_dir}/broker.log"
  printf '127.0.0.1:%s\n' "${port}" >"${data_dir}/bootstrap"

  local t0="${SECONDS}"
  if ! wait_ready "${data_dir}" "${pid}" "${port}"; then
    tail_log "${data_dir}/broker.log"
    stop_pid "${pid}" >/dev/null 2>&1 || true
    rm -f "${data_dir}/broker.pid" "${data_dir}/bootstrap"
    die "Kafka broker failed to start (data dir ${data_dir})"
  fi
  log "broker ready after $((SECONDS - t0))s (pid ${pid}); stop it with: ${SCRIPT_DIR}/${PROG} stop ${data_dir}"
  if [[ -n "${secure}" ]]; then
    printf '127.0.0.1:%s\n' "${sport}" >"${data_dir}/bootstrap.ssl"
    printf '127.0.0.1:%s\n' "${aport}" >"${data_dir}/bootstrap.sasl_ssl"
    log "SSL (mTLS) on 127.0.0.1:${sport}, SASL_SSL (SCRAM-SHA-512) on 127.0.0.1:${aport}"
  fi
  printf '127.0.0.1:%s\n' "${port}"
}

# ---------------------------------------------------------------------------
# stop / bootstrap

# SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL.
stop_pid() {
  local pid="$1" deadline
  kill -TERM "${pid}" 2>/dev/null || return 0
  deadline=$((SECONDS + STOP_TIMEOUT))
  while running "${pid}"; do
    if ((SECONDS >= deadline)); then
      log "broker ${pid} still running after ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "${pid}" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
}

cmd_stop() {
  local data_dir pid t0
  data_dir="$(resolve_data_dir "${1:-}")"
  take_lock "${data_dir}/.lock" $((START_TIMEOUT + STOP_TIMEOUT + 60))
  if ! pid="$(find_broker_pid "${data_dir}")"; then
    rm -f "${data_dir}/broker.pid" "${data_dir}/bootstrap"
    log "no broker running for ${data_dir}"
    return 0
  fi
  t0="${SECONDS}"
  log "stopping broker (pid ${pid}, data dir ${data_dir})"
  stop_pid "${pid}"
  if running "${pid}"; then
    die "broker ${pid} is still alive after SIGKILL"
  fi
  rm -f "${data_dir}/broker.pid" "${data_dir}/bootstrap" "${data_dir}/bootstrap.ssl" \
    "${data_dir}/bootstrap.sasl_ssl"
  log "broker stopped in $((SECONDS - t0))s"
}

cmd_bootstrap() {
  local data_dir pid port
  data_dir="$(resolve_data_dir "${1:-}")"
  if ! pid="$(find_broker_pid "${data_dir}")"; then
    log "no broker running for ${data_dir} (start one with: ${SCRIPT_DIR}/${PROG} start ${data_dir})"
    return 1
  fi
  port="$(configured_port "${data_dir}")" || die "cannot read the listener port from ${data_dir}/server.properties"
  ensure_python
  if ! kafka_probe 127.0.0.1 "${port}"; then
    log "broker ${pid} is running but does not answer on 127.0.0.1:${port} (still starting?)"
    return 1
  fi
  printf '127.0.0.1:%s\n' "${port}"
}

# ---------------------------------------------------------------------------

main() {
  local cmd="${1:-}"
  (($# > 0)) && shift
  if (($# > 1)) && ! [[ "${cmd}" == start && $# == 2 && "$2" == --secure ]]; then
    log "error: too many arguments"
    usage >&2
    exit 2
  fi
  case "${cmd}" in
    fetch) (($# == 0)) || { log "error: fetch takes no arguments"; exit 2; }; cmd_fetch ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    bootstrap) cmd_bootstrap "$@" ;;
    -h | --help | help) usage ;;
    "") usage >&2; exit 2 ;;
    *) log "error: unknown command '${cmd}'"; usage >&2; exit 2 ;;
  esac
}

main "$@"
