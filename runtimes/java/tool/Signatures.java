import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.teavm.asm.ClassReader;
import org.teavm.asm.Handle;
import org.teavm.asm.Opcodes;
import org.teavm.asm.Type;
import org.teavm.asm.tree.AbstractInsnNode;
import org.teavm.asm.tree.ClassNode;
import org.teavm.asm.tree.FieldInsnNode;
import org.teavm.asm.tree.InvokeDynamicInsnNode;
import org.teavm.asm.tree.LdcInsnNode;
import org.teavm.asm.tree.MethodInsnNode;
import org.teavm.asm.tree.MethodNode;
import org.teavm.asm.tree.analysis.Analyzer;
import org.teavm.asm.tree.analysis.AnalyzerException;
import org.teavm.asm.tree.analysis.Frame;
import org.teavm.asm.tree.analysis.SourceInterpreter;
import org.teavm.asm.tree.analysis.SourceValue;

/**
 * The Java types of what a job registers, read from its bytecode at build
 * time (WrunBuild's helper).
 *
 * <p>{@code Wrun.task("add", Job::add)} compiles to a string constant, an
 * invokedynamic whose LambdaMetafactory arguments hold the lambda's
 * instantiated type ({@code (Long, Long)Long}) and the method it calls
 * ({@code add(JJ)J}: primitive parameters reject nil), and the call to
 * {@code Wrun.task}. The same holds for {@code Wrun.actor} (constructors) and
 * {@code ActorClass.method} (methods, whose class is the one the receiver was
 * registered as). For each such call whose name is a constant, this emits a
 * {@code wrun.internal.Types} registration into the job's entry class; the
 * SDK checks decoded arguments (and coerces integers and floats where no value
 * changes) against it. Registrations it cannot read (a name computed at run
 * time) go unchecked.
 */
final class Signatures {
    private Signatures() {
    }

    /** The types of one registration. */
    private static final class Sig {
        String kind; // task, ctor, method
        String className; // for methods
        String name;
        Type[] params;
        boolean[] primitive;
        Type result;
    }

