package wrun;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Resources and identity of an actor (the WIT {@code actor-options}).
 * Immutable: every setter returns a changed copy.
 */
public final class ActorOptions {
    /** No name, the environment's default CPUs (0), no restarts. */
    public static final ActorOptions DEFAULT = new ActorOptions();

    Double cpus;
    long memory;
    Map<String, Double> resources = Collections.emptyMap();
    String name;
    String namespace;
    int maxRestarts;
    String environment;
    String runtimeEnv;
    boolean getIfExists;

    public ActorOptions() {
    }

    private ActorOptions copy() {
        ActorOptions o = new ActorOptions();
        o.cpus = cpus;
        o.memory = memory;
        o.resources = resources;
        o.name = name;
        o.namespace = namespace;
        o.maxRestarts = maxRestarts;
        o.environment = environment;
        o.runtimeEnv = runtimeEnv;
        o.getIfExists = getIfExists;
        return o;
    }

    /** CPU cores held while the actor lives. */
    public ActorOptions cpus(double cpus) {
        if (!(cpus >= 0)) {
            throw new IllegalArgumentException("cpus must be >= 0");
        }
        ActorOptions o = copy();
        o.cpus = cpus;
        return o;
    }

    /** Bytes of memory held while the actor lives. */
    public ActorOptions memory(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("memory must be >= 0");
        }
        ActorOptions o = copy();
        o.memory = bytes;
        return o;
    }

    /** A custom resource the actor holds, e.g. {@code resource("license", 1)}. */
    public ActorOptions resource(String name, double amount) {
        ActorOptions o = copy();
        Map<String, Double> m = new LinkedHashMap<>(resources);
        m.put(name, amount);
        o.resources = m;
        return o;
    }

    /** Registers the actor under this name so others find it with {@link Wrun#getActor}. */
    public ActorOptions name(String name) {
        ActorOptions o = copy();
        o.name = name;
        return o;
    }

    /** Namespace of the name; the job's own namespace when unset. */
    public ActorOptions namespace(String namespace) {
        ActorOptions o = copy();
        o.namespace = namespace;
        return o;
    }

    /** Restarts after the actor's instance fails (the constructor runs again). */
    public ActorOptions maxRestarts(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("maxRestarts must be >= 0");
        }
        ActorOptions o = copy();
        o.maxRestarts = n;
        return o;
    }

    /**
     * With a name: when an actor is registered under it already (or meanwhile), its handle instead of an
     * error (Ray's {@code get_if_exists}); the class and options are then not checked.
     */
    public ActorOptions getIfExists(boolean yes) {
        ActorOptions o = copy();
        o.getIfExists = yes;
        return o;
    }

    /** Run in this named environment of the job's manifest. */
    public ActorOptions environment(String name) {
        ActorOptions o = copy();
        o.environment = name;
        return o;
    }

    /** Changes the environment it runs in as Ray's {@code runtime_env} option does: see {@link RuntimeEnv}. */
    public ActorOptions runtimeEnv(RuntimeEnv env) {
        ActorOptions o = copy();
        o.runtimeEnv = env == null ? null : env.toJson();
        return o;
    }

    public Double cpus() {
        return cpus;
    }

    public long memory() {
        return memory;
    }

    public Map<String, Double> resources() {
        return Collections.unmodifiableMap(resources);
    }

    public String name() {
        return name;
    }

    public String namespace() {
        return namespace;
    }

    public int maxRestarts() {
        return maxRestarts;
    }

    public String environment() {
        return environment;
    }

    /** The inline runtime environment as the host reads it (JSON), or null. */
    public String runtimeEnv() {
        return runtimeEnv;
    }

    public boolean getIfExists() {
        return getIfExists;
    }
}
