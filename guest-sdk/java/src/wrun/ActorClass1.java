package wrun;

import wrun.internal.Registry;

/**
 * An actor class whose constructor takes 1 argument, made by
 * {@link Wrun#actor}: {@code remote(...)} creates an actor and returns its handle.
 *
 * @param <S> the class of the actor's state
 */
public final class ActorClass1<A, S> extends ActorClass<S, ActorClass1<A, S>> {
    ActorClass1(Registry.ClassDef def, ActorOptions options) {
        super(def, options);
    }

    @Override
    protected ActorClass1<A, S> with(ActorOptions options) {
        return new ActorClass1<>(def, options);
    }

    /**
     * Creates the actor (its constructor runs in a fresh instance, somewhere
     * in the cluster) and returns its handle. Each argument is a value or an
     * {@link ObjectRef} to one, which the host resolves first.
     */
    public ActorHandle<S> remote(A a) {
        return create(new Object[] {a});
    }

    public ActorHandle<S> remote(ObjectRef<A> a) {
        return create(new Object[] {a});
    }
}
