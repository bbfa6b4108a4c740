package wrun;

import java.util.List;

/**
 * An actor method taking 5 arguments, made by {@link ActorClass#method}:
 * {@code remote(actor, ...)} calls it on that actor and returns a reference to
 * its result.
 */
public final class ActorMethod5<S, A, B, C, D, E, R> extends ActorMethod<R, ActorMethod5<S, A, B, C, D, E, R>> {
    ActorMethod5(String className, String name, int numReturns) {
        super(className, name, numReturns);
    }

    @Override
    protected ActorMethod5<S, A, B, C, D, E, R> with(int numReturns) {
        return new ActorMethod5<>(className(), name(), numReturns);
    }

    /** Calls the method on {@code actor}; returns a reference to its result. */
    public ObjectRef<R> remote(ActorHandle<S> actor, A a, B b, C c, D d, E e) {
        return callOne(actor, new Object[] {a, b, c, d, e});
    }

    /** Calls the method on {@code actor}; returns one reference per return value. */
    public List<ObjectRef<Object>> remoteAll(ActorHandle<S> actor, A a, B b, C c, D d, E e) {
        return call(actor, new Object[] {a, b, c, d, e});
    }
}
