// The smallest job: one task, called once from the driver.
//
//   wrun submit hello.wasm Alice                   # -> "Hello, Alice!"
//   wrun submit --env env.toml hello.wasm Alice    # -> "Bonjour, Alice!" (GREETING from the manifest)
//   wrun submit hello.wasm Alice Hola              # -> "Hola, Alice!" (GREETING from the task's runtime_env)
#include <cstdlib>

#include <wrun/wrun.hpp>

// Greets `name`, with the GREETING its environment declares, if any.
std::string hello(std::string name) {
    const char* greeting = std::getenv("GREETING");
    return std::string(greeting ? greeting : "Hello") + ", " + name + "!";
}
WRUN_TASK(hello);

// Submits `hello` with the first argument (or "world") and returns its greeting;
// a second argument becomes the task's GREETING through an inline runtime_env.
wrun::Result<std::string> job_main(std::vector<std::string> args) {
    auto task = wrun::task(hello);
    if (args.size() > 1) task.runtime_env(wrun::RuntimeEnv().env("GREETING", args[1]));
    auto greeting = task.remote(args.empty() ? std::string("world") : args[0]);
    if (!greeting) return wrun::fail(greeting.error());
    return wrun::get(*greeting);
}
WRUN_MAIN(job_main);
