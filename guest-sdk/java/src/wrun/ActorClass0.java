package wrun;

import wrun.internal.Registry;

/**
 * An actor class whose constructor takes 0 arguments, made by
 * {@link Wrun#actor}: {@code remote(...)} creates an actor and returns its handle.
 *
 * @param <S> the class of the actor's state
 */
public final class ActorClass0<S> extends ActorClass<S, ActorClass0<S>> {
    ActorClass0(Registry.ClassDef def, ActorOptions options) {
        super(def, options);
    }

    @Override
    protected ActorClass0<S> with(ActorOptions options) {
        return new ActorClass0<>(def, options);
    }

    /**
     * Creates the actor (its constructor runs in a fresh instance, somewhere
     * in the cluster) and returns its handle. Each argument is a value or an
     * {@link ObjectRef} to one, which the host resolves first.
     */
    public ActorHandle<S> remote() {
        return create(new Object[] {});
    }
}
