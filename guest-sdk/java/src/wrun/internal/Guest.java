package wrun.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.teavm.interop.Export;
import wrun.ErrorKind;
import wrun.Job;
import wrun.ObjectRef;
import wrun.WrunException;

/**
 * The exported {@code guest} interface of the {@code job} world, lifted and
 * lowered by hand (see {@link WasmHost}).
 *
 * <p>The host calls {@code main}, {@code run-task}, {@code construct} and
 * {@code call-method}; each dispatches by name to what the job registered
 * (see {@link Registry}) and turns every Java exception into a WIT
 * {@code error}, so no exception ever escapes into the host.
 */
public final class Guest {
    private Guest() {
    }

    private static final String IFACE = "wrun:runtime/guest@0.1.0";

    private static Supplier<Job> jobFactory;
    private static Job job;
    private static boolean jobFailed;
    /** The actor this instance hosts, and its class (set by {@code construct}). */
    private static Object actor;
    private static Registry.ClassDef actorClass;

    /**
     * Called by the entry class that runtimes/java/build.sh generates (in the
     * job's package), when the module starts.
     */
    public static void setJobFactory(Supplier<Job> factory) {
        jobFactory = factory;
    }

    /**
     * Constructs the job (once per instance), which initializes its class and
     * so registers its tasks and actor classes.
     */
    private static Job job(String task) {
        if (job == null) {
            if (jobFailed) {
                throw new WrunException(ErrorKind.INTERNAL, task, "the job class failed to initialize earlier");
            }
            try {
                if (jobFactory == null) {
                    throw new IllegalStateException("no job class: build with runtimes/java/build.sh");
                }
                job = jobFactory.get();
            } catch (Throwable t) {
                jobFailed = true;
                throw new WrunException(ErrorKind.APPLICATION, task,
                        "constructing the job class failed: " + describe(t));
            }
        }
        return job;
    }

    // --- errors -------------------------------------------------------------------

