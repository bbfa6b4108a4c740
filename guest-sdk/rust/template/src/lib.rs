//! A wrun job: tasks and actors as a WebAssembly component.
//!
//!   wrun build .                          # prints the component's path
//!   wrun submit $(wrun build .) Ada       # -> "Hello, Ada!"

use wrun::prelude::*;

/// A remote task: `hello::remote(..)` submits it and returns a reference at once.
#[wrun::task]
fn hello(name: String) -> String {
    format!("Hello, {name}!")
}

/// The driver: gets the command-line arguments of `wrun submit`; its result
/// is printed by `wrun`.
fn main(args: Vec<String>) -> wrun::Result<String> {
    let name = args.first().map_or("world", String::as_str);
    let greeting: ObjectRef<String> = hello::remote(name)?;
    greeting.get()
}

wrun::export_job!(main = main, tasks = [hello]);
