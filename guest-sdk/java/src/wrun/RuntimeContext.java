package wrun;

import java.util.Optional;
import wrun.internal.Host;

/** Who and where the caller is (Ray: {@code RuntimeContext}). */
public final class RuntimeContext {
    static final RuntimeContext INSTANCE = new RuntimeContext();

    private RuntimeContext() {
    }

    public Id jobId() {
        return Host.get().context(Host.JOB_ID);
    }

    /** The running task, actor call or driver. */
    public Id taskId() {
        return Host.get().context(Host.TASK_ID);
    }

    public Id nodeId() {
        return Host.get().context(Host.NODE_ID);
    }

    /** The running actor, if this instance is one. */
    public Optional<Id> actorId() {
        return Optional.ofNullable(Host.get().context(Host.ACTOR_ID));
    }
}
