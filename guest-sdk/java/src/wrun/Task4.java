package wrun;

import java.util.List;

/**
 * A task taking 4 arguments, made by {@link Wrun#task}: {@code remote(...)}
 * submits it and returns at once with a reference to its result.
 */
public final class Task4<A, B, C, D, R> extends RemoteFunction<R, Task4<A, B, C, D, R>> {
    Task4(String name, TaskOptions options) {
        super(name, options);
    }

    @Override
    protected Task4<A, B, C, D, R> with(TaskOptions options) {
        return new Task4<>(name(), options);
    }

    /**
     * Submits the task; returns at once with a reference to its result
     * ({@code null} with {@code numReturns(0)}). Each argument is a value or
     * an {@link ObjectRef} to one: the host resolves a reference before the
     * task runs, so the task receives the value.
     */
    public ObjectRef<R> remote(A a, B b, C c, D d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, C c, D d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, C c, D d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, C c, D d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(A a, B b, ObjectRef<C> c, D d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, ObjectRef<C> c, D d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, ObjectRef<C> c, D d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, ObjectRef<C> c, D d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(A a, B b, C c, ObjectRef<D> d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, C c, ObjectRef<D> d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, C c, ObjectRef<D> d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, C c, ObjectRef<D> d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(A a, B b, ObjectRef<C> c, ObjectRef<D> d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, ObjectRef<C> c, ObjectRef<D> d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, ObjectRef<C> c, ObjectRef<D> d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, ObjectRef<C> c, ObjectRef<D> d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    /** Submits the task; returns one reference per return value ({@code numReturns} of them). */
    public List<ObjectRef<Object>> remoteAll(Object... args) {
        if (args.length != 4) {
            throw new IllegalArgumentException(name() + " takes 4 arguments, got " + args.length);
        }
        return submit(args);
    }
}
