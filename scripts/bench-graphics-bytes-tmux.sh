#!/bin/bash
# Bytes per prompt for the text modes and kitty (through tmux): BENCHMARKS.md, "Terminal graphics".
# Usage: scripts/bench-graphics-bytes-tmux.sh (after swift build -c release)
root=$(cd "$(dirname "$0")/.." && pwd); B=$root/.build/release/segterm
for mode in "--graphics text --symbols half" "--graphics text --symbols quadrants" "--graphics text --symbols sextants" "--graphics kitty"; do
  rm -rf /tmp/sdb; cp -r "$root/sample-data" /tmp/sdb; rm -rf /tmp/sdb/segterm-out
  T="tmux -L bytes"; $T kill-server 2>/dev/null
  $T -f /dev/null new-session -d -s b -x 160 -y 45 "sleep 0.5; $B open /tmp/sdb $mode --debug-io; echo EXITED \$?; sleep 30"
  $T set -g allow-passthrough on; $T pipe-pane -O -t b 'cat > /tmp/bytes.out'
  for i in $(seq 50); do $T capture-pane -p -t b | grep -q "grabcut: ready" && break; sleep 0.2; done
  sleep 0.5; first=$(stat -c %s /tmp/bytes.out)
  $T send-keys -t b +
  for i in $(seq 50); do $T capture-pane -p -t b | grep -q "done in" && break; sleep 0.2; done
  sleep 0.8; after=$(stat -c %s /tmp/bytes.out)
  echo "$mode: first screen $first B, point at the cursor (+) and its mask $((after-first)) B; status: $($T capture-pane -p -t b | tail -1 | grep -o 'io [^g]*')"
  $T send-keys -t b q; sleep 0.5; $T kill-server
done
