package wrun;

import java.util.List;

/**
 * A task taking 6 arguments, made by {@link Wrun#task}: {@code remote(...)}
 * submits it and returns at once with a reference to its result.
 */
public final class Task6<A, B, C, D, E, F, R> extends RemoteFunction<R, Task6<A, B, C, D, E, F, R>> {
    Task6(String name, TaskOptions options) {
        super(name, options);
    }

    @Override
    protected Task6<A, B, C, D, E, F, R> with(TaskOptions options) {
        return new Task6<>(name(), options);
    }

    /**
     * Submits the task; returns at once with a reference to its result
     * ({@code null} with {@code numReturns(0)}). Each argument is a value or
     * an {@link ObjectRef} to one: the host resolves a reference before the
     * task runs, so the task receives the value.
     */
    public ObjectRef<R> remote(A a, B b, C c, D d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, C c, D d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, C c, D d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, C c, D d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, B b, ObjectRef<C> c, D d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, ObjectRef<C> c, D d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, ObjectRef<C> c, D d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, ObjectRef<C> c, D d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, B b, C c, ObjectRef<D> d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, C c, ObjectRef<D> d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, C c, ObjectRef<D> d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, C c, ObjectRef<D> d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, B b, ObjectRef<C> c, ObjectRef<D> d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, ObjectRef<C> c, ObjectRef<D> d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, ObjectRef<C> c, ObjectRef<D> d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, ObjectRef<C> c, ObjectRef<D> d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, B b, C c, D d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, C c, D d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, C c, D d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, C c, D d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, B b, ObjectRef<C> c, D d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, ObjectRef<C> c, D d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, ObjectRef<C> c, D d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, ObjectRef<C> c, D d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, B b, C c, ObjectRef<D> d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, C c, ObjectRef<D> d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, C c, ObjectRef<D> d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, C c, ObjectRef<D> d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, B b, ObjectRef<C> c, ObjectRef<D> d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, ObjectRef<C> c, ObjectRef<D> d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, ObjectRef<C> c, ObjectRef<D> d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, ObjectRef<C> c, ObjectRef<D> d, ObjectRef<E> e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, B b, C c, D d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, C c, D d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, C c, D d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, C c, D d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, B b, ObjectRef<C> c, D d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, ObjectRef<C> c, D d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, ObjectRef<C> c, D d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, ObjectRef<C> c, D d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, B b, C c, ObjectRef<D> d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, C c, ObjectRef<D> d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, C c, ObjectRef<D> d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, C c, ObjectRef<D> d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, B b, ObjectRef<C> c, ObjectRef<D> d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, ObjectRef<C> c, ObjectRef<D> d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, ObjectRef<C> c, ObjectRef<D> d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, ObjectRef<C> c, ObjectRef<D> d, E e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, B b, C c, D d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, C c, D d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, C c, D d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, C c, D d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, B b, ObjectRef<C> c, D d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, ObjectRef<C> c, D d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, ObjectRef<C> c, D d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, ObjectRef<C> c, D d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, B b, C c, ObjectRef<D> d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, C c, ObjectRef<D> d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, C c, ObjectRef<D> d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, C c, ObjectRef<D> d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, B b, ObjectRef<C> c, ObjectRef<D> d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, B b, ObjectRef<C> c, ObjectRef<D> d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(A a, ObjectRef<B> b, ObjectRef<C> c, ObjectRef<D> d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    public ObjectRef<R> remote(ObjectRef<A> a, ObjectRef<B> b, ObjectRef<C> c, ObjectRef<D> d, ObjectRef<E> e, ObjectRef<F> f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    /** Submits the task; returns one reference per return value ({@code numReturns} of them). */
    public List<ObjectRef<Object>> remoteAll(Object... args) {
        if (args.length != 6) {
            throw new IllegalArgumentException(name() + " takes 6 arguments, got " + args.length);
        }
        return submit(args);
    }
}
