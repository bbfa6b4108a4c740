package wrun.internal;

import java.math.BigInteger;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import wrun.ActorHandle;
import wrun.ErrorKind;
import wrun.Ext;
import wrun.ObjectRef;
import wrun.WrunException;

/**
 * The Java types of the job's tasks, actor constructors and methods, and the
 * checks of decoded values against them (SDK-internal).
 *
 * <p>TeaVM's WebAssembly backend compiles casts without checking them: a
 * value of the wrong class reaching a method would be read as if it were of
 * the right one (a wrong result, or a trap), never a ClassCastException. So
 * the SDK checks every decoded argument before calling a task, constructor or
 * method, and every value {@link wrun.Wrun#get} returns for a typed task,
 * against types runtimes/java/build.sh reads from the job's bytecode (the
 * generated entry class registers them here). A value that does not fit is
 * an {@code invalid-argument} error naming the expected and the actual kind.
 * Integers and floats are converted where no value changes: an int to
 * {@code Integer}, {@code Short}, {@code Byte} within their range, to
 * {@code BigInteger}, or to {@code Double}/{@code Float} when exactly
 * representable; a float to {@code Float} when exact.
 */
public final class Types {
    private Types() {
    }

    /** Marks a parameter type no decoded value can have (an int[], a class of the job). */
    public static final class Never {
        private Never() {
        }
    }

    /** The types of one task, constructor or method. */
    public static final class Sig {
        /** Expected classes; null entries are unchecked (primitives are given boxed). */
        final Class<?>[] params;
        /** Which parameters are primitive (nil does not fit). */
        final boolean[] primitive;
        final Class<?> result;

        Sig(Class<?>[] params, boolean[] primitive, Class<?> result) {
            this.params = params;
            this.primitive = primitive;
            this.result = result;
        }

        public Class<?> result() {
            return result;
        }
    }

    private static final Map<String, Sig> TASKS = new HashMap<>();
    private static final Map<String, Sig> CTORS = new HashMap<>();
    private static final Map<String, Sig> METHODS = new HashMap<>();

    public static void task(String name, Class<?>[] params, boolean[] primitive, Class<?> result) {
        TASKS.put(name, new Sig(params, primitive, result));
    }

    public static void ctor(String name, Class<?>[] params, boolean[] primitive, Class<?> result) {
        CTORS.put(name, new Sig(params, primitive, result));
    }

    public static void method(String className, String name, Class<?>[] params, boolean[] primitive,
            Class<?> result) {
        METHODS.put(className + "." + name, new Sig(params, primitive, result));
    }

    public static Sig task(String name) {
        return TASKS.get(name);
    }

    public static Sig ctor(String name) {
        return CTORS.get(name);
    }

    public static Sig method(String className, String name) {
        return METHODS.get(className + "." + name);
    }

    /** Checks (and converts, in place) decoded arguments against {@code sig}. */
    static void checkArgs(String task, Sig sig, Object[] args) {
        if (sig == null || sig.params.length != args.length) {
            return;
        }
        for (int i = 0; i < args.length; i++) {
            try {
                args[i] = fit(args[i], sig.params[i], sig.primitive[i]);
            } catch (IllegalArgumentException e) {
                throw new WrunException(ErrorKind.INVALID_ARGUMENT, task,
                        "argument " + i + " of " + task + ": " + e.getMessage());
            }
        }
    }

    /** The kind of a decoded value, as the cross-language docs name kinds. */
    public static String kindOf(Object v) {
        if (v == null) {
            return "nil";
        }
        if (v instanceof Boolean) {
            return "bool";
        }
        if (v instanceof Long || v instanceof BigInteger || v instanceof Integer || v instanceof Short
                || v instanceof Byte) {
            return "int";
        }
        if (v instanceof Double || v instanceof Float) {
            return "float";
        }
        if (v instanceof String) {
            return "string";
        }
        if (v instanceof byte[]) {
            return "bytes";
        }
        if (v instanceof List) {
            return "list";
        }
        if (v instanceof Map) {
            return "map";
        }
        if (v instanceof ObjectRef) {
            return "object reference";
        }
        if (v instanceof ActorHandle) {
            return "actor handle";
        }
        if (v instanceof Ext) {
            return "ext " + ((Ext) v).type();
        }
        return v.getClass().getName();
    }

