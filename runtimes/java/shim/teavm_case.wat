;; Character case mapping that TeaVM-WASI's class library imports from its
;; JavaScript host ("teavm" "towlower"/"towupper", used for letters outside
;; ASCII). The adapter module `wrun-teavm-case` forwards to the main module,
;; where the SDK maps code points with a table WrunBuild takes from the JDK
;; that builds the job (guest-sdk/java/src/wrun/internal/CaseMap.java).
(module
  (import "__main_module__" "wrun_towlower" (func $lower (param i32) (result i32)))
  (import "__main_module__" "wrun_towupper" (func $upper (param i32) (result i32)))
  (func (export "towlower") (param i32) (result i32)
    local.get 0
    call $lower)
  (func (export "towupper") (param i32) (result i32)
    local.get 0
    call $upper))
