package wrun;

import java.util.List;

/**
 * An actor method taking 1 argument, made by {@link ActorClass#method}:
 * {@code remote(actor, ...)} calls it on that actor and returns a reference to
 * its result.
 */
public final class ActorMethod1<S, A, R> extends ActorMethod<R, ActorMethod1<S, A, R>> {
    ActorMethod1(String className, String name, int numReturns) {
        super(className, name, numReturns);
    }

    @Override
    protected ActorMethod1<S, A, R> with(int numReturns) {
        return new ActorMethod1<>(className(), name(), numReturns);
    }

    /**
     * Calls the method on {@code actor}; returns a reference to its result
     * ({@code null} with {@code numReturns(0)}). Each argument is a value or an
     * {@link ObjectRef} to one, which the host resolves first.
     */
    public ObjectRef<R> remote(ActorHandle<S> actor, A a) {
        return callOne(actor, new Object[] {a});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, ObjectRef<A> a) {
        return callOne(actor, new Object[] {a});
    }

    /** Calls the method on {@code actor}; returns one reference per return value. */
    public List<ObjectRef<Object>> remoteAll(ActorHandle<S> actor, Object... args) {
        if (args.length != 1) {
            throw new IllegalArgumentException(className() + "." + name() + " takes 1 argument, got " + args.length);
        }
        return call(actor, args);
    }
}
