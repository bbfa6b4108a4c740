package wrun.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import org.teavm.interop.Import;
import wrun.ActorOptions;
import wrun.Codec;
import wrun.ErrorKind;
import wrun.Id;
import wrun.ObjectRef;
import wrun.TaskOptions;
import wrun.WrunException;

/**
 * The imports of the {@code job} world (wit/wrun.wit), lowered by hand
 * through the canonical ABI: TeaVM-WASI has no binding generator that handles
 * resources, and the world is small and fixed. {@code wasm-tools component
 * new} checks every signature here against the WIT when the component is
 * built.
 *
 * <p>Each call lowers its parameters into the {@link Mem} arena, lets the host
 * write its results there (through {@code cabi_import_realloc}), copies them
 * into Java objects and resets the arena.
 */
final class WasmHost extends Host {
    private static final String TYPES = "wrun:runtime/types@0.1.0";
    private static final String OBJECTS = "wrun:runtime/objects@0.1.0";
    private static final String TASKS = "wrun:runtime/tasks@0.1.0";
    private static final String ACTORS = "wrun:runtime/actors@0.1.0";
    private static final String LOGGING = "wrun:runtime/logging@0.1.0";
    private static final String CONTEXT = "wrun:runtime/context@0.1.0";

    @Import(module = TYPES, name = "[method]object-ref.id")
    private static native void refId0(int self, int ret);

    @Import(module = TYPES, name = "[method]object-ref.owner")
    private static native void refOwner0(int self, int ret);

    @Import(module = TYPES, name = "[method]object-ref.clone")
    private static native int refClone0(int self);

    @Import(module = TYPES, name = "[resource-drop]object-ref")
    private static native void refDrop0(int self);

    @Import(module = OBJECTS, name = "put")
    private static native void put0(int dataPtr, int dataLen, int refsPtr, int refsLen, int ret);

    @Import(module = OBJECTS, name = "get")
    private static native void get0(int refsPtr, int refsLen, int hasTimeout, long timeoutMs, int ret);

    @Import(module = OBJECTS, name = "wait")
    private static native void wait0(int refsPtr, int refsLen, int numReady, int hasTimeout, long timeoutMs,
            int fetchLocal, int ret);

    /** Nineteen flat parameters: passed in memory. */
    @Import(module = TASKS, name = "submit")
    private static native void submit0(int params, int ret);

    /** Twenty-five flat parameters: passed in memory. */
    @Import(module = TASKS, name = "submit-streaming")
    private static native void submitStreaming0(int params, int ret);

    @Import(module = TASKS, name = "yield-item")
    private static native void yieldItem0(int dataPtr, int dataLen, int refsPtr, int refsLen, int ret);

    @Import(module = TASKS, name = "stream-next")
    private static native void streamNext0(int stream, int index, int hasTimeout, long timeoutMs, int ret);

    @Import(module = ACTORS, name = "call-streaming")
    private static native void callStreaming0(long hi, long lo, int methodPtr, int methodLen, int argsPtr,
            int argsLen, int ret);

    /** Twenty flat parameters: passed in memory. */
    @Import(module = ACTORS, name = "create")
    private static native void create0(int params, int ret);

    @Import(module = ACTORS, name = "call")
    private static native void call0(long hi, long lo, int methodPtr, int methodLen, int argsPtr, int argsLen,
            int numReturns, int ret);

    @Import(module = ACTORS, name = "lookup")
    private static native void lookup0(int namePtr, int nameLen, int hasNamespace, int nsPtr, int nsLen, int ret);

    @Import(module = ACTORS, name = "kill")
    private static native void kill0(long hi, long lo, int ret);

    @Import(module = ACTORS, name = "restart")
    private static native void restart0(long hi, long lo, int ret);

    @Import(module = ACTORS, name = "exit-actor")
    private static native void exitActor0(int ret);

    @Import(module = TASKS, name = "cancel")
    private static native void cancel0(int handle, int force, int recursive, int ret);

    @Import(module = LOGGING, name = "log")
    private static native void log0(int level, int ptr, int len);

