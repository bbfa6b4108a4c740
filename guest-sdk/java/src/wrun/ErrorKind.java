package wrun;

/** Why a call failed: the WIT {@code error-kind}, in the WIT's order. */
public enum ErrorKind {
    /** The guest returned an error (a Java exception, a Rust {@code Err}). */
    APPLICATION("application"),
    /** The guest trapped (unreachable, stack overflow, out of memory, ...). */
    TRAP("trap"),
    /** The task ran past its timeout or CPU-time limit. */
    TIMEOUT("timeout"),
    /** The guest hit its memory limit. */
    MEMORY_LIMIT("memory-limit"),
    /** The actor is dead (killed, or its constructor failed). */
    ACTOR_DIED("actor-died"),
    /** A named function, class, method or actor does not exist. */
    NOT_FOUND("not-found"),
    /** An argument or option was invalid. */
    INVALID_ARGUMENT("invalid-argument"),
    /** A wait or get ran past its timeout. */
    GET_TIMEOUT("get-timeout"),
    /** The object was freed or otherwise lost. */
    OBJECT_LOST("object-lost"),
    /** The runtime failed for a reason unrelated to the guest. */
    INTERNAL("internal"),
    /** No node of the cluster can ever give what the call asks for. */
    INFEASIBLE("infeasible"),
    /** The placement group the call ran in, or waited for, was removed; the call is not retried. */
    PLACEMENT_GROUP_REMOVED("placement-group-removed"),
    /** The call was cancelled ({@code Wrun.cancel}), or an argument it waited for came from a cancelled call. */
    TASK_CANCELLED("task-cancelled");

    private final String witName;

    ErrorKind(String witName) {
        this.witName = witName;
    }

    /** The WIT name, e.g. {@code "actor-died"}. */
    public String witName() {
        return witName;
    }

    @Override
    public String toString() {
        return witName;
    }
}
