package wrun;

import java.util.List;

/**
 * An actor method taking 4 arguments, made by {@link ActorClass#method}:
 * {@code remote(actor, ...)} calls it on that actor and returns a reference to
 * its result.
 */
public final class ActorMethod4<S, A, B, C, D, R> extends ActorMethod<R, ActorMethod4<S, A, B, C, D, R>> {
    ActorMethod4(String className, String name, int numReturns) {
        super(className, name, numReturns);
    }

    @Override
    protected ActorMethod4<S, A, B, C, D, R> with(int numReturns) {
        return new ActorMethod4<>(className(), name(), numReturns);
    }

    /**
     * Calls the method on {@code actor}; returns a reference to its result
     * ({@code null} with {@code numReturns(0)}). Each argument is a value or an
     * {@link ObjectRef} to one, which the host resolves first.
     */
    public ObjectRef<R> remote(ActorHandle<S> actor, A a, B b, C c, D d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, ObjectRef<A> a, B b, C c, D d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, A a, ObjectRef<B> b, C c, D d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, ObjectRef<A> a, ObjectRef<B> b, C c, D d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, A a, B b, ObjectRef<C> c, D d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, ObjectRef<A> a, B b, ObjectRef<C> c, D d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, A a, ObjectRef<B> b, ObjectRef<C> c, D d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, ObjectRef<A> a, ObjectRef<B> b, ObjectRef<C> c, D d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, A a, B b, C c, ObjectRef<D> d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, ObjectRef<A> a, B b, C c, ObjectRef<D> d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, A a, ObjectRef<B> b, C c, ObjectRef<D> d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, ObjectRef<A> a, ObjectRef<B> b, C c, ObjectRef<D> d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, A a, B b, ObjectRef<C> c, ObjectRef<D> d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, ObjectRef<A> a, B b, ObjectRef<C> c, ObjectRef<D> d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, A a, ObjectRef<B> b, ObjectRef<C> c, ObjectRef<D> d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ActorHandle<S> actor, ObjectRef<A> a, ObjectRef<B> b, ObjectRef<C> c, ObjectRef<D> d) {
        return callOne(actor, new Object[] {a, b, c, d});
    }

    /** Calls the method on {@code actor}; returns one reference per return value. */
    public List<ObjectRef<Object>> remoteAll(ActorHandle<S> actor, Object... args) {
        if (args.length != 4) {
            throw new IllegalArgumentException(className() + "." + name() + " takes 4 arguments, got " + args.length);
        }
        return call(actor, args);
    }
}
