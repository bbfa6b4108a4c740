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

    /** Submits the task; returns a reference to its result ({@code null} with {@code numReturns(0)}). */
    public ObjectRef<R> remote(A a, B b, C c) {
        return submitOne(new Object[] {a, b, c});
    }

    /** Submits the task; returns one reference per return value ({@code numReturns} of them). */
    public List<ObjectRef<Object>> remoteAll(A a, B b, C c) {
        return submit(new Object[] {a, b, c});
    }
}
