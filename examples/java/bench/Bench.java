import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import wrun.Job;
import wrun.ObjectRef;
import wrun.Task0;
import wrun.Wrun;

/**
 * No-op task throughput and latency of Java guests, timed inside the driver:
 *
 * <pre>
 * wrun submit --env bench/lang-env.toml bench.wasm tasks 2000
 * # -> {"mode": "tasks", "ops": 2000, "seconds": ..., "per_second": ...}
 * </pre>
 *
 * <p>The environment grants the real clock (the job times itself) and may let
 * tasks reuse warm instances.
 */
public final class Bench implements Job {
    static final Task0<Object> NOOP = Wrun.task("noop", () -> null);

    @Override
    public Object main(List<String> args) {
        String mode = args.isEmpty() ? "tasks" : args.get(0);
        long n = 1000;
        if (args.size() > 1) {
            try {
                n = Long.parseLong(args.get(1));
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 0) {
                throw new IllegalArgumentException("count '" + args.get(1) + "': not a non-negative integer");
            }
        }
        long start = System.nanoTime();
        if (mode.equals("tasks")) {
            List<ObjectRef<Object>> refs = new ArrayList<>();
            for (long i = 0; i < n; i++) {
                refs.add(NOOP.remote());
            }
            Wrun.get(refs);
        } else if (mode.equals("latency")) {
            for (long i = 0; i < n; i++) {
                NOOP.remote().get();
            }
        } else {
            throw new IllegalArgumentException("unknown mode '" + mode + "': use tasks or latency");
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("mode", mode);
        out.put("ops", n);
        out.put("seconds", seconds);
        out.put("per_second", seconds > 0 ? n / seconds : 0.0);
        return out;
    }
}
