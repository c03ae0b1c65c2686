#!/usr/bin/env bash
# compare.sh: run the same loads against the Node reference chat
# (socket.io 2.5.x, io.emit), step 05 and step 06, one after another, then
# draw charts and write Markdown tables of the results (scripts/charts).
#
# Usage (from anywhere; needs go, and node with npm for the node server or
# the node-* shapes):
#   scripts/bench/compare.sh
#   SERVERS="step06" SHAPES="ws-small poll-small node-poll-small" DURATION=2s WARMUP=1s scripts/bench/compare.sh
#   REPEAT=3 scripts/bench/compare.sh          # what docs/bench holds
# Environment:
#   OUT=dir            where results go (default: a new /tmp/sohbet-bench.* dir)
#   SERVERS="node step05 step06"   which servers, in this order
#   SHAPES="ws-small ws-medium idle poll-small poll-medium node-poll-small"
#                      which loads (default: all of them, in this order);
#                      each shape fixes its own transport and load driver:
#       ws-small         100 clients, 10 senders, 200 msg/s, websocket
#       ws-medium        1000 clients, 10 senders, 50 msg/s, websocket
#       idle             5000 idle websocket clients, then one message to all
#       poll-small       100 clients, 10 senders, 200 msg/s, long-polling
#       poll-medium      1000 clients, 10 senders, 50 msg/s, long-polling
#       node-poll-small  as poll-small, but the clients are the official
#                        socket.io-client 2.5.0 in one Node process
#                        (node-load/load.js) instead of scripts/loadtest
#                      (small and medium still work: they mean ws-small and
#                      ws-medium)
#   DURATION=10s WARMUP=3s DRAIN=20s   measured time, warm-up, drain limit
#   PIN=0              1: pin each server to CPU 0 and the load driver to
#                      CPU 1 (needs taskset and 2+ CPUs; on a busy machine
#                      pinning hurts more than it helps)
#   REPEAT=1           runs of each server and load; tables and charts show
#                      the run with the median p99 (idle: median memory)
#   STEP06_ENV="SEND_QUEUE=1024"   extra environment for step 06
# TRANSPORT is no longer read (a shape names its transport); the script
# stops when it is set, rather than measure something else than asked.
#
# Output in $OUT: results.jsonl (one JSON line per run, as printed by the
# load driver, with a "shape" field), results.md and *.png (written by
# scripts/charts from results.jsonl), machine.txt (machine, versions,
# commit and this command line) and logs/. To publish a measurement, copy
# results.jsonl, results.md, the PNGs and machine.txt into docs/bench/; to
# redraw after a change to scripts/charts: go run ./scripts/charts.
#
# Each server is started fresh for each load on a free port of 127.0.0.1,
# sampled through /proc/PID by the Go load tool, then stopped with SIGTERM.
# Step 06 limits each connection; the script raises its limits through the
# environment so that the load, not the limits, is measured. It also gets
# the settings that the Procfile gives the deployed step
# (GODEBUG=adaptivestackstart=0, see docs/08-yuk-testi.md).
set -euo pipefail

cd "$(dirname "$0")/../.."

ALL_SHAPES="ws-small ws-medium idle poll-small poll-medium node-poll-small"

# quote VALUE: VALUE as the shell reads it back, in single quotes unless
# it is a plain word.
quote() {
	case $1 in
	'' | *[!A-Za-z0-9_./:=,+-]*) printf "'%s'" "${1//\'/\'\\\'\'}" ;;
	*) printf '%s' "$1" ;;
	esac
}

# The command line as given, knobs included, for machine.txt.
cmdline=
for v in OUT SERVERS SHAPES DURATION WARMUP DRAIN PIN REPEAT STEP06_ENV; do
	if [ -n "${!v+set}" ]; then
		cmdline+="$v=$(quote "${!v}") "
	fi
done
cmdline+="scripts/bench/compare.sh"

log() { printf '== %s\n' "$*" >&2; }

if [ -n "${TRANSPORT+set}" ]; then
	log "TRANSPORT is no longer read: each shape fixes its transport (ws-*: websocket, poll-*: long-polling); unset it and pick SHAPES"
	exit 2
fi

OUT=${OUT:-$(mktemp -d /tmp/sohbet-bench.XXXXXX)}
SERVERS=${SERVERS:-"node step05 step06"}
SHAPES=${SHAPES:-$ALL_SHAPES}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
DRAIN=${DRAIN:-20s}
PIN=${PIN:-0}
REPEAT=${REPEAT:-1}
STEP06_ENV=${STEP06_ENV:-}

# Old shape names (docs/08 uses them) are the websocket shapes.
shapes=()
for shape in $SHAPES; do
	case $shape in
	small) shapes+=(ws-small) ;;
	medium) shapes+=(ws-medium) ;;
	ws-small | ws-medium | idle | poll-small | poll-medium | node-poll-small) shapes+=("$shape") ;;
	*) log "unknown shape $shape (want some of: $ALL_SHAPES)"; exit 2 ;;
	esac
done

mkdir -p "$OUT/bin" "$OUT/logs"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

# 5000 clients need 5000 descriptors in the load tool and in the server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 12000 ]; then
	log "warning: ulimit -n is $(ulimit -n); the idle shape (5000 clients) may fail"
fi

# The settings the Procfile's web command gives the deployed program (the
# NAME=value words before its name): step 06 is measured with them, as a
# dyno would run it. References to other variables ($GODEBUG) are dropped:
# the servers start with those unset.
procfile_env=()
shopt -s extglob
read -ra words <<<"$(sed -n 's/^web:[[:space:]]*//p' Procfile)"
for w in "${words[@]}"; do
	case $w in
	[A-Za-z_]*=*) procfile_env+=("${w//\$?(\{)+([A-Za-z0-9_])?(\})/}") ;;
	*) break ;;
	esac
