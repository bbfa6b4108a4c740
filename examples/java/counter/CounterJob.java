import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import wrun.ActorClass1;
import wrun.ActorHandle;
import wrun.ActorMethod0;
import wrun.ActorMethod1;
import wrun.Job;
import wrun.ObjectRef;
import wrun.Task2;
import wrun.Wrun;
import wrun.WrunException;

/**
 * A named actor shared by tasks: each task looks it up by name, increments
 * it, and the driver checks the total, kills it and sees later calls fail.
 *
 * <pre>
 * wrun submit counter.wasm   # -> {"value": 55, "max_seen": 55, "after_kill": "actor-died"}
 * </pre>
 */
public final class CounterJob implements Job {
    /** A counter living in its own actor instance. */
    public static final class Counter {
        private long n;

        public Counter(long start) {
            n = start;
        }

        /** Adds {@code by} and returns the new value. */
        public long incr(long by) {
            n += by;
            return n;
        }

        /** The current value. */
        public long value() {
            return n;
        }
    }

    static final ActorClass1<Long, Counter> COUNTER = Wrun.actor("Counter", Counter::new);
    static final ActorMethod1<Counter, Long, Long> INCR = COUNTER.method("incr", Counter::incr);
    static final ActorMethod0<Counter, Long> VALUE = COUNTER.method("value", Counter::value);

    static final Task2<ActorHandle<Counter>, Long, Long> BUMP = Wrun.task("bump", CounterJob::bump);

    /**
     * Increments the counter it is handed, after checking that looking the
     * actor up by name finds the same one.
     */
    static long bump(ActorHandle<Counter> c, long by) {
        ActorHandle<Counter> found = Wrun.<Counter>getActor("counter")
                .orElseThrow(() -> new IllegalStateException("no actor named counter"));
        if (!found.equals(c)) {
            throw new IllegalStateException("lookup found a different actor");
        }
        return INCR.remote(c, by).get();
    }

    @Override
    public Object main(List<String> args) {
        ActorHandle<Counter> c = COUNTER.name("counter").remote(0L);
        List<ObjectRef<Long>> bumps = new ArrayList<>();
        for (long by = 1; by <= 10; by++) {
            bumps.add(BUMP.remote(c, by));
        }
        long maxSeen = 0;
        for (long v : Wrun.get(bumps)) {
            maxSeen = Math.max(maxSeen, v);
        }
        long value = VALUE.remote(c).get();
        Wrun.kill(c);
        String afterKill;
        try {
            afterKill = "still alive: " + VALUE.remote(c).get();
        } catch (WrunException e) {
            afterKill = e.kind().witName();
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("value", value);
        result.put("max_seen", maxSeen);
        result.put("after_kill", afterKill);
        return result;
    }
}
