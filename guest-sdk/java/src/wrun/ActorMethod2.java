package wrun;

import java.util.List;

/**
 * An actor method taking 2 arguments, made by {@link ActorClass#method}:
 * {@code remote(actor, ...)} calls it on that actor and returns a reference to
 * its result.
 */
public final class ActorMethod2<S, A, B, R> extends ActorMethod<R, ActorMethod2<S, A, B, R>> {
    ActorMethod2(String className, String name, int numReturns) {
        super(className, name, numReturns);
    }

    @Override
    protected ActorMethod2<S, A, B, R> with(int numReturns) {
        return new ActorMethod2<>(className(), name(), numReturns);
    }

    /**
     * Calls the method on {@code actor}; returns a reference to its result
     * ({@code null} with {@code numReturns(0)}). Each argument is a value or an
     * {@link ObjectRef} to one, which the host resolves first.
     */
    public ObjectRef<R> remote(ActorHandle<S> actor, A a, B b) {
        return callOne(actor, new Object[] {a, b});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, ObjectRef<A> a, B b) {
        return callOne(actor, new Object[] {a, b});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, A a, ObjectRef<B> b) {
        return callOne(actor, new Object[] {a, b});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, ObjectRef<A> a, ObjectRef<B> b) {
        return callOne(actor, new Object[] {a, b});
    }

    /** Calls the method on {@code actor}; returns one reference per return value. */
    public List<ObjectRef<Object>> remoteAll(ActorHandle<S> actor, Object... args) {
        if (args.length != 2) {
            throw new IllegalArgumentException(className() + "." + name() + " takes 2 arguments, got " + args.length);
        }
        return call(actor, args);
    }
}
