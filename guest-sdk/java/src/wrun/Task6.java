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

    /** Submits the task; returns a reference to its result ({@code null} with {@code numReturns(0)}). */
    public ObjectRef<R> remote(A a, B b, C c, D d, E e, F f) {
        return submitOne(new Object[] {a, b, c, d, e, f});
    }

    /** Submits the task; returns one reference per return value ({@code numReturns} of them). */
    public List<ObjectRef<Object>> remoteAll(A a, B b, C c, D d, E e, F f) {
        return submit(new Object[] {a, b, c, d, e, f});
    }
}
