package wrun.internal;

import java.util.List;
import wrun.ActorOptions;
import wrun.Id;
import wrun.ObjectRef;
import wrun.TaskOptions;

/**
 * The host's imports as Java calls (SDK-internal). Inside a component this is
 * {@link WasmHost}, which lowers each call through the canonical ABI; unit
 * tests on the JVM install a fake with {@link #set}.
 */
public abstract class Host {
    public static final int JOB_ID = 0;
    public static final int TASK_ID = 1;
    public static final int NODE_ID = 2;
    public static final int ACTOR_ID = 3;

    private static Host current;

    public static Host get() {
        Host h = current;
        if (h == null) {
            h = new WasmHost();
            current = h;
        }
        return h;
    }

    /** Installs another host (tests). */
    public static void set(Host host) {
        current = host;
    }

    public abstract int cloneRef(int handle);

    public abstract void dropRef(int handle);

    public abstract Id refId(int handle);

    public abstract Id refOwner(int handle);

    public abstract ObjectRef<Object> put(Object value);

    public abstract List<Object> get(List<? extends ObjectRef<?>> refs, long timeoutMs);

    public abstract boolean[] wait(List<? extends ObjectRef<?>> refs, int numReady, long timeoutMs,
            boolean fetchLocal);

    public abstract List<ObjectRef<Object>> submit(String function, Object[] args, TaskOptions options);

    /** Submits a streaming task; the reference of its stream. */
    public abstract ObjectRef<Object> submitStreaming(String function, Object[] args, TaskOptions options);

    /** Calls a streaming method; the reference of its stream. */
    public abstract ObjectRef<Object> callStreaming(Id actor, String method, Object[] args);

    /** Yields one item of the streaming call running now. */
    public abstract void yieldItem(Object item);

    /** Item {@code index} of a stream, or null once it ended ({@code timeoutMs < 0}: no limit). */
    public abstract ObjectRef<Object> streamNext(int stream, int index, long timeoutMs);

    public abstract Id create(String className, Object[] args, ActorOptions options);

    public abstract List<ObjectRef<Object>> call(Id actor, String method, Object[] args, int numReturns);

    /** The actor's id, or null when no actor has that name. */
    public abstract Id lookup(String name, String namespace);

    public abstract void kill(Id actor);

    /** Kills the actor's instance only: it restarts while it has restarts left. */
    public abstract void restart(Id actor);

    /** Ends the actor running this call once the call returns. */
    public abstract void exitActor();

    /** Cancels the call that produces the object behind {@code handle}. */
    public abstract void cancel(int handle, boolean force, boolean recursive);

    public abstract void log(int level, String message);

    /** Blocks the guest for {@code ms} milliseconds. */
    public abstract void sleep(long ms);

    /** One of the context ids ({@link #JOB_ID}, ...); null for {@link #ACTOR_ID} outside an actor. */
    public abstract Id context(int which);
}
