package wrun;

import java.util.List;

/**
 * A task taking 5 arguments, made by {@link Wrun#task}: {@code remote(...)}
 * submits it and returns at once with a reference to its result.
 */
public final class Task5<A, B, C, D, E, R> extends RemoteFunction<R, Task5<A, B, C, D, E, R>> {
    Task5(String name, TaskOptions options) {
        super(name, options);
    }

    @Override
    protected Task5<A, B, C, D, E, R> with(TaskOptions options) {
        return new Task5<>(name(), options);
    }

    /** Submits the task; returns a reference to its result ({@code null} with {@code numReturns(0)}). */
    public ObjectRef<R> remote(A a, B b, C c, D d, E e) {
        return submitOne(new Object[] {a, b, c, d, e});
    }

    /** Submits the task; returns one reference per return value ({@code numReturns} of them). */
    public List<ObjectRef<Object>> remoteAll(A a, B b, C c, D d, E e) {
        return submit(new Object[] {a, b, c, d, e});
    }
}
