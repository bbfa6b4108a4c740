package wrun;

import java.util.List;

/**
 * An actor method taking 3 arguments, made by {@link ActorClass#method}:
 * {@code remote(actor, ...)} calls it on that actor and returns a reference to
 * its result.
 */
public final class ActorMethod3<S, A, B, C, R> extends ActorMethod<R, ActorMethod3<S, A, B, C, R>> {
    ActorMethod3(String className, String name, int numReturns) {
        super(className, name, numReturns);
    }

    @Override
    protected ActorMethod3<S, A, B, C, R> with(int numReturns) {
        return new ActorMethod3<>(className(), name(), numReturns);
    }

    /** Calls the method on {@code actor}; returns a reference to its result. */
    public ObjectRef<R> remote(ActorHandle<S> actor, A a, B b, C c) {
        return callOne(actor, new Object[] {a, b, c});
    }

    /** Calls the method on {@code actor}; returns one reference per return value. */
    public List<ObjectRef<Object>> remoteAll(ActorHandle<S> actor, A a, B b, C c) {
        return call(actor, new Object[] {a, b, c});
    }
}
