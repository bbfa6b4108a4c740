package wrun;

import java.util.List;

/**
 * A task taking 2 arguments, made by {@link Wrun#task}: {@code remote(...)}
 * submits it and returns at once with a reference to its result.
 */
public final class Task2<A, B, R> extends RemoteFunction<R, Task2<A, B, R>> {
    Task2(String name, TaskOptions options) {
        super(name, options);
    }

    @Override
    protected Task2<A, B, R> with(TaskOptions options) {
        return new Task2<>(name(), options);
    }

    /**
     * Submits the task; returns at once with a reference to its result
     * ({@code null} with {@code numReturns(0)}). Each argument is a value or
     * an {@link ObjectRef} to one: the host resolves a reference before the
     * task runs, so the task receives the value.
     */
    public ObjectRef<R> remote(A a, B b) {
        return submitOne(new Object[] {a, b});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b) {
        return submitOne(new Object[] {a, b});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b) {
        return submitOne(new Object[] {a, b});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b) {
        return submitOne(new Object[] {a, b});
    }

    /** Submits the task; returns one reference per return value ({@code numReturns} of them). */
    public List<ObjectRef<Object>> remoteAll(Object... args) {
        if (args.length != 2) {
            throw new IllegalArgumentException(name() + " takes 2 arguments, got " + args.length);
        }
        return submit(args);
    }
}
