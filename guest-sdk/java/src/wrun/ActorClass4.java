package wrun;

import wrun.internal.Registry;

/**
 * An actor class whose constructor takes 4 arguments, made by
 * {@link Wrun#actor}: {@code remote(...)} creates an actor and returns its handle.
 *
 * @param <S> the class of the actor's state
 */
public final class ActorClass4<A, B, C, D, S> extends ActorClass<S, ActorClass4<A, B, C, D, S>> {
    ActorClass4(Registry.ClassDef def, ActorOptions options) {
        super(def, options);
    }

    @Override
    protected ActorClass4<A, B, C, D, S> with(ActorOptions options) {
        return new ActorClass4<>(def, options);
    }

    /**
     * Creates the actor (its constructor runs in a fresh instance, somewhere
     * in the cluster) and returns its handle. Each argument is a value or an
     * {@link ObjectRef} to one, which the host resolves first.
     */
    public ActorHandle<S> remote(A a, B b, C c, D d) {
        return create(new Object[] {a, b, c, d});
    }

    public ActorHandle<S> remote(ObjectRef<A> a, B b, C c, D d) {
        return create(new Object[] {a, b, c, d});
    }

    public ActorHandle<S> remote(A a, ObjectRef<B> b, C c, D d) {
        return create(new Object[] {a, b, c, d});
    }

    public ActorHandle<S> remote(ObjectRef<A> a, ObjectRef<B> b, C c, D d) {
        return create(new Object[] {a, b, c, d});
    }

    public ActorHandle<S> remote(A a, B b, ObjectRef<C> c, D d) {
        return create(new Object[] {a, b, c, d});
    }

    public ActorHandle<S> remote(ObjectRef<A> a, B b, ObjectRef<C> c, D d) {
        return create(new Object[] {a, b, c, d});
    }

    public ActorHandle<S> remote(A a, ObjectRef<B> b, ObjectRef<C> c, D d) {
        return create(new Object[] {a, b, c, d});
    }

    public ActorHandle<S> remote(ObjectRef<A> a, ObjectRef<B> b, ObjectRef<C> c, D d) {
        return create(new Object[] {a, b, c, d});
    }

    public ActorHandle<S> remote(A a, B b, C c, ObjectRef<D> d) {
        return create(new Object[] {a, b, c, d});
    }

    public ActorHandle<S> remote(ObjectRef<A> a, B b, C c, ObjectRef<D> d) {
        return create(new Object[] {a, b, c, d});
    }

    public ActorHandle<S> remote(A a, ObjectRef<B> b, C c, ObjectRef<D> d) {
        return create(new Object[] {a, b, c, d});
    }

    public ActorHandle<S> remote(ObjectRef<A> a, ObjectRef<B> b, C c, ObjectRef<D> d) {
        return create(new Object[] {a, b, c, d});
    }

    public ActorHandle<S> remote(A a, B b, ObjectRef<C> c, ObjectRef<D> d) {
        return create(new Object[] {a, b, c, d});
    }

    public ActorHandle<S> remote(ObjectRef<A> a, B b, ObjectRef<C> c, ObjectRef<D> d) {
        return create(new Object[] {a, b, c, d});
    }

    public ActorHandle<S> remote(A a, ObjectRef<B> b, ObjectRef<C> c, ObjectRef<D> d) {
        return create(new Object[] {a, b, c, d});
    }

    public ActorHandle<S> remote(ObjectRef<A> a, ObjectRef<B> b, ObjectRef<C> c, ObjectRef<D> d) {
        return create(new Object[] {a, b, c, d});
    }
}