    @Import(module = CONTEXT, name = "job-id")
    private static native void jobId0(int ret);

    @Import(module = CONTEXT, name = "task-id")
    private static native void taskId0(int ret);

    @Import(module = CONTEXT, name = "node-id")
    private static native void nodeId0(int ret);

    @Import(module = CONTEXT, name = "actor-id")
    private static native void actorId0(int ret);

    /** WASI preview 1's poll_oneoff, for {@link #sleep} (TeaVM-WASI's Thread.sleep needs a JavaScript host). */
    @Import(module = "wasi_snapshot_preview1", name = "poll_oneoff")
    private static native int pollOneoff(int in, int out, int n, int nevents);

    // --- lifting and lowering ---------------------------------------------------

    /**
     * The size of {@code result<T, error>} where T has at most the error's
     * size and alignment 4: discriminant, then the payload at 4.
     */
    static final int RESULT_SIZE = 4 + 44;

    /**
     * The WIT {@code error} record at {@code p} as an exception: kind (u8) at
     * 0, then the strings task, language and message at 4, 12 and 20, at 28
     * the list {@code native} (another language's encoding, kept to be passed
     * on) and at 36 the list of strings {@code types}.
     */
    static WrunException liftError(int p) {
        int kind = Mem.u8(p);
        String task = Mem.readString(Mem.i32(p + 4), Mem.i32(p + 8));
        String language = Mem.readString(Mem.i32(p + 12), Mem.i32(p + 16));
        String message = Mem.readString(Mem.i32(p + 20), Mem.i32(p + 24));
        ErrorKind[] kinds = ErrorKind.values();
        ErrorKind k = kind < kinds.length ? kinds[kind] : ErrorKind.INTERNAL;
        int tp = Mem.i32(p + 36);
        int tn = Mem.i32(p + 40);
        List<String> types = new ArrayList<>(tn);
        for (int i = 0; i < tn; i++) {
            types.add(Mem.readString(Mem.i32(tp + 8 * i), Mem.i32(tp + 8 * i + 4)));
        }
        byte[] nativeEncoding = Mem.readBytes(Mem.i32(p + 28), Mem.i32(p + 32));
        return WrunException.of(k, task, message, language).withTypes(types).withNativeEncoding(nativeEncoding);
    }

    /**
     * Stores {@code e} as a WIT {@code error} record at {@code p} (44 bytes): its {@code native} encoding
     * at 28 (another language's, e.g. a Python pickle, passed on; empty for Java's own errors) and its
     * {@code types} at 36.
     */
    static void storeError(int p, WrunException e) {
        Mem.u8(p, e.kind().ordinal());
        Mem.storeStr(p + 4, e.task());
        Mem.storeStr(p + 12, e.language());
        Mem.storeStr(p + 20, e.detail());
        byte[] nativeEncoding = e.nativeEncoding();
        Mem.i32(p + 28, Mem.bytes(nativeEncoding, 0, nativeEncoding.length));
        Mem.i32(p + 32, nativeEncoding.length);
        storeStrings(p + 36, e.types());
    }

    /** Lowers {@code list<string>} at {@code at}. */
    static void storeStrings(int at, List<String> strings) {
        int n = strings.size();
        int lp = Mem.alloc(8 * n, 4);
        for (int i = 0; i < n; i++) {
            Mem.storeStr(lp + 8 * i, strings.get(i));
        }
        Mem.i32(at, lp);
        Mem.i32(at + 4, n);
    }

    static Id liftId(int p) {
        return new Id(Mem.i64(p), Mem.i64(p + 8));
    }

    /** An encoded value: its bytes and the ObjectRefs its ext-1 indices name. */
    static final class Encoded {
        final byte[] data;
        final List<ObjectRef<?>> refs;

        Encoded(byte[] data, List<ObjectRef<?>> refs) {
            this.data = data;
            this.refs = refs;
        }
    }

