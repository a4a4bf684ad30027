#!/bin/sh
# Shows a sixel file in a real sixel terminal (xterm as a VT340, 256 colour registers) under
# Xvfb, takes a screenshot and compares it with the sixel's own pixels. Debian packages:
# xvfb xterm x11-apps (xwd). Usage: scripts/sixel-xterm-check.sh frame.six [shot.xwd]
# A frame to try: SEGTERM_SIXEL_OUT=/tmp/forest.six swift test … --filter GraphicsBudgetTests/budget
set -eu
six=$1
shot=${2:-/tmp/segterm-sixel-shot.xwd}
display=:${SEGTERM_XVFB_DISPLAY:-97}
Xvfb "$display" -screen 0 1024x768x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null' EXIT
sleep 1
DISPLAY=$display xterm -geometry 120x45+0+0 -bw 0 -b 0 -fa '' -fn fixed \
    -xrm 'XTerm*decTerminalID: vt340' -xrm 'XTerm*numColorRegisters: 256' -xrm 'XTerm*sixelScrolling: true' \
    -e sh -c "printf '\033[2J\033[H'; cat '$six'; sleep 4" &
term=$!
sleep 2.5
DISPLAY=$display xwd -root -silent -out "$shot"
wait $term 2>/dev/null || true
python3 "$(dirname "$0")/sixel-compare.py" "$six" "$shot"
