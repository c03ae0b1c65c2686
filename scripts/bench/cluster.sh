#!/usr/bin/env bash
# cluster.sh: measure what Redis costs step 11 (several processes of the
# chat joined by Redis), on one machine, in one run of three shapes:
#   single   one process of step 11, without Redis
#   redis1   one process with Redis
#   redis2   two processes with Redis; the clients and the senders take
#            turns over the two, so half of the deliveries cross from one
#            process to the other through Redis
# Each shape has the same load (by default 1000 clients, 10 senders,
# 50 msg/s in total), a fresh SQLite file (shared by the two processes of
# redis2) and MAX_CONNECTIONS=3000 MESSAGE_RATE=1000 MESSAGE_BURST=1000.
# One redis-server (no persistence, on a free port of 127.0.0.1) serves
# every shape.
#
# Usage (from anywhere; needs go and redis-server):
#   scripts/bench/cluster.sh
#   CLIENTS=100 DURATION=3s WARMUP=1s scripts/bench/cluster.sh   # a quick try
# Environment:
#   OUT=dir            where results go (default: a new /tmp/sohbet-cluster.* dir)
#   SHAPES="single redis1 redis2"   which shapes, in this order
#   CLIENTS=1000 SENDERS=10 RATE=50  the load of every shape
#   DURATION=10s WARMUP=3s DRAIN=20s   measured time, warm-up, drain limit
#
# For each shape it prints the load tool's report: with two processes the
# clients on each and the latency of deliveries within one process and
# across processes; the memory and CPU of the chat processes and, in the
# redis shapes, of redis-server (the tool samples every PID it is given,
# from the first send to the last delivery). Then redis-server's CPU time
# over the whole shape, connecting included, from /proc/PID/stat.
#
# Output in $OUT: results.jsonl (one JSON line per shape, as printed by the
# load tool, with a "shape" field), results.md (scripts/loadtest
# -markdown-from), logs/ and the SQLite files in db/.
set -euo pipefail

cd "$(dirname "$0")/../.."

ALL_SHAPES="single redis1 redis2"
OUT=${OUT:-$(mktemp -d /tmp/sohbet-cluster.XXXXXX)}
SHAPES=${SHAPES:-$ALL_SHAPES}
CLIENTS=${CLIENTS:-1000}
SENDERS=${SENDERS:-10}
RATE=${RATE:-50}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
DRAIN=${DRAIN:-20s}

log() { printf '== %s\n' "$*" >&2; }

for shape in $SHAPES; do
	case $shape in
	single | redis1 | redis2) ;;
	*) log "unknown shape $shape (want some of: $ALL_SHAPES)"; exit 2 ;;
	esac
done
command -v redis-server >/dev/null || {
	log "redis-server is missing (Debian/Ubuntu: sudo apt-get install redis-server)"
	exit 1
}

mkdir -p "$OUT/bin" "$OUT/logs" "$OUT/db" "$OUT/redis"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

# 1000 clients need 1000 descriptors in the load tool and the servers.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

log "building step 11 and the load tool into $OUT/bin"
go build -o "$OUT/bin/step11" ./steps/11-scaling-with-redis
go build -o "$OUT/bin/loadtest" ./scripts/loadtest

REDIS_PID=
REDIS_URL=
# start_redis: starts redis-server without persistence on a free port
# and sets REDIS_PID and REDIS_URL. redis-server exits when its port is
# taken, so another random port is tried.
start_redis() {
	local logf=$OUT/logs/redis.log port
	for _ in $(seq 20); do
		port=$((30000 + RANDOM % 30000))
		redis-server --bind 127.0.0.1 --port "$port" --dir "$OUT/redis" \
			--save '' --appendonly no >"$logf" 2>&1 &
		REDIS_PID=$!
		for _ in $(seq 100); do
			if grep -q 'Ready to accept connections' "$logf"; then
				REDIS_URL=redis://127.0.0.1:$port/0
				return 0
			fi
			kill -0 "$REDIS_PID" 2>/dev/null || break
			sleep 0.1
		done
		stop_pid "$REDIS_PID"
	done
	log "redis-server did not start; its log:"
	cat "$logf" >&2
	return 1
}

# stop_pid PID: SIGTERM, up to 15 s to exit, then SIGKILL.
stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	for _ in $(seq 150); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

