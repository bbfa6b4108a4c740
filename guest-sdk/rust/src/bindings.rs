//! Bindings generated from the root `wit/` (never copied): the `job` world.
//!
//! Not part of the public API; the rest of the SDK wraps them.
#![allow(missing_docs, clippy::all, unsafe_op_in_unsafe_fn)]

wit_bindgen::generate!({
    path: "../../wit",
    world: "job",
    pub_export_macro: true,
    export_macro_name: "__wrun_export_guest",
    default_bindings_module: "::wrun::bindings",
    runtime_path: "::wrun::__private::wit_bindgen::rt",
});
