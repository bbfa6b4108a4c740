package wrun;

import java.util.List;

/**
 * A task taking 1 argument, made by {@link Wrun#task}: {@code remote(...)}
 * submits it and returns at once with a reference to its result.
 */
public final class Task1<A, R> extends RemoteFunction<R, Task1<A, R>> {
    Task1(String name, TaskOptions options) {
        super(name, options);
    }

    @Override
    protected Task1<A, R> with(TaskOptions options) {
        return new Task1<>(name(), options);
    }

    /**
     * Submits the task; returns at once with a reference to its result
     * ({@code null} with {@code numReturns(0)}). Each argument is a value or
     * an {@link ObjectRef} to one: the host resolves a reference before the
     * task runs, so the task receives the value.
     */
    public ObjectRef<R> remote(A a) {
        return submitOne(new Object[] {a});
    }

    public ObjectRef<R> remote(ObjectRef<A> a) {
        return submitOne(new Object[] {a});
    }

    /** Submits the task; returns one reference per return value ({@code numReturns} of them). */
    public List<ObjectRef<Object>> remoteAll(Object... args) {
        if (args.length != 1) {
            throw new IllegalArgumentException(name() + " takes 1 argument, got " + args.length);
        }
        return submit(args);
    }
}
