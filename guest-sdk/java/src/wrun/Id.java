package wrun;

/**
 * A 128-bit identifier of a job, task, node, object or actor.
 *
 * <p>{@link #toString()} is 32 lowercase hex digits, {@code hi} first, as the
 * Rust and Python SDKs and the {@code wrun} CLI print it.
 */
public final class Id {
    private final long hi;
    private final long lo;

    public Id(long hi, long lo) {
        this.hi = hi;
        this.lo = lo;
    }

    public long hi() {
        return hi;
    }

    public long lo() {
        return lo;
    }

    /** The 16 bytes of the id: {@code hi} then {@code lo}, both big-endian. */
    public byte[] toBytes() {
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (hi >>> (56 - 8 * i));
            b[8 + i] = (byte) (lo >>> (56 - 8 * i));
        }
        return b;
    }

    /** The id whose 16 bytes (hi, then lo, big-endian) start at {@code off}. */
    public static Id fromBytes(byte[] b, int off) {
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 8; i++) {
            hi = (hi << 8) | (b[off + i] & 0xFF);
            lo = (lo << 8) | (b[off + 8 + i] & 0xFF);
        }
        return new Id(hi, lo);
    }

    public String hex() {
        return hex16(hi) + hex16(lo);
    }

    private static String hex16(long v) {
        char[] c = new char[16];
        for (int i = 15; i >= 0; i--) {
            c[i] = "0123456789abcdef".charAt((int) (v & 0xF));
            v >>>= 4;
        }
        return new String(c);
    }

    @Override
    public String toString() {
        return hex();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Id && ((Id) o).hi == hi && ((Id) o).lo == lo;
    }

    @Override
    public int hashCode() {
        long h = hi * 31 + lo;
        return (int) (h ^ (h >>> 32));
    }
}
