package wrun.internal;

import org.teavm.backend.wasm.WasmHeap;
import org.teavm.interop.Address;
import org.teavm.interop.Export;
import org.teavm.interop.StaticInit;

/**
 * The linear memory that canonical-ABI values live in while they cross the
 * boundary, and the {@code realloc} functions the host calls.
 *
 * <p>TeaVM's garbage collector moves objects, so the host must never be given
 * the address of a Java array that could move while it reads or writes it.
 * Values therefore cross through memory that TeaVM does not manage: pages
 * grown above TeaVM's own region (its heap is fixed at build time, so TeaVM
 * never grows into them). The host's allocations for export arguments and
 * import results ({@code cabi_export_realloc}, {@code cabi_import_realloc})
 * and the guest's own lowerings come from one bump arena that is reset
 * whenever nothing in it is live: after an export's arguments are read, after
 * an import's results are read, and in an export's post-return. The WASI
 * adapter's long-lived state ({@code cabi_realloc_adapter}) gets memory that
 * is never reused.
 *
 * <p>Nothing here allocates Java objects after class initialization: the host
 * calls these functions in the middle of an import call, where a garbage
 * collection must not start.
 */
@StaticInit
public final class Mem {
    private Mem() {
    }

    private static final int PAGE = 65536;
    private static final int MIN_CHUNK = 256 * 1024;
    private static final int MAX_CHUNKS = 40;

    private static final int[] STARTS = new int[MAX_CHUNKS];
    private static final int[] ENDS = new int[MAX_CHUNKS];
    /** Number of arena chunks grown so far. */
    private static int chunks;
    /** The chunk allocations come from now, and the next free byte in it. */
    private static int cur;
    private static int ptr;

    private static int permPtr;
    private static int permEnd;

    /** The end of linear memory; everything between TeaVM's limit and here is ours. */
    private static int memEnd;

    /** Length of the last string or byte list written by {@link #str} or {@link #bytes}. */
    public static int lastLen;

    /**
     * Where the {@code wrun-teavm-math} adapter (runtimes/java/shim) keeps its
     * data and stack: the top half of the region [512, 33280) that
     * TeaVM-WASI's {@code Memory.malloc} manages with a bitmap at [0, 512),
     * one 64-bit word per 512 bytes. Marking those words as used keeps
     * Memory.malloc out of it.
     */
    public static final int SHIM_BASE = 16896;

    static {
        for (int a = (SHIM_BASE - 512) / 512 * 8; a < 512; a += 8) {
            Address.fromInt(a).putLong(-1L);
        }
    }

    private static int grow(int bytes) {
        if (memEnd == 0) {
            memEnd = WasmHeap.memoryLimit.toInt();
        }
        int pages = (int) ((bytes + (long) PAGE - 1) / PAGE);
        int start = memEnd;
        if ((long) start + (long) pages * PAGE > 0xFFFF0000L) {
            throw oom(bytes);
        }
        WasmHeap.growMemory(pages);
        memEnd = start + pages * PAGE;
        return start;
    }

    private static OutOfMemoryError oom(int bytes) {
        return new OutOfMemoryError("wrun: no linear memory left for " + bytes + " bytes");
    }

    /** Bump-allocates {@code size} bytes aligned to {@code align} (a power of two) in the arena. */
    public static int alloc(int size, int align) {
        if (size < 0) {
            throw oom(size);
        }
        if (chunks > 0) {
            int p = (Math.max(ptr, STARTS[cur]) + align - 1) & -align;
            if (p + size <= ENDS[cur]) {
                ptr = p + size;
                return p;
            }
            while (cur + 1 < chunks) {
                cur++;
                p = (STARTS[cur] + align - 1) & -align;
                if (p + size <= ENDS[cur]) {
                    ptr = p + size;
                    return p;
                }
            }
        }
        if (chunks == MAX_CHUNKS) {
            throw oom(size);
        }
        int want = size + align;
        int last = chunks == 0 ? 0 : ENDS[chunks - 1] - STARTS[chunks - 1];
        int min = last >= (1 << 28) ? last : Math.max(MIN_CHUNK, last * 2);
        if (want < min) {
            want = min;
        }
        int start = grow(want);
        STARTS[chunks] = start;
        ENDS[chunks] = memEnd;
        cur = chunks++;
        int p = (start + align - 1) & -align;
        ptr = p + size;
        return p;
    }

    /** The arena's current position, for {@link #reset(long)}. */
    public static long mark() {
        return ((long) cur << 32) | (ptr & 0xFFFFFFFFL);
    }

    /** Frees everything allocated in the arena since {@code mark}. */
    public static void reset(long mark) {
        cur = (int) (mark >>> 32);
        ptr = (int) mark;
    }

    /** Frees the whole arena. */
    public static void resetAll() {
        cur = 0;
        ptr = chunks == 0 ? 0 : STARTS[0];
    }

    private static int realloc(int old, int oldSize, int align, int newSize) {
        int p = alloc(newSize, align);
        if (old != 0 && oldSize > 0) {
            copy(old, p, Math.min(oldSize, newSize));
        }
        return p;
    }

    @Export(name = "cabi_export_realloc")
    public static int exportRealloc(int old, int oldSize, int align, int newSize) {
        return realloc(old, oldSize, align, newSize);
    }

    @Export(name = "cabi_import_realloc")
    public static int importRealloc(int old, int oldSize, int align, int newSize) {
        return realloc(old, oldSize, align, newSize);
    }

