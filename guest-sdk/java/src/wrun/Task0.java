package wrun;

import java.util.List;

/**
 * A task taking 0 arguments, made by {@link Wrun#task}: {@code remote(...)}
 * submits it and returns at once with a reference to its result.
 */
public final class Task0<R> extends RemoteFunction<R, Task0<R>> {
    Task0(String name, TaskOptions options) {
        super(name, options);
    }

    @Override
    protected Task0<R> with(TaskOptions options) {
        return new Task0<>(name(), options);
    }

    /**
     * Submits the task; returns at once with a reference to its result
     * ({@code null} with {@code numReturns(0)}). Each argument is a value or
     * an {@link ObjectRef} to one: the host resolves a reference before the
     * task runs, so the task receives the value.
     */
    public ObjectRef<R> remote() {
        return submitOne(new Object[] {});
    }

    /** Submits the task; returns one reference per return value ({@code numReturns} of them). */
    public List<ObjectRef<Object>> remoteAll(Object... args) {
        if (args.length != 0) {
            throw new IllegalArgumentException(name() + " takes 0 arguments, got " + args.length);
        }
        return submit(args);
    }
}
