package wrun;

import java.util.List;
import wrun.internal.Host;
import wrun.internal.TaskScope;

/**
 * A reference to an immutable object in the store (Ray's {@code ObjectRef}).
 *
 * <p>Returned by {@code task.remote(...)}, {@code method.remote(...)} and
 * {@link Wrun#put}. Its host handle keeps the object alive. TeaVM-WASI cannot
 * tell the SDK when an ObjectRef becomes garbage, so the handle is dropped by
 * {@link #release()}, or else when the task invocation that created or
 * received it returns, or else when the instance ends (drivers and actors).
 * Passed to a task as a top-level argument, the task receives the value (the
 * host resolves it first); nested in a value, the task receives the reference
 * itself.
 *
 * @param <T> the type of the value (unchecked: values are decoded from
 *            MessagePack, see {@link Codec})
 */
public final class ObjectRef<T> {
    private int handle;
    /** The class its value must fit (see wrun.internal.Types), or null; and the task that makes it. */
    Class<?> expected;
    String origin;

    /** Wraps an owned host handle (SDK-internal). */
    public ObjectRef(int handle) {
        this.handle = handle;
        TaskScope.created(this);
    }

    /** The host handle (SDK-internal); fails once released. */
    public int handle() {
        int h = handle;
        if (h == 0) {
            throw new IllegalStateException("ObjectRef used after release() or after the task that held it returned");
        }
        return h;
    }

    /** The object's id. */
    public Id id() {
        return Host.get().refId(handle());
    }

    /** The object's id as 32 hex digits (Ray: {@code ObjectRef.hex()}). */
    public String hex() {
        return id().hex();
    }

    /** The worker that owns (created and reference-counts) the object. */
    public Id owner() {
        return Host.get().refOwner(handle());
    }

    /** Waits for the object and returns its value (= {@code Wrun.get(this)}). */
    public T get() {
        return Wrun.get(this);
    }

    /** Like {@link #get()}, failing with {@link WrunException.GetTimeoutException} after {@code timeoutMs}. */
    public T get(long timeoutMs) {
        return Wrun.get(List.of(this), timeoutMs).get(0);
    }

    /**
     * Drops this reference's host handle now (the object is freed once no
     * reference to it remains anywhere); the ObjectRef cannot be used after.
     * Releasing twice does nothing.
     */
    public void release() {
        int h = handle;
        if (h != 0) {
            handle = 0;
            Host.get().dropRef(h);
        }
    }

    @Override
    public String toString() {
        try {
            return "ObjectRef(" + hex() + ")";
        } catch (RuntimeException e) {
            return "ObjectRef(<handle " + handle + ">)";
        }
    }
}
