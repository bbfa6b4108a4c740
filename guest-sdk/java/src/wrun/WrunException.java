package wrun;

import java.util.Collections;
import java.util.List;

/**
 * A failure the runtime reported: what failed, where, and why (the WIT
 * {@code error} record).
 *
 * <p>{@link #kind()} says why ({@link ErrorKind#ACTOR_DIED}, ...),
 * {@link #task()} which task or actor method failed ({@code "fib"},
 * {@code "Counter.incr"}, {@code "cpp/shard_stats"}), {@link #language()} the
 * language of the guest that raised it ({@code "java"}, {@code "python"},
 * {@code "rust"}, {@code "cpp"}; empty when the runtime raised it) and
 * {@link #detail()} how; {@link #getMessage()} reads
 * {@code "<kind> in <task> (<language>): <detail>"}, as every SDK prints
 * errors. A few kinds have their own subclass so that {@code catch} clauses
 * read naturally; all of them are WrunExceptions.
 *
 * <p>Thrown out of a task, a WrunException passes through unchanged, so a
 * driver sees the kind and origin of the failure that started the chain.
 */
public class WrunException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The language this SDK reports for the errors it raises. */
    public static final String JAVA = "java";

    private final ErrorKind kind;
    private final String task;
    private final String language;
    private final String detail;
    private List<String> types = Collections.emptyList();
    private byte[] nativeEncoding = new byte[0];

    /** An error raised by this (Java) guest. */
    public WrunException(ErrorKind kind, String task, String detail) {
        this(kind, task, detail, JAVA);
    }

    public WrunException(ErrorKind kind, String task, String detail, String language) {
        super(format(kind, task, detail, language));
        this.kind = kind;
        this.task = task == null ? "" : task;
        this.language = language == null ? "" : language;
        this.detail = detail == null ? "" : detail;
    }

    private static String format(ErrorKind kind, String task, String detail, String language) {
        String where = task == null || task.isEmpty() ? "" : " in " + task;
        String lang = language == null || language.isEmpty() ? "" : " (" + language + ")";
        return kind + where + lang + ": " + detail;
    }

    /** An error raised by this (Java) guest, of the subclass that matches {@code kind}. */
    public static WrunException of(ErrorKind kind, String task, String detail) {
        return of(kind, task, detail, JAVA);
    }

    /** The exception of the subclass that matches {@code kind}. */
    public static WrunException of(ErrorKind kind, String task, String detail, String language) {
        switch (kind) {
            case ACTOR_DIED: return new ActorDiedException(task, detail, language);
            case GET_TIMEOUT: return new GetTimeoutException(task, detail, language);
            case TIMEOUT: return new TaskTimeoutException(task, detail, language);
            case OBJECT_LOST: return new ObjectLostException(task, detail, language);
            case NOT_FOUND: return new NotFoundException(task, detail, language);
            case INFEASIBLE: return new InfeasibleException(task, detail, language);
            case PLACEMENT_GROUP_REMOVED: return new PlacementGroupRemovedException(task, detail, language);
            case TASK_CANCELLED: return new TaskCancelledException(task, detail, language);
            default: return new WrunException(kind, task, detail, language);
        }
    }

    public ErrorKind kind() {
        return kind;
    }

    /** The task or actor method that failed, e.g. {@code "fib"} or {@code "Counter.incr"}. */
    public String task() {
        return task;
    }

    /** The language of the guest that raised the error; empty when the runtime raised it. */
    public String language() {
        return language;
    }

    /**
     * The names of the error's type and of those it derives from, most specific first (a Java exception's
     * class and superclasses; a Python exception's {@code module.QualName} and bases): what
     * {@link TaskOptions#retryExceptions(Class[])} matches.
     */
    public List<String> types() {
        return types;
    }

    /**
     * The error in the raising guest's own language (a Python exception's pickle); empty for errors raised
     * in Java. Kept when this exception is thrown on, so a Python caller still catches its own class.
     */
    public byte[] nativeEncoding() {
        return nativeEncoding.clone();
    }

    /** This error, carrying {@code bytes} as its {@link #nativeEncoding()}. */
    public WrunException withNativeEncoding(byte[] bytes) {
        this.nativeEncoding = bytes.clone();
        return this;
    }

    /** This error, naming {@code types} ({@link #types()}). */
    public WrunException withTypes(List<String> types) {
        this.types = Collections.unmodifiableList(new java.util.ArrayList<>(types));
        return this;
    }

    /** The description (for an application error: the exception and its stack trace). */
    public String detail() {
        return detail;
    }

    /** The actor is dead: killed, or its constructor failed. */
    public static final class ActorDiedException extends WrunException {
        private static final long serialVersionUID = 1L;

        public ActorDiedException(String task, String detail, String language) {
            super(ErrorKind.ACTOR_DIED, task, detail, language);
        }
    }

    /** A get or wait ran past its timeout. */
    public static final class GetTimeoutException extends WrunException {
        private static final long serialVersionUID = 1L;

        public GetTimeoutException(String task, String detail, String language) {
            super(ErrorKind.GET_TIMEOUT, task, detail, language);
        }
    }

    /** A task ran past its timeout or CPU-time limit. */
    public static final class TaskTimeoutException extends WrunException {
        private static final long serialVersionUID = 1L;

        public TaskTimeoutException(String task, String detail, String language) {
            super(ErrorKind.TIMEOUT, task, detail, language);
        }
    }

    /** The object was freed or otherwise lost. */
    public static final class ObjectLostException extends WrunException {
        private static final long serialVersionUID = 1L;

        public ObjectLostException(String task, String detail, String language) {
            super(ErrorKind.OBJECT_LOST, task, detail, language);
        }
    }

    /** No such function, class, method or actor. */
    public static final class NotFoundException extends WrunException {
        private static final long serialVersionUID = 1L;

        public NotFoundException(String task, String detail, String language) {
            super(ErrorKind.NOT_FOUND, task, detail, language);
        }
    }

    /** No node of the cluster can ever give what the call asks for: change the request or add a node that has it. */
    public static final class InfeasibleException extends WrunException {
        private static final long serialVersionUID = 1L;

        public InfeasibleException(String task, String detail, String language) {
            super(ErrorKind.INFEASIBLE, task, detail, language);
        }
    }

    /** The placement group the call ran in, or waited for, was removed (Ray's TaskPlacementGroupRemoved). */
    public static final class PlacementGroupRemovedException extends WrunException {
        private static final long serialVersionUID = 1L;

        public PlacementGroupRemovedException(String task, String detail, String language) {
            super(ErrorKind.PLACEMENT_GROUP_REMOVED, task, detail, language);
        }
    }

    /** The call was cancelled, or an argument it waited for came from a cancelled call (Ray's TaskCancelledError). */
    public static final class TaskCancelledException extends WrunException {
        private static final long serialVersionUID = 1L;

        public TaskCancelledException(String task, String detail, String language) {
            super(ErrorKind.TASK_CANCELLED, task, detail, language);
        }
    }
}
