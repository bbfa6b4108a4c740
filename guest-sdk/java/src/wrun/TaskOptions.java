package wrun;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Resources and policy of task invocations (the WIT {@code task-options}).
 * Immutable: every setter returns a changed copy, so one instance can serve
 * as shared defaults.
 *
 * <pre>{@code
 * TaskOptions o = TaskOptions.DEFAULT.cpus(0.5).maxRetries(2).timeoutMs(10_000);
 * }</pre>
 */
public final class TaskOptions {
    /**
     * One return value, the environment's default CPUs, 3 retries after a system failure (as in Ray), no
     * timeout.
     */
    public static final TaskOptions DEFAULT = new TaskOptions();

    int numReturns = 1;
    Double cpus;
    long memory;
    Map<String, Double> resources = Collections.emptyMap();
    /** Ray's default: three re-runs after a system failure (a trap, a timeout, a lost node). */
    int maxRetries = 3;
    boolean retryExceptions;
    List<String> retryExceptionTypes = Collections.emptyList();
    int maxCalls;
    long timeoutMs = -1;
    String environment;
    String runtimeEnv;

    public TaskOptions() {
    }

    private TaskOptions copy() {
        TaskOptions o = new TaskOptions();
        o.numReturns = numReturns;
        o.cpus = cpus;
        o.memory = memory;
        o.resources = resources;
        o.maxRetries = maxRetries;
        o.retryExceptions = retryExceptions;
        o.retryExceptionTypes = retryExceptionTypes;
        o.maxCalls = maxCalls;
        o.timeoutMs = timeoutMs;
        o.environment = environment;
        o.runtimeEnv = runtimeEnv;
        return o;
    }

    /** Number of return values (object references) a call produces; the task returns a List of as many. */
    public TaskOptions numReturns(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("numReturns must be >= 0");
        }
        TaskOptions o = copy();
        o.numReturns = n;
        return o;
    }

    /** CPU cores reserved while the task runs (released while it blocks in get/wait). */
    public TaskOptions cpus(double cpus) {
        if (!(cpus >= 0)) {
            throw new IllegalArgumentException("cpus must be >= 0");
        }
        TaskOptions o = copy();
        o.cpus = cpus;
        return o;
    }

    /** Bytes of memory reserved while the task runs. */
    public TaskOptions memory(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("memory must be >= 0");
        }
        TaskOptions o = copy();
        o.memory = bytes;
        return o;
    }

    /** A custom resource the task needs, e.g. {@code resource("license", 1)}. */
    public TaskOptions resource(String name, double amount) {
        TaskOptions o = copy();
        Map<String, Double> m = new LinkedHashMap<>(resources);
        m.put(name, amount);
        o.resources = m;
        return o;
    }

    /** Re-runs after a trap, timeout or memory-limit failure; -1: no limit (as Ray's max_retries=-1). */
    public TaskOptions maxRetries(int n) {
        if (n < -1) {
            throw new IllegalArgumentException("maxRetries must be -1 (no limit) or >= 0, got " + n);
        }
        TaskOptions o = copy();
        o.maxRetries = n;
        return o;
    }

    /**
     * Retire the warm instance that runs the task once it has run {@code n} tasks (Ray's {@code max_calls};
     * 0, the default: no limit). Instances are reused only where the environment sets
     * {@code runtime.reuse_instances}.
     */
    public TaskOptions maxCalls(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("maxCalls must be >= 0 (0: no limit), got " + n);
        }
        TaskOptions o = copy();
        o.maxCalls = n;
        return o;
    }

    /** Also retry when the task throws (an application error). */
    public TaskOptions retryExceptions(boolean retry) {
        TaskOptions o = copy();
        o.retryExceptions = retry;
        return o;
    }

    /**
     * Retry only when the task throws one of these classes or a subclass (Ray's
     * {@code retry_exceptions=[A, B]}); sets {@link #retryExceptions(boolean)}. A Java exception's
     * error names its class and superclasses ({@link WrunException#types()}).
     */
    @SafeVarargs
    public final TaskOptions retryExceptions(Class<? extends Throwable>... types) {
        if (types.length == 0) {
            throw new IllegalArgumentException("retryExceptions needs at least one exception class");
        }
        List<String> names = new ArrayList<>();
        for (Class<? extends Throwable> t : types) {
            names.add(t.getName());
        }
        return retryExceptionTypes(names);
    }

    /**
     * Retry only errors one of whose type names is among {@code names} (e.g. {@code "app.Overdrawn"} for a
     * Python exception class); sets {@link #retryExceptions(boolean)}.
     */
    public TaskOptions retryExceptionTypes(List<String> names) {
        TaskOptions o = copy();
        o.retryExceptions = true;
        o.retryExceptionTypes = Collections.unmodifiableList(new ArrayList<>(names));
        return o;
    }

    /** The type names retried ({@link #retryExceptionTypes(List)}); empty: every error. */
    public List<String> retryExceptionTypes() {
        return retryExceptionTypes;
    }

    /** Wall-clock limit per attempt, in milliseconds. */
    public TaskOptions timeoutMs(long ms) {
        if (ms < 0) {
            throw new IllegalArgumentException("timeoutMs must be >= 0");
        }
        TaskOptions o = copy();
        o.timeoutMs = ms;
        return o;
    }

    /** Run in this named environment of the job's manifest ({@code [environments.NAME]}). */
    public TaskOptions environment(String name) {
        TaskOptions o = copy();
        o.environment = name;
        return o;
    }

    /** Changes the environment it runs in as Ray's {@code runtime_env} option does: see {@link RuntimeEnv}. */
    public TaskOptions runtimeEnv(RuntimeEnv env) {
        TaskOptions o = copy();
        o.runtimeEnv = env == null ? null : env.toJson();
        return o;
    }

    public int numReturns() {
        return numReturns;
    }

    /** The CPUs asked for, or null for the environment's default. */
    public Double cpus() {
        return cpus;
    }

    public long memory() {
        return memory;
    }

    public Map<String, Double> resources() {
        return Collections.unmodifiableMap(resources);
    }

    public int maxRetries() {
        return maxRetries;
    }

    public boolean retryExceptions() {
        return retryExceptions;
    }

    public int maxCalls() {
        return maxCalls;
    }

    /** The timeout in milliseconds, or -1 for none. */
    public long timeoutMs() {
        return timeoutMs;
    }

    /** The environment, or null for the caller's. */
    public String environment() {
        return environment;
    }

    /** The inline runtime environment as the host reads it (JSON), or null. */
    public String runtimeEnv() {
        return runtimeEnv;
    }
}
