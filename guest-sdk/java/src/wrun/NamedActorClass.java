package wrun;

/**
 * An actor class known only by its name, in any component and language, made
 * by {@link Wrun#actorClass}:
 * {@code Wrun.actorClass("rust/Tally").name("tally").remote()}. Call the
 * actor's methods by name on the handle: {@code h.call("add_all", refs)}.
 *
 * @param <S> a marker for the actor's handles (unchecked)
 */
public final class NamedActorClass<S> extends ActorClass<S, NamedActorClass<S>> {
    NamedActorClass(String name, ActorOptions options) {
        super(name, options);
    }

    @Override
    protected NamedActorClass<S> with(ActorOptions options) {
        return new NamedActorClass<>(name(), options);
    }

    /** Creates the actor with these constructor arguments and returns its handle. */
    public ActorHandle<S> remote(Object... args) {
        return create(args);
    }
}
