#!/usr/bin/env bash
# Builds one libFuzzer target from Fuzz/ and runs it, single-threaded.
#
#   scripts/fuzz.sh TARGET SECONDS        e.g. scripts/fuzz.sh images 600
#   scripts/fuzz.sh TARGET build          build only
#   scripts/fuzz.sh TARGET run FILE...    run the built target on given inputs (reproduce a crash)
#
# Targets: images, coco-gt, coco-results, rle-string, polygon, checkpoint, sam-checkpoint, panoptic, workspace-toml,
# theme, journal, nifti.
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
    images | rle-string | polygon | nifti) modules=(SegCore) ;;
    coco-gt | coco-results) modules=(SegConcurrency SegCore SegEval) ;;
    checkpoint) modules=(SegConcurrency SegNN) ;;
    sam-checkpoint) modules=(SegConcurrency SegCore SegNN SegModels) ;;
    panoptic) modules=(SegConcurrency SegCore SegEval) ;;
    # The SegTUI readers: the whole module and what it imports, plus TOMLKit and its C++ parser
    # (toml++), instrumented too since that parser is what reads the hostile bytes.
    workspace-toml | theme | journal) modules=(SegConcurrency SegCore SegEval SegNN SegModels TOMLKit SegTUI) ;;
    *) echo "fuzz.sh: no module list for $target" >&2; exit 2 ;;
esac

sanitize=-sanitize=fuzzer,address
mkdir -p "$out/include/CPNG" "$out/include/CCurses"
# TOMLKit from SwiftPM's checkout (run `swift build` once to fetch it).
tomlkit="$root/.build/checkouts/TOMLKit"
# CCurses' wide-character API needs these in Swift's view of the header as in the C build (Package.swift).
swift_defines=(-Xcc -D_XOPEN_SOURCE_EXTENDED -Xcc -DNCURSES_WIDECHAR=1)

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

# SegNN's element-wise kernels (C, per-function target attributes) and a module map for them.
build_ckernels() {
    mkdir -p "$out/include/CKernels"
    cat > "$out/include/CKernels/module.modulemap" <<MAP
module CKernels {
    header "$root/Sources/CKernels/include/ckernels.h"
    export *
}
MAP
    clang -O2 -g -fsanitize=fuzzer-no-link,address -I "$root/Sources/CKernels/include" \
        -c "$root/Sources/CKernels/ckernels.c" -o "$out/ckernels.o"
}

