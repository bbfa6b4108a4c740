import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import wrun.ActorHandle;
import wrun.ActorOptions;
import wrun.Codec;
import wrun.DecodeException;
import wrun.Encodable;
import wrun.ErrorKind;
import wrun.Ext;
import wrun.Id;
import wrun.ObjectRef;
import wrun.TaskOptions;
import wrun.WrunException;
import wrun.internal.CaseMap;
import wrun.internal.Host;
import wrun.internal.Types;

/**
 * Unit tests of the Java SDK that run on an ordinary JVM (no host): the codec
 * against the shared vectors (tests/vectors/values.json) byte for byte, the
 * codec's edges, options, ids, errors and the case-mapping table.
 *
 * <pre>runtimes/java/test.sh</pre>
 */
public final class SdkTests {
    private static int passed;
    private static final List<String> FAILED = new ArrayList<>();
    private static Path root;

    public static void main(String[] args) throws Exception {
        root = Path.of(args.length > 0 ? args[0] : ".");
        Host.set(new FakeHost());

        run("shared vectors", SdkTests::sharedVectors);
        run("every vector kind is covered", SdkTests::vectorKinds);
        run("integers take their smallest encoding", SdkTests::integers);
        run("uint64 above Long.MAX_VALUE decodes as BigInteger", SdkTests::uint64);
        run("floats are float64; float32 decodes as Double", SdkTests::floats);
        run("strings: UTF-8, lengths, invalid input", SdkTests::strings);
        run("bytes, lists, arrays, maps", SdkTests::containers);
        run("object references and actor handles", SdkTests::refs);
        run("unknown extension types survive", SdkTests::ext);
        run("unencodable values are refused", SdkTests::refused);
        run("malformed input is refused", SdkTests::malformed);
        run("Encodable values", SdkTests::encodable);
        run("options are immutable copies", SdkTests::options);
        run("ids", SdkTests::ids);
        run("errors", SdkTests::errors);
        run("case mapping table matches the JDK", SdkTests::caseMap);
        run("decoded values fit declared types, or are refused", SdkTests::fit);
        run("types read from a job's bytecode", SdkTests::signatures);

        System.out.println(passed + " passed, " + FAILED.size() + " failed");
        for (String f : FAILED) {
            System.out.println("FAILED: " + f);
        }
        System.exit(FAILED.isEmpty() ? 0 : 1);
    }

    interface Test {
        void run() throws Exception;
    }

    private static void run(String name, Test t) {
        try {
            t.run();
            passed++;
            System.out.println("ok   " + name);
        } catch (Throwable e) {
            FAILED.add(name + ": " + e);
            System.out.println("FAIL " + name + ": " + e);
            e.printStackTrace(System.out);
        }
    }

    static void check(boolean cond, String what) {
        if (!cond) {
            throw new AssertionError(what);
        }
    }

    static void eq(Object want, Object got, String what) {
        boolean same = want instanceof byte[] && got instanceof byte[]
                ? Arrays.equals((byte[]) want, (byte[]) got)
                : want == null ? got == null : want.equals(got);
        if (!same) {
            throw new AssertionError(what + ": want " + show(want) + ", got " + show(got));
        }
    }

