//! The host's value codec on any bytes a guest or a peer can hand it: a
//! result it renders for the CLI, a value it decodes. Never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(v) = wrun_core::values::decode(data) {
        // What decodes encodes again, and its encoding is stable from then
        // on (the first pass may normalise: a str that is not UTF-8 is
        // written back as bin, a long encoding as the shortest).
        let once = wrun_core::values::encode(&v);
        let again = wrun_core::values::decode(&once).expect("what wrun encodes decodes");
        assert_eq!(wrun_core::values::encode(&again), once);
    }
    let _ = wrun_core::values::render(data);
});
