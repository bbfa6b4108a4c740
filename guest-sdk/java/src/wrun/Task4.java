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

    /** Submits the task; returns a reference to its result ({@code null} with {@code numReturns(0)}). */
    public ObjectRef<R> remote(A a, B b, C c, D d) {
        return submitOne(new Object[] {a, b, c, d});
    }

    /** Submits the task; returns one reference per return value ({@code numReturns} of them). */
    public List<ObjectRef<Object>> remoteAll(A a, B b, C c, D d) {
        return submit(new Object[] {a, b, c, d});
    }
}