    static Encoded encode(Object v) {
        List<ObjectRef<?>> refs = new ArrayList<>();
        byte[] data = Codec.pack(v, refs);
        return new Encoded(data, refs);
    }

    /**
     * Stores a WIT {@code value} record at {@code at}. Each reference gets a
     * fresh handle (a clone): the value's handles go to the host, and the
     * caller's ObjectRefs stay valid.
     */
    static void storeValue(int at, Encoded e) {
        int dp = Mem.bytes(e.data, 0, e.data.length);
        int n = e.refs.size();
        int rp = Mem.alloc(4 * n, 4);
        for (int i = 0; i < n; i++) {
            Mem.i32(rp + 4 * i, refClone0(e.refs.get(i).handle()));
        }
        Mem.i32(at, dp);
        Mem.i32(at + 4, e.data.length);
        Mem.i32(at + 8, rp);
        Mem.i32(at + 12, n);
    }

    /** Reads the WIT {@code value} at {@code p} and decodes it; takes ownership of its handles. */
    static Object liftValue(int p) {
        byte[] data = Mem.readBytes(Mem.i32(p), Mem.i32(p + 4));
        List<ObjectRef<Object>> refs = liftRefs(Mem.i32(p + 8), Mem.i32(p + 12));
        return Codec.unpack(data, refs);
    }