# The ncurses shim and toml++ (C++) with its C interface, for the SegTUI targets.
build_tui_c() {
    cat > "$out/include/CCurses/module.modulemap" <<MAP
module CCurses {
    header "$root/Sources/CCurses/include/segcurses.h"
    link "ncursesw"
    export *
}
MAP
    [[ -f $out/segcurses.o ]] || clang -O1 -g -fsanitize=fuzzer-no-link,address -D_XOPEN_SOURCE_EXTENDED -DNCURSES_WIDECHAR=1 \
        -I "$root/Sources/CCurses/include" -c "$root/Sources/CCurses/segcurses.c" -o "$out/segcurses.o"
    [[ -d $tomlkit ]] || { echo "fuzz.sh: no $tomlkit (run swift build once)" >&2; exit 2; }
    local cpp
    for cpp in "$tomlkit"/Sources/CTOML/Sources/*.cpp; do
        local o="$out/ctoml-$(basename "$cpp" .cpp | tr -c 'A-Za-z0-9\n' _).o"
        [[ -f $o ]] && continue
        echo "fuzz.sh: compiling $(basename "$cpp")" >&2
        clang++ -std=c++17 -O1 -g -fsanitize=fuzzer-no-link,address -DTOML_EXCEPTIONS=1 \
            -I "$tomlkit/Sources/CTOML/include" -c "$cpp" -o "$o"
    done
}

# A module from Sources/NAME as a static library plus its .swiftmodule, rebuilt when a source changed.
build_module() {
    local name=$1 lib="$out/lib$1.a"
    local sources
    local dir="$root/Sources/$name"
    [[ $name == TOMLKit ]] && dir="$tomlkit/Sources/TOMLKit"
    mapfile -t sources < <(find "$dir" -name '*.swift' | sort)
    if [[ -f $lib ]] && [[ -z $(find "$dir" -name '*.swift' -newer "$lib") ]]; then return; fi
    echo "fuzz.sh: compiling $name" >&2
    swiftc -parse-as-library -O -g $sanitize -enable-testing -module-name "$name" "${swift_defines[@]}" \
        -emit-library -static -emit-module -emit-module-path "$out/$name.swiftmodule" \
        -I "$out" -I "$out/include" -I "$root/Sources/CJPEG" -I "$root/Sources/CBLAS" -I "$root/Sources/CCrypto" \
        -I "$root/Sources/CZlib" -I "$tomlkit/Sources/CTOML/include" \
        "${sources[@]}" -o "$lib"
}

build() {
    build_cpng
    local libs=() extra=()
    if [[ " ${modules[*]} " == *" SegNN "* ]]; then
        build_ckernels
        extra+=("$out/ckernels.o")
    fi
    if [[ " ${modules[*]} " == *" SegTUI "* ]]; then
        build_tui_c
        extra+=("$out"/ctoml-*.o "$out/segcurses.o" -lncursesw -lstdc++)
    fi
    # Static libraries link dependents first: SegEval before the SegCore it calls.
    for m in "${modules[@]}"; do build_module "$m"; libs=("-l$m" "${libs[@]}"); done
    echo "fuzz.sh: linking fuzz-$target" >&2
    swiftc -parse-as-library -O -g $sanitize -I "$out" -I "$out/include" -I "$root/Sources/CJPEG" -I "$root/Sources/CBLAS" \
        -I "$root/Sources/CCrypto" -I "$root/Sources/CZlib" "${swift_defines[@]}" -I "$tomlkit/Sources/CTOML/include" \
        "$source_file" -L "$out" "${libs[@]}" "$out/segpng.o" "${extra[@]}" -lpng16 -lturbojpeg -lopenblas -lcrypto -lz \
        -o "$out/fuzz-$target"
}

# Seeds: the fixtures a target's reader is tested with, in the form the target reads them.
seed() {
    local corpus=$1
    case $target in
        images)
            find "$root/Tests" -path '*/Fixtures/*' \( -name '*.png' -o -name '*.jpg' -o -name '*.bmp' -o -name '*.npy' \) \
                -size -64k -exec cp {} "$corpus/" \; ;;
        nifti)
            cp "$root"/Tests/SegCoreTests/Fixtures/nifti/*.nii* "$root"/Tests/SegEvalTests/Fixtures/volume/labelsTr/case_000.nii.gz "$corpus/" ;;
        coco-gt)
            for f in "$root"/Tests/SegEvalTests/Fixtures/coco/*/gt.json; do cp "$f" "$corpus/$(basename "$(dirname "$f")")-gt.json"; done ;;
        checkpoint)
            # The SAM 3 fixture adds complex64 (ComplexFloatStorage) storages and a nested "model" dict.
            cp "$root"/Tests/SegNNTests/Fixtures/checkpoints/*.pt "$root"/Tests/SegNNTests/Fixtures/checkpoints/*.safetensors \
                "$root"/Tests/SegModelsTests/Fixtures/sam3_reduced/sam3_reduced.pt "$corpus/" ;;
        sam-checkpoint)
            cp "$root"/Tests/SegModelsTests/Fixtures/sam2_reduced/sam2_reduced.pt "$root"/Tests/SegModelsTests/Fixtures/sam2_reduced/sam2_reduced_st.safetensors \
                "$root"/Tests/SegModelsTests/Fixtures/sam3_reduced/sam3_reduced.pt "$corpus/" ;;
        coco-results)
            for f in "$root"/Tests/SegEvalTests/Fixtures/coco/mixed/results-*.json; do cp "$f" "$corpus/"; done ;;
        panoptic)
            # Two length bytes (little-endian), a panoptic JSON with one image's annotation, its PNG.
            python3 - "$root/Tests/SegEvalTests/Fixtures/panoptic" "$corpus" <<'PY'
import json, os, struct, sys
fixtures, corpus = sys.argv[1:]
categories = json.load(open(f"{fixtures}/gt.json"))["categories"]  # pred.json has none
for side in ("gt", "pred"):
    doc = json.load(open(f"{fixtures}/{side}.json"))
    for n, ann in enumerate(doc["annotations"]):
        text = json.dumps({"annotations": [ann], "categories": categories}, separators=(",", ":")).encode()
        png = open(f"{fixtures}/{side}/{ann['file_name']}", "rb").read()
        open(f"{corpus}/{side}{n}", "wb").write(struct.pack("<H", len(text)) + text + png)
PY
            ;;
        workspace-toml)
            cp "$root/sample-data/segterm.toml" "$corpus/sample.toml"
            find "$root/Tests" -path '*/Fixtures/*' -name '*.toml' ! -path '*/theme*' -exec cp {} "$corpus/" \; ;;
        theme)
            cp "$root"/themes/*.toml "$corpus/" ;;
        journal)
            # A short session's records written by the journal's own encoder (see Fuzz/journal.swift).
            FUZZ_JOURNAL_SEED="$corpus/session.jsonl" SWIFT_BACKTRACE=enable=no "$out/fuzz-journal" -runs=0 >/dev/null 2>&1
            find "$root/Tests" -path '*/Fixtures/*' -name '*.jsonl' -exec cp {} "$corpus/" \; ;;
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

# One build at a time in .build-fuzz (a queue of runs and a manual build share the libraries).
exec 9>"$out/.build.lock"
flock 9
build
exec 9>&-
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
case $target in coco-* | panoptic) dict=("-dict=$root/Fuzz/coco.dict") ;; esac
# TOMLKit 0.6.0 leaks every document it parses (TOMLTable has no deinit) and its error struct: a
# few KB per file, which segterm reads once. LeakSanitizer would stop at the first input; leaks are
# off for the two TOML targets only (see FUZZING.md), everything else stays checked.
case $target in workspace-toml | theme) dict+=("-detect_leaks=0"); export ASAN_OPTIONS=detect_leaks=0 ;; esac
exec "$out/fuzz-$target" "$corpus" "${dict[@]}" -timeout=5 -rss_limit_mb=2048 -max_total_time="$mode" \
    -artifact_prefix="$artifacts" -print_final_stats=1
