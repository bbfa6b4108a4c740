package wrun;

import java.util.Iterator;
import java.util.NoSuchElementException;
import wrun.internal.Host;

/**
 * The results of a streaming call (Ray's {@code num_returns="streaming"} and {@code ObjectRefGenerator}):
 * one {@link ObjectRef} per item, in the order the task or method yielded them ({@link Wrun#yieldItem}),
 * each available as soon as it is stored, while the call still runs.
 *
 * <p>A call that fails after {@code k} items (an exception, a trap, a cancel, its actor's death) has one
 * more item, {@code k}, whose {@code get} throws the error; the iteration then ends.
 *
 * @param <T> the type of the items
 */
public final class ObjectRefGenerator<T> implements Iterator<ObjectRef<T>>, Iterable<ObjectRef<T>> {
    private final ObjectRef<Object> stream;
    private int next;
    private boolean ended;
    private ObjectRef<T> ahead;

    ObjectRefGenerator(ObjectRef<Object> stream) {
        this.stream = stream;
    }

    /**
     * The next item's reference, waiting at most {@code timeoutMs} (forever when negative; a
     * {@link WrunException} of kind {@code GET_TIMEOUT} past it); {@code null} once the stream ended.
     */
    @SuppressWarnings("unchecked")
    public ObjectRef<T> next(long timeoutMs) {
        if (ahead != null) {
            ObjectRef<T> r = ahead;
            ahead = null;
            return r;
        }
        if (ended) {
            return null;
        }
        ObjectRef<Object> item = Host.get().streamNext(stream.handle(), next, timeoutMs);
        if (item == null) {
            ended = true;
            return null;
        }
        next++;
        return (ObjectRef<T>) (ObjectRef<?>) item;
    }

    /** Whether another item comes (waits for it, or for the end). */
    @Override
    public boolean hasNext() {
        if (ahead == null) {
            ahead = next(-1);
        }
        return ahead != null;
    }

    /** The next item's reference, waiting for it; {@link NoSuchElementException} once the stream ended. */
    @Override
    public ObjectRef<T> next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the stream ended");
        }
        ObjectRef<T> r = ahead;
        ahead = null;
        return r;
    }

    @Override
    public Iterator<ObjectRef<T>> iterator() {
        return this;
    }

    /** The stream's own reference: once the call ended, its value is the list of every item's reference. */
    public ObjectRef<Object> streamRef() {
        return stream;
    }

    /** Cancels the call, as {@link Wrun#cancel(ObjectRef)} on its results. */
    public void cancel() {
        Wrun.cancel(stream);
    }
}