    private static String expected(Class<?> t, boolean primitive) {
        String n;
        if (t == Long.class) {
            n = primitive ? "long" : "Long";
        } else if (t == Integer.class) {
            n = primitive ? "int" : "Integer";
        } else if (t == Short.class) {
            n = primitive ? "short" : "Short";
        } else if (t == Byte.class) {
            n = primitive ? "byte" : "Byte";
        } else if (t == Double.class) {
            n = primitive ? "double" : "Double";
        } else if (t == Float.class) {
            n = primitive ? "float" : "Float";
        } else if (t == Boolean.class) {
            n = primitive ? "boolean" : "Boolean";
        } else if (t == byte[].class) {
            n = "byte[]";
        } else if (t == Never.class) {
            return "a type no value decodes to (values decode to Long, Double, String, byte[], List, Map, ...)";
        } else {
            n = t.getName();
        }
        return n + " (" + kindOfClass(t) + ")";
    }

    private static String kindOfClass(Class<?> t) {
        if (t == Long.class || t == Integer.class || t == Short.class || t == Byte.class || t == BigInteger.class) {
            return "int";
        }
        if (t == Double.class || t == Float.class) {
            return "float";
        }
        if (t == Number.class) {
            return "int or float";
        }
        if (t == Boolean.class) {
            return "bool";
        }
        if (t == String.class || t == CharSequence.class) {
            return "string";
        }
        if (t == byte[].class) {
            return "bytes";
        }
        if (t == Map.class || t == java.util.LinkedHashMap.class) {
            return "map";
        }
        if (t == ObjectRef.class) {
            return "object reference";
        }
        if (t == ActorHandle.class) {
            return "actor handle";
        }
        if (t == Object.class) {
            return "any";
        }
        return "list";
    }

    /**
     * {@code v} as a value of {@code t} (null: unchecked), converted without
     * change of value where needed; IllegalArgumentException naming both kinds
     * when it does not fit.
     */
    public static Object fit(Object v, Class<?> t, boolean primitive) {
        if (t == null || t == Object.class) {
            return v;
        }
        if (v == null) {
            if (primitive) {
                throw mismatch(v, t, primitive);
            }
            return null;
        }
        if (t == Long.class) {
            if (v instanceof Long) {
                return v;
            }
        } else if (t == Double.class) {
            if (v instanceof Double) {
                return v;
            }
            if (v instanceof Long && exactDouble((Long) v)) {
                return (double) (long) (Long) v;
            }
        } else if (t == Integer.class) {
            if (v instanceof Long && (Long) v >= Integer.MIN_VALUE && (Long) v <= Integer.MAX_VALUE) {
                return (int) (long) (Long) v;
            }
        } else if (t == Short.class) {
            if (v instanceof Long && (Long) v >= Short.MIN_VALUE && (Long) v <= Short.MAX_VALUE) {
                return (short) (long) (Long) v;
            }
        } else if (t == Byte.class) {
            if (v instanceof Long && (Long) v >= Byte.MIN_VALUE && (Long) v <= Byte.MAX_VALUE) {
                return (byte) (long) (Long) v;
            }
        } else if (t == Float.class) {
            if (v instanceof Double) {
                double d = (Double) v;
                if ((double) (float) d == d || Double.isNaN(d)) {
                    return (float) d;
                }
            } else if (v instanceof Long && exactDouble((Long) v) && (double) (float) (long) (Long) v == (Long) v) {
                return (float) (long) (Long) v;
            }
        } else if (t == BigInteger.class) {
            if (v instanceof BigInteger) {
                return v;
            }
            if (v instanceof Long) {
                return BigInteger.valueOf((Long) v);
            }
        } else if (t == Number.class) {
            if (v instanceof Long || v instanceof Double || v instanceof BigInteger) {
                return v;
            }
        } else if (t != Never.class && t.isInstance(v)) {
            return v;
        }
        throw mismatch(v, t, primitive);
    }

    private static boolean exactDouble(long x) {
        return x >= -(1L << 53) && x <= (1L << 53);
    }

    private static IllegalArgumentException mismatch(Object v, Class<?> t, boolean primitive) {
        String got = kindOf(v);
        if (v instanceof Long || v instanceof BigInteger) {
            got += " " + v;
        }
        return new IllegalArgumentException("expected " + expected(t, primitive) + ", got " + got);
    }
}
