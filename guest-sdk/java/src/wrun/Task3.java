package wrun;

import java.util.List;

/**
 * A task taking 3 arguments, made by {@link Wrun#task}: {@code remote(...)}
 * submits it and returns at once with a reference to its result.
 */
public final class Task3<A, B, C, R> extends RemoteFunction<R, Task3<A, B, C, R>> {
    Task3(String name, TaskOptions options) {
        super(name, options);
    }

    @Override
    protected Task3<A, B, C, R> with(TaskOptions options) {
        return new Task3<>(name(), options);
    }

    /**
     * Submits the task; returns at once with a reference to its result
     * ({@code null} with {@code numReturns(0)}). Each argument is a value or
     * an {@link ObjectRef} to one: the host resolves a reference before the
     * task runs, so the task receives the value.
     */
    public ObjectRef<R> remote(A a, B b, C c) {
        return submitOne(new Object[] {a, b, c});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, C c) {
        return submitOne(new Object[] {a, b, c});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, C c) {
        return submitOne(new Object[] {a, b, c});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, C c) {
        return submitOne(new Object[] {a, b, c});
    }

    public ObjectRef<R> remote(A a, B b, ObjectRef<C> c) {
        return submitOne(new Object[] {a, b, c});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, ObjectRef<C> c) {
        return submitOne(new Object[] {a, b, c});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, ObjectRef<C> c) {
        return submitOne(new Object[] {a, b, c});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, ObjectRef<C> c) {
        return submitOne(new Object[] {a, b, c});
    }

    /** Submits the task; returns one reference per return value ({@code numReturns} of them). */
    public List<ObjectRef<Object>> remoteAll(Object... args) {
        if (args.length != 3) {
            throw new IllegalArgumentException(name() + " takes 3 arguments, got " + args.length);
        }
        return submit(args);
    }
}