    static String show(Object v) {
        return v instanceof byte[] ? hex((byte[]) v) : String.valueOf(v);
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x", x & 0xFF));
        }
        return sb.toString();
    }

    static byte[] unhex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    static void throwsA(Class<? extends Throwable> type, Test t, String what) {
        try {
            t.run();
        } catch (Throwable e) {
            if (type.isInstance(e)) {
                return;
            }
            throw new AssertionError(what + ": threw " + e + ", want " + type.getSimpleName());
        }
        throw new AssertionError(what + ": did not throw " + type.getSimpleName());
    }

    /** Encodes v (with its refs) and checks the bytes, then decodes them back. */
    static Object roundTrip(Object v, String wantHex) {
        List<ObjectRef<?>> refs = new ArrayList<>();
        byte[] b = Codec.pack(v, refs);
        eq(wantHex, hex(b), "encoding of " + v);
        return Codec.unpack(b, refs);
    }

    // --- the shared vectors ------------------------------------------------------------

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> vectors() throws Exception {
        String json = Files.readString(root.resolve("tests/vectors/values.json"), StandardCharsets.UTF_8);
        Map<String, Object> doc = (Map<String, Object>) new Json(json).parse();
        return (List<Map<String, Object>>) doc.get("vectors");
    }

    static Object valueOf(Map<String, Object> v) {
        switch ((String) v.get("kind")) {
            case "bytes": return unhex((String) v.get("hex"));
            case "actor": return new ActorHandle<>(new Id((Long) v.get("hi"), (Long) v.get("lo")));
            case "objref": return new ObjectRef<>(FakeHost.next());
            default: return v.get("value");
        }
    }

    static void sharedVectors() throws Exception {
        List<Map<String, Object>> vs = vectors();
        check(!vs.isEmpty(), "no vectors");
        for (Map<String, Object> v : vs) {
            String name = (String) v.get("name");
            String want = (String) v.get("msgpack");
            Object value = valueOf(v);
            List<ObjectRef<?>> refs = new ArrayList<>();
            byte[] b = Codec.pack(value, refs);
            eq(want, hex(b), "vector '" + name + "' encodes");
            Object back = Codec.unpack(unhex(want), refs);
            switch ((String) v.get("kind")) {
                case "objref":
                    long index = (Long) v.get("index");
                    check(back == refs.get((int) index) && back == value, "vector '" + name + "' decodes to its ref");
                    break;
                case "float":
                    check(back instanceof Double, "vector '" + name + "' decodes to a Double");
                    eq(value, back, "vector '" + name + "' decodes");
                    break;
                default:
                    eq(value, back, "vector '" + name + "' decodes");
            }
        }
    }

    static void vectorKinds() throws Exception {
        HashSet<Object> kinds = new HashSet<>();
        for (Map<String, Object> v : vectors()) {
            kinds.add(v.get("kind"));
        }
        for (String k : List.of("nil", "bool", "int", "float", "str", "bytes", "objref", "actor")) {
            check(kinds.contains(k), "no vector of kind " + k);
        }
    }

    // --- the codec's edges ---------------------------------------------------------------

    static void integers() {
        Object[][] cases = {
            {0L, "00"}, {127L, "7f"}, {128L, "cc80"}, {255L, "ccff"}, {256L, "cd0100"}, {65535L, "cdffff"},
            {65536L, "ce00010000"}, {4294967295L, "ceffffffff"}, {4294967296L, "cf0000000100000000"},
            {Long.MAX_VALUE, "cf7fffffffffffffff"}, {-1L, "ff"}, {-32L, "e0"}, {-33L, "d0df"}, {-128L, "d080"},
            {-129L, "d1ff7f"}, {-32768L, "d18000"}, {-32769L, "d2ffff7fff"}, {-2147483648L, "d280000000"},
            {-2147483649L, "d3ffffffff7fffffff"}, {Long.MIN_VALUE, "d38000000000000000"},
        };
        for (Object[] c : cases) {
            eq(c[0], roundTrip(c[0], (String) c[1]), "round trip of " + c[0]);
        }
        // Narrower Java integers encode the same way and decode as Long.
        eq(200L, roundTrip(200, "ccc8"), "Integer");
        eq(-5L, roundTrip((short) -5, "fb"), "Short");
        eq(7L, roundTrip((byte) 7, "07"), "Byte");
        eq(300L, roundTrip(BigInteger.valueOf(300), "cd012c"), "small BigInteger");
    }

    static void uint64() {
        BigInteger max = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
        eq(max, roundTrip(max, "cfffffffffffffffff"), "u64 max");
        BigInteger big = BigInteger.ONE.shiftLeft(63);
        eq(big, roundTrip(big, "cf8000000000000000"), "2^63");
        throwsA(IllegalArgumentException.class, () -> Codec.pack(BigInteger.ONE.shiftLeft(64)), "2^64");
        throwsA(IllegalArgumentException.class,
                () -> Codec.pack(BigInteger.ONE.shiftLeft(63).negate().subtract(BigInteger.ONE)), "-2^63-1");
    }

    static void floats() {
        eq(1.5, roundTrip(1.5, "cb3ff8000000000000"), "double");
        eq(0.25, roundTrip(0.25f, "cb3fd0000000000000"), "float encodes as float64");
        eq(1.5, Codec.unpack(unhex("ca3fc00000")), "float32 decodes as Double");
        Object nan = Codec.unpack(Codec.pack(Double.NaN));
        check(nan instanceof Double && ((Double) nan).isNaN(), "NaN");
        eq(Double.NEGATIVE_INFINITY, roundTrip(Double.NEGATIVE_INFINITY, "cbfff0000000000000"), "-inf");
    }

    static void strings() {
        eq("h\u00e9llo", roundTrip("h\u00e9llo", "a668c3a96c6c6f"), "2-byte UTF-8");
        eq("\u20ac", roundTrip("\u20ac", "a3e282ac"), "3-byte UTF-8");
        eq("\ud83d\ude00", roundTrip("\ud83d\ude00", "a4f09f9880"), "4-byte UTF-8 (a surrogate pair)");
        String s31 = "x".repeat(31);
        String s32 = "x".repeat(32);
        check(hex(Codec.pack(s31)).startsWith("bf"), "fixstr up to 31 bytes");
        check(hex(Codec.pack(s32)).startsWith("d920"), "str8 from 32 bytes");
        check(hex(Codec.pack("x".repeat(256))).startsWith("da0100"), "str16");
        check(hex(Codec.pack("x".repeat(65536))).startsWith("db00010000"), "str32");
        eq(s32, Codec.unpack(Codec.pack(s32)), "str8 round trip");
        throwsA(IllegalArgumentException.class, () -> Codec.pack("a\ud800b"), "lone high surrogate");
        throwsA(IllegalArgumentException.class, () -> Codec.pack("\udc00"), "lone low surrogate");
        throwsA(DecodeException.class, () -> Codec.unpack(unhex("a1ff")), "invalid UTF-8 byte");
        throwsA(DecodeException.class, () -> Codec.unpack(unhex("a2c0af")), "overlong UTF-8");
        throwsA(DecodeException.class, () -> Codec.unpack(unhex("a3eda080")), "UTF-8 surrogate");
        throwsA(DecodeException.class, () -> Codec.unpack(unhex("a2e282")), "truncated UTF-8 sequence");
    }

    static void containers() {
        eq("c403000102", hex(Codec.pack(new byte[] {0, 1, 2})), "bin8");
        check(hex(Codec.pack(new byte[256])).startsWith("c50100"), "bin16");
        eq(List.of(1L, 2L, 3L), roundTrip(List.of(1, 2, 3), "93010203"), "List");
        eq(List.of(1L, 2L, 3L), roundTrip(new int[] {1, 2, 3}, "93010203"), "int[]");
        eq(List.of(1L, 2L), roundTrip(new long[] {1, 2}, "920102"), "long[]");
        eq(List.of(1.5), roundTrip(new double[] {1.5}, "91cb3ff8000000000000"), "double[]");
        eq(List.of(true, false), roundTrip(new boolean[] {true, false}, "92c3c2"), "boolean[]");
        eq(List.of("a", 1L), roundTrip(new Object[] {"a", 1}, "92a16101"), "Object[]");
        List<Object> sixteen = new ArrayList<>();
        for (long i = 0; i < 16; i++) {
            sixteen.add(i);
        }
        check(hex(Codec.pack(sixteen)).startsWith("dc0010"), "array16 from 16 elements");
        eq(sixteen, Codec.unpack(Codec.pack(sixteen)), "array16 round trip");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("b", 2);
        m.put("a", 1);
        Object back = roundTrip(m, "82a16202a16101");
        eq(List.of("b", "a"), new ArrayList<>(((Map<?, ?>) back).keySet()), "map keeps its order");
        Map<Object, Object> nested = new LinkedHashMap<>();
        nested.put(List.of(1L, 2L), null);
        eq(nested, roundTrip(nested, "819201 02c0".replace(" ", "")), "list key, nil value");
    }

    static void refs() {
        ObjectRef<Object> r = new ObjectRef<>(FakeHost.next());
        List<ObjectRef<?>> refs = new ArrayList<>();
        byte[] b = Codec.pack(List.of(r, r, "x"), refs);
        eq("93d60100000000d60100000001a178", hex(b), "one ext 1 per occurrence");
        eq(2, refs.size(), "refs list");
        List<?> back = (List<?>) Codec.unpack(b, refs);
        check(back.get(0) == r && back.get(1) == r, "decoded references are the refs given");
        throwsA(DecodeException.class, () -> Codec.unpack(unhex("d60100000005"), List.of()), "index out of range");
        throwsA(DecodeException.class, () -> Codec.unpack(unhex("d50100aa")), "2-byte ref payload");
        ActorHandle<Object> a = new ActorHandle<>(new Id(-1L, 5L));
        Object ab = roundTrip(a, "d802ffffffffffffffff0000000000000005");
        eq(a, ab, "actor handle");
        throwsA(DecodeException.class, () -> Codec.unpack(unhex("d70200000000000000")), "8-byte actor payload");
    }

    static void ext() {
        Ext e = new Ext(42, new byte[] {1, 2, 3});
        eq(e, roundTrip(e, "c7032a010203"), "ext 42");
        Ext neg = new Ext(-3, new byte[] {9});
        eq(neg, roundTrip(neg, "d4fd09"), "fixext 1, negative type");
        try {
            Codec.unpack(unhex("c702038004"));
            check(false, "a Python-only value is refused");
        } catch (DecodeException x) {
            check(x.getMessage().contains("Python-only value"), "a Python-only value says what it is: " + x.getMessage());
        }
    }

    static void refused() {
        throwsA(IllegalArgumentException.class, () -> Codec.pack(new HashSet<>(List.of(1))), "Set");
        throwsA(IllegalArgumentException.class, () -> Codec.pack('c'), "Character");
        throwsA(IllegalArgumentException.class, () -> Codec.pack(new Object()), "Object");
        throwsA(IllegalArgumentException.class, () -> Codec.pack(new StringBuilder("x")), "StringBuilder");
        List<Object> deep = new ArrayList<>();
        List<Object> cur = deep;
        for (int i = 0; i < 1000; i++) {
            List<Object> next = new ArrayList<>();
            cur.add(next);
            cur = next;
        }
        throwsA(IllegalArgumentException.class, () -> Codec.pack(deep), "too deep");
        List<ObjectRef<?>> refs = new ArrayList<>();
        throwsA(IllegalArgumentException.class, () -> Codec.pack(new ObjectRef<>(FakeHost.next())),
                "pack(value) of a value holding a reference");
    }

    static void malformed() {
        throwsA(DecodeException.class, () -> Codec.unpack(new byte[0]), "empty");
        throwsA(DecodeException.class, () -> Codec.unpack(unhex("c1")), "0xc1");
        throwsA(DecodeException.class, () -> Codec.unpack(unhex("cd01")), "truncated uint16");
        throwsA(DecodeException.class, () -> Codec.unpack(unhex("0101")), "trailing bytes");
        throwsA(DecodeException.class, () -> Codec.unpack(unhex("dd7fffffff")), "huge array count");
        throwsA(DecodeException.class, () -> Codec.unpack(unhex("c6ffffffff")), "huge bin length");
        byte[] deep = new byte[1000];
        Arrays.fill(deep, (byte) 0x91);
        throwsA(DecodeException.class, () -> Codec.unpack(deep), "too deep");
    }

    static void encodable() {
        final class Point implements Encodable {
            final long x;
            final long y;

            Point(long x, long y) {
                this.x = x;
                this.y = y;
            }

            @Override
            public Object toValue() {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("x", x);
                m.put("y", y);
                return m;
            }
        }
        eq("82a17801a17902", hex(Codec.pack(new Point(1, 2))), "a struct-like map");
    }

    static void options() {
        TaskOptions base = TaskOptions.DEFAULT;
        TaskOptions o = base.cpus(0.5).numReturns(2).maxRetries(3).retryExceptions(true).timeoutMs(1500)
                .memory(1 << 20).resource("license", 1).environment("gpu");
        eq(1, base.numReturns(), "DEFAULT unchanged");
        eq(null, base.cpus(), "DEFAULT cpus unset");
        eq(-1L, base.timeoutMs(), "DEFAULT timeout unset");
        eq(3, base.maxRetries(), "DEFAULT retries: three after a system failure, as in Ray");
        eq(2, o.numReturns(), "numReturns");
        eq(0.5, o.cpus(), "cpus");
        eq(3, o.maxRetries(), "maxRetries");
        eq(true, o.retryExceptions(), "retryExceptions");
        eq(1500L, o.timeoutMs(), "timeout");
        eq((long) (1 << 20), o.memory(), "memory");
        eq(Map.of("license", 1.0), o.resources(), "resources");
        eq("gpu", o.environment(), "environment");
        throwsA(IllegalArgumentException.class, () -> base.numReturns(-1), "negative numReturns");
        throwsA(IllegalArgumentException.class, () -> base.cpus(Double.NaN), "NaN cpus");
        ActorOptions a = ActorOptions.DEFAULT.name("c").namespace("team").maxRestarts(2).cpus(1);
        eq(null, ActorOptions.DEFAULT.name(), "DEFAULT name unset");
        eq("c", a.name(), "name");
        eq("team", a.namespace(), "namespace");
        eq(2, a.maxRestarts(), "maxRestarts");
        eq(1.0, a.cpus(), "actor cpus");
    }

    static void ids() {
        Id id = new Id(0x0123456789abcdefL, -1L);
        eq("0123456789abcdefffffffffffffffff", id.hex(), "hex");
        eq(id, Id.fromBytes(id.toBytes(), 0), "bytes round trip");
        eq("0000000000000001" + "0000000000000002", new Id(1, 2).toString(), "toString");
    }

    static void errors() {
        WrunException e = WrunException.of(ErrorKind.ACTOR_DIED, "Counter.incr", "killed", "");
        check(e instanceof WrunException.ActorDiedException, "actor-died has its class");
        eq("actor-died in Counter.incr: killed", e.getMessage(), "message of a runtime error");
        eq("killed", e.detail(), "detail");
        eq("", e.language(), "no language");
        WrunException j = new WrunException(ErrorKind.APPLICATION, "fail", "java.lang.IllegalStateException: x");
        eq("java", j.language(), "errors the Java SDK raises are Java's");
        eq("application in fail (java): java.lang.IllegalStateException: x", j.getMessage(), "message with language");
        WrunException py = WrunException.of(ErrorKind.APPLICATION, "pipeline/explode", "ValueError: x", "python");
        eq("application in pipeline/explode (python): ValueError: x", py.getMessage(), "another language's");
        check(WrunException.of(ErrorKind.GET_TIMEOUT, "", "x") instanceof WrunException.GetTimeoutException,
                "get-timeout");
        check(WrunException.of(ErrorKind.TIMEOUT, "f", "x") instanceof WrunException.TaskTimeoutException, "timeout");
        check(WrunException.of(ErrorKind.NOT_FOUND, "f", "x") instanceof WrunException.NotFoundException, "not-found");
        check(WrunException.of(ErrorKind.OBJECT_LOST, "f", "x") instanceof WrunException.ObjectLostException,
                "object-lost");
        check(WrunException.of(ErrorKind.INFEASIBLE, "f", "x") instanceof WrunException.InfeasibleException,
                "infeasible");
        check(WrunException.of(ErrorKind.PLACEMENT_GROUP_REMOVED, "f", "x")
                instanceof WrunException.PlacementGroupRemovedException, "placement-group-removed");
        check(WrunException.of(ErrorKind.TASK_CANCELLED, "f", "x")
                instanceof WrunException.TaskCancelledException, "task-cancelled");
        eq("internal: boom", WrunException.of(ErrorKind.INTERNAL, "", "boom", "").getMessage(), "no task");
        String[] wit = {"application", "trap", "timeout", "memory-limit", "actor-died", "not-found",
            "invalid-argument", "get-timeout", "object-lost", "internal", "infeasible",
            "placement-group-removed", "task-cancelled"};
        for (int i = 0; i < wit.length; i++) {
            eq(wit[i], ErrorKind.values()[i].witName(), "error-kind " + i + " in the WIT's order");
        }
    }

    static void fit() {
        eq(5, Types.fit(5L, Integer.class, true), "int to Integer");
        eq((short) -3, Types.fit(-3L, Short.class, false), "int to Short");
        eq((byte) 7, Types.fit(7L, Byte.class, false), "int to Byte");
        eq(3.0, Types.fit(3L, Double.class, true), "exact int to Double");
        eq(0.5f, Types.fit(0.5, Float.class, false), "exact float to Float");
        eq(BigInteger.valueOf(9), Types.fit(9L, BigInteger.class, false), "int to BigInteger");
        eq("s", Types.fit("s", String.class, false), "String");
        eq(null, Types.fit(null, String.class, false), "nil to a reference type");
        eq(List.of(1L), Types.fit(List.of(1L), List.class, false), "List");
        eq("x", Types.fit("x", null, false), "unchecked");
        throwsA(IllegalArgumentException.class, () -> Types.fit(1L << 40, Integer.class, true), "int overflow");
        throwsA(IllegalArgumentException.class, () -> Types.fit((1L << 53) + 1, Double.class, true), "inexact");
        throwsA(IllegalArgumentException.class, () -> Types.fit(0.1, Float.class, true), "inexact float");
        throwsA(IllegalArgumentException.class, () -> Types.fit(1.5, Long.class, true), "float for int");
        throwsA(IllegalArgumentException.class, () -> Types.fit(null, Long.class, true), "nil for long");
        throwsA(IllegalArgumentException.class, () -> Types.fit(List.of(), Types.Never.class, false), "never");
        try {
            Types.fit("x", Long.class, true);
            throw new AssertionError("no error");
        } catch (IllegalArgumentException e) {
            eq("expected long (int), got string", e.getMessage(), "message names both kinds");
        }
    }

    /** WrunBuild --signatures on examples/java/counter, compiled by test.sh. */
    static void signatures() throws Exception {
        String s = Files.readString(Path.of(System.getProperty("wrun.signatures")));
        for (String want : List.of(
                "Types.ctor(\"Counter\", new Class<?>[] {java.lang.Long.class}, new boolean[] {true}",
                "Types.method(\"Counter\", \"incr\", new Class<?>[] {java.lang.Long.class}, new boolean[] {true}, "
                        + "java.lang.Long.class)",
                "Types.method(\"Counter\", \"value\", new Class<?>[] {}, new boolean[] {}, java.lang.Long.class)",
                "Types.task(\"bump\", new Class<?>[] {wrun.ActorHandle.class, java.lang.Long.class}, "
                        + "new boolean[] {false, true}, java.lang.Long.class)")) {
            check(s.contains(want), "missing: " + want + "\nin:\n" + s);
        }
    }

    /** The table WrunBuild generates (passed in by test.sh as a file) against the JDK. */
    static void caseMap() throws Exception {
        Path lowerFile = Path.of(System.getProperty("wrun.caseTable.lower"));
        Path upperFile = Path.of(System.getProperty("wrun.caseTable.upper"));
        CaseMap.init(parseInts(Files.readString(lowerFile)), parseInts(Files.readString(upperFile)));
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (CaseMap.towlower(cp) != Character.toLowerCase(cp)) {
                throw new AssertionError("towlower(" + Integer.toHexString(cp) + ")");
            }
            if (CaseMap.towupper(cp) != Character.toUpperCase(cp)) {
                throw new AssertionError("towupper(" + Integer.toHexString(cp) + ")");
            }
        }
    }

    static int[] parseInts(String s) {
        String[] parts = s.trim().split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Integer.parseInt(parts[i].trim());
        }
        return out;
    }

    // --- helpers --------------------------------------------------------------------------

    /** Host handles for ObjectRefs made in tests; cloning and dropping are counted, nothing else works. */
    static final class FakeHost extends Host {
        static int last;

        static int next() {
            return ++last;
        }

        @Override
        public int cloneRef(int handle) {
            return next();
        }

        @Override
        public void dropRef(int handle) {
        }

        @Override
        public Id refId(int handle) {
            return new Id(0, handle);
        }

        @Override
        public Id refOwner(int handle) {
            return new Id(0, 0);
        }

        private static UnsupportedOperationException none() {
            return new UnsupportedOperationException("no host in unit tests");
        }

        @Override
        public ObjectRef<Object> put(Object value) {
            throw none();
        }

        @Override
        public List<Object> get(List<? extends ObjectRef<?>> refs, long timeoutMs) {
            throw none();
        }

        @Override
        public boolean[] wait(List<? extends ObjectRef<?>> refs, int numReady, long timeoutMs,
                boolean fetchLocal) {
            throw none();
        }

        @Override
        public List<ObjectRef<Object>> submit(String function, Object[] args, TaskOptions options) {
            throw none();
        }

        @Override
        public ObjectRef<Object> submitStreaming(String function, Object[] args, TaskOptions options) {
            throw none();
        }

        @Override
        public ObjectRef<Object> callStreaming(Id actor, String method, Object[] args) {
            throw none();
        }

        @Override
        public void yieldItem(Object item) {
            throw none();
        }

        @Override
        public ObjectRef<Object> streamNext(int stream, int index, long timeoutMs) {
            throw none();
        }

        @Override
        public Id create(String className, Object[] args, ActorOptions options) {
            throw none();
        }

        @Override
        public List<ObjectRef<Object>> call(Id actor, String method, Object[] args, int numReturns) {
            throw none();
        }

        @Override
        public Id lookup(String name, String namespace) {
            throw none();
        }

        @Override
        public void kill(Id actor) {
            throw none();
        }

        @Override
        public void restart(Id actor) {
            throw none();
        }

        @Override
        public void exitActor() {
            throw none();
        }

        @Override
        public void cancel(int handle, boolean force, boolean recursive) {
            throw none();
        }

        @Override
        public void log(int level, String message) {
            throw none();
        }

        @Override
        public void sleep(long ms) {
            throw none();
        }

        @Override
        public Id context(int which) {
            throw none();
        }
    }

    /** Just enough JSON for values.json: objects, arrays, strings, integers, floats, true/false/null. */
    static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object parse() {
            Object v = value();
            ws();
            check(i == s.length(), "trailing JSON");
            return v;
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private Object value() {
            ws();
            char c = s.charAt(i);
            if (c == '{') {
                i++;
                Map<String, Object> m = new LinkedHashMap<>();
                ws();
                if (s.charAt(i) == '}') {
                    i++;
                    return m;
                }
                while (true) {
                    ws();
                    String k = string();
                    ws();
                    check(s.charAt(i++) == ':', "JSON ':'");
                    m.put(k, value());
                    ws();
                    char d = s.charAt(i++);
                    if (d == '}') {
                        return m;
                    }
                    check(d == ',', "JSON ','");
                }
            }
            if (c == '[') {
                i++;
                List<Object> l = new ArrayList<>();
                ws();
                if (s.charAt(i) == ']') {
                    i++;
                    return l;
                }
                while (true) {
                    l.add(value());
                    ws();
                    char d = s.charAt(i++);
                    if (d == ']') {
                        return l;
                    }
                    check(d == ',', "JSON ','");
                }
            }
            if (c == '"') {
                return string();
            }
            if (s.startsWith("true", i)) {
                i += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("false", i)) {
                i += 5;
                return Boolean.FALSE;
            }
            if (s.startsWith("null", i)) {
                i += 4;
                return null;
            }
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            String num = s.substring(start, i);
            if (num.contains(".") || num.contains("e") || num.contains("E")) {
                return Double.parseDouble(num);
            }
            BigInteger b = new BigInteger(num);
            return b.bitLength() < 64 ? (Object) b.longValue() : b;
        }

        private String string() {
            check(s.charAt(i++) == '"', "JSON string");
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return sb.toString();
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n': sb.append('\n'); break;
                    case 't': sb.append('\t'); break;
                    case 'r': sb.append('\r'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'u':
                        sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                        break;
                    default: sb.append(e);
                }
            }
        }
    }
}
