package wrun;

import java.util.Map;
import java.util.TreeMap;

/**
 * What one task or actor changes of the environment it would run in otherwise (a named one, or its
 * caller's), as Ray's {@code runtime_env} option: variables merge over the base's, limits may only be
 * lowered. What the job's manifest grants (files, network, packages) cannot be set here; a named
 * environment of the manifest can (docs/runtime-env.md). Immutable.
 *
 * <pre>{@code
 * TaskOptions o = TaskOptions.DEFAULT.runtimeEnv(RuntimeEnv.EMPTY.env("MODE", "fast").cpuTimeMs(2000));
 * }</pre>
 */
public final class RuntimeEnv {
    /** Changes nothing. */
    public static final RuntimeEnv EMPTY = new RuntimeEnv(new TreeMap<>(), -1, -1);

    private final TreeMap<String, String> env;
    private final long memory;
    private final long cpuTimeMs;

    private RuntimeEnv(TreeMap<String, String> env, long memory, long cpuTimeMs) {
        this.env = env;
        this.memory = memory;
        this.cpuTimeMs = cpuTimeMs;
    }

    /** Sets the variable {@code name} (over the base environment's value). */
    public RuntimeEnv env(String name, String value) {
        TreeMap<String, String> e = new TreeMap<>(env);
        e.put(name, value);
        return new RuntimeEnv(e, memory, cpuTimeMs);
    }

    /** Lowers {@code limits.memory}, the linear memory per instance, in bytes. */
    public RuntimeEnv memory(long bytes) {
        return new RuntimeEnv(env, bytes, cpuTimeMs);
    }

    /** Lowers {@code limits.cpu_time}, the CPU time per task, in milliseconds. */
    public RuntimeEnv cpuTimeMs(long ms) {
        return new RuntimeEnv(env, memory, ms);
    }

    /** The JSON the host reads. */
    public String toJson() {
        StringBuilder b = new StringBuilder("{");
        if (!env.isEmpty()) {
            b.append("\"env\":{");
            boolean first = true;
            for (Map.Entry<String, String> e : env.entrySet()) {
                if (!first) {
                    b.append(',');
                }
                first = false;
                quote(b, e.getKey());
                b.append(':');
                quote(b, e.getValue());
            }
            b.append('}');
        }
        if (memory >= 0 || cpuTimeMs >= 0) {
            b.append(env.isEmpty() ? "" : ",").append("\"limits\":{");
            if (memory >= 0) {
                b.append("\"memory\":").append(memory);
            }
            if (cpuTimeMs >= 0) {
                b.append(memory >= 0 ? "," : "").append("\"cpu_time\":\"").append(cpuTimeMs).append("ms\"");
            }
            b.append('}');
        }
        return b.append('}').toString();
    }

    /** {@code s} as a JSON string (RFC 8259: quote, backslash and control characters escaped). */
    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                String hex = Integer.toHexString(c);
                b.append("\\u").append("0000", hex.length(), 4).append(hex);
            } else {
                b.append(c);
            }
        }
        b.append('"');
    }
}
