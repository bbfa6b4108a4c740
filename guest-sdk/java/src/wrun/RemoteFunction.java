package wrun;

import java.util.List;
import wrun.internal.Host;

/**
 * What the typed tasks {@link Task0}..{@link Task6} share (Ray's
 * {@code RemoteFunction}): the task's name and the options of the calls made
 * through this object. Option setters return a changed copy, so
 * {@code SAMPLE.cpus(2).timeoutMs(500).remote(x)} leaves {@code SAMPLE} alone.
 *
 * @param <R> the task's result type
 * @param <T> the concrete task type (returned by the option setters)
 */
public abstract class RemoteFunction<R, T extends RemoteFunction<R, T>> {
    private final String name;
    private final TaskOptions options;

    RemoteFunction(String name, TaskOptions options) {
        this.name = name;
        this.options = options;
    }

    protected abstract T with(TaskOptions options);

    /** The class the result must fit (from the job's bytecode), or null. */
    Class<?> resultType() {
        wrun.internal.Types.Sig sig = wrun.internal.Types.task(name);
        return sig == null ? null : sig.result();
    }

    /** The name the host knows the task by. */
    public String name() {
        return name;
    }

    /** The options of the calls made through this object. */
    public TaskOptions options() {
        return options;
    }

    /** A copy whose calls use {@code options}. */
    public T options(TaskOptions options) {
        return with(options);
    }

    /**
     * A copy whose calls produce {@code n} references. The callee splits its
     * result by the number the task was registered with, so change this only
     * to match that number.
     */
    public T numReturns(int n) {
        return with(options.numReturns(n));
    }

    /** A copy whose calls reserve {@code cpus} cores while they run. */
    public T cpus(double cpus) {
        return with(options.cpus(cpus));
    }

    /** A copy whose calls reserve {@code bytes} of memory while they run. */
    public T memory(long bytes) {
        return with(options.memory(bytes));
    }

    /** A copy whose calls need {@code amount} of the custom resource {@code name}. */
    public T resource(String name, double amount) {
        return with(options.resource(name, amount));
    }

    /** A copy whose calls are re-run up to {@code n} times after a trap, timeout or memory-limit failure. */
    public T maxRetries(int n) {
        return with(options.maxRetries(n));
    }

    /** A copy whose warm instance retires after {@code n} tasks (Ray's max_calls). */
    public T maxCalls(int n) {
        return with(options.maxCalls(n));
    }

    /** A copy whose calls are also retried after an exception. */
    public T retryExceptions(boolean retry) {
        return with(options.retryExceptions(retry));
    }

    /** A copy retrying only these exception classes (and subclasses), as Ray's {@code retry_exceptions=[..]}. */
    @SafeVarargs
    public final T retryExceptions(Class<? extends Throwable>... types) {
        return with(options.retryExceptions(types));
    }

    /** A copy whose calls time out after {@code ms} milliseconds per attempt. */
    public T timeoutMs(long ms) {
        return with(options.timeoutMs(ms));
    }

    /** A copy whose calls run in the named environment of the job's manifest. */
    public T environment(String name) {
        return with(options.environment(name));
    }

    /**
     * Submits the task with untyped arguments; returns one reference per
     * return value. A top-level {@link ObjectRef} argument is passed by
     * reference: the task receives its value.
     */
    /**
     * Submits the task as a streaming call (Ray's {@code num_returns="streaming"}): it yields its results
     * with {@link Wrun#yieldItem}, and the generator returned at once gives each as soon as it is stored.
     * It runs on the caller's node.
     */
    public ObjectRefGenerator<R> remoteStreaming(Object... args) {
        return new ObjectRefGenerator<>(Host.get().submitStreaming(name, args, options.numReturns(1)));
    }

    public List<ObjectRef<Object>> submit(Object[] args) {
        return Host.get().submit(name, args, options);
    }

    @SuppressWarnings("unchecked")
    ObjectRef<R> submitOne(Object[] args) {
        int n = options.numReturns();
        if (n > 1) {
            throw new IllegalStateException("task " + name + " has " + n + " return values: use remoteAll");
        }
        List<ObjectRef<Object>> refs = submit(args);
        if (n == 0) {
            return null;
        }
        ObjectRef<Object> r = refs.get(0);
        r.expected = resultType();
        r.origin = name;
        return (ObjectRef<R>) (ObjectRef<?>) r;
    }

    @Override
    public String toString() {
        return "RemoteFunction(" + name + ")";
    }
}