done

server_cpu=() tool_cpu=()
if [ "$PIN" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	server_cpu=(taskset -c 0)
	tool_cpu=(taskset -c 1)
else
	PIN=0
fi

# need_npm installs the pinned npm packages when node_modules does not hold
# socket.io 2.x and socket.io-client 2.5.0.
need_npm() {
	command -v node >/dev/null || { log "node is missing"; exit 1; }
	if ! node -e '
		const v = (p) => require("./node_modules/" + p + "/package.json").version;
		process.exit(v("socket.io").startsWith("2.") && v("socket.io-client") === "2.5.0" ? 0 : 1);
	' 2>/dev/null; then
		log "installing the pinned npm packages (npm ci)"
		npm ci --no-audit --no-fund >&2
	fi
}

log "building the load tool, the charts and the Go steps into $OUT/bin"
go build -o "$OUT/bin/loadtest" ./scripts/loadtest
go build -o "$OUT/bin/charts" ./scripts/charts
for s in $SERVERS; do
	case $s in
	step05) go build -o "$OUT/bin/step05" ./steps/05-socketio-broadcast ;;
	step06) go build -o "$OUT/bin/step06" ./steps/06-production-chat ;;
	node) need_npm ;;
	*) log "unknown server $s (want node, step05, step06)"; exit 2 ;;
	esac
done
for shape in "${shapes[@]}"; do
	case $shape in node-*) need_npm; break ;; esac
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
		"${env[@]}" "${procfile_env[@]}" MESSAGE_RATE=100000 MESSAGE_BURST=100000 MAX_CONNECTIONS=20000 MAX_MESSAGE_BYTES=4096 $STEP06_ENV \
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

# shape_args SHAPE: the load driver's arguments for SHAPE, after the first
# word, which names the driver (go or node).
shape_args() {
	local measured="-warmup $WARMUP -duration $DURATION"
	case $1 in
	ws-small) echo "go -transport websocket -clients 100 -senders 10 -rate 200 $measured" ;;
	ws-medium) echo "go -transport websocket -clients 1000 -senders 10 -rate 50 $measured" ;;
	idle) echo "go -transport websocket -clients 5000 -senders 1 -rate 1 -warmup 0s -duration 1s -settle 5s -connect-rate 1000" ;;
	poll-small) echo "go -transport polling -clients 100 -senders 10 -rate 200 $measured" ;;
	poll-medium) echo "go -transport polling -clients 1000 -senders 10 -rate 50 $measured" ;;
	node-poll-small) echo "node --transports polling --clients 100 --senders 10 --rate 200 --warmup $WARMUP --duration $DURATION" ;;
	esac
}

{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
	echo "memory: $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo)"
	echo "kernel: $(uname -sr)"
	echo "go: $(go version | cut -d' ' -f3-)"
	echo "node: $(node --version 2>/dev/null || echo none)"
	echo "npm packages: $(node -p 'const v = (p) => require("./node_modules/" + p + "/package.json").version; "socket.io " + v("socket.io") + ", socket.io-client " + v("socket.io-client")' 2>/dev/null || echo none)"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$([ -n "$(git status --porcelain 2>/dev/null)" ] && echo ' (with uncommitted changes)')"
	echo "command: $cmdline"
	echo "step 06 runs with the Procfile's settings: ${procfile_env[*]:-none}"
	echo "pinning: $([ "$PIN" = 1 ] && echo 'server on CPU 0, load driver on CPU 1' || echo none)"
	echo "shapes: ${shapes[*]}; servers: $SERVERS; $REPEAT run(s) each; duration $DURATION after $WARMUP warm-up"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

status=0
# Servers take turns within each repetition, so that a busy moment of the
# machine does not fall on one server only.
for shape in "${shapes[@]}"; do
	read -r driver args_line <<<"$(shape_args "$shape")"
	read -r -a args <<<"$args_line"
	for rep in $(seq "$REPEAT"); do
		for s in $SERVERS; do
			log "$shape ($rep/$REPEAT): $(label "$s"); load average $(cut -d' ' -f1-3 /proc/loadavg)"
			start_server "$s" "$OUT/logs/$s-$shape-$rep.log"
			toollog=$OUT/logs/load-$s-$shape-$rep.txt
			rc=0
			case $driver in
			go)
				# The Go tool knows no shapes: the line gets its "shape" here.
				"${tool_cpu[@]}" "$OUT/bin/loadtest" -url "$SERVER_URL" "${args[@]}" \
					-drain "$DRAIN" -pid "$SERVER_PID" -label "$(label "$s")" -json -progress 2s \
					2> >(tee "$toollog" >&2) | sed "s/^{/{\"shape\":\"$shape\",/" >>"$RESULTS" || rc=$?
				;;
			node)
				"${tool_cpu[@]}" node scripts/bench/node-load/load.js --url "$SERVER_URL" "${args[@]}" \
					--drain "$DRAIN" --label "$(label "$s")" --shape "$shape" --progress 2s \
					>>"$RESULTS" 2> >(tee "$toollog" >&2) || rc=$?
				;;
			esac
			stop_server
			if [ "$rc" != 0 ]; then
				log "$shape on $s: the load driver exited $rc (see above); going on"
				status=1
			fi
		done
	done
done

if "$OUT/bin/charts" -in "$RESULTS" -out "$OUT" >/dev/null; then
	log "results in $OUT (results.jsonl, results.md, *.png, machine.txt, logs/)"
	cat "$OUT/results.md"
else
	log "scripts/charts failed on $RESULTS (see above)"
	status=1
fi
exit "$status"