    static List<ObjectRef<Object>> liftRefs(int p, int n) {
        List<ObjectRef<Object>> refs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            refs.add(new ObjectRef<>(Mem.i32(p + 4 * i)));
        }
        return refs;
    }

    /** Lowers {@code list<arg>}: a top-level ObjectRef goes by reference, anything else inline. */
    private static int storeArgs(Object[] args) {
        int n = args.length;
        Encoded[] enc = new Encoded[n];
        for (int i = 0; i < n; i++) {
            if (!(args[i] instanceof ObjectRef)) {
                try {
                    enc[i] = encode(args[i]);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("argument " + i + ": " + e.getMessage(), e);
                }
            }
        }
        int p = Mem.alloc(20 * n, 4);
        for (int i = 0; i < n; i++) {
            int at = p + 20 * i;
            if (enc[i] == null) {
                Mem.u8(at, 1);
                Mem.i32(at + 4, refClone0(((ObjectRef<?>) args[i]).handle()));
            } else {
                Mem.u8(at, 0);
                storeValue(at + 4, enc[i]);
            }
        }
        Mem.lastLen = n;
        return p;
    }

    /** Lowers {@code list<tuple<string, f64>>}. */
    private static void storeCustom(int at, Map<String, Double> custom) {
        int n = custom.size();
        int p = Mem.alloc(16 * n, 8);
        int i = 0;
        for (Map.Entry<String, Double> e : custom.entrySet()) {
            Mem.storeStr(p + 16 * i, e.getKey());
            Mem.f64(p + 16 * i + 8, e.getValue());
            i++;
        }
        Mem.i32(at, p);
        Mem.i32(at + 4, n);
    }

    /** Lowers {@code option<string>}: discriminant at {@code at}, the string at {@code at + 4}. */
    private static void storeOptStr(int at, String s) {
        if (s == null) {
            Mem.u8(at, 0);
        } else {
            Mem.u8(at, 1);
            Mem.storeStr(at + 4, s);
        }
    }

    /** Lowers {@code option<f64>}: discriminant at {@code at}, the value at {@code at + 8}. */
    private static void storeOptF64(int at, Double d) {
        if (d == null) {
            Mem.u8(at, 0);
        } else {
            Mem.u8(at, 1);
            Mem.f64(at + 8, d);
        }
    }

    /** Lowers a list of borrowed handles. */
    private static int storeBorrows(List<? extends ObjectRef<?>> refs) {
        int n = refs.size();
        int p = Mem.alloc(4 * n, 4);
        for (int i = 0; i < n; i++) {
            Mem.i32(p + 4 * i, refs.get(i).handle());
        }
        return p;
    }

    /** Reads {@code result<object-ref, error>} at {@code ret}. */
    private static ObjectRef<Object> liftRefResult(int ret) {
        if (Mem.u8(ret) != 0) {
            throw liftError(ret + 4);
        }
        return new ObjectRef<>(Mem.i32(ret + 4));
    }

    /** Reads {@code result<list<object-ref>, error>} at {@code ret}. */
    private static List<ObjectRef<Object>> liftRefsResult(int ret) {
        if (Mem.u8(ret) != 0) {
            throw liftError(ret + 4);
        }
        return liftRefs(Mem.i32(ret + 4), Mem.i32(ret + 8));
    }

    // --- the calls ----------------------------------------------------------------

    @Override
    public int cloneRef(int handle) {
        return refClone0(handle);
    }

    @Override
    public void dropRef(int handle) {
        refDrop0(handle);
    }

    @Override
    public Id refId(int handle) {
        long m = Mem.mark();
        try {
            int ret = Mem.alloc(16, 8);
            refId0(handle, ret);
            return liftId(ret);
        } finally {
            Mem.reset(m);
        }
    }

    @Override
    public Id refOwner(int handle) {
        long m = Mem.mark();
        try {
            int ret = Mem.alloc(16, 8);
            refOwner0(handle, ret);
            return liftId(ret);
        } finally {
            Mem.reset(m);
        }
    }

    @Override
    public ObjectRef<Object> put(Object value) {
        Encoded e = encode(value);
        long m = Mem.mark();
        try {
            int v = Mem.alloc(16, 4);
            storeValue(v, e);
            int ret = Mem.alloc(RESULT_SIZE, 4);
            put0(Mem.i32(v), Mem.i32(v + 4), Mem.i32(v + 8), Mem.i32(v + 12), ret);
            return liftRefResult(ret);
        } finally {
            Mem.reset(m);
        }
    }

    @Override
    public List<Object> get(List<? extends ObjectRef<?>> refs, long timeoutMs) {
        long m = Mem.mark();
        try {
            int rp = storeBorrows(refs);
            int ret = Mem.alloc(RESULT_SIZE, 4);
            get0(rp, refs.size(), timeoutMs < 0 ? 0 : 1, Math.max(timeoutMs, 0), ret);
            if (Mem.u8(ret) != 0) {
                throw liftError(ret + 4);
            }
            int p = Mem.i32(ret + 4);
            int n = Mem.i32(ret + 8);
            List<Object> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(liftValue(p + 16 * i));
            }
            return out;
        } finally {
            Mem.reset(m);
        }
    }

    @Override
    public boolean[] wait(List<? extends ObjectRef<?>> refs, int numReady, long timeoutMs, boolean fetchLocal) {
        long m = Mem.mark();
        try {
            int rp = storeBorrows(refs);
            int ret = Mem.alloc(8, 4);
            wait0(rp, refs.size(), numReady, timeoutMs < 0 ? 0 : 1, Math.max(timeoutMs, 0), fetchLocal ? 1 : 0,
                    ret);
            int p = Mem.i32(ret);
            int n = Mem.i32(ret + 4);
            boolean[] out = new boolean[n];
            for (int i = 0; i < n; i++) {
                out[i] = Mem.u8(p + i) != 0;
            }
            return out;
        } finally {
            Mem.reset(m);
        }
    }

    @Override
    public List<ObjectRef<Object>> submit(String function, Object[] args, TaskOptions o) {
        long m = Mem.mark();
        try {
            // tuple<string, list<arg>, task-options>: 120 bytes, align 8
            int p = Mem.alloc(120, 8);
            storeSubmit(p, function, args, o);
            int ret = Mem.alloc(RESULT_SIZE, 4);
            submit0(p, ret);
            return liftRefsResult(ret);
        } finally {
            Mem.reset(m);
        }
    }

    @Override
    public ObjectRef<Object> submitStreaming(String function, Object[] args, TaskOptions o) {
        long m = Mem.mark();
        try {
            // tuple<string, list<arg>, task-options, scheduling>: 152 bytes, align 8; the scheduling
            // variant at 120 is `default` (discriminant 0), its payload unread.
            int p = Mem.alloc(152, 8);
            storeSubmit(p, function, args, o);
            Mem.u8(p + 120, 0);
            int ret = Mem.alloc(RESULT_SIZE, 4);
            submitStreaming0(p, ret);
            return liftRefResult(ret);
        } finally {
            Mem.reset(m);
        }
    }

    @Override
    public ObjectRef<Object> callStreaming(Id actor, String method, Object[] args) {
        long m = Mem.mark();
        try {
            int ap = storeArgs(args);
            int mp = Mem.str(method);
            int ml = Mem.lastLen;
            int ret = Mem.alloc(RESULT_SIZE, 4);
            callStreaming0(actor.hi(), actor.lo(), mp, ml, ap, args.length, ret);
            return liftRefResult(ret);
        } finally {
            Mem.reset(m);
        }
    }

    @Override
    public void yieldItem(Object item) {
        Encoded e = encode(item);
        unitResult(ret -> {
            int v = Mem.alloc(16, 4);
            storeValue(v, e);
            yieldItem0(Mem.i32(v), Mem.i32(v + 4), Mem.i32(v + 8), Mem.i32(v + 12), ret);
        });
    }

    @Override
    public ObjectRef<Object> streamNext(int stream, int index, long timeoutMs) {
        long m = Mem.mark();
        try {
            // result<option<object-ref>, error>: the option's discriminant at 4, its handle at 8
            int ret = Mem.alloc(RESULT_SIZE, 4);
            streamNext0(stream, index, timeoutMs < 0 ? 0 : 1, Math.max(timeoutMs, 0), ret);
            if (Mem.u8(ret) != 0) {
                throw liftError(ret + 4);
            }
            return Mem.u8(ret + 4) == 0 ? null : new ObjectRef<>(Mem.i32(ret + 8));
        } finally {
            Mem.reset(m);
        }
    }

    /** Lowers the string, arguments and task-options of a submit at {@code p} (104 bytes of options at 16). */
    private static void storeSubmit(int p, String function, Object[] args, TaskOptions o) {
        int ap = storeArgs(args);
        Mem.storeStr(p, function);
        Mem.i32(p + 8, ap);
        Mem.i32(p + 12, args.length);
        int t = p + 16; // task-options
        Mem.i32(t, o.numReturns());
        storeOptF64(t + 8, o.cpus());
        Mem.i64(t + 24, o.memory());
        storeCustom(t + 32, o.resources());
        Mem.i32(t + 40, o.maxRetries());
        Mem.u8(t + 44, o.retryExceptions() ? 1 : 0);
        if (o.timeoutMs() < 0) {
            Mem.u8(t + 48, 0);
        } else {
            Mem.u8(t + 48, 1);
            Mem.i64(t + 56, o.timeoutMs());
        }
        storeOptStr(t + 64, o.environment());
        Mem.i32(t + 76, o.maxCalls());
        storeStrings(t + 80, o.retryExceptionTypes());
        storeOptStr(t + 88, o.runtimeEnv());
    }

    @Override
    public Id create(String className, Object[] args, ActorOptions o) {
        long m = Mem.mark();
        try {
            // tuple<string, list<arg>, actor-options>: 104 bytes, align 8
            int p = Mem.alloc(104, 8);
            int ap = storeArgs(args);
            Mem.storeStr(p, className);
            Mem.i32(p + 8, ap);
            Mem.i32(p + 12, args.length);
            int a = p + 16; // actor-options
            storeOptF64(a, o.cpus());
            Mem.i64(a + 16, o.memory());
            storeCustom(a + 24, o.resources());
            storeOptStr(a + 32, o.name());
            storeOptStr(a + 44, o.namespace());
            Mem.i32(a + 56, o.maxRestarts());
            storeOptStr(a + 60, o.environment());
            Mem.u8(a + 72, o.getIfExists() ? 1 : 0);
            storeOptStr(a + 76, o.runtimeEnv());
            // result<id, error>: payload at 8, 56 bytes
            int ret = Mem.alloc(56, 8);
            create0(p, ret);
            if (Mem.u8(ret) != 0) {
                throw liftError(ret + 8);
            }
            return liftId(ret + 8);
        } finally {
            Mem.reset(m);
        }
    }

    @Override
    public List<ObjectRef<Object>> call(Id actor, String method, Object[] args, int numReturns) {
        long m = Mem.mark();
        try {
            int ap = storeArgs(args);
            int mp = Mem.str(method);
            int ml = Mem.lastLen;
            int ret = Mem.alloc(RESULT_SIZE, 4);
            call0(actor.hi(), actor.lo(), mp, ml, ap, args.length, numReturns, ret);
            return liftRefsResult(ret);
        } finally {
            Mem.reset(m);
        }
    }

    @Override
    public Id lookup(String name, String namespace) {
        long m = Mem.mark();
        try {
            int np = Mem.str(name);
            int nl = Mem.lastLen;
            int sp = 0;
            int sl = 0;
            if (namespace != null) {
                sp = Mem.str(namespace);
                sl = Mem.lastLen;
            }
            int ret = Mem.alloc(24, 8);
            lookup0(np, nl, namespace == null ? 0 : 1, sp, sl, ret);
            return Mem.u8(ret) == 0 ? null : liftId(ret + 8);
        } finally {
            Mem.reset(m);
        }
    }

    /**
     * Calls an import that answers {@code result<_, error>} into the return area it is given, and throws
     * the error it reports.
     */
    private static void unitResult(IntConsumer call) {
        long m = Mem.mark();
        try {
            int ret = Mem.alloc(RESULT_SIZE, 4);
            call.accept(ret);
            if (Mem.u8(ret) != 0) {
                throw liftError(ret + 4);
            }
        } finally {
            Mem.reset(m);
        }
    }

    @Override
    public void kill(Id actor) {
        unitResult(ret -> kill0(actor.hi(), actor.lo(), ret));
    }

    @Override
    public void restart(Id actor) {
        unitResult(ret -> restart0(actor.hi(), actor.lo(), ret));
    }

    @Override
    public void exitActor() {
        unitResult(WasmHost::exitActor0);
    }

    @Override
    public void cancel(int handle, boolean force, boolean recursive) {
        unitResult(ret -> cancel0(handle, force ? 1 : 0, recursive ? 1 : 0, ret));
    }

    @Override
    public void log(int level, String message) {
        long m = Mem.mark();
        try {
            int p = Mem.str(message);
            log0(level, p, Mem.lastLen);
        } finally {
            Mem.reset(m);
        }
    }

    @Override
    public void sleep(long ms) {
        if (ms <= 0) {
            return;
        }
        long m = Mem.mark();
        try {
            // One subscription: a relative timeout on the monotonic clock.
            int sub = Mem.alloc(48, 8);
            for (int i = 0; i < 48; i += 8) {
                Mem.i64(sub + i, 0);
            }
            Mem.u8(sub + 8, 0); // eventtype clock
            Mem.i32(sub + 16, 1); // clockid monotonic
            Mem.i64(sub + 24, ms * 1_000_000L); // timeout, ns
            int ev = Mem.alloc(32, 8);
            int nev = Mem.alloc(4, 4);
            int errno = pollOneoff(sub, ev, 1, nev);
            if (errno != 0) {
                throw new IllegalStateException("poll_oneoff failed: errno " + errno);
            }
        } finally {
            Mem.reset(m);
        }
    }

    @Override
    public Id context(int which) {
        long m = Mem.mark();
        try {
            int ret = Mem.alloc(24, 8);
            switch (which) {
                case JOB_ID:
                    jobId0(ret);
                    return liftId(ret);
                case TASK_ID:
                    taskId0(ret);
                    return liftId(ret);
                case NODE_ID:
                    nodeId0(ret);
                    return liftId(ret);
                default:
                    actorId0(ret);
                    return Mem.u8(ret) == 0 ? null : liftId(ret + 8);
            }
        } finally {
            Mem.reset(m);
        }
    }
}
