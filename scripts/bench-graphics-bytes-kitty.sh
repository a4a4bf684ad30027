#!/bin/sh
# Bytes of a session in a real kitty (Debian 0.26.5: direct placements) under Xvfb with software GL:
# first screen, then a pixel click and its mask. BENCHMARKS.md, "Terminal graphics".
# Usage: scripts/bench-graphics-bytes-kitty.sh [DISPLAY_NUMBER] (after swift build -c release)
d=:${1:-86}
root=$(cd "$(dirname "$0")/.." && pwd)
rm -rf /tmp/sdk3 && cp -r "$root/sample-data" /tmp/sdk3 && rm -rf /tmp/sdk3/segterm-out
Xvfb $d -screen 0 1280x800x24 -nolisten tcp +extension GLX >/dev/null 2>&1 &
xv=$!
sleep 1
rm -f /tmp/kitty.typescript
DISPLAY=$d LIBGL_ALWAYS_SOFTWARE=1 kitty --config NONE -o initial_window_width=1000 -o initial_window_height=620 -o window_padding_width=0 -o placement_strategy=top-left sh -c "sleep 1; script -q -f -c '$root/.build/release/segterm open /tmp/sdk3' /tmp/kitty.typescript" >/dev/null 2>&1 &
kt=$!
sleep 7
a=$(stat -c %s /tmp/kitty.typescript)
DISPLAY=$d xdotool mousemove 530 270 click 1
sleep 3
b=$(stat -c %s /tmp/kitty.typescript)
DISPLAY=$d xwd -root -silent -out /tmp/k3.xwd
DISPLAY=$d xdotool type q
sleep 1
echo "kitty 0.26.5 (direct placement): first screen $a B; click (pixel mouse) + its mask $((b-a)) B"
kill $kt 2>/dev/null; sleep 0.3; kill $xv
