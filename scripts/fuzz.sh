#!/usr/bin/env bash
# Builds one libFuzzer target from Fuzz/ and runs it, single-threaded.
#
#   scripts/fuzz.sh TARGET SECONDS        e.g. scripts/fuzz.sh images 600
#   scripts/fuzz.sh TARGET build          build only
#   scripts/fuzz.sh TARGET run FILE...    run the built target on given inputs (reproduce a crash)
#
# Targets: images, coco-gt, coco-results, rle-string, polygon, checkpoint.
#
# The package is not touched: each module the target needs (SegCore, SegEval, SegNN) is compiled by
# swiftc straight from Sources/ into a static library with -sanitize=fuzzer,address (coverage
# instrumentation plus ASan; libFuzzer itself is only linked into the final executable), and the
# C shim segpng.c by clang with the matching -fsanitize=fuzzer-no-link,address. Everything goes
# to .build-fuzz/ (ignored by git). Corpora live in .build-fuzz/corpus/TARGET, seeded from the
# test fixtures; crash, timeout and OOM inputs are written to .build-fuzz/artifacts/TARGET/.
set -euo pipefail

target=${1:?usage: scripts/fuzz.sh TARGET SECONDS|build|run FILE...}
mode=${2:?usage: scripts/fuzz.sh TARGET SECONDS|build|run FILE...}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/.build-fuzz"
source_file="$root/Fuzz/$target.swift"
[[ -f $source_file ]] || { echo "fuzz.sh: no target $target (expected $source_file)" >&2; exit 2; }

case $target in
    images | rle-string | polygon) modules=(SegCore) ;;
    coco-gt | coco-results) modules=(SegCore SegEval) ;;
    checkpoint) modules=(SegNN) ;;
    *) echo "fuzz.sh: no module list for $target" >&2; exit 2 ;;
esac

sanitize=-sanitize=fuzzer,address
mkdir -p "$out/include/CPNG"

# The C shim and a module map for it (SwiftPM writes one for a target's include/ folder; here we must).
build_cpng() {
    cat > "$out/include/CPNG/module.modulemap" <<MAP
module CPNG {
    header "$root/Sources/CPNG/include/segpng.h"
    export *
}
MAP
    clang -O1 -g -fsanitize=fuzzer-no-link,address -I "$root/Sources/CPNG/include" \
        -c "$root/Sources/CPNG/segpng.c" -o "$out/segpng.o"
}

# A module from Sources/NAME as a static library plus its .swiftmodule, rebuilt when a source changed.
build_module() {
    local name=$1 lib="$out/lib$1.a"
    local sources
    mapfile -t sources < <(find "$root/Sources/$name" -name '*.swift' | sort)
    if [[ -f $lib ]] && [[ -z $(find "$root/Sources/$name" -name '*.swift' -newer "$lib") ]]; then return; fi
    echo "fuzz.sh: compiling $name" >&2
    swiftc -parse-as-library -O -g $sanitize -module-name "$name" \
        -emit-library -static -emit-module -emit-module-path "$out/$name.swiftmodule" \
        -I "$out" -I "$out/include" -I "$root/Sources/CJPEG" -I "$root/Sources/CBLAS" \
        "${sources[@]}" -o "$lib"
}

build() {
    build_cpng
    local libs=()
    # Static libraries link dependents first: SegEval before the SegCore it calls.
    for m in "${modules[@]}"; do build_module "$m"; libs=("-l$m" "${libs[@]}"); done
    echo "fuzz.sh: linking fuzz-$target" >&2
    swiftc -parse-as-library -O -g $sanitize -I "$out" -I "$out/include" -I "$root/Sources/CJPEG" -I "$root/Sources/CBLAS" \
        "$source_file" -L "$out" "${libs[@]}" "$out/segpng.o" -lpng16 -lturbojpeg -lopenblas \
        -o "$out/fuzz-$target"
}

# Seeds: the fixtures a target's reader is tested with, in the form the target reads them.
seed() {
    local corpus=$1
    case $target in
        images)
            find "$root/Tests" -path '*/Fixtures/*' \( -name '*.png' -o -name '*.jpg' -o -name '*.bmp' \) \
                -size -64k -exec cp {} "$corpus/" \; ;;
        coco-gt)
            for f in "$root"/Tests/SegEvalTests/Fixtures/coco/*/gt.json; do cp "$f" "$corpus/$(basename "$(dirname "$f")")-gt.json"; done ;;
        checkpoint)
            cp "$root"/Tests/SegNNTests/Fixtures/checkpoints/*.pt "$root"/Tests/SegNNTests/Fixtures/checkpoints/*.safetensors "$corpus/" ;;
        coco-results)
            for f in "$root"/Tests/SegEvalTests/Fixtures/coco/mixed/results-*.json; do cp "$f" "$corpus/"; done ;;
        rle-string | polygon)
            # Two size bytes then the string (rle-string), or size bytes, a polygon count and raw
            # doubles (polygon), made from the pycocotools fixtures.
            python3 - "$target" "$root/Tests/SegCoreTests/Fixtures/coco" "$corpus" <<'PY'
import json, struct, sys
target, fixtures, corpus = sys.argv[1:]
n = 0
if target == "rle-string":
    for m in json.load(open(f"{fixtures}/rle.json"))["masks"]:
        if 1 <= m["h"] <= 256 and 1 <= m["w"] <= 256:
            open(f"{corpus}/seed{n}", "wb").write(bytes([m["h"] - 1, m["w"] - 1]) + m["string"].encode()); n += 1
else:
    for p in json.load(open(f"{fixtures}/polygons.json"))["polygons"]:
        if p["h"] <= 255 and p["w"] <= 255:
            coords = [c for poly in p["polygons"] for c in poly]
            data = bytes([p["h"], p["w"], len(p["polygons"]) - 1]) + b"".join(struct.pack("<d", c) for c in coords)
            open(f"{corpus}/seed{n}", "wb").write(data); n += 1
PY
            ;;
    esac
}

build
[[ $mode == build ]] && exit 0

export SWIFT_BACKTRACE=enable=no  # else the Swift crash handler waits for a debugger instead of exiting
export FUZZ_COCO_GT="$root/Tests/SegEvalTests/Fixtures/coco/mixed/gt.json"
artifacts="$out/artifacts/$target/"
mkdir -p "$artifacts"
if [[ $mode == run ]]; then
    shift 2
    exec "$out/fuzz-$target" -timeout=5 -rss_limit_mb=2048 "$@"
fi

corpus="$out/corpus/$target"
if [[ ! -d $corpus ]]; then mkdir -p "$corpus"; seed "$corpus"; fi
# A target's dictionary (JSON keys and tokens the reader looks for) when it has one.
dict=()
case $target in coco-*) dict=("-dict=$root/Fuzz/coco.dict") ;; esac
exec "$out/fuzz-$target" "$corpus" "${dict[@]}" -timeout=5 -rss_limit_mb=2048 -max_total_time="$mode" \
    -artifact_prefix="$artifacts" -print_final_stats=1
