package wrun.internal;

import java.util.ArrayList;
import java.util.List;
import wrun.ObjectRef;

/**
 * The ObjectRefs a task invocation created or received, released when it
 * returns (SDK-internal).
 *
 * <p>TeaVM-WASI has neither finalizers nor working weak references, so the
 * SDK cannot learn when an ObjectRef becomes garbage. A task's references
 * cannot matter once it has returned (what it returns is cloned first), so
 * their host handles are dropped then; drivers and actors keep theirs until
 * {@link ObjectRef#release()} or until their instance ends.
 */
public final class TaskScope {
    private TaskScope() {
    }

    private static List<ObjectRef<?>> open;

    /** Called by every new ObjectRef. */
    public static void created(ObjectRef<?> ref) {
        if (open != null) {
            open.add(ref);
        }
    }

    static void begin() {
        open = new ArrayList<>();
    }

    /** Releases every ObjectRef created since {@link #begin()}. */
    static void end() {
        List<ObjectRef<?>> refs = open;
        open = null;
        if (refs != null) {
            for (ObjectRef<?> r : refs) {
                r.release();
            }
        }
    }
}
