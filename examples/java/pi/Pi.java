import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import wrun.Job;
import wrun.ObjectRef;
import wrun.Task2;
import wrun.Wrun;

/**
 * Monte Carlo estimate of pi: many independent sampling tasks, summed.
 *
 * <p>The same algorithm as examples/rust/pi and examples/python/pi
 * (splitmix64 seeded by the task's index, two draws per point), so all three
 * print the same result:
 *
 * <pre>
 * wrun submit pi.wasm 10   # -> {"tasks": 10, "inside": 78621, "total": 100000, "pi": 3.14484}
 * </pre>
 */
public final class Pi implements Job {
    /** Points sampled per task. */
    static final long POINTS_PER_TASK = 10_000;

    static final Task2<Long, Long, Long> SAMPLE = Wrun.task("sample", Pi::sample);

    /** splitmix64: a small, fast, deterministic PRNG (u64 arithmetic, wrapping). */
    static final class SplitMix64 {
        /** 2^-53: scaling by it is exact, as is Rust's division by 2^53. */
        private static final double UNIT = 1.0 / (1L << 53);
        private long state;

        SplitMix64(long seed) {
            state = seed;
        }

        long next() {
            state += 0x9E3779B97F4A7C15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }

        /** A uniform double in [0, 1). */
        double unit() {
            return (next() >>> 11) * UNIT;
        }
    }

    /**
     * Counts how many of {@code n} random points in the unit square fall
     * inside the quarter circle.
     */
    static long sample(long seed, long n) {
        SplitMix64 rng = new SplitMix64(seed);
        long inside = 0;
        for (long i = 0; i < n; i++) {
            double x = rng.unit();
            double y = rng.unit();
            if (x * x + y * y < 1.0) {
                inside++;
            }
        }
        return inside;
    }

    /** Fans out {@code args[0]} (default 1,000) sampling tasks and sums them. */
    @Override
    public Object main(List<String> args) {
        long tasks = 1_000;
        if (!args.isEmpty()) {
            try {
                tasks = Long.parseLong(args.get(0));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("task count '" + args.get(0) + "': not an integer");
            }
            if (tasks < 0) {
                throw new IllegalArgumentException("task count '" + args.get(0) + "': negative");
            }
        }
        List<ObjectRef<Long>> refs = new ArrayList<>();
        for (long seed = 0; seed < tasks; seed++) {
            refs.add(SAMPLE.remote(seed, POINTS_PER_TASK));
        }
        long inside = 0;
        for (long v : Wrun.get(refs)) {
            inside += v;
        }
        long total = tasks * POINTS_PER_TASK;
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("tasks", tasks);
        result.put("inside", inside);
        result.put("total", total);
        result.put("pi", 4.0 * inside / total);
        return result;
    }
}
