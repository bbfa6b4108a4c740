package wrun;

import java.util.List;

/** The outcome of {@link Wrun#wait}: the references that are ready and those still pending. */
public final class WaitResult<T> {
    private final List<ObjectRef<T>> ready;
    private final List<ObjectRef<T>> pending;

    WaitResult(List<ObjectRef<T>> ready, List<ObjectRef<T>> pending) {
        this.ready = ready;
        this.pending = pending;
    }

    public List<ObjectRef<T>> ready() {
        return ready;
    }

    public List<ObjectRef<T>> pending() {
        return pending;
    }
}
