import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.teavm.diagnostics.Problem;
import org.teavm.tooling.ConsoleTeaVMToolLog;
import org.teavm.tooling.TeaVMProblemRenderer;
import org.teavm.tooling.TeaVMTargetType;
import org.teavm.tooling.TeaVMTool;
import org.teavm.tooling.TeaVMToolLog;
import org.teavm.vm.TeaVMOptimizationLevel;

/**
 * Turns Java sources into the core WebAssembly module of a wrun job, in one
 * JVM: javac, then TeaVM-WASI (com.fermyon:teavm-* 0.2.7, whose own CLI is not
 * published), then one fix to the module. runtimes/java/build.sh runs it and
 * makes the component with wasm-tools.
 *
 * <pre>
 * java -cp TOOLS:TEAVM_CLASSPATH WrunBuild --sdk DIR --src DIR --work DIR --out CORE.wasm
 *      [--job CLASS] [--heap BYTES] [--opt simple|advanced|full] [--debug]
 * </pre>
 *
 * <ol>
 * <li>Compiles the SDK ({@code --sdk}) and the job's sources ({@code --src})
 *     with javac ({@code --release 17}) against TeaVM's interop classes.</li>
 * <li>Finds the job: the one class of the job's sources implementing
 *     {@code wrun.Job} (or {@code --job}), and writes the entry class
 *     {@code WrunEntry} in its package, which hands the SDK a factory for
 *     it when the module starts.</li>
 * <li>Reads the parameter and result types of every task, actor
 *     constructor and method the job registers from its bytecode (see
 *     {@link Signatures}): TeaVM's WebAssembly backend does not check casts,
 *     so the SDK checks the arguments it decodes against them instead.</li>
 * <li>Runs TeaVM from that entry class: the exported functions are the
 *     SDK's hand-written canonical-ABI glue ({@code wrun.internal.Guest}).</li>
 * <li>Drops the maximum of the module's memory: TeaVM declares its heap's
 *     maximum as the memory's, but the SDK grows the memory above the (fixed)
 *     heap for the values that cross the component boundary. Renames the
 *     imports TeaVM's class library expects from a JavaScript host
 *     ({@code teavm.towlower}, {@code teavmMath.sin}, ...) to the module
 *     {@code wrun-teavm-shim}, which runtimes/java/shim provides.</li>
 * </ol>
 */