    /** Memory the WASI adapter keeps for the life of the instance. */
    @Export(name = "cabi_realloc_adapter")
    public static int adapterRealloc(int old, int oldSize, int align, int newSize) {
        int p = (permPtr + align - 1) & -align;
        if (permEnd == 0 || p + newSize > permEnd) {
            int start = grow(Math.max(newSize + align, 4 * PAGE));
            permEnd = memEnd;
            p = (start + align - 1) & -align;
        }
        permPtr = p + newSize;
        if (old != 0 && oldSize > 0) {
            copy(old, p, Math.min(oldSize, newSize));
        }
        return p;
    }

    // --- loads and stores -------------------------------------------------------

    public static int i32(int p) {
        return Address.fromInt(p).getInt();
    }

    public static void i32(int p, int v) {
        Address.fromInt(p).putInt(v);
    }

    public static long i64(int p) {
        return Address.fromInt(p).getLong();
    }

    public static void i64(int p, long v) {
        Address.fromInt(p).putLong(v);
    }

    public static int u8(int p) {
        return Address.fromInt(p).getByte() & 0xFF;
    }

    public static void u8(int p, int v) {
        Address.fromInt(p).putByte((byte) v);
    }

    public static void f64(int p, double v) {
        Address.fromInt(p).putDouble(v);
    }

    public static void copy(int from, int to, int n) {
        copy(Address.fromInt(from), Address.fromInt(to), n);
    }

    private static void copy(Address src, Address dst, int n) {
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            dst.add(i).putLong(src.add(i).getLong());
        }
        for (; i < n; i++) {
            dst.add(i).putByte(src.add(i).getByte());
        }
    }

    /** A copy of {@code n} bytes at {@code p}. */
    public static byte[] readBytes(int p, int n) {
        byte[] b = new byte[n];
        if (n > 0) {
            // No allocation happens between taking the array's address and the
            // copy, so the collector cannot move it meanwhile.
            copy(Address.fromInt(p), Address.ofData(b), n);
        }
        return b;
    }

    /** Copies {@code b[off..off+n)} into the arena; returns its address. */
    public static int bytes(byte[] b, int off, int n) {
        int p = alloc(n, 1);
        if (n > 0) {
            copy(Address.ofData(b).add(off), Address.fromInt(p), n);
        }
        lastLen = n;
        return p;
    }

    /** A string read from {@code n} bytes of UTF-8 at {@code p} (valid, as the canonical ABI promises). */
    public static String readString(int p, int n) {
        char[] out = new char[n];
        int len = 0;
        int end = p + n;
        Address a = Address.fromInt(0);
        int i = p;
        while (i < end) {
            int b = a.add(i++).getByte() & 0xFF;
            if (b < 0x80) {
                out[len++] = (char) b;
            } else if (b < 0xE0) {
                out[len++] = (char) (((b & 0x1F) << 6) | (a.add(i++).getByte() & 0x3F));
            } else if (b < 0xF0) {
                int c = ((b & 0x0F) << 12) | ((a.add(i).getByte() & 0x3F) << 6) | (a.add(i + 1).getByte() & 0x3F);
                i += 2;
                out[len++] = (char) c;
            } else {
                int c = ((b & 0x07) << 18) | ((a.add(i).getByte() & 0x3F) << 12)
                        | ((a.add(i + 1).getByte() & 0x3F) << 6) | (a.add(i + 2).getByte() & 0x3F);
                i += 3;
                c -= 0x10000;
                out[len++] = (char) (0xD800 | (c >> 10));
                out[len++] = (char) (0xDC00 | (c & 0x3FF));
            }
        }
        return new String(out, 0, len);
    }

    /**
     * Writes {@code s} as UTF-8 into the arena; returns its address and sets
     * {@link #lastLen}. A lone surrogate, which UTF-8 cannot carry, becomes
     * U+FFFD (these strings are names and messages, not values).
     */
    public static int str(String s) {
        int n = s.length();
        int size = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                size += 1;
            } else if (c < 0x800) {
                size += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                size += 4;
                i++;
            } else {
                size += 3;
            }
        }
        int p = alloc(size, 1);
        Address a = Address.fromInt(p);
        int o = 0;
        for (int i = 0; i < n; i++) {
            int c = s.charAt(i);
            if (c < 0x80) {
                a.add(o++).putByte((byte) c);
            } else if (c < 0x800) {
                a.add(o++).putByte((byte) (0xC0 | (c >> 6)));
                a.add(o++).putByte((byte) (0x80 | (c & 0x3F)));
            } else if (Character.isHighSurrogate((char) c) && i + 1 < n
                    && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint((char) c, s.charAt(++i));
                a.add(o++).putByte((byte) (0xF0 | (cp >> 18)));
                a.add(o++).putByte((byte) (0x80 | ((cp >> 12) & 0x3F)));
                a.add(o++).putByte((byte) (0x80 | ((cp >> 6) & 0x3F)));
                a.add(o++).putByte((byte) (0x80 | (cp & 0x3F)));
            } else {
                if (Character.isSurrogate((char) c)) {
                    c = 0xFFFD;
                }
                a.add(o++).putByte((byte) (0xE0 | (c >> 12)));
                a.add(o++).putByte((byte) (0x80 | ((c >> 6) & 0x3F)));
                a.add(o++).putByte((byte) (0x80 | (c & 0x3F)));
            }
        }
        lastLen = size;
        return p;
    }

    /** Stores the string's (address, length) at {@code at}. */
    public static void storeStr(int at, String s) {
        int p = str(s);
        i32(at, p);
        i32(at + 4, lastLen);
    }
}
