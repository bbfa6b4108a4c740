//! The smallest job: one task, called once from the driver.

use wrun::prelude::*;

/// Greets `name`.
#[wrun::task]
fn hello(name: String) -> String {
    format!("Hello, {name}!")
}

/// Submits `hello` with the first argument (or "world") and returns its greeting.
fn main(args: Vec<String>) -> wrun::Result<String> {
    let name = args.first().map_or("world", String::as_str);
    let greeting: ObjectRef<String> = hello::remote(name)?;
    greeting.get()
}

wrun::export_job!(main = main, tasks = [hello]);
