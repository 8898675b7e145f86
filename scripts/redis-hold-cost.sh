#!/usr/bin/env bash
# Redis's cost of one hold, in instructions: runs a scratch redis-server (AOF on, as the AppHost runs it) under
# valgrind's callgrind, loads a general-admission campaign, and counts the instructions Redis spends per EVALSHA of
# the hold script (prelude.lua + buckets.lua + inventory.lua + hold.lua, as SeatInventory sends it) with the Api's arguments and two rate-limit
# buckets. Instruction counts do not move with the machine's speed, unlike the bench's seconds: use it to compare
# versions of the scripts. Needs redis-server, redis-benchmark and valgrind.
# Usage: scripts/redis-hold-cost.sh [holds, default 3000]
set -euo pipefail
cd "$(dirname "$0")/.."
holds=${1:-3000}
port=${REDIS_COST_PORT:-7797}
work=$(mktemp -d)
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
core=TicketSale.Core
for part in Redis/Scripts/prelude RateLimiting/Scripts/buckets Inventory/Scripts/inventory Inventory/Scripts/hold; do
  cat "$core/$part.lua"; echo
done > "$work/hold.lua"
printf 'port %s\nbind 127.0.0.1\nappendonly yes\nappendfsync everysec\nsave ""\ndir %s\nlogfile "%s/redis.log"\n' "$port" "$work" "$work" > "$work/redis.conf"
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" redis-server "$work/redis.conf" > "$work/valgrind.log" 2>&1 &
for _ in $(seq 100); do redis-cli -p "$port" ping > /dev/null 2>&1 && break; sleep 0.2; done
prefix='ts:{00000000000000000000000000000001}'
redis-cli -p "$port" set "$prefix:loaded" 1 > /dev/null
redis-cli -p "$port" set "$prefix:ga:ga" 1000000000 > /dev/null
sha=$(redis-cli -p "$port" script load "$(cat "$work/hold.lua")")
run() {
  redis-benchmark -p "$port" -c 8 -n "$1" -r 1000000000 --csv EVALSHA "$sha" 1 "$prefix" hold__rand_int__ user__rand_int__ 3600000 50 ga 1 \
    2 u:user__rand_int__ 1000000 1000000 ip:127.0.0.1 1000000 1000000 > /dev/null
}
# Not counted: the first calls (the script's first compilation, the keyspace's first growth).
run 1000
reply=$(redis-cli -p "$port" evalsha "$sha" 1 "$prefix" h u 3600000 50 ga 1 2 u:u 1000000 1000000 ip:127.0.0.1 1000000 1000000 | head -1)
[ "$reply" = "OK" ] || { echo "the hold script answered $reply, not OK" >&2; exit 1; }
callgrind_control -z > /dev/null
run "$holds"
callgrind_control -d > /dev/null
sleep 0.5
total=$(callgrind_annotate "$work/callgrind.out.1" 2> /dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
echo "Redis instructions per hold: $((total / holds)) (over $holds holds)"
