import java.util.List;
import wrun.Job;
import wrun.RuntimeEnv;
import wrun.Task1;
import wrun.Wrun;

/**
 * The smallest job: one task, called once from the driver.
 *
 * <pre>
 * wrun submit hello.wasm Alice                   # -> "Hello, Alice!"
 * wrun submit --env env.toml hello.wasm Alice    # -> "Bonjour, Alice!" (GREETING from the manifest)
 * wrun submit hello.wasm Alice Hola              # -> "Hola, Alice!" (GREETING from the task's runtime_env)
 * </pre>
 */
public final class Hello implements Job {
    static final Task1<String, String> HELLO = Wrun.task("hello", Hello::hello);

    /** Greets {@code name}, with the GREETING its environment declares, if any. */
    static String hello(String name) {
        String greeting = System.getenv("GREETING");
        return (greeting == null ? "Hello" : greeting) + ", " + name + "!";
    }

    /**
     * Submits {@code hello} with the first argument (or "world") and returns its greeting; a second
     * argument becomes the task's GREETING through an inline runtime_env.
     */
    @Override
    public Object main(List<String> args) {
        String name = args.isEmpty() ? "world" : args.get(0);
        Task1<String, String> task = HELLO;
        if (args.size() > 1) {
            task = HELLO.options(HELLO.options().runtimeEnv(RuntimeEnv.EMPTY.env("GREETING", args.get(1))));
        }
        return task.remote(name).get();
    }
}
