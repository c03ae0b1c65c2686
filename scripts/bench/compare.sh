#!/usr/bin/env bash
# compare.sh: run the same loads against the Node reference chat
# (socket.io 2.5.x, io.emit), step 05 and step 06, one after another, and
# write a Markdown table of the results.
#
# Usage (from anywhere; needs go, node and npm):
#   scripts/bench/compare.sh
# Environment:
#   OUT=dir            where results go (default: a new /tmp/sohbet-bench.* dir)
#   SERVERS="node step05 step06"   which servers, in this order
#   SHAPES="small medium idle"     which loads:
#       small   100 clients, 10 senders, 200 msg/s
#       medium  1000 clients, 10 senders, 50 msg/s
#       idle    5000 idle clients, then one message fanned out to all
#   DURATION=10s WARMUP=3s DRAIN=20s   measured time, warm-up, drain limit
#   TRANSPORT=websocket            Socket.IO transport (websocket or polling)
#   PIN=0                          1: pin each server to CPU 0 and the load tool
#                                  to CPU 1 (needs taskset and 2+ CPUs; on a
#                                  busy machine pinning hurts more than it helps)
#   REPEAT=1                       runs of each server and load; the table
#                                  shows the run with the median p99
#   STEP06_ENV="SEND_QUEUE=1024"   extra environment for step 06
#
# Each server is started fresh for each load on a free port of 127.0.0.1,
# sampled through /proc/PID by the load tool, then stopped with SIGTERM.
# Step 06 limits each connection; the script raises its limits through the
# environment so that the load, not the limits, is measured.
set -euo pipefail

cd "$(dirname "$0")/../.."

OUT=${OUT:-$(mktemp -d /tmp/sohbet-bench.XXXXXX)}
SERVERS=${SERVERS:-"node step05 step06"}
SHAPES=${SHAPES:-"small medium idle"}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
DRAIN=${DRAIN:-20s}
TRANSPORT=${TRANSPORT:-websocket}
PIN=${PIN:-0}
REPEAT=${REPEAT:-1}
STEP06_ENV=${STEP06_ENV:-}
mkdir -p "$OUT/bin" "$OUT/logs"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

log() { printf '== %s\n' "$*" >&2; }

# 5000 clients need 5000 descriptors in the load tool and in the server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 12000 ]; then
	log "warning: ulimit -n is $(ulimit -n); the idle shape (5000 clients) may fail"
fi

server_cpu=() tool_cpu=()
if [ "$PIN" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	server_cpu=(taskset -c 0)
	tool_cpu=(taskset -c 1)
else
	PIN=0
fi

log "building the load tool and the Go steps into $OUT/bin"
go build -o "$OUT/bin/loadtest" ./scripts/loadtest
for s in $SERVERS; do
	case $s in
	step05) go build -o "$OUT/bin/step05" ./steps/05-socketio-broadcast ;;
	step06) go build -o "$OUT/bin/step06" ./steps/06-production-chat ;;
	node)
		command -v node >/dev/null || { log "node is missing"; exit 1; }
		if ! node -e 'process.exit(require("./node_modules/socket.io/package.json").version.startsWith("2.") ? 0 : 1)' 2>/dev/null; then
			log "installing the pinned npm packages (npm ci)"
			npm ci --no-audit --no-fund >&2
		fi
		;;
	*) log "unknown server $s (want node, step05, step06)"; exit 2 ;;
	esac
done

label() {
	case $1 in
	node) echo "Node socket.io $(node -p 'require("./node_modules/socket.io/package.json").version') (io.emit)" ;;
	step05) echo "adım 05 (go-socket.io BroadcastToRoom)" ;;
	step06) echo "adım 06 (bağlantı başına kuyruk)" ;;
	esac
}

SERVER_PID=
SERVER_URL=
# start_server NAME LOGFILE: starts NAME on a free port, waits for its ready
# line and sets SERVER_PID and SERVER_URL.
start_server() {
	local name=$1 logf=$2
	# Measure the servers as they ship: no inherited collector settings.
	local -a env=(env -u GOGC -u GOMEMLIMIT -u GODEBUG PORT=0)
	case $name in
	node) "${env[@]}" "${server_cpu[@]}" node scripts/bench/node-reference/server.js >"$logf" 2>&1 & ;;
	step05) "${env[@]}" "${server_cpu[@]}" "$OUT/bin/step05" >"$logf" 2>&1 & ;;
	step06)
		# shellcheck disable=SC2086 # STEP06_ENV is a list of NAME=value
		"${env[@]}" MESSAGE_RATE=100000 MESSAGE_BURST=100000 MAX_CONNECTIONS=20000 MAX_MESSAGE_BYTES=4096 $STEP06_ENV \
			"${server_cpu[@]}" "$OUT/bin/step06" >"$logf" 2>&1 &
		;;
	esac
	SERVER_PID=$!
	local port=
	for _ in $(seq 300); do
		port=$(grep -o 'sunucu dinliyor.*localhost:[0-9]*' "$logf" 2>/dev/null | grep -o '[0-9]*$' | head -1 || true)
		[ -n "$port" ] && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$port" ]; then
		log "$name did not start; its log:"
		cat "$logf" >&2
		return 1
	fi
	SERVER_URL=http://127.0.0.1:$port
}

stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	for _ in $(seq 150); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}
trap stop_server EXIT

shape_args() {
	case $1 in
	small) echo "-clients 100 -senders 10 -rate 200 -warmup $WARMUP -duration $DURATION" ;;
	medium) echo "-clients 1000 -senders 10 -rate 50 -warmup $WARMUP -duration $DURATION" ;;
	idle) echo "-clients 5000 -senders 1 -rate 1 -warmup 0s -duration 1s -settle 5s -connect-rate 1000" ;;
	*) log "unknown shape $1 (want small, medium, idle)"; exit 2 ;;
	esac
}

{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
	echo "memory: $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo)"
	echo "kernel: $(uname -sr)"
	echo "go: $(go version | cut -d' ' -f3-)"
	echo "node: $(node --version 2>/dev/null || echo none)"
	echo "pinning: $([ "$PIN" = 1 ] && echo 'server on CPU 0, load tool on CPU 1' || echo none)"
	echo "transport: $TRANSPORT; duration $DURATION after $WARMUP warm-up"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

status=0
# Servers take turns within each repetition, so that a busy moment of the
# machine does not fall on one server only.
for shape in $SHAPES; do
	read -r -a args <<<"$(shape_args "$shape")"
	for rep in $(seq "$REPEAT"); do
		for s in $SERVERS; do
			log "$shape ($rep/$REPEAT): $(label "$s"); load average $(cut -d' ' -f1-3 /proc/loadavg)"
			start_server "$s" "$OUT/logs/$s-$shape-$rep.log"
			rc=0
			"${tool_cpu[@]}" "$OUT/bin/loadtest" -url "$SERVER_URL" -transport "$TRANSPORT" "${args[@]}" \
				-drain "$DRAIN" -pid "$SERVER_PID" -label "$(label "$s")" -json -progress 2s \
				>>"$RESULTS" 2> >(tee "$OUT/logs/loadtest-$s-$shape-$rep.txt" >&2) || rc=$?
			stop_server
			if [ "$rc" != 0 ]; then
				log "$shape on $s: the load tool exited $rc (see above); going on"
				status=1
			fi
		done
	done
done

"$OUT/bin/loadtest" -markdown-from "$RESULTS" >"$OUT/results.md"
log "results in $OUT (results.jsonl, results.md, machine.txt, logs/)"
cat "$OUT/results.md"
exit "$status"
