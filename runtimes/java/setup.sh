#!/usr/bin/env bash
# Prepares the toolchain for Java guests, idempotently:
#  - TeaVM-WASI, the Fermyon fork of TeaVM (com.fermyon:teavm-* 0.2.7 on Maven
#    Central), which compiles JVM bytecode to a WASI preview-1 core module,
#    and its Java class library; Maven resolves them (runtimes/java/tool/pom.xml)
#    into $WRUN_JAVA_TOOLS/m2;
#  - WrunBuild (runtimes/java/tool), the build's one JVM step: javac, the
#    job's entry class (with the types of its tasks and actors, read from its
#    bytecode), TeaVM and a fix to the module;
#  - wasm-tools, the preview-1 reactor adapter, clang-19 and wasi-libc, from
#    runtimes/cpp/setup.sh (the C++ guests' toolchain, in WRUN_TOOLS);
#  - two small adapter modules (runtimes/java/shim) for what TeaVM's class
#    library expects from a JavaScript host: java.lang.Math's functions
#    (musl's libm from Debian's wasi-libc, compiled with clang-19) and
#    non-ASCII case mapping (forwarded to the SDK).
# Needs JDK 17 (TeaVM 0.2 cannot read newer class files) and Maven; the rest
# comes from runtimes/cpp/setup.sh. Only Maven Central, crates.io and Debian
# are used.
#
#   WRUN_JAVA_TOOLS   where the Java tools live (default: ~/.cache/wrun/java-tools)
#   WRUN_TOOLS        wasm-tools and the adapter (default: ~/.cache/wrun/tools)
#
# The last line printed is the Java tools directory.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
JT="${WRUN_JAVA_TOOLS:-$HOME/.cache/wrun/java-tools}"
TOOLS="${WRUN_TOOLS:-$HOME/.cache/wrun/tools}"

for cmd in java javac mvn; do
    command -v "$cmd" >/dev/null || { echo "$cmd not found: the Java guests need JDK 17 and Maven" >&2; exit 1; }
done
jv=$(javac -version 2>&1 | awk '{print $2}')
case "$jv" in
    17|17.*) ;;
    *) echo "javac $jv: the Java guests need JDK 17 (TeaVM-WASI 0.2 reads class files up to 17)" >&2; exit 1 ;;
esac

# TeaVM and WrunBuild: redone when the pom, WrunBuild or the JDK changes.
stamp=$(cat "$HERE/tool/pom.xml" "$HERE"/tool/*.java <(javac -version 2>&1) | sha256sum | cut -c1-16)
if [ "$(cat "$JT/stamp" 2>/dev/null)" != "$stamp" ] || [ ! -s "$JT/classpath" ]; then
    echo "resolving TeaVM-WASI from Maven Central into $JT/m2" >&2
    mkdir -p "$JT"
    rm -f "$JT/stamp"
    mvn -q -B -f "$HERE/tool/pom.xml" -Dmaven.repo.local="$JT/m2" \
        dependency:build-classpath -Dmdep.outputFile="$JT/classpath.tmp" >"$JT/mvn.log" 2>&1 ||
        { cat "$JT/mvn.log" >&2; exit 1; }
    mv "$JT/classpath.tmp" "$JT/classpath"
    rm -rf "$JT/classes"
    mkdir -p "$JT/classes"
    javac -nowarn -cp "$(cat "$JT/classpath")" -d "$JT/classes" "$HERE"/tool/*.java >&2
    echo "$stamp" >"$JT/stamp"
fi

# wasm-tools, the adapter, clang-19 and wasi-libc: the C++ guests' toolchain
# (runtimes/cpp/setup.sh, idempotent) has them all.
"$HERE/../cpp/setup.sh" >/dev/null
ln -sf "$(readlink -f "$TOOLS/wasi_snapshot_preview1.reactor.wasm")" "$JT/wasi_snapshot_preview1.reactor.wasm"

# The shims: redone when their sources change.
shim_stamp=$(cat "$HERE/shim/teavm_math.c" "$HERE/shim/teavm_case.wat" "$HERE/shim/dataless.py" | sha256sum | cut -c1-16)
if [ "$(cat "$JT/shim-stamp" 2>/dev/null)" != "$shim_stamp" ] || [ ! -s "$JT/wrun-teavm-math.wasm" ]; then
    echo "building the TeaVM shims" >&2
    rm -f "$JT/shim-stamp"
    # SHIM_BASE of guest-sdk/java/src/wrun/internal/Mem.java; 33280 is TeaVM-WASI's HEAP_OFFSET.
    clang-19 --target=wasm32-wasi -O2 -nostartfiles -Wl,--no-entry -Wl,--import-memory \
        -Wl,--global-base=16896 -Wl,-z,stack-size=2048 -Wl,--strip-all \
        -o "$JT/teavm_math.core.wasm" "$HERE/shim/teavm_math.c"
    python3 "$HERE/shim/dataless.py" "$TOOLS/bin/wasm-tools" "$JT/teavm_math.core.wasm" \
        "$JT/wrun-teavm-math.wasm" 33280
    "$TOOLS/bin/wasm-tools" metadata add --name wrun-teavm-case "$HERE/shim/teavm_case.wat" \
        -o "$JT/wrun-teavm-case.wasm"
    echo "$shim_stamp" >"$JT/shim-stamp"
fi
ln -sf "$TOOLS/bin/wasm-tools" "$JT/wasm-tools"
echo "$JT"