    /** Java source of the registrations, for the entry class's static initializer. */
    static String of(Path classes) throws IOException {
        List<ClassNode> nodes = new ArrayList<>();
        try (Stream<Path> s = Files.walk(classes)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".class")).collect(Collectors.toList())) {
                String rel = classes.relativize(p).toString();
                if (rel.startsWith("wrun/") || rel.startsWith("wrun\\")) {
                    continue;
                }
                ClassNode cn = new ClassNode();
                try (InputStream in = Files.newInputStream(p)) {
                    new ClassReader(in).accept(cn, 0);
                }
                nodes.add(cn);
            }
        }
        // Pass 1: static fields assigned an actor class: "owner.field" -> class name.
        Map<String, String> actorFields = new HashMap<>();
        // Pass 2: the registrations.
        List<Sig> sigs = new ArrayList<>();
        for (int pass = 1; pass <= 2; pass++) {
            for (ClassNode cn : nodes) {
                for (MethodNode mn : cn.methods) {
                    Frame<SourceValue>[] frames;
                    try {
                        frames = new Analyzer<>(new SourceInterpreter()).analyze(cn.name, mn);
                    } catch (AnalyzerException e) {
                        continue;
                    }
                    AbstractInsnNode[] insns = mn.instructions.toArray();
                    for (int i = 0; i < insns.length; i++) {
                        Frame<SourceValue> f = frames[i];
                        if (f == null) {
                            continue;
                        }
                        if (pass == 1 && insns[i] instanceof FieldInsnNode
                                && insns[i].getOpcode() == Opcodes.PUTSTATIC) {
                            FieldInsnNode fi = (FieldInsnNode) insns[i];
                            String cls = actorClassOf(top(f, 0), frames, mn);
                            if (cls != null) {
                                actorFields.put(fi.owner + "." + fi.name, cls);
                            }
                        } else if (pass == 2 && insns[i] instanceof MethodInsnNode) {
                            Sig sig = registration((MethodInsnNode) insns[i], f, frames, mn, actorFields);
                            if (sig != null) {
                                sigs.add(sig);
                            }
                        }
                    }
                }
            }
        }
        StringBuilder sb = new StringBuilder();
        for (Sig s : sigs) {
            sb.append("        wrun.internal.Types.").append(s.kind).append("(");
            if (s.kind.equals("method")) {
                sb.append(quote(s.className)).append(", ");
            }
            sb.append(quote(s.name)).append(", new Class<?>[] {");
            for (int i = 0; i < s.params.length; i++) {
                sb.append(i == 0 ? "" : ", ").append(classLiteral(s.params[i]));
            }
            sb.append("}, new boolean[] {");
            for (int i = 0; i < s.primitive.length; i++) {
                sb.append(i == 0 ? "" : ", ").append(s.primitive[i]);
            }
            sb.append("}, ").append(classLiteral(s.result)).append(");\n");
        }
        return sb.toString();
    }

    private static SourceValue top(Frame<SourceValue> f, int fromTop) {
        return f.getStack(f.getStackSize() - 1 - fromTop);
    }

    private static AbstractInsnNode single(SourceValue v) {
        return v != null && v.insns.size() == 1 ? v.insns.iterator().next() : null;
    }

    private static String constant(SourceValue v) {
        AbstractInsnNode n = single(v);
        return n instanceof LdcInsnNode && ((LdcInsnNode) n).cst instanceof String ? (String) ((LdcInsnNode) n).cst
                : null;
    }

    private static boolean isWrun(MethodInsnNode m, String name) {
        return m.owner.equals("wrun/Wrun") && m.name.equals(name) && m.getOpcode() == Opcodes.INVOKESTATIC;
    }

    private static boolean isActorClass(String owner) {
        return owner.equals("wrun/ActorClass") || owner.matches("wrun/ActorClass[0-9]");
    }

    /** The registered name of the actor class a value comes from, if it can be read. */
    private static String actorClassOf(SourceValue v, Frame<SourceValue>[] frames, MethodNode mn) {
        AbstractInsnNode n = single(v);
        if (!(n instanceof MethodInsnNode)) {
            return null;
        }
        MethodInsnNode m = (MethodInsnNode) n;
        Frame<SourceValue> f = frames[mn.instructions.indexOf(m)];
        if (f == null) {
            return null;
        }
        if (isWrun(m, "actor")) {
            int args = Type.getArgumentTypes(m.desc).length;
            return constant(top(f, args - 1));
        }
        if (isActorClass(m.owner) && m.getOpcode() == Opcodes.INVOKEVIRTUAL
                && Type.getReturnType(m.desc).getInternalName().startsWith("wrun/ActorClass")) {
            // An option setter (name, cpus, ...): the same class.
            int args = Type.getArgumentTypes(m.desc).length;
            return actorClassOf(top(f, args), frames, mn);
        }
        return null;
    }

    private static Sig registration(MethodInsnNode m, Frame<SourceValue> f, Frame<SourceValue>[] frames,
            MethodNode mn, Map<String, String> actorFields) {
        Type[] args = Type.getArgumentTypes(m.desc);
        if (args.length < 2) {
            return null;
        }
        Sig sig = new Sig();
        boolean method = false;
        if (isWrun(m, "task")) {
            sig.kind = "task";
        } else if (isWrun(m, "actor")) {
            sig.kind = "ctor";
        } else if (isActorClass(m.owner) && m.name.equals("method") && m.getOpcode() == Opcodes.INVOKEVIRTUAL) {
            sig.kind = "method";
            method = true;
            SourceValue receiver = top(f, args.length);
            AbstractInsnNode r = single(receiver);
            if (r instanceof FieldInsnNode && r.getOpcode() == Opcodes.GETSTATIC) {
                sig.className = actorFields.get(((FieldInsnNode) r).owner + "." + ((FieldInsnNode) r).name);
            } else {
                sig.className = actorClassOf(receiver, frames, mn);
            }
            if (sig.className == null) {
                return null;
            }
        } else {
            return null;
        }
        if (!args[0].getDescriptor().equals("Ljava/lang/String;")) {
            return null;
        }
        sig.name = constant(top(f, args.length - 1));
        AbstractInsnNode fn = single(top(f, 0));
        if (sig.name == null || !(fn instanceof InvokeDynamicInsnNode)) {
            return null;
        }
        InvokeDynamicInsnNode indy = (InvokeDynamicInsnNode) fn;
        if (!indy.bsm.getOwner().equals("java/lang/invoke/LambdaMetafactory") || indy.bsmArgs.length < 3
                || !(indy.bsmArgs[1] instanceof Handle) || !(indy.bsmArgs[2] instanceof Type)) {
            return null;
        }
        Type inst = (Type) indy.bsmArgs[2];
        Handle impl = (Handle) indy.bsmArgs[1];
        Type[] instParams = inst.getArgumentTypes();
        int skip = method ? 1 : 0; // an actor method's first parameter is the state
        int n = instParams.length - skip;
        if (n < 0) {
            return null;
        }
        sig.params = new Type[n];
        sig.primitive = new boolean[n];
        Type[] implParams = Type.getArgumentTypes(impl.getDesc());
        for (int i = 0; i < n; i++) {
            sig.params[i] = instParams[skip + i];
            int j = implParams.length - n + i;
            sig.primitive[i] = j >= 0 && implParams[j].getSort() != Type.OBJECT && implParams[j].getSort() != Type.ARRAY;
        }
        sig.result = impl.getTag() == Opcodes.H_NEWINVOKESPECIAL ? Type.getObjectType(impl.getOwner())
                : inst.getReturnType();
        return sig;
    }

    /** Types a decoded value can be (or be coerced to); anything else can never be satisfied. */
    private static final Set<String> KNOWN = Set.of("java/lang/Object", "java/lang/Long", "java/lang/Integer",
            "java/lang/Short", "java/lang/Byte", "java/lang/Double", "java/lang/Float", "java/lang/Number",
            "java/lang/Boolean", "java/lang/String", "java/lang/CharSequence", "java/math/BigInteger",
            "java/util/List", "java/util/ArrayList", "java/util/Collection", "java/lang/Iterable",
            "java/util/Map", "java/util/LinkedHashMap", "wrun/ObjectRef", "wrun/ActorHandle", "wrun/Ext");

    /** A class literal the SDK can check against, or {@code null} (unchecked) for other types. */
    private static String classLiteral(Type t) {
        if (t.getSort() == Type.ARRAY) {
            return t.getDescriptor().equals("[B") ? "byte[].class" : "wrun.internal.Types.Never.class";
        }
        if (t.getSort() != Type.OBJECT) {
            return "null";
        }
        String n = t.getInternalName();
        if (KNOWN.contains(n)) {
            return n.replace('/', '.') + ".class";
        }
        return "wrun.internal.Types.Never.class";
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\%03o", (int) c));
            } else if (c > 0x7E) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
