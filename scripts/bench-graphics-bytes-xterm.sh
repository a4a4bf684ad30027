#!/bin/sh
# Bytes of a sixel session in xterm (VT340) under Xvfb: first screen, a pixel click and its mask.
# Usage: scripts/bench-graphics-bytes-xterm.sh [DISPLAY_NUMBER] (after swift build -c release)
root=$(cd "$(dirname "$0")/.." && pwd)
rm -rf /tmp/sd && cp -r "$root/sample-data" /tmp/sd && rm -rf /tmp/sd/segterm-out
d=:${1:-94}
Xvfb $d -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xv=$!
sleep 1
rm -f /tmp/six.typescript
DISPLAY=$d xterm -geometry 160x45+0+0 -bw 0 -b 0 -fa '' -fn fixed -xrm 'XTerm*decTerminalID: vt340' -xrm 'XTerm*numColorRegisters: 256' -xrm 'XTerm*sixelScrolling: true' -e script -q -f -c "$root/.build/release/segterm open /tmp/sd" /tmp/six.typescript &
xt=$!
sleep 4
a=$(stat -c %s /tmp/six.typescript)
DISPLAY=$d xdotool mousemove 445 265 click 1
sleep 3
b=$(stat -c %s /tmp/six.typescript)
DISPLAY=$d xdotool key plus
sleep 3
c=$(stat -c %s /tmp/six.typescript)
DISPLAY=$d xwd -root -silent -out /tmp/w3.xwd
DISPLAY=$d xdotool type q
sleep 1
echo "sixel: first screen $a B; click (pixel mouse) + its mask $((b-a)) B; + at the cursor + mask $((c-b)) B"
kill $xt 2>/dev/null; sleep 0.3; kill $xv
