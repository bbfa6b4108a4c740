package wrun;

import java.util.List;
import wrun.internal.Host;

/**
 * What the typed actor methods {@link ActorMethod0}..{@link ActorMethod5}
 * share: the method's name and how many values it returns.
 *
 * @param <R> the method's result type
 * @param <T> the concrete method type (returned by {@link #numReturns})
 */
public abstract class ActorMethod<R, T extends ActorMethod<R, T>> {
    private final String className;
    private final String name;
    private final int numReturns;

    ActorMethod(String className, String name, int numReturns) {
        this.className = className;
        this.name = name;
        this.numReturns = numReturns;
    }

    protected abstract T with(int numReturns);

    public String className() {
        return className;
    }

    public String name() {
        return name;
    }

    public int numReturns() {
        return numReturns;
    }

    /** The same method with another number of return values for calls made through the copy. */
    public T numReturns(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("numReturns must be >= 0");
        }
        return with(n);
    }

    /**
     * Calls the method as a streaming call: it yields its results with {@link Wrun#yieldItem}, and the
     * generator returned at once gives each as soon as it is stored. The actor must run on the caller's
     * node.
     */
    public ObjectRefGenerator<R> remoteStreaming(ActorHandle<?> actor, Object... args) {
        return new ObjectRefGenerator<>(Host.get().callStreaming(actor.actorId(), name, args));
    }

    List<ObjectRef<Object>> call(ActorHandle<?> actor, Object[] args) {
        return Host.get().call(actor.actorId(), name, args, numReturns);
    }

    @SuppressWarnings("unchecked")
    ObjectRef<R> callOne(ActorHandle<?> actor, Object[] args) {
        if (numReturns > 1) {
            throw new IllegalStateException("method " + className + "." + name + " has " + numReturns
                    + " return values: use remoteAll");
        }
        List<ObjectRef<Object>> refs = call(actor, args);
        if (numReturns == 0) {
            return null;
        }
        ObjectRef<Object> r = refs.get(0);
        wrun.internal.Types.Sig sig = wrun.internal.Types.method(className, name);
        r.expected = sig == null ? null : sig.result();
        r.origin = className + "." + name;
        return (ObjectRef<R>) (ObjectRef<?>) r;
    }

    @Override
    public String toString() {
        return "ActorMethod(" + className + "." + name + ")";
    }
}
