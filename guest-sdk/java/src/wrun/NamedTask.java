package wrun;

import java.util.List;

/**
 * A task known only by its name, in any component and language, made by
 * {@link Wrun#function}: {@code Wrun.function("cpp/shard_stats").remote(xs)}.
 * Its arguments are whatever values the codec carries; its result is
 * checked only against the type given to {@link #returns}.
 *
 * @param <R> the result type the caller expects
 */
public final class NamedTask<R> extends RemoteFunction<R, NamedTask<R>> {
    private final Class<?> returns;

    NamedTask(String name, TaskOptions options, Class<?> returns) {
        super(name, options);
        this.returns = returns;
    }

    @Override
    protected NamedTask<R> with(TaskOptions options) {
        return new NamedTask<>(name(), options, returns);
    }

    @Override
    Class<?> resultType() {
        return returns != null ? returns : super.resultType();
    }

    /**
     * The same task, whose result {@link Wrun#get} checks against
     * {@code type} (converting integers and floats where no value changes, as
     * for arguments): {@code Wrun.function("cpp/count").returns(Long.class)}.
     */
    public <T> NamedTask<T> returns(Class<T> type) {
        return new NamedTask<>(name(), options(), type);
    }

    /**
     * Submits the task; returns a reference to its result ({@code null} with
     * {@code numReturns(0)}). A top-level {@link ObjectRef} argument is
     * resolved by the host: the task receives its value.
     */
    public ObjectRef<R> remote(Object... args) {
        return submitOne(args);
    }

    /** Submits the task; returns one reference per return value ({@code numReturns} of them). */
    public List<ObjectRef<Object>> remoteAll(Object... args) {
        return submit(args);
    }
}
