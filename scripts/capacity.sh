#!/usr/bin/env bash
# Capacity run on this machine: the server pinned to one core, the load
# generator to the other, so neither steals the other's CPU time.
#   scripts/capacity.sh PUBLISHERS [loadtest flags...]
# e.g. scripts/capacity.sh 30            (simulcast camera + microphone, 9 tiles)
#      scripts/capacity.sh 80 --audio-only
# Prints the loadtest table; the JSON goes to /tmp/plausch-capacity-N.json.
set -euo pipefail
n=${1:?publishers}
shift
cd "$(dirname "$0")/.."
[ -x bin/plausch ] || make build >/dev/null
port=$((20000 + RANDOM % 10000))
taskset -c 0 ./bin/plausch serve --addr 127.0.0.1:$port --ice-loopback --log-level warn \
	--max-participants 0 >/tmp/plausch-capacity-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
	curl -fs http://127.0.0.1:$port/healthz >/dev/null 2>&1 && break
	sleep 0.1
done
taskset -c 1 ./bin/plausch loadtest --url http://127.0.0.1:$port --publishers "$n" --ice-loopback \
	--server-pid $server --ramp-up 50ms --duration 30s --quiet --json /tmp/plausch-capacity-$n.json "$@"
