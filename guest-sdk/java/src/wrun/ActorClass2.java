package wrun;

import wrun.internal.Registry;

/**
 * An actor class whose constructor takes 2 arguments, made by
 * {@link Wrun#actor}: {@code remote(...)} creates an actor and returns its handle.
 *
 * @param <S> the class of the actor's state
 */
public final class ActorClass2<A, B, S> extends ActorClass<S, ActorClass2<A, B, S>> {
    ActorClass2(Registry.ClassDef def, ActorOptions options) {
        super(def, options);
    }

    @Override
    protected ActorClass2<A, B, S> with(ActorOptions options) {
        return new ActorClass2<>(def, options);
    }

    /**
     * Creates the actor (its constructor runs in a fresh instance, somewhere
     * in the cluster) and returns its handle. Each argument is a value or an
     * {@link ObjectRef} to one, which the host resolves first.
     */
    public ActorHandle<S> remote(A a, B b) {
        return create(new Object[] {a, b});
    }

    public ActorHandle<S> remote(ObjectRef<A> a, B b) {
        return create(new Object[] {a, b});
    }

    public ActorHandle<S> remote(A a, ObjectRef<B> b) {
        return create(new Object[] {a, b});
    }

    public ActorHandle<S> remote(ObjectRef<A> a, ObjectRef<B> b) {
        return create(new Object[] {a, b});
    }
}