SERVER_PIDS=()
SERVER_URLS=()
# start_server LOGFILE DB [REDIS_URL]: starts a process of step 11 on a
# free port, waits for its ready line (and, with Redis, for its
# subscription) and adds it to SERVER_PIDS and SERVER_URLS.
start_server() {
	local logf=$1 db=$2 redis=${3:-} pid port=
	# Measure the server as it ships: no inherited collector settings.
	env -u GOGC -u GOMEMLIMIT -u GODEBUG -u DATABASE_URL -u REDIS_URL PORT=0 \
		MAX_CONNECTIONS=3000 MESSAGE_RATE=1000 MESSAGE_BURST=1000 DATABASE_PATH="$db" \
		${redis:+REDIS_URL="$redis"} "$OUT/bin/step11" >"$logf" 2>&1 &
	pid=$!
	SERVER_PIDS+=("$pid")
	for _ in $(seq 300); do
		if [ -z "$port" ]; then
			port=$(grep -o 'sunucu dinliyor.*localhost:[0-9]*' "$logf" 2>/dev/null | grep -o '[0-9]*$' | head -1 || true)
		fi
		if [ -n "$port" ] && { [ -z "$redis" ] || grep -q "Redis'e bağlandı" "$logf"; }; then
			SERVER_URLS+=("http://127.0.0.1:$port")
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	log "step 11 did not start; its log:"
	cat "$logf" >&2
	return 1
}

stop_servers() {
	local pid
	for pid in "${SERVER_PIDS[@]}"; do
		stop_pid "$pid"
	done
	SERVER_PIDS=()
	SERVER_URLS=()
}

# shellcheck disable=SC2317 # cleanup runs from the EXIT trap
cleanup() {
	stop_servers
	[ -z "$REDIS_PID" ] || stop_pid "$REDIS_PID"
}
trap cleanup EXIT

# cpu_ticks PID: the user and system CPU time of PID (utime + stime, in
# clock ticks). The fields are counted after the command name's ')'.
cpu_ticks() {
	local stat
	stat=$(<"/proc/$1/stat")
	stat=${stat##*) }
	# shellcheck disable=SC2086 # split the fields on purpose
	set -- $stat
	echo $((${12} + ${13}))
}
HZ=$(getconf CLK_TCK)

label() {
	case $1 in
	single) echo "adım 11, tek süreç, Redis yok" ;;
	redis1) echo "adım 11, tek süreç + Redis" ;;
	redis2) echo "adım 11, iki süreç + Redis" ;;
	esac
}

start_redis
log "redis-server $REDIS_URL (pid $REDIS_PID)"
log "$(nproc) CPUs; load: $CLIENTS clients, $SENDERS senders, $RATE msg/s, $DURATION after $WARMUP warm-up"

status=0
for shape in $SHAPES; do
	log "$shape: $(label "$shape"); load average $(cut -d' ' -f1-3 /proc/loadavg)"
	db=$OUT/db/$shape.db
	case $shape in
	single) start_server "$OUT/logs/$shape-1.log" "$db" ;;
	redis1) start_server "$OUT/logs/$shape-1.log" "$db" "$REDIS_URL" ;;
	redis2)
		start_server "$OUT/logs/$shape-1.log" "$db" "$REDIS_URL"
		start_server "$OUT/logs/$shape-2.log" "$db" "$REDIS_URL"
		;;
	esac
	urls=$(IFS=,; echo "${SERVER_URLS[*]}")
	pids=$(IFS=,; echo "${SERVER_PIDS[*]}")
	# redis-server is part of the cluster's cost where it is used.
	[ "$shape" = single ] || pids+=,$REDIS_PID
	toollog=$OUT/logs/load-$shape.txt
	before=$(cpu_ticks "$REDIS_PID")
	rc=0
	"$OUT/bin/loadtest" -url "$urls" -pid "$pids" -label "$(label "$shape")" \
		-clients "$CLIENTS" -senders "$SENDERS" -rate "$RATE" \
		-warmup "$WARMUP" -duration "$DURATION" -drain "$DRAIN" -json -progress 2s \
		2>"$toollog" | sed "s/^{/{\"shape\":\"$shape\",/" >>"$RESULTS" || rc=$?
	after=$(cpu_ticks "$REDIS_PID")
	stop_servers
	echo
	echo "### $shape: $(label "$shape")"
	# The report, without the progress lines.
	grep -v '^\[' "$toollog" || true
	awk -v t=$((after - before)) -v hz="$HZ" -v s="$shape" 'BEGIN {
		printf "redis-server CPU  %.2f s over the whole shape (connect to drain)%s\n", t / hz, s == "single" ? "; not used by this shape" : ""
	}'
	if [ "$rc" != 0 ]; then
		log "$shape: the load tool exited $rc (see above); going on"
		status=1
	fi
done

"$OUT/bin/loadtest" -markdown-from "$RESULTS" >"$OUT/results.md"
echo
cat "$OUT/results.md"
log "results in $OUT (results.jsonl, results.md, logs/)"
exit "$status"