public final class WrunBuild {
    private static final String ENTRY = "WrunEntry";

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("--signatures")) {
            // For the SDK's unit tests: the types read from compiled classes.
            System.out.print(Signatures.of(Path.of(args[1])));
            return;
        }
        if (args.length == 2 && args[0].equals("--case-table")) {
            // For the SDK's unit tests (runtimes/java/test.sh).
            System.out.println(caseTable(args[1].equals("lower")));
            return;
        }
        Path sdk = null;
        Path src = null;
        Path work = null;
        Path out = null;
        String jobClass = null;
        int heap = 64 << 20;
        boolean debug = false;
        TeaVMOptimizationLevel opt = TeaVMOptimizationLevel.SIMPLE;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length && !a.equals("--debug")) {
                usage("missing value after " + a);
            }
            switch (a) {
                case "--sdk": sdk = Path.of(args[++i]); break;
                case "--src": src = Path.of(args[++i]); break;
                case "--work": work = Path.of(args[++i]); break;
                case "--out": out = Path.of(args[++i]); break;
                case "--job": jobClass = args[++i]; break;
                case "--heap": heap = parseSize(args[++i]); break;
                case "--debug": debug = true; break;
                case "--opt": opt = TeaVMOptimizationLevel.valueOf(args[++i].toUpperCase()); break;
                default: usage("unknown argument " + a);
            }
        }
        if (sdk == null || src == null || work == null || out == null) {
            usage("--sdk, --src, --work and --out are required");
        }
        if (heap < (1 << 20) || heap % 65536 != 0) {
            usage("--heap must be at least 1M and a multiple of 64K");
        }

        Path classes = work.resolve("classes");
        deleteTree(work);
        Files.createDirectories(classes);

        String cp = System.getProperty("java.class.path");
        List<Path> userSources = javaFiles(src);
        if (userSources.isEmpty()) {
            fail("no .java files under " + src);
        }
        List<Path> sources = new ArrayList<>(javaFiles(sdk));
        sources.addAll(userSources);
        javac(cp, classes, sources);

        String[] job = findJob(classes, src, jobClass);
        String signatures = Signatures.of(classes);
        // The entry class lives in the job's package (perhaps the unnamed one,
        // which no other package can name): it hands the SDK a factory for the
        // job when the module starts.
        String pkg = job[0];
        String entry = (pkg.isEmpty() ? "" : pkg + ".") + ENTRY;
        Path boot = work.resolve("gen").resolve(entry.replace('.', File.separatorChar) + ".java");
        Files.createDirectories(boot.getParent());
        Files.writeString(boot, (pkg.isEmpty() ? "" : "package " + pkg + ";\n\n")
                + "/** Generated by runtimes/java/build.sh: the entry class, which hands the SDK the job. */\n"
                + "@org.teavm.interop.StaticInit\n"
                + "public final class " + ENTRY + " {\n"
                + "    static {\n"
                + signatures
                + "        wrun.internal.Guest.setJobFactory(() -> new " + job[1] + "());\n"
                + "        wrun.internal.CaseMap.init(new int[] {" + caseTable(true) + "},\n"
                + "                new int[] {" + caseTable(false) + "});\n"
                + "    }\n\n"
                + "    private " + ENTRY + "() {\n    }\n\n"
                + "    public static void main(String[] args) {\n"
                + "    }\n"
                + "}\n");
        javac(cp + File.pathSeparator + classes, classes, List.of(boot));

        Path core = work.resolve("teavm/classes.wasm");
        Files.createDirectories(core.getParent());
        teavm(classes, core, entry, heap, opt, debug);

        byte[] module = Files.readAllBytes(core);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.write(out, fixModule(module));
        // The adapters build.sh links in, one name per line.
        Files.write(work.resolve("adapters"), ADAPTERS);
    }

    /**
     * The JDK's simple case mapping (to lower or upper case) of every code
     * point that has one, as ranges {start, end, delta, stride}: the body of
     * an int array literal (see wrun.internal.CaseMap).
     */
    static String caseTable(boolean lower) {
        List<int[]> ranges = new ArrayList<>();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            int m = lower ? Character.toLowerCase(cp) : Character.toUpperCase(cp);
            if (m == cp) {
                continue;
            }
            int delta = m - cp;
            int[] last = ranges.isEmpty() ? null : ranges.get(ranges.size() - 1);
            if (last != null && last[2] == delta) {
                if (last[0] == last[1] && (cp - last[1] == 1 || cp - last[1] == 2)) {
                    last[3] = cp - last[1];
                    last[1] = cp;
                    continue;
                }
                if (last[0] != last[1] && cp - last[1] == last[3]) {
                    last[1] = cp;
                    continue;
                }
            }
            ranges.add(new int[] {cp, cp, delta, 1});
        }
        StringBuilder sb = new StringBuilder();
        for (int[] r : ranges) {
            sb.append(sb.length() == 0 ? "" : ",").append(r[0]).append(',').append(r[1]).append(',')
                    .append(r[2]).append(',').append(r[3]);
        }
        return sb.toString();
    }

    private static int parseSize(String s) {
        String t = s.trim().toUpperCase();
        long mul = 1;
        if (t.endsWith("K")) {
            mul = 1 << 10;
        } else if (t.endsWith("M")) {
            mul = 1 << 20;
        } else if (t.endsWith("G")) {
            mul = 1 << 30;
        }
        if (mul != 1) {
            t = t.substring(0, t.length() - 1);
        }
        long v = Long.parseLong(t) * mul;
        if (v > Integer.MAX_VALUE) {
            usage("--heap " + s + " is too large");
        }
        return (int) v;
    }

    private static List<Path> javaFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".java") && Files.isRegularFile(p))
                    .sorted().collect(Collectors.toList());
        }
    }

    private static void javac(String cp, Path classes, List<Path> sources) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) {
            fail("no javac in this Java runtime: a JDK 17 is needed");
        }
        List<String> a = new ArrayList<>(Arrays.asList("--release", "17", "-encoding", "UTF-8", "-g",
                "-Xlint:-options", "-implicit:class", "-cp", cp, "-d", classes.toString()));
        for (Path p : sources) {
            a.add(p.toString());
        }
        int rc = javac.run(null, null, null, a.toArray(new String[0]));
        if (rc != 0) {
            fail("javac failed");
        }
    }

    /**
     * The job class, {package, canonical name}: {@code named}, or else the one
     * class of the job's sources that implements wrun.Job.
     */
    private static String[] findJob(Path classes, Path src, String named) throws Exception {
        List<String> names = new ArrayList<>();
        if (named != null) {
            names.add(named);
        } else {
            try (Stream<Path> s = Files.walk(classes)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    String rel = classes.relativize(p).toString();
                    if (rel.endsWith(".class") && !rel.startsWith("wrun" + File.separator)) {
                        names.add(rel.substring(0, rel.length() - 6).replace(File.separatorChar, '.'));
                    }
                }
            }
        }
        List<Class<?>> jobs = new ArrayList<>();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                WrunBuild.class.getClassLoader())) {
            Class<?> job = Class.forName("wrun.Job", false, loader);
            for (String n : names) {
                Class<?> c;
                try {
                    c = Class.forName(n, false, loader);
                } catch (ClassNotFoundException e) {
                    fail("--job " + n + ": no such class");
                    return null;
                }
                boolean isJob = job.isAssignableFrom(c) && !c.isInterface() && !Modifier.isAbstract(c.getModifiers());
                if (isJob) {
                    jobs.add(c);
                } else if (named != null) {
                    fail("--job " + n + " does not implement wrun.Job");
                }
            }
        }
        if (jobs.size() != 1) {
            fail((jobs.isEmpty() ? "no class" : jobs.size() + " classes " + jobs) + " under " + src
                    + " implement wrun.Job: a job has exactly one (or name it with --job CLASS)");
        }
        Class<?> c = jobs.get(0);
        String pkg = c.getPackageName();
        String canonical = c.getCanonicalName();
        return new String[] {pkg, pkg.isEmpty() ? canonical : canonical.substring(pkg.length() + 1)};
    }

    private static void teavm(Path classes, Path core, String entry, int heap, TeaVMOptimizationLevel opt, boolean debug)
            throws Exception {
        TeaVMTool tool = new TeaVMTool();
        // TeaVM's warnings and errors; its progress lines only with --debug.
        TeaVMToolLog console = new ConsoleTeaVMToolLog(false);
        TeaVMToolLog log = new TeaVMToolLog() {
            @Override
            public void info(String text) {
                if (debug) {
                    console.info(text);
                }
            }

            @Override
            public void debug(String text) {
            }

            @Override
            public void warning(String text) {
                console.warning(text);
            }

            @Override
            public void error(String text) {
                console.error(text);
            }

            @Override
            public void info(String text, Throwable e) {
                if (debug) {
                    console.info(text, e);
                }
            }

            @Override
            public void debug(String text, Throwable e) {
            }

            @Override
            public void warning(String text, Throwable e) {
                console.warning(text, e);
            }

            @Override
            public void error(String text, Throwable e) {
                console.error(text, e);
            }
        };
        tool.setLog(log);
        tool.setTargetType(TeaVMTargetType.WEBASSEMBLY);
        tool.setMainClass(entry);
        tool.setTargetDirectory(core.getParent().toFile());
        tool.setTargetFileName(core.getFileName().toString());
        tool.setOptimizationLevel(opt);
        tool.setDebugInformationGenerated(debug);
        tool.setObfuscated(false);
        tool.setIncremental(false);
        tool.setStrict(true);
        tool.setMinHeapSize(heap);
        tool.setMaxHeapSize(heap);
        tool.setClassLoader(new URLClassLoader(new URL[] {classes.toUri().toURL()},
                WrunBuild.class.getClassLoader()));
        tool.generate();
        List<Problem> severe = new ArrayList<>(tool.getProblemProvider().getSevereProblems());
        TeaVMProblemRenderer.describeProblems(tool.getDependencyInfo().getCallGraph(),
                tool.getProblemProvider(), log);
        if (!severe.isEmpty() || tool.wasCancelled() || !Files.isRegularFile(core)) {
            Files.deleteIfExists(core);
            fail("TeaVM: " + severe.size() + " error(s) (above); a method TeaVM's class library lacks "
                    + "shows as 'Method ... was not found'");
        }
    }

    // --- the module fix -------------------------------------------------------------

    /** The adapter (runtimes/java/shim) that provides TeaVM's case mapping imports. */
    static final String CASE_SHIM = "wrun-teavm-case";
    /** The adapter (runtimes/java/shim) that provides TeaVM's java.lang.Math imports. */
    static final String MATH_SHIM = "wrun-teavm-math";
    private static final java.util.Set<String> MATH = java.util.Set.of("sin", "cos", "tan", "asin", "acos",
            "atan", "atan2", "exp", "log", "pow", "sqrt", "ceil", "floor");
    /** The adapters the module imports from, filled by {@link #fixModule}. */
    static final java.util.Set<String> ADAPTERS = new java.util.TreeSet<>();

    /**
     * The module with its memory's maximum removed (section 5, limits flag
     * 0x01 -> 0x00), and with the imports TeaVM's class library expects from
     * its JavaScript host ("teavm", "teavmMath") renamed to the shim's module.
     */
    static byte[] fixModule(byte[] m) {
        if (m.length < 8 || m[0] != 0 || m[1] != 'a' || m[2] != 's' || m[3] != 'm') {
            fail("TeaVM did not write a WebAssembly module");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(m.length);
        out.write(m, 0, 8);
        int[] pos = {8};
        boolean patched = false;
        while (pos[0] < m.length) {
            int id = m[pos[0]++] & 0xFF;
            int size = (int) uleb(m, pos);
            int start = pos[0];
            byte[] body;
            if (id == 5) {
                body = unboundMemories(m, start);
                patched = true;
            } else if (id == 2) {
                body = renameImports(m, start);
            } else {
                body = Arrays.copyOfRange(m, start, start + size);
            }
            out.write(id);
            writeUleb(out, body.length);
            out.writeBytes(body);
            pos[0] = start + size;
        }
        if (!patched) {
            fail("the module TeaVM wrote has no memory section");
        }
        return out.toByteArray();
    }

    private static byte[] unboundMemories(byte[] m, int start) {
        int[] p = {start};
        long count = uleb(m, p);
        ByteArrayOutputStream sec = new ByteArrayOutputStream();
        writeUleb(sec, count);
        for (long i = 0; i < count; i++) {
            int flags = m[p[0]++] & 0xFF;
            long min = uleb(m, p);
            if ((flags & 1) != 0) {
                uleb(m, p);
            }
            sec.write(flags & ~1);
            writeUleb(sec, min);
        }
        return sec.toByteArray();
    }

    private static byte[] renameImports(byte[] m, int start) {
        int[] p = {start};
        long count = uleb(m, p);
        ByteArrayOutputStream sec = new ByteArrayOutputStream();
        writeUleb(sec, count);
        for (long i = 0; i < count; i++) {
            int n = (int) uleb(m, p);
            String module = new String(m, p[0], n, java.nio.charset.StandardCharsets.UTF_8);
            p[0] += n;
            int descStart = p[0];
            n = (int) uleb(m, p); // field name
            String field = new String(m, p[0], n, java.nio.charset.StandardCharsets.UTF_8);
            p[0] += n;
            if (module.equals("teavmMath") && MATH.contains(field)) {
                module = MATH_SHIM;
            } else if (module.equals("teavm") && (field.equals("towlower") || field.equals("towupper"))) {
                module = CASE_SHIM;
            } else if (module.startsWith("teavm") || module.equals("spectest") || module.isEmpty()) {
                fail("the module needs " + module + "." + field + ", which TeaVM expects from a JavaScript "
                        + "host and wrun does not provide; avoid the Java API that uses it");
            }
            if (module.equals(MATH_SHIM) || module.equals(CASE_SHIM)) {
                ADAPTERS.add(module);
            }
            byte[] mb = module.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            writeUleb(sec, mb.length);
            sec.writeBytes(mb);
            int kind = m[p[0]++] & 0xFF;
            switch (kind) {
                case 0: uleb(m, p); break;                    // func: type index
                case 1: p[0]++; limits(m, p); break;          // table: reftype, limits
                case 2: limits(m, p); break;                  // memory
                case 3: p[0] += 2; break;                     // global: valtype, mut
                case 4: p[0]++; uleb(m, p); break;            // tag
                default: fail("unknown import kind " + kind);
            }
            sec.write(m, descStart, p[0] - descStart);
        }
        return sec.toByteArray();
    }

    private static void limits(byte[] m, int[] p) {
        int flags = m[p[0]++] & 0xFF;
        uleb(m, p);
        if ((flags & 1) != 0) {
            uleb(m, p);
        }
    }

    private static long uleb(byte[] b, int[] pos) {
        long v = 0;
        int shift = 0;
        while (true) {
            int x = b[pos[0]++] & 0xFF;
            v |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                return v;
            }
            shift += 7;
        }
    }

    private static void writeUleb(ByteArrayOutputStream out, long v) {
        do {
            int x = (int) (v & 0x7F);
            v >>>= 7;
            out.write(v != 0 ? x | 0x80 : x);
        } while (v != 0);
    }

    // --- helpers --------------------------------------------------------------------

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).collect(Collectors.toList())) {
                Files.delete(q);
            }
        }
    }

    private static void fail(String why) {
        System.err.println("wrun java build: " + why);
        System.exit(1);
    }

    private static void usage(String why) {
        System.err.println("WrunBuild: " + why);
        System.err.println("usage: WrunBuild --sdk DIR --src DIR --work DIR --out CORE.wasm [--job CLASS]"
                + " [--heap BYTES] [--opt simple|advanced|full] [--debug]");
        System.exit(2);
    }
}
