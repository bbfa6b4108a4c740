package wrun;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The value codec: MessagePack, with object references and actor handles.
 *
 * <p>Every argument and return value crosses the host boundary as one WIT
 * {@code value}: MessagePack bytes plus the object references they contain.
 * This class produces exactly the bytes the Rust SDK ({@code rmp_serde}) and
 * the Python SDK produce for the same data (tests/vectors/values.json), so
 * Java, Rust and Python jobs exchange values.
 *
 * <table>
 * <caption>Java types and their encodings</caption>
 * <tr><th>Java, encoding</th><th>MessagePack</th><th>Java, decoded</th></tr>
 * <tr><td>{@code null}</td><td>nil</td><td>{@code null}</td></tr>
 * <tr><td>{@code Boolean}</td><td>bool</td><td>{@code Boolean}</td></tr>
 * <tr><td>{@code Byte, Short, Integer, Long}, {@code BigInteger} in
 *     [-2<sup>63</sup>, 2<sup>64</sup>)</td>
 *     <td>int, smallest encoding</td>
 *     <td>{@code Long}; {@code BigInteger} above {@code Long.MAX_VALUE}</td></tr>
 * <tr><td>{@code Double, Float}</td><td>float64</td><td>{@code Double}</td></tr>
 * <tr><td>{@code String}</td><td>str (UTF-8)</td><td>{@code String}</td></tr>
 * <tr><td>{@code byte[]}</td><td>bin</td><td>{@code byte[]}</td></tr>
 * <tr><td>{@code List}, {@code Object[]}, primitive arrays (not {@code byte[]})</td>
 *     <td>array</td><td>{@code ArrayList<Object>}</td></tr>
 * <tr><td>{@code Map} (in its iteration order)</td><td>map</td>
 *     <td>{@code LinkedHashMap<Object, Object>} (in the encoded order)</td></tr>
 * <tr><td>{@link ObjectRef}</td><td>ext 1: u32 BE index into the refs</td><td>{@link ObjectRef}</td></tr>
 * <tr><td>{@link ActorHandle}</td><td>ext 2: the 16-byte actor id</td><td>{@link ActorHandle}</td></tr>
 * <tr><td>{@link Ext}</td><td>other ext types</td><td>{@link Ext}</td></tr>
 * <tr><td>{@link Encodable}</td><td>whatever {@code toValue()} gives</td><td>that plain value</td></tr>
 * </table>
 *
 * <p>Anything else (a {@code Set}, a {@code Character}, a string with an
 * unpaired surrogate, an integer outside the 64-bit ranges) is refused with
 * an {@link IllegalArgumentException} rather than changed silently.
 */
public final class Codec {
    private Codec() {
    }

    /** Extension type of an object reference. */
    public static final int EXT_OBJECT_REF = 1;
    /** Extension type of an actor handle. */
    public static final int EXT_ACTOR = 2;
    /** Extension type of a Python-only value (a pickle), which Java refuses. */
    public static final int EXT_PYTHON = 3;

    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger U64_LIMIT = BigInteger.ONE.shiftLeft(64);
    private static final int MAX_DEPTH = 512;

    // --- encoding ---------------------------------------------------------------

    /**
     * Encodes {@code value}. Each {@link ObjectRef} met is appended to
     * {@code refs} (once per occurrence; its index is the ext payload).
     */
    public static byte[] pack(Object value, List<ObjectRef<?>> refs) {
        Out out = new Out();
        pack(value, out, refs, 0);
        return out.toByteArray();
    }

    /** Encodes a value that holds no object references. */
    public static byte[] pack(Object value) {
        List<ObjectRef<?>> refs = new ArrayList<>();
        byte[] b = pack(value, refs);
        if (!refs.isEmpty()) {
            throw new IllegalArgumentException("value holds object references; use pack(value, refs)");
        }
        return b;
    }

    private static final class Out {
        byte[] buf = new byte[64];
        int len;