    /** {@code java.lang.IllegalStateException: message}, then the stack trace when TeaVM has one. */
    static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(t.toString());
        StackTraceElement[] st = t.getStackTrace();
        if (st != null && st.length > 0) {
            sb.append("\n\n");
            appendTrace(sb, t, 0);
        }
        return sb.toString();
    }

    private static void appendTrace(StringBuilder sb, Throwable t, int depth) {
        sb.append(t);
        StackTraceElement[] st = t.getStackTrace();
        if (st != null) {
            // From the frame that threw (not the exception's constructors) to
            // the user's outermost frame (not the SDK's dispatch).
            int from = 0;
            while (from < st.length && isConstruction(st[from])) {
                from++;
            }
            int to = st.length;
            while (to > from && isSdk(st[to - 1])) {
                to--;
            }
            for (int i = from; i < to; i++) {
                sb.append("\n\tat ").append(st[i]);
            }
        }
        Throwable cause = t.getCause();
        if (cause != null && cause != t && depth < 8) {
            sb.append("\nCaused by: ");
            appendTrace(sb, cause, depth + 1);
        }
    }

    private static boolean isConstruction(StackTraceElement e) {
        String m = e.getMethodName();
        return "fillInStackTrace".equals(m) || "<init>".equals(m) && isThrowableName(e.getClassName());
    }

    private static boolean isThrowableName(String c) {
        return c != null && (c.endsWith("Throwable") || c.endsWith("Exception") || c.endsWith("Error"));
    }

    private static boolean isSdk(StackTraceElement e) {
        String f = e.getFileName();
        return "Guest.java".equals(f) || "Wrun.java".equals(f) || "ActorClass.java".equals(f);
    }

    /**
     * An exception thrown by user code as the error to report: a WrunException
     * (a failure the host reported, re-thrown) passes through unchanged;
     * anything else becomes an application error of {@code task}.
     */
    static WrunException appError(String task, Throwable t) {
        if (t instanceof WrunException) {
            return (WrunException) t;
        }
        List<String> types = new ArrayList<>();
        for (Class<?> c = t.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            types.add(c.getName());
        }
        return new WrunException(ErrorKind.APPLICATION, task, describe(t)).withTypes(types);
    }

    /** Writes {@code result<_, error>::err} (payload at 4) and returns its address. */
    private static int lowerError(WrunException e) {
        int ret = Mem.alloc(WasmHost.RESULT_SIZE, 4);
        Mem.u8(ret, 1);
        WasmHost.storeError(ret + 4, e);
        return ret;
    }

    private static int fail(Throwable t, String task) {
        WrunException e = appError(task, t);
        try {
            return lowerError(e);
        } catch (Throwable t2) {
            return lowerError(new WrunException(ErrorKind.INTERNAL, task, "the error could not be reported"));
        }
    }

    // --- arguments and results ----------------------------------------------------

    /** The raw {@code list<value>} of an export, copied out of the arena. */
    private static final class RawValues {
        final byte[][] data;
        final List<List<ObjectRef<Object>>> refs;

        RawValues(int p, int n) {
            data = new byte[n][];
            refs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int v = p + 16 * i;
                data[i] = Mem.readBytes(Mem.i32(v), Mem.i32(v + 4));
                refs.add(WasmHost.liftRefs(Mem.i32(v + 8), Mem.i32(v + 12)));
            }
        }

        Object[] decode(String task) {
            Object[] out = new Object[data.length];
            for (int i = 0; i < data.length; i++) {
                try {
                    out[i] = wrun.Codec.unpack(data[i], refs.get(i));
                } catch (RuntimeException e) {
                    throw new WrunException(ErrorKind.INVALID_ARGUMENT, task,
                            "argument " + i + " of " + task + ": " + e.getMessage());
                }
            }
            return out;
        }
    }

    private static void checkArity(String task, int want, Object[] args) {
        if (args.length != want) {
            throw new WrunException(ErrorKind.INVALID_ARGUMENT, task,
                    task + " takes " + want + " argument" + (want == 1 ? "" : "s") + ", got " + args.length);
        }
    }

    /** The encoded return values of a call that returned {@code result}. */
    private static WasmHost.Encoded[] encodeReturns(String task, Object result, int numReturns) {
        Object[] values;
        if (numReturns == 1) {
            values = new Object[] {result};
        } else if (numReturns == 0) {
            values = new Object[0];
        } else if (result instanceof List && ((List<?>) result).size() == numReturns) {
            values = ((List<?>) result).toArray();
        } else if (result instanceof Object[] && ((Object[]) result).length == numReturns) {
            values = (Object[]) result;
        } else {
            throw new WrunException(ErrorKind.INVALID_ARGUMENT, task,
                    "return value of " + task + ": expected a List of " + numReturns + " values");
        }
        WasmHost.Encoded[] out = new WasmHost.Encoded[values.length];
        for (int i = 0; i < values.length; i++) {
            try {
                out[i] = WasmHost.encode(values[i]);
            } catch (RuntimeException e) {
                throw new WrunException(ErrorKind.INVALID_ARGUMENT, task,
                        "return value of " + task + ": " + e.getMessage());
            }
        }
        return out;
    }

    /** Writes {@code result<list<value>, error>::ok} and returns its address. */
    private static int lowerValues(WasmHost.Encoded[] values) {
        int n = values.length;
        int list = Mem.alloc(16 * n, 4);
        for (int i = 0; i < n; i++) {
            WasmHost.storeValue(list + 16 * i, values[i]);
        }
        int ret = Mem.alloc(WasmHost.RESULT_SIZE, 4);
        Mem.u8(ret, 0);
        Mem.i32(ret + 4, list);
        Mem.i32(ret + 8, n);
        return ret;
    }

    // --- the exports ----------------------------------------------------------------

    @Export(name = IFACE + "#main")
    public static int exportMain(int argsPtr, int argsLen) {
        try {
            List<String> args = new ArrayList<>(argsLen);
            for (int i = 0; i < argsLen; i++) {
                args.add(Mem.readString(Mem.i32(argsPtr + 8 * i), Mem.i32(argsPtr + 8 * i + 4)));
            }
            Mem.resetAll();
            Object result;
            try {
                result = job("main").main(args);
            } catch (Throwable t) {
                return fail(t, "main");
            }
            WasmHost.Encoded v = encodeReturns("main", result, 1)[0];
            int ret = Mem.alloc(WasmHost.RESULT_SIZE, 4);
            Mem.u8(ret, 0);
            WasmHost.storeValue(ret + 4, v);
            return ret;
        } catch (Throwable t) {
            return fail(t, "main");
        }
    }

    @Export(name = "cabi_post_" + IFACE + "#main")
    public static void postMain(int ret) {
        Mem.resetAll();
    }

    @Export(name = IFACE + "#run-task")
    public static int exportRunTask(int fnPtr, int fnLen, int argsPtr, int argsLen) {
        String fn = "?";
        try {
            fn = Mem.readString(fnPtr, fnLen);
            TaskScope.begin();
            RawValues raw = new RawValues(argsPtr, argsLen);
            Mem.resetAll();
            job(fn);
            Registry.TaskDef def = Registry.task(fn);
            if (def == null) {
                throw new WrunException(ErrorKind.NOT_FOUND, fn, "no such task in this component");
            }
            Object[] args = raw.decode(fn);
            checkArity(fn, def.arity, args);
            Types.checkArgs(fn, Types.task(fn), args);
            Object result;
            try {
                result = def.invoker.invoke(args);
            } catch (Throwable t) {
                return fail(t, fn);
            }
            return lowerValues(encodeReturns(fn, result, def.numReturns));
        } catch (Throwable t) {
            return fail(t, fn);
        } finally {
            // After the results are lowered (their references cloned).
            TaskScope.end();
        }
    }

    @Export(name = "cabi_post_" + IFACE + "#run-task")
    public static void postRunTask(int ret) {
        Mem.resetAll();
    }

    @Export(name = IFACE + "#construct")
    public static int exportConstruct(int clsPtr, int clsLen, int argsPtr, int argsLen) {
        String cls = "?";
        try {
            cls = Mem.readString(clsPtr, clsLen);
            RawValues raw = new RawValues(argsPtr, argsLen);
            Mem.resetAll();
            job(cls);
            Registry.ClassDef def = Registry.actorClass(cls);
            if (def == null) {
                throw new WrunException(ErrorKind.NOT_FOUND, cls, "no such actor class in this component");
            }
            Object[] args = raw.decode(cls);
            checkArity(cls, def.arity, args);
            Types.checkArgs(cls, Types.ctor(cls), args);
            Object state;
            try {
                state = def.constructor.invoke(args);
            } catch (Throwable t) {
                return fail(t, cls);
            }
            actor = state;
            actorClass = def;
            int ret = Mem.alloc(WasmHost.RESULT_SIZE, 4);
            Mem.u8(ret, 0);
            return ret;
        } catch (Throwable t) {
            return fail(t, cls);
        }
    }

    @Export(name = "cabi_post_" + IFACE + "#construct")
    public static void postConstruct(int ret) {
        Mem.resetAll();
    }

    @Export(name = IFACE + "#call-method")
    public static int exportCallMethod(int mPtr, int mLen, int argsPtr, int argsLen) {
        String task = "?";
        try {
            String method = Mem.readString(mPtr, mLen);
            task = method;
            RawValues raw = new RawValues(argsPtr, argsLen);
            Mem.resetAll();
            if (actorClass == null) {
                throw new WrunException(ErrorKind.INTERNAL, method, "no actor constructed in this instance");
            }
            String prefix = actorClass.name + ".";
            String name = method.startsWith(prefix) ? method.substring(prefix.length()) : method;
            task = actorClass.name + "." + name;
            Registry.MethodDef def = actorClass.method(name);
            if (def == null) {
                throw new WrunException(ErrorKind.NOT_FOUND, task, "no such method on this actor");
            }
            Object[] args = raw.decode(task);
            checkArity(task, def.arity, args);
            Types.checkArgs(task, Types.method(actorClass.name, name), args);
            Object result;
            try {
                result = def.invoker.invoke(actor, args);
            } catch (Throwable t) {
                return fail(t, task);
            }
            return lowerValues(encodeReturns(task, result, def.numReturns));
        } catch (Throwable t) {
            return fail(t, task);
        }
    }

    @Export(name = "cabi_post_" + IFACE + "#call-method")
    public static void postCallMethod(int ret) {
        Mem.resetAll();
    }
}
