/*
 * java.lang.Math's functions that TeaVM-WASI's class library imports from its
 * JavaScript host (module "teavmMath"), implemented by musl's libm from
 * wasi-libc. runtimes/java/setup.sh compiles this into the adapter module
 * `wrun-teavm-math`, which `wasm-tools component new --adapt` links into a
 * Java component that needs it (WrunBuild renames the imports).
 *
 * An adapter has no memory of its own: this one uses the main module's, at
 * [SHIM_BASE, 33280), the top of the fixed region TeaVM-WASI keeps below its
 * heap for Memory.malloc; the SDK marks that part of the region as used
 * (guest-sdk/java/src/wrun/internal/Mem.java), and setup.sh checks that the
 * data and the stack fit. Adapters cannot have data segments either:
 * dataless.py turns them into stores run before the first call.
 */
#include <math.h>

#define EXPORT(name) __attribute__((export_name(#name)))

EXPORT(sin) double shim_sin(double x) { return sin(x); }
EXPORT(cos) double shim_cos(double x) { return cos(x); }
EXPORT(tan) double shim_tan(double x) { return tan(x); }
EXPORT(asin) double shim_asin(double x) { return asin(x); }
EXPORT(acos) double shim_acos(double x) { return acos(x); }
EXPORT(atan) double shim_atan(double x) { return atan(x); }
EXPORT(atan2) double shim_atan2(double y, double x) { return atan2(y, x); }
EXPORT(exp) double shim_exp(double x) { return exp(x); }
EXPORT(log) double shim_log(double x) { return log(x); }
EXPORT(pow) double shim_pow(double x, double y) { return pow(x, y); }
EXPORT(sqrt) double shim_sqrt(double x) { return sqrt(x); }
EXPORT(ceil) double shim_ceil(double x) { return ceil(x); }
EXPORT(floor) double shim_floor(double x) { return floor(x); }
