// A wrun job: tasks and actors as a WebAssembly component.
//
//   wrun build .                          # prints the component's path
//   wrun submit $(wrun build .) Ada       # -> "Hello, Ada!"
#include <wrun/wrun.hpp>

// A remote task: `wrun::task(hello).remote(name)` submits it and returns a reference at once.
std::string hello(std::string name) { return "Hello, " + name + "!"; }
WRUN_TASK(hello);

// The driver: gets the arguments of `wrun submit`; `wrun` prints its result.
wrun::Result<std::string> job_main(std::vector<std::string> args) {
    auto greeting = wrun::task(hello).remote(args.empty() ? std::string("world") : args[0]);
    if (!greeting) return wrun::fail(greeting.error());
    return wrun::get(*greeting);
}
WRUN_MAIN(job_main);