        void ensure(int n) {
            if (len + n > buf.length) {
                int cap = Math.max(buf.length * 2, len + n);
                byte[] b = new byte[cap];
                System.arraycopy(buf, 0, b, 0, len);
                buf = b;
            }
        }

        void b(int v) {
            ensure(1);
            buf[len++] = (byte) v;
        }

        void be(long v, int n) {
            ensure(n);
            for (int i = n - 1; i >= 0; i--) {
                buf[len++] = (byte) (v >>> (8 * i));
            }
        }

        void bytes(byte[] b, int off, int n) {
            ensure(n);
            System.arraycopy(b, off, buf, len, n);
            len += n;
        }

        byte[] toByteArray() {
            byte[] b = new byte[len];
            System.arraycopy(buf, 0, b, 0, len);
            return b;
        }
    }

    private static void packLong(long n, Out out) {
        if (n >= 0) {
            if (n < 0x80) {
                out.b((int) n);
            } else if (n <= 0xFF) {
                out.b(0xCC);
                out.be(n, 1);
            } else if (n <= 0xFFFF) {
                out.b(0xCD);
                out.be(n, 2);
            } else if (n <= 0xFFFFFFFFL) {
                out.b(0xCE);
                out.be(n, 4);
            } else {
                out.b(0xCF);
                out.be(n, 8);
            }
        } else if (n >= -32) {
            out.b((int) n & 0xFF);
        } else if (n >= -0x80) {
            out.b(0xD0);
            out.be(n, 1);
        } else if (n >= -0x8000) {
            out.b(0xD1);
            out.be(n, 2);
        } else if (n >= -0x80000000L) {
            out.b(0xD2);
            out.be(n, 4);
        } else {
            out.b(0xD3);
            out.be(n, 8);
        }
    }

    private static void packBig(BigInteger n, Out out) {
        if (n.compareTo(LONG_MIN) < 0 || n.compareTo(U64_LIMIT) >= 0) {
            throw new IllegalArgumentException("integer " + n + " does not fit in 64 bits");
        }
        if (n.bitLength() < 64) {
            packLong(n.longValue(), out);
        } else {
            // 2^63 .. 2^64-1: uint64
            out.b(0xCF);
            out.be(n.longValue(), 8);
        }
    }

    private static void packLen(int n, Out out, int fix, int fixMax, int c8, int c16, int c32) {
        if (fix != 0 && n <= fixMax) {
            out.b(fix | n);
        } else if (c8 != 0 && n <= 0xFF) {
            out.b(c8);
            out.b(n);
        } else if (n <= 0xFFFF) {
            out.b(c16);
            out.be(n, 2);
        } else {
            out.b(c32);
            out.be(n, 4);
        }
    }

    private static void packExt(int type, byte[] data, Out out) {
        int n = data.length;
        switch (n) {
            case 1: out.b(0xD4); break;
            case 2: out.b(0xD5); break;
            case 4: out.b(0xD6); break;
            case 8: out.b(0xD7); break;
            case 16: out.b(0xD8); break;
            default: packLen(n, out, 0, 0, 0xC7, 0xC8, 0xC9);
        }
        out.b(type & 0xFF);
        out.bytes(data, 0, n);
    }

