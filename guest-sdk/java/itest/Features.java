import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import wrun.ActorClass0;
import wrun.ActorClass1;
import wrun.ActorHandle;
import wrun.ActorMethod0;
import wrun.ActorMethod1;
import wrun.ErrorKind;
import wrun.Id;
import wrun.Job;
import wrun.ObjectRef;
import wrun.ObjectRefGenerator;
import wrun.Task0;
import wrun.Task1;
import wrun.Task2;
import wrun.TaskOptions;
import wrun.WaitResult;
import wrun.Wrun;
import wrun.WrunException;

/**
 * The Java SDK against a real host: every feature once, checked in the driver.
 * runtimes/java/itest.sh builds and submits it; the job returns the names of
 * the checks that passed, in order, and fails on the first that does not.
 */
public final class Features implements Job {
    // --- tasks -------------------------------------------------------------------------

    static final Task2<Long, Long, Long> ADD = Wrun.task("add", Features::add);
    static final Task1<Long, Long> FIB = Wrun.task("fib", Features::fib);
    static final Task1<String, List<Object>> SPLIT =
            Wrun.task("split", TaskOptions.DEFAULT.numReturns(2), Features::split);
    static final Task1<String, Object> NOTHING =
            Wrun.task("nothing", TaskOptions.DEFAULT.numReturns(0), s -> null);
    static final Task1<String, String> FAIL = Wrun.task("fail", Features::fail);
    static final Task1<Long, Long> CALLS_FAIL = Wrun.task("callsFail", Features::callsFail);
    static final Task1<List<ObjectRef<Long>>, Long> SUM_REFS = Wrun.task("sumRefs", Features::sumRefs);
    static final Task1<Long, ObjectRef<String>> MAKE_REF = Wrun.task("makeRef", Features::makeRef);
    static final Task1<byte[], Long> LENGTH = Wrun.task("length", b -> (long) b.length);
    static final Task1<Long, byte[]> BLOB = Wrun.task("blob", Features::blob);
    static final Task1<Long, Long> SPIN = Wrun.task("spin", Features::spin);
    static final Task0<String> ENV = Wrun.task("env", () -> {
        String v = System.getenv("MODE");
        return v == null ? "none" : v;
    });
    static final Task0<Map<String, Object>> CONTEXT = Wrun.task("context", Features::context);
    static final Task1<Double, List<Object>> MATH = Wrun.task("math", Features::math);
    static final Task1<String, String> TEXT = Wrun.task("text", Features::text);
    static final Task0<Long> FLAKY = Wrun.task("flaky", Features::flaky);
    /** Tasks this instance has run (reused in the `warm` environment). */
    static long instanceCalls;
    static final Task0<Long> INSTANCE_CALLS = Wrun.task("instance_calls", () -> ++instanceCalls);
    static final Task1<Integer, Long> SMALL = Wrun.task("small", x -> 2L * x);
    static final Task1<Long, Long> MANY_REFS = Wrun.task("manyRefs", Features::manyRefs);
    static final Task1<Long, Object> SQUARES = Wrun.task("squares", Features::squares);
    static final Task1<ActorHandle<Counter>, Long> FAILS_TWICE = Wrun.task("failsTwice", Features::failsTwice);

    /** Throws IllegalStateException on its first two attempts (counted by the actor); the attempt. */
    static long failsTwice(ActorHandle<Counter> attempts) {
        long n = INCR.remote(attempts, 1L).get();
        if (n <= 2) {
            throw new IllegalStateException("attempt " + n);
        }
        return n;
    }
    static final Task1<Long, Object> FAILS_AFTER = Wrun.task("failsAfter", Features::failsAfter);

    /** Streams the squares of 0..n (submitted with remoteStreaming). */
    static Object squares(long n) {
        for (long i = 0; i < n; i++) {
            Wrun.yieldItem(i * i);
        }
        return null;
    }

    /** Streams k items, then throws: the caller's item k holds the error. */
    static Object failsAfter(long k) {
        for (long i = 0; i < k; i++) {
            Wrun.yieldItem(i);
        }
        throw new IllegalStateException("no item after " + k);
    }

    static long add(long a, long b) {
        return a + b;
    }

