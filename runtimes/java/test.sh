#!/usr/bin/env bash
# Unit tests of the Java guest SDK on the JVM (no host, no TeaVM): the codec
# against the shared vectors tests/vectors/values.json byte for byte, the
# codec's edges, options, ids, errors, the checks of decoded values against
# declared types, and what WrunBuild generates (the case-mapping table, the
# types it reads from a job's bytecode). Plain javac and a small test main; the SDK compiles
# against TeaVM's interop classes, which runtimes/java/setup.sh resolves.
#
#   runtimes/java/test.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
JT=$("$ROOT/runtimes/java/setup.sh" | tail -n 1)
OUT="$ROOT/guest-sdk/java/target/test"
rm -rf "$OUT"
mkdir -p "$OUT/classes"
CP="$(cat "$JT/classpath")"

mapfile -t SOURCES < <(find "$ROOT/guest-sdk/java/src" "$ROOT/guest-sdk/java/test" -name '*.java' | sort)
javac --release 17 -encoding UTF-8 -nowarn -cp "$CP" -d "$OUT/classes" "${SOURCES[@]}"

java -cp "$JT/classes:$CP" WrunBuild --case-table lower >"$OUT/case-lower.txt"
java -cp "$JT/classes:$CP" WrunBuild --case-table upper >"$OUT/case-upper.txt"

# The types WrunBuild reads from a job's bytecode, for one example.
mkdir -p "$OUT/counter"
javac --release 17 -nowarn -cp "$OUT/classes:$CP" -d "$OUT/counter" "$ROOT"/examples/java/counter/*.java
java -cp "$JT/classes:$CP" WrunBuild --signatures "$OUT/counter" >"$OUT/signatures.txt"

java -cp "$OUT/classes:$CP" -Dwrun.signatures="$OUT/signatures.txt" \
    -Dwrun.caseTable.lower="$OUT/case-lower.txt" -Dwrun.caseTable.upper="$OUT/case-upper.txt" \
    SdkTests "$ROOT"
