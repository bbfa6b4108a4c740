package wrun;

/**
 * A failure the runtime reported: what failed, where, and why (the WIT
 * {@code error} record).
 *
 * <p>{@link #kind()} says why ({@link ErrorKind#ACTOR_DIED}, ...),
 * {@link #task()} which task or actor method failed ({@code "fib"},
 * {@code "Counter.incr"}) and {@link #detail()} how; {@link #getMessage()}
 * reads {@code "<kind> in <task>: <detail>"}, as the Rust SDK's
 * {@code wrun::Error} prints. A few kinds have their own subclass so that
 * {@code catch} clauses read naturally; all of them are WrunExceptions.
 *
 * <p>Thrown out of a task, a WrunException passes through unchanged, so a
 * driver sees the kind and origin of the failure that started the chain.
 */
public class WrunException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorKind kind;
    private final String task;
    private final String detail;

    public WrunException(ErrorKind kind, String task, String detail) {
        super(format(kind, task, detail));
        this.kind = kind;
        this.task = task == null ? "" : task;
        this.detail = detail == null ? "" : detail;
    }

    private static String format(ErrorKind kind, String task, String detail) {
        return task == null || task.isEmpty() ? kind + ": " + detail : kind + " in " + task + ": " + detail;
    }

    /** The exception of the subclass that matches {@code kind}. */
    public static WrunException of(ErrorKind kind, String task, String detail) {
        switch (kind) {
            case ACTOR_DIED: return new ActorDiedException(task, detail);
            case GET_TIMEOUT: return new GetTimeoutException(task, detail);
            case TIMEOUT: return new TaskTimeoutException(task, detail);
            case OBJECT_LOST: return new ObjectLostException(task, detail);
            case NOT_FOUND: return new NotFoundException(task, detail);
            default: return new WrunException(kind, task, detail);
        }
    }

    public ErrorKind kind() {
        return kind;
    }

    /** The task or actor method that failed, e.g. {@code "fib"} or {@code "Counter.incr"}. */
    public String task() {
        return task;
    }

    /** The description (for an application error: the exception and its stack trace). */
    public String detail() {
        return detail;
    }

    /** The actor is dead: killed, or its constructor failed. */
    public static final class ActorDiedException extends WrunException {
        private static final long serialVersionUID = 1L;

        public ActorDiedException(String task, String detail) {
            super(ErrorKind.ACTOR_DIED, task, detail);
        }
    }

    /** A get or wait ran past its timeout. */
    public static final class GetTimeoutException extends WrunException {
        private static final long serialVersionUID = 1L;

        public GetTimeoutException(String task, String detail) {
            super(ErrorKind.GET_TIMEOUT, task, detail);
        }
    }

    /** A task ran past its timeout or CPU-time limit. */
    public static final class TaskTimeoutException extends WrunException {
        private static final long serialVersionUID = 1L;

        public TaskTimeoutException(String task, String detail) {
            super(ErrorKind.TIMEOUT, task, detail);
        }
    }

    /** The object was freed or otherwise lost. */
    public static final class ObjectLostException extends WrunException {
        private static final long serialVersionUID = 1L;

        public ObjectLostException(String task, String detail) {
            super(ErrorKind.OBJECT_LOST, task, detail);
        }
    }

    /** No such function, class, method or actor. */
    public static final class NotFoundException extends WrunException {
        private static final long serialVersionUID = 1L;

        public NotFoundException(String task, String detail) {
            super(ErrorKind.NOT_FOUND, task, detail);
        }
    }
}
