#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages segterm builds and tests with, when they are missing.
# Runs apt-get through sudo unless already root.
set -euo pipefail
# xvfb, xterm, kitty, x11-apps and xdotool: the end-to-end tests of terminal graphics (real terminals:
# xterm for sixel, kitty for the kitty graphics protocol; kitty draws with OpenGL, under Xvfb Mesa's
# software renderer, libgl1-mesa-dri, which xvfb's libgl1 brings in).
packages=(libncurses-dev ncurses-term libopenblas-dev libpng-dev zlib1g-dev libturbojpeg0-dev libssl-dev pkg-config tmux xvfb xterm kitty x11-apps xdotool)
# --cluster: slurm-wlm and munge, for the test that runs sbatch array jobs on a single-node Slurm
# cluster it starts itself (scripts/slurm-local.sh; skipped without them). Optional: a user needs
# neither to run segterm, on a cluster or not.
if [ "${1:-}" = "--cluster" ]; then packages+=(slurm-wlm munge); fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "segterm: system packages present: ${packages[*]}"
    exit 0
fi
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
echo "segterm: installing ${missing[*]}"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}"
