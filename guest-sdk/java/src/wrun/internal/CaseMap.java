package wrun.internal;

import org.teavm.interop.Export;

/**
 * Case mapping of code points outside ASCII (SDK-internal). TeaVM-WASI's
 * {@code Character.toLowerCase}/{@code toUpperCase} ask their host
 * ({@code towlower}/{@code towupper}); the {@code wrun-teavm-case} adapter
 * forwards those calls here. The tables come from the JDK that builds the
 * job: the entry class runtimes/java/build.sh generates passes them to
 * {@link #init} when the module starts.
 */
public final class CaseMap {
    private CaseMap() {
    }

    /** Ranges of {start, end, delta, stride}: c in [start, end], (c - start) % stride == 0 maps to c + delta. */
    private static int[] lower = new int[0];
    private static int[] upper = new int[0];

    public static void init(int[] lowerTable, int[] upperTable) {
        lower = lowerTable;
        upper = upperTable;
    }

    private static int map(int[] t, int c) {
        int lo = 0;
        int hi = t.length / 4 - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int start = t[4 * mid];
            if (c < start) {
                hi = mid - 1;
            } else if (c > t[4 * mid + 1]) {
                lo = mid + 1;
            } else {
                return (c - start) % t[4 * mid + 3] == 0 ? c + t[4 * mid + 2] : c;
            }
        }
        return c;
    }

    @Export(name = "wrun_towlower")
    public static int towlower(int c) {
        return map(lower, c);
    }

    @Export(name = "wrun_towupper")
    public static int towupper(int c) {
        return map(upper, c);
    }
}
