package wrun;

import java.util.List;

/**
 * An actor method taking 0 arguments, made by {@link ActorClass#method}:
 * {@code remote(actor, ...)} calls it on that actor and returns a reference to
 * its result.
 */
public final class ActorMethod0<S, R> extends ActorMethod<R, ActorMethod0<S, R>> {
    ActorMethod0(String className, String name, int numReturns) {
        super(className, name, numReturns);
    }

    @Override
    protected ActorMethod0<S, R> with(int numReturns) {
        return new ActorMethod0<>(className(), name(), numReturns);
    }

    /**
     * Calls the method on {@code actor}; returns a reference to its result
     * ({@code null} with {@code numReturns(0)}). Each argument is a value or an
     * {@link ObjectRef} to one, which the host resolves first.
     */
    public ObjectRef<R> remote(ActorHandle<S> actor) {
        return callOne(actor, new Object[] {});
    }

    /** Calls the method on {@code actor}; returns one reference per return value. */
    public List<ObjectRef<Object>> remoteAll(ActorHandle<S> actor, Object... args) {
        if (args.length != 0) {
            throw new IllegalArgumentException(className() + "." + name() + " takes 0 arguments, got " + args.length);
        }
        return call(actor, args);
    }
}
