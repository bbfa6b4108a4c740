package wrun;

import java.util.List;
import wrun.internal.Host;
import wrun.internal.Registry;

/**
 * What the actor classes {@link ActorClass0}..{@link ActorClass4} share
 * (Ray's {@code ActorClass}): the class's name, its methods, and the options
 * of the actors created through this object. Option setters return a changed
 * copy: {@code COUNTER.name("counter").remote(0L)}.
 *
 * @param <S> the class of the actor's state
 * @param <T> the concrete actor class type (returned by the option setters)
 */
public abstract class ActorClass<S, T extends ActorClass<S, T>> {
    /** The registration of a class of this component; null for one named by {@link Wrun#actorClass}. */
    final Registry.ClassDef def;
    private final String name;
    private final ActorOptions options;

    ActorClass(Registry.ClassDef def, ActorOptions options) {
        this.def = def;
        this.name = def.name;
        this.options = options;
    }

    ActorClass(String name, ActorOptions options) {
        this.def = null;
        this.name = name;
        this.options = options;
    }

    protected abstract T with(ActorOptions options);

    /** The name the host knows the class by. */
    public String name() {
        return name;
    }

    public ActorOptions options() {
        return options;
    }

    /** A copy whose actors use {@code options}. */
    public T options(ActorOptions options) {
        return with(options);
    }

    /** A copy whose actors are registered under {@code name} (see {@link Wrun#getActor}). */
    public T name(String name) {
        return with(options.name(name));
    }

    /** A copy whose actor names live in {@code namespace}. */
    public T namespace(String namespace) {
        return with(options.namespace(namespace));
    }

    /** A copy that returns the actor already registered under its name, if any (Ray's get_if_exists). */
    public T getIfExists(boolean yes) {
        return with(options.getIfExists(yes));
    }

    /** A copy whose actors are restarted up to {@code n} times after their instance fails. */
    public T maxRestarts(int n) {
        return with(options.maxRestarts(n));
    }

    /** A copy whose actors hold {@code cpus} cores while they live. */
    public T cpus(double cpus) {
        return with(options.cpus(cpus));
    }

    /** A copy whose actors hold {@code bytes} of memory while they live. */
    public T memory(long bytes) {
        return with(options.memory(bytes));
    }

    /** A copy whose actors hold {@code amount} of the custom resource {@code name}. */
    public T resource(String name, double amount) {
        return with(options.resource(name, amount));
    }

    /** A copy whose actors run in the named environment of the job's manifest. */
    public T environment(String name) {
        return with(options.environment(name));
    }

    ActorHandle<S> create(Object[] args) {
        Id id = Host.get().create(name, args, options);
        return new ActorHandle<>(id, name);
    }

    /** Creates an actor with untyped constructor arguments. */
    public ActorHandle<S> createWith(Object... args) {
        return create(args);
    }

    // --- methods ------------------------------------------------------------------

    private <M> M reg(String name, int arity, int numReturns, Registry.MethodInvoker inv, M m) {
        if (def == null) {
            throw new IllegalStateException(this.name + " is a class of another component: call its methods "
                    + "by name, handle.call(\"method\", args...)");
        }
        def.method(name, arity, numReturns, inv);
        return m;
    }

    /** Registers the method {@code name} (by convention the Java method's name). */
    @SuppressWarnings("unchecked")
    public <R> ActorMethod0<S, R> method(String name, Fn.M0<S, R> f) {
        return method(name, 1, f);
    }

    /** Registers a method that returns {@code numReturns} values (as a List of that size). */
    @SuppressWarnings("unchecked")
    public <R> ActorMethod0<S, R> method(String name, int numReturns, Fn.M0<S, R> f) {
        return reg(name, 0, numReturns, (self, a) -> f.apply((S) self), new ActorMethod0<>(name(), name, numReturns));
    }

    public <A, R> ActorMethod1<S, A, R> method(String name, Fn.M1<S, A, R> f) {
        return method(name, 1, f);
    }

    @SuppressWarnings("unchecked")
    public <A, R> ActorMethod1<S, A, R> method(String name, int numReturns, Fn.M1<S, A, R> f) {
        return reg(name, 1, numReturns, (self, a) -> f.apply((S) self, (A) a[0]),
                new ActorMethod1<>(name(), name, numReturns));
    }

    public <A, B, R> ActorMethod2<S, A, B, R> method(String name, Fn.M2<S, A, B, R> f) {
        return method(name, 1, f);
    }

    @SuppressWarnings("unchecked")
    public <A, B, R> ActorMethod2<S, A, B, R> method(String name, int numReturns, Fn.M2<S, A, B, R> f) {
        return reg(name, 2, numReturns, (self, a) -> f.apply((S) self, (A) a[0], (B) a[1]),
                new ActorMethod2<>(name(), name, numReturns));
    }

    public <A, B, C, R> ActorMethod3<S, A, B, C, R> method(String name, Fn.M3<S, A, B, C, R> f) {
        return method(name, 1, f);
    }

    @SuppressWarnings("unchecked")
    public <A, B, C, R> ActorMethod3<S, A, B, C, R> method(String name, int numReturns,
            Fn.M3<S, A, B, C, R> f) {
        return reg(name, 3, numReturns, (self, a) -> f.apply((S) self, (A) a[0], (B) a[1], (C) a[2]),
                new ActorMethod3<>(name(), name, numReturns));
    }

    public <A, B, C, D, R> ActorMethod4<S, A, B, C, D, R> method(String name, Fn.M4<S, A, B, C, D, R> f) {
        return method(name, 1, f);
    }

    @SuppressWarnings("unchecked")
    public <A, B, C, D, R> ActorMethod4<S, A, B, C, D, R> method(String name, int numReturns,
            Fn.M4<S, A, B, C, D, R> f) {
        return reg(name, 4, numReturns,
                (self, a) -> f.apply((S) self, (A) a[0], (B) a[1], (C) a[2], (D) a[3]),
                new ActorMethod4<>(name(), name, numReturns));
    }

    public <A, B, C, D, E, R> ActorMethod5<S, A, B, C, D, E, R> method(String name,
            Fn.M5<S, A, B, C, D, E, R> f) {
        return method(name, 1, f);
    }

    @SuppressWarnings("unchecked")
    public <A, B, C, D, E, R> ActorMethod5<S, A, B, C, D, E, R> method(String name, int numReturns,
            Fn.M5<S, A, B, C, D, E, R> f) {
        return reg(name, 5, numReturns,
                (self, a) -> f.apply((S) self, (A) a[0], (B) a[1], (C) a[2], (D) a[3], (E) a[4]),
                new ActorMethod5<>(name(), name, numReturns));
    }

    @Override
    public String toString() {
        return "ActorClass(" + name + ")";
    }
}
