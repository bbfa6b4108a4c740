import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import wrun.ActorHandle;
import wrun.Job;
import wrun.Task1;
import wrun.Task2;
import wrun.Wrun;
import wrun.WrunException;

/**
 * The Java stage of the cross-language pipeline (examples/python/pipeline):
 * a task handed the Rust {@code Tally} actor's handle, which asks it for the
 * merged statistics and writes the report line, and a relay that calls a task
 * of any component by name and reports the error it gets back, as Java sees
 * it.
 *
 * <pre>
 * wrun submit --component cpp=shards.wasm --component rust=tally.wasm \
 *     --component java=report.wasm pipeline.wasm 8
 * </pre>
 */
public final class Report implements Job {
    static final Task1<ActorHandle<Object>, String> REPORT = Wrun.task("report", Report::report);
    static final Task2<String, Object, Map<String, Object>> RELAY = Wrun.task("relay", Report::relay);
    static final Task2<String, Object, Object> PASS_ON = Wrun.task("passOn", Report::passOn);

    /**
     * Calls {@code function} (any component, any language) with {@code arg}; its error is thrown on
     * unchanged, so a Python caller of a Python task through here catches its own exception class.
     */
    static Object passOn(String function, Object arg) {
        return Wrun.function(function).remote(arg).get();
    }

    /** {@code x} rounded to 3 decimals (String.format's %f is one of TeaVM-WASI's gaps). */
    static String fixed3(double x) {
        return BigDecimal.valueOf(x).setScale(3, RoundingMode.HALF_EVEN).toPlainString();
    }

    /**
     * The report line of the tally's statistics: shards, values, mean,
     * standard deviation (of the population), min and max.
     */
    static String report(ActorHandle<Object> tally) {
        long shards = Wrun.get(tally.<Long>call("shards"));
        Map<String, Object> total = Wrun.get(tally.<Map<String, Object>>call("total"));
        long count = (Long) total.get("count");
        long sum = (Long) total.get("sum");
        long sumSq = (Long) total.get("sum_sq");
        double mean = (double) sum / count;
        double sd = Math.sqrt(Math.max(0.0, (double) sumSq / count - mean * mean));
        return shards + " shards, " + count + " values, mean " + fixed3(mean) + ", sd " + fixed3(sd)
                + ", min " + total.get("min") + ", max " + total.get("max");
    }

    /**
     * Calls {@code function} (any component, any language) with {@code arg};
     * returns its value as {"ok": value}, or the fields of the error it raised
     * as Java received them.
     */
    static Map<String, Object> relay(String function, Object arg) {
        Map<String, Object> out = new LinkedHashMap<>();
        try {
            out.put("ok", Wrun.function(function).remote(arg).get());
        } catch (WrunException e) {
            out.put("kind", e.kind().witName());
            out.put("task", e.task());
            out.put("language", e.language());
            out.put("message", e.detail());
        }
        return out;
    }

    @Override
    public Object main(List<String> args) {
        throw new IllegalStateException(
                "this component holds the pipeline's Java tasks; submit examples/python/pipeline as the driver");
    }
}
