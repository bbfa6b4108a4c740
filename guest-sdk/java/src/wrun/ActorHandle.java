package wrun;

import java.util.List;

/**
 * A handle to a live actor (Ray's {@code ActorHandle}).
 *
 * <p>Call a method with {@link ActorClass.Method1#remote} (typed) or
 * {@link #call(String, Object...)} (by name); calls from one caller run in
 * submission order. Handles compare equal when they name the same actor, and
 * travel in values (as MessagePack extension type 2), so tasks can be handed
 * one.
 *
 * @param <S> the actor's state class (unchecked for handles that arrive in values)
 */
public final class ActorHandle<S> {
    private final Id actorId;
    private final String className;

    public ActorHandle(Id actorId) {
        this(actorId, null);
    }

    public ActorHandle(Id actorId, String className) {
        this.actorId = actorId;
        this.className = className;
    }

    public Id actorId() {
        return actorId;
    }

    /**
     * Calls method {@code name} with {@code args}; returns a reference to its
     * result. Use {@link #callAll} for a method with another number of results.
     */
    public <R> ObjectRef<R> call(String name, Object... args) {
        List<ObjectRef<Object>> refs = wrun.internal.Host.get().call(actorId, name, args, 1);
        @SuppressWarnings("unchecked")
        ObjectRef<R> r = (ObjectRef<R>) (ObjectRef<?>) refs.get(0);
        return r;
    }

    /** Calls method {@code name}, which returns {@code numReturns} values; one reference per value. */
    public List<ObjectRef<Object>> callAll(String name, int numReturns, Object... args) {
        if (numReturns < 0) {
            throw new IllegalArgumentException("numReturns must be >= 0");
        }
        return wrun.internal.Host.get().call(actorId, name, args, numReturns);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ActorHandle && ((ActorHandle<?>) o).actorId.equals(actorId);
    }

    @Override
    public int hashCode() {
        return actorId.hashCode();
    }

    @Override
    public String toString() {
        return "ActorHandle(" + (className == null ? "Actor" : className) + ", " + actorId.hex() + ")";
    }
}
