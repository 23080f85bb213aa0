#!/usr/bin/env bash
# Single-node Apache Kafka broker (KRaft) for development and tests, run from the jars on Maven Central.
# Usage: scripts/kafka.sh up|down|status. Idempotent: `up` on a running broker only checks it.
# Everything lives under .kafka/ (ignored): libs/ (jars), data/ (log dirs), broker.pid, broker.log.
# KAFKA_DIR puts data, pid and log elsewhere (a second broker: KAFKA_PORT, and KAFKA_CONTROLLER_PORT,
# which defaults to KAFKA_PORT+1); the jars stay shared in .kafka/libs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${KAFKA_DIR:-$root/.kafka}"
libs="$root/.kafka/libs"
data="$dir/data"
pidfile="$dir/broker.pid"
logfile="$dir/broker.log"
props="$dir/server.properties"
port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
pom="$root/infra/kafka/pom.xml"

log() { printf '[kafka] %s\n' "$*"; }
die() { printf '[kafka] error: %s\n' "$*" >&2; exit 1; }

running_pid() {
  [[ -f "$pidfile" ]] || return 1
  local pid; pid="$(cat "$pidfile")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Refuses to start on a taken port, naming the variable that moves it.
check_ports() {
  if port_open "$port"; then
    die "port $port (KAFKA_PORT) is taken by another process: stop it or set KAFKA_PORT to a free port"
  fi
  if port_open "$controller_port"; then
    [[ -n "${KAFKA_CONTROLLER_PORT:-}" ]] &&
      die "controller port $controller_port (KAFKA_CONTROLLER_PORT) is taken by another process: set KAFKA_CONTROLLER_PORT to a free port"
    die "controller port $controller_port (KAFKA_CONTROLLER_PORT, by default KAFKA_PORT+1) is taken by another process: set KAFKA_PORT or KAFKA_CONTROLLER_PORT to a free port"
  fi
}

fetch_jars() {
  # The stamp records which pom resolved the jars, so a version bump re-fetches.
  local stamp; stamp="$(sha256sum "$pom" | cut -c1-16)"
  if [[ -f "$libs/.stamp" && "$(cat "$libs/.stamp")" == "$stamp" ]]; then return; fi
  command -v java >/dev/null || die "java not found: install a JDK 17+ (Debian: apt-get install -y openjdk-17-jre-headless)"
  command -v mvn >/dev/null || die "mvn not found: install Maven (Debian: apt-get install -y maven)"
  log "resolving the broker jars with Maven (first run only; cached in ~/.m2 afterwards)…"
  rm -rf "$libs"
  mvn -B -q -f "$pom" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$libs" -DincludeScope=runtime
  echo "$stamp" >"$libs/.stamp"
  log "$(ls "$libs"/*.jar | wc -l) jars in $libs"
}

write_props() {
  mkdir -p "$data"
  cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controller_port}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${data}
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=2
log.retention.hours=24
PROPS
}

format_storage() {
  [[ -f "$data/meta.properties" ]] && return
  local cluster_id
  cluster_id="$(java -cp "$libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
  log "formatting KRaft storage (cluster $cluster_id)"
  java -cp "$libs/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$props" --ignore-formatted >/dev/null
}

# Ready means the broker answers metadata requests, not just that the port is open.
wait_ready() {
  local pid="$1" deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-90}))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$logfile" >&2; die "broker exited during start (log: $logfile)"; }
    if port_open "$port" && java -cp "$libs/*" org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "127.0.0.1:$port" --list >/dev/null 2>&1; then
      return 0
    fi
    sleep 1
  done
  die "broker not ready after ${KAFKA_START_TIMEOUT:-90}s (log: $logfile)"
}

up() {
  if pid="$(running_pid)"; then log "already running (pid $pid) on 127.0.0.1:$port"; return; fi
  check_ports
  fetch_jars
  write_props
  format_storage
  local start=$SECONDS
  log "starting broker on 127.0.0.1:$port…"
  # setsid: the broker outlives the shell that started it, and `down` can stop its whole group.
  setsid java -Xms512m -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true \
    -Dlog4j2.configurationFile="file:$root/infra/kafka/log4j2.properties" \
    -cp "$libs/*" kafka.Kafka "$props" >"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  wait_ready "$!"
  log "Kafka $(kafka_version) started in $((SECONDS - start))s (pid $(cat "$pidfile"))"
}

down() {
  local pid
  if ! pid="$(running_pid)"; then log "not running"; rm -f "$pidfile"; return; fi
  log "stopping broker (pid $pid)…"
  kill -TERM "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then log "still running after 30s: SIGKILL"; kill -KILL "$pid"; fi
  rm -f "$pidfile"
  log "stopped"
}

kafka_version() { ls "$libs" | sed -n 's/^kafka_2\.13-\(.*\)\.jar$/\1/p' | head -n1; }

status() {
  if pid="$(running_pid)"; then log "running (pid $pid, Kafka $(kafka_version)) on 127.0.0.1:$port"
  else log "not running"; return 1; fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