    private static void packString(String s, Out out) {
        int n = s.length();
        int size = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                size += 1;
            } else if (c < 0x800) {
                size += 2;
            } else if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    size += 4;
                    i++;
                } else {
                    throw new IllegalArgumentException(
                            "string has an unpaired surrogate at index " + i + ": it has no UTF-8 form");
                }
            } else {
                size += 3;
            }
        }
        packLen(size, out, 0xA0, 31, 0xD9, 0xDA, 0xDB);
        out.ensure(size);
        byte[] b = out.buf;
        int o = out.len;
        for (int i = 0; i < n; i++) {
            int c = s.charAt(i);
            if (c < 0x80) {
                b[o++] = (byte) c;
            } else if (c < 0x800) {
                b[o++] = (byte) (0xC0 | (c >> 6));
                b[o++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate((char) c)) {
                int cp = Character.toCodePoint((char) c, s.charAt(++i));
                b[o++] = (byte) (0xF0 | (cp >> 18));
                b[o++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                b[o++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                b[o++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                b[o++] = (byte) (0xE0 | (c >> 12));
                b[o++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                b[o++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        out.len = o;
    }

    private static void packDouble(double d, Out out) {
        out.b(0xCB);
        out.be(Double.doubleToRawLongBits(d), 8);
    }

    private static void pack(Object v, Out out, List<ObjectRef<?>> refs, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("value nested deeper than " + MAX_DEPTH + " levels");
        }
        if (v == null) {
            out.b(0xC0);
        } else if (v instanceof Boolean) {
            out.b((Boolean) v ? 0xC3 : 0xC2);
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            packLong(((Number) v).longValue(), out);
        } else if (v instanceof String) {
            packString((String) v, out);
        } else if (v instanceof Double || v instanceof Float) {
            packDouble(((Number) v).doubleValue(), out);
        } else if (v instanceof List) {
            List<?> l = (List<?>) v;
            packLen(l.size(), out, 0x90, 15, 0, 0xDC, 0xDD);
            for (Object x : l) {
                pack(x, out, refs, depth + 1);
            }
        } else if (v instanceof Map) {
            Map<?, ?> m = (Map<?, ?>) v;
            packLen(m.size(), out, 0x80, 15, 0, 0xDE, 0xDF);
            for (Map.Entry<?, ?> e : m.entrySet()) {
                pack(e.getKey(), out, refs, depth + 1);
                pack(e.getValue(), out, refs, depth + 1);
            }
        } else if (v instanceof byte[]) {
            byte[] b = (byte[]) v;
            packLen(b.length, out, 0, 0, 0xC4, 0xC5, 0xC6);
            out.bytes(b, 0, b.length);
        } else if (v instanceof ObjectRef) {
            refs.add((ObjectRef<?>) v);
            int i = refs.size() - 1;
            packExt(EXT_OBJECT_REF, new byte[] {(byte) (i >>> 24), (byte) (i >>> 16), (byte) (i >>> 8), (byte) i},
                    out);
        } else if (v instanceof ActorHandle) {
            packExt(EXT_ACTOR, ((ActorHandle<?>) v).actorId().toBytes(), out);
        } else if (v instanceof BigInteger) {
            packBig((BigInteger) v, out);
        } else if (v instanceof Object[]) {
            Object[] a = (Object[]) v;
            packLen(a.length, out, 0x90, 15, 0, 0xDC, 0xDD);
            for (Object x : a) {
                pack(x, out, refs, depth + 1);
            }
        } else if (v instanceof int[]) {
            int[] a = (int[]) v;
            packLen(a.length, out, 0x90, 15, 0, 0xDC, 0xDD);
            for (int x : a) {
                packLong(x, out);
            }
        } else if (v instanceof long[]) {
            long[] a = (long[]) v;
            packLen(a.length, out, 0x90, 15, 0, 0xDC, 0xDD);
            for (long x : a) {
                packLong(x, out);
            }
        } else if (v instanceof short[]) {
            short[] a = (short[]) v;
            packLen(a.length, out, 0x90, 15, 0, 0xDC, 0xDD);
            for (short x : a) {
                packLong(x, out);
            }
        } else if (v instanceof double[]) {
            double[] a = (double[]) v;
            packLen(a.length, out, 0x90, 15, 0, 0xDC, 0xDD);
            for (double x : a) {
                packDouble(x, out);
            }
        } else if (v instanceof float[]) {
            float[] a = (float[]) v;
            packLen(a.length, out, 0x90, 15, 0, 0xDC, 0xDD);
            for (float x : a) {
                packDouble(x, out);
            }
        } else if (v instanceof boolean[]) {
            boolean[] a = (boolean[]) v;
            packLen(a.length, out, 0x90, 15, 0, 0xDC, 0xDD);
            for (boolean x : a) {
                out.b(x ? 0xC3 : 0xC2);
            }
        } else if (v instanceof Ext) {
            Ext e = (Ext) v;
            packExt(e.type(), e.data(), out);
        } else if (v instanceof Encodable) {
            pack(((Encodable) v).toValue(), out, refs, depth + 1);
        } else if (v instanceof Collection) {
            throw new IllegalArgumentException("cannot encode a " + v.getClass().getName()
                    + " for wrun: only Lists keep their order; convert it to a List");
        } else {
            throw new IllegalArgumentException("cannot encode a value of type " + v.getClass().getName()
                    + " for wrun");
        }
    }

    // --- decoding ---------------------------------------------------------------

    /**
     * Decodes one value; extension type 1 becomes the {@link ObjectRef} at that
     * index of {@code refs} (an index met twice gives the same ObjectRef).
     */
    public static Object unpack(byte[] data, List<? extends ObjectRef<?>> refs) {
        In in = new In(data, refs);
        Object v = in.value(0);
        if (in.pos != data.length) {
            throw new DecodeException((data.length - in.pos) + " trailing bytes after the value");
        }
        return v;
    }

    /** Decodes a value that holds no object references. */
    public static Object unpack(byte[] data) {
        return unpack(data, List.of());
    }

    private static final class In {
        final byte[] d;
        final List<? extends ObjectRef<?>> refs;
        int pos;

        In(byte[] d, List<? extends ObjectRef<?>> refs) {
            this.d = d;
            this.refs = refs;
        }

        void need(long n) {
            if (n < 0 || pos + n > d.length) {
                throw new DecodeException("truncated value");
            }
        }

        long be(int n) {
            need(n);
            long v = 0;
            for (int i = 0; i < n; i++) {
                v = (v << 8) | (d[pos++] & 0xFF);
            }
            return v;
        }

        int len(int n) {
            long v = be(n);
            if (v > Integer.MAX_VALUE) {
                throw new DecodeException("length " + v + " is too large for Java");
            }
            return (int) v;
        }

        byte[] take(int n) {
            need(n);
            byte[] b = new byte[n];
            System.arraycopy(d, pos, b, 0, n);
            pos += n;
            return b;
        }

        Object value(int depth) {
            if (depth > MAX_DEPTH) {
                throw new DecodeException("value nested deeper than " + MAX_DEPTH + " levels");
            }
            need(1);
            int b = d[pos++] & 0xFF;
            if (b <= 0x7F) {
                return (long) b;
            }
            if (b >= 0xE0) {
                return (long) (b - 0x100);
            }
            if (b >= 0xA0 && b <= 0xBF) {
                return str(b & 0x1F);
            }
            if (b >= 0x90 && b <= 0x9F) {
                return array(b & 0x0F, depth);
            }
            if (b >= 0x80 && b <= 0x8F) {
                return map(b & 0x0F, depth);
            }
            switch (b) {
                case 0xC0: return null;
                case 0xC2: return Boolean.FALSE;
                case 0xC3: return Boolean.TRUE;
                case 0xCC: return be(1);
                case 0xCD: return be(2);
                case 0xCE: return be(4);
                case 0xCF: {
                    long v = be(8);
                    if (v >= 0) {
                        return v;
                    }
                    return BigInteger.valueOf(v).add(U64_LIMIT);
                }
                case 0xD0: return (long) (byte) be(1);
                case 0xD1: return (long) (short) be(2);
                case 0xD2: return (long) (int) be(4);
                case 0xD3: return be(8);
                case 0xCA: return (double) Float.intBitsToFloat((int) be(4));
                case 0xCB: return Double.longBitsToDouble(be(8));
                case 0xD9: return str(len(1));
                case 0xDA: return str(len(2));
                case 0xDB: return str(len(4));
                case 0xC4: return take(len(1));
                case 0xC5: return take(len(2));
                case 0xC6: return take(len(4));
                case 0xDC: return array(len(2), depth);
                case 0xDD: return array(len(4), depth);
                case 0xDE: return map(len(2), depth);
                case 0xDF: return map(len(4), depth);
                case 0xD4: return ext(1);
                case 0xD5: return ext(2);
                case 0xD6: return ext(4);
                case 0xD7: return ext(8);
                case 0xD8: return ext(16);
                case 0xC7: return ext(len(1));
                case 0xC8: return ext(len(2));
                case 0xC9: return ext(len(4));
                default:
                    throw new DecodeException("invalid MessagePack byte 0x" + Integer.toHexString(b));
            }
        }

        String str(int n) {
            need(n);
            char[] out = new char[n];
            int len = 0;
            int i = pos;
            int end = pos + n;
            while (i < end) {
                int b = d[i++] & 0xFF;
                if (b < 0x80) {
                    out[len++] = (char) b;
                    continue;
                }
                int extra;
                int cp;
                int min;
                if (b >= 0xC2 && b <= 0xDF) {
                    extra = 1;
                    cp = b & 0x1F;
                    min = 0x80;
                } else if (b >= 0xE0 && b <= 0xEF) {
                    extra = 2;
                    cp = b & 0x0F;
                    min = 0x800;
                } else if (b >= 0xF0 && b <= 0xF4) {
                    extra = 3;
                    cp = b & 0x07;
                    min = 0x10000;
                } else {
                    throw badUtf8(i - 1);
                }
                if (i + extra > end) {
                    throw badUtf8(i - 1);
                }
                for (int k = 0; k < extra; k++) {
                    int c = d[i++] & 0xFF;
                    if ((c & 0xC0) != 0x80) {
                        throw badUtf8(i - 1);
                    }
                    cp = (cp << 6) | (c & 0x3F);
                }
                if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                    throw badUtf8(i - 1 - extra);
                }
                if (cp >= 0x10000) {
                    cp -= 0x10000;
                    out[len++] = (char) (0xD800 | (cp >> 10));
                    out[len++] = (char) (0xDC00 | (cp & 0x3FF));
                } else {
                    out[len++] = (char) cp;
                }
            }
            pos = end;
            return new String(out, 0, len);
        }

        DecodeException badUtf8(int at) {
            return new DecodeException("invalid UTF-8 in a string at byte " + at);
        }

        List<Object> array(int n, int depth) {
            need(n); // every element takes at least one byte
            List<Object> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(value(depth + 1));
            }
            return out;
        }

        Map<Object, Object> map(int n, int depth) {
            need(2L * n);
            Map<Object, Object> out = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                Object k = value(depth + 1);
                Object v = value(depth + 1);
                out.put(k, v);
            }
            return out;
        }

        Object ext(int n) {
            int type = (byte) be(1);
            byte[] data = take(n);
            if (type == EXT_OBJECT_REF) {
                if (n != 4) {
                    throw new DecodeException("object reference payload of " + n + " bytes (want 4)");
                }
                long i = ((data[0] & 0xFFL) << 24) | ((data[1] & 0xFF) << 16) | ((data[2] & 0xFF) << 8)
                        | (data[3] & 0xFF);
                if (i >= refs.size()) {
                    throw new DecodeException("object reference index " + i + " out of range ("
                            + refs.size() + " refs)");
                }
                return refs.get((int) i);
            }
            if (type == EXT_ACTOR) {
                if (n != 16) {
                    throw new DecodeException("actor handle payload of " + n + " bytes (want 16)");
                }
                return new ActorHandle<Object>(Id.fromBytes(data, 0));
            }
            if (type == EXT_PYTHON) {
                throw new DecodeException("a Python-only value (extension type 3: a Python guest pickled a set, "
                        + "an integer past 64 bits or an object of its own class): Java cannot read it; "
                        + "send lists, maps and 64-bit integers between languages");
            }
            return new Ext(type, data);
        }
    }
}