    static long fib(long n) {
        if (n < 2) {
            return n;
        }
        ObjectRef<Long> a = FIB.remote(n - 1);
        ObjectRef<Long> b = FIB.remote(n - 2);
        return a.get() + b.get();
    }

    static List<Object> split(String s) {
        return List.of(s.toUpperCase(), (long) s.length());
    }

    static String fail(String why) {
        throw new IllegalStateException("bad input: " + why);
    }

    static long callsFail(long x) {
        return FAIL.remote("nested " + x).get().length();
    }

    static long sumRefs(List<ObjectRef<Long>> refs) {
        long s = 0;
        for (long v : Wrun.get(refs)) {
            s += v;
        }
        return s;
    }

    static ObjectRef<String> makeRef(long n) {
        return Wrun.put("made " + n);
    }

    static byte[] blob(long n) {
        byte[] b = new byte[(int) n];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 31);
        }
        return b;
    }

    static long spin(long ms) {
        long end = System.currentTimeMillis() + ms;
        long n = 0;
        while (System.currentTimeMillis() < end) {
            n++;
        }
        return n;
    }

    static Map<String, Object> context() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("job", Wrun.context().jobId().hex());
        m.put("task", Wrun.context().taskId().hex());
        m.put("node", Wrun.context().nodeId().hex());
        m.put("actor", Wrun.context().actorId().isPresent());
        Wrun.log("context read");
        Wrun.log(Wrun.LogLevel.DEBUG, "a debug line");
        return m;
    }

    static List<Object> math(double x) {
        return List.of(Math.sin(x), Math.cos(x), Math.tan(x), Math.exp(x), Math.log(x), Math.pow(x, 2.5),
                Math.atan2(x, 2), Math.asin(0.5), Math.acos(0.5), Math.atan(x), Math.sqrt(x), Math.floor(x),
                Math.ceil(x), Math.cbrt(27), Math.hypot(3, 4), Math.log10(1000));
    }

    static String text(String s) {
        return s.toUpperCase() + "|" + s.toLowerCase() + "|" + String.join("+", s.split("\\s+"));
    }

    static int flakyCalls;

    /** Throws on its first attempt in each instance (every retry is a fresh instance). */
    static long flaky() {
        throw new IllegalStateException("flaky attempt");
    }

    static long manyRefs(long n) {
        long s = 0;
        for (long i = 0; i < n; i++) {
            ObjectRef<Long> r = Wrun.put(i);
            s += r.get();
        }
        return s;
    }

    // --- actors ------------------------------------------------------------------------

    /** A counter; {@code split} returns two values. */
    public static final class Counter {
        long n;

        Counter(long start) {
            n = start;
        }

        long incr(long by) {
            n += by;
            return n;
        }

        long value() {
            return n;
        }

        List<Object> both() {
            return List.of(n, -n);
        }

        long boom() {
            throw new UnsupportedOperationException("no boom today");
        }

        /** Traps (an integer division by zero is a WebAssembly trap under TeaVM). */
        long crash(long zero) {
            return n / zero;
        }

        /** Streams n, n-1, ..., 1. */
        Long countdown(long from) {
            for (long i = from; i > 0; i--) {
                Wrun.yieldItem(i);
            }
            return null;
        }

        /** Ends the actor (exitActor): this call and later ones fail. */
        long leave() {
            Wrun.exitActor();
            return n;
        }
    }

    static final ActorClass1<Long, Counter> COUNTER = Wrun.actor("Counter", Counter::new);
    static final ActorMethod1<Counter, Long, Long> INCR = COUNTER.method("incr", Counter::incr);
    static final ActorMethod0<Counter, Long> VALUE = COUNTER.method("value", Counter::value);
    static final ActorMethod0<Counter, Object> BOTH = COUNTER.method("both", 2, Counter::both);
    static final ActorMethod0<Counter, Long> BOOM = COUNTER.method("boom", Counter::boom);
    static final ActorMethod1<Counter, Long, Long> CRASH = COUNTER.method("crash", Counter::crash);
    static final ActorMethod0<Counter, Long> LEAVE = COUNTER.method("leave", Counter::leave);
    static final ActorMethod1<Counter, Long, Long> COUNTDOWN = COUNTER.method("countdown", Counter::countdown);

    /** An actor whose constructor fails. */
    public static final class Broken {
        Broken() {
            throw new IllegalStateException("cannot construct");
        }
    }

    static final ActorClass0<Broken> BROKEN = Wrun.actor("Broken", Broken::new);

    // --- the driver --------------------------------------------------------------------

    private final List<String> passed = new ArrayList<>();

    private void check(String name, boolean ok, Object detail) {
        if (!ok) {
            throw new AssertionError("check " + name + " failed: " + detail);
        }
        passed.add(name);
        Wrun.log("passed " + name);
    }

    private static WrunException failure(Runnable r) {
        try {
            r.run();
        } catch (WrunException e) {
            return e;
        }
        return null;
    }

    @Override
    public Object main(List<String> args) {
        check("add", ADD.remote(2L, 3L).get() == 5L, "");
        check("nested fib", FIB.remote(10L).get() == 55L, "");

        List<ObjectRef<Object>> two = SPLIT.remoteAll("abc");
        check("num-returns 2", two.size() == 2 && "ABC".equals(two.get(0).get()) && (Long) two.get(1).get() == 3,
                two);
        // num_returns = 0: submitted for its effects only (fire and forget), no reference back.
        ObjectRef<Object>[] none = new ObjectRef[1];
        WrunException zero = failure(() -> none[0] = NOTHING.remote("x"));
        check("num-returns 0 is fire and forget", zero == null && none[0] == null, zero);

        WrunException e = failure(() -> FAIL.remote("x").get());
        check("application error", e != null && e.kind() == ErrorKind.APPLICATION && e.task().equals("fail")
                && e.detail().startsWith("java.lang.IllegalStateException: bad input: x"), e);
        check("stack trace", e.detail().contains("\tat ") && e.detail().contains("fail"), e.detail());
        e = failure(() -> CALLS_FAIL.remote(7L).get());
        check("nested error passes through", e != null && e.task().equals("fail")
                && e.detail().contains("bad input: nested 7"), e);

        ObjectRef<Long> p = Wrun.put(40L);
        check("put/get", p.get() == 40L, "");
        check("ref as argument", ADD.remote(p, 2L).get() == 42L, "");
        check("nested refs", SUM_REFS.remote(List.of(p, Wrun.put(2L))).get() == 42L, "");
        ObjectRef<String> made = MAKE_REF.remote(5L).get();
        check("returned ref", "made 5".equals(made.get()), "");
        check("ref id", p.hex().length() == 32 && p.id().equals(p.id()) && p.owner() != null, p);

        byte[] big = blob(3 << 20);
        check("large argument", LENGTH.remote(big).get() == big.length, "");
        byte[] back = BLOB.remote((long) (3 << 20)).get();
        check("large result", java.util.Arrays.equals(back, big), back.length);
        check("large put", ((byte[]) Wrun.put(big).get()).length == big.length, "");

        ObjectRef<Long> slow = SPIN.remote(300L);
        ObjectRef<Long> fast = ADD.remote(1L, 1L);
        WaitResult<Long> w = Wrun.wait(List.of(slow, fast), 1, 5000);
        check("wait without fetch_local", Wrun.wait(List.of(fast), 1, 5000, false).ready().size() == 1, "");
        check("wait", w.ready().size() == 1 && w.ready().get(0) == fast && w.pending().get(0) == slow, w);
        e = failure(() -> slow.get(1));
        check("get timeout", e instanceof WrunException.GetTimeoutException, e);
        e = failure(() -> SPIN.timeoutMs(50).remote(5_000L).get());
        check("task timeout", e instanceof WrunException.TaskTimeoutException, e);
        ObjectRef<Long> long_spin = SPIN.remote(600_000L);
        Wrun.cancel(long_spin);
        e = failure(() -> long_spin.get(60_000));
        check("cancel", e instanceof WrunException.TaskCancelledException, e);
        ObjectRef<Long> sum = ADD.remote(1L, 1L);
        long before = sum.get();
        Wrun.cancel(sum, true, false);
        check("cancel finished", before == 2 && sum.get() == 2, sum);

        check("environment", "gpu-mode".equals(ENV.environment("gpu").remote().get()), "");
        e = failure(() -> ENV.environment("nope").remote().get());
        check("unknown environment", e != null && e.kind() == ErrorKind.NOT_FOUND, e);
        List<Long> retiring = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            retiring.add(INSTANCE_CALLS.environment("warm").maxCalls(2).remote().get());
        }
        check("max calls", retiring.equals(List.of(1L, 2L, 1L, 2L, 1L))
                && INSTANCE_CALLS.environment("warm").remote().get() == 2L, retiring);
        check("options accepted", ADD.cpus(0.5).memory(1 << 20).resource("license", 1).maxRetries(2)
                .remote(1L, 2L).get() == 3L, "");
        e = failure(() -> FLAKY.maxRetries(2).retryExceptions(true).remote().get());
        check("retry exceptions", e != null && e.kind() == ErrorKind.APPLICATION, e);
        check("unlimited retries", ADD.maxRetries(-1).remote(1L, 1L).get() == 2L, "");
        boolean refused = false;
        try {
            ADD.maxRetries(-2);
        } catch (IllegalArgumentException x) {
            refused = true;
        }
        check("retries below -1 refused", refused, "");

        @SuppressWarnings("unchecked")
        Map<String, Object> ctx = CONTEXT.remote().get();
        check("context", ((String) ctx.get("job")).equals(Wrun.context().jobId().hex())
                && !ctx.get("task").equals(Wrun.context().taskId().hex()) && Boolean.FALSE.equals(ctx.get("actor")),
                ctx);

        @SuppressWarnings("unchecked")
        List<Object> math = (List<Object>) (List<?>) MATH.remote(1.5).get();
        check("math", math.get(0).equals(Math.sin(1.5)) || Math.abs((Double) math.get(0) - 0.9974949866040544) < 1e-15,
                math);
        check("text", "HELLO WÖRLD Ǆ|hello wörld ǆ|Hello+Wörld+ǅ".equals(TEXT.remote("Hello Wörld ǅ").get()),
                TEXT.remote("Hello Wörld ǅ").get());
        check("task releases its refs", MANY_REFS.remote(2000L).get() == 1999L * 1000, "");

        ActorHandle<Counter> c = COUNTER.name("ctr").namespace("itest").maxRestarts(1).remote(10L);
        check("actor call", INCR.remote(c, 5L).get() == 15L && VALUE.remote(c).get() == 15L, "");
        check("call by name", (Long) c.call("incr", 1L).get() == 16L, "");
        List<ObjectRef<Object>> both = BOTH.remoteAll(c);
        check("method num-returns 2", (Long) both.get(0).get() == 16L && (Long) both.get(1).get() == -16L, both);
        e = failure(() -> BOOM.remote(c).get());
        check("method error", e != null && e.task().equals("Counter.boom")
                && e.detail().startsWith("java.lang.UnsupportedOperationException: no boom today"), e);
        e = failure(() -> c.call("nope").get());
        check("unknown method", e != null && e.kind() == ErrorKind.NOT_FOUND, e);
        check("lookup", Wrun.getActor("ctr", "itest").map(h -> h.equals(c)).orElse(false), "");
        check("lookup elsewhere", Wrun.getActor("ctr").isEmpty(), "");
        check("get if exists", COUNTER.name("ctr").namespace("itest").getIfExists(true).remote(0L).equals(c)
                && VALUE.remote(c).get() == 16L, "");
        e = failure(() -> CRASH.remote(c, 0L).get());
        check("method trap", e instanceof WrunException.ActorDiedException && e.getMessage().contains("(trap: "), e);
        check("restarted after the trap", VALUE.remote(c).get() == 10L, "");
        Wrun.kill(c);
        e = failure(() -> VALUE.remote(c).get());
        check("killed", e instanceof WrunException.ActorDiedException, e);
        ActorHandle<Counter> phoenix = COUNTER.maxRestarts(1).remote(3L);
        long beforeRestart = INCR.remote(phoenix, 4L).get();
        Wrun.kill(phoenix, false);
        check("kill with restart", beforeRestart == 7L && VALUE.remote(phoenix).get() == 3L, beforeRestart);
        ActorHandle<Counter> leaver = COUNTER.remote(1L);
        e = failure(() -> LEAVE.remote(leaver).get());
        WrunException later = failure(() -> VALUE.remote(leaver).get());
        check("exit actor", e instanceof WrunException.ActorDiedException && e.getMessage().contains("exit_actor()")
                && later instanceof WrunException.ActorDiedException, e);
        List<Object> streamed = new ArrayList<>();
        for (ObjectRef<Object> r : SQUARES.remoteStreaming(5L)) {
            streamed.add(r.get());
        }
        check("streaming", streamed.equals(List.of(0L, 1L, 4L, 9L, 16L)), streamed);
        ObjectRefGenerator<Object> failing = FAILS_AFTER.remoteStreaming(2L);
        long first = (Long) failing.next().get();
        long second = (Long) failing.next().get();
        ObjectRef<Object> third = failing.next();
        e = failure(() -> third.get());
        check("streaming failure", first == 0L && second == 1L && e != null
                && e.kind() == ErrorKind.APPLICATION && e.detail().contains("no item after 2")
                && !failing.hasNext(), e);
        List<Long> down = new ArrayList<>();
        for (ObjectRef<Long> r : COUNTDOWN.remoteStreaming(COUNTER.remote(0L), 3L)) {
            down.add(r.get());
        }
        check("streaming method", down.equals(List.of(3L, 2L, 1L)), down);
        ActorHandle<Counter> tries = COUNTER.remote(0L);
        long typed = FAILS_TWICE.maxRetries(3).retryExceptions(IllegalStateException.class).remote(tries).get();
        check("retry exceptions of a class", typed == 3L, typed);
        ActorHandle<Counter> tries2 = COUNTER.remote(0L);
        e = failure(() -> FAILS_TWICE.maxRetries(3).retryExceptions(UnsupportedOperationException.class)
                .remote(tries2).get());
        check("other exception classes are not retried", e != null && VALUE.remote(tries2).get() == 1L
                && e.types().get(0).equals("java.lang.IllegalStateException")
                && e.types().contains("java.lang.Throwable"), e == null ? null : e.types());
        e = failure(() -> Wrun.yieldItem(1L));
        check("yield outside a streaming call", e != null && e.kind() == ErrorKind.INVALID_ARGUMENT, e);
        e = failure(Wrun::exitActor);
        check("exit actor outside an actor", e != null && e.kind() == ErrorKind.INVALID_ARGUMENT, e);
        e = failure(() -> {
            ActorHandle<Broken> b = BROKEN.remote();
            b.call("x").get();
        });
        check("constructor failure", e != null && e.kind() == ErrorKind.ACTOR_DIED, e);

        e = failure(() -> ADD.submit(new Object[] {1L}).get(0).get());
        check("wrong argument count", e != null && e.kind() == ErrorKind.INVALID_ARGUMENT, e);
        e = failure(() -> ADD.submit(new Object[] {"x", 1L}).get(0).get());
        check("wrong argument type", e != null && e.kind() == ErrorKind.INVALID_ARGUMENT
                && e.detail().equals("argument 0 of add: expected long (int), got string"), e);
        e = failure(() -> ADD.submit(new Object[] {1L << 40, null}).get(0).get());
        check("nil for a primitive", e != null && e.kind() == ErrorKind.INVALID_ARGUMENT, e);
        check("int converted to Integer, result to Long", SMALL.remote(3).get() == 6L, "");
        e = failure(() -> SMALL.submit(new Object[] {1L << 40}).get(0).get());
        check("int out of Integer's range", e != null && e.detail().contains("expected Integer (int), got int 1099511627776"), e);
        e = failure(() -> Wrun.function("env").returns(Long.class).remote().get());
        check("result type", e != null && e.kind() == ErrorKind.INVALID_ARGUMENT
                && e.detail().equals("result of env: expected Long (int), got string"), e);
        e = failure(() -> ADD.remote(1L, 2L).get().toString().length());
        check("no error", e == null, e);

        Id id = Wrun.context().jobId();
        check("id", id.hex().length() == 32, id);
        return passed;
    }
}
